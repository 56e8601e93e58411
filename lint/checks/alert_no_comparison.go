package checks

import (
	"github.com/gotk-rules/gotk-rules/lint"
	"github.com/gotk-rules/gotk-rules/promqlx"
)

// alertNoComparison reports alerts whose expression never filters: an alert
// fires for every series its expression returns, whatever the value.
type alertNoComparison struct{}

func (alertNoComparison) Meta() lint.Meta {
	return lint.Meta{Name: "alert/no-comparison", Severity: lint.Warning,
		Summary: "an alert's expression has no comparison or filter, so it fires for every series it selects, whatever the value"}
}

func (alertNoComparison) CheckRule(rule *lint.Rule, r *lint.Reporter) {
	if !rule.IsAlert() || !promqlx.HasSelector(rule.AST) {
		return // a constant, as vector(1) in a watchdog alert, fires on purpose
	}
	if promqlx.Filters(rule.AST, rule.Group.File.RecordFilters) {
		return
	}
	r.Report(rule.ExprPos(rule.AST.PositionRange().Start),
		"alert %q has no condition: the expression returns a series for everything it selects, whatever its value (0 included), so the alert fires for every one of them all the time; add a comparison such as `%s > 0`, or filter with and/unless",
		rule.Alert, truncate(rule.AST.String(), 60))
}
