package checks

import (
	"regexp"

	"go.yaml.in/yaml/v3"

	"github.com/gotk-rules/gotk-rules/lint"
	"github.com/gotk-rules/gotk-rules/lint/source"
	"github.com/gotk-rules/gotk-rules/rulefile"
)

// promtoolRule reports the rest of what Prometheus refuses in a rule file:
// bad durations, label and annotation names or values, rules with both or
// neither of record and alert, fields a recording rule cannot have, empty
// or repeated group names.
type promtoolRule struct{}

func (promtoolRule) Meta() lint.Meta {
	return lint.Meta{Name: classRule, Severity: lint.Error,
		Summary: "a group or rule breaks Prometheus' rules: duration, label or annotation name, record/alert, fields of recording rules, group names (promtool check rules fails)"}
}

// badName is rulefmt's message for a label or annotation it refuses, which
// it places at the rule only.
var badName = regexp.MustCompile(`: invalid (label|annotation) (name|value): (.*)$`)

func (promtoolRule) CheckFile(f *lint.File, r *lint.Reporter) {
	loadErrors(f, classRule, func(e rulefile.Error) {
		p := errorPos(f, e)
		if m := badName.FindStringSubmatch(e.Msg); m != nil {
			if rule := f.Source().NodeAt(p, yaml.MappingNode); rule != nil {
				p = keyIn(rule, m[1]+"s", m[2] == "name", m[3], p)
			}
		}
		r.Report(p, "%s", e.Msg)
	})
}

// keyIn finds, in the section (labels or annotations) of a rule mapping, the
// key named text (or, byValue, the value equal to text).
func keyIn(rule *yaml.Node, section string, byName bool, text string, fallback source.Pos) source.Pos {
	for i := 0; i+1 < len(rule.Content); i += 2 {
		if rule.Content[i].Value != section || rule.Content[i+1].Kind != yaml.MappingNode {
			continue
		}
		m := rule.Content[i+1]
		for j := 0; j+1 < len(m.Content); j += 2 {
			n := m.Content[j+1]
			if byName {
				n = m.Content[j]
			}
			if n.Value == text {
				return source.Pos{Line: n.Line, Column: n.Column}
			}
		}
	}
	return fallback
}
