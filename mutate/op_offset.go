package mutate

import (
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/promql/parser"
)

// addedOffset is the offset the offset operator adds to a selector
// without one: Prometheus' lookback delta.
const addedOffset = 5 * time.Minute

// offsetOperator removes a selector's or subquery's offset, or adds one.
var offsetOperator = Operator{
	Name: "offset",
	Doc:  "offset of selectors and subqueries: removed, or added (offset 5m) where there is none",
	expr: offsetChanges,
}

func offsetChanges(n parser.Node, _ *exprCtx) []change {
	var off time.Duration
	var set func(parser.Node, time.Duration)
	var pos int
	switch e := n.(type) {
	case *parser.VectorSelector:
		if e.OriginalOffsetExpr != nil || e.Timestamp != nil || e.StartOrEnd != 0 {
			return nil
		}
		off, pos = e.OriginalOffset, int(e.PosRange.Start)
		set = func(n parser.Node, d time.Duration) { n.(*parser.VectorSelector).OriginalOffset = d }
	case *parser.SubqueryExpr:
		if e.OriginalOffsetExpr != nil || e.Timestamp != nil || e.StartOrEnd != 0 {
			return nil
		}
		off, pos = e.OriginalOffset, int(e.PositionRange().Start)
		set = func(n parser.Node, d time.Duration) { n.(*parser.SubqueryExpr).OriginalOffset = d }
	default:
		return nil
	}
	if off != 0 {
		return []change{{original: "offset " + model.Duration(off).String(), mutated: "", pos: pos,
			hint:  "no input changes within " + model.Duration(off).String() + " before an assertion's eval_time, so the offset makes no difference the tests see",
			apply: func(n parser.Node) { set(n, 0) }}}
	}
	return []change{{original: "", mutated: "offset " + model.Duration(addedOffset).String(), pos: pos,
		hint:  "no input changes within " + model.Duration(addedOffset).String() + " before an assertion's eval_time, so the data is the same " + model.Duration(addedOffset).String() + " earlier",
		apply: func(n parser.Node) { set(n, addedOffset) }}}
}
