package evaluator

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"runtime"
	"slices"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/rules"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb"

	"github.com/gotk-rules/gotk-rules/evaluator/memstore"
	"github.com/gotk-rules/gotk-rules/evaluator/runeval"
	"github.com/gotk-rules/gotk-rules/internal/parallel"
	"github.com/gotk-rules/gotk-rules/series"
)

// The fast path.
//
// Prometheus evaluates a rule by parsing and running an instant query at
// every evaluation. When an expression can only read input series (never a
// rule's output) and never looks past its evaluation time, the instant
// query at t returns exactly the point a range query returns at step t. The
// session then answers such queries from range queries, computed a chunk of
// steps at a time over a second storage that holds all the input at once
// (the main storage still receives input step by step, exactly as promtool
// appends it, for every other query). That saves the per-evaluation parsing
// and planning. The rest of the fast path is ours too: the alert state
// machine and its templates (alerting.go), the group loop that appends rule
// results, ALERTS series and stale markers (group.go), and the deferred
// writes of input and results (outputs.go). Prometheus' rules package still
// loads and checks the rules, runs recording rules' queries through the
// same cache, and runs everything in --exact mode.
//
// An expression is served from range queries only when:
//   - it uses no @, negative offset, duration expression, anchored or
//     smoothed selector, nor info();
//   - every selector names its metric exactly, and never a rule's output (a
//     recorded metric, ALERTS or ALERTS_FOR_STATE);
//   - the samples one instant query of it could load stay below the query
//     sample limit, so the limit would not have failed it.
// A range query that fails for any reason falls back to instant queries,
// whose errors are Prometheus' own.

// maxChunkPoints bounds the points one cached range query may hold.
const maxChunkPoints = 20_000_000

// rangeCache answers instant queries from range queries.
type rangeCache struct {
	s *Session
	// input holds all input at once: a compact store, or a second TSDB
	// (db, in dir) for input that a compact store cannot hold.
	input   storage.Queryable
	compact *memstore.Store // the input, when it is a compact store
	// inputOrder is the compact input's series in input order, until
	// orderInput orders the store by creation.
	inputOrder []*memstore.Series
	// splits are the compact store cut by each shard key met (shard.go).
	splits map[string][]storage.Queryable
	// runSplits are the compact store cut by each shard key met, one
	// shard per CPU, for evaluation on runs of steps.
	runSplits map[string][]*memstore.Store
	db        *tsdb.DB
	dir       string
	step      time.Duration
	end       time.Time // last evaluation time planned
	outputs   map[string]bool
	// silent are the outputs that never hold a series (see silence).
	silent map[string]bool
	// exprs are the rules' own expressions, the only queries served
	// (template queries may depend on the order of an instant result),
	// each parsed as a rule holds it.
	exprs    map[string]parser.Expr
	perName  map[string][]labels.Labels // input series per metric name
	minGap   time.Duration              // smallest gap between two input samples
	entries  map[string]*cacheEntry
	rangeEng *promql.Engine
}

type cacheEntry struct {
	eligible bool
	// empty is true when the expression yields nothing at any step, and
	// no error: it reads only selectors that match no input series, through
	// nodes that cannot fail (nothing.go). No query is run for it.
	empty bool
	// cur is the chunk of steps being served, nil before the first.
	cur   *chunk
	bound int // samples one instant query could load, at most
	// stores are the input's shards, each queried on its own (shard.go).
	stores []storage.Queryable
	// ahead are the chunks being computed after this one, in order.
	ahead []future
	// runs is set while the expression (expr) is evaluated on runs of
	// steps (runeval) instead of by range queries.
	runs bool
	expr parser.Expr
}

// queryFunc serves rule queries from the cache where possible.
func (s *Session) queryFunc(instant rules.QueryFunc) rules.QueryFunc {
	return func(ctx context.Context, qs string, t time.Time) (promql.Vector, error) {
		if s.cache != nil {
			if v, ok := s.cache.lookup(ctx, qs, t); ok {
				return v, nil
			}
		}
		if err := s.flush(); err != nil {
			return nil, err
		}
		return instant(ctx, qs, t)
	}
}

// readOnlyResult is the key of a context value that a caller of a rule
// query sets when it never changes the result it gets: the cache then
// serves its own vector, not a copy.
type readOnlyResult struct{}

func (c *rangeCache) lookup(ctx context.Context, qs string, t time.Time) (promql.Vector, bool) {
	if c.inputOrder != nil {
		c.orderInput()
	}
	e, ok := c.entries[qs]
	if !ok {
		expr, ok := c.exprs[qs]
		if !ok {
			return nil, false
		}
		e = c.prepare(expr)
		c.entries[qs] = e
	}
	if !e.eligible || t.After(c.end) || c.step%time.Millisecond != 0 || c.step <= 0 {
		return nil, false
	}
	if e.empty {
		// What a range query would have returned at this step.
		return promql.Vector{}, true
	}
	idx := -1
	if e.cur != nil {
		if d, stepMs := t.UnixMilli()-e.cur.start.UnixMilli(), c.step.Milliseconds(); d >= 0 && d%stepMs == 0 {
			idx = int(d / stepMs)
		}
	}
	if idx < 0 || idx >= e.steps() {
		if !c.fill(ctx, qs, e, t) {
			return nil, false
		}
		idx = 0
	}
	if ans, ok := ctx.Value(runsAnswerKey{}).(*runsAnswer); ok && e.cur.runs != nil {
		ans.ch, ans.idx = e.cur, idx // the caller moves on from the runs
		return nil, true
	}
	v := e.cur.vector(idx)
	if ctx.Value(readOnlyResult{}) != nil {
		return v, true
	}
	// Rules with the same expression share the entry: keep what was served.
	out := make(promql.Vector, len(v))
	copy(out, v)
	return out, true
}

// prepare decides whether the rule expression expr may be served from
// range queries. It reads expr only: rules of other sessions may share it.
func (c *rangeCache) prepare(expr parser.Expr) *cacheEntry {
	shape := newCachingLoader(c.s.opts.Loader).shapeOf(expr)
	if shape.looksAhead {
		return &cacheEntry{}
	}
	// The engine counts a node's inputs and its output at once; each is
	// at most the bound below the node, hence twice the bound at the root.
	bound, ok := c.sampleBound(expr)
	if !ok || 2*bound >= c.s.engine.opts.MaxQuerySamples {
		return &cacheEntry{}
	}
	if shape.cannotFail && !c.mayYield(expr) {
		// No range query needed: it would return no series.
		return &cacheEntry{eligible: true, empty: true}
	}
	e := &cacheEntry{eligible: true, bound: max(bound, 1), stores: c.shards(expr), expr: expr}
	// Delayed name removal changes which labels the operators drop, which
	// runeval does not follow.
	e.runs = c.compact != nil && !c.s.engine.opts.Features.DelayedNameRemoval && runeval.Supported(expr)
	return e
}

// seriesPerShard is about the number of input series a shard of a range
// query reads: Prometheus' range evaluation was fastest with shards of
// 600 to 1,500 series, at 1,000 and 10,000 Flux objects. A variable for tests.
var seriesPerShard = 1000

// maxShards bounds the shards of one query.
const maxShards = 256

// shards returns the stores to query expr from: the input cut into shards
// when expr allows it and the input is big enough to gain from it.
func (c *rangeCache) shards(expr parser.Expr) []storage.Queryable {
	if c.compact == nil || c.compact.Len() < 2*seriesPerShard {
		return []storage.Queryable{c.input}
	}
	key, ok := shardKeyOf(expr)
	if !ok {
		return []storage.Queryable{c.input}
	}
	id := key.String()
	if split, ok := c.splits[id]; ok {
		return split
	}
	var split []storage.Queryable
	for _, st := range c.compact.Split(min(maxShards, c.compact.Len()/seriesPerShard), key.hash) {
		split = append(split, st)
	}
	c.splits[id] = split
	return split
}

// sampleBound returns an upper bound of the samples an instant query of
// expr could load, and false when expr may read anything but input series.
func (c *rangeCache) sampleBound(expr parser.Expr) (int, bool) {
	switch n := expr.(type) {
	case *parser.VectorSelector:
		name := exactName(n)
		if name == "" || (c.outputs[name] && !c.silent[name]) {
			return 0, false
		}
		return c.matching(name, n.LabelMatchers), true
	case *parser.MatrixSelector:
		vs, ok := n.VectorSelector.(*parser.VectorSelector)
		if !ok || n.RangeExpr != nil {
			return 0, false
		}
		b, ok := c.sampleBound(vs)
		return b * (int(n.Range/c.minGap) + 1), ok
	case *parser.SubqueryExpr:
		if n.RangeExpr != nil || n.StepExpr != nil {
			return 0, false
		}
		step := n.Step
		if step == 0 {
			step = c.s.opts.EvalInterval
		}
		b, ok := c.sampleBound(n.Expr)
		return b * (int(n.Range/step) + 2), ok
	}
	// Any other node holds at most the samples of its inputs, or one
	// sample when it has none (vector(1), absent(x), time()).
	total := 1
	for _, child := range parser.Children(expr) {
		if e, ok := child.(parser.Expr); ok {
			b, ok := c.sampleBound(e)
			if !ok {
				return 0, false
			}
			total += b
		}
	}
	return total, true
}

// matching counts the input series of the named metric that match ms.
func (c *rangeCache) matching(name string, ms []*labels.Matcher) int {
	n := 0
	for _, lset := range c.perName[name] {
		ok := true
		for _, m := range ms {
			if !m.Matches(lset.Get(m.Name)) {
				ok = false
				break
			}
		}
		if ok {
			n++
		}
	}
	return n
}

// exactName is the metric name a selector matches exactly, or "".
func exactName(vs *parser.VectorSelector) string {
	for _, m := range vs.LabelMatchers {
		if m.Name == labels.MetricName && m.Type == labels.MatchEqual {
			return m.Value
		}
	}
	return ""
}

// chunkSteps bounds the steps of one chunk: small enough for the next
// chunk to be computed on another core while the rules consume this one.
// A replay of at most chunkSteps steps is one chunk.
const chunkSteps = 240

// chunk is the result of the range queries of some steps, start first,
// served step by step: the vector of a step is made from the series' points
// when asked for, in a buffer reused for the next step.
type chunk struct {
	start  time.Time
	stepMs int64
	steps  int
	// series are the results, in the order of one range query over all
	// input; their points are the queries', which are closed once the
	// chunk has been served (closing hands the points back to the engine).
	series  []promql.Series
	queries []promql.Query
	ok      bool
	// runs are the results when evaluated on runs of steps (runeval), in
	// place of series; next[i][0] is then the index of series i's span at
	// or after step at.
	runs []runeval.Series
	// changeList[changeStart[i]:changeStart[i+1]] are the series whose
	// span starts or ends at step i (changesAt).
	changeStart, changeList []int32
	// next[i] are the indexes of series i's next float and histogram
	// points, at step at; built holds the vector of step built (or -1).
	next  [][2]int
	at    int
	built int
	buf   promql.Vector
}

// steps is the number of steps of the current chunk, 0 before the first.
func (e *cacheEntry) steps() int {
	if e.cur == nil {
		return 0
	}
	return e.cur.steps
}

// vector returns the samples of step idx, in series order. It is the
// chunk's buffer, valid until another step is asked for.
func (ch *chunk) vector(idx int) promql.Vector {
	if idx == ch.built {
		return ch.buf
	}
	if idx < ch.at {
		// Back in time (never on a replay's way): start again.
		clear(ch.next)
		ch.at = 0
	}
	if ch.next == nil {
		ch.next = make([][2]int, len(ch.series)+len(ch.runs))
	}
	t := ch.start.UnixMilli() + int64(idx)*ch.stepMs
	ch.buf = ch.buf[:0]
	for i := range ch.runs {
		ser, nx := &ch.runs[i], &ch.next[i][0]
		for *nx < len(ser.Spans) && ser.Spans[*nx].To <= idx {
			*nx++
		}
		if *nx < len(ser.Spans) && ser.Spans[*nx].From <= idx {
			ch.buf = append(ch.buf, promql.Sample{Metric: ser.Metric, T: t, F: ser.Spans[*nx].V})
		}
	}
	for i := range ch.series {
		ser, nx := &ch.series[i], &ch.next[i]
		for nx[0] < len(ser.Floats) && ser.Floats[nx[0]].T < t {
			nx[0]++
		}
		for nx[1] < len(ser.Histograms) && ser.Histograms[nx[1]].T < t {
			nx[1]++
		}
		if nx[0] < len(ser.Floats) && ser.Floats[nx[0]].T == t {
			ch.buf = append(ch.buf, promql.Sample{Metric: ser.Metric, T: t, F: ser.Floats[nx[0]].F})
		}
		if nx[1] < len(ser.Histograms) && ser.Histograms[nx[1]].T == t {
			ch.buf = append(ch.buf, promql.Sample{Metric: ser.Metric, T: t, H: ser.Histograms[nx[1]].H.Copy()})
		}
	}
	ch.at, ch.built = idx, idx
	return ch.buf
}

// close closes the chunk's queries; its points are not read after.
func (ch *chunk) close() {
	if ch == nil {
		return
	}
	for _, q := range ch.queries {
		q.Close()
	}
	ch.queries, ch.series, ch.runs, ch.buf = nil, nil, nil, nil
}

// chunksAhead is how many chunks are computed ahead, each on its own
// goroutine, while the rules consume the current one.
const chunksAhead = 2

// firstChunkSteps bounds the first chunk of a replay longer than
// chunkSteps, which the rules wait for.
const firstChunkSteps = 32

// future is a chunk being computed.
type future struct {
	start time.Time
	steps int
	ch    chan chunk
}

// chunkLen is the number of steps of the chunk starting at t.
func (c *rangeCache) chunkLen(t time.Time, bound, most int) int {
	stepMs := c.step.Milliseconds()
	return int(min((c.end.UnixMilli()-t.UnixMilli())/stepMs+1, int64(max(1, maxChunkPoints/bound)), int64(most)))
}

// fill makes the chunk of steps starting at t current, from one computed
// ahead when it starts there, and keeps chunksAhead chunks coming.
func (c *rangeCache) fill(ctx context.Context, qs string, e *cacheEntry, t time.Time) bool {
	var ch chunk
	if e.runs && e.cur != nil {
		// A runs chunk reaches the last evaluation planned: asked for
		// another, evaluation jumped (queries on two grids, such as two
		// groups' query offsets, share the entry). Bounded range-query
		// chunks from here on, as before runs.
		e.runs = false
	}
	if e.runs {
		var err error
		ch, err = c.computeRuns(ctx, e, t)
		switch {
		case err == nil:
			e.cur.close()
			e.cur = &ch
			return true
		case errors.Is(err, runeval.ErrUnsupported):
			e.runs = false // range queries from here on
		default:
			return c.fail(e, ch)
		}
	}
	if len(e.ahead) > 0 && e.ahead[0].start.Equal(t) {
		ch = <-e.ahead[0].ch
		e.ahead = e.ahead[1:]
	} else {
		c.drain(e) // computed for nothing: evaluation jumped
		most := chunkSteps
		if remaining := (c.end.UnixMilli()-t.UnixMilli())/c.step.Milliseconds() + 1; e.cur == nil && remaining > chunkSteps {
			// A long replay: the rules wait for a small first chunk only.
			most = firstChunkSteps
		}
		ch = c.compute(ctx, qs, e, t, c.chunkLen(t, e.bound, most))
	}
	if !ch.ok {
		return c.fail(e, ch)
	}
	e.cur.close()
	e.cur = &ch
	next := t.Add(time.Duration(ch.steps) * c.step)
	if n := len(e.ahead); n > 0 {
		next = e.ahead[n-1].start.Add(time.Duration(e.ahead[n-1].steps) * c.step)
	}
	for len(e.ahead) < chunksAhead && !next.After(c.end) {
		f := future{start: next, steps: c.chunkLen(next, e.bound, chunkSteps), ch: make(chan chunk, 1)}
		go func(f future) { f.ch <- c.compute(ctx, qs, e, f.start, f.steps) }(f)
		e.ahead = append(e.ahead, f)
		next = next.Add(time.Duration(f.steps) * c.step)
	}
	return true
}

// fail drops the entry's chunks and serves it by instant queries from here
// on: whatever failed, they will say it as Prometheus would.
func (c *rangeCache) fail(e *cacheEntry, ch chunk) bool {
	ch.close()
	c.drain(e)
	e.cur.close()
	e.cur = nil
	e.eligible = false
	return false
}

// computeRuns evaluates the entry's expression on runs of steps, from t to
// the last evaluation planned, as one chunk.
func (c *rangeCache) computeRuns(ctx context.Context, e *cacheEntry, t time.Time) (chunk, error) {
	stepMs := c.step.Milliseconds()
	steps := int((c.end.UnixMilli()-t.UnixMilli())/stepMs + 1)
	grid := runeval.Grid{Start: t.UnixMilli(), Step: stepMs, Steps: steps}
	shards := c.runShards(e.expr)
	parts := make([][]runeval.Series, len(shards))
	errs := make([]error, len(shards))
	parallel.For(len(shards), 0, func(i int) {
		parts[i], errs[i] = runeval.Eval(ctx, e.expr, shards[i], grid, c.s.engine.opts.LookbackDelta)
	})
	for _, err := range errs {
		if err != nil {
			return chunk{}, err // ErrUnsupported first if any: the engine then answers
		}
	}
	res := parts[0]
	if len(parts) > 1 {
		// In the order of one evaluation over all input.
		res = slices.Concat(parts...)
		slices.SortFunc(res, func(a, b runeval.Series) int { return labels.Compare(a.Metric, b.Metric) })
	}
	return chunk{start: t, stepMs: stepMs, steps: steps, runs: res, built: -1, ok: true}, nil
}

// runShards returns the stores to evaluate expr on runs from: the input
// cut into one shard per CPU when expr keeps the series of some labels
// together (shard.go) and the input is big enough to gain from it. Each
// output series then comes from one shard, as in the range queries'
// shards.
func (c *rangeCache) runShards(expr parser.Expr) []*memstore.Store {
	n := min(runtime.GOMAXPROCS(0), c.compact.Len()/seriesPerShard)
	if n < 2 {
		return []*memstore.Store{c.compact}
	}
	key, ok := shardKeyOf(expr)
	if !ok {
		return []*memstore.Store{c.compact}
	}
	id := key.String()
	if split, ok := c.runSplits[id]; ok {
		return split
	}
	split := c.compact.Split(n, key.hash)
	c.runSplits[id] = split
	return split
}

// drain waits for the chunks computed ahead and drops them.
func (c *rangeCache) drain(e *cacheEntry) {
	for _, f := range e.ahead {
		ch := <-f.ch
		ch.close()
	}
	e.ahead = nil
}

// compute runs the range query of the chunk of steps starting at t. It
// reads only the input store and the engine: safe on another goroutine.
func (c *rangeCache) compute(ctx context.Context, qs string, e *cacheEntry, t time.Time, steps int) chunk {
	end := t.Add(time.Duration(steps-1) * c.step)
	ch := chunk{start: t, stepMs: c.step.Milliseconds(), steps: steps, built: -1}
	for _, st := range e.stores {
		q, err := c.rangeEng.NewRangeQuery(ctx, st, nil, qs, t, end, c.step)
		if err != nil {
			ch.close()
			return chunk{}
		}
		ch.queries = append(ch.queries, q) // its points are read when served
		res := q.Exec(ctx)
		part, ok := res.Value.(promql.Matrix)
		if res.Err != nil || !ok {
			ch.close()
			return chunk{}
		}
		ch.series = append(ch.series, part...)
	}
	if len(e.stores) > 1 {
		// In the order of one range query over all input.
		slices.SortFunc(ch.series, func(a, b promql.Series) int { return labels.Compare(a.Metric, b.Metric) })
	}
	ch.ok = true
	return ch
}

// looksAhead reports whether expr may read samples after its evaluation
// time, or depends on how it is evaluated (range or instant).
func looksAhead(expr parser.Expr) bool {
	ahead := false
	parser.Inspect(expr, func(node parser.Node, _ []parser.Node) error {
		switch n := node.(type) {
		case *parser.VectorSelector:
			if n.Timestamp != nil || n.StartOrEnd != 0 || n.OriginalOffset < 0 || n.OriginalOffsetExpr != nil || n.Anchored || n.Smoothed {
				ahead = true
			}
		case *parser.MatrixSelector:
			if n.RangeExpr != nil {
				ahead = true
			}
		case *parser.SubqueryExpr:
			if n.Timestamp != nil || n.StartOrEnd != 0 || n.OriginalOffset < 0 || n.OriginalOffsetExpr != nil || n.RangeExpr != nil || n.StepExpr != nil {
				ahead = true
			}
		case *parser.Call:
			if n.Func.Name == "info" {
				ahead = true
			}
		case *parser.DurationExpr:
			ahead = true
		}
		return nil
	})
	return ahead
}

// plan turns the fast path on, or says why it stays off.
func (s *Session) plan(end time.Time) string {
	if s.opts.Exact {
		return "exact evaluation asked for"
	}
	if s.opts.QueryFunc != nil {
		return "rule queries go to another source"
	}
	outputs := map[string]bool{}
	exprs := map[string]parser.Expr{}
	writers := map[string][]parser.Expr{} // the expressions of each output's rules
	for _, g := range s.groups {
		for _, r := range g.Rules() {
			if qs := queryString(r); exprs[qs] == nil {
				exprs[qs] = r.Query()
			}
			switch rule := r.(type) {
			case *rules.RecordingRule:
				outputs[rule.Name()] = true
				writers[rule.Name()] = append(writers[rule.Name()], r.Query())
			case AlertRule:
				outputs["ALERTS"] = true
				outputs["ALERTS_FOR_STATE"] = true
				writers["ALERTS"] = append(writers["ALERTS"], r.Query())
				writers["ALERTS_FOR_STATE"] = append(writers["ALERTS_FOR_STATE"], r.Query())
			}
		}
	}
	if lset, ok := s.inputGivenTwice(); ok {
		return fmt.Sprintf("input series %s is given twice: which of its samples the storage keeps depends on the order of appends step by step", lset)
	}
	perName := map[string][]labels.Labels{}
	minGap := time.Duration(math.MaxInt64)
	for _, ser := range s.pending {
		name := ser.Labels.Get(labels.MetricName)
		perName[name] = append(perName[name], ser.Labels)
		for i := 1; i < len(ser.Samples); i++ {
			if gap := time.Duration(ser.Samples[i].T-ser.Samples[i-1].T) * time.Millisecond; gap > 0 && gap < minGap {
				minGap = gap
			}
		}
	}
	for _, ic := range s.cursors {
		name := ic.series.Labels().Get(labels.MetricName)
		perName[name] = append(perName[name], ic.series.Labels())
		if gap := ic.series.MinGap(); gap < int64(minGap/time.Millisecond) {
			minGap = time.Duration(gap) * time.Millisecond
		}
	}
	c := &rangeCache{
		s:         s,
		step:      s.opts.EvalInterval,
		end:       end,
		outputs:   outputs,
		exprs:     exprs,
		perName:   perName,
		minGap:    minGap,
		entries:   map[string]*cacheEntry{},
		splits:    map[string][]storage.Queryable{},
		runSplits: map[string][]*memstore.Store{},
		rangeEng:  s.engine.sharedRangeEngine(s.opts.EvalInterval, 4*maxChunkPoints),
	}
	c.silence(writers)
	if st, inputOrder := s.compactInput(); st != nil {
		// The input reads the same from a compact store, which the main
		// storage is then fed from too.
		c.input, c.compact, c.inputOrder = st, st, inputOrder
		s.deferInput = !inputNamesOutputs(s.cursors, outputs)
		if s.deferInput {
			// Rule results need not reach the main storage in step either.
			s.outputs.startLogging()
		}
	} else {
		db, dir, err := openStorage()
		if err != nil {
			return "no storage for the fast path: " + err.Error()
		}
		c.db, c.dir, c.input = db, dir, db
		if err := c.load(s.pending, s.cursors); err != nil {
			_ = c.close()
			return "input does not load at once: " + err.Error()
		}
	}
	s.cache = c
	if s.opts.DiscardOutputs && s.deferInput {
		s.discardAlertOutputs()
	}
	return ""
}

// discardAlertOutputs stops the alerting rules from returning their ALERTS
// and ALERTS_FOR_STATE samples, when the caller reads no storage and no
// rule can read them or be refused for them:
//   - every selector of every rule names its metric exactly, and never
//     ALERTS or ALERTS_FOR_STATE, and no alert template may query;
//   - no two alerting rules have the same name, and no recording rule or
//     input series writes ALERTS or ALERTS_FOR_STATE (deferInput is set
//     only when no input series has a rule output's name): then each
//     output series has one writer, writing in time order, whose appends
//     the storage would accept, so no rule's health depends on them.
//
// A day of a fleet's alerts is millions of such samples that no unit test
// assertion reads: alert assertions read the rules' state.
func (s *Session) discardAlertOutputs() {
	names := map[string]bool{}
	var fast []*AlertingRule
	for _, g := range s.groups {
		for _, r := range g.Rules() {
			if readsOutputs(r.Query()) {
				return
			}
			switch rule := r.(type) {
			case *AlertingRule:
				if names[rule.Name()] || rule.timed {
					return
				}
				names[rule.Name()] = true
				fast = append(fast, rule)
			case *rules.RecordingRule:
				if rule.Name() == "ALERTS" || rule.Name() == "ALERTS_FOR_STATE" {
					return
				}
			default:
				return
			}
		}
	}
	for _, r := range fast {
		r.discard = true
	}
}

// readsOutputs reports whether expr may read ALERTS or ALERTS_FOR_STATE:
// a selector of either, or of a name not given exactly.
func readsOutputs(expr parser.Expr) bool {
	reads := false
	parser.Inspect(expr, func(node parser.Node, _ []parser.Node) error {
		if vs, ok := node.(*parser.VectorSelector); ok {
			if name := exactName(vs); name == "" || name == "ALERTS" || name == "ALERTS_FOR_STATE" {
				reads = true
			}
		}
		return nil
	})
	return reads
}

// silence finds the outputs that never hold a series: no input series has
// their name, and every rule writing them returns no series at any step,
// as it reads only selectors matching nothing, or silent outputs (mayYield).
// A rule writes nothing, not even a stale marker, when it returns nothing;
// an alerting rule writes ALERTS and ALERTS_FOR_STATE only for the series
// it returns. Rules of mixins read the recorded metrics of exporters that a
// test's input does not have: their queries are then answered with nothing
// (nothing.go) instead of an instant query at every step.
//
// It starts from every output without input and drops those a rule may
// write until none is dropped: the greatest such set, which is right, as
// before the first evaluation no output holds a series.
func (c *rangeCache) silence(writers map[string][]parser.Expr) {
	c.silent = map[string]bool{}
	for name := range c.outputs {
		if len(c.perName[name]) == 0 {
			c.silent[name] = true
		}
	}
	for changed := true; changed; {
		changed = false
		for name := range c.silent {
			for _, expr := range writers[name] {
				if c.mayYield(expr) {
					delete(c.silent, name)
					changed = true
					break
				}
			}
		}
	}
}

// inputGivenTwice returns the labels of an input series added more than
// once. Its samples meet in one storage series: step by step, a sample is
// refused when another definition wrote one at or after its time, which
// loading each definition at once would not reproduce.
func (s *Session) inputGivenTwice() (labels.Labels, bool) {
	seen := labelsMap[struct{}]{}
	add := func(lset labels.Labels) bool {
		h := lset.Hash()
		if _, ok := seen.get(h, lset); ok {
			return true
		}
		seen.set(h, lset, struct{}{})
		return false
	}
	for _, ser := range s.pending {
		if add(ser.Labels) {
			return ser.Labels, true
		}
	}
	for _, ic := range s.cursors {
		if add(ic.series.Labels()) {
			return ic.series.Labels(), true
		}
	}
	return labels.EmptyLabels(), false
}

// compactInput stores all input compactly, or returns nil when it would
// not read as the main storage does: some input is not compact (histograms,
// samples not in strictly increasing time order; AddSeries keeps those raw).
// It returns the series in input order too.
func (s *Session) compactInput() (*memstore.Store, []*memstore.Series) {
	if len(s.pending) > 0 {
		return nil, nil
	}
	built := make([]*memstore.Series, len(s.cursors))
	for i, ic := range s.cursors {
		built[i] = ic.series
	}
	st, err := memstore.New(built)
	if err != nil {
		return nil, nil
	}
	return st, built
}

// orderInput makes the compact input read its series in the order a TSDB
// fed step by step creates them, as promtool's is: by the evaluation that
// first appends a sample of theirs, then in input order (promtool appends
// the samples due at one evaluation in an order of its own; input order is
// one of them). The PromQL engine reads series in that order, and topk,
// bottomk and limitk break ties by it. It runs at the first rule query,
// before any query is planned on the store; evaluations not made yet are
// taken to come every step after the last.
func (c *rangeCache) orderInput() {
	series := c.inputOrder
	c.inputOrder = nil
	if len(c.s.evalMax) == 0 {
		return
	}
	keyed := make([]created, len(series))
	for i, s := range series {
		keyed[i] = created{step: c.s.creationStep(s), index: i, series: s}
	}
	slices.SortFunc(keyed, compareCreated)
	for i := range keyed {
		series[i] = keyed[i].series
	}
	st, err := memstore.NewOrdered(series)
	if err != nil {
		return // distinct labels were checked by New: not reached
	}
	c.input, c.compact = st, st
	clear(c.splits)
}

// inputNamesOutputs reports whether an input series has the name of a
// rule's output: then input and rule results must reach the main storage
// in the order promtool appends them.
func inputNamesOutputs(cursors []inputCursor, outputs map[string]bool) bool {
	for _, ic := range cursors {
		if outputs[ic.series.Labels().Get(labels.MetricName)] {
			return true
		}
	}
	return false
}

// load appends every input sample to the cache's storage.
func (c *rangeCache) load(pending []series.Series, cursors []inputCursor) error {
	app := c.db.AppenderV2(context.Background())
	for _, ser := range pending {
		for _, smp := range ser.Samples {
			if err := appendSample(app, ser.Labels, smp); err != nil {
				_ = app.Rollback()
				return err
			}
		}
	}
	for _, ic := range cursors {
		if _, err := appendCursor(app, ic.series.Labels(), ic.series.Cursor(), math.MaxInt64); err != nil {
			_ = app.Rollback()
			return err
		}
	}
	return app.Commit()
}

func (c *rangeCache) close() error {
	for _, e := range c.entries {
		c.drain(e) // a chunk computed ahead must not outlive the storage
		e.cur.close()
		e.cur = nil
	}
	// The range engine is shared by the engine's sessions: not closed.
	if c.db != nil {
		return errors.Join(c.db.Close(), os.RemoveAll(c.dir))
	}
	return nil
}
