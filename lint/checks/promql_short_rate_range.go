package checks

import (
	"strconv"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/gotk-rules/gotk-rules/lint"
	"github.com/gotk-rules/gotk-rules/promqlx"
)

// promqlShortRateRange reports rate-like functions over a range shorter than
// two evaluation intervals of the rule's group.
type promqlShortRateRange struct{}

func (promqlShortRateRange) Meta() lint.Meta {
	return lint.Meta{Name: "promql/short-rate-range", Severity: lint.Warning,
		Summary: "rate, irate, increase, delta, idelta or deriv looks at a range shorter than two evaluation intervals"}
}

var rangeFunctions = map[string]bool{"rate": true, "irate": true, "increase": true, "delta": true, "idelta": true, "deriv": true}

func itoa(i int) string { return strconv.Itoa(i) }

func (promqlShortRateRange) CheckRule(rule *lint.Rule, r *lint.Reporter) {
	interval := rule.Group.EvalInterval()
	if interval <= 0 {
		return
	}
	source := "the global evaluation_interval"
	if rule.Group.Interval > 0 {
		source = "the group's interval"
	}
	parser.Inspect(rule.AST, func(n parser.Node, _ []parser.Node) error {
		c, ok := n.(*parser.Call)
		if !ok || !rangeFunctions[c.Func.Name] || len(c.Args) != 1 {
			return nil
		}
		m, ok := c.Args[0].(*parser.MatrixSelector)
		if !ok || m.RangeExpr != nil || m.Range <= 0 || m.Range >= 2*interval {
			return nil
		}
		r.Report(rule.ExprPos(promqlx.RangePos(rule.Expr, m)),
			"%s() over [%s] is shorter than two evaluations (%s is %s): successive windows do not overlap, so increases between them are lost, and with a scrape interval near %s the window holds one sample and %s returns nothing; use at least [%s] (four scrape intervals is the usual advice)",
			c.Func.Name, model.Duration(m.Range), source, model.Duration(interval), model.Duration(interval), c.Func.Name, model.Duration(2*interval))
		return nil
	})
}
