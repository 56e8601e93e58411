// Package memstore holds float series compactly in memory and serves them
// to the PromQL engine as a read-only storage.Queryable.
//
// A series is a list of runs: samples at a fixed interval, either all with
// the same value (scrapes of a gauge that did not change, the common case
// of state metrics such as gotk_reconcile_condition) or each with its own
// value. A day of one-minute scrapes of a 0/1 condition takes a few dozen
// runs instead of 1,440 samples, and reading it allocates nothing.
//
// A Store reads as a TSDB holding the same samples does: series in label
// order (or, NewOrdered, in the order its head created them), samples in
// time order, each querier bounded to its time range.
package memstore

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"

	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
	"github.com/prometheus/prometheus/util/annotations"
)

// run is n samples at t0, t0+dt, ...: all of value v when vals < 0, else
// of values Series.vals[vals : vals+n].
type run struct {
	t0, dt int64
	n      int32
	vals   int32
	v      float64
}

func (r *run) last() int64 { return r.t0 + int64(r.n-1)*r.dt }

// Series is one compact series.
type Series struct {
	lset labels.Labels
	runs []run
	vals []float64
}

// Labels are the series' labels.
func (s *Series) Labels() labels.Labels { return s.lset }

// Len is the number of samples.
func (s *Series) Len() int {
	n := 0
	for i := range s.runs {
		n += int(s.runs[i].n)
	}
	return n
}

// MinGap is the smallest time between two consecutive samples, or
// math.MaxInt64 when there are fewer than two.
func (s *Series) MinGap() int64 {
	gap := int64(math.MaxInt64)
	for i := range s.runs {
		if s.runs[i].n > 1 {
			gap = min(gap, s.runs[i].dt)
		}
		if i > 0 {
			gap = min(gap, s.runs[i].t0-s.runs[i-1].last())
		}
	}
	return gap
}

// First is the time of the first sample, and false when there is none.
func (s *Series) First() (int64, bool) {
	if len(s.runs) == 0 {
		return 0, false
	}
	return s.runs[0].t0, true
}

// Runs is the number of runs the samples take, a measure of their size.
func (s *Series) Runs() int { return len(s.runs) }

// Run is N samples at T0, T0+Dt, ...: all of value V when Vals is nil,
// else of values Vals (N of them).
type Run struct {
	T0, Dt int64
	N      int
	V      float64
	Vals   []float64
}

// RunAt returns the series' i-th run, 0 <= i < Runs(), in time order.
// Vals is the series' own memory: read only.
func (s *Series) RunAt(i int) Run {
	r := &s.runs[i]
	out := Run{T0: r.t0, Dt: r.dt, N: int(r.n), V: r.v}
	if r.vals >= 0 {
		out.Vals = s.vals[r.vals : int(r.vals)+int(r.n)]
	}
	return out
}

// Builder appends samples, in strictly increasing time order, to a Series.
type Builder struct {
	s Series
	// same counts the trailing values of an explicit run equal to the last.
	same int
}

// splitAfter is how many equal trailing values make an explicit run end and
// a constant run start.
const splitAfter = 4

// NewBuilder starts a series with the given labels.
func NewBuilder(lset labels.Labels) *Builder { return &Builder{s: Series{lset: lset}} }

// Grow makes room for n more runs, when about that many are coming: a
// series of many runs is then not copied as it grows.
func (b *Builder) Grow(n int) {
	b.s.runs = slices.Grow(b.s.runs, n)
}

// Append adds a sample; t must be after the last sample's time.
func (b *Builder) Append(t int64, v float64) error {
	runs := b.s.runs
	if len(runs) == 0 {
		b.s.runs = append(b.s.runs, run{t0: t, n: 1, vals: -1, v: v})
		return nil
	}
	r := &runs[len(runs)-1]
	last := r.last()
	if t <= last {
		return fmt.Errorf("sample at %d is not after the last one, at %d", t, last)
	}
	if r.n == 1 {
		r.dt = t - last
	}
	if t-last != r.dt {
		b.s.runs = append(b.s.runs, run{t0: t, n: 1, vals: -1, v: v})
		b.same = 0
		return nil
	}
	bits := math.Float64bits(v)
	switch {
	case r.vals < 0 && math.Float64bits(r.v) == bits:
		r.n++
	case r.vals < 0 && r.n == 1:
		// Two different values: the run becomes explicit.
		r.vals = int32(len(b.s.vals))
		b.s.vals = append(b.s.vals, r.v, v)
		r.n++
		b.same = 1
	case r.vals < 0:
		b.s.runs = append(b.s.runs, run{t0: t, n: 1, vals: -1, v: v})
		b.same = 0
	default:
		prev := b.s.vals[len(b.s.vals)-1]
		if math.Float64bits(prev) == bits {
			b.same++
		} else {
			b.same = 1
		}
		if b.same > splitAfter {
			// The last values repeat: move them to a constant run.
			k := int32(b.same - 1)
			r.n -= k
			b.s.vals = b.s.vals[:len(b.s.vals)-int(k)]
			b.s.runs = append(b.s.runs, run{t0: r.t0 + int64(r.n)*r.dt, dt: r.dt, n: k + 1, vals: -1, v: v})
			b.same = 0
			return nil
		}
		b.s.vals = append(b.s.vals, v)
		r.n++
	}
	return nil
}

// AppendRun adds n samples of value v at t, t+dt, ...: the same series as
// n calls of Append, in time proportional to the runs it makes rather than
// to n. t must be after the last sample's time, and dt positive.
func (b *Builder) AppendRun(t, dt int64, n int, v float64) error {
	if dt <= 0 && n > 1 {
		return fmt.Errorf("run of %d samples with step %d", n, dt)
	}
	bits := math.Float64bits(v)
	for ; n > 0; n-- {
		if len(b.s.runs) > 0 {
			r := &b.s.runs[len(b.s.runs)-1]
			if r.vals < 0 && r.n > 1 && r.dt == dt && math.Float64bits(r.v) == bits && t == r.last()+dt {
				// Append would only lengthen this constant run from here on.
				if int64(r.n)+int64(n) > math.MaxInt32 {
					return fmt.Errorf("run of %d samples is too long", int64(r.n)+int64(n))
				}
				r.n += int32(n)
				return nil
			}
		}
		if err := b.Append(t, v); err != nil {
			return err
		}
		t += dt
	}
	return nil
}

// Live returns the series being built, which grows as samples are
// appended: it may be read between appends. Unlike Series, it leaves the
// builder usable.
func (b *Builder) Live() *Series { return &b.s }

// Series returns the series built; the builder must not be used after.
func (b *Builder) Series() *Series {
	b.s.runs = slices.Clip(b.s.runs)
	b.s.vals = slices.Clip(b.s.vals)
	return &b.s
}

// Store is a set of series with distinct label sets, read-only once made.
type Store struct {
	mint   int64     // time of the earliest sample
	series []*Series // in label order, unless ordered
	byName map[string][]*Series
	// ordered is set when series are in an order of their own (NewOrdered).
	ordered bool
}

// New makes a store of series, whose label sets must be distinct.
func New(ss []*Series) (*Store, error) {
	sorted := slices.Clone(ss)
	sort.Slice(sorted, func(i, j int) bool { return labels.Compare(sorted[i].lset, sorted[j].lset) < 0 })
	st := newStore()
	st.series = make([]*Series, 0, len(sorted))
	for i, s := range sorted {
		if i > 0 && labels.Equal(sorted[i-1].lset, s.lset) {
			return nil, fmt.Errorf("two series with labels %s", s.lset)
		}
		st.add(s)
	}
	return st, nil
}

// NewOrdered makes a store of series, whose label sets must be distinct,
// that reads them in the order given unless asked to sort them: as a TSDB
// head reads its series in the order they were created (the PromQL engine
// does not ask it to sort them, and ties in topk follow that order).
func NewOrdered(ss []*Series) (*Store, error) {
	seen := make(map[uint64][]*Series, len(ss))
	st := newStore()
	st.ordered = true
	st.series = make([]*Series, 0, len(ss))
	for _, s := range ss {
		h := s.lset.Hash()
		for _, o := range seen[h] {
			if labels.Equal(o.lset, s.lset) {
				return nil, fmt.Errorf("two series with labels %s", s.lset)
			}
		}
		seen[h] = append(seen[h], s)
		st.add(s)
	}
	return st, nil
}

func newStore() *Store {
	return &Store{byName: map[string][]*Series{}, mint: math.MaxInt64}
}

// add appends s, which sorts after every series of the store.
func (st *Store) add(s *Series) {
	st.series = append(st.series, s)
	if len(s.runs) > 0 {
		st.mint = min(st.mint, s.runs[0].t0)
	}
	name := s.lset.Get(labels.MetricName)
	st.byName[name] = append(st.byName[name], s)
}

// Split cuts the store into at most n stores, a series going to store
// shard(labels) mod n; stores left empty are dropped.
func (st *Store) Split(n int, shard func(labels.Labels) uint64) []*Store {
	parts := make([]*Store, n)
	for _, s := range st.series { // each part keeps the store's order
		i := shard(s.lset) % uint64(n)
		if parts[i] == nil {
			parts[i] = newStore()
			parts[i].ordered = st.ordered
		}
		parts[i].add(s)
	}
	var out []*Store
	for _, p := range parts {
		if p != nil {
			out = append(out, p)
		}
	}
	return out
}

// Select returns the series matching every matcher, in the order the
// store's queriers return them when not asked to sort (the order the PromQL
// engine reads them in).
func (st *Store) Select(ms ...*labels.Matcher) []*Series {
	return (&querier{st: st}).matching(ms)
}

// Len is the number of series in the store.
func (st *Store) Len() int { return len(st.series) }

// Cursor walks a series in time order, for appending it elsewhere.
type Cursor struct {
	s      *Series
	ri, i  int
	exists bool
}

// Cursor returns a cursor before the series' first sample.
func (s *Series) Cursor() *Cursor { return &Cursor{s: s} }

// Peek returns the next sample without moving, and false at the end.
func (c *Cursor) Peek() (int64, float64, bool) {
	if c.ri >= len(c.s.runs) {
		return 0, 0, false
	}
	r := &c.s.runs[c.ri]
	t := r.t0 + int64(c.i)*r.dt
	if r.vals < 0 {
		return t, r.v, true
	}
	return t, c.s.vals[int(r.vals)+c.i], true
}

// Advance moves past the sample Peek returned.
func (c *Cursor) Advance() {
	if c.ri >= len(c.s.runs) {
		return
	}
	if c.i++; c.i >= int(c.s.runs[c.ri].n) {
		c.ri, c.i = c.ri+1, 0
	}
}

// Querier returns a querier of the samples in [mint, maxt].
func (st *Store) Querier(mint, maxt int64) (storage.Querier, error) {
	return &querier{st: st, mint: mint, maxt: maxt}, nil
}

type querier struct {
	st         *Store
	mint, maxt int64
}

func (q *querier) matching(ms []*labels.Matcher) []*Series {
	candidates := q.st.series
	for _, m := range ms {
		if m.Name == labels.MetricName && m.Type == labels.MatchEqual {
			candidates = q.st.byName[m.Value]
			break
		}
	}
	var out []*Series
	for _, s := range candidates {
		ok := true
		for _, m := range ms {
			if !m.Matches(s.lset.Get(m.Name)) {
				ok = false
				break
			}
		}
		if ok {
			out = append(out, s)
		}
	}
	return out
}

// Select returns the matching series, in label order, or in the store's
// own order (NewOrdered) unless sortSeries is set.
func (q *querier) Select(_ context.Context, sortSeries bool, _ *storage.SelectHints, ms ...*labels.Matcher) storage.SeriesSet {
	if len(q.st.series) > 0 && q.maxt >= q.st.mint {
		reorderAsTSDB(ms)
	}
	matched := q.matching(ms)
	if sortSeries && q.st.ordered {
		slices.SortFunc(matched, func(a, b *Series) int { return labels.Compare(a.lset, b.lset) })
	}
	return &seriesSet{series: matched, mint: q.mint, maxt: q.maxt, i: -1}
}

// reorderAsTSDB reorders matchers in place exactly as Prometheus' TSDB does
// when its head is queried (tsdb.PostingsForMatchers at v0.315.0). The
// engine hands a selector's own matchers over, and absent() derives its
// labels from their order: absent(x{a="1", a!~"y"}) has no label a, yet
// absent(x{a!~"y", a="1"}) has one. Queries must read alike on both.
func reorderAsTSDB(ms []*labels.Matcher) {
	if len(ms) == 1 && ms[0].Name == "" && ms[0].Value == "" {
		return
	}
	labelMustBeSet := make(map[string]bool, len(ms))
	for _, m := range ms {
		if !m.Matches("") {
			labelMustBeSet[m.Name] = true
		}
	}
	isSubtractingMatcher := func(m *labels.Matcher) bool {
		if !labelMustBeSet[m.Name] {
			return true
		}
		return (m.Type == labels.MatchNotEqual || m.Type == labels.MatchNotRegexp) && m.Matches("")
	}
	// The comparison is Prometheus' own, inconsistent as it is: what
	// matters is the same permutation.
	slices.SortStableFunc(ms, func(i, j *labels.Matcher) int {
		if !isSubtractingMatcher(i) && isSubtractingMatcher(j) {
			return -1
		}
		return +1
	})
}

func (q *querier) LabelValues(_ context.Context, name string, _ *storage.LabelHints, ms ...*labels.Matcher) ([]string, annotations.Annotations, error) {
	seen := map[string]struct{}{}
	for _, s := range q.matching(ms) {
		if v := s.lset.Get(name); v != "" {
			seen[v] = struct{}{}
		}
	}
	out := make([]string, 0, len(seen))
	for v := range seen {
		out = append(out, v)
	}
	slices.Sort(out)
	return out, nil, nil
}

func (q *querier) LabelNames(_ context.Context, _ *storage.LabelHints, ms ...*labels.Matcher) ([]string, annotations.Annotations, error) {
	seen := map[string]struct{}{}
	for _, s := range q.matching(ms) {
		s.lset.Range(func(l labels.Label) { seen[l.Name] = struct{}{} })
	}
	out := make([]string, 0, len(seen))
	for v := range seen {
		out = append(out, v)
	}
	slices.Sort(out)
	return out, nil, nil
}

func (q *querier) Close() error { return nil }

type seriesSet struct {
	series     []*Series
	mint, maxt int64
	i          int
}

func (ss *seriesSet) Next() bool {
	for ss.i+1 < len(ss.series) {
		ss.i++
		// Series without samples in the range are left out (a TSDB may
		// return them, empty; the engine reads the same either way).
		it := iterator{s: ss.series[ss.i], mint: ss.mint, maxt: ss.maxt}
		if it.Next() != chunkenc.ValNone {
			return true
		}
	}
	return false
}

func (ss *seriesSet) At() storage.Series {
	return boundSeries{s: ss.series[ss.i], mint: ss.mint, maxt: ss.maxt}
}
func (ss *seriesSet) Err() error                        { return nil }
func (ss *seriesSet) Warnings() annotations.Annotations { return nil }

type boundSeries struct {
	s          *Series
	mint, maxt int64
}

func (b boundSeries) Labels() labels.Labels { return b.s.lset }

func (b boundSeries) Iterator(reuse chunkenc.Iterator) chunkenc.Iterator {
	if it, ok := reuse.(*iterator); ok {
		*it = iterator{s: b.s, mint: b.mint, maxt: b.maxt}
		return it
	}
	return &iterator{s: b.s, mint: b.mint, maxt: b.maxt}
}

// millis is a time in milliseconds (see iterator.Seek).
type millis = int64

// iterator reads a series' samples in [mint, maxt]. Before the first Next
// or Seek it is before the first sample.
type iterator struct {
	s          *Series
	mint, maxt int64
	started    bool
	done       bool
	ri, i      int
	t          int64
	v          float64
}

// load reads the sample at (ri, i), which exists.
func (it *iterator) load() chunkenc.ValueType {
	r := &it.s.runs[it.ri]
	it.t = r.t0 + int64(it.i)*r.dt
	if it.t > it.maxt {
		it.done = true
		return chunkenc.ValNone
	}
	if r.vals < 0 {
		it.v = r.v
	} else {
		it.v = it.s.vals[int(r.vals)+it.i]
	}
	return chunkenc.ValFloat
}

func (it *iterator) Next() chunkenc.ValueType {
	if it.done {
		return chunkenc.ValNone
	}
	if !it.started {
		return it.seek(it.mint)
	}
	if it.i++; it.i >= int(it.s.runs[it.ri].n) {
		it.ri, it.i = it.ri+1, 0
		if it.ri >= len(it.s.runs) {
			it.done = true
			return chunkenc.ValNone
		}
	}
	return it.load()
}

// Seek is chunkenc.Iterator's, not io.Seeker's: its argument's type is
// spelled millis, an alias of int64, so that vet does not take it for one.
func (it *iterator) Seek(t millis) chunkenc.ValueType {
	if it.done {
		return chunkenc.ValNone
	}
	if it.started && it.t >= t {
		return chunkenc.ValFloat
	}
	return it.seek(max(t, it.mint))
}

// seek moves to the first sample at or after t, never backwards.
func (it *iterator) seek(t int64) chunkenc.ValueType {
	runs := it.s.runs
	ri := it.ri
	if !it.started {
		ri = 0
	}
	it.started = true
	// The first run that ends at or after t: most often the current one.
	if ri < len(runs) && runs[ri].last() < t {
		lo, hi := ri+1, len(runs)
		for lo < hi {
			mid := int(uint(lo+hi) >> 1)
			if runs[mid].last() < t {
				lo = mid + 1
			} else {
				hi = mid
			}
		}
		ri = lo
	}
	if ri >= len(runs) {
		it.done = true
		return chunkenc.ValNone
	}
	r := &runs[ri]
	i := 0
	if t > r.t0 {
		i = int((t - r.t0 + r.dt - 1) / r.dt)
	}
	if ri == it.ri && i < it.i {
		i = it.i
	}
	it.ri, it.i = ri, i
	return it.load()
}

func (it *iterator) At() (int64, float64) { return it.t, it.v }

// AtHistogram is never called: a store holds floats only.
func (it *iterator) AtHistogram(*histogram.Histogram) (int64, *histogram.Histogram) {
	return it.t, nil
}

// AtFloatHistogram is never called: a store holds floats only.
func (it *iterator) AtFloatHistogram(*histogram.FloatHistogram) (int64, *histogram.FloatHistogram) {
	return it.t, nil
}

func (it *iterator) AtT() int64  { return it.t }
func (it *iterator) AtST() int64 { return 0 }
func (it *iterator) Err() error  { return nil }
