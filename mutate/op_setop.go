package mutate

import "github.com/prometheus/prometheus/promql/parser"

// setOperator swaps and, or and unless.
var setOperator = Operator{
	Name: "set-operator",
	Doc:  "and, or, unless swapped (and to or and unless; or to and; unless to and)",
	expr: setChanges,
}

var setTargets = map[parser.ItemType][]parser.ItemType{
	parser.LAND:    {parser.LOR, parser.LUNLESS},
	parser.LOR:     {parser.LAND},
	parser.LUNLESS: {parser.LAND},
}

func setChanges(n parser.Node, x *exprCtx) []change {
	b, ok := n.(*parser.BinaryExpr)
	if !ok || !b.Op.IsSetOperator() {
		return nil
	}
	pos := operatorPos(b, x.src)
	var out []change
	for _, to := range setTargets[b.Op] {
		out = append(out, change{original: b.Op.String(), mutated: to.String(), pos: pos,
			hint:  "no input has a series on one side of `" + b.Op.String() + "` without a match on the other whose outcome is asserted",
			apply: func(n parser.Node) { n.(*parser.BinaryExpr).Op = to }})
	}
	return out
}
