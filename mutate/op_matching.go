package mutate

import (
	"slices"
	"strings"

	"github.com/prometheus/prometheus/promql/parser"
)

// matchingOperator drops one key of a binary operation's on or ignoring,
// or adds one.
var matchingOperator = Operator{
	Name: "matching",
	Doc:  "vector matching on/ignoring keys: each dropped in turn, one added",
	expr: matchingChanges,
}

func matchingChanges(n parser.Node, x *exprCtx) []change {
	b, ok := n.(*parser.BinaryExpr)
	if !ok || b.VectorMatching == nil || (!b.VectorMatching.On && len(b.VectorMatching.MatchingLabels) == 0) {
		return nil
	}
	vm := b.VectorMatching
	pos := operatorPos(b, x.src)
	kw := "ignoring"
	if vm.On {
		kw = "on"
	}
	text := func(ls []string) string { return kw + " (" + strings.Join(ls, ", ") + ")" }
	var out []change
	for i, l := range vm.MatchingLabels {
		ls := slices.Delete(slices.Clone(vm.MatchingLabels), i, i+1)
		hint := "no input has series on the two sides of `" + b.Op.String() + "` that differ in label " + l + " and must not match"
		if !vm.On {
			hint = "no input has series on the two sides of `" + b.Op.String() + "` that differ only in label " + l + " and must match"
		}
		out = append(out, change{original: text(vm.MatchingLabels), mutated: text(ls), pos: pos, hint: hint,
			apply: func(n parser.Node) { n.(*parser.BinaryExpr).VectorMatching.MatchingLabels = ls }})
	}
	if l := extraLabel(x.labels, append(slices.Clone(vm.MatchingLabels), vm.Include...)); l != "" {
		ls := append(slices.Clone(vm.MatchingLabels), l)
		out = append(out, change{original: text(vm.MatchingLabels), mutated: text(ls), pos: pos,
			hint:  "no input has series on the two sides of `" + b.Op.String() + "` that differ in label " + l + " and must still match (or must not)",
			apply: func(n parser.Node) { n.(*parser.BinaryExpr).VectorMatching.MatchingLabels = ls }})
	}
	return out
}
