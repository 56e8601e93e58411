package checks

import (
	"regexp"

	"github.com/gotk-rules/gotk-rules/lint"
	"github.com/gotk-rules/gotk-rules/lint/source"
	"github.com/gotk-rules/gotk-rules/rulefile"
)

// promtoolYAML reports what makes a file unreadable as rules: YAML syntax,
// a structure that is not a rule file, unknown fields.
type promtoolYAML struct{}

func (promtoolYAML) Meta() lint.Meta {
	return lint.Meta{Name: classYAML, Severity: lint.Error,
		Summary: "the file is not valid YAML, not a rule file or PrometheusRule, or has fields Prometheus does not know (promtool check rules fails)"}
}

var unknownField = regexp.MustCompile(`^yaml: field (\S+) not found in type (\S+)`)

func (promtoolYAML) CheckFile(f *lint.File, r *lint.Reporter) {
	loadErrors(f, classYAML, func(e rulefile.Error) {
		p := errorPos(f, e)
		msg := e.Msg
		if m := unknownField.FindStringSubmatch(e.Msg); m != nil {
			if e.Column == 0 {
				p = keyOnLine(f, e.Line, m[1])
			}
			msg += ": Prometheus refuses the whole file (remove the field, or lint and test with --ignore-unknown-fields if your tooling strips it)"
		}
		r.Report(p, "%s", msg)
	})
}

// keyOnLine finds "key:" on line n.
func keyOnLine(f *lint.File, n int, key string) source.Pos {
	line := f.Source().Line(n)
	re := regexp.MustCompile(`(^|[\s{,-])("?` + regexp.QuoteMeta(key) + `"?)\s*:`)
	if m := re.FindStringSubmatchIndex(line); m != nil {
		return source.Pos{Line: n, Column: f.Source().ColumnOf(n, m[4])}
	}
	return f.Source().FirstNonSpace(n)
}
