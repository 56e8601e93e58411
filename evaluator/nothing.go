package evaluator

import (
	"math"
	"regexp"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/gotk-rules/gotk-rules/evaluator/runeval"
)

// A range query of a rule expression returns no series and no error when
// the expression cannotFail and no selector it depends on matches any
// input series (mayYield is false): everything above them turns no input
// into no output, without evaluating anything that could fail on its own.
// A rule set written for several exporters reads, in any one replay, the
// metrics of one of them; its other rules need no query then.

// cannotFail reports whether every node of expr is one whose evaluation
// over no input series cannot fail: selectors, literals, operators,
// aggregations without a parameter or with one the engine accepts
// (safeParam), and the functions of emptyPreserving.
func cannotFail(expr parser.Expr) bool {
	ok := true
	parser.Inspect(expr, func(node parser.Node, _ []parser.Node) error {
		switch n := node.(type) {
		case nil: // the end of a node's children
		case *parser.VectorSelector, *parser.MatrixSelector, *parser.SubqueryExpr,
			*parser.ParenExpr, *parser.UnaryExpr, *parser.NumberLiteral,
			*parser.StringLiteral, *parser.BinaryExpr, parser.Expressions:
		case *parser.AggregateExpr:
			if n.Param != nil && !safeParam(n) {
				ok = false
			}
		case *parser.Call:
			if _, known := emptyPreserving[n.Func.Name]; !known {
				ok = false
			} else if n.Func.Name == "label_replace" && !validLabelReplace(n.Args) {
				ok = false
			}
		default:
			ok = false
		}
		return nil
	})
	return ok
}

// safeParam reports whether an aggregation's parameter is a constant (of
// number literals, or a string literal) the engine accepts before it reads
// the input (promql/engine.go at v0.315.0:
// rangeEvalAgg refuses a NaN k or ratio and a k past int64, and eval a
// count_values label that is not a valid label name; quantile only warns).
func safeParam(n *parser.AggregateExpr) bool {
	if n.Op == parser.COUNT_VALUES {
		lit, ok := n.Param.(*parser.StringLiteral)
		return ok && model.UTF8Validation.IsValidLabelName(lit.Val)
	}
	v, ok := runeval.Constant(n.Param)
	if !ok {
		return false
	}
	switch n.Op {
	case parser.QUANTILE:
		return true
	case parser.LIMIT_RATIO:
		return !math.IsNaN(v)
	case parser.TOPK, parser.BOTTOMK, parser.LIMITK:
		return !math.IsNaN(v) && v > math.MinInt64 && v < math.MaxInt64
	}
	return false
}

// emptyPreserving are functions that return no series when their argument
// at the given index has none, and that fail on nothing but their input.
var emptyPreserving = map[string]int{
	"abs": 0, "ceil": 0, "floor": 0, "exp": 0, "sqrt": 0, "ln": 0, "log2": 0, "log10": 0,
	"sgn": 0, "round": 0, "clamp": 0, "clamp_min": 0, "clamp_max": 0, "timestamp": 0,
	"sort": 0, "sort_desc": 0, "label_replace": 0,
	"rate": 0, "irate": 0, "increase": 0, "delta": 0, "idelta": 0, "deriv": 0,
	"changes": 0, "resets": 0, "predict_linear": 0,
	"avg_over_time": 0, "min_over_time": 0, "max_over_time": 0, "sum_over_time": 0,
	"count_over_time": 0, "last_over_time": 0, "present_over_time": 0,
	"stddev_over_time": 0, "stdvar_over_time": 0, "quantile_over_time": 1,
	// No buckets or histograms, no output (promql/functions.go at v0.315.0:
	// an out-of-range quantile or fraction bound is an annotation, not an
	// error).
	"histogram_quantile": 1, "histogram_fraction": 2,
	"histogram_count": 0, "histogram_sum": 0, "histogram_avg": 0,
}

// validLabelReplace reports whether label_replace's string arguments pass
// the checks Prometheus makes before reading its input (promql/functions.go
// evalLabelReplace at v0.315.0): the regular expression compiles and the
// destination is a valid label name.
func validLabelReplace(args parser.Expressions) bool {
	if len(args) != 5 {
		return false
	}
	var s [5]string
	for i, a := range args[1:] {
		lit, ok := a.(*parser.StringLiteral)
		if !ok {
			return false
		}
		s[i+1] = lit.Val
	}
	if _, err := regexp.Compile("^(?s:" + s[4] + ")$"); err != nil {
		return false
	}
	return model.UTF8Validation.IsValidLabelName(s[1])
}

// mayYield reports whether expr may return a series at some step. It is
// false only when no selector expr needs matches any input series, or
// reads a silent output (see silence).
func (c *rangeCache) mayYield(expr parser.Expr) bool {
	switch n := expr.(type) {
	case *parser.VectorSelector:
		name := exactName(n)
		if name == "" || (c.outputs[name] && !c.silent[name]) {
			return true // may read what a rule writes
		}
		return c.matching(name, n.LabelMatchers) > 0
	case *parser.MatrixSelector:
		return c.mayYield(n.VectorSelector)
	case *parser.SubqueryExpr:
		return c.mayYield(n.Expr)
	case *parser.ParenExpr:
		return c.mayYield(n.Expr)
	case *parser.UnaryExpr:
		return c.mayYield(n.Expr)
	case *parser.AggregateExpr:
		// No input, no group: no output, whatever the parameter.
		return c.mayYield(n.Expr)
	case *parser.BinaryExpr:
		lv, rv := n.LHS.Type() == parser.ValueTypeVector, n.RHS.Type() == parser.ValueTypeVector
		switch {
		case !lv && !rv:
			return true // a scalar
		case !lv:
			return c.mayYield(n.RHS)
		case !rv:
			return c.mayYield(n.LHS)
		}
		if vm := n.VectorMatching; vm != nil && (vm.FillValues.LHS != nil || vm.FillValues.RHS != nil) {
			// A side with no match is filled in.
			return c.mayYield(n.LHS) || c.mayYield(n.RHS)
		}
		switch n.Op {
		case parser.LOR:
			return c.mayYield(n.LHS) || c.mayYield(n.RHS)
		case parser.LUNLESS:
			return c.mayYield(n.LHS)
		}
		// and, arithmetic and comparisons output matched pairs only.
		return c.mayYield(n.LHS) && c.mayYield(n.RHS)
	case *parser.Call:
		arg, ok := emptyPreserving[n.Func.Name]
		return !ok || arg >= len(n.Args) || c.mayYield(n.Args[arg])
	}
	return true
}
