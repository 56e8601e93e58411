package evaluator

import (
	"context"
	"errors"
	"math"
	"os"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/rules"
	"github.com/prometheus/prometheus/tsdb"

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
// and planning. Everything else, the alert state machine, templates, ALERTS
// series and recording rules, still runs in Prometheus' own rules package.
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
	s       *Session
	db      *tsdb.DB // all input, appended at once
	dir     string
	step    time.Duration
	end     time.Time // last evaluation time planned
	outputs map[string]bool
	// exprs are the rules' own expressions, the only queries served:
	// template queries may depend on the order of an instant result.
	exprs    map[string]bool
	perName  map[string]int // input series per metric name
	minGap   time.Duration  // smallest gap between two input samples
	entries  map[string]*cacheEntry
	rangeEng *promql.Engine
}

type cacheEntry struct {
	eligible bool
	start    time.Time // time of vectors[0]
	vectors  []promql.Vector
	bound    int // samples one instant query could load, at most
}

// queryFunc serves rule queries from the cache where possible.
func (s *Session) queryFunc(instant rules.QueryFunc) rules.QueryFunc {
	return func(ctx context.Context, qs string, t time.Time) (promql.Vector, error) {
		if s.cache != nil {
			if v, ok := s.cache.lookup(ctx, qs, t); ok {
				return v, nil
			}
		}
		return instant(ctx, qs, t)
	}
}

func (c *rangeCache) lookup(ctx context.Context, qs string, t time.Time) (promql.Vector, bool) {
	if !c.exprs[qs] {
		return nil, false
	}
	e, ok := c.entries[qs]
	if !ok {
		e = c.prepare(qs)
		c.entries[qs] = e
	}
	if !e.eligible || t.After(c.end) || c.step%time.Millisecond != 0 || c.step <= 0 {
		return nil, false
	}
	idx := -1
	if d, stepMs := t.UnixMilli()-e.start.UnixMilli(), c.step.Milliseconds(); e.vectors != nil && d >= 0 && d%stepMs == 0 {
		idx = int(d / stepMs)
	}
	if idx < 0 || idx >= len(e.vectors) {
		if !c.fill(ctx, qs, e, t) {
			return nil, false
		}
		idx = 0
	}
	// Rules with the same expression share the entry: keep what was served.
	v := e.vectors[idx]
	out := make(promql.Vector, len(v))
	copy(out, v)
	return out, true
}

// prepare decides whether qs may be served from range queries.
func (c *rangeCache) prepare(qs string) *cacheEntry {
	expr, err := c.s.engine.parser.ParseExpr(qs)
	if err != nil || looksAhead(expr) {
		return &cacheEntry{}
	}
	// Intermediate results count against the limit too: keep a margin.
	bound, ok := c.sampleBound(expr)
	if !ok || 2*bound >= c.s.engine.opts.MaxQuerySamples {
		return &cacheEntry{}
	}
	return &cacheEntry{eligible: true, bound: max(bound, 1)}
}

// sampleBound returns an upper bound of the samples an instant query of
// expr could load, and false when expr may read anything but input series.
func (c *rangeCache) sampleBound(expr parser.Expr) (int, bool) {
	switch n := expr.(type) {
	case *parser.VectorSelector:
		name := exactName(n)
		if name == "" || c.outputs[name] {
			return 0, false
		}
		return c.perName[name], true
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
	total := 0
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

// exactName is the metric name a selector matches exactly, or "".
func exactName(vs *parser.VectorSelector) string {
	for _, m := range vs.LabelMatchers {
		if m.Name == labels.MetricName && m.Type == labels.MatchEqual {
			return m.Value
		}
	}
	return ""
}

// fill computes the chunk of steps starting at t.
func (c *rangeCache) fill(ctx context.Context, qs string, e *cacheEntry, t time.Time) bool {
	stepMs := c.step.Milliseconds()
	steps := int(min((c.end.UnixMilli()-t.UnixMilli())/stepMs+1, int64(max(1, maxChunkPoints/e.bound)), 1440))
	end := t.Add(time.Duration(steps-1) * c.step)
	q, err := c.rangeEng.NewRangeQuery(ctx, c.db, nil, qs, t, end, c.step)
	if err != nil {
		e.eligible = false
		return false
	}
	defer q.Close()
	res := q.Exec(ctx)
	if res.Err != nil {
		// Whatever failed, the instant queries will say it as Prometheus would.
		e.eligible = false
		return false
	}
	vectors := make([]promql.Vector, steps)
	switch v := res.Value.(type) {
	case promql.Matrix:
		for _, ser := range v {
			for _, p := range ser.Floats {
				i := (p.T - t.UnixMilli()) / stepMs
				vectors[i] = append(vectors[i], promql.Sample{Metric: ser.Metric, T: p.T, F: p.F})
			}
			for _, p := range ser.Histograms {
				i := (p.T - t.UnixMilli()) / stepMs
				vectors[i] = append(vectors[i], promql.Sample{Metric: ser.Metric, T: p.T, H: p.H.Copy()})
			}
		}
	default:
		e.eligible = false
		return false
	}
	e.start, e.vectors = t, vectors
	return true
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
	exprs := map[string]bool{}
	for _, g := range s.groups {
		for _, r := range g.Rules() {
			exprs[r.Query().String()] = true
			switch rule := r.(type) {
			case *rules.RecordingRule:
				outputs[rule.Name()] = true
			case *rules.AlertingRule:
				outputs["ALERTS"] = true
				outputs["ALERTS_FOR_STATE"] = true
			}
		}
	}
	perName := map[string]int{}
	minGap := time.Duration(math.MaxInt64)
	for _, ser := range s.pending {
		perName[ser.Labels.Get(labels.MetricName)]++
		for i := 1; i < len(ser.Samples); i++ {
			if gap := time.Duration(ser.Samples[i].T-ser.Samples[i-1].T) * time.Millisecond; gap > 0 && gap < minGap {
				minGap = gap
			}
		}
	}
	db, dir, err := openStorage()
	if err != nil {
		return "no storage for the fast path: " + err.Error()
	}
	c := &rangeCache{
		s:        s,
		db:       db,
		dir:      dir,
		step:     s.opts.EvalInterval,
		end:      end,
		outputs:  outputs,
		exprs:    exprs,
		perName:  perName,
		minGap:   minGap,
		entries:  map[string]*cacheEntry{},
		rangeEng: s.engine.promqlEngine(s.opts.EvalInterval, 4*maxChunkPoints),
	}
	if err := c.load(s.pending); err != nil {
		_ = c.close()
		return "input does not load at once: " + err.Error()
	}
	s.cache = c
	return ""
}

// load appends every input sample to the cache's storage.
func (c *rangeCache) load(pending []series.Series) error {
	app := c.db.AppenderV2(context.Background())
	for _, ser := range pending {
		for _, smp := range ser.Samples {
			if err := appendSample(app, ser.Labels, smp); err != nil {
				_ = app.Rollback()
				return err
			}
		}
	}
	return app.Commit()
}

func (c *rangeCache) close() error {
	return errors.Join(c.rangeEng.Close(), c.db.Close(), os.RemoveAll(c.dir))
}
