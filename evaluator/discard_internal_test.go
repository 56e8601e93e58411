package evaluator

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gotk-rules/gotk-rules/series"
)

const discardRules = `groups:
- name: g
  rules:
  - alert: Failing
    expr: max by (name) (cond{status="False"}) == 1
    for: 3m
    labels: {severity: page}
    annotations: {summary: '{{ $labels.name }} at {{ $value }}'}
  - alert: Flapping
    expr: cond{status="False"} > 0
    keep_firing_for: 2m
`

// discardSession replays rulesYAML over a small fleet, DiscardOutputs as
// told, and returns the firing alerts (labels and annotations) after each
// evaluation, and whether the alerting rules discarded their outputs.
func discardSession(t *testing.T, rulesYAML string, discard bool) ([]string, bool) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "rules.yml")
	require.NoError(t, os.WriteFile(path, []byte(rulesYAML), 0o600))
	sess, err := NewEngine(Options{}).NewSession(SessionOptions{EvalInterval: time.Minute, DiscardOutputs: discard})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, sess.Close()) })
	require.Nil(t, sess.LoadRules([]string{path}, nil))
	start := time.Unix(0, 0).UTC()
	for name, values := range map[string]string{
		"a": "0x3 1x10 0x2 1x30",
		"b": "1 0 1 0 1x20 _x5 1x5",
		"c": "_x4 1x40",
	} {
		s, err := series.Parse(`cond{status="False",name="`+name+`"}`, values, start, time.Minute)
		require.NoError(t, err)
		sess.AddSeries(s)
	}
	end := start.Add(45 * time.Minute)
	require.NoError(t, sess.Plan(end))
	on, why := sess.FastPath()
	require.True(t, on, why)
	var got []string
	names := map[string]struct{}{"Failing": {}, "Flapping": {}}
	for ts := start; !ts.After(end); ts = ts.Add(time.Minute) {
		errs, err := sess.Eval(context.Background(), ts)
		require.NoError(t, err)
		require.Empty(t, errs)
		var step []string
		for name, alerts := range sess.FiringAlerts(names) {
			for _, a := range alerts {
				step = append(step, name+a.Labels.String()+a.Annotations.String()+a.ActiveAt.String())
			}
		}
		sort.Strings(step)
		got = append(got, ts.String())
		got = append(got, step...)
	}
	discarded := false
	for _, r := range sess.AlertingRules() {
		if ar, ok := r.(*AlertingRule); ok && ar.discard {
			discarded = true
		}
	}
	return got, discarded
}

func TestDiscardOutputsKeepsAlertStates(t *testing.T) {
	kept, discarded := discardSession(t, discardRules, false)
	require.False(t, discarded)
	dropped, discarded := discardSession(t, discardRules, true)
	require.True(t, discarded)
	require.Equal(t, kept, dropped)
	require.Greater(t, len(kept), 46, "some alerts fire")
}

func TestDiscardOutputsOnlyWhenNothingReadsThem(t *testing.T) {
	for name, extra := range map[string]string{
		"a rule reads ALERTS": `
  - record: alerts:count
    expr: count(ALERTS)`,
		"a selector without an exact name": `
  - record: any
    expr: count({__name__=~"cond|x"})`,
		"two alerting rules of one name": `
  - alert: Failing
    expr: cond > 5`,
		"a template may query": `
  - alert: Queried
    expr: cond > 5
    annotations: {q: '{{ query "ALERTS" }}'}`,
		"a recording rule writes ALERTS": `
  - record: ALERTS
    expr: cond`,
	} {
		t.Run(name, func(t *testing.T) {
			_, discarded := discardSession(t, discardRules+extra+"\n", true)
			require.False(t, discarded)
		})
	}
}
