package runeval_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/stretchr/testify/require"

	"github.com/gotk-rules/gotk-rules/evaluator/memstore"
	"github.com/gotk-rules/gotk-rules/evaluator/runeval"
	"github.com/gotk-rules/gotk-rules/internal/racemode"
)

var testParser = parser.NewParser(parser.Options{})

func engine(lookback time.Duration) *promql.Engine {
	return promql.NewEngine(promql.EngineOpts{
		MaxSamples:               1e8,
		Timeout:                  time.Minute,
		LookbackDelta:            lookback,
		NoStepSubqueryIntervalFn: func(int64) int64 { return time.Minute.Milliseconds() },
		EnableAtModifier:         true,
		EnableNegativeOffset:     true,
		Parser:                   testParser,
	})
}

// matrix is res as the points a range query over grid returns.
func matrix(res []runeval.Series, grid runeval.Grid) promql.Matrix {
	var out promql.Matrix
	for _, s := range res {
		ser := promql.Series{Metric: s.Metric}
		for _, sp := range s.Spans {
			for k := sp.From; k < sp.To; k++ {
				ser.Floats = append(ser.Floats, promql.FPoint{T: grid.Start + int64(k)*grid.Step, F: sp.V})
			}
		}
		out = append(out, ser)
	}
	return out
}

// orderDependent reports whether expr aggregates the result of an
// operation: the engine's own order of those series changes from run to
// run (rangeEval's output map), and with it the last bits of a sum and
// the sign of a zero a min or max keeps.
func orderDependent(t *testing.T, qs string) bool {
	expr, err := testParser.ParseExpr(qs)
	require.NoError(t, err)
	dependent := false
	parser.Inspect(expr, func(node parser.Node, _ []parser.Node) error {
		if agg, ok := node.(*parser.AggregateExpr); ok {
			inner := agg.Expr
			for {
				p, ok := inner.(*parser.ParenExpr)
				if !ok {
					break
				}
				inner = p.Expr
			}
			if _, ok := inner.(*parser.VectorSelector); !ok {
				dependent = true
			}
		}
		return nil
	})
	return dependent
}

// requireSameMatrix compares two matrices point by point, floats by their
// bits (any NaN equals any NaN: the engine does not keep payloads apart),
// or, when loose, as numbers within a relative 1e-12.
func requireSameMatrix(t *testing.T, want, got promql.Matrix, loose bool, msgAndArgs ...any) {
	t.Helper()
	require.Equal(t, len(want), len(got), msgAndArgs...)
	for i := range want {
		require.Equal(t, want[i].Metric.String(), got[i].Metric.String(), msgAndArgs...)
		require.Equal(t, len(want[i].Floats), len(got[i].Floats), append([]any{"series %s"}, want[i].Metric)...)
		for j, p := range want[i].Floats {
			q := got[i].Floats[j]
			require.Equal(t, p.T, q.T, msgAndArgs...)
			same := math.Float64bits(p.F) == math.Float64bits(q.F) || math.IsNaN(p.F) && math.IsNaN(q.F) ||
				loose && (p.F == q.F || math.Abs(p.F-q.F) <= 1e-12*max(math.Abs(p.F), math.Abs(q.F)))
			require.True(t, same, "series %s at %d: engine %v, runs %v; %v", want[i].Metric, p.T, p.F, q.F, msgAndArgs)
		}
	}
}

func evalBoth(t *testing.T, st *memstore.Store, qs string, grid runeval.Grid, lookback time.Duration) (promql.Matrix, error, promql.Matrix, error) {
	t.Helper()
	ctx := context.Background()
	q, err := engine(lookback).NewRangeQuery(ctx, st, nil, qs, time.UnixMilli(grid.Start), time.UnixMilli(grid.Start+int64(grid.Steps-1)*grid.Step), time.Duration(grid.Step)*time.Millisecond)
	require.NoError(t, err, qs)
	defer q.Close()
	res := q.Exec(ctx)
	var want promql.Matrix
	if res.Err == nil {
		want = res.Value.(promql.Matrix)
	}
	expr, err := testParser.ParseExpr(qs)
	require.NoError(t, err, qs)
	got, err := runeval.Eval(ctx, expr, st, grid, lookback)
	return want, res.Err, matrix(got, grid), err
}

func TestEvalCases(t *testing.T) {
	minute := time.Minute.Milliseconds()
	build := func(lset string, samples ...[2]float64) *memstore.Series {
		ls, err := testParser.ParseMetric(lset)
		require.NoError(t, err)
		b := memstore.NewBuilder(ls)
		for _, s := range samples {
			require.NoError(t, b.Append(int64(s[0])*minute, s[1]))
		}
		return b.Series()
	}
	stale := math.Float64frombits(value.StaleNaN)
	st, err := memstore.NewOrdered([]*memstore.Series{
		build(`cond{kind="A", name="x", status="False"}`, [2]float64{0, 0}, [2]float64{1, 1}, [2]float64{2, 1}, [2]float64{3, 1}, [2]float64{4, 0}),
		build(`cond{kind="A", name="x", status="Deleted"}`, [2]float64{0, 0}, [2]float64{1, 0}, [2]float64{2, 0}, [2]float64{3, 1}, [2]float64{4, 1}),
		build(`cond{kind="A", name="y", status="False"}`, [2]float64{0, 1}, [2]float64{1, 1}, [2]float64{2, stale}, [2]float64{12, 1}),
		build(`cond{kind="B", name="y", status="False"}`, [2]float64{0, math.NaN()}, [2]float64{20, 2}),
		build(`other{kind="A", name="x"}`, [2]float64{0, 3}, [2]float64{30, 4}),
	})
	require.NoError(t, err)
	grid := runeval.Grid{Start: 0, Step: minute, Steps: 40}
	for _, tc := range []struct {
		expr        string
		unsupported bool
	}{
		{expr: `cond`},
		{expr: `cond offset 3m`},
		{expr: `max(cond{status="False"}) by (name, kind) + on(name, kind) (max(cond{status="Deleted"}) by (name, kind)) * 2 == 1`},
		{expr: `sum by (name) (cond)`},
		{expr: `avg without (status) (cond)`},
		{expr: `count(cond) > bool 2`},
		{expr: `group by (kind) (cond)`},
		{expr: `min(cond)`},
		{expr: `-cond`},
		{expr: `2 < cond`},
		{expr: `cond{status="False"} and on(name) other`},
		{expr: `cond{status="False"} unless on(name, kind) other`},
		{expr: `cond{status="False"} or other`},
		{expr: `cond{status="False"} / ignoring(status) other`},
		// Two series of one match group at one step: the engine fails.
		{expr: `cond / ignoring(status) other`, unsupported: true},
		{expr: `cond / ignoring(status) group_left other`},
		{expr: `other * on(kind) group_right() cond{name="x"}`},
		{expr: `cond{status="False", name="x"} > on(kind) group_left(name) other`},
		{expr: `cond > on(kind) group_left(name) other`, unsupported: true},
		{expr: `other / ignoring(status) cond`, unsupported: true},
		// The engine fails where both series meet without a name.
		{expr: `cond * 1`, unsupported: false},
		{expr: `rate(cond[5m])`, unsupported: true},
		{expr: `abs(-cond{status="False"})`},
		{expr: `round(other, 3)`},
		{expr: `clamp_max(cond, 0.5)`},
		{expr: `clamp(other, 5, 4)`},
		{expr: `topk(1, cond)`, unsupported: true},
		{expr: `cond @ 100`, unsupported: true},
		{expr: `time()`, unsupported: true},
	} {
		t.Run(tc.expr, func(t *testing.T) {
			want, wantErr, got, err := evalBoth(t, st, tc.expr, grid, 5*time.Minute)
			if tc.unsupported {
				require.ErrorIs(t, err, runeval.ErrUnsupported)
				return
			}
			require.NoError(t, err)
			require.NoError(t, wantErr)
			requireSameMatrix(t, want, got, false, tc.expr)
		})
	}
}

// TestEvalMatchesEngine compares Eval with the engine's range queries on
// random stores and random expressions of the subset: wherever Eval
// answers, the engine must answer the same, point by point.
func TestEvalMatchesEngine(t *testing.T) {
	cases := racemode.Cases(3000, 200)
	rng := rand.New(rand.NewPCG(17, uint64(cases)))
	answered := 0
	for i := 0; i < cases; i++ {
		st := randomStore(t, rng)
		grid := runeval.Grid{Start: rng.Int64N(40) * 15_000, Step: []int64{15_000, 60_000, 420_000}[rng.IntN(3)], Steps: 1 + rng.IntN(120)}
		lookback := []time.Duration{5 * time.Minute, time.Minute, 90 * time.Second}[rng.IntN(3)]
		qs := randomVector(rng, 3)
		want, wantErr, got, err := evalBoth(t, st, qs, grid, lookback)
		if err != nil {
			require.ErrorIs(t, err, runeval.ErrUnsupported, qs)
			continue
		}
		require.NoError(t, wantErr, "runeval answered %s, the engine failed", qs)
		requireSameMatrix(t, want, got, orderDependent(t, qs), qs)
		answered++
	}
	t.Logf("answered %d of %d", answered, cases)
	// The subset must be what is mostly asked: most cases are answered.
	require.Greater(t, answered, cases/2, "answered %d of %d", answered, cases)
}

var randomValues = []float64{0, 1, 1, 2, 0.1, 0.2, -3, math.Inf(1), math.NaN(), 1e308, math.Copysign(0, -1), math.Float64frombits(value.StaleNaN)}

func randomStore(t *testing.T, rng *rand.Rand) *memstore.Store {
	var all []*memstore.Series
	seen := map[string]bool{}
	for range 1 + rng.IntN(8) {
		lset := labels.FromStrings("__name__", []string{"a", "b"}[rng.IntN(2)],
			"ns", []string{"x", "y"}[rng.IntN(2)],
			"name", []string{"1", "2", "3"}[rng.IntN(3)],
			"status", []string{"True", "False"}[rng.IntN(2)])
		if seen[lset.String()] {
			continue
		}
		seen[lset.String()] = true
		b := memstore.NewBuilder(lset)
		t0 := rng.Int64N(20) * 15_000
		for range 1 + rng.IntN(6) {
			dt := []int64{15_000, 60_000, 60_000, 600_000}[rng.IntN(4)]
			n := 1 + rng.IntN(30)
			if rng.IntN(3) == 0 {
				// A run of values of their own.
				for range n {
					require.NoError(t, b.Append(t0, randomValues[rng.IntN(len(randomValues))]))
					t0 += dt
				}
			} else {
				require.NoError(t, b.AppendRun(t0, dt, n, randomValues[rng.IntN(len(randomValues))]))
				t0 += int64(n) * dt
			}
			t0 += rng.Int64N(20) * 15_000 // a gap
		}
		all = append(all, b.Series())
	}
	rng.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
	st, err := memstore.NewOrdered(all)
	require.NoError(t, err)
	return st
}

func randomVector(rng *rand.Rand, depth int) string {
	if depth == 0 || rng.IntN(4) == 0 {
		sel := []string{"a", "b", `a{status="False"}`, `b{ns="x"}`, `{__name__=~"a|b"}`, `a{name!="1"}`}[rng.IntN(6)]
		if rng.IntN(4) == 0 {
			sel += []string{" offset 1m", " offset 5m", " offset 30s"}[rng.IntN(3)]
		}
		return sel
	}
	sub := func() string { return randomVector(rng, depth-1) }
	switch rng.IntN(8) {
	case 0, 1:
		op := []string{"sum", "avg", "min", "max", "count", "group"}[rng.IntN(6)]
		grouping := []string{"", " by (ns)", " by (ns, name)", " without (status)", " without (name, __name__)", " by ()"}[rng.IntN(6)]
		return fmt.Sprintf("%s%s (%s)", op, grouping, sub())
	case 2:
		op := randomOp(rng)
		s := []string{"1", "2", "0", "-1", "0.5", "(1 + 1)", "NaN"}[rng.IntN(7)]
		if rng.IntN(2) == 0 {
			return fmt.Sprintf("(%s) %s %s", sub(), op, s)
		}
		return fmt.Sprintf("%s %s (%s)", s, op, sub())
	case 3, 4:
		matching := []string{"", " on(ns, name)", " ignoring(status)", " on(ns)", " ignoring(name, status)",
			" on(ns) group_left()", " on(ns, name) group_left(status)", " ignoring(status) group_right()", " on(ns) group_right(name, status)",
			" ignoring(name, status) group_left(__name__)"}[rng.IntN(10)]
		return fmt.Sprintf("(%s) %s%s (%s)", sub(), randomOp(rng), matching, sub())
	case 5:
		op := []string{"and", "or", "unless"}[rng.IntN(3)]
		matching := []string{"", " on(ns, name)", " ignoring(status)", " on(ns)"}[rng.IntN(4)]
		return fmt.Sprintf("(%s) %s%s (%s)", sub(), op, matching, sub())
	case 6:
		return "-(" + sub() + ")"
	default:
		f := []string{"abs(%s)", "ceil(%s)", "floor(%s)", "sqrt(%s)", "exp(%s)", "ln(%s)", "log2(%s)", "log10(%s)", "sgn(%s)",
			"round(%s)", "round(%s, 0.3)", "clamp(%s, 0, 1)", "clamp(%s, 2, 1)", "clamp_min(%s, 0.5)", "clamp_max(%s, -1)"}[rng.IntN(15)]
		return fmt.Sprintf(f, sub())
	}
}

func randomOp(rng *rand.Rand) string {
	op := []string{"+", "-", "*", "/", "%", "^", "atan2", "==", "!=", ">", "<", ">=", "<="}[rng.IntN(13)]
	if strings.ContainsAny(op, "=<>") && rng.IntN(2) == 0 {
		op += " bool"
	}
	return op
}
