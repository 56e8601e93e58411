package checks

import (
	"errors"
	"regexp"

	"github.com/prometheus/prometheus/promql/parser"
	"go.yaml.in/yaml/v3"

	"github.com/gotk-rules/gotk-rules/lint"
	"github.com/gotk-rules/gotk-rules/lint/source"
	"github.com/gotk-rules/gotk-rules/rulefile"
)

// promtoolPromQL reports expressions that do not parse, with the caret at
// the spot the PromQL parser points to, inside the YAML scalar.
type promtoolPromQL struct{}

func (promtoolPromQL) Meta() lint.Meta {
	return lint.Meta{Name: classPromQL, Severity: lint.Error,
		Summary: "an expression is not valid PromQL (promtool check rules fails)"}
}

// innerPos is the parser's own "line:col: " in the message, made redundant
// by the file position.
var innerPos = regexp.MustCompile(`(could not parse expression: )\d+:\d+: `)

func (promtoolPromQL) CheckFile(f *lint.File, r *lint.Reporter) {
	loadErrors(f, classPromQL, func(e rulefile.Error) {
		p := errorPos(f, e)
		if n := f.Source().NodeAt(p, yaml.ScalarNode); n != nil {
			p = parseErrorPos(f, n, p)
		}
		r.Report(p, "%s", innerPos.ReplaceAllString(e.Msg, "$1"))
	})
}

// parseErrorPos parses the expression again to learn where the parser
// stopped, and maps that offset into the file.
func parseErrorPos(f *lint.File, n *yaml.Node, fallback source.Pos) source.Pos {
	_, err := f.Parser.ParseExpr(n.Value)
	if err == nil {
		return fallback
	}
	var off = -1
	var pe *parser.ParseErr
	var pes parser.ParseErrors
	switch {
	case errors.As(err, &pes) && len(pes) > 0:
		off = int(pes[0].PositionRange.Start)
	case errors.As(err, &pe):
		off = int(pe.PositionRange.Start)
	}
	if off < 0 {
		return fallback
	}
	return f.Source().Scalar(n).Pos(off)
}
