package checks

import (
	"fmt"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/gotk-rules/gotk-rules/lint"
	"github.com/gotk-rules/gotk-rules/promqlx"
)

// fluxWrongLabel reports a label of one Flux object metric used on another
// that does not have it: kube-state-metrics' gotk_resource_info names the
// kind customresource_kind, the Flux Operator's flux_resource_info and the
// controllers' metrics name it kind, only flux_resource_info has reason and
// uid, and so on. A matcher on it selects nothing (or filters nothing), and
// grouping, matching or templating by it sees an empty value.
type fluxWrongLabel struct{}

func (fluxWrongLabel) Meta() lint.Meta {
	return lint.Meta{Name: "flux/wrong-label", Severity: lint.Warning,
		Summary: "a Flux object metric is selected, grouped, matched or shown by a label only another Flux metric has (kind vs customresource_kind, reason on gotk_resource_info, status on the info metrics...)"}
}

// fixText says what to use instead of label.
func (f labelFix) fixText(label string) string {
	if f.Use == "" {
		return "drop " + label
	}
	return "use " + f.Use
}

func (fluxWrongLabel) CheckRule(rule *lint.Rule, r *lint.Reporter) {
	effects := rule.Effects()
	reported := map[string]bool{} // metric and label: one finding each
	for _, s := range rule.Selectors() {
		name := promqlx.MetricName(s.VectorSelector)
		for _, m := range s.LabelMatchers {
			fix, ok := missingFluxLabel(name, m.Name)
			if !ok {
				continue
			}
			reported[name+"\x00"+m.Name] = true
			at := rule.ExprPos(promqlx.MatcherPos(rule.Expr, s.VectorSelector, m))
			instead := fix.fixText(m.Name)
			if fix.Use != "" {
				instead = fmt.Sprintf("use %s", &labels.Matcher{Type: m.Type, Name: fix.Use, Value: m.Value})
			}
			if m.Matches("") {
				r.Report(at, "%s filters nothing: %s has no %s label (%s), so every series passes it; %s",
					m, name, m.Name, fix.Why, instead)
				continue
			}
			r.Report(at, "%s selects nothing: %s has no %s label (%s); %s; %s",
				m, name, m.Name, fix.Why, emptyWords(effects[s.VectorSelector], rule.IsAlert()), instead)
		}
	}
	found := false
	parser.Inspect(rule.AST, func(n parser.Node, _ []parser.Node) error {
		if found {
			return nil
		}
		switch x := n.(type) {
		case *parser.AggregateExpr:
			if x.Without {
				return nil
			}
			for _, label := range x.Grouping {
				metric, ok := fluxLacks(x.Expr, label)
				if !ok || reported[metric+"\x00"+label] {
					continue
				}
				fix, _ := missingFluxLabel(metric, label)
				_, lp, _ := promqlx.GroupingPos(rule.Expr, x, label)
				r.Report(rule.ExprPos(lp), "%s groups by %s, but %s has no %s label (%s): every series has an empty %s, so the groups merge what only %s would tell apart; %s",
					promqlx.AggregateText(x), label, metric, label, fix.Why, label, label, fix.fixText(label))
				found = true
				return nil
			}
		case *parser.BinaryExpr:
			vm := x.VectorMatching
			if vm == nil || !vm.On || x.LHS.Type() != parser.ValueTypeVector || x.RHS.Type() != parser.ValueTypeVector {
				return nil
			}
			for _, label := range vm.MatchingLabels {
				if promqlx.OutputLabels(x.LHS).Lacks(label) || promqlx.OutputLabels(x.RHS).Lacks(label) {
					continue // promql/impossible-match's
				}
				metric, ok := fluxLacks(x.LHS, label)
				if !ok {
					metric, ok = fluxLacks(x.RHS, label)
				}
				if !ok || reported[metric+"\x00"+label] {
					continue
				}
				fix, _ := missingFluxLabel(metric, label)
				r.Report(rule.ExprPos(promqlx.ModifierPos(rule.Expr, x, false)), "%s matches on %s, but %s has no %s label (%s): its series all have an empty %s, so they match nothing that has one, or everything that has none; %s",
					promqlx.MatchingText(vm), label, metric, label, fix.Why, label, fix.fixText(label))
				found = true
				return nil
			}
		}
		return nil
	})
	if found || !rule.IsAlert() {
		return
	}
	// Templates showing a label the alert's series never have; those the
	// expression drops are template/dropped-label's.
	out := rule.OutputLabels()
	f := rule.Group.File
	for _, t := range ruleTemplates(rule) {
		for _, ref := range t.Refs {
			if ref.Label == "" || out.Lacks(ref.Label) {
				continue
			}
			metric, ok := fluxLacks(rule.AST, ref.Label)
			if !ok {
				continue
			}
			fix, _ := missingFluxLabel(metric, ref.Label)
			show := "drop it"
			if fix.Use != "" && !out.Lacks(fix.Use) {
				show = "show $labels." + fix.Use
			}
			r.Report(t.Pos(f, ref.Off), "%s %q shows $labels.%s, but %s has no %s label (%s): it renders empty; %s",
				t.Section[:len(t.Section)-1], t.Name, ref.Label, metric, ref.Label, fix.Why, show)
			return
		}
	}
}
