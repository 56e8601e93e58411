package evaluator_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/gotk-rules/gotk-rules/evaluator"
	"github.com/gotk-rules/gotk-rules/series"
)

// TestReplayStopsWhenContextEnds replays a month every minute (tens of
// thousands of evaluations of a rule over a range), on the fast path and
// step by step, and ends the context after a few milliseconds: the replay
// returns within a fraction of a second with the context's error, and no
// goroutine of it (chunks computed ahead included) is left running.
func TestReplayStopsWhenContextEnds(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "rules.yml")
	require.NoError(t, os.WriteFile(path, []byte(`groups:
- name: g
  rules:
  - record: r
    expr: sum by (i) (rate(m[1h]))
  - alert: A
    expr: avg_over_time(r[30m]) > 0
    for: 5m
`), 0o600))
	for _, tc := range []struct {
		name   string
		exact  bool
		cancel bool // cancel instead of a deadline
	}{
		{"fast path, deadline", false, false},
		{"fast path, cancel", false, true},
		{"exact, deadline", true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
			sess, err := evaluator.NewEngine(evaluator.Options{MaxQuerySamples: 1_000_000}).NewSession(evaluator.SessionOptions{EvalInterval: time.Minute, Exact: tc.exact})
			require.NoError(t, err)
			require.Nil(t, sess.LoadRules([]string{path}, nil))
			for _, name := range []string{`m{i="1"}`, `m{i="2"}`, `m{i="3"}`} {
				s, err := series.Parse(name, "0+1x50000", epoch, time.Minute)
				require.NoError(t, err)
				sess.AddSeries(s)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
			want := context.DeadlineExceeded
			if tc.cancel {
				ctx, cancel = context.WithCancel(context.Background())
				time.AfterFunc(30*time.Millisecond, cancel)
				want = context.Canceled
			}
			defer cancel()
			start := time.Now()
			_, err = sess.Replay(ctx, epoch, epoch.Add(30*24*time.Hour))
			took := time.Since(start)
			require.Error(t, err)
			require.True(t, errors.Is(err, want), "error %v is not %v", err, want)
			require.Contains(t, err.Error(), "stopped")
			require.Less(t, took, time.Second, "the replay went on %s after its context ended", took)
			require.NoError(t, sess.Close())
		})
	}
}

// TestEvalAndQueryWithEndedContext: a session asked to evaluate or query
// with an ended context refuses at once, with the context's error.
func TestEvalAndQueryWithEndedContext(t *testing.T) {
	sess, err := evaluator.NewEngine(evaluator.Options{}).NewSession(evaluator.SessionOptions{})
	require.NoError(t, err)
	defer func() { require.NoError(t, sess.Close()) }()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = sess.Eval(ctx, epoch)
	require.ErrorIs(t, err, context.Canceled)
	_, err = sess.Query(ctx, "vector(1)", epoch)
	require.ErrorIs(t, err, context.Canceled)
	v, err := sess.Query(context.Background(), "vector(1)", epoch)
	require.NoError(t, err)
	require.Len(t, v, 1)
}
