package evaluator_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gotk-rules/gotk-rules/evaluator"
	"github.com/gotk-rules/gotk-rules/series"
)

// TestNoQueryForRulesOfSilentOutputs: a rule reading a recorded metric (or
// ALERTS) that no rule can write, because the rules writing it read no
// input, is answered with nothing without a query; a rule reading an
// output that may hold series is not. Recording rules evaluated by the
// group loop record what Prometheus' would. Either way the replay and the
// recorded series are the exact path's.
func TestNoQueryForRulesOfSilentOutputs(t *testing.T) {
	input := map[string]string{
		`gauge{job="a"}`: "1 2 3 4 5 6 7 8 9 10 11 12",
	}
	for _, tc := range []struct {
		name  string
		rules []string // "record: name: expr" or "alert: name: expr"
		empty int      // rule expressions answered without a query
	}{
		{"recorded from nothing", []string{"record: r1: absent_metric", "alert: A: r1 > 0"}, 2},
		{"histogram_quantile of nothing", []string{`record: r1: histogram_quantile(0.9, sum by (le) (rate(absent_bucket[5m])))`, "alert: A: r1 > 0.5"}, 2},
		{"chain of silent outputs", []string{"record: r1: absent_metric", "record: r2: r1 * 2", "alert: A: r2 > 0"}, 3},
		{"ALERTS of silent alerts", []string{"alert: A: absent_metric > 0", `alert: B: ALERTS{alertname="A"}`}, 2},
		{"recorded from input", []string{"record: r1: gauge", "alert: A: r1 > 5"}, 0},
		{"recorded twice, once from input", []string{"record: r1: absent_metric", "record: r1: gauge * 2", "alert: A: r1 > 5"}, 1},
		{"ALERTS of an alert on input", []string{"alert: A: gauge > 5", `alert: B: ALERTS{alertname="A"}`}, 0},
		{"absent of a silent output", []string{"record: r1: absent_metric", "alert: A: absent(r1)"}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b strings.Builder
			b.WriteString("groups:\n- name: g\n  rules:\n")
			for _, r := range tc.rules {
				parts := strings.SplitN(r, ": ", 3)
				fmt.Fprintf(&b, "  - %s: %s\n    expr: '%s'\n", parts[0], parts[1], parts[2])
				if parts[0] == "alert" {
					b.WriteString("    for: 2m\n")
				}
			}
			queries := []string{"r1", "r2", `ALERTS`}
			exactTL, exactOut, exactErr := replayAndQuery(t, true, b.String(), input, 12*time.Minute, queries)
			require.NoError(t, exactErr)
			sess, fastTL := replayRules(t, b.String(), input, 12*time.Minute)
			require.Equal(t, intervals(exactTL), intervals(fastTL))
			require.Equal(t, tc.empty, sess.EmptyQueries())
			_, fastOut, err := replayAndQuery(t, false, b.String(), input, 12*time.Minute, queries)
			require.NoError(t, err)
			require.Equal(t, exactOut, fastOut)
		})
	}
}

// replayRules replays input through the rules on the fast path and returns
// the open session and its timeline.
func replayRules(t *testing.T, rulesYAML string, input map[string]string, end time.Duration) (*evaluator.Session, *evaluator.Timeline) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "rules.yml")
	require.NoError(t, os.WriteFile(path, []byte(rulesYAML), 0o600))
	sess, err := evaluator.NewEngine(evaluator.Options{}).NewSession(evaluator.SessionOptions{EvalInterval: time.Minute})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, sess.Close()) })
	require.Nil(t, sess.LoadRules([]string{path}, nil))
	for metric, values := range input {
		s, err := series.Parse(metric, values, epoch, time.Minute)
		require.NoError(t, err, metric)
		sess.AddSeries(s)
	}
	tl, err := sess.Replay(context.Background(), epoch, epoch.Add(end))
	require.NoError(t, err)
	return sess, tl
}
