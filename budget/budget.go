// Package budget names the budgets that bound what one run may cost, holds
// their defaults, and carries the error a library returns when a run asks
// for more than a budget allows.
//
// Libraries say what was asked and the limit (ExceededError); they do not
// know how the limit is set. The command line and the web sandbox each know
// their own flags: they word the hint, and Explain puts it after each
// exceeded budget's message when they print an error.
package budget

import (
	"strconv"
	"strings"
	"time"
)

// Name names a budget by what it bounds.
type Name string

// The budgets.
const (
	// InputSeries bounds the input series of one test group, or the series
	// one scenario generates.
	InputSeries Name = "input series"
	// InputSamples bounds the samples those series expand to (the omitted
	// values of a test group's series included).
	InputSamples Name = "input samples"
	// GroupEvaluations bounds the rule evaluations one test group, or one
	// replay in the web sandbox, may take.
	GroupEvaluations Name = "group evaluations"
	// QuerySamples bounds the samples one PromQL query may load, as
	// Prometheus' query.max-samples does.
	QuerySamples Name = "query samples"
	// BacktestEvaluations bounds the evaluations of one backtest (its
	// steps from --from to --to).
	BacktestEvaluations Name = "backtest evaluations"
	// ExprBytes bounds the bytes of one PromQL expression.
	ExprBytes Name = "expression bytes"
	// ExprDepth bounds how deep one PromQL expression nests.
	ExprDepth Name = "expression depth"
	// ExprOperators bounds the operators of one PromQL expression.
	ExprOperators Name = "expression operators"
	// QuerySteps bounds the steps of one query evaluation, its
	// subqueries' included.
	QuerySteps Name = "query steps"
	// LabelGrowth bounds how many times nested label_join and
	// label_replace calls may multiply a label value's size.
	LabelGrowth Name = "label growth"
	// LabelBytes bounds one label value, or one label set, of an alert.
	LabelBytes Name = "label bytes"
	// TemplateSteps bounds the function calls and loop iterations of one
	// template expansion.
	TemplateSteps Name = "template steps"
	// TemplateBytes bounds the output of one template expansion.
	TemplateBytes Name = "template output bytes"
	// TemplateTime bounds the milliseconds one template expansion takes.
	TemplateTime Name = "template time"
	// InputBytes bounds the bytes of one input file (a test, rule, lint,
	// scenario, configuration, token or CA file, or standard input).
	InputBytes Name = "input bytes"
	// ResponseBytes bounds the bytes of one HTTP response body a backtest
	// reads, after decompression.
	ResponseBytes Name = "response bytes"
	// ResponseSeries bounds the series of one query response a backtest
	// reads.
	ResponseSeries Name = "response series"
	// ResponseSamples bounds the samples of one query response a backtest
	// reads.
	ResponseSamples Name = "response samples"
	// ReplayEvaluations bounds the evaluations of one scenario replay (its
	// duration over its evaluation_interval, plus one), and those of one
	// verification, all its replays together.
	ReplayEvaluations Name = "replay evaluations"
)

// Defaults of the budgets, for the command line and the libraries alike.
const (
	// DefaultInputSeries is the default of InputSeries.
	DefaultInputSeries = 100_000
	// DefaultInputSamples is the default of InputSamples (real suites
	// expand to 20 million).
	DefaultInputSamples = 50_000_000
	// DefaultGroupEvaluations is the default of GroupEvaluations.
	DefaultGroupEvaluations = 5_000_000
	// DefaultQuerySamples is the default of QuerySamples, as promtool's
	// rule unit tests.
	DefaultQuerySamples = 10_000
	// DefaultBacktestEvaluations is the default of BacktestEvaluations.
	DefaultBacktestEvaluations = 1_000_000
	// DefaultExprBytes is the default of ExprBytes.
	DefaultExprBytes = 1 << 20
	// DefaultExprDepth is the default of ExprDepth.
	DefaultExprDepth = 1_000
	// DefaultExprOperators is the default of ExprOperators: parsing that
	// many takes tens of milliseconds.
	DefaultExprOperators = 2_000
	// DefaultQuerySteps is the default of QuerySteps: 16 bytes of
	// per-step statistics each, 80 MB.
	DefaultQuerySteps = 5_000_000
	// DefaultLabelGrowth is the default of LabelGrowth.
	DefaultLabelGrowth = 1_024
	// DefaultLabelBytes is the default of LabelBytes for one label value;
	// Prometheus cannot hold one of more than 16 MiB.
	DefaultLabelBytes = 1 << 20
	// DefaultLabelSetBytes is the default of LabelBytes for a label set.
	DefaultLabelSetBytes = 4 << 20
	// DefaultTemplateSteps is the default of TemplateSteps.
	DefaultTemplateSteps = 1_000_000
	// DefaultTemplateBytes is the default of TemplateBytes.
	DefaultTemplateBytes = 1 << 20
	// DefaultTemplateTime is the default of TemplateTime.
	DefaultTemplateTime = 10 * time.Second
	// DefaultInputBytes is the default of InputBytes: 64 MiB.
	DefaultInputBytes = 64 << 20
	// DefaultResponseBytes is the default of ResponseBytes: 64 MiB (the
	// client buffers a body whole, up to --concurrency of them at once).
	DefaultResponseBytes = 64 << 20
	// DefaultResponseSeries is the default of ResponseSeries.
	DefaultResponseSeries = 500_000
	// DefaultResponseSamples is the default of ResponseSamples.
	DefaultResponseSamples = 20_000_000
	// DefaultReplayEvaluations is the default of ReplayEvaluations: a
	// month of evaluations every 15s is 178,561.
	DefaultReplayEvaluations = 1_000_000
	// DefaultVerifyEvaluations is the default of ReplayEvaluations for
	// one verification, all its replays together: 200 runs of 8 eras and
	// scrape setups, 2h lives every minute, are 193,600, before shrinking
	// counterexamples.
	DefaultVerifyEvaluations = 10_000_000
)

// ExceededError says a run asks for more than a budget allows. It does not
// say how to raise the limit: that is the caller's to word (Explain).
type ExceededError struct {
	// Budget is the budget exceeded.
	Budget Name
	// Limit is the budget's limit, and Asked what the run asks for.
	Limit, Asked uint64
	// Subject words what asks too much, Asked included, such as
	// "3 input series": the message is Subject, then the limit.
	Subject string
}

// Error words the error as "SUBJECT, over the limit of LIMIT".
func (e *ExceededError) Error() string {
	return e.Subject + ", over the limit of " + strconv.FormatUint(e.Limit, 10)
}

// Hint words how to raise the budget err exceeded, such as
// " (raise it with --max-series)", or returns "" for an error that is no
// exceeded budget it knows. Explain asks it about the errors at the leaves
// of an error tree only, each on its own.
type Hint func(err error) string

// Explain returns err's message with, right after the message of each error
// at a leaf of its tree (errors.Join, %w) that hint words a hint for, that
// hint. The messages of wrapping errors must contain their causes' (as %w
// and %v word them); a cause whose message is not found is left without a
// hint. A nil hint adds nothing; a nil error is "".
func Explain(err error, hint Hint) string {
	if err == nil {
		return ""
	}
	msg := err.Error()
	if hint == nil {
		return msg
	}
	var b strings.Builder
	rest := msg // after the last hint placed: the leaves come in message order
	var walk func(error)
	walk = func(e error) {
		var causes []error
		switch u := e.(type) {
		case interface{ Unwrap() error }:
			if c := u.Unwrap(); c != nil {
				causes = []error{c}
			}
		case interface{ Unwrap() []error }:
			causes = u.Unwrap()
		}
		if len(causes) > 0 {
			for _, c := range causes {
				if c != nil {
					walk(c)
				}
			}
			return
		}
		h := hint(e)
		if h == "" {
			return
		}
		m := e.Error()
		i := strings.Index(rest, m)
		if i < 0 {
			return
		}
		b.WriteString(rest[:i+len(m)])
		b.WriteString(h)
		rest = rest[i+len(m):]
	}
	walk(err)
	b.WriteString(rest)
	return b.String()
}
