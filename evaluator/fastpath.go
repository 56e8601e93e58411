package evaluator

import (
	"context"
	"fmt"
	"math"
	"strings"
	"text/template/parse"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/rules"
)

// The fast path.
//
// Prometheus evaluates a rule by parsing and running an instant query at
// every evaluation. When a rule's expression can only read input series
// (never a rule's output), and nothing in the replay looks past the
// evaluation time, the instant query at t returns exactly the points a range
// query returns at step t. The session then appends all input up front and
// answers each such rule's queries from range queries computed a chunk of
// steps at a time, which saves the per-evaluation parsing and planning.
// Everything else, the alert state machine, templates, ALERTS series and
// recording rules, still runs in Prometheus' own rules package.
//
// It is used only when these hold, else the session replays step by step
// exactly as promtool does (lazily appending input up to each evaluation):
//   - no rule expression or template query uses @, a negative offset, a
//     duration expression, anchored or smoothed selectors, or info();
//   - no input series is named like a rule's output (a recorded metric,
//     ALERTS or ALERTS_FOR_STATE), so rule results never collide with input;
//   - per expression: every selector names its metric exactly, never a rule
//     output, and the samples one instant query could load stay below the
//     query sample limit (so the limit would not have failed it); a range
//     query that fails for any reason falls back to instant queries.

// maxChunkPoints bounds the points one cached range query may hold.
const maxChunkPoints = 20_000_000

// rangeCache answers instant queries from range queries.
type rangeCache struct {
	s        *Session
	step     time.Duration
	end      time.Time // last evaluation time planned
	outputs  map[string]bool
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
	if err != nil {
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
	q, err := c.rangeEng.NewRangeQuery(ctx, c.s.db, nil, qs, t, end, c.step)
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

// runsQueries reports whether template text may call the query function,
// whose expressions are only known when expanded. Unparsable text counts
// as querying.
func runsQueries(text string) bool {
	if !strings.Contains(text, "query") {
		return false
	}
	t := parse.New("t")
	t.Mode = parse.SkipFuncCheck
	// The variables Prometheus defines for alert templates.
	defs := "{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}{{$externalURL := .ExternalURL}}{{$value := .Value}}"
	if _, err := t.Parse(defs+text, "{{", "}}", map[string]*parse.Tree{}); err != nil {
		return true
	}
	found := false
	var walk func(n parse.Node)
	walk = func(n parse.Node) {
		if found || n == nil {
			return
		}
		switch n := n.(type) {
		case *parse.IdentifierNode:
			found = n.Ident == "query"
		case *parse.ListNode:
			if n != nil {
				for _, c := range n.Nodes {
					walk(c)
				}
			}
		case *parse.ActionNode:
			walk(n.Pipe)
		case *parse.PipeNode:
			if n != nil {
				for _, c := range n.Cmds {
					walk(c)
				}
			}
		case *parse.CommandNode:
			for _, a := range n.Args {
				walk(a)
			}
		case *parse.IfNode:
			walk(n.Pipe)
			walk(n.List)
			walk(n.ElseList)
		case *parse.RangeNode:
			walk(n.Pipe)
			walk(n.List)
			walk(n.ElseList)
		case *parse.WithNode:
			walk(n.Pipe)
			walk(n.List)
			walk(n.ElseList)
		case *parse.TemplateNode:
			walk(n.Pipe)
		}
	}
	walk(t.Root)
	return found
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

// plan switches the session to the fast path when the replay allows it.
func (s *Session) plan(end time.Time) string {
	if s.opts.Exact {
		return "exact evaluation asked for"
	}
	if s.opts.QueryFunc != nil {
		return "rule queries go to another source"
	}
	outputs := map[string]bool{}
	for _, g := range s.groups {
		for _, r := range g.Rules() {
			if looksAhead(r.Query()) {
				return fmt.Sprintf("rule %q may read samples after its evaluation time", r.Name())
			}
			switch rule := r.(type) {
			case *rules.RecordingRule:
				outputs[rule.Name()] = true
			case *rules.AlertingRule:
				outputs["ALERTS"] = true
				outputs["ALERTS_FOR_STATE"] = true
				for _, l := range [2]labels.Labels{rule.Labels(), rule.Annotations()} {
					queries := false
					l.Range(func(l labels.Label) { queries = queries || runsQueries(l.Value) })
					if queries {
						return fmt.Sprintf("rule %q runs queries in templates", r.Name())
					}
				}
			}
		}
	}
	perName := map[string]int{}
	minGap := time.Duration(math.MaxInt64)
	for _, ser := range s.pending {
		name := ser.Labels.Get(labels.MetricName)
		if name == "" || outputs[name] {
			return fmt.Sprintf("input series %s is named like a rule output", ser.Labels)
		}
		perName[name]++
		for i := 1; i < len(ser.Samples); i++ {
			if gap := time.Duration(ser.Samples[i].T-ser.Samples[i-1].T) * time.Millisecond; gap > 0 && gap < minGap {
				minGap = gap
			}
		}
	}
	s.cache = &rangeCache{
		s:        s,
		step:     s.opts.EvalInterval,
		end:      end,
		outputs:  outputs,
		perName:  perName,
		minGap:   minGap,
		entries:  map[string]*cacheEntry{},
		rangeEng: s.engine.promqlEngine(s.opts.EvalInterval, 4*maxChunkPoints),
	}
	return ""
}
