// Package runeval evaluates PromQL range queries over runs of steps.
//
// Prometheus' range evaluation builds the vector of every step and runs
// each operator on it, one step after another: a day of one-minute steps
// over 5,000 series is seven million samples through hash maps. Flux's state
// metrics (gotk_reconcile_condition, gotk_resource_info, flux_resource_info)
// hold one value for hours, so an instant selector returns the same value at
// long runs of consecutive steps. This package keeps every series as spans
// of steps with one value each and runs the operators on spans: the cost is
// the number of value changes, not of steps.
//
// It evaluates a subset of PromQL exactly as the engine does (the pinned
// Prometheus v0.315.0, without delayed name removal): instant selectors
// (with offset), parentheses, unary minus, number literals and arithmetic
// on them, the functions of one float (abs, ceil, floor, round, sqrt, exp,
// ln, log2, log10, sgn, clamp, clamp_min, clamp_max, their other arguments
// number literals), sum, avg, min, max, count and group (by or without), arithmetic
// and comparison operators (with bool) between a vector and a scalar or two
// vectors matched one to one (on, ignoring) or many to one (group_left,
// group_right), and and, or, unless. Anything
// else, and every step at which the engine would fail (duplicate series in
// a match group, two results with one label set), is ErrUnsupported: the
// caller asks the engine, which answers or fails as Prometheus does.
package runeval

import (
	"context"
	"errors"
	"math"
	"slices"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/gotk-rules/gotk-rules/evaluator/memstore"
)

// ErrUnsupported says that an expression, or the input at some step, is
// outside what this package evaluates exactly: ask the engine instead.
var ErrUnsupported = errors.New("not evaluated on runs of steps")

// Grid is the steps of a range query, in milliseconds: Start, Start+Step,
// ..., Steps of them.
type Grid struct {
	Start, Step int64
	Steps       int
}

// Span is the steps [From, To) of a grid at which a series has the value V.
type Span struct {
	From, To int
	V        float64
}

// Series is a result series: its labels and the spans, in step order and
// disjoint, at which it has a value. Steps outside every span have none.
type Series struct {
	Metric labels.Labels
	Spans  []Span
}

// Supported reports whether Eval can evaluate expr at all; Eval may still
// return ErrUnsupported for some input.
func Supported(expr parser.Expr) bool {
	if expr.Type() != parser.ValueTypeVector {
		return false
	}
	return supportedVector(expr)
}

func supportedVector(expr parser.Expr) bool {
	switch n := expr.(type) {
	case *parser.ParenExpr:
		return supportedVector(n.Expr)
	case *parser.StepInvariantExpr:
		return supportedVector(n.Expr)
	case *parser.VectorSelector:
		return n.Timestamp == nil && n.StartOrEnd == 0 && n.OriginalOffset >= 0 && n.OriginalOffsetExpr == nil &&
			!n.Anchored && !n.Smoothed
	case *parser.UnaryExpr:
		return (n.Op == parser.SUB || n.Op == parser.ADD) && supportedVector(n.Expr)
	case *parser.Call:
		_, ok := floatFunc(n)
		return ok && supportedVector(n.Args[0])
	case *parser.AggregateExpr:
		switch n.Op {
		case parser.SUM, parser.AVG, parser.MIN, parser.MAX, parser.COUNT, parser.GROUP:
		default:
			return false
		}
		return n.Param == nil && n.Expr.Type() == parser.ValueTypeVector && supportedVector(n.Expr)
	case *parser.BinaryExpr:
		lt, rt := n.LHS.Type(), n.RHS.Type()
		switch {
		case lt == parser.ValueTypeVector && rt == parser.ValueTypeVector:
			if !supportedVector(n.LHS) || !supportedVector(n.RHS) || n.VectorMatching == nil {
				return false
			}
			m := n.VectorMatching
			if m.FillValues.LHS != nil || m.FillValues.RHS != nil {
				return false
			}
			if n.Op.IsSetOperator() {
				return m.Card == parser.CardManyToMany && len(m.Include) == 0
			}
			return (m.Card == parser.CardOneToOne && len(m.Include) == 0 || m.Card == parser.CardManyToOne || m.Card == parser.CardOneToMany) && floatOp(n.Op)
		case lt == parser.ValueTypeVector && rt == parser.ValueTypeScalar:
			_, ok := Constant(n.RHS)
			return ok && floatOp(n.Op) && supportedVector(n.LHS)
		case lt == parser.ValueTypeScalar && rt == parser.ValueTypeVector:
			_, ok := Constant(n.LHS)
			return ok && floatOp(n.Op) && supportedVector(n.RHS)
		}
	}
	return false
}

// floatOp reports whether op is an arithmetic or comparison operator that
// vectorElemBinop computes on two floats without an annotation.
func floatOp(op parser.ItemType) bool {
	switch op {
	case parser.ADD, parser.SUB, parser.MUL, parser.DIV, parser.POW, parser.MOD, parser.ATAN2,
		parser.EQLC, parser.NEQ, parser.GTR, parser.LSS, parser.GTE, parser.LTE:
		return true
	}
	return false
}

// Constant is the value of a scalar expression made of number literals, as
// the engine computes it; ok is false for any other expression.
func Constant(expr parser.Expr) (float64, bool) {
	switch n := expr.(type) {
	case *parser.NumberLiteral:
		return n.Val, true
	case *parser.ParenExpr:
		return Constant(n.Expr)
	case *parser.StepInvariantExpr:
		return Constant(n.Expr)
	case *parser.UnaryExpr:
		v, ok := Constant(n.Expr)
		if n.Op == parser.SUB {
			v = -v
		}
		return v, ok && (n.Op == parser.SUB || n.Op == parser.ADD)
	case *parser.BinaryExpr:
		if n.LHS.Type() != parser.ValueTypeScalar || n.RHS.Type() != parser.ValueTypeScalar {
			return 0, false
		}
		l, lok := Constant(n.LHS)
		r, rok := Constant(n.RHS)
		if !lok || !rok {
			return 0, false
		}
		return scalarBinop(n.Op, l, r)
	}
	return 0, false
}

// Eval evaluates expr at every step of grid over the series of st, as a
// Prometheus range query with the given lookback delta would, and returns
// the result series in label order (the order of a range query's matrix).
// It returns ErrUnsupported when the engine must answer instead, and the
// context's error when it is done.
func Eval(ctx context.Context, expr parser.Expr, st *memstore.Store, grid Grid, lookback time.Duration) ([]Series, error) {
	if !Supported(expr) || grid.Steps <= 0 || grid.Step <= 0 {
		return nil, ErrUnsupported
	}
	ev := &evaluator{ctx: ctx, st: st, grid: grid, lookback: lookback.Milliseconds()}
	out, err := ev.eval(expr)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b Series) int { return labels.Compare(a.Metric, b.Metric) })
	return out, nil
}

// Instant evaluates expr at time t (milliseconds) as a Prometheus instant
// query with the given lookback delta would, and returns its samples in the
// order the instant query returns them (the store's order for a selector,
// an aggregation's groups in the order of their first members, an
// operator's left-hand side first). ErrUnsupported and the context's error
// are as for Eval.
func Instant(ctx context.Context, expr parser.Expr, st *memstore.Store, t int64, lookback time.Duration) ([]Sample, error) {
	if !Supported(expr) {
		return nil, ErrUnsupported
	}
	ev := &evaluator{ctx: ctx, st: st, grid: Grid{Start: t, Step: 1, Steps: 1}, lookback: lookback.Milliseconds()}
	res, err := ev.eval(expr)
	if err != nil {
		return nil, err
	}
	out := make([]Sample, 0, len(res))
	for _, s := range res {
		out = append(out, Sample{Metric: s.Metric, V: s.Spans[0].V})
	}
	return out, nil
}

// Sample is one series' value at an instant.
type Sample struct {
	Metric labels.Labels
	V      float64
}

type evaluator struct {
	ctx      context.Context
	st       *memstore.Store
	grid     Grid
	lookback int64
	lb       *labels.Builder
	buf      []byte
}

// checkEvery is how many series an operator handles between two looks at
// the context.
const checkEvery = 1024

func (ev *evaluator) done(i int) error {
	if i%checkEvery == 0 {
		return ev.ctx.Err()
	}
	return nil
}

func (ev *evaluator) builder(lset labels.Labels) *labels.Builder {
	if ev.lb == nil {
		ev.lb = labels.NewBuilder(lset)
	} else {
		ev.lb.Reset(lset)
	}
	return ev.lb
}

func (ev *evaluator) eval(expr parser.Expr) ([]Series, error) {
	switch n := expr.(type) {
	case *parser.ParenExpr:
		return ev.eval(n.Expr)
	case *parser.StepInvariantExpr:
		return ev.eval(n.Expr)
	case *parser.VectorSelector:
		return ev.selector(n)
	case *parser.UnaryExpr:
		in, err := ev.eval(n.Expr)
		if err != nil || n.Op == parser.ADD {
			return in, err
		}
		return ev.mapValues(in, true, func(v float64) (float64, bool) { return -v, true })
	case *parser.Call:
		return ev.call(n)
	case *parser.AggregateExpr:
		return ev.aggregate(n)
	case *parser.BinaryExpr:
		lt, rt := n.LHS.Type(), n.RHS.Type()
		switch {
		case lt == parser.ValueTypeVector && rt == parser.ValueTypeVector:
			if n.Op.IsSetOperator() {
				return ev.setOp(n)
			}
			return ev.vectorBinop(n)
		case lt == parser.ValueTypeVector:
			s, _ := Constant(n.RHS)
			return ev.scalarBinop(n, n.LHS, s, false)
		default:
			s, _ := Constant(n.LHS)
			return ev.scalarBinop(n, n.RHS, s, true)
		}
	}
	return nil, ErrUnsupported
}

// appendSpan appends s to spans, joining it to the last span when they
// meet with the same value.
func appendSpan(spans []Span, s Span) []Span {
	if s.From >= s.To {
		return spans
	}
	if n := len(spans); n > 0 && spans[n-1].To == s.From && math.Float64bits(spans[n-1].V) == math.Float64bits(s.V) {
		spans[n-1].To = s.To
		return spans
	}
	return append(spans, s)
}

// ceilDiv is a/b rounded up, for b > 0.
func ceilDiv(a, b int64) int64 {
	q := a / b
	if a%b > 0 {
		q++
	}
	return q
}

// steps maps the times [from, to) at which an instant selector with the
// given offset sees a sample to the grid's steps [lo, hi).
func (ev *evaluator) steps(from, to, offset int64) (int, int) {
	g := ev.grid
	lo := ceilDiv(from+offset-g.Start, g.Step)
	hi := ceilDiv(to+offset-g.Start, g.Step)
	lo = max(lo, 0)
	hi = min(hi, int64(g.Steps))
	if lo >= hi {
		return 0, 0
	}
	return int(lo), int(hi)
}

// selector evaluates an instant selector: at step t the value of the last
// sample at or before t-offset, when it is younger than the lookback delta
// and not a stale marker (the engine's vectorSelectorSingle).
func (ev *evaluator) selector(vs *parser.VectorSelector) ([]Series, error) {
	offset := vs.OriginalOffset.Milliseconds()
	g := ev.grid
	first := g.Start - offset - ev.lookback // samples at or before it are never seen
	last := g.Start + int64(g.Steps-1)*g.Step - offset
	var out []Series
	for i, s := range ev.st.Select(vs.LabelMatchers...) {
		if err := ev.done(i); err != nil {
			return nil, err
		}
		n := s.Runs()
		spans := make([]Span, 0, min(n, g.Steps))
		// The first run that may hold a sample seen at some step.
		ri := firstRunEndingAfter(s, first)
		for ; ri < n; ri++ {
			r := s.RunAt(ri)
			if r.T0 > last {
				break
			}
			next := int64(math.MaxInt64) // the first sample after the run
			if ri+1 < n {
				next = s.RunAt(ri + 1).T0
			}
			if r.Vals == nil && (r.N == 1 || r.Dt <= ev.lookback) {
				// Every sample of the run is seen until the next one.
				if !value.IsStaleNaN(r.V) {
					end := r.T0 + int64(r.N-1)*r.Dt
					lo, hi := ev.steps(r.T0, min(satAdd(end, ev.lookback), next), offset)
					spans = appendSpan(spans, Span{From: lo, To: hi, V: r.V})
				}
				continue
			}
			for j := 0; j < r.N; j++ {
				t := r.T0 + int64(j)*r.Dt
				if t > last {
					break
				}
				v := r.V
				if r.Vals != nil {
					v = r.Vals[j]
				}
				after := next
				if j+1 < r.N {
					after = t + r.Dt
				}
				if value.IsStaleNaN(v) || after <= first {
					continue
				}
				lo, hi := ev.steps(t, min(satAdd(t, ev.lookback), after), offset)
				spans = appendSpan(spans, Span{From: lo, To: hi, V: v})
			}
		}
		if len(spans) > 0 {
			out = append(out, Series{Metric: s.Labels(), Spans: spans})
		}
	}
	return out, nil
}

// firstRunEndingAfter is the index of the first run of s whose last sample
// is after t, or whose successor starts after t (its last sample may be
// seen after t).
func firstRunEndingAfter(s *memstore.Series, t int64) int {
	lo, hi := 0, s.Runs()
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if mid+1 < s.Runs() && s.RunAt(mid+1).T0 <= t {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo
}

// satAdd is a+b without overflowing past math.MaxInt64, for b >= 0.
func satAdd(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}
