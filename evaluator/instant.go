package evaluator

import (
	"context"
	"sync"
	"time"

	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/gotk-rules/gotk-rules/guard"
)

// Instant parses and answers the expressions of test files (promtool's
// promql_expr_test, and the checks that read them) with each expression
// string parsed once: a test file of many groups and long expression
// lists would otherwise parse every expression three times per group (to
// check it, to look at what it reads, and in the engine). Its results are
// those of Engine.Parser and Session.Query. It is safe for concurrent use.
type Instant struct {
	e *Engine
	// trees holds each string's parse by the engine's upstream parser.
	trees *treeCache
	// guarded is Engine.Parser over trees.
	guarded *guard.Parser

	mu      sync.Mutex
	engines map[instantKey]*promql.Engine
}

type instantKey struct {
	subqueryStep time.Duration
	maxSamples   int
}

// NewInstant returns an Instant for the sessions of e.
func (e *Engine) NewInstant() *Instant {
	t := &treeCache{p: e.parser, trees: map[string]parsedTree{}}
	return &Instant{
		e:       e,
		trees:   t,
		guarded: guard.NewParser(sharedTrees{e.parser, t}, e.opts.Limits, guard.Eval{}),
		engines: map[instantKey]*promql.Engine{},
	}
}

// Parse parses input as Engine.Parser does, limits checked, with the same
// result and error. The tree is shared by every caller: read it, never
// change it.
func (in *Instant) Parse(input string) (parser.Expr, error) {
	return in.guarded.ParseExpr(input)
}

// RuleParser is Engine.Parser for a rule file loader (rulefile.NewLoader):
// the same checks, results and errors, each tree a copy of the one parsed
// once, which Parse hands out too. A rule's expression is then parsed once
// for validating its file, loading its group and the checks of every test
// group that loads it.
func (in *Instant) RuleParser() *guard.Parser {
	return guard.NewParser(copiedTrees{in.e.parser, in.trees}, in.e.opts.Limits, guard.Eval{})
}

// Query is s.Query(ctx, expr, ts), s being a session of the Instant's
// engine: the same query engine settings and result, with the expression's
// tree copied from the one parsed once instead of parsed again.
func (in *Instant) Query(ctx context.Context, s *Session, expr string, ts time.Time) (promql.Vector, error) {
	return s.queryWith(ctx, in.engine(s), in.Parse, expr, ts)
}

// engine is the session's query engine (Session.qe: sharedQueryEngine of
// its evaluation interval and the engine's sample limit) but for its
// parser, which copies trees from the cache.
func (in *Instant) engine(s *Session) *promql.Engine {
	k := instantKey{s.opts.EvalInterval, in.e.opts.MaxQuerySamples}
	in.mu.Lock()
	defer in.mu.Unlock()
	qe, ok := in.engines[k]
	if !ok {
		c := *in.e
		c.parser = copiedTrees{in.e.parser, in.trees}
		qe = c.promqlEngine(k.subqueryStep, k.maxSamples)
		in.engines[k] = qe
	}
	return qe
}

// maxInstantTrees bounds the trees an Instant keeps; past it, strings not
// kept are parsed each time.
const maxInstantTrees = 100_000

// parsedTree is one string's parse: its tree or its error.
type parsedTree struct {
	expr parser.Expr
	err  error
}

// treeCache parses each string once with p and keeps the result.
type treeCache struct {
	p     parser.Parser
	mu    sync.Mutex
	trees map[string]parsedTree
}

func (t *treeCache) parse(input string) parsedTree {
	t.mu.Lock()
	pt, ok := t.trees[input]
	t.mu.Unlock()
	if ok {
		return pt
	}
	expr, err := t.p.ParseExpr(input)
	pt = parsedTree{expr: expr, err: err}
	t.mu.Lock()
	if prev, ok := t.trees[input]; ok {
		pt = prev // another goroutine was first: one tree for all
	} else if len(t.trees) < maxInstantTrees {
		t.trees[input] = pt
	}
	t.mu.Unlock()
	return pt
}

// sharedTrees is the upstream parser handing out the kept trees themselves.
type sharedTrees struct {
	parser.Parser
	t *treeCache
}

func (s sharedTrees) ParseExpr(input string) (parser.Expr, error) {
	pt := s.t.parse(input)
	return pt.expr, pt.err
}

// copiedTrees is the upstream parser handing out copies of the kept trees,
// which the engine may change as it plans and runs a query. A tree
// copyExpr cannot copy, and an error, come from a new parse.
type copiedTrees struct {
	parser.Parser
	t *treeCache
}

func (c copiedTrees) ParseExpr(input string) (parser.Expr, error) {
	if pt := c.t.parse(input); pt.err == nil {
		if cp, ok := copyExpr(pt.expr); ok {
			return cp, nil
		}
	}
	return c.Parser.ParseExpr(input)
}
