package checks

import (
	"fmt"
	"slices"

	"github.com/prometheus/prometheus/promql/parser"

	"github.com/gotk-rules/gotk-rules/lint"
	"github.com/gotk-rules/gotk-rules/lint/source"
	"github.com/gotk-rules/gotk-rules/promqlx"
)

// fluxNamespaceLabel reports grouping, matching or templating Flux object
// metrics by the namespace label when the object's namespace is in another
// label: exported_namespace under a PodMonitor scrape (Flux's documented
// setup) and always for gotk_resource_info and flux_resource_info; namespace
// under honor_labels (flux.namespace_label in .gotk-rules.yaml).
type fluxNamespaceLabel struct{}

func (fluxNamespaceLabel) Meta() lint.Meta {
	return lint.Meta{Name: "flux/namespace-label", Severity: lint.Warning,
		Summary: "Flux object metrics are grouped, matched or shown by a namespace label that is not the object's (namespace vs exported_namespace)"}
}

// fluxMetricsIn returns the Flux metrics e reads.
func fluxMetricsIn(s lint.Settings, e parser.Expr) []string {
	var out []string
	for _, sel := range promqlx.Selectors(e) {
		name := promqlx.MetricName(sel.VectorSelector)
		if objectNamespaceLabel(s, name) != "" && !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	return out
}

// wrongNamespace returns the namespace label of labels that is not the
// object's for metric, and the object's; "" when there is none.
func wrongNamespace(s lint.Settings, metric string, grouping []string, perObject bool) (wrong, right string) {
	right = objectNamespaceLabel(s, metric)
	if right == "" || slices.Contains(grouping, right) {
		return "", right
	}
	other := "namespace"
	if right == "namespace" {
		other = "exported_namespace"
	}
	if !slices.Contains(grouping, other) {
		return "", right
	}
	if !isObjectStateMetric(metric) && !perObject {
		return "", right // e.g. duration by controller namespace: legitimate
	}
	return other, right
}

func namespaceWhy(metric, wrong string) string {
	if wrong == "exported_namespace" {
		return fmt.Sprintf("%s has no exported_namespace when the controllers are scraped with honor_labels (flux.namespace_label: namespace), so every object gets an empty one", metric)
	}
	who := "the controller pod (flux-system under a PodMonitor)"
	switch metric {
	case fluxResource:
		who = "the kube-state-metrics pod"
	case fluxOperator:
		who = "the Flux Operator's pod"
	}
	return fmt.Sprintf("on %s, namespace is the namespace of %s, not of the Flux object, which is in exported_namespace", metric, who)
}

func (fluxNamespaceLabel) CheckRule(rule *lint.Rule, r *lint.Reporter) {
	s := rule.Group.File.Settings
	type hit struct {
		at           source.Pos
		wrong, right string
		metric, what string
	}
	var hits []hit
	parser.Inspect(rule.AST, func(n parser.Node, _ []parser.Node) error {
		switch x := n.(type) {
		case *parser.AggregateExpr:
			if x.Without {
				return nil
			}
			for _, m := range fluxMetricsIn(s, x.Expr) {
				wrong, right := wrongNamespace(s, m, x.Grouping, slices.Contains(x.Grouping, "name"))
				if wrong == "" {
					continue
				}
				_, lp, _ := promqlx.GroupingPos(rule.Expr, x, wrong)
				hits = append(hits, hit{rule.ExprPos(lp), wrong, right, m, promqlx.AggregateText(x)})
				return nil
			}
		case *parser.BinaryExpr:
			vm := x.VectorMatching
			if vm == nil || !vm.On {
				return nil
			}
			for _, m := range fluxMetricsIn(s, x) {
				wrong, right := wrongNamespace(s, m, vm.MatchingLabels, slices.Contains(vm.MatchingLabels, "name"))
				if wrong == "" {
					continue
				}
				hits = append(hits, hit{rule.ExprPos(promqlx.ModifierPos(rule.Expr, x, false)), wrong, right, m, promqlx.MatchingText(vm)})
				return nil
			}
		}
		return nil
	})
	if len(hits) > 0 {
		slices.SortStableFunc(hits, func(a, b hit) int {
			if a.at.Line != b.at.Line {
				return a.at.Line - b.at.Line
			}
			return a.at.Column - b.at.Column
		})
		h := hits[0]
		more := ""
		if len(hits) > 1 {
			more = fmt.Sprintf(" (and %d more place(s) in this expression)", len(hits)-1)
		}
		hint := ""
		if isControllerMetric(h.metric) {
			hint = " (if you scrape the controllers with honor_labels, set flux.namespace_label: namespace in .gotk-rules.yaml)"
		}
		r.Report(h.at, "%s groups by %s%s, but %s: objects of the same name in different namespaces are merged, so one can hide another's failure and the alert names the wrong namespace; use %s%s",
			h.what, h.wrong, more, namespaceWhy(h.metric, h.wrong), h.right, hint)
		return
	}
	if !rule.IsAlert() {
		return
	}
	// Templates showing the wrong namespace of an object that is not aggregated.
	metrics := fluxMetricsIn(s, rule.AST)
	if len(metrics) == 0 {
		return
	}
	out := rule.OutputLabels()
	f := rule.Group.File
	for _, t := range ruleTemplates(rule) {
		for _, ref := range t.Refs {
			if ref.Label == "" || out.Lacks(ref.Label) {
				continue
			}
			for _, m := range metrics {
				wrong, right := wrongNamespace(s, m, []string{ref.Label}, true)
				if wrong == "" || out.Lacks(right) {
					continue
				}
				r.Report(t.Pos(f, ref.Off), "%s %q shows $labels.%s, but %s; show $labels.%s",
					t.Section[:len(t.Section)-1], t.Name, wrong, namespaceWhy(m, wrong), right)
				return
			}
		}
	}
}
