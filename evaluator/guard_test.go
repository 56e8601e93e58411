package evaluator

import (
	"fmt"
	"testing"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/rules"
	"github.com/stretchr/testify/require"
)

// TestOutputSetAsPrometheus checks the linear outputSet builds what
// rules.AlertingRule's sample and forStateSample build with a
// labels.Builder: the rule's labels, overridden by the alert's, then the
// metric name, alert name and state.
func TestOutputSetAsPrometheus(t *testing.T) {
	builder := func(rule, alert labels.Labels, name, metric, state string) labels.Labels {
		lb := labels.NewBuilder(rule)
		alert.Range(func(l labels.Label) { lb.Set(l.Name, l.Value) })
		lb.Set(labels.MetricName, metric)
		lb.Set(labels.AlertName, name)
		if state != "" {
			lb.Set("alertstate", state)
		}
		return lb.Labels()
	}
	many := labels.NewScratchBuilder(0)
	for i := range 1000 {
		many.Add(fmt.Sprintf("l%d", i), "v")
	}
	many.Sort()
	for _, tc := range []struct{ rule, alert labels.Labels }{
		{labels.EmptyLabels(), labels.FromStrings("alertname", "A", "job", "x")},
		{labels.FromStrings("severity", "page"), labels.FromStrings("alertname", "A", "severity", "page", "z", "1")},
		// A rule label whose template expanded to nothing: the rule's text is kept.
		{labels.FromStrings("severity", "{{ $labels.nope }}", "team", "a"), labels.FromStrings("alertname", "A", "team", "a")},
		{labels.FromStrings("alertstate", "x", "__name__", "y"), labels.FromStrings("alertname", "B", "alertstate", "old", "a", "b")},
		{labels.FromStrings("a", "1"), many.Labels()},
	} {
		r := &AlertingRule{name: "A", labels: tc.rule}
		for _, state := range []string{"", rules.StatePending.String(), rules.StateFiring.String()} {
			metric := "ALERTS"
			if state == "" {
				metric = "ALERTS_FOR_STATE"
			}
			want := builder(tc.rule, tc.alert, "A", metric, state)
			require.Equal(t, want.String(), r.outputSet(tc.alert, metric, state).String())
		}
	}
}
