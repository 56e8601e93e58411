package checks

import (
	"maps"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/gotk-rules/gotk-rules/lint"
)

// promtoolDuplicateRule is promtool check rules' --lint=duplicate-rules
// (on by default): two rules with the same name and the same labels (group
// labels included), anywhere in the file.
type promtoolDuplicateRule struct{}

func (promtoolDuplicateRule) Meta() lint.Meta {
	return lint.Meta{Name: "promtool/duplicate-rule", Severity: lint.Warning,
		Summary: "two rules of a file have the same name and labels (promtool's duplicate-rules lint)"}
}

// ruleLabels are a rule's labels with its group's, as Prometheus applies them.
func ruleLabels(r *lint.Rule) labels.Labels {
	m := maps.Clone(r.Group.Labels)
	if m == nil {
		m = map[string]string{}
	}
	maps.Copy(m, r.Labels)
	return labels.FromMap(m)
}

func (promtoolDuplicateRule) CheckFile(f *lint.File, r *lint.Reporter) {
	type key struct{ name, labels string }
	first := map[key]*lint.Rule{}
	for _, g := range f.Groups {
		for _, rule := range g.Rules {
			k := key{rule.Name(), ruleLabels(rule).String()}
			prev, dup := first[k]
			if !dup {
				first[k] = rule
				continue
			}
			what := "their alerts have the same labels, so Alertmanager cannot tell them apart"
			if !rule.IsAlert() {
				what = "both write the same series, which might cause inconsistency while recording expressions"
			}
			r.Report(rule.ValuePos(rule.Kind()), "duplicate rule: %s %q with labels %s is also at line %d: %s; rename one or give it distinct labels",
				rule.Kind(), rule.Name(), k.labels, prev.Pos.Line, what)
		}
	}
}
