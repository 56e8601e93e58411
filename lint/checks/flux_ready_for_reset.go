package checks

import (
	"fmt"
	"strings"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/gotk-rules/gotk-rules/lint"
	"github.com/gotk-rules/gotk-rules/promqlx"
)

// fluxReadyForReset reports alerts with `for` on gotk_resource_info or
// flux_resource_info selected by ready, when a flip of the Ready condition
// through Unknown ends the alert's series and so restarts `for`. On
// flux_resource_info the Ready condition's reason and the attempted
// revision are labels too, and change while an object keeps failing.
type fluxReadyForReset struct{}

func (fluxReadyForReset) Meta() lint.Meta {
	return lint.Meta{Name: "flux/ready-for-reset", Severity: lint.Warning,
		Summary: `an alert with "for" selects gotk_resource_info or flux_resource_info by ready (or reason): every Ready=Unknown flip, or new reason, ends the series and restarts "for"`}
}

// operatorChurn are the labels of flux_resource_info besides ready that
// change while an object keeps failing: the Ready reason
// (ReconciliationFailed, HealthCheckFailed, DependencyNotReady...) and, for
// a Kustomization or HelmRelease, the last attempted revision.
var operatorChurn = []string{"reason", "revision"}

func (fluxReadyForReset) CheckRule(rule *lint.Rule, r *lint.Reporter) {
	if !rule.IsAlert() || rule.For == 0 {
		return
	}
	effects := rule.Effects()
	out := rule.OutputLabels()
	for _, s := range selectorsNamed(rule.Selectors(), fluxResource, fluxOperator) {
		if effects[s.VectorSelector] != promqlx.Empties || s.InRange() {
			continue // a range (max_over_time(...[15m:])) bridges a flip
		}
		name := promqlx.MetricName(s.VectorSelector)
		m := promqlx.Matcher(s.VectorSelector, "ready")
		reason := promqlx.Matcher(s.VectorSelector, "reason")
		if name == fluxResource || (reason != nil && reason.Type != labels.MatchEqual && reason.Type != labels.MatchRegexp) {
			reason = nil // a negative one excludes reasons on purpose
		}
		failing := m != nil && promqlx.SelectsAny(s.VectorSelector, "ready", "False")
		if !failing && reason == nil {
			continue
		}
		fix := fmt.Sprintf(`select both and aggregate ready away: max by (%s, exported_namespace, name) (%s{ready=~"False|Unknown"})`, kindLabel(name), name)
		var why string
		switch {
		case m != nil && failing && !promqlx.SelectsAny(s.VectorSelector, "ready", "Unknown"):
			why = "this selector drops the object while it is Unknown"
		case m != nil && failing && !out.Lacks("ready") && labelsReachResult(s):
			why = "the alert's labels include ready"
		}
		if why != "" {
			r.Report(rule.ExprPos(promqlx.MatcherPos(rule.Expr, s.VectorSelector, m)),
				`each value of ready is a separate %s series and %s, so when a reconcile flips an object False -> Unknown -> False the alert's series ends and "for: %s" starts over; Flux controllers set Ready=Unknown at the start of every reconcile, so an object that keeps failing and retrying more often than every %s never fires; %s`,
				name, why, model.Duration(rule.For), model.Duration(rule.For), fix)
			continue
		}
		if name != fluxOperator {
			continue
		}
		// flux_resource_info: the reason and revision labels.
		at := m
		if reason != nil {
			at = reason
			why = "this selector keeps only some reasons"
		} else {
			var kept []string
			for _, l := range operatorChurn {
				if !out.Lacks(l) && labelsReachResult(s) {
					kept = append(kept, l)
				}
			}
			if len(kept) == 0 {
				continue
			}
			why = "the alert's labels include " + strings.Join(kept, " and ")
		}
		r.Report(rule.ExprPos(promqlx.MatcherPos(rule.Expr, s.VectorSelector, at)),
			`each value of reason and revision is a separate flux_resource_info series and %s, so when a failing object's Ready reason changes (ReconciliationFailed -> HealthCheckFailed -> DependencyNotReady...) or it attempts a new revision, the alert's series ends and "for: %s" starts over; select by ready and aggregate the rest away: max by (kind, exported_namespace, name) (flux_resource_info{ready=~"False|Unknown"})`,
			why, model.Duration(rule.For))
	}
}

// labelsReachResult reports whether the labels of s's series can reach the
// expression's result: not when it is the right side of and or unless, or
// the side of a vector operation whose labels the other side's replace.
func labelsReachResult(s promqlx.Selector) bool {
	for i, n := range s.Path {
		b, ok := n.(*parser.BinaryExpr)
		if !ok || b.VectorMatching == nil || b.LHS.Type() != parser.ValueTypeVector || b.RHS.Type() != parser.ValueTypeVector {
			continue
		}
		var child parser.Node = s.VectorSelector
		if i+1 < len(s.Path) {
			child = s.Path[i+1]
		}
		rhs := child == parser.Node(b.RHS)
		switch {
		case b.Op == parser.LOR:
		case b.Op == parser.LAND || b.Op == parser.LUNLESS:
			if rhs {
				return false
			}
		case b.VectorMatching.Card == parser.CardOneToMany:
			if !rhs {
				return false
			}
		default:
			if rhs {
				return false
			}
		}
	}
	return true
}
