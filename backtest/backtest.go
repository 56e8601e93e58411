package backtest

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/promql"

	"github.com/gotk-rules/gotk-rules/budget"
	"github.com/gotk-rules/gotk-rules/evaluator"
	"github.com/gotk-rules/gotk-rules/internal/progress"
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
	// AllowPartial accepts answers the server says are partial (a warning
	// other than PromQL's own annotations): the result lists the ranges
	// affected. Without it such an answer fails the backtest (KindPartial).
	AllowPartial bool
	// MaxSplitDepth bounds how often a range query the server refuses as
	// too large is halved (default DefaultMaxSplitDepth; negative: never).
	MaxSplitDepth int
	// Shards cuts the evaluations in this many time shards, replayed
	// concurrently (0: one per DefaultShardEvaluations evaluations).
	Shards int
	// ShardConcurrency bounds the shards replayed at once (default 2).
	ShardConcurrency int
	// Resume names a checkpoint file: the shards done are read from it
	// (when it exists) and it is written after each shard.
	Resume string
	// ReplicaLabels are label names taken for replica labels, besides
	// CommonReplicaLabels: an alert that carries one is reported.
	ReplicaLabels []string
	// FlapThreshold: an alert that fires more than this many times on some
	// day is flapping (default DefaultFlapThreshold).
	FlapThreshold int
	// Progress, when set, counts the evaluations (warm-ups included).
	Progress *progress.Counter

	// afterShard, in tests, is called after each shard is recorded.
	afterShard func(done int)
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
	// Splits counts the range queries halved because the server refused
	// them as too large.
	Splits int
	// Shards is how many time shards the evaluations were cut in;
	// Resumed how many of them the --resume file already held.
	Shards, Resumed int
	// Partial lists the answers the server said were partial (only with
	// AllowPartial: without it, one fails the backtest).
	Partial []PartialRange
	// Replicas are the alerts' labels that look like replica labels.
	Replicas []ReplicaLabel
	// Fatigue is the alerts' noise over the window.
	Fatigue Fatigue
}

// Backtest is a prepared backtest: rules loaded, times checked.
type Backtest struct {
	opts  Options
	g     grid
	sess  *evaluator.Session
	exprs []string
	rules []string
	src   *source
	// shards of the evaluations, and the backtest's fingerprint (see checkpoint.go).
	shards []shard
	fp     string
	done   map[int]*shardResult
	// stores, when the server is a Thanos querier, are the stores it
	// listed at the start, checked after each shard (stores.go).
	stores *storeWatch
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
	if opts.MaxSplitDepth == 0 {
		opts.MaxSplitDepth = DefaultMaxSplitDepth
	}
	opts.MaxSplitDepth = max(opts.MaxSplitDepth, 0)
	if opts.Shards < 0 {
		return nil, &InputError{fmt.Errorf("--shards %d: want 0 (automatic) or more", opts.Shards)}
	}
	if opts.ShardConcurrency <= 0 {
		opts.ShardConcurrency = DefaultShardConcurrency
	}
	if opts.FlapThreshold == 0 {
		opts.FlapThreshold = DefaultFlapThreshold
	}
	if opts.FlapThreshold < 1 {
		return nil, &InputError{fmt.Errorf("--flap-threshold %d: want 1 or more", opts.FlapThreshold)}
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
	// This session reads the rules (and checks them); each shard replays
	// in a session of its own.
	sess, err := opts.Engine.NewSession(evaluator.SessionOptions{
		EvalInterval: opts.Step,
		Loader:       opts.Loader,
		QueryFunc: func(ctx context.Context, qs string, t time.Time) (promql.Vector, error) {
			return nil, errors.New("backtest: the rules' session does not evaluate")
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
	var hold time.Duration
	for _, grp := range sess.Groups() {
		for _, r := range grp.Rules() {
			b.exprs = append(b.exprs, r.Query().String())
			if ar, ok := r.(evaluator.AlertRule); ok {
				hold = max(hold, ar.HoldDuration()+ar.KeepFiringFor())
				if !seen[ar.Name()] {
					seen[ar.Name()] = true
					b.rules = append(b.rules, ar.Name())
				}
			}
		}
	}
	if len(b.rules) == 0 {
		sess.Close()
		return nil, &InputError{errors.New("the rule files have no alerting rule")}
	}
	// The warm-up of a shard: the longest for plus keep_firing_for, and a step.
	overlap := int((hold+opts.Step-1)/opts.Step) + 1
	b.shards = planShards(g.n, opts.Shards, overlap)
	b.fp = b.fingerprint()
	b.done = map[int]*shardResult{}
	if opts.Resume != "" {
		if b.done, err = b.loadCheckpoint(opts.Resume); err != nil {
			sess.Close()
			return nil, err
		}
	}
	return b, nil
}

// DefaultShardConcurrency is how many shards are replayed at once by default.
const DefaultShardConcurrency = 2

// Shards is how many time shards the evaluations are cut in.
func (b *Backtest) Shards() int { return len(b.shards) }

// Close releases the session.
func (b *Backtest) Close() error { return b.sess.Close() }

// From and To are the first and last evaluation times, aligned.
func (b *Backtest) From() time.Time { return b.g.at(0) }

// To is the last evaluation time.
func (b *Backtest) To() time.Time { return b.g.at(b.g.n - 1) }

// Run checks the server, replays the rules over its history, shard by
// shard, and, when asked, compares with its ALERTS. Server errors are
// *Error; a --resume file that cannot be written is an *InputError.
func (b *Backtest) Run(ctx context.Context) (*Result, error) {
	c := b.opts.Client
	if err := c.Check(ctx, b.To()); err != nil {
		return nil, err
	}
	warnings := map[string]bool{}
	sw, warn, err := watchStores(ctx, c)
	if err != nil {
		return nil, fmt.Errorf("backtest stopped: %w", err)
	}
	b.stores = sw
	if warn != "" {
		warnings[warn] = true
	}
	var todo []int
	for k, sh := range b.shards {
		if b.done[k] == nil {
			todo = append(todo, k)
			b.opts.Progress.AddTotal(int64(sh.hi - sh.warm))
		}
	}
	resumed := len(b.shards) - len(todo)
	var mu sync.Mutex
	err = b.runShards(ctx, todo, b.opts.ShardConcurrency, func(r *shardResult) error {
		mu.Lock()
		defer mu.Unlock()
		b.done[r.Index] = r
		if b.opts.Resume != "" {
			if err := b.writeCheckpoint(b.opts.Resume, b.done); err != nil {
				return &InputError{err}
			}
		}
		if b.opts.afterShard != nil {
			b.opts.afterShard(len(b.done))
		}
		return nil
	})
	if cerr := ctx.Err(); cerr != nil {
		return nil, fmt.Errorf("backtest stopped: %w", cerr)
	}
	if err != nil {
		return nil, err
	}
	results := make([]*shardResult, len(b.shards))
	res := &Result{URL: c.URL(), From: b.From(), To: b.To(), Step: b.g.step, Evals: b.g.n, Rules: b.rules,
		Tolerance: max(b.opts.Tolerance, 0), Shards: len(b.shards), Resumed: resumed}
	for k := range b.shards {
		r := b.done[k]
		results[k] = r
		for _, w := range r.Warnings {
			warnings[w] = true
		}
		res.Partial = append(res.Partial, r.Partial...)
		res.RangeQueries += r.Ranges
		res.InstantQueries += r.Instants
		res.Splits += r.Splits
	}
	tl := b.joinShards(results)
	res.Timeline = tl
	res.PerDay = perDay(tl, b.To())
	b.src = newSource(ctx, c, b.g, b.opts.MaxPoints, nil)
	b.src.allowPartial, b.src.maxSplit = b.opts.AllowPartial, b.opts.MaxSplitDepth
	if b.opts.CompareAlerts {
		res.Server, err = b.compare(ctx, tl)
		if err != nil {
			return nil, err
		}
		if b.stores != nil {
			ps, err := b.stores.check(ctx, b.From(), b.To(), b.opts.AllowPartial)
			if err != nil {
				return nil, err
			}
			res.Partial = append(res.Partial, ps...)
			for _, p := range ps {
				warnings[p.Warning] = true
			}
		}
	}
	for _, w := range b.src.Warnings() {
		warnings[w] = true
	}
	for w := range warnings {
		res.Warnings = append(res.Warnings, w)
	}
	sort.Strings(res.Warnings)
	res.Partial = sortPartial(append(res.Partial, b.src.Partial()...))
	res.RangeQueries += b.src.ranges
	res.Splits += b.src.splits
	res.Stats = c.Stats()
	res.Replicas = replicaLabels(tl, b.opts.ReplicaLabels)
	res.Fatigue = fatigue(tl, b.From(), b.To(), b.g.step, b.opts.FlapThreshold)
	return res, nil
}

func mod(a, b int64) int64 {
	m := a % b
	if m < 0 {
		m += b
	}
	return m
}
