package checks

import (
	"slices"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/gotk-rules/gotk-rules/lint"
)

// ruleDuplicate reports rules with the same name, expression and `for` but
// other labels: recording rules whatever the labels, alerts when only their
// severity differs (other labels, such as a team, route the copy elsewhere
// on purpose). Same name and labels is promtool/duplicate-rule's; the same
// expression with another `for` is the usual warning-then-critical
// escalation and is fine.
type ruleDuplicate struct{}

func (ruleDuplicate) Meta() lint.Meta {
	return lint.Meta{Name: "rule/duplicate", Severity: lint.Warning,
		Summary: "two alerts or two recording rules have the same name, expression and `for` (but other labels), so one of them is redundant"}
}

func (ruleDuplicate) CheckFile(f *lint.File, r *lint.Reporter) {
	type key struct {
		kind, name, expr string
		forDur, keep     model.Duration
	}
	first := map[key]*lint.Rule{}
	for _, g := range f.Groups {
		for _, rule := range g.Rules {
			k := key{rule.Kind(), rule.Name(), rule.AST.String(), rule.For, rule.KeepFiringFor}
			prev, dup := first[k]
			if !dup {
				first[k] = rule
				continue
			}
			pl, rl := ruleLabels(prev), ruleLabels(rule)
			if pl.String() == rl.String() {
				continue // promtool/duplicate-rule
			}
			what := "both record the same values under different labels"
			if rule.IsAlert() {
				diff := differingLabels(pl, rl)
				if len(diff) != 1 || !severityLabels[diff[0]] {
					continue // other labels route the alert elsewhere: deliberate
				}
				what = "both fire at the same moments for the same series, so every problem is notified twice with two " + diff[0] + "s"
			}
			r.Report(rule.ExprPos(0), "%s %q has the same expression as at line %d, with labels %s instead of %s: %s; delete one, or if they are meant as two severities, give each its own threshold or `for`",
				rule.Kind(), rule.Name(), prev.Pos.Line, rl, pl, what)
		}
	}
}

// severityLabels grade an alert.
var severityLabels = map[string]bool{"severity": true, "priority": true, "level": true}

// differingLabels returns the names whose values differ between a and b.
func differingLabels(a, b labels.Labels) []string {
	am, bm := a.Map(), b.Map()
	var out []string
	for k, v := range am {
		if bm[k] != v {
			out = append(out, k)
		}
	}
	for k := range bm {
		if _, ok := am[k]; !ok {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}
