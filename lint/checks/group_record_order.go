package checks

import (
	"github.com/prometheus/common/model"

	"github.com/gotk-rules/gotk-rules/lint"
	"github.com/gotk-rules/gotk-rules/promqlx"
)

// groupRecordOrder reports rules reading a series that a recording rule
// further down the same group produces.
type groupRecordOrder struct{}

func (groupRecordOrder) Meta() lint.Meta {
	return lint.Meta{Name: "group/record-order", Severity: lint.Warning,
		Summary: "a rule reads a series recorded by a rule further down the same group, so it sees the previous evaluation's value"}
}

func (groupRecordOrder) CheckGroup(g *lint.Group, r *lint.Reporter) {
	firstAt := map[string]int{}
	for i, rule := range g.Rules {
		if rule.Record != "" {
			if _, ok := firstAt[rule.Record]; !ok {
				firstAt[rule.Record] = i
			}
		}
	}
	for i, rule := range g.Rules {
		reported := map[string]bool{}
		for _, s := range rule.Selectors() {
			name := promqlx.MetricName(s.VectorSelector)
			j, ok := firstAt[name]
			if !ok || j <= i || reported[name] {
				continue
			}
			reported[name] = true
			later := g.Rules[j]
			r.Report(rule.ExprPos(s.PosRange.Start),
				"%s is recorded by rule %d of this group (line %d), after this one: rules of a group run in order, so this %s reads the value of the previous evaluation, %s late (none at all on the first); move the recording rule above it",
				name, j+1, later.Pos.Line, rule.Kind(), model.Duration(g.EvalInterval()))
		}
	}
}
