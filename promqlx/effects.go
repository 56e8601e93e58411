package promqlx

import (
	"strings"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
)

// Effect is what an empty result of a part of an expression does to the
// whole expression.
type Effect int

const (
	// NoEffect: the whole can still return series.
	NoEffect Effect = iota
	// Empties: the whole returns nothing (the part is joined, filtered on,
	// aggregated...).
	Empties
	// Fills: the whole returns a series because the part is empty (the part
	// is inside absent()).
	Fills
)

// Effects maps each node of root to what its emptiness does to root.
func Effects(root parser.Expr) map[parser.Node]Effect {
	m := map[parser.Node]Effect{}
	markEffects(root, Empties, m)
	return m
}

func invert(e Effect) Effect {
	switch e {
	case Empties:
		return Fills
	case Fills:
		return Empties
	}
	return NoEffect
}

func markEffects(n parser.Node, e Effect, m map[parser.Node]Effect) {
	if n == nil {
		return
	}
	m[n] = e
	switch x := n.(type) {
	case *parser.ParenExpr:
		markEffects(x.Expr, e, m)
	case *parser.StepInvariantExpr:
		markEffects(x.Expr, e, m)
	case *parser.UnaryExpr:
		markEffects(x.Expr, e, m)
	case *parser.SubqueryExpr:
		markEffects(x.Expr, e, m)
	case *parser.MatrixSelector:
		markEffects(x.VectorSelector, e, m)
	case *parser.AggregateExpr:
		markEffects(x.Expr, e, m)
		markEffects(x.Param, NoEffect, m)
	case *parser.Call:
		switch x.Func.Name {
		case "absent", "absent_over_time":
			for _, a := range x.Args {
				markEffects(a, invert(e), m)
			}
			return
		case "info":
			for i, a := range x.Args {
				markEffects(a, map[bool]Effect{true: e, false: NoEffect}[i == 0], m)
			}
			return
		}
		vectorResult := x.Func.ReturnType == parser.ValueTypeVector || x.Func.ReturnType == parser.ValueTypeMatrix
		for _, a := range x.Args {
			t := a.Type()
			if vectorResult && (t == parser.ValueTypeVector || t == parser.ValueTypeMatrix) {
				markEffects(a, e, m)
			} else {
				markEffects(a, NoEffect, m)
			}
		}
	case *parser.BinaryExpr:
		lt, rt := x.LHS.Type(), x.RHS.Type()
		le, re := e, e
		switch {
		case lt == parser.ValueTypeScalar && rt == parser.ValueTypeScalar:
			le, re = NoEffect, NoEffect
		case lt == parser.ValueTypeScalar:
			le = NoEffect
		case rt == parser.ValueTypeScalar:
			re = NoEffect
		case x.Op == parser.LOR:
			le, re = NoEffect, NoEffect
		case x.Op == parser.LUNLESS:
			re = NoEffect
		case x.VectorMatching != nil && (x.VectorMatching.FillValues.LHS != nil || x.VectorMatching.FillValues.RHS != nil):
			le, re = NoEffect, NoEffect
		}
		markEffects(x.LHS, le, m)
		markEffects(x.RHS, re, m)
	}
}

// Filters reports whether e can drop series because of their values or
// presence: a comparison without bool, and, unless, absent(), or a filter
// inside. recorded tells whether a metric name is the output of a recording
// rule whose expression filters (nil: none are).
func Filters(e parser.Expr, recorded func(name string) bool) bool {
	switch n := e.(type) {
	case *parser.ParenExpr:
		return Filters(n.Expr, recorded)
	case *parser.StepInvariantExpr:
		return Filters(n.Expr, recorded)
	case *parser.UnaryExpr:
		return Filters(n.Expr, recorded)
	case *parser.SubqueryExpr:
		return Filters(n.Expr, recorded)
	case *parser.MatrixSelector:
		return Filters(n.VectorSelector, recorded)
	case *parser.VectorSelector:
		name := MetricName(n)
		if name == "ALERTS" || name == "ALERTS_FOR_STATE" {
			return true // an alert's series exist only while it is pending or firing
		}
		if strings.HasSuffix(name, "_info") {
			for _, m := range n.LabelMatchers {
				if m.Name != labels.MetricName && !m.Matches("") {
					return true // info series carry their state in labels, the value is always 1
				}
			}
		}
		return recorded != nil && recorded(name)
	case *parser.AggregateExpr:
		return Filters(n.Expr, recorded)
	case *parser.Call:
		switch n.Func.Name {
		case "absent", "absent_over_time":
			return true
		}
		for _, a := range n.Args {
			if Filters(a, recorded) {
				return true
			}
		}
		return false
	case *parser.BinaryExpr:
		switch {
		case n.Op.IsComparisonOperator() && !n.ReturnBool:
			return true
		case n.Op == parser.LAND || n.Op == parser.LUNLESS:
			return true
		case n.Op == parser.LOR:
			return Filters(n.LHS, recorded) && Filters(n.RHS, recorded)
		}
		return Filters(n.LHS, recorded) || Filters(n.RHS, recorded)
	}
	return false
}

// HasSelector reports whether e reads any series.
func HasSelector(e parser.Expr) bool {
	found := false
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		if _, ok := n.(*parser.VectorSelector); ok {
			found = true
		}
		return nil
	})
	return found
}

// MetricName returns the metric name a selector selects, or "".
func MetricName(vs *parser.VectorSelector) string {
	if vs.Name != "" {
		return vs.Name
	}
	for _, m := range vs.LabelMatchers {
		if m.Name == labels.MetricName && m.Type == labels.MatchEqual {
			return m.Value
		}
	}
	return ""
}

// Selector is a vector selector with the nodes above it, root first.
type Selector struct {
	*parser.VectorSelector
	Path []parser.Node
}

// InRange reports whether the selector is read as a range (a matrix or inside
// a subquery), not as an instant vector.
func (s Selector) InRange() bool {
	for _, p := range s.Path {
		switch p.(type) {
		case *parser.MatrixSelector, *parser.SubqueryExpr:
			return true
		}
	}
	return false
}

// Selectors returns every vector selector of e, in query order.
func Selectors(e parser.Expr) []Selector {
	var out []Selector
	parser.Inspect(e, func(n parser.Node, path []parser.Node) error {
		if vs, ok := n.(*parser.VectorSelector); ok {
			out = append(out, Selector{VectorSelector: vs, Path: append([]parser.Node(nil), path...)})
		}
		return nil
	})
	return out
}

// Matcher returns the selector's matcher on label name, or nil.
func Matcher(vs *parser.VectorSelector, name string) *labels.Matcher {
	for _, m := range vs.LabelMatchers {
		if m.Name == name {
			return m
		}
	}
	return nil
}

// SelectsAny reports whether the selector's matchers on label name accept any
// of values.
func SelectsAny(vs *parser.VectorSelector, name string, values ...string) bool {
	for _, v := range values {
		ok := true
		for _, m := range vs.LabelMatchers {
			if m.Name == name && !m.Matches(v) {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}
