package checks

import (
	"strings"

	"github.com/gotk-rules/gotk-rules/lint"
	"github.com/gotk-rules/gotk-rules/lint/promqlx"
)

// Facts about Flux's metrics the flux/* checks share; the sources are in
// shared/reference/flux-metrics.md.

const (
	fluxCondition = "gotk_reconcile_condition"
	fluxSuspend   = "gotk_suspend_status"
	fluxResource  = "gotk_resource_info" // kube-state-metrics custom resource state
	fluxOperator  = "flux_resource_info" // Flux Operator
	fluxDuration  = "gotk_reconcile_duration_seconds"
)

// isControllerMetric reports the metrics the Flux controllers themselves
// expose, whose namespace label depends on how they are scraped.
func isControllerMetric(name string) bool {
	return name == fluxCondition || name == fluxSuspend || strings.HasPrefix(name, fluxDuration)
}

// isObjectStateMetric reports the metrics with one series (set) per Flux
// object and its state.
func isObjectStateMetric(name string) bool {
	return name == fluxCondition || name == fluxSuspend || name == fluxResource || name == fluxOperator
}

// objectNamespaceLabel is the label holding a Flux object's namespace on
// metric name, or "" for metrics that are not Flux's.
func objectNamespaceLabel(s lint.Settings, name string) string {
	switch {
	case isControllerMetric(name):
		return s.FluxNamespaceLabel
	case name == fluxResource || name == fluxOperator:
		return "exported_namespace" // set by their configuration, whatever the scrape
	}
	return ""
}

// conditionStatuses are the status values gotk_reconcile_condition has had.
var conditionStatuses = []string{"True", "False", "Unknown"}

// effectWords says what an empty selector does to a rule, or "" when it
// does not matter.
func effectWords(e promqlx.Effect, isAlert bool) string {
	switch e {
	case promqlx.Empties:
		return "the expression needs it, so it returns nothing and " + fires(isAlert)
	case promqlx.Fills:
		if isAlert {
			return "absent() of it is always true, so the alert fires all the time"
		}
		return "absent() of it is always 1"
	}
	return ""
}
