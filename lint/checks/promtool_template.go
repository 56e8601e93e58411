package checks

import (
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/gotk-rules/gotk-rules/lint"
	"github.com/gotk-rules/gotk-rules/rulefile"
)

// promtoolTemplate reports label and annotation templates that do not
// parse, at the line of the value the template parser names.
type promtoolTemplate struct{}

func (promtoolTemplate) Meta() lint.Meta {
	return lint.Meta{Name: classTemplate, Severity: lint.Error,
		Summary: "a label or annotation of an alert is not a valid Go template (promtool check rules fails)"}
}

// templateLine is the template parser's line number: "template: NAME:LINE:".
var templateLine = regexp.MustCompile(`template: __alert_.*?:(\d+):`)

func (promtoolTemplate) CheckFile(f *lint.File, r *lint.Reporter) {
	loadErrors(f, classTemplate, func(e rulefile.Error) {
		p := errorPos(f, e)
		if k := f.Source().NodeAt(p, yaml.ScalarNode); k != nil {
			if _, v := parentOf(f, k); v != nil && v.Kind == yaml.ScalarNode {
				off := 0
				if m := templateLine.FindStringSubmatch(e.Msg); m != nil {
					line, _ := strconv.Atoi(m[1])
					for i := 1; i < line; i++ {
						j := strings.IndexByte(v.Value[off:], '\n')
						if j < 0 {
							break
						}
						off += j + 1
					}
				}
				p = f.Source().Scalar(v).Pos(off)
			}
		}
		r.Report(p, "%s", e.Msg)
	})
}
