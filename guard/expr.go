package guard

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/gotk-rules/gotk-rules/budget"
)

// CheckExpr checks src against the default limits before it is parsed
// (Limits.CheckExpr).
func CheckExpr(src string) error { return Default().CheckExpr(src) }

// CheckExpr checks the PromQL expression src before it is parsed, with a
// scan of its bytes that is linear whatever src holds: its size, how deep
// its brackets nest and how many operators it has bound how long the
// upstream parser takes. String literals and comments are skipped; an
// operator is counted wherever its characters stand outside them, so the
// count is an upper bound.
func (l Limits) CheckExpr(src string) error {
	l = l.WithDefaults()
	if len(src) > l.MaxExprBytes {
		return exceeded(src, l.MaxExprBytes, budget.ExprBytes, uint64(l.MaxExprBytes), uint64(len(src)),
			fmt.Sprintf("expression of %d bytes", len(src)))
	}
	depth, ops := 0, 0
	for i := 0; i < len(src); i++ {
		c, at := src[i], i
		switch c {
		case '"', '\'', '`':
			i = skipString(src, i)
		case '#':
			for i < len(src) && src[i] != '\n' {
				i++
			}
		case '(', '[', '{':
			if depth++; depth > l.MaxDepth {
				return exceeded(src, i, budget.ExprDepth, uint64(l.MaxDepth), uint64(depth),
					fmt.Sprintf("expression depth of more than %d: brackets nested %d deep", l.MaxDepth, depth))
			}
		case ')', ']', '}':
			depth = max(0, depth-1)
		case '+', '-', '*', '/', '%', '^', '<', '>':
			ops++
			if i+1 < len(src) && src[i+1] == '=' {
				i++
			}
		case '=', '!':
			if i+1 < len(src) && src[i+1] == '=' {
				ops++
				i++
			}
		default:
			if !isWordByte(c) {
				continue
			}
			j := i
			for j < len(src) && isWordByte(src[j]) {
				j++
			}
			switch strings.ToLower(src[i:j]) {
			case "and", "or", "unless", "atan2":
				ops++
			}
			i = j - 1
		}
		if ops > l.MaxOperators {
			return exceeded(src, at, budget.ExprOperators, uint64(l.MaxOperators), uint64(ops),
				fmt.Sprintf("expression of more than %d operators", l.MaxOperators))
		}
	}
	return nil
}

func isWordByte(c byte) bool {
	return c == '_' || c == ':' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// skipString returns the offset of the quote closing the string literal
// opened at src[i], or the last offset when it is not closed.
func skipString(src string, i int) int {
	q := src[i]
	for j := i + 1; j < len(src); j++ {
		switch src[j] {
		case '\\':
			if q != '`' {
				j++
			}
		case q:
			return j
		}
	}
	return len(src) - 1
}

// Eval says how an expression is evaluated, for CheckAST.
type Eval struct {
	// Range is the range of a range query, zero for an instant query.
	Range time.Duration
	// Step is the step of a range query.
	Step time.Duration
	// SubqueryStep is the step of subqueries written without one: the
	// evaluation interval. Zero counts them as one minute's.
	SubqueryStep time.Duration
}

// defaultSubqueryStep is the step of subqueries without one when Eval does
// not say it: Prometheus' default evaluation interval.
const defaultSubqueryStep = time.Minute

// CheckAST checks expr, parsed from src, for one evaluation as ev says:
// how deep its tree nests (the engine evaluates it recursively), how many
// steps its evaluation takes (a range query's and each subquery's, which
// the engine allocates per-step statistics for), and how much nested
// label_join and label_replace calls may multiply a label value. Errors
// are *PosError at the node in src.
func (l Limits) CheckAST(expr parser.Expr, src string, ev Eval) error {
	l = l.WithDefaults()
	c := &checker{l: l, src: src, ev: ev}
	if ev.Step > 0 && ev.Range > 0 {
		c.steps = float64(ev.Range/ev.Step) + 1
		if c.steps > float64(l.MaxSteps) {
			return exceeded(src, 0, budget.QuerySteps, uint64(l.MaxSteps), saturate(c.steps),
				fmt.Sprintf("range query of %d query steps", saturate(c.steps)))
		}
	}
	base := c.steps
	err := c.walk(expr, ev.Range, 1)
	if err != nil || !c.durations {
		return err
	}
	// Duration expressions are computed at query time: compute them on a
	// copy, as the engine will, and check again.
	cp, perr := parser.NewParser(parser.Options{ExperimentalDurationExpr: true, EnableExperimentalFunctions: true,
		EnableExtendedRangeSelectors: true, EnableBinopFillModifiers: true}).ParseExpr(src)
	if perr != nil {
		return nil
	}
	step := ev.Step
	if step <= 0 {
		step = time.Minute
	}
	p, perr := promql.PreprocessExpr(cp, time.Unix(0, 0), time.Unix(0, 0).Add(ev.Range), step)
	if perr != nil {
		return nil
	}
	c.steps = base
	return c.walk(p, ev.Range, 1)
}

// checker walks a tree.
type checker struct {
	l     Limits
	src   string
	ev    Eval
	steps float64
	// durations is set when the tree has a duration expression.
	durations bool
}

// walk checks n, at depth in the tree, evaluated over span (the range its
// evaluation covers, an instant query's 0), and returns the first limit
// hit.
func (c *checker) walk(n parser.Node, span time.Duration, depth int) error {
	if n == nil {
		return nil
	}
	if depth > c.l.MaxDepth {
		return exceeded(c.src, int(n.PositionRange().Start), budget.ExprDepth, uint64(c.l.MaxDepth), uint64(depth),
			fmt.Sprintf("expression depth of more than %d: calls and operators nested %d deep", c.l.MaxDepth, depth))
	}
	switch n := n.(type) {
	case *parser.VectorSelector, *parser.NumberLiteral, *parser.StringLiteral:
		return nil
	case *parser.MatrixSelector:
		c.durations = c.durations || n.RangeExpr != nil
		return nil
	case *parser.SubqueryExpr:
		c.durations = c.durations || n.RangeExpr != nil || n.StepExpr != nil
		step := n.Step
		if step <= 0 {
			step = c.ev.SubqueryStep
		}
		if step <= 0 {
			step = defaultSubqueryStep
		}
		inner := span + n.Range
		steps := float64(inner)/float64(step) + 1
		c.steps += steps
		if c.steps > float64(c.l.MaxSteps) {
			return exceeded(c.src, int(n.PositionRange().Start), budget.QuerySteps, uint64(c.l.MaxSteps), saturate(c.steps),
				fmt.Sprintf("subquery %s takes %d query steps per evaluation", c.quote(n), saturate(steps)))
		}
		return c.walk(n.Expr, inner, depth+1)
	case *parser.BinaryExpr:
		if err := c.walk(n.LHS, span, depth+1); err != nil {
			return err
		}
		return c.walk(n.RHS, span, depth+1)
	case *parser.ParenExpr:
		return c.walk(n.Expr, span, depth+1)
	case *parser.UnaryExpr:
		return c.walk(n.Expr, span, depth+1)
	case *parser.AggregateExpr:
		if err := c.walk(n.Param, span, depth+1); err != nil {
			return err
		}
		return c.walk(n.Expr, span, depth+1)
	case *parser.Call:
		if g := labelGrowth(n); g > 1 {
			if total := g * c.growthBelow(n); total > float64(c.l.MaxLabelGrowth) {
				return exceeded(c.src, int(n.PositionRange().Start), budget.LabelGrowth, uint64(c.l.MaxLabelGrowth), saturate(total),
					fmt.Sprintf("%s nesting has a label growth of %d (a label value may get %d times as long)", n.Func.Name, saturate(total), saturate(total)))
			}
		}
		for _, a := range n.Args {
			if err := c.walk(a, span, depth+1); err != nil {
				return err
			}
		}
		return nil
	case *parser.DurationExpr:
		c.durations = true
	}
	for _, ch := range parser.Children(n) {
		if err := c.walk(ch, span, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// growthBelow is how many times the calls below n may multiply a label
// value, at most.
func (c *checker) growthBelow(n parser.Node) float64 {
	g := 1.0
	for _, ch := range parser.Children(n) {
		if call, ok := ch.(*parser.Call); ok {
			g = max(g, labelGrowth(call)*c.growthBelow(call))
		} else {
			g = max(g, c.growthBelow(ch))
		}
	}
	return g
}

// labelGrowth is how many times call may multiply a label value's size:
// label_join's sources, label_replace's references to groups.
func labelGrowth(call *parser.Call) float64 {
	switch call.Func.Name {
	case "label_join":
		return float64(max(1, len(call.Args)-3))
	case "label_replace":
		if len(call.Args) > 2 {
			if s, ok := call.Args[2].(*parser.StringLiteral); ok {
				return float64(max(1, strings.Count(s.Val, "$")))
			}
		}
	}
	return 1
}

// quote is the text of n in the source, shortened.
func (c *checker) quote(n parser.Node) string {
	pr := n.PositionRange()
	s := ""
	if int(pr.Start) >= 0 && int(pr.End) <= len(c.src) && pr.Start < pr.End {
		s = c.src[pr.Start:pr.End]
	} else {
		s = n.String()
	}
	if len(s) > 60 {
		s = s[:57] + "..."
	}
	return s
}

func saturate(f float64) uint64 {
	if f >= math.MaxUint64 || math.IsNaN(f) {
		return math.MaxUint64
	}
	return uint64(f)
}

// Parser is a PromQL parser that checks every expression (Limits'
// CheckExpr and CheckAST) and refuses what is over a limit, for an engine
// whose queries are evaluated as Eval says. Its other methods are the
// inner parser's.
type Parser struct {
	parser.Parser
	// Limits are the limits, defaults filled in.
	Limits Limits
	// Eval is how the expressions parsed are evaluated.
	Eval Eval
	// FastMetric, when set, reads the usual metric to the labels the inner
	// parser's ParseMetric would give, faster (series.ParseMetric); ok is
	// false for a metric it leaves to that parser.
	FastMetric func(metric string) (lset labels.Labels, ok bool)
}

// NewParser wraps p with the limits l for expressions evaluated as ev.
func NewParser(p parser.Parser, l Limits, ev Eval) *Parser {
	return &Parser{Parser: p, Limits: l.WithDefaults(), Eval: ev}
}

// ParseExpr checks input, parses it, and checks the tree.
func (p *Parser) ParseExpr(input string) (parser.Expr, error) {
	if err := p.Limits.CheckExpr(input); err != nil {
		return nil, err
	}
	if err := p.Limits.CheckLabels(input); err != nil {
		return nil, err
	}
	expr, err := p.Parser.ParseExpr(input)
	if err != nil {
		return expr, err
	}
	if err := p.Limits.CheckAST(expr, input, p.Eval); err != nil {
		return nil, err
	}
	return expr, nil
}

// HardMaxLabelBytes is the longest label name or value Prometheus can
// hold: longer, building its labels panics.
const HardMaxLabelBytes = 1 << 24

// CheckLabels checks the string literals of src, a metric, a series
// description or an expression, before it is parsed: each must be at most
// l's MaxLabelBytes, and src at most its MaxLabelSetBytes when it is
// longer than MaxExprBytes. Prometheus' parser panics on a label value of
// more than 16 MiB.
func (l Limits) CheckLabels(src string) error {
	l = l.WithDefaults()
	if len(src) > max(l.MaxLabelSetBytes, l.MaxExprBytes) {
		return exceeded(src, 0, budget.LabelBytes, uint64(max(l.MaxLabelSetBytes, l.MaxExprBytes)), uint64(len(src)),
			fmt.Sprintf("labels of %d label bytes", len(src)))
	}
	if at, n := longString(src, l.MaxLabelBytes); at >= 0 {
		return exceeded(src, at, budget.LabelBytes, uint64(l.MaxLabelBytes), uint64(n),
			fmt.Sprintf("string of %d label bytes", n))
	}
	return nil
}

// CheckHardLabels refuses a string literal in src longer than Prometheus
// can hold as a label (HardMaxLabelBytes), whatever the limits: building
// it panics.
func CheckHardLabels(src string) error {
	if at, n := longString(src, HardMaxLabelBytes); at >= 0 {
		line, col := lineCol(src, at)
		return fmt.Errorf("%d:%d: string of %d bytes, longer than the %d bytes Prometheus can hold in a label", line, col, n, HardMaxLabelBytes)
	}
	return nil
}

// longString returns the offset and length of the first string literal of
// src longer than limit, or -1.
func longString(src string, limit int) (int, int) {
	for i := 0; i < len(src); i++ {
		switch src[i] {
		case '"', '\'', '`':
			end := skipString(src, i)
			if n := end - i - 1; n > limit {
				return i, n
			}
			i = end
		}
	}
	return -1, 0
}

// ParseMetric checks the label sizes of input (CheckLabels), then parses
// it.
func (p *Parser) ParseMetric(input string) (labels.Labels, error) {
	if err := p.Limits.CheckLabels(input); err != nil {
		return labels.EmptyLabels(), err
	}
	if p.FastMetric != nil {
		if lset, ok := p.FastMetric(input); ok {
			return lset, nil
		}
	}
	return p.Parser.ParseMetric(input)
}

// ParseSeriesDesc checks the label sizes of input (CheckLabels), then
// parses it.
func (p *Parser) ParseSeriesDesc(input string) (labels.Labels, []parser.SequenceValue, error) {
	if err := p.Limits.CheckLabels(input); err != nil {
		return labels.EmptyLabels(), nil, err
	}
	return p.Parser.ParseSeriesDesc(input)
}
