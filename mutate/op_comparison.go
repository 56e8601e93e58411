package mutate

import (
	"strings"

	"github.com/prometheus/prometheus/promql/parser"
)

// comparisonOperator moves a comparison's boundary (> to >=, < to <=, and
// back) and flips it (> to <, >= to <=, == to !=).
var comparisonOperator = Operator{
	Name: "comparison",
	Doc:  "comparison operators: boundary moved (> and >=, < and <=) and flipped (> and <, >= and <=, == and !=)",
	expr: comparisonChanges,
}

// comparisonTargets lists, for each comparison, its boundary mutation (if
// any) first, then its flip.
var comparisonTargets = map[parser.ItemType][]parser.ItemType{
	parser.GTR:  {parser.GTE, parser.LSS},
	parser.GTE:  {parser.GTR, parser.LTE},
	parser.LSS:  {parser.LTE, parser.GTR},
	parser.LTE:  {parser.LSS, parser.GTE},
	parser.EQLC: {parser.NEQ},
	parser.NEQ:  {parser.EQLC},
}

func comparisonChanges(n parser.Node, x *exprCtx) []change {
	src := x.src
	b, ok := n.(*parser.BinaryExpr)
	if !ok || !b.Op.IsComparisonOperator() {
		return nil
	}
	pos := operatorPos(b, src)
	var out []change
	for _, to := range comparisonTargets[b.Op] {
		hint := "no test asserts the outcome for values on both sides of `" + b.Op.String() + "`: add an input whose value makes the comparison false and assert the rule's output is empty there (or the reverse)"
		if boundary(b.Op, to) {
			hint = "no input sits exactly on the boundary of `" + b.Op.String() + "` (both sides equal, e.g. exactly the threshold): add one and assert the outcome"
		}
		out = append(out, change{original: b.Op.String(), mutated: to.String(), pos: pos, hint: hint,
			apply: func(n parser.Node) { n.(*parser.BinaryExpr).Op = to }})
	}
	return out
}

// boundary says whether from and to differ only in equality (> and >=).
func boundary(from, to parser.ItemType) bool {
	a, b := from.String(), to.String()
	return strings.TrimSuffix(a, "=") == strings.TrimSuffix(b, "=") && a != b && from != parser.EQLC && from != parser.NEQ
}

// operatorPos returns the byte offset, in the expression src, of a binary
// expression's operator: between its operands, where it is written.
func operatorPos(b *parser.BinaryExpr, src string) int {
	lhs, rhs := int(b.LHS.PositionRange().End), int(b.RHS.PositionRange().Start)
	if lhs < 0 || rhs > len(src) || lhs > rhs {
		return int(b.PositionRange().Start)
	}
	if i := strings.Index(strings.ToLower(src[lhs:rhs]), b.Op.String()); i >= 0 {
		return lhs + i
	}
	return lhs
}
