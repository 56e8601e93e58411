package evaluator

import (
	"runtime"
	"sync"
	"time"
	"weak"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/rules"

	"github.com/gotk-rules/gotk-rules/rulefile"
)

// What sessions share. A replay of a few series takes milliseconds, and
// verify runs thousands: building a PromQL engine (its metrics) and parsing
// the rules' expressions again for each cost as much as the replay. Both
// are kept, per Engine and per rule file Loader, for as long as these live.

// engineKey names a PromQL engine built by promqlEngine.
type engineKey struct {
	subqueryStep time.Duration
	maxSamples   int
	rangeQueries bool // the fast path's range engine
}

// sharedEngines are the PromQL engines of each Engine's sessions.
var sharedEngines sync.Map // weak.Pointer[Engine] -> *engineSet

type engineSet struct {
	mu      sync.Mutex
	engines map[engineKey]*promql.Engine
	// metrics are the rule groups' metrics, which nothing reads; each
	// group adds its own children to them, so they are made anew after
	// metricsUses sessions instead of growing for ever.
	metrics     *rules.Metrics
	metricsUses int
	// parser is the engines' (see copyingParser).
	parser *copyingParser
}

// metricsUses is how many sessions share one rules.Metrics.
const metricsUses = 1024

// sharedRuleMetrics returns rule group metrics to share with other sessions.
func (e *Engine) sharedRuleMetrics() *rules.Metrics {
	set := e.engineSet()
	set.mu.Lock()
	defer set.mu.Unlock()
	if set.metrics == nil || set.metricsUses >= metricsUses {
		set.metrics, set.metricsUses = rules.NewGroupMetrics(nil), 0
	}
	set.metricsUses++
	return set.metrics
}

func (e *Engine) engineSet() *engineSet {
	return weakShared(&sharedEngines, e, func() *engineSet { return &engineSet{engines: map[engineKey]*promql.Engine{}} })
}

// sharedQueryEngine is promqlEngine's engine, built once per Engine and
// arguments. A PromQL engine is safe for concurrent use and holds no state
// between queries but its metrics; sessions do not close it. Its parser
// parses each query string once (copyingParser): a rule's query is the
// same string at every evaluation.
func (e *Engine) sharedQueryEngine(subqueryStep time.Duration, maxSamples int) *promql.Engine {
	return e.sharedEngine(engineKey{subqueryStep, maxSamples, false})
}

// sharedRangeEngine is sharedQueryEngine for the fast path's range
// queries, which counts their steps against the limits.
func (e *Engine) sharedRangeEngine(subqueryStep time.Duration, maxSamples int) *promql.Engine {
	return e.sharedEngine(engineKey{subqueryStep, maxSamples, true})
}

func (e *Engine) sharedEngine(k engineKey) *promql.Engine {
	set := e.engineSet()
	set.mu.Lock()
	defer set.mu.Unlock()
	qe, ok := set.engines[k]
	if !ok {
		if set.parser == nil {
			set.parser = newCopyingParser(e.parser)
		}
		copying := *e
		copying.parser = set.parser
		copying.rangeQueries = k.rangeQueries
		qe = copying.promqlEngine(k.subqueryStep, k.maxSamples)
		set.engines[k] = qe
	}
	return qe
}

// weakShared returns the value m holds for owner, made by mk the first
// time; it is dropped once owner is garbage.
func weakShared[O, V any](m *sync.Map, owner *O, mk func() *V) *V {
	k := weak.Make(owner)
	if v, ok := m.Load(k); ok {
		return v.(*V)
	}
	v, loaded := m.LoadOrStore(k, mk())
	if !loaded {
		runtime.AddCleanup(owner, func(k weak.Pointer[O]) { m.Delete(k) }, k)
	}
	return v.(*V)
}

// parsedExprs are the expressions each Loader parsed for rule groups.
var parsedExprs sync.Map // weak.Pointer[rulefile.Loader] -> *exprCache

// maxParsedExprs bounds the expressions kept per loader.
const maxParsedExprs = 10_000

type exprCache struct {
	mu     sync.Mutex
	byText map[string]parser.Expr
	// strings are the expressions' String(), which rules query with.
	strings map[parser.Expr]string
	// shapes are what the fast path found of each expression (shapeOf).
	shapes map[parser.Expr]exprShape
}

// exprShape is what the fast path reads of an expression alone, whatever
// the input.
type exprShape struct {
	looksAhead, cannotFail bool
}

// shapeOf returns expr's shape, found once per expression the loader
// parsed.
func (l cachingLoader) shapeOf(expr parser.Expr) exprShape {
	c := l.cache
	c.mu.Lock()
	sh, ok := c.shapes[expr]
	c.mu.Unlock()
	if ok {
		return sh
	}
	sh = exprShape{looksAhead: looksAhead(expr), cannotFail: cannotFail(expr)}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ours := c.strings[expr]; ours {
		c.shapes[expr] = sh
	}
	return sh
}

// cachingLoader is a rule group loader that parses each expression once
// for all sessions. The expressions are shared: rules only read them (the
// engine parses the string a rule queries with).
type cachingLoader struct {
	*rulefile.Loader
	cache *exprCache
}

var _ rules.GroupLoader = cachingLoader{}

func newCachingLoader(l *rulefile.Loader) cachingLoader {
	return cachingLoader{Loader: l, cache: weakShared(&parsedExprs, l, func() *exprCache {
		return &exprCache{byText: map[string]parser.Expr{}, strings: map[parser.Expr]string{}, shapes: map[parser.Expr]exprShape{}}
	})}
}

// Load implements rules.GroupLoader.
func (l cachingLoader) Load(identifier string, ignoreUnknownFields bool, scheme model.ValidationScheme) (*rulefmt.RuleGroups, []error) {
	return l.Loader.Load(identifier, ignoreUnknownFields, scheme)
}

// Parse implements rules.GroupLoader.
func (l cachingLoader) Parse(query string) (parser.Expr, error) {
	c := l.cache
	c.mu.Lock()
	expr, ok := c.byText[query]
	c.mu.Unlock()
	if ok {
		return expr, nil
	}
	// Errors are not kept: the group fails to load, once.
	expr, err := l.Loader.Parse(query)
	if err != nil {
		return expr, err
	}
	str := expr.String()
	c.mu.Lock()
	defer c.mu.Unlock()
	if prev, ok := c.byText[query]; ok {
		return prev, nil // parsed meanwhile by another session
	}
	if len(c.byText) < maxParsedExprs {
		c.byText[query] = expr
		c.strings[expr] = str
	}
	return expr, nil
}

// String returns expr.String() for an expression the loader parsed.
func (l cachingLoader) String(expr parser.Expr) string {
	l.cache.mu.Lock()
	s, ok := l.cache.strings[expr]
	l.cache.mu.Unlock()
	if !ok {
		s = expr.String()
	}
	return s
}

// queryString is the query a rule evaluates.
func queryString(r rules.Rule) string {
	if ar, ok := r.(*AlertingRule); ok {
		return ar.exprString
	}
	return r.Query().String()
}
