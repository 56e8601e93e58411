package evaluator

import (
	"context"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/promql"
	"github.com/stretchr/testify/require"

	"github.com/gotk-rules/gotk-rules/internal/racemode"
	"github.com/gotk-rules/gotk-rules/series"
)

// viewQueries are instant queries of every kind an expression test may
// ask: input and rule outputs, selectors whose matcher order decides
// absent()'s labels, reads past the last evaluation (@, negative offset),
// ranges, subqueries, histograms and errors.
var viewQueries = []string{
	`a`, `b`, `h`, `a{job="x"}`, `rec:sum`, `rec:gt`, `rec:dup`, `rec:hist`,
	`ALERTS`, `ALERTS_FOR_STATE`, `ALERTS{alertstate="firing"}`,
	`{__name__=~".+"}`, `{__name__=~"rec:.*"}`, `count({__name__=~".+"})`,
	`absent(a{job="x", job!~"y"})`, `absent(a{job!~"y", job="x"})`, `absent(nope{job="x", job!~"y"})`,
	`rate(a[5m])`, `count_over_time(a[1h])`, `count_over_time({__name__=~".+"}[1h])`,
	`last_over_time(b[10m])`, `timestamp(a)`, `timestamp(ALERTS)`, `a offset 2m`, `a offset -3m`,
	`b @ 1800`, `a @ 100000`, `rec:sum @ end()`, `max_over_time(rec:sum[10m:1m])`,
	`histogram_count(h)`, `sum(h)`, `a + on (job) b`, `a / ignoring (inst) b`, `topk(2, a)`,
	`count_over_time(ALERTS[1h])`, `changes(ALERTS_FOR_STATE[30m])`, `present_over_time(rec:gt[1h])`,
	`sum by (job) (a) > bool 1`, `vector(time())`, `1 + 1`,
}

// viewCase is a random session: input, rules, evaluations.
type viewCase struct {
	rules string
	input []series.Series
	end   time.Duration
	limit int
}

func randomViewCase(r *rand.Rand) viewCase {
	c := viewCase{end: time.Duration(3+r.IntN(30)) * time.Minute}
	if r.IntN(4) == 0 {
		c.limit = 20 + r.IntN(60)
	}
	stale := math.Float64frombits(value.StaleNaN)
	values := []float64{0, 0.2, 0.6, 1, 2, stale, math.NaN()}
	steps := []int64{15_000, 30_000, 60_000, 120_000}
	histograms := r.IntN(4) == 0
	duplicates := r.IntN(8) == 0
	for _, name := range []string{"a", "b", "h"} {
		if name == "h" && !histograms {
			continue
		}
		for _, job := range []string{"x", "y"} {
			for _, inst := range []string{"1", "2"} {
				if r.IntN(4) == 0 {
					continue
				}
				ser := series.Series{Labels: labels.FromStrings("__name__", name, "job", job, "inst", inst)}
				t := int64(r.IntN(int(c.end/time.Minute)+10))*60_000 - 120_000
				step := steps[r.IntN(len(steps))]
				for range 1 + r.IntN(60) {
					smp := series.Sample{T: t, F: values[r.IntN(len(values))]}
					if name == "h" {
						smp.F = 0
						n := float64(r.IntN(10))
						smp.H = &histogram.FloatHistogram{
							Count: 2 * n, Sum: 3 * n, ZeroCount: n / 2, ZeroThreshold: 0.001,
							PositiveSpans:   []histogram.Span{{Offset: 0, Length: 2}},
							PositiveBuckets: []float64{n / 2, n},
						}
					}
					ser.Samples = append(ser.Samples, smp)
					if !duplicates || r.IntN(5) > 0 {
						t += step * int64(1+r.IntN(3))
					}
				}
				c.input = append(c.input, ser)
			}
		}
	}
	var rs strings.Builder
	rs.WriteString("groups:\n- name: g\n")
	if r.IntN(3) == 0 {
		rs.WriteString("  query_offset: 1m\n")
	}
	rs.WriteString(`  rules:
  - record: rec:sum
    expr: sum by (job) (a)
  - record: rec:gt
    expr: b > 0.5
  - alert: High
    expr: a > 0.3
    for: 2m
    labels: {sev: page}
`)
	if r.IntN(3) == 0 {
		// A rule reading a rule's output: its queries read the main storage.
		rs.WriteString("  - alert: FromRec\n    expr: rec:sum > 1\n")
	}
	if r.IntN(4) == 0 {
		// The same series, another value at the same time: refused.
		rs.WriteString("  - record: rec:dup\n    expr: vector(1)\n  - record: rec:dup\n    expr: vector(2)\n")
	}
	if histograms && r.IntN(2) == 0 {
		rs.WriteString("  - record: rec:hist\n    expr: sum by (job) (h)\n")
	}
	c.rules = rs.String()
	return c
}

// runsAnswered counts the queries the view answered on runs of steps.
var runsAnswered atomic.Int64

// viewMode is how a case's queries are answered.
type viewMode int

const (
	viewed   viewMode = iota // by the compact view, when it can
	onDB                     // by the main storage, written at once
	stepwise                 // by the main storage, written step by step (Exact)
)

// inputOnly are the queries of input series only, whose result order (ties
// in topk) is the order the storage created series in: compared unsorted.
var inputOnly = map[string]bool{
	`a`: true, `topk(1, a)`: true, `bottomk(1, b)`: true, `{__name__=~"a|b"}`: true,
	`topk(2, {__name__=~"a|b"})`: true, `sum by (job) (a)`: true,
}

// run replays the case and answers queries at random times. It returns
// the answers and whether the main storage was opened.
func (c viewCase) run(t *testing.T, r *rand.Rand, mode viewMode) ([]string, bool) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "rules.yml")
	require.NoError(t, os.WriteFile(path, []byte(c.rules), 0o600))
	sess, err := NewEngine(Options{MaxQuerySamples: c.limit}).NewSession(SessionOptions{EvalInterval: time.Minute, Exact: mode == stepwise})
	require.NoError(t, err)
	defer func() { require.NoError(t, sess.Close()) }()
	for _, ser := range c.input {
		sess.AddSeries(series.Series{Labels: ser.Labels, Samples: append([]series.Sample(nil), ser.Samples...)})
	}
	require.Nil(t, sess.LoadRules([]string{path}, nil))
	start := time.Unix(0, 0).UTC()
	require.NoError(t, sess.Plan(start.Add(c.end)))
	var out []string
	for ts := start; !ts.After(start.Add(c.end)); ts = ts.Add(time.Minute) {
		errs, err := sess.Eval(context.Background(), ts)
		require.NoError(t, err)
		for _, e := range errs {
			out = append(out, e.Error())
		}
	}
	if mode == onDB {
		_ = sess.Storage()
	}
	queries := append(slices.Clone(viewQueries), slices.Sorted(maps.Keys(inputOnly))...)
	answered := sess.RunsAnswered()
	for range 40 {
		q := queries[r.IntN(len(queries))]
		at := start.Add(time.Duration(r.IntN(int(c.end/(30*time.Second))+12)-2) * 30 * time.Second)
		v, err := sess.Query(context.Background(), q, at)
		runsAnswered.Add(int64(sess.RunsAnswered() - answered))
		answered = sess.RunsAnswered()
		if !inputOnly[q] {
			// Rule results are written in the order of a map.
			slices.SortFunc(v, func(a, b promql.Sample) int { return labels.Compare(a.Metric, b.Metric) })
		}
		out = append(out, fmt.Sprintf("%s at %s: %v (%v)", q, at.Format(time.TimeOnly), v, err))
	}
	return out, sess.db != nil
}

// TestCompactViewReadsAsMainStorage: queries answered without the main
// storage (compactview.go) return what the main storage returns, written
// at once or step by step, errors included, over random input (stale
// markers, NaN, gaps, series starting late or after the last evaluation,
// histograms, duplicate timestamps), rule outputs (stale markers, refused
// duplicates, histogram results, a query offset) and queries at random
// times.
func TestCompactViewReadsAsMainStorage(t *testing.T) {
	served := 0
	// Under -race, 20 cases (the view's goroutines are the same in each);
	// the plain run of test-unit-full (Makefile) checks all 100.
	cases := racemode.Cases(100, 20)
	for i := range cases {
		c := randomViewCase(rand.New(rand.NewPCG(uint64(i), 1)))
		got, opened := c.run(t, rand.New(rand.NewPCG(uint64(i), 2)), viewed)
		for _, mode := range []viewMode{onDB, stepwise} {
			if mode == stepwise && c.limit > 0 {
				// The fast path bounds a rule query's samples counting a
				// histogram as one (fastpath.go): under a small limit, its
				// rules may not fail where step by step they do.
				continue
			}
			want, _ := c.run(t, rand.New(rand.NewPCG(uint64(i), 2)), mode)
			require.Equal(t, want, got, "case %d, mode %d, rules:\n%s", i, mode, c.rules)
		}
		if !opened {
			served++
		}
	}
	// Many cases are served by the view (the others read the main storage
	// for a reason drawn): the comparison is not vacuous. Some of the
	// view's queries are answered on runs of steps (runeval), without the
	// engine.
	require.Greater(t, served, cases/4)
	require.Greater(t, runsAnswered.Load(), int64(cases))
}

// TestQueriesSeeSeriesInCreationOrder: ties in topk go to the series the
// storage created first, as evaluating step by step creates them (the
// input series whose first sample is due first), whether the compact view
// or the main storage answers.
func TestQueriesSeeSeriesInCreationOrder(t *testing.T) {
	for _, tc := range []struct {
		name   string
		onDB   bool
		values [2]string // of m{i="x"}, then m{i="y"}
		want   string
	}{
		{name: "y first, view", values: [2]string{"_x5 1x10", "1x15"}, want: "y"},
		{name: "y first, main storage", onDB: true, values: [2]string{"_x5 1x10", "1x15"}, want: "y"},
		{name: "same step: input order", values: [2]string{"1x15", "1x15"}, want: "x"},
		{name: "x first", values: [2]string{"1x15", "_x3 1x12"}, want: "x"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sess, err := NewEngine(Options{}).NewSession(SessionOptions{EvalInterval: time.Minute})
			require.NoError(t, err)
			defer func() { require.NoError(t, sess.Close()) }()
			start := time.Unix(0, 0).UTC()
			for i, inst := range []string{"x", "y"} {
				s, err := series.Parse(`m{i="`+inst+`"}`, tc.values[i], start, time.Minute)
				require.NoError(t, err)
				sess.AddSeries(s)
			}
			end := start.Add(10 * time.Minute)
			require.NoError(t, sess.Plan(end))
			for ts := start; !ts.After(end); ts = ts.Add(time.Minute) {
				_, err := sess.Eval(context.Background(), ts)
				require.NoError(t, err)
			}
			if tc.onDB {
				_ = sess.Storage()
			}
			v, err := sess.Query(context.Background(), `topk(1, m)`, end)
			require.NoError(t, err)
			require.Len(t, v, 1)
			require.Equal(t, tc.want, v[0].Metric.Get("i"))
			require.Equal(t, tc.onDB, sess.db != nil)
		})
	}
}
