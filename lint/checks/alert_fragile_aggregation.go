package checks

import (
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/gotk-rules/gotk-rules/lint"
)

// alertFragileAggregation reports topk, bottomk, limitk and limit_ratio in
// alerts when the series they pick become the alerts.
type alertFragileAggregation struct{}

func (alertFragileAggregation) Meta() lint.Meta {
	return lint.Meta{Name: "alert/fragile-aggregation", Severity: lint.Warning,
		Summary: "an alert's series come out of topk, bottomk, limitk or limit_ratio, so which alerts exist changes as series swap places"}
}

func (alertFragileAggregation) CheckRule(rule *lint.Rule, r *lint.Reporter) {
	if !rule.IsAlert() {
		return
	}
	parser.Inspect(rule.AST, func(n parser.Node, path []parser.Node) error {
		a, ok := n.(*parser.AggregateExpr)
		if !ok {
			return nil
		}
		switch a.Op {
		case parser.TOPK, parser.BOTTOMK, parser.LIMITK, parser.LIMIT_RATIO:
		default:
			return nil
		}
		for _, p := range path {
			switch x := p.(type) {
			case *parser.AggregateExpr:
				return nil // aggregated again: the picked series do not become alerts
			case *parser.Call:
				if x.Func.Name == "absent" || x.Func.ReturnType != parser.ValueTypeVector {
					return nil
				}
			}
		}
		r.Report(rule.ExprPos(a.PosRange.Start),
			"alert %q alerts on the series %s picks: which series make the cut changes from one evaluation to the next, so alerts resolve and fire again as series swap places and `for` starts over each time; alert on a threshold instead (for example `x > N`)",
			rule.Alert, a.Op)
		return nil
	})
}
