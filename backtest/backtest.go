package backtest

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/promql"

	"github.com/gotk-rules/gotk-rules/budget"
	"github.com/gotk-rules/gotk-rules/evaluator"
	"github.com/gotk-rules/gotk-rules/rulefile"
)

// DefaultMaxEvals bounds the evaluations of one backtest
// (budget.BacktestEvaluations).
const DefaultMaxEvals = budget.DefaultBacktestEvaluations

// Options configure a backtest.
type Options struct {
	Client *Client
	Engine *evaluator.Engine
	// Loader reads the rule files (default: a new one).
	Loader    *rulefile.Loader
	RuleFiles []string
	// From and To are the first and last evaluation times; From is aligned
	// down to a multiple of Step (since the Unix epoch), To down to the
	// last evaluation at or before it.
	From, To time.Time
	// Step is the time between evaluations (default 1m): every rule group is
	// evaluated at every step, as the rule manager would every interval.
	Step time.Duration
	// MaxPoints bounds the evaluations one query_range asks for (default 11,000).
	MaxPoints int
	// MaxEvals bounds the evaluations of the backtest (default 1,000,000).
	MaxEvals int
	// CompareAlerts compares the result with the server's ALERTS series.
	CompareAlerts bool
	// IgnoreLabels are dropped from both sides before comparing with ALERTS
	// (such as the external labels a Thanos Query adds).
	IgnoreLabels []string
	// Tolerance: differences with ALERTS lasting at most this long are
	// counted, not listed: the server evaluated at other instants, so its
	// changes show up to one evaluation later. Zero means one step; negative, none.
	Tolerance time.Duration
}

// InputError is a problem with the backtest's input (rules, times): exit 2.
type InputError struct{ Err error }

func (e *InputError) Error() string { return e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }

// Result is a backtest's outcome.
type Result struct {
	URL   string
	From  time.Time
	To    time.Time
	Step  time.Duration
	Evals int
	// Tolerance is the comparison's (see Options).
	Tolerance time.Duration
	// Rules are the alerting rules' names, in evaluation order, once each.
	Rules    []string
	Timeline *evaluator.Timeline
	PerDay   []DayCount
	// Server is the comparison with the server's ALERTS, per alerting rule
	// name (nil when not asked for).
	Server   []ServerAlerts
	Warnings []string
	Stats    Stats
	// RangeQueries and InstantQueries count the queries (retries apart).
	RangeQueries, InstantQueries int
}

// Backtest is a prepared backtest: rules loaded, times checked.
type Backtest struct {
	opts  Options
	g     grid
	sess  *evaluator.Session
	exprs []string
	rules []string
	src   *source
}

// New checks the options and loads the rules; its errors are *InputError.
// Close the backtest when done.
func New(opts Options) (*Backtest, error) {
	if opts.Client == nil || opts.Engine == nil {
		return nil, errors.New("backtest: a client and an engine are needed")
	}
	if opts.Step == 0 {
		opts.Step = time.Minute
	}
	if opts.Step < time.Second || opts.Step%time.Millisecond != 0 {
		return nil, &InputError{fmt.Errorf("--step %s: want at least 1s, in whole milliseconds", opts.Step)}
	}
	if opts.MaxPoints == 0 {
		opts.MaxPoints = DefaultMaxPoints
	}
	if opts.MaxPoints < 1 {
		return nil, &InputError{fmt.Errorf("--max-points %d: want at least 1", opts.MaxPoints)}
	}
	if opts.MaxEvals == 0 {
		opts.MaxEvals = DefaultMaxEvals
	}
	if len(opts.RuleFiles) == 0 {
		return nil, &InputError{errors.New("no rule files")}
	}
	stepMs := opts.Step.Milliseconds()
	from := time.UnixMilli(opts.From.UnixMilli() - mod(opts.From.UnixMilli(), stepMs)).UTC()
	if !opts.To.After(from) {
		return nil, &InputError{fmt.Errorf("--to %s is not after --from %s", opts.To.UTC().Format(time.RFC3339), from.Format(time.RFC3339))}
	}
	steps := opts.To.Sub(from) / opts.Step
	if steps+1 > time.Duration(opts.MaxEvals) {
		return nil, &InputError{&budget.ExceededError{
			Budget: budget.BacktestEvaluations, Limit: uint64(opts.MaxEvals), Asked: uint64(steps + 1),
			Subject: fmt.Sprintf("%s to %s every %s is %d evaluations", from.Format(time.RFC3339), opts.To.UTC().Format(time.RFC3339), model.Duration(opts.Step), steps+1),
		}}
	}
	g := grid{from: from, step: opts.Step, n: int(steps) + 1}
	opts.From, opts.To = g.at(0), g.at(g.n-1)
	if opts.Tolerance == 0 {
		opts.Tolerance = opts.Step
	}
	if opts.Loader == nil {
		opts.Loader = rulefile.NewLoader(opts.Engine.Parser(), false)
	}
	b := &Backtest{opts: opts, g: g}
	sess, err := opts.Engine.NewSession(evaluator.SessionOptions{
		EvalInterval: opts.Step,
		Loader:       opts.Loader,
		QueryFunc: func(ctx context.Context, qs string, t time.Time) (promql.Vector, error) {
			return b.src.query(ctx, qs, t)
		},
	})
	if err != nil {
		return nil, err
	}
	if errs := sess.LoadRules(opts.RuleFiles, nil); errs != nil {
		sess.Close()
		return nil, &InputError{errors.Join(errs...)}
	}
	b.sess = sess
	seen := map[string]bool{}
	for _, grp := range sess.Groups() {
		for _, r := range grp.Rules() {
			b.exprs = append(b.exprs, r.Query().String())
			if ar, ok := r.(evaluator.AlertRule); ok && !seen[ar.Name()] {
				seen[ar.Name()] = true
				b.rules = append(b.rules, ar.Name())
			}
		}
	}
	if len(b.rules) == 0 {
		sess.Close()
		return nil, &InputError{errors.New("the rule files have no alerting rule")}
	}
	return b, nil
}

// Close releases the session.
func (b *Backtest) Close() error { return b.sess.Close() }

// From and To are the first and last evaluation times, aligned.
func (b *Backtest) From() time.Time { return b.g.at(0) }

// To is the last evaluation time.
func (b *Backtest) To() time.Time { return b.g.at(b.g.n - 1) }

// Run checks the server, replays the rules over its history and, when
// asked, compares with its ALERTS. Server errors are *Error.
func (b *Backtest) Run(ctx context.Context) (*Result, error) {
	c := b.opts.Client
	if err := c.Check(ctx, b.To()); err != nil {
		return nil, err
	}
	b.src = newSource(ctx, c, b.g, b.opts.MaxPoints, b.exprs)
	tl, err := b.sess.Replay(ctx, b.From(), b.To())
	if cerr := ctx.Err(); cerr != nil {
		return nil, fmt.Errorf("backtest stopped: %w", cerr)
	}
	if b.src.err != nil {
		return nil, b.src.err
	}
	if err != nil {
		return nil, &Error{Kind: KindQuery, URL: c.URL(), Msg: "a rule failed to evaluate", Err: err}
	}
	res := &Result{URL: c.URL(), From: b.From(), To: b.To(), Step: b.g.step, Evals: b.g.n, Rules: b.rules, Timeline: tl, Tolerance: max(b.opts.Tolerance, 0)}
	res.PerDay = perDay(tl, b.To())
	if b.opts.CompareAlerts {
		res.Server, err = b.compare(ctx, tl)
		if err != nil {
			return nil, err
		}
	}
	res.Warnings = b.src.Warnings()
	res.Stats = c.Stats()
	res.RangeQueries, res.InstantQueries = b.src.ranges, b.src.instants
	return res, nil
}

func mod(a, b int64) int64 {
	m := a % b
	if m < 0 {
		m += b
	}
	return m
}
