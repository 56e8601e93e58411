package evaluator

import (
	"slices"
	"sync"

	"github.com/prometheus/prometheus/promql/parser"
)

// copyingParser is the parser of the sessions' query engines. The engine
// parses every query's string, a rule's at every evaluation, and a replay
// of a few series spends as long parsing its rules' long expressions as
// evaluating them. It parses
// each string once and then hands out copies of the tree, which the engine
// may change as it plans and runs the query (wrapping step-invariant nodes,
// attaching series to selectors): never the tree it keeps.
type copyingParser struct {
	parser.Parser
	mu    sync.Mutex
	trees map[string]parser.Expr
}

// maxParsedTrees bounds the trees a copyingParser keeps.
const maxParsedTrees = 10_000

func newCopyingParser(p parser.Parser) *copyingParser {
	return &copyingParser{Parser: p, trees: map[string]parser.Expr{}}
}

// ParseExpr returns a copy of the tree input parses to; errors and
// expressions copyExpr does not know are parsed each time.
func (p *copyingParser) ParseExpr(input string) (parser.Expr, error) {
	p.mu.Lock()
	tree, ok := p.trees[input]
	p.mu.Unlock()
	if ok {
		if c, ok := copyExpr(tree); ok {
			return c, nil
		}
	}
	expr, err := p.Parser.ParseExpr(input)
	if err != nil || ok {
		return expr, err
	}
	if _, copyable := copyExpr(expr); !copyable {
		return expr, nil
	}
	// Kept is a second parse: expr goes to the engine.
	kept, err := p.Parser.ParseExpr(input)
	if err != nil {
		return expr, nil
	}
	p.mu.Lock()
	if len(p.trees) < maxParsedTrees {
		p.trees[input] = kept
	}
	p.mu.Unlock()
	return expr, nil
}

// copyExpr copies a tree the parser made: every node, and every slice or
// pointer the engine could change, as a new parse would make them. It
// returns false for a node it does not know, or one with a duration
// expression or @ (which the fast path never queries).
func copyExpr(e parser.Expr) (parser.Expr, bool) {
	switch n := e.(type) {
	case *parser.VectorSelector:
		if n.OriginalOffsetExpr != nil || n.Timestamp != nil || n.Series != nil || n.UnexpandedSeriesSet != nil {
			return nil, false
		}
		c := *n
		c.LabelMatchers = slices.Clone(n.LabelMatchers)
		return &c, true
	case *parser.MatrixSelector:
		if n.RangeExpr != nil {
			return nil, false
		}
		c := *n
		vs, ok := copyExpr(n.VectorSelector)
		c.VectorSelector = vs
		return &c, ok
	case *parser.SubqueryExpr:
		if n.RangeExpr != nil || n.OriginalOffsetExpr != nil || n.StepExpr != nil || n.Timestamp != nil {
			return nil, false
		}
		c := *n
		inner, ok := copyExpr(n.Expr)
		c.Expr = inner
		return &c, ok
	case *parser.AggregateExpr:
		c := *n
		c.Grouping = slices.Clone(n.Grouping)
		inner, ok := copyExpr(n.Expr)
		c.Expr = inner
		if n.Param != nil && ok {
			c.Param, ok = copyExpr(n.Param)
		}
		return &c, ok
	case *parser.BinaryExpr:
		c := *n
		if vm := n.VectorMatching; vm != nil {
			m := *vm
			m.MatchingLabels = slices.Clone(vm.MatchingLabels)
			m.Include = slices.Clone(vm.Include)
			if vm.FillValues.LHS != nil {
				v := *vm.FillValues.LHS
				m.FillValues.LHS = &v
			}
			if vm.FillValues.RHS != nil {
				v := *vm.FillValues.RHS
				m.FillValues.RHS = &v
			}
			c.VectorMatching = &m
		}
		lhs, okL := copyExpr(n.LHS)
		rhs, okR := copyExpr(n.RHS)
		c.LHS, c.RHS = lhs, rhs
		return &c, okL && okR
	case *parser.Call:
		c := *n
		if n.Args != nil {
			c.Args = make(parser.Expressions, len(n.Args))
		}
		for i, a := range n.Args {
			var ok bool
			if c.Args[i], ok = copyExpr(a); !ok {
				return nil, false
			}
		}
		return &c, true
	case *parser.ParenExpr:
		c := *n
		inner, ok := copyExpr(n.Expr)
		c.Expr = inner
		return &c, ok
	case *parser.UnaryExpr:
		c := *n
		inner, ok := copyExpr(n.Expr)
		c.Expr = inner
		return &c, ok
	case *parser.NumberLiteral:
		c := *n
		return &c, true
	case *parser.StringLiteral:
		c := *n
		return &c, true
	}
	return nil, false
}
