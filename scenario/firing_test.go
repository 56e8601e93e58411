package scenario

import (
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/stretchr/testify/require"

	"github.com/gotk-rules/gotk-rules/unittest/testfile"
)

func TestFiringLog(t *testing.T) {
	fire := func(alert, name string, ann ...string) Firing {
		return Firing{Labels: labels.FromStrings(labels.AlertName, alert, "name", name), Annotations: labels.FromStrings(ann...)}
	}
	log := FiringLog{
		5 * time.Minute: {fire("B", "z"), fire("A", "y", "summary", "y down"), fire("B", "a")},
		0:               nil,
		time.Minute:     {fire("A", "x")},
	}
	require.Equal(t, []time.Duration{0, time.Minute, 5 * time.Minute}, log.Times())

	tests := []struct {
		name  string
		at    time.Duration
		alert string
		want  []string // the name label of each alert, in order
	}{
		{name: "none at the time", at: 0, alert: "A"},
		{name: "no such time", at: time.Hour, alert: "A"},
		{name: "only the alert's", at: 5 * time.Minute, alert: "A", want: []string{"y"}},
		{name: "sorted by labels", at: 5 * time.Minute, alert: "B", want: []string{"a", "z"}},
		{name: "other alert absent", at: time.Minute, alert: "B"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, f := range log.Named(tt.at, tt.alert) {
				got = append(got, f.Labels.Get("name"))
			}
			require.Equal(t, tt.want, got)
		})
	}
	// Named sorts a copy: the log keeps its order.
	require.Equal(t, "z", log[5*time.Minute][0].Labels.Get("name"))

	require.Nil(t, log.AlertTests(nil), "no alert names, no tests")
	want := []testfile.AlertTestCase{
		{EvalTime: 0, Alertname: "A", ExpAlerts: []testfile.ExpAlert{}},
		{EvalTime: 0, Alertname: "B", ExpAlerts: []testfile.ExpAlert{}},
		{EvalTime: model.Duration(time.Minute), Alertname: "A", ExpAlerts: []testfile.ExpAlert{{ExpLabels: map[string]string{"name": "x"}}}},
		{EvalTime: model.Duration(time.Minute), Alertname: "B", ExpAlerts: []testfile.ExpAlert{}},
		{EvalTime: model.Duration(5 * time.Minute), Alertname: "A", ExpAlerts: []testfile.ExpAlert{
			{ExpLabels: map[string]string{"name": "y"}, ExpAnnotations: map[string]string{"summary": "y down"}},
		}},
		{EvalTime: model.Duration(5 * time.Minute), Alertname: "B", ExpAlerts: []testfile.ExpAlert{
			{ExpLabels: map[string]string{"name": "a"}},
			{ExpLabels: map[string]string{"name": "z"}},
		}},
	}
	require.Equal(t, want, log.AlertTests([]string{"A", "B"}))
}

func TestInputSeries(t *testing.T) {
	require.Equal(t,
		[]testfile.InputSeries{{Series: "up", Values: "1x3"}, {Series: `m{a="b"}`, Values: "_ stale"}},
		InputSeries([]Series{{Metric: "up", Values: "1x3"}, {Metric: `m{a="b"}`, Values: "_ stale"}}))
	require.Empty(t, InputSeries(nil))
}
