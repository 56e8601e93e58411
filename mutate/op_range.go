package mutate

import (
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/promql/parser"
)

// rangeOperator halves and doubles range selectors' and subqueries'
// ranges.
var rangeOperator = Operator{
	Name: "range",
	Doc:  "range and subquery durations: halved, doubled",
	expr: rangeChanges,
}

func rangeChanges(n parser.Node, x *exprCtx) []change {
	var r time.Duration
	var set func(parser.Node, time.Duration)
	var suffix string
	var from int
	switch e := n.(type) {
	case *parser.MatrixSelector:
		if e.RangeExpr != nil {
			return nil
		}
		r = e.Range
		set = func(n parser.Node, d time.Duration) { n.(*parser.MatrixSelector).Range = d }
		from = int(e.VectorSelector.PositionRange().End)
	case *parser.SubqueryExpr:
		if e.RangeExpr != nil || e.StepExpr != nil {
			return nil
		}
		r = e.Range
		set = func(n parser.Node, d time.Duration) { n.(*parser.SubqueryExpr).Range = d }
		if e.Step != 0 {
			suffix = ":" + model.Duration(e.Step).String()
		} else {
			suffix = ":"
		}
		from = int(e.Expr.PositionRange().End)
	default:
		return nil
	}
	if r <= 0 {
		return nil
	}
	pos := from
	if from >= 0 && from <= len(x.src) {
		if i := strings.IndexByte(x.src[from:], '['); i >= 0 {
			pos = from + i
		}
	}
	old := "[" + model.Duration(r).String() + suffix + "]"
	var out []change
	for _, d := range []time.Duration{r / 2, r * 2} {
		if d < time.Millisecond {
			continue
		}
		mutated := "[" + model.Duration(d).String() + suffix + "]"
		out = append(out, change{original: old, mutated: mutated, pos: pos,
			hint:  "no input changes between " + model.Duration(min(r, d)).String() + " and " + model.Duration(max(r, d)).String() + " before an assertion's eval_time, where the windows " + old + " and " + mutated + " differ",
			apply: func(n parser.Node) { set(n, d) }})
	}
	return out
}
