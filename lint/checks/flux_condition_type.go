package checks

import (
	"github.com/gotk-rules/gotk-rules/lint"
	"github.com/gotk-rules/gotk-rules/promqlx"
)

// fluxConditionType reports gotk_reconcile_condition selectors whose type
// is not Ready: no Flux controller records another condition type.
type fluxConditionType struct{}

func (fluxConditionType) Meta() lint.Meta {
	return lint.Meta{Name: "flux/condition-type", Severity: lint.Error,
		Summary: `the expression needs gotk_reconcile_condition with a type other than "Ready", which Flux never records`}
}

func (fluxConditionType) CheckRule(rule *lint.Rule, r *lint.Reporter) {
	effects := rule.Effects()
	for _, s := range selectorsNamed(rule.Selectors(), fluxCondition) {
		m := promqlx.Matcher(s.VectorSelector, "type")
		if m == nil || promqlx.SelectsAny(s.VectorSelector, "type", "Ready") {
			continue
		}
		words := effectWords(effects[s.VectorSelector], rule.IsAlert())
		if words == "" {
			continue
		}
		r.Report(rule.ExprPos(promqlx.MatcherPos(rule.Expr, s.VectorSelector, m)),
			`%s selects nothing: Flux controllers only record type="Ready" (RecordReconciling and RecordStalled were never called); %s; use type="Ready" and the status you mean`,
			m, words)
	}
}
