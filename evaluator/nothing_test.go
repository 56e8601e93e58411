package evaluator_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/prometheus/promql"
	"github.com/stretchr/testify/require"

	"github.com/gotk-rules/gotk-rules/evaluator"
	"github.com/gotk-rules/gotk-rules/series"
)

// replaySession replays input through one alert on the fast path and
// returns the open session with its timeline and error.
func replaySession(t *testing.T, expr string, input map[string]string, end time.Duration) (*evaluator.Session, *evaluator.Timeline, error) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "rules.yml")
	rules := fmt.Sprintf("groups:\n- name: g\n  rules:\n  - alert: A\n    expr: '%s'\n    for: 2m\n", expr)
	require.NoError(t, os.WriteFile(path, []byte(rules), 0o600))
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
	return sess, tl, err
}

// TestNoQueryForRulesOfAbsentMetrics: a rule whose selectors match no input
// series is answered with nothing, without a range query, only when the
// query would surely return nothing and no error; either way the replay is
// the exact path's.
func TestNoQueryForRulesOfAbsentMetrics(t *testing.T) {
	input := map[string]string{
		`gauge{job="a"}`: "1 2 3 4 5 6 7 8 9 10 11 12",
		`up{job="a"}`:    "0x12",
	}
	for _, tc := range []struct {
		expr  string
		empty bool // answered without a query
	}{
		{`absent_metric > 1`, true},
		{`max by (job) (max_over_time(timestamp(absent_metric == 1)[15m:15s])) > 0`, true},
		{`label_replace(absent_metric, "dst", "$1", "src", "(.*)") > 0`, true},
		{`absent_metric and on (job) gauge`, true},
		{`gauge > 100 and on (job) absent_metric`, true},
		{`absent_metric unless on (job) gauge`, true},
		{`0 * max by (job) (absent_metric)`, true},
		{`gauge{job="b"} > 1`, true},
		{`rate(absent_metric[5m]) > 0`, true},
		// Something reads an input series, or could yield without one.
		{`absent_metric or gauge > 5`, false},
		{`gauge > 5 unless on (job) absent_metric`, false},
		{`absent(absent_metric)`, false},
		{`vector(1) and on () absent_metric`, false},
		{`absent_metric > scalar(gauge)`, false},
		{`topk(1, absent_metric)`, true},
		{`bottomk by (job) (-(2), absent_metric) > 0`, true},
		{`quantile(2, absent_metric)`, true},
		{`topk(1 + 1, absent_metric)`, true},
		{`count_values("v", absent_metric)`, true},
		{`sum(x) * on () group_left topk by (job) (1, max by (job) (absent_metric))`, true},
		{`topk(scalar(gauge), absent_metric)`, false},
		{`topk(NaN, absent_metric)`, false},
		{`topk(1e300, absent_metric)`, false},
		{`absent_over_time(absent_metric[5m])`, false},
		// Would fail before reading its input: never answered with nothing.
		{`label_replace(absent_metric, "dst", "$1", "src", "(")`, false},
		{`label_replace(absent_metric, "", "$1", "src", "(.*)")`, false},
		{`count_values("", absent_metric)`, false},
	} {
		t.Run(tc.expr, func(t *testing.T) {
			rules := fmt.Sprintf("groups:\n- name: g\n  rules:\n  - alert: A\n    expr: '%s'\n    for: 2m\n", tc.expr)
			exactTL, exactErr := replayErr(t, true, rules, input, 20*time.Minute)
			sess, fastTL, fastErr := replaySession(t, tc.expr, input, 20*time.Minute)
			require.Equal(t, fmt.Sprint(exactErr), fmt.Sprint(fastErr))
			if exactErr == nil {
				require.Equal(t, intervals(exactTL), intervals(fastTL))
			}
			want := 0
			if tc.empty {
				want = 1
			}
			require.Equal(t, want, sess.EmptyQueries())
		})
	}
}

// TestFastReplayLeavesStorageClosed: a replay served from range queries,
// with compact input, never opens the main storage; reading it opens it
// with the input and the rule results, as the exact path wrote them.
func TestFastReplayLeavesStorageClosed(t *testing.T) {
	input := map[string]string{`gauge{job="a"}`: "1 2 3 4 5 6 7 8 9 10 11 12"}
	sess, tl, err := replaySession(t, `gauge > 5`, input, 11*time.Minute)
	require.NoError(t, err)
	require.NotEmpty(t, tl.Alerts)
	require.False(t, sess.StorageOpened())

	const query = `count_over_time(ALERTS[1h]) or count_over_time(gauge[1h])`
	_, exactQ, err := replayAndQuery(t, true, "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: 'gauge > 5'\n    for: 2m\n", input, 11*time.Minute, []string{query})
	require.NoError(t, err)
	v, err := sess.QueryValue(context.Background(), query, epoch.Add(11*time.Minute))
	require.True(t, sess.StorageOpened())
	require.Equal(t, exactQ, []string{fmt.Sprintf("%s => %v (%v)", query, sortedValue(v), err)})
	require.IsType(t, promql.Vector{}, v)
}
