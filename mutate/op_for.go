package mutate

import (
	"time"

	"github.com/prometheus/common/model"
)

// forOperator halves, doubles and removes an alert's `for`.
var forOperator = Operator{
	Name: "for",
	Doc:  "an alert's for: halved, doubled, removed (0s)",
	rule: func(r *ruleSite) []Mutant { return durationMutants(r, "for", forHints) },
}

// keepFiringForOperator halves, doubles and removes an alert's
// keep_firing_for.
var keepFiringForOperator = Operator{
	Name: "keep-firing-for",
	Doc:  "an alert's keep_firing_for: halved, doubled, removed (0s)",
	rule: func(r *ruleSite) []Mutant { return durationMutants(r, "keep_firing_for", keepFiringHints) },
}

// durationHints words a survivor's hint for a duration changed from old to
// mutated; how is "halved", "doubled" or "removed".
type durationHints func(how, old, mutated string) string

func forHints(how, old, mutated string) string {
	switch how {
	case "halved":
		return "no test checks that the alert is still pending, not firing, between " + mutated + " and " + old +
			" after its condition starts: add an alert_rule_test with exp_alerts: [] at such an eval_time"
	case "doubled":
		return "no test checks that the alert fires once " + old + " have passed since its condition started (before " + mutated +
			"): assert it firing at an eval_time between the two"
	}
	return "no test checks that the alert is pending, not firing, right after its condition starts: add an alert_rule_test with exp_alerts: [] at an eval_time before " +
		old + " has passed"
}

func keepFiringHints(how, old, mutated string) string {
	switch how {
	case "halved":
		return "no test checks that the alert keeps firing between " + mutated + " and " + old +
			" after its condition clears: assert it firing at such an eval_time"
	case "doubled":
		return "no test checks that the alert resolves once " + old + " have passed after its condition clears (before " + mutated +
			"): add an alert_rule_test with exp_alerts: [] between the two"
	}
	return "no test checks that the alert keeps firing right after its condition clears: assert it firing at an eval_time within " + old + " of that"
}

// durationMutants changes the duration under key of an alerting rule.
func durationMutants(r *ruleSite, key string, hints durationHints) []Mutant {
	if r.rule.Alert == "" {
		return nil
	}
	k, v := lookupKey(r.node, key)
	if k == nil {
		return nil
	}
	d, err := model.ParseDuration(v.Value)
	if err != nil || d <= 0 {
		return nil
	}
	sp, err := r.src.valueSpan(k, v)
	if err != nil {
		return nil
	}
	old := d.String()
	var out []Mutant
	for _, c := range []struct {
		how string
		to  model.Duration
	}{{"halved", d / 2}, {"doubled", d * 2}, {"removed", 0}} {
		if c.to == d || (c.how == "halved" && time.Duration(c.to) < time.Millisecond) {
			continue
		}
		mutated := c.to.String()
		out = append(out, Mutant{Line: v.Line, Column: v.Column, Original: key + ": " + old, Mutated: key + ": " + mutated,
			hint: hints(c.how, old, mutated), Content: r.src.splice(sp, mutated+newlines(r.src.text[sp.start:sp.end]))})
	}
	return out
}
