package checks

import (
	"slices"
	"strings"

	"github.com/prometheus/prometheus/promql/parser"

	"github.com/gotk-rules/gotk-rules/lint"
	"github.com/gotk-rules/gotk-rules/promqlx"
)

// Facts about Flux's metrics the flux/* checks share. Sources: the
// controllers' recorder, fluxcd/pkg runtime/metrics/recorder.go;
// gotk_resource_info, the kube-state-metrics custom resource state
// configuration of fluxcd/flux2-monitoring-example
// (monitoring/controllers/kube-prometheus-stack/kube-state-metrics-config.yaml);
// flux_resource_info, controlplaneio-fluxcd/flux-operator
// internal/reporter/metrics.go.

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

// kindLabel is the label holding a Flux object's kind on metric name.
func kindLabel(name string) string {
	if name == fluxResource {
		return "customresource_kind"
	}
	return "kind"
}

// labelFix says what a Flux metric has instead of a label it lacks.
type labelFix struct {
	// Use is the label to use instead, "" when there is none.
	Use string
	// Why says where the information is, or that it is not recorded.
	Why string
}

// The labels of the other Flux metrics that a Flux metric does not have.
// Target labels (namespace, pod, job, instance, endpoint...) are left out:
// any scrape may add them.
var (
	// gotk_resource_info as Flux's kube-state-metrics configuration defines
	// it: customresource_group, customresource_kind, customresource_version,
	// name, exported_namespace, ready, suspended and per-kind labels
	// (revision, source_name, url, chart_*, bucket_name, webhook_path,
	// image).
	resourceInfoLacks = map[string]labelFix{
		"kind":   {"customresource_kind", "kube-state-metrics names the kind customresource_kind"},
		"type":   {"", "the Ready condition's status is in ready; there is no other condition"},
		"status": {"ready", "the Ready condition's status is in ready"},
		"uid":    {"", "only the Flux Operator's flux_resource_info has uid; Flux's kube-state-metrics configuration does not record it"},
		"reason": {"", "only the Flux Operator's flux_resource_info has the Ready condition's reason; Flux's kube-state-metrics configuration does not record it"},
		"ref":    {"", "only the Flux Operator's flux_resource_info has ref; Flux's kube-state-metrics configuration does not record it"},
		"path":   {"", "only the Flux Operator's flux_resource_info has path; Flux's kube-state-metrics configuration does not record it"},
	}
	// flux_resource_info: uid, kind, name, exported_namespace, ready,
	// reason, suspended, revision, url, ref, source_name, path.
	operatorInfoLacks = map[string]labelFix{
		"customresource_kind":    {"kind", "the Flux Operator names the kind kind"},
		"customresource_group":   {"", "the Flux Operator records only the kind, in kind, not the API group"},
		"customresource_version": {"", "the Flux Operator records only the kind, in kind, not the API version"},
		"type":                   {"", "the Ready condition's status is in ready; there is no other condition"},
		"status":                 {"ready", "the Ready condition's status is in ready"},
		"chart_name":             {"", "the Flux Operator records no chart name"},
		"chart_version":          {"", "the Flux Operator records no chart version; a HelmRelease's attempted chart version is in revision"},
		"chart_app_version":      {"", "the Flux Operator records no chart app version"},
		"chart_ref_name":         {"source_name", "the Flux Operator puts a HelmRelease's chart source in source_name"},
		"chart_source_name":      {"source_name", "the Flux Operator puts a HelmRelease's chart source in source_name"},
		"bucket_name":            {"ref", "the Flux Operator puts a Bucket's bucket name in ref"},
		"webhook_path":           {"url", "the Flux Operator puts a Receiver's webhook path in url"},
		"image":                  {"url", "the Flux Operator puts an ImageRepository's image in url"},
	}
	// The controllers' metrics: kind, name, namespace (exported_namespace
	// after a PodMonitor scrape), and type and status on
	// gotk_reconcile_condition.
	controllerLacks = map[string]labelFix{
		"customresource_kind":    {"kind", "the controllers' metrics name the kind kind"},
		"customresource_group":   {"", "the controllers' metrics record only the kind, in kind, not the API group"},
		"customresource_version": {"", "the controllers' metrics record only the kind, in kind, not the API version"},
		"suspended":              {"", "suspension is the value of gotk_suspend_status, 1 when suspended"},
		"reason":                 {"", "the controllers' metrics do not record the Ready condition's reason"},
		"uid":                    {"", "the controllers' metrics identify an object by kind, name and namespace only"},
		"revision":               {"", "the controllers' metrics do not record revisions"},
		"source_name":            {"", "the controllers' metrics do not record sources"},
	}
)

// missingFluxLabel reports whether Flux metric name lacks label although
// another Flux metric has it, and what it has instead.
func missingFluxLabel(name, label string) (labelFix, bool) {
	var fix labelFix
	var ok bool
	switch {
	case name == fluxResource:
		fix, ok = resourceInfoLacks[label]
	case name == fluxOperator:
		fix, ok = operatorInfoLacks[label]
	case isControllerMetric(name):
		fix, ok = controllerLacks[label]
		if !ok && label == "ready" {
			fix, ok = labelFix{"", `the Ready condition is gotk_reconcile_condition{type="Ready"} and its status label`}, true
		}
		if ok && name == fluxCondition && label == "ready" {
			fix = labelFix{"status", `the Ready condition is type="Ready" with its status in status`}
		}
	}
	return fix, ok
}

// fluxLacks returns the Flux metric e reads when no series of e can have
// label: e reads at least one series, only Flux metrics that lack it, and
// nothing in e adds it.
func fluxLacks(e parser.Expr, label string) (string, bool) {
	metric, ok := "", true
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		if !ok {
			return nil
		}
		switch x := n.(type) {
		case *parser.VectorSelector:
			name := promqlx.MetricName(x)
			if _, lacks := missingFluxLabel(name, label); !lacks {
				ok = false
			} else if metric == "" {
				metric = name
			}
		case *parser.Call:
			switch x.Func.Name {
			case "label_replace", "label_join":
				if len(x.Args) < 2 {
					ok = false
					break
				}
				dst, lit := unparen(x.Args[1]).(*parser.StringLiteral)
				if !lit || dst.Val == label {
					ok = false
				}
			case "info", "absent", "absent_over_time":
				ok = false // they add labels: info's data labels, absent's equality matchers
			}
		case *parser.AggregateExpr:
			if x.Op == parser.COUNT_VALUES {
				ok = false
			}
		case *parser.BinaryExpr:
			if x.VectorMatching != nil && slices.Contains(x.VectorMatching.Include, label) {
				ok = false
			}
		}
		return nil
	})
	return metric, ok && metric != ""
}

// unparen removes parentheses and step-invariant wrappers.
func unparen(e parser.Expr) parser.Expr {
	for {
		switch n := e.(type) {
		case *parser.ParenExpr:
			e = n.Expr
		case *parser.StepInvariantExpr:
			e = n.Expr
		default:
			return e
		}
	}
}

// emptyWords says what an always empty selector does to a rule, also where
// its emptiness does not empty the whole (the right side of unless or or).
func emptyWords(e promqlx.Effect, isAlert bool) string {
	if w := effectWords(e, isAlert); w != "" {
		return w
	}
	return "that part of the expression is always empty, so an unless on it removes nothing and an or adds nothing"
}
