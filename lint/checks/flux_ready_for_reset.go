package checks

import (
	"github.com/prometheus/common/model"

	"github.com/gotk-rules/gotk-rules/lint"
	"github.com/gotk-rules/gotk-rules/lint/promqlx"
)

// fluxReadyForReset reports alerts with `for` on gotk_resource_info (or
// flux_resource_info) selected by ready, when a flip of the Ready condition
// through Unknown ends the alert's series and so restarts `for`.
type fluxReadyForReset struct{}

func (fluxReadyForReset) Meta() lint.Meta {
	return lint.Meta{Name: "flux/ready-for-reset", Severity: lint.Warning,
		Summary: `an alert with "for" selects gotk_resource_info by ready: every Ready=Unknown flip ends the series and restarts "for"`}
}

func (fluxReadyForReset) CheckRule(rule *lint.Rule, r *lint.Reporter) {
	if !rule.IsAlert() || rule.For == 0 {
		return
	}
	effects := rule.Effects()
	out := rule.OutputLabels()
	for _, s := range selectorsNamed(rule.Selectors(), fluxResource, fluxOperator) {
		m := promqlx.Matcher(s.VectorSelector, "ready")
		if m == nil || effects[s.VectorSelector] != promqlx.Empties || s.InRange() {
			continue // a range (max_over_time(...[15m:])) bridges a flip
		}
		if !promqlx.SelectsAny(s.VectorSelector, "ready", "False") {
			continue
		}
		keepsUnknown := promqlx.SelectsAny(s.VectorSelector, "ready", "Unknown")
		if keepsUnknown && out.Lacks("ready") {
			continue // the alert follows the object through False and Unknown
		}
		name := promqlx.MetricName(s.VectorSelector)
		why := "this selector drops the object while it is Unknown"
		if keepsUnknown {
			why = "the alert's labels include ready"
		}
		r.Report(rule.ExprPos(promqlx.MatcherPos(rule.Expr, s.VectorSelector, m)),
			`each value of ready is a separate %s series and %s, so when a reconcile flips an object False -> Unknown -> False the alert's series ends and "for: %s" starts over; Flux controllers set Ready=Unknown at the start of every reconcile, so an object that keeps failing and retrying more often than every %s never fires; select both and aggregate ready away: max by (customresource_kind, exported_namespace, name) (%s{ready=~"False|Unknown"})`,
			name, why, model.Duration(rule.For), model.Duration(rule.For), name)
	}
}
