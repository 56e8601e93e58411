package checks

import (
	"github.com/gotk-rules/gotk-rules/lint"
	"github.com/gotk-rules/gotk-rules/promqlx"
)

// fluxDeletedStatus reports expressions that need
// gotk_reconcile_condition{status="Deleted"}, which no Flux since 2.1 has.
type fluxDeletedStatus struct{}

func (fluxDeletedStatus) Meta() lint.Meta {
	return lint.Meta{Name: "flux/deleted-status", Severity: lint.Error,
		Summary: `the expression needs gotk_reconcile_condition{status="Deleted"}, which does not exist since Flux 2.1: the rule never fires`}
}

func (fluxDeletedStatus) CheckRule(rule *lint.Rule, r *lint.Reporter) {
	effects := rule.Effects()
	for _, s := range selectorsNamed(rule.Selectors(), fluxCondition) {
		if !promqlx.SelectsAny(s.VectorSelector, "status", "Deleted") || promqlx.SelectsAny(s.VectorSelector, "status", conditionStatuses...) {
			continue
		}
		words := effectWords(effects[s.VectorSelector], rule.IsAlert())
		if words == "" {
			continue
		}
		m := promqlx.Matcher(s.VectorSelector, "status")
		r.Report(rule.ExprPos(promqlx.MatcherPos(rule.Expr, s.VectorSelector, m)),
			`no series has status="Deleted" since Flux 2.1 (the controllers delete a deleted object's series instead, fluxcd/pkg#612); %s, for every object; drop the Deleted part: max by (exported_namespace, name, kind) (gotk_reconcile_condition{type="Ready",status="False"}) == 1 on Flux 2.1 to 2.4, or gotk_resource_info{ready="False"} (kube-state-metrics) or flux_resource_info{ready="False"} (Flux Operator) on any current Flux`,
			words)
	}
}
