package memstore_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
	"github.com/stretchr/testify/require"

	"github.com/gotk-rules/gotk-rules/evaluator/memstore"
	"github.com/gotk-rules/gotk-rules/internal/racemode"
	"github.com/gotk-rules/gotk-rules/internal/tsdbopts"
)

var staleNaN = math.Float64frombits(value.StaleNaN)

type sample struct {
	t int64
	v float64
}

// String shows a sample with its value's bits, so NaN payloads differ.
func (s sample) String() string {
	return fmt.Sprintf("%d:%v(%#x)", s.t, s.v, math.Float64bits(s.v))
}

type testSeries struct {
	lset    labels.Labels
	samples []sample
}

// base is the earliest time series start at.
const base = int64(1_700_000_000_000)

// genSeries makes random series with distinct label sets: a few metric
// names (and some without a name), random starts, regular, changing and
// irregular intervals with gaps, and values that stay constant, alternate,
// flip, count, or are random, NaN or stale markers.
func genSeries(rng *rand.Rand, n int) []testSeries {
	names := []string{"x", "y", "up", "counter", ""}
	seen := map[string]bool{}
	var out []testSeries
	for len(out) < n {
		b := labels.NewScratchBuilder(4)
		if name := names[rng.IntN(len(names))]; name != "" {
			b.Add(labels.MetricName, name)
		}
		b.Add("job", []string{"a", "b", "c"}[rng.IntN(3)])
		if rng.IntN(4) > 0 {
			b.Add("instance", fmt.Sprintf("i%d", rng.IntN(4)))
		}
		if rng.IntN(5) == 0 {
			// Upper case sorts before __name__.
			b.Add("Zone", []string{"eu", "us"}[rng.IntN(2)])
		}
		b.Sort()
		lset := b.Labels()
		if seen[lset.String()] {
			continue
		}
		seen[lset.String()] = true
		out = append(out, testSeries{lset: lset, samples: genSamples(rng)})
	}
	return out
}

func genSamples(rng *rand.Rand) []sample {
	var total int
	switch rng.IntN(6) {
	case 0:
		total = 1 + rng.IntN(3)
	case 1:
		total = 1 + rng.IntN(50)
	default:
		total = 1 + rng.IntN(1500)
	}
	intervals := []int64{1000, 15000, 30000, 60000, 60000, 60000, 60000}
	t := base + rng.Int64N(3*3600*1000)
	var (
		dt        int64
		tLeft     int // samples left at this interval
		kind      int
		vLeft     int // samples left of this kind of values
		v, a, bv  float64
		counterV  float64
		jitterPct = rng.IntN(3) * 5
	)
	samples := make([]sample, 0, total)
	for i := 0; i < total; i++ {
		if tLeft == 0 {
			tLeft = 1 + rng.IntN(300)
			if rng.IntN(5) == 0 {
				dt = 1 + rng.Int64N(120000)
			} else {
				dt = intervals[rng.IntN(len(intervals))]
			}
			if i > 0 && rng.IntN(3) == 0 {
				t += rng.Int64N(30 * 60 * 1000) // a gap
			}
		}
		tLeft--
		if i > 0 {
			step := dt
			if jitterPct > 0 && rng.IntN(100) < jitterPct {
				step += rng.Int64N(2*dt+1) - dt
				step = max(step, 1)
			}
			t += step
		}
		if vLeft == 0 {
			vLeft = 1 + rng.IntN(200)
			kind = rng.IntN(7)
			small := []float64{0, 1, 2}
			a, bv = small[rng.IntN(3)], small[rng.IntN(3)]
			v = a
		}
		vLeft--
		switch kind {
		case 0: // constant
			v = a
		case 1: // alternating
			if i%2 == 0 {
				v = a
			} else {
				v = bv
			}
		case 2: // rare flips of a 0/1 state
			if rng.IntN(20) == 0 {
				v = 1 - v
			}
			if v != 0 && v != 1 {
				v = 0
			}
		case 3: // counter with flat stretches and resets
			switch r := rng.IntN(50); {
			case r == 0:
				counterV = 0
			case r < 20:
			default:
				counterV += float64(rng.IntN(10))
			}
			v = counterV
		case 4: // random floats
			v = rng.NormFloat64() * 100
		case 5: // a few special values
			v = []float64{math.NaN(), staleNaN, 0, 1, math.Inf(1), math.Inf(-1), math.Copysign(0, -1)}[rng.IntN(7)]
		case 6: // mostly constant, with stale markers as after a target vanishes
			v = a
			if rng.IntN(10) == 0 {
				v = staleNaN
			}
		}
		samples = append(samples, sample{t: t, v: v})
	}
	return samples
}

func buildStore(t testing.TB, ss []testSeries) *memstore.Store {
	t.Helper()
	built := make([]*memstore.Series, 0, len(ss))
	for _, s := range ss {
		b := memstore.NewBuilder(s.lset)
		for _, smp := range s.samples {
			if err := b.Append(smp.t, smp.v); err != nil {
				require.NoError(t, err)
			}
		}
		built = append(built, b.Series())
	}
	st, err := memstore.New(built)
	require.NoError(t, err)
	return st
}

var nopLogger = slog.New(slog.NewTextHandler(io.Discard, nil))

// openTSDB opens an empty TSDB as the evaluator's openStorage does.
func openTSDB(t testing.TB) *tsdb.DB {
	t.Helper()
	db, err := tsdb.Open(t.TempDir(), nopLogger, nil, tsdbopts.Session(), nil)
	require.NoError(t, err)
	db.DisableCompactions()
	t.Cleanup(func() { require.NoError(t, db.Close()) })
	return db
}

func buildTSDB(t testing.TB, ss []testSeries) *tsdb.DB {
	t.Helper()
	db := openTSDB(t)
	// A TSDB asked for unsorted series (as the engine asks) gives them in
	// the order they were made, a store in label order. Where PromQL
	// depends on that order (ties in topk, the order of an instant
	// vector) the results differ unless the series are made in label
	// order.
	ss = slices.Clone(ss)
	slices.SortFunc(ss, func(a, b testSeries) int { return labels.Compare(a.lset, b.lset) })
	for _, s := range ss {
		app := db.Appender(context.Background())
		var ref storage.SeriesRef
		for _, smp := range s.samples {
			var err error
			ref, err = app.Append(ref, s.lset, smp.t, smp.v)
			if err != nil {
				require.NoError(t, err)
			}
		}
		require.NoError(t, app.Commit())
	}
	return db
}

// timeRange is the earliest and latest sample time.
func timeRange(ss []testSeries) (int64, int64) {
	lo, hi := int64(math.MaxInt64), int64(math.MinInt64)
	for _, s := range ss {
		lo = min(lo, s.samples[0].t)
		hi = max(hi, s.samples[len(s.samples)-1].t)
	}
	return lo, hi
}

// randomTime picks a time near [lo, hi], often exactly a sample's time.
func randomTime(rng *rand.Rand, ss []testSeries, lo, hi int64) int64 {
	switch rng.IntN(4) {
	case 0:
		s := ss[rng.IntN(len(ss))].samples
		return s[rng.IntN(len(s))].t + rng.Int64N(3) - 1
	default:
		const slack = 20 * 60 * 1000
		return lo - slack + rng.Int64N(hi-lo+2*slack)
	}
}

func randomMatchers(rng *rand.Rand) []*labels.Matcher {
	sets := [][]*labels.Matcher{
		{labels.MustNewMatcher(labels.MatchEqual, labels.MetricName, "x")},
		{labels.MustNewMatcher(labels.MatchEqual, labels.MetricName, "y")},
		{labels.MustNewMatcher(labels.MatchEqual, labels.MetricName, "counter"), labels.MustNewMatcher(labels.MatchEqual, "job", "a")},
		{labels.MustNewMatcher(labels.MatchEqual, labels.MetricName, "up"), labels.MustNewMatcher(labels.MatchNotEqual, "instance", "i1")},
		{labels.MustNewMatcher(labels.MatchEqual, labels.MetricName, "nope")},
		{labels.MustNewMatcher(labels.MatchEqual, labels.MetricName, "")},
		{labels.MustNewMatcher(labels.MatchRegexp, labels.MetricName, "x|y")},
		{labels.MustNewMatcher(labels.MatchRegexp, labels.MetricName, ".+")},
		{labels.MustNewMatcher(labels.MatchRegexp, labels.MetricName, ".*")},
		{labels.MustNewMatcher(labels.MatchRegexp, labels.MetricName, "u.*"), labels.MustNewMatcher(labels.MatchNotRegexp, "job", "b|c")},
		{labels.MustNewMatcher(labels.MatchNotEqual, labels.MetricName, "x")},
		{labels.MustNewMatcher(labels.MatchNotEqual, labels.MetricName, "x"), labels.MustNewMatcher(labels.MatchEqual, "job", "b")},
		{labels.MustNewMatcher(labels.MatchEqual, "job", "a")},
		{labels.MustNewMatcher(labels.MatchRegexp, "instance", "i[12]")},
		{labels.MustNewMatcher(labels.MatchEqual, "instance", "")},
		{labels.MustNewMatcher(labels.MatchNotEqual, "Zone", ""), labels.MustNewMatcher(labels.MatchNotEqual, "job", "c")},
		{labels.MustNewMatcher(labels.MatchEqual, "Zone", "eu"), labels.MustNewMatcher(labels.MatchRegexp, labels.MetricName, ".*")},
		{labels.MustNewMatcher(labels.MatchEqual, "job", "a"), labels.MustNewMatcher(labels.MatchEqual, labels.MetricName, "y"), labels.MustNewMatcher(labels.MatchEqual, labels.MetricName, "x")},
	}
	return sets[rng.IntN(len(sets))]
}

type selected struct {
	lset    labels.Labels
	series  storage.Series
	samples []sample
}

// selectAll reads every series Select returns with all its samples.
func selectAll(t *testing.T, q storage.Querier, ms []*labels.Matcher) []selected {
	t.Helper()
	set := q.Select(context.Background(), true, nil, ms...)
	var out []selected
	var it chunkenc.Iterator
	for set.Next() {
		s := set.At()
		it = s.Iterator(it)
		var smps []sample
		for {
			vt := it.Next()
			if vt == chunkenc.ValNone {
				break
			}
			ts, v := it.At()
			// require only on a difference: its t.Helper walks the stack,
			// which per sample was most of the differential tests' time.
			if vt != chunkenc.ValFloat || ts != it.AtT() {
				require.Equal(t, chunkenc.ValFloat, vt)
				require.Equal(t, ts, it.AtT())
			}
			smps = append(smps, sample{ts, v})
		}
		require.NoError(t, it.Err())
		out = append(out, selected{lset: s.Labels(), series: s, samples: smps})
	}
	require.NoError(t, set.Err())
	return out
}

// sameSamples reports whether two sample lists read the same to the bit:
// whether their samplesString are equal.
func sameSamples(a, b []sample) bool {
	return slices.EqualFunc(a, b, sameSample)
}

// sameSample reports whether two samples' String are equal.
func sameSample(a, b sample) bool {
	return a.t == b.t && math.Float64bits(a.v) == math.Float64bits(b.v)
}

func samplesString(ss []sample) string {
	var b strings.Builder
	for _, s := range ss {
		b.WriteString(s.String())
		b.WriteByte(' ')
	}
	return b.String()
}

// TestDifferentialTSDB checks that a store reads as a TSDB head holding the
// same samples: the same series for each selection, the same samples, and
// the same answers to any sequence of Seek and Next. Under -race, a few
// queries a seed (the test reads the store on one goroutine; the
// evaluator's tests read it from several); the plain run of test-unit
// compares all of them.
func TestDifferentialTSDB(t *testing.T) {
	queries := racemode.Cases(300, 30)
	for seed := uint64(1); seed <= 4; seed++ {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 42))
			ss := genSeries(rng, 40)
			st := buildStore(t, ss)
			db := buildTSDB(t, ss)
			lo, hi := timeRange(ss)
			emptyInTSDB := 0
			for range queries {
				var mint, maxt int64
				switch rng.IntN(10) {
				case 0:
					mint, maxt = math.MinInt64, math.MaxInt64
				case 1:
					mint = randomTime(rng, ss, lo, hi)
					maxt = mint
				case 2:
					mint = randomTime(rng, ss, lo, hi)
					maxt = mint - 1 - rng.Int64N(1000)
				default:
					mint = randomTime(rng, ss, lo, hi)
					maxt = mint + rng.Int64N(hi-lo+1)
				}
				ms := randomMatchers(rng)
				what := fmt.Sprintf("[%d, %d] %v", mint, maxt, ms)

				mq, err := st.Querier(mint, maxt)
				require.NoError(t, err)
				tq, err := db.Querier(mint, maxt)
				require.NoError(t, err)
				got := selectAll(t, mq, ms)
				want := selectAll(t, tq, ms)

				// A TSDB returns a series whose chunks overlap the range
				// even if none of its samples is in it; a store leaves it
				// out. Either reads the same to PromQL.
				var wantNonEmpty []selected
				for _, w := range want {
					if len(w.samples) == 0 {
						emptyInTSDB++
						continue
					}
					wantNonEmpty = append(wantNonEmpty, w)
				}
				gotLabels := make([]string, len(got))
				for i, g := range got {
					gotLabels[i] = g.lset.String()
					require.NotEmpty(t, g.samples, "%s: series %s has no samples", what, g.lset)
				}
				wantLabels := make([]string, len(wantNonEmpty))
				for i, w := range wantNonEmpty {
					wantLabels[i] = w.lset.String()
				}
				require.Equal(t, wantLabels, gotLabels, what)
				for i := range got {
					if !sameSamples(wantNonEmpty[i].samples, got[i].samples) {
						require.Equal(t, samplesString(wantNonEmpty[i].samples), samplesString(got[i].samples), "%s: %s", what, got[i].lset)
					}
					for range 3 {
						compareSeekNext(t, rng, wantNonEmpty[i], got[i], maxt, what)
					}
				}
				require.NoError(t, mq.Close())
				require.NoError(t, tq.Close())
			}
			t.Logf("%d series selected by the TSDB had no samples in range", emptyInTSDB)
		})
	}
}

// seekOp is a call compareSeekNext made: Next, or Seek(target).
type seekOp struct {
	next   bool
	target int64
}

// seekOps are the calls so far; they are worded only when a comparison
// fails.
type seekOps []seekOp

// String words the calls as [Next Seek(1000) ...].
func (ops seekOps) String() string {
	words := make([]string, len(ops))
	for i, op := range ops {
		if op.next {
			words[i] = "Next"
		} else {
			words[i] = fmt.Sprintf("Seek(%d)", op.target)
		}
	}
	return fmt.Sprint(words)
}

// compareSeekNext runs the same random sequence of Seek and Next on both
// series' iterators, until they are exhausted.
func compareSeekNext(t *testing.T, rng *rand.Rand, want, got selected, maxt int64, what string) {
	t.Helper()
	wit := want.series.Iterator(nil)
	git := got.series.Iterator(nil)
	smps := want.samples
	lo, hi := smps[0].t, smps[len(smps)-1].t
	var ops seekOps
	cur := lo
	for step := 0; step < 200; step++ {
		var wvt, gvt chunkenc.ValueType
		if rng.IntN(3) == 0 {
			ops = append(ops, seekOp{next: true})
			wvt, gvt = wit.Next(), git.Next()
		} else {
			var target int64
			switch rng.IntN(7) {
			case 0: // at or before the current sample: no effect once started
				target = cur - rng.Int64N(120000)
			case 1: // exactly a sample
				target = smps[rng.IntN(len(smps))].t
			case 2:
				target = cur + 1
			case 3:
				target = cur + 60000
			case 4: // before the range
				target = lo - rng.Int64N(600000)
			case 5: // past the end, rarely
				if rng.IntN(5) == 0 {
					target = max(hi, min(maxt, math.MaxInt64-1000000)) + 1 + rng.Int64N(600000)
				} else {
					target = cur + rng.Int64N(600000)
				}
			default:
				target = lo - 60000 + rng.Int64N(hi-lo+120000)
			}
			ops = append(ops, seekOp{target: target})
			wvt, gvt = wit.Seek(target), git.Seek(target)
		}
		// require only on a difference (see selectAll).
		if wvt != gvt {
			require.Equal(t, wvt, gvt, "%s: %s: after %v", what, got.lset, ops)
		}
		if wvt == chunkenc.ValNone {
			return
		}
		wt, wv := wit.At()
		gt, gv := git.At()
		if !sameSample(sample{wt, wv}, sample{gt, gv}) || wt != git.AtT() {
			require.Equal(t, sample{wt, wv}.String(), sample{gt, gv}.String(), "%s: %s: after %v", what, got.lset, ops)
			require.Equal(t, wt, git.AtT())
		}
		cur = gt
	}
}

func newEngine() *promql.Engine {
	return promql.NewEngine(promql.EngineOpts{
		Logger:                   nopLogger,
		MaxSamples:               1e7,
		Timeout:                  time.Minute,
		LookbackDelta:            5 * time.Minute,
		NoStepSubqueryIntervalFn: func(int64) int64 { return time.Minute.Milliseconds() },
		EnableAtModifier:         true,
		EnableNegativeOffset:     true,
	})
}

// resultString renders a query result with every float's bits.
func resultString(t *testing.T, res *promql.Result) string {
	t.Helper()
	if res.Err != nil {
		return "error: " + res.Err.Error()
	}
	var b strings.Builder
	warnings, infos := res.Warnings.AsStrings("", 0, 0)
	for _, w := range warnings {
		fmt.Fprintf(&b, "warning: %s\n", w)
	}
	for _, w := range infos {
		fmt.Fprintf(&b, "info: %s\n", w)
	}
	point := func(ts int64, f float64) string { return sample{ts, f}.String() }
	switch v := res.Value.(type) {
	case promql.Matrix:
		for _, s := range v {
			require.Empty(t, s.Histograms)
			fmt.Fprintf(&b, "%s:", s.Metric)
			for _, p := range s.Floats {
				b.WriteString(" " + point(p.T, p.F))
			}
			b.WriteByte('\n')
		}
	case promql.Vector:
		for _, s := range v {
			require.Nil(t, s.H)
			fmt.Fprintf(&b, "%s: %s\n", s.Metric, point(s.T, s.F))
		}
	case promql.Scalar:
		fmt.Fprintf(&b, "scalar: %s\n", point(v.T, v.V))
	case promql.String:
		fmt.Fprintf(&b, "string: %s\n", v.V)
	default:
		t.Fatalf("unexpected result type %T", res.Value)
	}
	return b.String()
}

// TestDifferentialPromQL checks that queries over a store give the same
// results, to the bit, as over a TSDB holding the same samples: each query
// over 3 random ranges (1 under -race, see TestDifferentialTSDB).
func TestDifferentialPromQL(t *testing.T) {
	ranges := racemode.Cases(3, 1)
	queries := []string{
		`x`,
		`y`,
		`up`,
		`rate(x[5m])`,
		`rate(counter[5m])`,
		`increase(counter[10m])`,
		`resets(counter[15m])`,
		`irate(counter[3m])`,
		`max by (job) (y)`,
		`sum by (instance) (up)`,
		`count({job=~".+"}) by (__name__)`,
		`last_over_time(y[3m])`,
		`first_over_time(x[7m])`,
		`y offset 2m`,
		`x offset -3m`,
		`count_over_time(y[10m:1m])`,
		`max_over_time(x[1h])`,
		`min_over_time(up[90s])`,
		`avg_over_time(y[5m])`,
		`sum_over_time(x[2m])`,
		`stddev_over_time(x[10m])`,
		`quantile_over_time(0.9, y[10m])`,
		`changes(up[30m])`,
		`deriv(x[10m])`,
		`delta(y[5m])`,
		`idelta(x[5m])`,
		`predict_linear(counter[15m], 600)`,
		`present_over_time(up[2m])`,
		`absent_over_time(up{job="a"}[1m])`,
		`absent(nope)`,
		// absent() reads its labels in the order the TSDB leaves the
		// matchers in: the store must reorder them alike.
		`absent(x{job="nope", job!~"zz"})`,
		`absent(x{job!~"zz", job="nope"})`,
		`absent(up{job="nope", instance!="", job=~".*", zone="z"})`,
		`absent_over_time(x{job!~"zz", job="nope"}[5m])`,
		`timestamp(y)`,
		`y - y offset 1m`,
		`x == 1`,
		`up == bool 0`,
		`{__name__=~"x|y", job!="b"}`,
		`{job="a"}`,
		`{instance="", job=~".+"}`,
		`topk(2, x)`,
		`max_over_time(rate(counter[5m])[30m:2m])`,
		`y @ end()`,
		`last_over_time(x[5m] @ start())`,
		`sum(x) / count(x)`,
		`histogram_quantile(0.5, x)`,
	}
	for seed := uint64(1); seed <= 3; seed++ {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 7))
			ss := genSeries(rng, 40)
			st := buildStore(t, ss)
			db := buildTSDB(t, ss)
			lo, hi := timeRange(ss)
			ng := newEngine()
			ctx := context.Background()
			for _, qs := range queries {
				for range ranges {
					start := lo - 10*60*1000 + rng.Int64N(hi-lo+20*60*1000)
					end := start + rng.Int64N(6*3600*1000)
					step := []time.Duration{time.Minute, 15 * time.Second, 37 * time.Second, 5 * time.Minute}[rng.IntN(4)]
					what := fmt.Sprintf("%s [%d, %d] step %s", qs, start, end, step)
					run := func(q storage.Queryable) string {
						qry, err := ng.NewRangeQuery(ctx, q, nil, qs, time.UnixMilli(start), time.UnixMilli(end), step)
						require.NoError(t, err, what)
						defer qry.Close()
						return resultString(t, qry.Exec(ctx))
					}
					want := run(db)
					require.Equal(t, want, run(st), what)
					require.NotContains(t, want, "error:", what)

					// An instant query too, where matrix selectors are answers.
					iqs := qs
					if expr, err := parser.NewParser(parser.Options{}).ParseExpr(qs); err == nil {
						if vs, ok := expr.(*parser.VectorSelector); ok {
							iqs = (&parser.MatrixSelector{VectorSelector: vs, Range: 7 * time.Minute}).String()
						}
					}
					runInstant := func(q storage.Queryable) string {
						qry, err := ng.NewInstantQuery(ctx, q, nil, iqs, time.UnixMilli(end))
						require.NoError(t, err, what)
						defer qry.Close()
						return resultString(t, qry.Exec(ctx))
					}
					require.Equal(t, runInstant(db), runInstant(st), "instant %s at %d", iqs, end)
				}
			}
		})
	}
}

func TestBuilderRejectsOutOfOrder(t *testing.T) {
	b := memstore.NewBuilder(labels.FromStrings(labels.MetricName, "x"))
	require.NoError(t, b.Append(1000, 1))
	require.Error(t, b.Append(1000, 1), "same time")
	require.Error(t, b.Append(1000, 2), "same time, other value")
	require.Error(t, b.Append(999, 1), "earlier")
	require.NoError(t, b.Append(2000, 1))
	require.NoError(t, b.Append(3000, 2))
	require.Error(t, b.Append(3000, 3))
	require.Error(t, b.Append(-5, 3))
	s := b.Series()
	require.Equal(t, 3, s.Len(), "rejected samples are not kept")
	requireCursor(t, s, []sample{{1000, 1}, {2000, 1}, {3000, 2}})
}

// requireCursor checks a cursor walks exactly the samples, in order.
func requireCursor(t *testing.T, s *memstore.Series, want []sample) {
	t.Helper()
	c := s.Cursor()
	var got []sample
	for {
		ts, v, ok := c.Peek()
		if !ok {
			break
		}
		ts2, v2, ok2 := c.Peek()
		// require only on a difference (see selectAll).
		if !ok2 || !sameSample(sample{ts, v}, sample{ts2, v2}) {
			require.True(t, ok2)
			require.Equal(t, sample{ts, v}.String(), sample{ts2, v2}.String(), "Peek does not move")
		}
		got = append(got, sample{ts, v})
		c.Advance()
		if len(got) > len(want) {
			require.LessOrEqual(t, len(got), len(want), "too many samples")
		}
	}
	c.Advance() // a no-op at the end
	_, _, ok := c.Peek()
	require.False(t, ok)
	if !sameSamples(want, got) {
		require.Equal(t, samplesString(want), samplesString(got))
	}
	require.Equal(t, len(want), s.Len())
}

func buildSeries(t testing.TB, lset labels.Labels, smps []sample) *memstore.Series {
	t.Helper()
	b := memstore.NewBuilder(lset)
	for _, s := range smps {
		if err := b.Append(s.t, s.v); err != nil {
			require.NoError(t, err)
		}
	}
	return b.Series()
}

func TestBuilderRuns(t *testing.T) {
	const day = 1440
	minute := int64(60000)
	regular := func(f func(i int) float64) []sample {
		out := make([]sample, day)
		for i := range out {
			out[i] = sample{base + int64(i)*minute, f(i)}
		}
		return out
	}
	flipsAt := []int{100, 101, 700, 702, 1200}
	state := func(i int) float64 {
		v := 0.0
		for _, f := range flipsAt {
			if i >= f {
				v = 1 - v
			}
		}
		return v
	}
	cases := []struct {
		name    string
		samples []sample
		maxRuns int
		minRuns int
	}{
		{name: "empty", samples: nil, maxRuns: 0},
		{name: "one", samples: []sample{{base, 1}}, minRuns: 1, maxRuns: 1},
		{name: "constant", samples: regular(func(int) float64 { return 1 }), minRuns: 1, maxRuns: 1},
		{name: "constant stale", samples: regular(func(int) float64 { return staleNaN }), minRuns: 1, maxRuns: 1},
		{name: "constant NaN", samples: regular(func(int) float64 { return math.NaN() }), minRuns: 1, maxRuns: 1},
		{name: "0/1 with few flips", samples: regular(state), minRuns: 1, maxRuns: len(flipsAt) + 1},
		{name: "counter", samples: regular(func(i int) float64 { return float64(3 * i) }), minRuns: 1, maxRuns: 1},
		{name: "random", samples: regular(func(i int) float64 { return float64(i*7919%1013) / 7 }), minRuns: 1, maxRuns: 1},
		{name: "alternating", samples: regular(func(i int) float64 { return float64(i % 2) }), minRuns: 1, maxRuns: 1},
		{
			name: "NaN then stale marker, distinct by bits",
			samples: regular(func(i int) float64 {
				if i%2 == 0 {
					return math.NaN()
				}
				return staleNaN
			}),
			minRuns: 1, maxRuns: 1,
		},
		{
			name: "counter, then flat",
			samples: regular(func(i int) float64 {
				return float64(min(i, 1000))
			}),
			minRuns: 2, maxRuns: 2,
		},
		{
			name: "two scrape intervals",
			samples: func() []sample {
				out := regular(func(int) float64 { return 1 })
				for i := range out[720:] {
					out[720+i].t = out[719].t + int64(i+1)*30000
				}
				return out
			}(),
			minRuns: 2, maxRuns: 3,
		},
		{
			name: "irregular times",
			samples: func() []sample {
				out := make([]sample, 100)
				ts := base
				for i := range out {
					ts += int64(1 + i*i%17)
					out[i] = sample{ts, 1}
				}
				return out
			}(),
			minRuns: 2, maxRuns: 100,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := buildSeries(t, labels.FromStrings(labels.MetricName, "x"), tc.samples)
			require.Equal(t, len(tc.samples), s.Len())
			require.GreaterOrEqual(t, s.Runs(), tc.minRuns)
			require.LessOrEqual(t, s.Runs(), tc.maxRuns)
			require.Equal(t, labels.FromStrings(labels.MetricName, "x"), s.Labels())
			requireCursor(t, s, tc.samples)
		})
	}
}

// TestBuilderRandom checks the cursor and length of random series, and
// that runs never outnumber samples.
func TestBuilderRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(99, 1))
	for _, ts := range genSeries(rng, 200) {
		s := buildSeries(t, ts.lset, ts.samples)
		requireCursor(t, s, ts.samples)
		require.LessOrEqual(t, s.Runs(), s.Len())
	}
}

func TestNewRejectsDuplicateLabels(t *testing.T) {
	a := buildSeries(t, labels.FromStrings(labels.MetricName, "x", "job", "a"), []sample{{1000, 1}})
	b := buildSeries(t, labels.FromStrings(labels.MetricName, "x", "job", "b"), []sample{{1000, 2}})
	dup := buildSeries(t, labels.FromStrings("job", "a", labels.MetricName, "x"), []sample{{2000, 3}})

	_, err := memstore.New([]*memstore.Series{a, b, dup})
	require.Error(t, err)
	require.Contains(t, err.Error(), `job="a"`)

	_, err = memstore.New([]*memstore.Series{a, a})
	require.Error(t, err)

	st, err := memstore.New([]*memstore.Series{b, a})
	require.NoError(t, err)
	q, err := st.Querier(math.MinInt64, math.MaxInt64)
	require.NoError(t, err)
	set := q.Select(context.Background(), false, nil, labels.MustNewMatcher(labels.MatchEqual, labels.MetricName, "x"))
	var got []string
	for set.Next() {
		got = append(got, set.At().Labels().Get("job"))
	}
	require.Equal(t, []string{"a", "b"}, got, "series in label order")

	_, err = memstore.New(nil)
	require.NoError(t, err)
}

func TestLabelNamesAndValues(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	ss := genSeries(rng, 40)
	st := buildStore(t, ss)
	db := buildTSDB(t, ss)
	lo, hi := timeRange(ss)
	ctx := context.Background()
	mq, err := st.Querier(lo, hi)
	require.NoError(t, err)
	tq, err := db.Querier(lo, hi)
	require.NoError(t, err)
	for _, ms := range [][]*labels.Matcher{
		nil,
		{labels.MustNewMatcher(labels.MatchEqual, labels.MetricName, "x")},
		{labels.MustNewMatcher(labels.MatchEqual, "job", "a")},
	} {
		want, _, err := tq.LabelNames(ctx, nil, ms...)
		require.NoError(t, err)
		got, _, err := mq.LabelNames(ctx, nil, ms...)
		require.NoError(t, err)
		require.Equal(t, want, got, "%v", ms)
		for _, name := range []string{labels.MetricName, "job", "instance", "Zone", "nope"} {
			want, _, err := tq.LabelValues(ctx, name, nil, ms...)
			require.NoError(t, err)
			got, _, err := mq.LabelValues(ctx, name, nil, ms...)
			require.NoError(t, err)
			if len(want) == 0 {
				want = nil
			}
			if len(got) == 0 {
				got = nil
			}
			require.Equal(t, want, got, "%s %v", name, ms)
		}
	}
}

// longSeries is a day of 15s scrapes: flips, counter stretches and noise.
func longSeries(tb testing.TB) *memstore.Series {
	rng := rand.New(rand.NewPCG(1, 2))
	b := memstore.NewBuilder(labels.FromStrings(labels.MetricName, "x"))
	ts := base
	v := 0.0
	for i := 0; i < 5760; i++ {
		switch {
		case i%1000 < 300:
			v += float64(rng.IntN(5))
		case i%1000 < 350:
			v = rng.Float64()
		case rng.IntN(50) == 0:
			v = 1 - math.Min(v, 1)
		}
		if i%777 == 0 {
			ts += 45000 // a gap
		}
		require.NoError(tb, b.Append(ts, v))
		ts += 15000
	}
	return b.Series()
}

func iteratorOf(tb testing.TB, s *memstore.Series) (storage.Series, chunkenc.Iterator) {
	st, err := memstore.New([]*memstore.Series{s})
	require.NoError(tb, err)
	q, err := st.Querier(math.MinInt64, math.MaxInt64)
	require.NoError(tb, err)
	set := q.Select(context.Background(), false, nil, labels.MustNewMatcher(labels.MatchEqual, labels.MetricName, "x"))
	require.True(tb, set.Next())
	ser := set.At()
	return ser, ser.Iterator(nil)
}

func TestIterateAllocatesNothing(t *testing.T) {
	s := longSeries(t)
	ser, it := iteratorOf(t, s)
	n := 0
	sum := 0.0
	allocs := testing.AllocsPerRun(20, func() {
		it = ser.Iterator(it)
		for it.Next() != chunkenc.ValNone {
			_, v := it.At()
			sum += v
			n++
		}
		it = ser.Iterator(it)
		for ts := base; it.Seek(ts) != chunkenc.ValNone; ts += 60000 {
			sum += float64(it.AtT())
		}
	})
	require.Positive(t, n)
	require.Zero(t, allocs, "allocations per walk of %d samples", s.Len())

	c := s.Cursor()
	allocs = testing.AllocsPerRun(1, func() {
		for _, _, ok := c.Peek(); ok; _, _, ok = c.Peek() {
			c.Advance()
		}
	})
	require.Zero(t, allocs)
}

// TestAppendConstantAllocatesNothing checks that extending a constant run,
// the common case, allocates nothing.
func TestAppendConstantAllocatesNothing(t *testing.T) {
	b := memstore.NewBuilder(labels.FromStrings(labels.MetricName, "x"))
	ts := base
	require.NoError(t, b.Append(ts, 1))
	allocs := testing.AllocsPerRun(1000, func() {
		ts += 60000
		if err := b.Append(ts, 1); err != nil {
			t.Fatal(err)
		}
	})
	require.Zero(t, allocs)
	s := b.Series()
	require.Equal(t, 1, s.Runs())
	require.Equal(t, 1002, s.Len())
}

func BenchmarkBuilderAppend(b *testing.B) {
	gens := []struct {
		name string
		v    func(i int) float64
	}{
		{"constant", func(int) float64 { return 1 }},
		{"flips", func(i int) float64 { return float64(i / 97 % 2) }},
		{"counter", func(i int) float64 { return float64(i) }},
		{"mixed", func(i int) float64 {
			if i%1000 < 500 {
				return float64(i)
			}
			return float64(i / 50 % 2)
		}},
	}
	lset := labels.FromStrings(labels.MetricName, "x")
	for _, g := range gens {
		b.Run(g.name, func(b *testing.B) {
			// Series of a day of 15s scrapes, as a replay builds them.
			const perSeries = 5760
			b.ReportAllocs()
			bld := memstore.NewBuilder(lset)
			for i := 0; b.Loop(); i++ {
				j := i % perSeries
				if j == 0 {
					bld = memstore.NewBuilder(lset)
				}
				if err := bld.Append(base+int64(j)*15000, g.v(j)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkIterate(b *testing.B) {
	s := longSeries(b)
	b.Run("Next", func(b *testing.B) {
		ser, it := iteratorOf(b, s)
		b.ReportAllocs()
		for b.Loop() {
			if it.Next() == chunkenc.ValNone {
				it = ser.Iterator(it)
			}
		}
	})
	b.Run("Seek60s", func(b *testing.B) {
		ser, it := iteratorOf(b, s)
		ts := base
		b.ReportAllocs()
		for b.Loop() {
			if it.Seek(ts) == chunkenc.ValNone {
				it = ser.Iterator(it)
				ts = base
				continue
			}
			ts += 60000
		}
	})
}

// TestSelectRange checks a querier's bounds: series without samples in
// range are left out (a TSDB head, unlike a store, returns such a series,
// with no samples, when one of its chunks spans the range), and samples
// outside the range are never read.
func TestSelectRange(t *testing.T) {
	s := buildSeries(t, labels.FromStrings(labels.MetricName, "x"), []sample{{1000, 1}, {61000, 2}, {121000, 2}, {121500, 3}})
	st, err := memstore.New([]*memstore.Series{s})
	require.NoError(t, err)
	m := labels.MustNewMatcher(labels.MatchEqual, labels.MetricName, "x")
	for _, tc := range []struct {
		mint, maxt int64
		want       []sample
	}{
		{math.MinInt64, math.MaxInt64, []sample{{1000, 1}, {61000, 2}, {121000, 2}, {121500, 3}}},
		{1000, 1000, []sample{{1000, 1}}},
		{1001, 60999, nil},
		{61000, 121000, []sample{{61000, 2}, {121000, 2}}},
		{60999, 121001, []sample{{61000, 2}, {121000, 2}}},
		{121001, 121500, []sample{{121500, 3}}},
		{121501, math.MaxInt64, nil},
		{math.MinInt64, 999, nil},
		{61000, 1000, nil},
	} {
		q, err := st.Querier(tc.mint, tc.maxt)
		require.NoError(t, err)
		got := selectAll(t, q, []*labels.Matcher{m})
		if tc.want == nil {
			require.Empty(t, got, "[%d, %d]", tc.mint, tc.maxt)
			continue
		}
		require.Len(t, got, 1)
		require.Equal(t, samplesString(tc.want), samplesString(got[0].samples), "[%d, %d]", tc.mint, tc.maxt)
	}
}

// TestIteratorExhausted checks that an iterator, once it has returned
// ValNone, stays exhausted whatever it is asked, and that reusing it
// starts over.
func TestIteratorExhausted(t *testing.T) {
	s := buildSeries(t, labels.FromStrings(labels.MetricName, "x"), []sample{{1000, 1}, {2000, 2}, {3000, 3}})
	ser, it := iteratorOf(t, s)
	for range 3 {
		require.Equal(t, chunkenc.ValFloat, it.Next())
	}
	require.Equal(t, chunkenc.ValNone, it.Next())
	require.Equal(t, chunkenc.ValNone, it.Next())
	require.Equal(t, chunkenc.ValNone, it.Seek(0))
	require.Equal(t, chunkenc.ValNone, it.Seek(3000))

	it = ser.Iterator(it)
	require.Equal(t, chunkenc.ValFloat, it.Seek(2500))
	require.Equal(t, int64(3000), it.AtT())
	require.Equal(t, chunkenc.ValFloat, it.Seek(1000), "no effect backwards")
	require.Equal(t, int64(3000), it.AtT())
	require.Equal(t, chunkenc.ValNone, it.Seek(3001))
	require.Equal(t, chunkenc.ValNone, it.Next())
	require.Equal(t, chunkenc.ValNone, it.Seek(1000))

	it = ser.Iterator(it)
	require.Equal(t, chunkenc.ValFloat, it.Next())
	ts, v := it.At()
	require.Equal(t, int64(1000), ts)
	require.Equal(t, 1.0, v)
	require.NoError(t, it.Err())

	// A series with no samples is never selected.
	empty := memstore.NewBuilder(labels.FromStrings(labels.MetricName, "x")).Series()
	require.Zero(t, empty.Len())
	require.Zero(t, empty.Runs())
	st, err := memstore.New([]*memstore.Series{empty})
	require.NoError(t, err)
	q, err := st.Querier(math.MinInt64, math.MaxInt64)
	require.NoError(t, err)
	require.Empty(t, selectAll(t, q, []*labels.Matcher{labels.MustNewMatcher(labels.MatchEqual, labels.MetricName, "x")}))
}

// TestSplit checks that the parts of a split store hold each series once,
// by the shard function, and read as the whole store's selection does.
func TestSplit(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 42))
	ss := genSeries(rng, 40)
	st := buildStore(t, ss)
	byJob := func(l labels.Labels) uint64 { return uint64(l.Get("job")[0]) }
	parts := st.Split(8, byJob)
	require.Len(t, parts, 3) // jobs a, b and c; the other five are empty
	total := 0
	for _, p := range parts {
		total += p.Len()
	}
	require.Equal(t, st.Len(), total)

	lo, hi := timeRange(ss)
	for _, ms := range [][]*labels.Matcher{
		{labels.MustNewMatcher(labels.MatchEqual, labels.MetricName, "x")},
		{labels.MustNewMatcher(labels.MatchRegexp, "job", "a|c")},
	} {
		q, err := st.Querier(lo, hi)
		require.NoError(t, err)
		want := selectAll(t, q, ms)
		var got []selected
		for _, p := range parts {
			q, err := p.Querier(lo, hi)
			require.NoError(t, err)
			sel := selectAll(t, q, ms)
			for i := 1; i < len(sel); i++ {
				require.Negative(t, labels.Compare(sel[i-1].lset, sel[i].lset), "a part reads in label order")
			}
			for _, s := range sel {
				require.Equal(t, s.lset.Get("job"), sel[0].lset.Get("job"), "a part holds one job")
			}
			got = append(got, sel...)
		}
		slices.SortFunc(got, func(a, b selected) int { return labels.Compare(a.lset, b.lset) })
		require.Equal(t, len(want), len(got))
		for i := range want {
			require.Equal(t, want[i].lset, got[i].lset)
			require.Equal(t, samplesString(want[i].samples), samplesString(got[i].samples))
		}
	}
}
