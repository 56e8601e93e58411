package checks

import (
	"maps"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/gotk-rules/gotk-rules/lint"
)

// promtoolDuplicateRule is promtool check rules' --lint=duplicate-rules
// (on by default): two rules with the same name and the same labels (group
// labels included), anywhere in the file. Unlike promtool, copies whose
// expressions select disjoint series (the same expression per service or
// per site: only equality matcher values and numbers differ, on a label the
// result keeps) are not reported: their series cannot collide.
type promtoolDuplicateRule struct{}

func (promtoolDuplicateRule) Meta() lint.Meta {
	return lint.Meta{Name: "promtool/duplicate-rule", Severity: lint.Warning,
		Summary: "two rules of a file have the same name and labels, and their series can collide (promtool's duplicate-rules lint)"}
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
	seen := map[key][]*lint.Rule{}
	for _, g := range f.Groups {
		for _, rule := range g.Rules {
			k := key{rule.Name(), ruleLabels(rule).String()}
			prev := seen[k]
			seen[k] = append(prev, rule)
			for _, p := range prev {
				if disjoint(f.Parser, p, rule) {
					continue
				}
				what := "when both return a series with the same labels, Alertmanager gets one alert from two rules, which resolve and fire each other"
				if !rule.IsAlert() {
					what = "both write the same series, which might cause inconsistency while recording expressions"
				}
				r.Report(rule.ValuePos(rule.Kind()), "duplicate rule: %s %q with labels %s is also at line %d: %s; rename one or give it distinct labels",
					rule.Kind(), rule.Name(), k.labels, p.Pos.Line, what)
				break
			}
		}
	}
}

// disjoint reports whether two rules' expressions are the same but for
// number literals and the values of equality matchers, and differ in the
// value of at least one such matcher on a label both results keep: their
// series then differ in that label.
func disjoint(p parser.Parser, a, b *lint.Rule) bool {
	ea, err1 := p.ParseExpr(a.Expr)
	eb, err2 := p.ParseExpr(b.Expr)
	if err1 != nil || err2 != nil {
		return false
	}
	ma, mb := blank(ea), blank(eb)
	if ea.String() != eb.String() || len(ma) != len(mb) {
		return false
	}
	la, lb := a.OutputLabels(), b.OutputLabels()
	differ := false
	for i := range ma {
		if ma[i].value == mb[i].value {
			continue
		}
		if ma[i].name == labels.MetricName || la.Lacks(ma[i].name) || lb.Lacks(ma[i].name) {
			return false
		}
		differ = true
	}
	return differ
}

type matcherValue struct{ name, value string }

// blank sets every number literal to 0 and every equality matcher value to
// "", returning the matcher values in query order.
func blank(e parser.Expr) []matcherValue {
	var out []matcherValue
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		switch x := n.(type) {
		case *parser.NumberLiteral:
			x.Val = 0
		case *parser.VectorSelector:
			for _, m := range x.LabelMatchers {
				if m.Type == labels.MatchEqual {
					out = append(out, matcherValue{m.Name, m.Value})
					m.Value = ""
				}
			}
		}
		return nil
	})
	return out
}
