package evaluator_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gotk-rules/gotk-rules/evaluator"
	"github.com/gotk-rules/gotk-rules/guard"
	"github.com/gotk-rules/gotk-rules/series"
)

// instantExprs are expressions of every kind a test file may hold: ones
// copyExpr copies, ones it does not (@, duration expressions), errors and
// expressions over a limit.
var instantExprs = []string{
	`up`,
	`up{job="a"} offset 1m`,
	`sum by (job) (rate(requests_total[5m]))`,
	`requests_total{job=~"a|b"} * on (job) group_left (zone) up`,
	`max_over_time(up[10m:1m])`,
	`up @ 300`,
	`up offset (1m + 1m)`,
	`count(up) - 1`,
	`absent(nothing)`,
	`1 + 2`,
	`"text"`,
	`-up`,
	`rec:sum`,
	`topk(1, up)`,
	`sum(`,
	`up{job=}`,
	`no_such_function(up)`,
	`up[5m]`,
	fmt.Sprintf(`up{job=%q}`, string(make([]byte, 20_000))),
}

func instantSession(t *testing.T, e *evaluator.Engine) *evaluator.Session {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "rules.yml")
	require.NoError(t, os.WriteFile(path, []byte(`groups:
  - name: g
    rules:
      - record: rec:sum
        expr: sum(requests_total)
`), 0o600))
	sess, err := e.NewSession(evaluator.SessionOptions{EvalInterval: time.Minute})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, sess.Close()) })
	require.Nil(t, sess.LoadRules([]string{path}, nil))
	// A slice, not a map: the order series are added in decides ties (as in
	// topk(1, up)), as the order of input_series does in promtool.
	for _, in := range [][2]string{
		{`up{job="a",zone="z1"}`, `1x20`},
		{`up{job="b",zone="z2"}`, `0 1x19`},
		{`requests_total{job="a",instance="i"}`, `0+10x20`},
		{`requests_total{job="b",instance="i"}`, `0+5x20`},
	} {
		metric, values := in[0], in[1]
		s, err := series.Parse(metric, values, epoch, time.Minute)
		require.NoError(t, err, metric)
		sess.AddSeries(s)
	}
	for ts := epoch; !ts.After(epoch.Add(10 * time.Minute)); ts = ts.Add(time.Minute) {
		_, err := sess.Eval(context.Background(), ts)
		require.NoError(t, err)
	}
	return sess
}

// TestInstantParseAsEngineParser: Parse gives what Engine.Parser gives,
// error messages included, and the same tree the next time.
func TestInstantParseAsEngineParser(t *testing.T) {
	e := evaluator.NewEngine(evaluator.Options{Limits: guard.Limits{MaxExprBytes: 10_000}})
	in := e.NewInstant()
	rp := in.RuleParser()
	for _, expr := range instantExprs {
		t.Run(expr[:min(len(expr), 40)], func(t *testing.T) {
			want, wantErr := e.Parser().ParseExpr(expr)
			for range 2 {
				got, err := in.Parse(expr)
				fromRules, rerr := rp.ParseExpr(expr)
				if wantErr != nil {
					require.EqualError(t, err, wantErr.Error())
					require.EqualError(t, rerr, wantErr.Error())
					continue
				}
				require.NoError(t, err)
				require.NoError(t, rerr)
				require.Equal(t, want.String(), got.String())
				require.Equal(t, want.String(), fromRules.String())
				if !strings.Contains(expr, "=~") { // compiled regexps differ inside
					require.Equal(t, want, got)
					require.Equal(t, want, fromRules)
				}
			}
		})
	}
}

// TestInstantQueryAsSessionQuery: Query answers as Session.Query, every
// time, and leaves the tree Parse hands out as parsed.
func TestInstantQueryAsSessionQuery(t *testing.T) {
	e := evaluator.NewEngine(evaluator.Options{})
	in := e.NewInstant()
	sess := instantSession(t, e)
	ctx := context.Background()
	for _, expr := range instantExprs {
		t.Run(expr[:min(len(expr), 40)], func(t *testing.T) {
			before, perr := in.Parse(expr)
			var printed string
			if perr == nil {
				printed = before.String()
			}
			for _, at := range []time.Duration{5 * time.Minute, 10 * time.Minute, 5 * time.Minute} {
				want, wantErr := sess.Query(ctx, expr, epoch.Add(at))
				got, err := in.Query(ctx, sess, expr, epoch.Add(at))
				if wantErr != nil {
					require.EqualError(t, err, wantErr.Error())
					continue
				}
				require.NoError(t, err)
				require.Equal(t, want.String(), got.String())
			}
			if perr == nil {
				after, err := in.Parse(expr)
				require.NoError(t, err)
				require.Same(t, before, after, "one tree per string")
				require.Equal(t, printed, after.String(), "queries must not change the kept tree")
			}
		})
	}
}

// TestInstantConcurrent: groups share one Instant (run with -race).
func TestInstantConcurrent(t *testing.T) {
	e := evaluator.NewEngine(evaluator.Options{})
	in := e.NewInstant()
	ctx := context.Background()
	sessions := []*evaluator.Session{instantSession(t, e), instantSession(t, e), instantSession(t, e)}
	want := make([]string, len(instantExprs))
	for i, expr := range instantExprs {
		v, err := sessions[0].Query(ctx, expr, epoch.Add(10*time.Minute))
		want[i] = fmt.Sprint(sortedValue(v), err)
	}
	var wg sync.WaitGroup
	results := make([][]string, len(sessions))
	for k, sess := range sessions {
		wg.Go(func() {
			for _, expr := range instantExprs {
				v, err := in.Query(ctx, sess, expr, epoch.Add(10*time.Minute))
				results[k] = append(results[k], fmt.Sprint(sortedValue(v), err))
			}
		})
	}
	wg.Wait()
	for _, r := range results {
		require.Equal(t, want, r)
	}
}
