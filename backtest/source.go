package backtest

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"

	"github.com/gotk-rules/gotk-rules/internal/parallel"
)

// DefaultMaxPoints is the most points one query_range may return per series:
// Prometheus, Thanos and Mimir refuse queries of more than 11,000 steps.
const DefaultMaxPoints = 11_000

// grid is the evaluation times: from, from+step, ..., n of them.
type grid struct {
	from time.Time
	step time.Duration
	n    int
}

func (g grid) at(i int) time.Time { return g.from.Add(time.Duration(i) * g.step) }

// index returns the evaluation index of t, when t is one.
func (g grid) index(t time.Time) (int, bool) {
	d := t.Sub(g.from)
	if d < 0 || d%g.step != 0 {
		return 0, false
	}
	i := int(d / g.step)
	return i, i < g.n
}

// chunks splits the grid into runs of at most size evaluations.
func (g grid) chunks(size int) [][2]int {
	var out [][2]int
	for lo := 0; lo < g.n; lo += size {
		out = append(out, [2]int{lo, min(lo+size, g.n)})
	}
	return out
}

// source answers the session's rule queries from the server: each rule
// expression is fetched as one query_range per chunk of evaluations (all
// expressions of a chunk at once, within the client's concurrency limit)
// and served evaluation by evaluation. Other queries (template queries, rules
// with a query_offset off the grid) are instant queries.
type source struct {
	ctx   context.Context
	c     *Client
	g     grid
	size  int // evaluations per chunk
	exprs []string
	known map[string]bool

	cur  int                        // chunk held, -1 for none
	data map[string][]promql.Vector // per expression, per evaluation of the chunk
	err  error                      // the first failure: every later query fails with it

	// allowPartial records partial answers instead of failing on them;
	// maxSplit bounds the halvings of a range refused as too large.
	allowPartial bool
	maxSplit     int

	mu       sync.Mutex
	warnings map[string]bool
	partial  []PartialRange
	ranges   int // query_range requests (not counting retries)
	instants int
	splits   int // range queries halved because the server refused them as too large
}

func newSource(ctx context.Context, c *Client, g grid, size int, exprs []string) *source {
	s := &source{ctx: ctx, c: c, g: g, size: size, known: map[string]bool{}, cur: -1, warnings: map[string]bool{}, maxSplit: DefaultMaxSplitDepth}
	for _, e := range exprs {
		if !s.known[e] {
			s.known[e] = true
			s.exprs = append(s.exprs, e)
		}
	}
	return s
}

// query is the session's rules.QueryFunc; ctx bounds the HTTP request
// of an instant query (range queries are bounded by the backtest's).
func (s *source) query(ctx context.Context, qs string, t time.Time) (promql.Vector, error) {
	if s.err != nil {
		return nil, s.err
	}
	i, ok := s.g.index(t)
	if !ok || !s.known[qs] {
		return s.instant(ctx, qs, t)
	}
	k := i / s.size
	if k != s.cur {
		if err := s.load(k); err != nil {
			s.err = err
			return nil, err
		}
	}
	v := s.data[qs][i-k*s.size]
	out := make(promql.Vector, len(v))
	copy(out, v)
	return out, nil
}

func (s *source) instant(ctx context.Context, qs string, t time.Time) (promql.Vector, error) {
	s.mu.Lock()
	s.instants++
	s.mu.Unlock()
	mv, warns, err := s.c.Query(ctx, qs, t)
	if err == nil {
		err = s.warn(warns, "query "+clip(qs, 80), qs, t, t)
	}
	if err != nil {
		s.err = err
		return nil, err
	}
	out := make(promql.Vector, 0, len(mv))
	for _, smp := range mv {
		ps := promql.Sample{Metric: toLabels(smp.Metric), T: t.UnixMilli(), F: float64(smp.Value)}
		if smp.Histogram != nil {
			ps.H = toHistogram(smp.Histogram)
		}
		out = append(out, ps)
	}
	return out, nil
}

// load fetches chunk k of every expression.
func (s *source) load(k int) error {
	lo, hi := k*s.size, min((k+1)*s.size, s.g.n)
	s.data = nil
	data := make(map[string][]promql.Vector, len(s.exprs))
	var mu sync.Mutex
	err := s.each(s.exprs, func(ctx context.Context, expr string) error {
		vecs, err := s.fetch(ctx, expr, lo, hi)
		if err != nil {
			return err
		}
		mu.Lock()
		data[expr] = vecs
		mu.Unlock()
		return nil
	})
	if err != nil {
		return err
	}
	s.data, s.cur = data, k
	return nil
}

// each runs f for every item at once (the client bounds the requests in
// flight) and returns the first error, cancelling the others.
func (s *source) each(items []string, f func(ctx context.Context, item string) error) error {
	ctx, cancel := context.WithCancel(s.ctx)
	defer cancel()
	var once sync.Once
	var first error
	parallel.For(len(items), len(items), func(i int) {
		if err := f(ctx, items[i]); err != nil {
			once.Do(func() { first = err; cancel() })
		}
	})
	if first == nil && s.ctx.Err() != nil {
		return s.ctx.Err()
	}
	return first
}

// fetch runs one query_range for evaluations lo..hi-1 and spreads its
// points over them. A range the server refuses as too large is halved,
// recursively, up to maxSplit times.
func (s *source) fetch(ctx context.Context, expr string, lo, hi int) ([]promql.Vector, error) {
	return s.fetchSplit(ctx, expr, lo, hi, 0)
}

func (s *source) fetchSplit(ctx context.Context, expr string, lo, hi, depth int) ([]promql.Vector, error) {
	start, end := s.g.at(lo), s.g.at(hi-1)
	op := "query_range " + clip(expr, 80)
	m, warns, err := s.c.QueryRange(ctx, expr, start, end, s.g.step)
	s.mu.Lock()
	s.ranges++
	s.mu.Unlock()
	if err != nil && refusedAsTooLarge(err) {
		if depth >= s.maxSplit || hi-lo < 2 {
			return nil, splitError(err, depth, start, end, s.g.step)
		}
		s.mu.Lock()
		s.splits++
		s.mu.Unlock()
		mid := lo + (hi-lo)/2
		first, err := s.fetchSplit(ctx, expr, lo, mid, depth+1)
		if err != nil {
			return nil, err
		}
		second, err := s.fetchSplit(ctx, expr, mid, hi, depth+1)
		if err != nil {
			return nil, err
		}
		return append(first, second...), nil
	}
	if err == nil {
		err = s.warn(warns, op, expr, start, end)
	}
	if err != nil {
		return nil, err
	}
	vecs, err := spread(m, grid{from: start, step: s.g.step, n: hi - lo})
	if err != nil {
		return nil, &Error{Kind: KindMalformed, Op: op, URL: s.c.URL(), Msg: err.Error()}
	}
	return vecs, nil
}

// warn records a query's warnings; one that means a partial answer fails
// the query unless partial answers are allowed, when its range is recorded.
func (s *source) warn(w v1.Warnings, op, expr string, start, end time.Time) error {
	if len(w) == 0 {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range w {
		if !IsPartialWarning(m) {
			s.warnings[m] = true
			continue
		}
		p := PartialRange{Query: expr, Start: start.UTC(), End: end.UTC(), Warning: m}
		if !s.allowPartial {
			return partialError(s.c.URL(), op, p)
		}
		s.warnings[m] = true
		s.partial = append(s.partial, p)
	}
	return nil
}

// Partial returns the partial answers recorded, sorted.
func (s *source) Partial() []PartialRange {
	s.mu.Lock()
	defer s.mu.Unlock()
	return sortPartial(append([]PartialRange(nil), s.partial...))
}

// Warnings returns the server's distinct warnings, sorted.
func (s *source) Warnings() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.warnings))
	for w := range s.warnings {
		out = append(out, w)
	}
	sort.Strings(out)
	return out
}

// spread turns a range query's matrix into one vector per evaluation of g.
// A point off the grid, or a series twice, means the answer is not the one
// asked for.
func spread(m model.Matrix, g grid) ([]promql.Vector, error) {
	vecs := make([]promql.Vector, g.n)
	seen := make(map[uint64]bool, len(m))
	for _, ss := range m {
		if ss == nil {
			return nil, fmt.Errorf("the result has an empty series")
		}
		lset := toLabels(ss.Metric)
		h := lset.Hash()
		if seen[h] {
			return nil, fmt.Errorf("the result has the series %s twice", lset)
		}
		seen[h] = true
		last := -1
		place := func(ts model.Time) (int, error) {
			t := ts.Time()
			i, ok := g.index(t)
			if !ok {
				return 0, fmt.Errorf("the result has a point at %s, not one of the steps asked for (%s to %s every %s)",
					t.UTC().Format(time.RFC3339Nano), g.from.UTC().Format(time.RFC3339), g.at(g.n-1).UTC().Format(time.RFC3339), model.Duration(g.step))
			}
			if i <= last {
				return 0, fmt.Errorf("the points of %s are out of order or twice at %s", lset, t.UTC().Format(time.RFC3339))
			}
			last = i
			return i, nil
		}
		for _, p := range ss.Values {
			i, err := place(p.Timestamp)
			if err != nil {
				return nil, err
			}
			vecs[i] = append(vecs[i], promql.Sample{Metric: lset, T: int64(p.Timestamp), F: float64(p.Value)})
		}
		last = -1
		for _, p := range ss.Histograms {
			i, err := place(p.Timestamp)
			if err != nil {
				return nil, err
			}
			if p.Histogram == nil {
				return nil, fmt.Errorf("the result has an empty histogram in %s", lset)
			}
			vecs[i] = append(vecs[i], promql.Sample{Metric: lset, T: int64(p.Timestamp), H: toHistogram(p.Histogram)})
		}
	}
	return vecs, nil
}

func toLabels(m model.Metric) labels.Labels {
	b := labels.NewScratchBuilder(len(m))
	for k, v := range m {
		b.Add(string(k), string(v))
	}
	b.Sort()
	return b.Labels()
}

// toHistogram keeps a native histogram result's count and sum: what an
// alerting rule's state machine needs is that a sample exists.
func toHistogram(h *model.SampleHistogram) *histogram.FloatHistogram {
	return &histogram.FloatHistogram{Count: float64(h.Count), Sum: float64(h.Sum)}
}
