package checks

import (
	"github.com/gotk-rules/gotk-rules/lint"
	"github.com/gotk-rules/gotk-rules/promqlx"
)

// fluxConditionStatus reports gotk_reconcile_condition selectors whose
// status matches none of the values Flux writes (a typo such as "Unkown").
type fluxConditionStatus struct{}

func (fluxConditionStatus) Meta() lint.Meta {
	return lint.Meta{Name: "flux/condition-status", Severity: lint.Error,
		Summary: `the expression needs gotk_reconcile_condition with a status other than True, False, Unknown (or Deleted), which Flux never writes`}
}

func (fluxConditionStatus) CheckRule(rule *lint.Rule, r *lint.Reporter) {
	effects := rule.Effects()
	for _, s := range selectorsNamed(rule.Selectors(), fluxCondition) {
		m := promqlx.Matcher(s.VectorSelector, "status")
		if m == nil || promqlx.SelectsAny(s.VectorSelector, "status", append(conditionStatuses, "Deleted")...) {
			continue
		}
		words := effectWords(effects[s.VectorSelector], rule.IsAlert())
		if words == "" {
			continue
		}
		r.Report(rule.ExprPos(promqlx.MatcherPos(rule.Expr, s.VectorSelector, m)),
			`%s selects nothing: the status label is "True", "False" or "Unknown" (and "Deleted" before Flux 2.1); %s; fix the value`,
			m, words)
	}
}
