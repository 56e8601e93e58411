package backtest

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"

	"github.com/gotk-rules/gotk-rules/evaluator"
	"github.com/gotk-rules/gotk-rules/internal/parallel"
)

// Long backtests are cut in time shards, replayed concurrently (each in its
// own evaluator session, with its own queries) and joined.
//
// The `for` and `keep_firing_for` state is carried across a shard's start
// by overlap, not handed over: each shard replays from a warm-up point
// before its own first evaluation and keeps only its own evaluations. The
// warm-up is the largest `for` plus the largest `keep_firing_for` of the
// rules, plus one step. That is enough for the state at the shard's first
// evaluation to be the unsharded one: an alert pending since before the
// warm-up fires in it by then (its `for` has elapsed within it), and an
// alert kept firing at the shard's start stopped matching less than
// `keep_firing_for` before it, after firing for `for`, all within the
// warm-up. Every rule query goes to the server, so nothing else carries
// state from one evaluation to the next (a rule reading ALERTS reads the
// server's). The cost is the warm-up's evaluations, small next to a shard
// of a day. Handing the state over instead would serialise the shards.

// shard is a run of evaluations [lo, hi) of the backtest's grid, replayed
// from warm (<= lo).
type shard struct{ warm, lo, hi int }

// DefaultShardEvaluations is the most evaluations of an automatic shard:
// one UTC day at a one-minute step.
const DefaultShardEvaluations = 1440

// planShards cuts n evaluations into count shards (0: automatic, one per
// DefaultShardEvaluations evaluations) with warm evaluations of overlap.
func planShards(n, count, overlap int) []shard {
	if count <= 0 {
		count = (n + DefaultShardEvaluations - 1) / DefaultShardEvaluations
	}
	count = max(1, min(count, n))
	out := make([]shard, 0, count)
	for k := range count {
		lo, hi := k*n/count, (k+1)*n/count
		out = append(out, shard{warm: max(0, lo-overlap), lo: lo, hi: hi})
	}
	return out
}

// shardAlert is one alert's intervals within a shard's own evaluations.
// End is zero when the interval held at the shard's last evaluation.
type shardAlert struct {
	Alert       string            `json:"alert"`
	Group       string            `json:"group"`
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	Intervals   []shardInterval   `json:"intervals"`
}

type shardInterval struct {
	State evaluator.State `json:"state"`
	Start time.Time       `json:"start"`
	End   time.Time       `json:"end,omitzero"`
}

// shardResult is what a shard adds to the backtest, as the checkpoint
// file holds it.
type shardResult struct {
	Index    int            `json:"index"`
	Alerts   []shardAlert   `json:"alerts"`
	Warnings []string       `json:"warnings"`
	Partial  []PartialRange `json:"partial"`
	Ranges   int            `json:"query_range"`
	Instants int            `json:"query"`
	Splits   int            `json:"splits"`
}

// runShard replays shard k in its own session and keeps its own evaluations.
func (b *Backtest) runShard(ctx context.Context, k int) (*shardResult, error) {
	sh := b.shards[k]
	sg := grid{from: b.g.at(sh.warm), step: b.g.step, n: sh.hi - sh.warm}
	src := newSource(ctx, b.opts.Client, sg, b.opts.MaxPoints, b.exprs)
	src.allowPartial, src.maxSplit = b.opts.AllowPartial, b.opts.MaxSplitDepth
	sess, err := b.opts.Engine.NewSession(evaluator.SessionOptions{
		EvalInterval: b.opts.Step,
		Loader:       b.opts.Loader,
		QueryFunc: func(ctx context.Context, qs string, t time.Time) (promql.Vector, error) {
			return src.query(ctx, qs, t)
		},
	})
	if err != nil {
		return nil, err
	}
	defer sess.Close()
	if errs := sess.LoadRules(b.opts.RuleFiles, nil); errs != nil {
		return nil, &InputError{fmt.Errorf("loading the rules again for shard %d: %w", k, errs[0])}
	}
	tl, err := sess.ReplayFunc(ctx, sg.at(0), sg.at(sg.n-1), func(time.Time) error {
		b.opts.Progress.Add(1)
		return nil
	})
	if cerr := ctx.Err(); cerr != nil {
		return nil, fmt.Errorf("backtest stopped: %w", cerr)
	}
	if src.err != nil {
		return nil, src.err
	}
	if err != nil {
		return nil, &Error{Kind: KindQuery, URL: b.opts.Client.URL(), Msg: "a rule failed to evaluate", Err: err}
	}
	res := &shardResult{Index: k, Alerts: []shardAlert{}, Warnings: src.Warnings(), Partial: src.Partial(), Ranges: src.ranges, Instants: src.instants, Splits: src.splits}
	if b.stores != nil {
		// A store the querier lost while the shard's queries ran: their
		// answers may lack its data, without a warning.
		ps, err := b.stores.check(ctx, sg.at(0), sg.at(sg.n-1), b.opts.AllowPartial)
		if err != nil {
			return nil, err
		}
		res.Partial = append(res.Partial, ps...)
		for _, p := range ps {
			res.Warnings = append(res.Warnings, p.Warning)
		}
	}
	own := b.g.at(sh.lo)
	for _, a := range tl.Alerts {
		sa := shardAlert{Alert: a.Alert, Group: a.Group, Labels: a.Labels.Map(), Annotations: a.Annotations.Map()}
		for _, iv := range a.Intervals {
			if !iv.End.IsZero() && !iv.End.After(own) {
				continue // within the warm-up only
			}
			sa.Intervals = append(sa.Intervals, shardInterval{State: iv.State, Start: maxTime(iv.Start, own).UTC(), End: iv.End.UTC()})
		}
		if len(sa.Intervals) > 0 {
			res.Alerts = append(res.Alerts, sa)
		}
	}
	return res, nil
}

// runShards replays the shards not done yet, at most workers at once,
// calling done after each (under a lock, in the order they finish). The
// first failure cancels the others.
func (b *Backtest) runShards(ctx context.Context, todo []int, workers int, done func(*shardResult) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var mu sync.Mutex
	var first error
	parallel.ForContext(ctx, len(todo), workers, func(i int) {
		res, err := b.runShard(ctx, todo[i])
		mu.Lock()
		defer mu.Unlock()
		if err == nil && first == nil {
			err = done(res)
		}
		if err != nil && first == nil {
			first = err
			cancel()
		}
	})
	return first
}

// joinShards builds the backtest's timeline from its shards' results (in
// order): an interval open at the end of a shard goes on into the next one
// when the next starts with the same state, else ends at the next one's
// first evaluation. Annotations are the last shard's where the alert was
// active, as the unsharded replay keeps them from the last evaluation.
func (b *Backtest) joinShards(results []*shardResult) *evaluator.Timeline {
	tl := &evaluator.Timeline{Start: b.From(), End: b.To(), Step: b.g.step}
	byKey := map[string]*evaluator.AlertTimeline{}
	var order []*evaluator.AlertTimeline
	for k, res := range results {
		next := time.Time{} // the first evaluation after this shard, zero for the last
		if k+1 < len(results) {
			next = b.g.at(b.shards[k].hi)
		}
		for _, sa := range res.Alerts {
			ls := labels.FromMap(sa.Labels)
			key := sa.Alert + "\xff" + sa.Group + "\xff" + ls.String()
			at := byKey[key]
			if at == nil {
				at = &evaluator.AlertTimeline{Alert: sa.Alert, Group: sa.Group, Labels: ls}
				byKey[key] = at
				order = append(order, at)
			}
			at.Annotations = labels.FromMap(sa.Annotations)
			for _, iv := range sa.Intervals {
				end := iv.End
				if end.IsZero() {
					end = next
				}
				n := len(at.Intervals)
				if n > 0 && at.Intervals[n-1].State == iv.State && at.Intervals[n-1].End.Equal(iv.Start) {
					at.Intervals[n-1].End = end
					continue
				}
				at.Intervals = append(at.Intervals, evaluator.Interval{State: iv.State, Start: iv.Start, End: end})
			}
		}
	}
	tl.Alerts = order
	sort.SliceStable(tl.Alerts, func(i, j int) bool {
		a, c := tl.Alerts[i], tl.Alerts[j]
		if a.Alert != c.Alert {
			return a.Alert < c.Alert
		}
		return labels.Compare(a.Labels, c.Labels) < 0
	})
	return tl
}
