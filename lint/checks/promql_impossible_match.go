package checks

import (
	"maps"
	"slices"
	"strings"

	"github.com/prometheus/prometheus/promql/parser"

	"github.com/gotk-rules/gotk-rules/lint"
	"github.com/gotk-rules/gotk-rules/lint/source"
	"github.com/gotk-rules/gotk-rules/promqlx"
)

// promqlImpossibleMatch reports binary operations between two vectors whose
// matching labels cannot be equal on both sides, given what each side keeps.
type promqlImpossibleMatch struct{}

func (promqlImpossibleMatch) Meta() lint.Meta {
	return lint.Meta{Name: "promql/impossible-match", Severity: lint.Warning,
		Summary: "a binary operation matches on labels one side never has (on, ignoring, group_left/right), so nothing can match"}
}

func describe(l promqlx.Labels) string {
	if !l.Fixed {
		return "drops " + strings.Join(l.List(), ", ")
	}
	if len(l.Names) == 0 {
		return "has no label"
	}
	return "only has " + strings.Join(l.List(), ", ")
}

func (promqlImpossibleMatch) CheckRule(rule *lint.Rule, r *lint.Reporter) {
	parser.Inspect(rule.AST, func(n parser.Node, _ []parser.Node) error {
		b, ok := n.(*parser.BinaryExpr)
		if !ok || b.VectorMatching == nil || b.Op == parser.LOR {
			return nil
		}
		if b.LHS.Type() != parser.ValueTypeVector || b.RHS.Type() != parser.ValueTypeVector {
			return nil
		}
		vm := b.VectorMatching
		if vm.FillValues.LHS != nil || vm.FillValues.RHS != nil {
			return nil
		}
		l, rt := promqlx.OutputLabels(b.LHS), promqlx.OutputLabels(b.RHS)
		at := func() source.Pos { return rule.ExprPos(promqlx.ModifierPos(rule.Expr, b, false)) }
		empty := fires(rule.IsAlert())
		if vm.On {
			for _, name := range vm.MatchingLabels {
				ll, rl := l.Lacks(name), rt.Lacks(name)
				if ll == rl {
					continue
				}
				side, other, lab := "left", "right", l
				if rl {
					side, other, lab = "right", "left", rt
				}
				r.Report(at(), "%s matches on %s, but the %s side never has it (it %s after %s): only %s-side series without %s could match, so the operation returns nothing and %s; drop %s from on(...) or keep it on the %s side",
					promqlx.MatchingText(vm), name, side, describe(lab), lab.By, other, name, empty, name, side)
				return nil
			}
		} else if l.Fixed && rt.Fixed {
			ls, rs := maps.Clone(l.Names), maps.Clone(rt.Names)
			for _, name := range vm.MatchingLabels {
				delete(ls, name)
				delete(rs, name)
			}
			var diff []string
			for n := range ls {
				if !rs[n] {
					diff = append(diff, n)
				}
			}
			for n := range rs {
				if !ls[n] {
					diff = append(diff, n)
				}
			}
			if len(diff) > 0 {
				slices.Sort(diff)
				var common []string
				for n := range ls {
					if rs[n] {
						common = append(common, n)
					}
				}
				slices.Sort(common)
				what := "matches on all their labels"
				if len(vm.MatchingLabels) > 0 {
					what = "with " + promqlx.MatchingText(vm) + " matches on the rest"
				}
				r.Report(at(), "%s %s, but the left side %s (after %s) and the right side %s (after %s): they differ in %s, so no pair of series matches, the operation returns nothing and %s; match on what both keep: on(%s)",
					strings.TrimSpace(b.Op.String()), what, describe(l), l.By, describe(rt), rt.By, strings.Join(diff, ", "), empty, strings.Join(common, ", "))
				return nil
			}
		}
		one, oneSide := rt, "right"
		if vm.Card == parser.CardOneToMany {
			one, oneSide = l, "left"
		}
		for _, name := range vm.Include {
			if one.Lacks(name) {
				r.Report(rule.ExprPos(promqlx.ModifierPos(rule.Expr, b, true)),
					"%s copies %s from the %s side, which never has it (it %s after %s): the result never has %s; remove it from the list or keep it on the %s side",
					promqlx.MatchingText(vm), name, oneSide, describe(one), one.By, name, oneSide)
				return nil
			}
		}
		return nil
	})
}
