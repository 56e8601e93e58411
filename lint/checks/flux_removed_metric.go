package checks

import (
	"github.com/gotk-rules/gotk-rules/lint"
	"github.com/gotk-rules/gotk-rules/promqlx"
)

// fluxRemovedMetric reports gotk_reconcile_condition and gotk_suspend_status,
// which Flux deprecated in 2.1 and removed by 2.5.
type fluxRemovedMetric struct{}

func (fluxRemovedMetric) Meta() lint.Meta {
	return lint.Meta{Name: "flux/removed-metric", Severity: lint.Warning,
		Summary: "gotk_reconcile_condition or gotk_suspend_status is used: Flux no longer exposes them (removed by Flux 2.5); use gotk_resource_info or flux_resource_info"}
}

func (fluxRemovedMetric) CheckRule(rule *lint.Rule, r *lint.Reporter) {
	seen := map[string]bool{}
	for _, s := range selectorsNamed(rule.Selectors(), fluxCondition, fluxSuspend) {
		name := promqlx.MetricName(s.VectorSelector)
		if seen[name] {
			continue
		}
		seen[name] = true
		instead, operator := `gotk_resource_info{ready="False"}`, `flux_resource_info{ready="False"}`
		if name == fluxSuspend {
			instead, operator = `gotk_resource_info{suspended="true"}`, `flux_resource_info{suspended="True"}`
		}
		what := "the alert never fires"
		if !rule.IsAlert() {
			what = "the rule records nothing"
		}
		r.Report(rule.ExprPos(s.PosRange.Start),
			"%s was deprecated in Flux 2.1 and is no longer exposed (HelmRelease from Flux 2.2, ImageUpdateAutomation 2.3, every other kind 2.5): on a current Flux it selects nothing and %s; use %s from kube-state-metrics (labels customresource_kind, exported_namespace, name, ready, suspended), or %s from the Flux Operator (labels kind, exported_namespace, name, ready, reason, suspended)",
			name, what, instead, operator)
	}
}
