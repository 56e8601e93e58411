// Package evaluator embeds Prometheus' PromQL engine, TSDB head and rule
// manager to replay rule groups over synthetic series with Prometheus' own
// semantics: evaluation every group interval, pending and firing alerts after
// `for`, `keep_firing_for`, the lookback window, staleness markers, ALERTS and
// ALERTS_FOR_STATE series, recording rules feeding later rules and templated
// labels and annotations.
//
// The PromQL parser and engine are built here and only here, from one
// Options value, so every command parses and evaluates alike.
package evaluator

import (
	"fmt"
	"strings"
	"time"

	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/gotk-rules/gotk-rules/budget"
	"github.com/gotk-rules/gotk-rules/guard"
	"github.com/gotk-rules/gotk-rules/series"
)

// Features are optional PromQL features, named as promtool's --enable-feature.
type Features struct {
	ExperimentalFunctions  bool // promql-experimental-functions
	DelayedNameRemoval     bool // promql-delayed-name-removal
	ExtendedRangeSelectors bool // promql-extended-range-selectors
	BinopFillModifiers     bool // promql-binop-fill-modifiers
}

// FeatureNames lists the names ParseFeatures accepts.
var FeatureNames = []string{
	"promql-experimental-functions",
	"promql-delayed-name-removal",
	"promql-extended-range-selectors",
	"promql-binop-fill-modifiers",
	"promql-duration-expr",
}

// ParseFeatures reads promtool --enable-feature values, each a
// comma-separated list. It returns the unknown names separately, as promtool
// only warns about them.
func ParseFeatures(values []string) (Features, []string) {
	var f Features
	var unknown []string
	for _, v := range values {
		for _, name := range strings.Split(v, ",") {
			switch strings.TrimSpace(name) {
			case "promql-experimental-functions":
				f.ExperimentalFunctions = true
			case "promql-delayed-name-removal":
				f.DelayedNameRemoval = true
			case "promql-extended-range-selectors":
				f.ExtendedRangeSelectors = true
			case "promql-binop-fill-modifiers":
				f.BinopFillModifiers = true
			case "promql-duration-expr", "":
				// Always on, as in promtool.
			default:
				unknown = append(unknown, name)
			}
		}
	}
	return f, unknown
}

// Defaults match promtool's rule unit tests.
const (
	DefaultLookbackDelta = 5 * time.Minute
	DefaultQueryTimeout  = 100 * time.Second
)

// Options configure the parser and engine.
type Options struct {
	Features Features
	// LookbackDelta is how far back an instant selector looks (default 5m).
	LookbackDelta time.Duration
	// MaxQuerySamples bounds the samples one query may load
	// (budget.QuerySamples; zero: budget.DefaultQuerySamples).
	MaxQuerySamples int
	// QueryTimeout bounds one query (default 100s).
	QueryTimeout time.Duration
	// Limits bound every expression parsed, every query evaluated and
	// every template expanded (zero fields: guard's defaults).
	Limits guard.Limits
}

// Engine holds the parser and the engine options every session uses.
type Engine struct {
	opts Options
	// parser is the upstream parser; guarded checks every expression
	// against the limits first, and every parse goes through it.
	parser  parser.Parser
	guarded *guard.Parser
	// rangeQueries is set on the copies that build the fast path's range
	// engines (sharedRangeEngine).
	rangeQueries bool
}

// NewEngine builds the parser for opts; sessions build their engines from it.
func NewEngine(opts Options) *Engine {
	if opts.LookbackDelta == 0 {
		opts.LookbackDelta = DefaultLookbackDelta
	}
	if opts.MaxQuerySamples == 0 {
		opts.MaxQuerySamples = budget.DefaultQuerySamples
	}
	if opts.QueryTimeout == 0 {
		opts.QueryTimeout = DefaultQueryTimeout
	}
	opts.Limits = opts.Limits.WithDefaults()
	p := parser.NewParser(parser.Options{
		EnableExperimentalFunctions:  opts.Features.ExperimentalFunctions,
		ExperimentalDurationExpr:     true,
		EnableExtendedRangeSelectors: opts.Features.ExtendedRangeSelectors,
		EnableBinopFillModifiers:     opts.Features.BinopFillModifiers,
	})
	// Rule files and test expressions: subqueries without a step are
	// counted at Prometheus' default interval; the engine counts them at
	// the session's (promqlEngine).
	guarded := guard.NewParser(p, opts.Limits, guard.Eval{})
	// Input series' and expected samples' metrics: the series notation's
	// reader gives the parser's labels, many times faster.
	guarded.FastMetric = series.ParseMetric
	return &Engine{
		opts:    opts,
		parser:  p,
		guarded: guarded,
	}
}

// Parser returns the PromQL parser rules and queries are parsed with: it
// refuses an expression over a limit (Options.Limits) with an error
// wrapping a *budget.ExceededError, positioned in the expression.
func (e *Engine) Parser() parser.Parser { return e.guarded }

// Options returns the options the engine was built with, defaults filled in.
func (e *Engine) Options() Options { return e.opts }

// QueryEngine builds the PromQL engine a session evaluates rules with: the
// options' lookback, per-query sample limit and timeout, and subqueries
// without a step at subqueryStep (the evaluation interval). It is for
// callers that answer a session's queries themselves (SessionOptions'
// QueryFunc) and must evaluate them as the session would; close it after.
func (e *Engine) QueryEngine(subqueryStep time.Duration) *promql.Engine {
	return e.promqlEngine(subqueryStep, e.opts.MaxQuerySamples)
}

// promqlEngine builds a query engine whose subqueries without a step use
// subqueryStep, as Prometheus uses the global evaluation interval, and whose
// queries may load up to maxSamples samples.
func (e *Engine) promqlEngine(subqueryStep time.Duration, maxSamples int) *promql.Engine {
	step := subqueryStep.Milliseconds()
	ev := guard.Eval{SubqueryStep: subqueryStep}
	if e.rangeQueries {
		// The fast path's range queries span up to chunkSteps steps: a
		// query over a limit there is left to instant queries, which
		// refuse it as a rule's evaluation would.
		ev.Range, ev.Step = chunkSteps*subqueryStep, subqueryStep
	}
	return promql.NewEngine(promql.EngineOpts{
		MaxSamples:               maxSamples,
		Timeout:                  e.opts.QueryTimeout,
		LookbackDelta:            e.opts.LookbackDelta,
		NoStepSubqueryIntervalFn: func(int64) int64 { return step },
		EnableAtModifier:         true,
		EnableNegativeOffset:     true,
		EnableDelayedNameRemoval: e.opts.Features.DelayedNameRemoval,
		Parser:                   guard.NewParser(e.parser, e.opts.Limits, ev),
	})
}

// String describes the enabled features, for debug output.
func (f Features) String() string {
	var on []string
	if f.ExperimentalFunctions {
		on = append(on, "promql-experimental-functions")
	}
	if f.DelayedNameRemoval {
		on = append(on, "promql-delayed-name-removal")
	}
	if f.ExtendedRangeSelectors {
		on = append(on, "promql-extended-range-selectors")
	}
	if f.BinopFillModifiers {
		on = append(on, "promql-binop-fill-modifiers")
	}
	if len(on) == 0 {
		return "none"
	}
	return fmt.Sprint(on)
}
