package checks

import (
	"strings"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/gotk-rules/gotk-rules/lint"
	"github.com/gotk-rules/gotk-rules/promqlx"
)

// alertForMissing reports alerts on a state gauge (up, a condition or
// status gauge, a 0/1 flag) without `for`: one sample in the bad state
// pages.
type alertForMissing struct{}

func (alertForMissing) Meta() lint.Meta {
	return lint.Meta{Name: "alert/for-missing", Severity: lint.Warning,
		Summary: "an alert on a state gauge (up, a status or condition gauge, a 0/1 flag) has no `for`, so a single sample in that state fires it"}
}

// stateMetrics report a state as 0/1 or as a label.
var stateMetrics = map[string]bool{
	"up": true, "gotk_reconcile_condition": true, "gotk_suspend_status": true,
	"gotk_resource_info": true, "flux_resource_info": true,
}

// stateLabels carry a state in their value.
var stateLabels = map[string]bool{"status": true, "ready": true, "condition": true, "phase": true, "state": true}

func (alertForMissing) CheckRule(rule *lint.Rule, r *lint.Reporter) {
	if !rule.IsAlert() || rule.For > 0 {
		return
	}
	if !promqlx.Filters(rule.AST, rule.Group.File.RecordFilters) {
		return // alert/no-comparison reports it
	}
	effects := rule.Effects()
	for _, s := range rule.Selectors() {
		if s.InRange() || effects[s.VectorSelector] != promqlx.Empties {
			continue
		}
		name := promqlx.MetricName(s.VectorSelector)
		if name == "" || hasCounterSuffix(name) || strings.HasPrefix(name, "ALERTS") {
			continue
		}
		if !isStateGauge(name, s) {
			continue
		}
		r.Report(rule.KeyPos("alert"),
			"alert %q has no `for`: it fires on the first evaluation that sees %s in that state, so a single blip (one scrape, a restart, a rollout, a reconcile in progress) pages; add `for: 5m` (or longer) so the state has to last",
			rule.Alert, name)
		return
	}
}

// isStateGauge reports whether an alert reads selector s as a state: the
// nearest comparison above it is against 0 or 1, or there is none and the
// metric or a matcher is about a state. A comparison with any other
// threshold (a latency, a timestamp) is not a state.
func isStateGauge(name string, s promqlx.Selector) bool {
	if cmp, ok := nearestComparison(s); ok {
		return cmp
	}
	if stateMetrics[name] || strings.HasSuffix(name, "_up") {
		return true
	}
	for _, m := range s.LabelMatchers {
		if stateLabels[m.Name] && (m.Type == labels.MatchEqual || m.Type == labels.MatchRegexp) {
			return true
		}
	}
	return false
}

// nearestComparison finds the comparison s is an operand of, looking
// through parentheses, max/min, label_replace and the left side of
// and/unless/or; found reports whether there is one, and flag whether it
// compares with 0 or 1. Arithmetic or another aggregation on the way makes
// the value something other than a state: found, not a flag.
func nearestComparison(s promqlx.Selector) (flag, found bool) {
	for i := len(s.Path) - 1; i >= 0; i-- {
		child := parser.Node(s.VectorSelector)
		if i+1 < len(s.Path) {
			child = s.Path[i+1]
		}
		switch p := s.Path[i].(type) {
		case *parser.ParenExpr, *parser.StepInvariantExpr:
			continue
		case *parser.AggregateExpr:
			if p.Op == parser.MAX || p.Op == parser.MIN {
				continue
			}
			return false, true
		case *parser.Call:
			switch p.Func.Name {
			case "label_replace", "label_join", "sort", "sort_desc", "sort_by_label", "sort_by_label_desc":
				continue
			}
			return false, true
		case *parser.BinaryExpr:
			if p.Op.IsSetOperator() {
				if child == parser.Node(p.LHS) || p.Op == parser.LOR {
					continue
				}
				return false, false
			}
			if !p.Op.IsComparisonOperator() || p.ReturnBool {
				return false, true
			}
			other := p.RHS
			if child == parser.Node(p.RHS) {
				other = p.LHS
			}
			n, ok := unwrapNumber(other)
			return ok && (n == 0 || n == 1), true
		default:
			return false, false
		}
	}
	return false, false
}

func unwrapNumber(e parser.Expr) (float64, bool) {
	for {
		switch x := e.(type) {
		case *parser.ParenExpr:
			e = x.Expr
		case *parser.StepInvariantExpr:
			e = x.Expr
		case *parser.NumberLiteral:
			return x.Val, true
		default:
			return 0, false
		}
	}
}
