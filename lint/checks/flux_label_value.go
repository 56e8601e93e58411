package checks

import (
	"fmt"
	"strings"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/gotk-rules/gotk-rules/lint"
	"github.com/gotk-rules/gotk-rules/promqlx"
)

// fluxLabelValue reports ready and suspended matchers on gotk_resource_info
// and flux_resource_info that need a value the metric never has. The two
// spell suspension differently: kube-state-metrics copies spec.suspend, so
// gotk_resource_info has suspended="true" and no suspended label at all when
// spec.suspend is unset; the Flux Operator always writes suspended="True" or
// "False". ready is the Ready condition's status, True, False or Unknown, on
// both; gotk_resource_info has none before the object has a Ready condition.
type fluxLabelValue struct{}

func (fluxLabelValue) Meta() lint.Meta {
	return lint.Meta{Name: "flux/label-value", Severity: lint.Warning,
		Summary: `a selector on gotk_resource_info or flux_resource_info needs a ready or suspended value the metric never has (suspended is "true" on the first, "True" or "False" on the second)`}
}

// stateValue describes the values of a state label of a Flux info metric.
type stateValue struct {
	values []string // what the metric writes, "" when the label can be absent
	words  string   // the same, for a message
}

var stateValues = map[string]map[string]stateValue{
	fluxResource: {
		"ready":     {[]string{"True", "False", "Unknown", ""}, `"True", "False" or "Unknown" (no ready label before the object has a Ready condition)`},
		"suspended": {[]string{"true", "false", ""}, `"true" when spec.suspend is true, "false" only when spec.suspend: false is written, and no suspended label otherwise`},
	},
	fluxOperator: {
		"ready":     {[]string{"True", "False", "Unknown"}, `"True", "False" or "Unknown", always present`},
		"suspended": {[]string{"True", "False"}, `"True" or "False", capitalised, always present`},
	},
}

func (fluxLabelValue) CheckRule(rule *lint.Rule, r *lint.Reporter) {
	effects := rule.Effects()
	for _, s := range selectorsNamed(rule.Selectors(), fluxResource, fluxOperator) {
		name := promqlx.MetricName(s.VectorSelector)
		for _, label := range []string{"ready", "suspended"} {
			m := promqlx.Matcher(s.VectorSelector, label)
			if m == nil {
				continue
			}
			sv := stateValues[name][label]
			at := rule.ExprPos(promqlx.MatcherPos(rule.Expr, s.VectorSelector, m))
			if !promqlx.SelectsAny(s.VectorSelector, label, sv.values...) {
				r.Report(at, "%s selects nothing: %s on %s is %s; %s; %s",
					m, label, name, sv.words, emptyWords(effects[s.VectorSelector], rule.IsAlert()), valueFix(m, sv.values))
				continue
			}
			// A negative matcher every value passes: suspended!="true" on
			// flux_resource_info keeps the suspended objects.
			if (m.Type == labels.MatchNotEqual || m.Type == labels.MatchNotRegexp) && acceptsAll(m, sv.values) {
				r.Report(at, "%s filters nothing: %s on %s is %s, so every series passes it; %s",
					m, label, name, sv.words, valueFix(m, sv.values))
				continue
			}
			// suspended="false" on gotk_resource_info: only objects that
			// write suspend: false; most have no suspended label.
			if name == fluxResource && label == "suspended" &&
				promqlx.SelectsAny(s.VectorSelector, label, "false") &&
				!promqlx.SelectsAny(s.VectorSelector, label, "", "true") {
				r.Report(at, `%s only selects objects whose spec says suspend: false: %s on %s is %s, so it misses nearly every object that is not suspended; use suspended!="true"`,
					m, label, name, sv.words)
			}
		}
	}
}

// valueFix suggests the matcher with the metric's spelling of its value, or
// lists the values.
func valueFix(m *labels.Matcher, values []string) string {
	if m.Type == labels.MatchEqual || m.Type == labels.MatchNotEqual {
		for _, v := range values {
			if v != "" && strings.EqualFold(v, m.Value) {
				return fmt.Sprintf("use %s", &labels.Matcher{Type: m.Type, Name: m.Name, Value: v})
			}
		}
	}
	var quoted []string
	for _, v := range values {
		if v != "" {
			quoted = append(quoted, promqlx.Quote(v))
		}
	}
	return "match one of " + strings.Join(quoted, ", ")
}

// acceptsAll reports whether m accepts every value in values.
func acceptsAll(m *labels.Matcher, values []string) bool {
	for _, v := range values {
		if !m.Matches(v) {
			return false
		}
	}
	return true
}
