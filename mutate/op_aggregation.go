package mutate

import (
	"slices"
	"strings"

	"github.com/prometheus/prometheus/promql/parser"
)

// aggregationOperator drops one label of an aggregation's by or without,
// or adds one.
var aggregationOperator = Operator{
	Name: "aggregation",
	Doc:  "aggregation by/without labels: each dropped in turn, one added (a label of the tests' input series)",
	expr: aggregationChanges,
}

func aggregationChanges(n parser.Node, x *exprCtx) []change {
	a, ok := n.(*parser.AggregateExpr)
	if !ok {
		return nil
	}
	pos := int(a.PosRange.Start)
	orig := groupingText(a.Without, a.Grouping)
	var out []change
	for i, l := range a.Grouping {
		g := slices.Delete(slices.Clone(a.Grouping), i, i+1)
		hint := "no input has two series that differ only in label " + l + " under " + a.Op.String() + ", and no assertion checks " + l + " on its output"
		if a.Without {
			hint = "no input has two series that differ only in label " + l + " under " + a.Op.String() + " without (...): dropping " + l + " from without keeps them apart"
		}
		out = append(out, change{original: orig, mutated: groupingText(a.Without, g), pos: pos, hint: hint,
			apply: func(n parser.Node) { n.(*parser.AggregateExpr).Grouping = g }})
	}
	if l := extraLabel(x.labels, a.Grouping); l != "" && (len(a.Grouping) > 0 || !a.Without) {
		g := append(slices.Clone(a.Grouping), l)
		hint := "no input has two series, merged by " + a.Op.String() + ", that differ in label " + l + ": add them and assert one output series"
		if a.Without {
			hint = "no assertion checks label " + l + " on the output of " + a.Op.String() + ", or no input has series differing in it"
		}
		out = append(out, change{original: orig, mutated: groupingText(a.Without, g), pos: pos, hint: hint,
			apply: func(n parser.Node) { n.(*parser.AggregateExpr).Grouping = g }})
	}
	return out
}

// groupingText writes a grouping as PromQL does: "by (a, b)".
func groupingText(without bool, labels []string) string {
	kw := "by"
	if without {
		kw = "without"
	}
	return kw + " (" + strings.Join(labels, ", ") + ")"
}

// extraLabel returns a label to add to have, from candidates (the tests'
// input labels), else instance or job; "" when all are there.
func extraLabel(candidates, have []string) string {
	for _, l := range append(slices.Clone(candidates), "instance", "job") {
		if l != "" && l != "__name__" && !slices.Contains(have, l) {
			return l
		}
	}
	return ""
}
