// Package promqlx answers questions about parsed PromQL expressions that both
// the linter (lint, lint/checks) and the evaluator share: which labels a
// result can carry, which parts must be non-empty for the whole to return
// anything, whether an expression filters or selects any series at all, and
// where in the query text a matcher or operator was written. It sits below
// both so that the evaluator never imports the linter.
package promqlx

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
)

// Labels describes the label names an expression's result series can carry.
type Labels struct {
	// Fixed: the result has at most the labels in Names. Otherwise it may
	// have any label except those in Names.
	Fixed bool
	Names map[string]bool
	// By is the PromQL that last fixed or removed labels, for messages, such
	// as "max by (namespace, name)" or "on(kind)".
	By string
}

// Lacks reports whether no result series can carry label name.
func (l Labels) Lacks(name string) bool {
	if name == labels.MetricName {
		return false
	}
	if l.Fixed {
		return !l.Names[name]
	}
	return l.Names[name]
}

// List returns the names of a fixed set, sorted.
func (l Labels) List() []string {
	return slices.Sorted(maps.Keys(l.Names))
}

func anyLabels() Labels { return Labels{Names: map[string]bool{}} }

func fixed(by string, names ...string) Labels {
	l := Labels{Fixed: true, Names: map[string]bool{}, By: by}
	for _, n := range names {
		if n != labels.MetricName {
			l.Names[n] = true
		}
	}
	return l
}

// keep returns l restricted to names.
func (l Labels) keep(by string, names []string) Labels {
	out := fixed(by)
	for _, n := range names {
		if !l.Lacks(n) && n != labels.MetricName {
			out.Names[n] = true
		}
	}
	return out
}

// drop returns l without names.
func (l Labels) drop(by string, names []string) Labels {
	out := Labels{Fixed: l.Fixed, Names: maps.Clone(l.Names), By: by}
	for _, n := range names {
		if l.Fixed {
			delete(out.Names, n)
		} else {
			out.Names[n] = true
		}
	}
	return out
}

// add returns l with names possibly present.
func (l Labels) add(names ...string) Labels {
	out := Labels{Fixed: l.Fixed, Names: maps.Clone(l.Names), By: l.By}
	for _, n := range names {
		if l.Fixed {
			out.Names[n] = true
		} else {
			delete(out.Names, n)
		}
	}
	return out
}

// union is what either of two results can carry.
func union(a, b Labels) Labels {
	switch {
	case a.Fixed && b.Fixed:
		out := fixed(a.By)
		maps.Copy(out.Names, a.Names)
		maps.Copy(out.Names, b.Names)
		return out
	case a.Fixed:
		return b.add(slices.Collect(maps.Keys(a.Names))...)
	case b.Fixed:
		return a.add(slices.Collect(maps.Keys(b.Names))...)
	}
	out := anyLabels()
	for n := range a.Names {
		if b.Names[n] {
			out.Names[n] = true
		}
	}
	return out
}

// OutputLabels infers the label names of the series e returns.
func OutputLabels(e parser.Expr) Labels {
	switch n := e.(type) {
	case *parser.ParenExpr:
		return OutputLabels(n.Expr)
	case *parser.StepInvariantExpr:
		return OutputLabels(n.Expr)
	case *parser.UnaryExpr:
		return OutputLabels(n.Expr)
	case *parser.SubqueryExpr:
		return OutputLabels(n.Expr)
	case *parser.MatrixSelector:
		return OutputLabels(n.VectorSelector)
	case *parser.VectorSelector:
		return anyLabels()
	case *parser.NumberLiteral, *parser.StringLiteral:
		return fixed("a literal")
	case *parser.AggregateExpr:
		return aggregateLabels(n)
	case *parser.Call:
		return callLabels(n)
	case *parser.BinaryExpr:
		return binaryLabels(n)
	}
	return anyLabels()
}

func aggregateLabels(n *parser.AggregateExpr) Labels {
	inner := OutputLabels(n.Expr)
	by := AggregateText(n)
	var out Labels
	switch {
	case n.Op == parser.TOPK || n.Op == parser.BOTTOMK || n.Op == parser.LIMITK || n.Op == parser.LIMIT_RATIO:
		return inner // these select series; they keep their labels
	case n.Without:
		out = inner.drop(by, n.Grouping)
	default:
		out = inner.keep(by, n.Grouping)
	}
	if n.Op == parser.COUNT_VALUES {
		if s, ok := unwrap(n.Param).(*parser.StringLiteral); ok {
			out = out.add(s.Val)
		}
	}
	return out
}

// AggregateText renders an aggregation's operator and grouping, as
// "max by (namespace, name)".
func AggregateText(n *parser.AggregateExpr) string {
	op := n.Op.String()
	switch {
	case n.Without:
		return fmt.Sprintf("%s without (%s)", op, strings.Join(n.Grouping, ", "))
	case len(n.Grouping) > 0:
		return fmt.Sprintf("%s by (%s)", op, strings.Join(n.Grouping, ", "))
	}
	return op + "(...) with no by clause"
}

func callLabels(n *parser.Call) Labels {
	name := n.Func.Name
	switch name {
	case "absent", "absent_over_time":
		var eq []string
		if len(n.Args) == 1 {
			if vs := selectorOf(n.Args[0]); vs != nil {
				for _, m := range vs.LabelMatchers {
					if m.Type == labels.MatchEqual && m.Name != labels.MetricName {
						eq = append(eq, m.Name)
					}
				}
			}
		}
		return fixed(name+"()", eq...)
	case "vector":
		return fixed("vector()")
	case "label_replace", "label_join":
		if len(n.Args) >= 2 {
			inner := OutputLabels(n.Args[0])
			if s, ok := unwrap(n.Args[1]).(*parser.StringLiteral); ok {
				return inner.add(s.Val)
			}
			return inner.add()
		}
	case "histogram_quantile", "histogram_fraction":
		if len(n.Args) > 0 {
			return OutputLabels(n.Args[len(n.Args)-1]).drop(name+"()", []string{"le"})
		}
	case "info":
		if len(n.Args) > 0 {
			l := OutputLabels(n.Args[0])
			return Labels{Fixed: false, Names: map[string]bool{}, By: l.By} // adds data labels
		}
	}
	if n.Func.ReturnType == parser.ValueTypeScalar || n.Func.ReturnType == parser.ValueTypeString {
		return fixed(name + "()")
	}
	for _, a := range n.Args {
		if t := a.Type(); t == parser.ValueTypeVector || t == parser.ValueTypeMatrix {
			return OutputLabels(a)
		}
	}
	return fixed(name + "()")
}

func binaryLabels(n *parser.BinaryExpr) Labels {
	lt, rt := n.LHS.Type(), n.RHS.Type()
	switch {
	case lt == parser.ValueTypeScalar && rt == parser.ValueTypeScalar:
		return fixed("a scalar")
	case lt == parser.ValueTypeScalar:
		return OutputLabels(n.RHS)
	case rt == parser.ValueTypeScalar:
		return OutputLabels(n.LHS)
	}
	l, r := OutputLabels(n.LHS), OutputLabels(n.RHS)
	vm := n.VectorMatching
	if vm == nil {
		return l
	}
	switch n.Op {
	case parser.LAND, parser.LUNLESS:
		return l
	case parser.LOR:
		return union(l, r)
	}
	out := l
	if vm.Card == parser.CardOneToMany {
		out = r
	}
	if vm.Card == parser.CardOneToOne {
		if vm.On {
			out = out.keep(MatchingText(vm), vm.MatchingLabels)
		} else if len(vm.MatchingLabels) > 0 {
			out = out.drop(MatchingText(vm), vm.MatchingLabels)
		}
	}
	if len(vm.Include) > 0 {
		out = out.add(vm.Include...)
	}
	return out
}

// MatchingText renders a binary operation's matching clause, as "on(a, b)".
func MatchingText(vm *parser.VectorMatching) string {
	kw := "ignoring"
	if vm.On {
		kw = "on"
	}
	s := fmt.Sprintf("%s(%s)", kw, strings.Join(vm.MatchingLabels, ", "))
	switch vm.Card {
	case parser.CardManyToOne:
		s += fmt.Sprintf(" group_left(%s)", strings.Join(vm.Include, ", "))
	case parser.CardOneToMany:
		s += fmt.Sprintf(" group_right(%s)", strings.Join(vm.Include, ", "))
	}
	return s
}

// unwrap removes parentheses and step-invariant wrappers.
func unwrap(e parser.Expr) parser.Expr {
	for {
		switch n := e.(type) {
		case *parser.ParenExpr:
			e = n.Expr
		case *parser.StepInvariantExpr:
			e = n.Expr
		default:
			return e
		}
	}
}

// selectorOf returns the vector selector e is, or reads as a range.
func selectorOf(e parser.Expr) *parser.VectorSelector {
	switch n := unwrap(e).(type) {
	case *parser.VectorSelector:
		return n
	case *parser.MatrixSelector:
		vs, _ := n.VectorSelector.(*parser.VectorSelector)
		return vs
	}
	return nil
}
