package evaluator

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/timestamp"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/rules"
	"github.com/prometheus/prometheus/storage"
)

// groupLoop evaluates one rule group as rules.Group.Eval (v0.315.0) does
// for a group run sequentially (the only way sessions run them): each
// rule's result appended and committed, a rule's error recorded on it,
// stale markers for the series a rule wrote last time and not this time.
// What it leaves out has no effect on results: tracing spans, metrics,
// notifications (sessions have no notifier).
//
// It exists for speed: Prometheus tracks the series each rule wrote in
// maps keyed by their labels as strings, built anew at every evaluation;
// here they are keyed by hash, found from the labels' memory when the same
// label sets come back (a rule's ALERTS series do), so a long replay of
// thousands of alerts does not build millions of strings.
type groupLoop struct {
	g    *rules.Group
	opts *rules.ManagerOptions
	// written[i] holds the series rule i wrote at its last evaluation;
	// spare is a slice to reuse for the next.
	written [][]*outSeries
	spare   []*outSeries
	// series are the series the group's rules wrote, by labels, and
	// found by the memory of their labels first, once they are many.
	series  labelsMap[*outSeries]
	nSeries int
	byID    *idCache[*outSeries]
	evals   uint64 // rule evaluations so far
	// queries[i] is rule i's query string when it is a recording rule,
	// formatted once (rules.RecordingRule.Eval formats it at every step).
	queries []string
}

// outSeries is one series a group's rules write, with what the loop would
// otherwise look up by its labels at every step.
type outSeries struct {
	lset labels.Labels
	hash uint64
	// stamp is the rule evaluation that last wrote it.
	stamp uint64
	// logged is its entry in the rule-output log, once it has one; the
	// log never starts again once flushed, so it does not go stale.
	logged *loggedSeries
}

var discardOutOfOrder = &storage.AppendOptions{DiscardOutOfOrder: true}

func newGroupLoop(g *rules.Group, opts *rules.ManagerOptions) *groupLoop {
	l := &groupLoop{g: g, opts: opts, written: make([][]*outSeries, len(g.Rules())), series: labelsMap[*outSeries]{}, queries: make([]string, len(g.Rules()))}
	loader, _ := opts.GroupLoader.(cachingLoader)
	for i, r := range g.Rules() {
		if rr, ok := r.(*rules.RecordingRule); ok {
			if loader.cache != nil {
				l.queries[i] = loader.String(rr.Query())
			} else {
				l.queries[i] = rr.Query().String()
			}
		}
	}
	return l
}

// evalRecording is rules.RecordingRule.Eval (v0.315.0) with the query
// string formatted once, and without the origin context, which only
// Prometheus' query logging reads.
func evalRecording(ctx context.Context, rule *rules.RecordingRule, qs string, offset time.Duration, ts time.Time, query rules.QueryFunc, limit int) (promql.Vector, error) {
	vector, err := query(ctx, qs, ts.Add(-offset))
	if err != nil {
		return nil, err
	}
	lb := labels.NewBuilder(labels.EmptyLabels())
	name, extra := rule.Name(), rule.Labels()
	for i := range vector {
		sample := &vector[i]
		lb.Reset(sample.Metric)
		lb.Set(labels.MetricName, name)
		extra.Range(func(l labels.Label) { lb.Set(l.Name, l.Value) })
		sample.Metric = lb.Labels()
	}
	if vector.ContainsSameLabelset() {
		return nil, rules.ErrDuplicateRecordingLabelSet
	}
	if n := len(vector); limit > 0 && n > limit {
		return nil, fmt.Errorf("exceeded limit of %d with %d series", limit, n)
	}
	return vector, nil
}

// record returns the series of lset.
func (l *groupLoop) record(lset labels.Labels) *outSeries {
	if rec, ok := l.byID.get(lset); ok {
		return rec
	}
	h := lset.Hash()
	rec, ok := l.series.get(h, lset)
	if !ok {
		rec = &outSeries{lset: lset, hash: h}
		l.series.set(h, lset, rec)
		if l.nSeries++; l.nSeries == 1024 {
			// Big enough for the cache to pay for its 8 MB.
			l.byID = newIDCache[*outSeries](18)
		}
	}
	l.byID.put(lset, rec)
	return rec
}

// eval evaluates every rule of the group at ts, in order, until ctx ends.
func (l *groupLoop) eval(ctx context.Context, ts time.Time) {
	offset := l.g.QueryOffset()
	for i, rule := range l.g.Rules() {
		if ctx.Err() != nil {
			return
		}
		start := time.Now()
		l.evalRule(ctx, i, rule, offset, ts)
		rule.SetEvaluationDuration(time.Since(start))
		rule.SetEvaluationTimestamp(start)
	}
}

func (l *groupLoop) evalRule(ctx context.Context, i int, rule rules.Rule, offset time.Duration, ts time.Time) {
	var vector promql.Vector
	var err error
	if rr, ok := rule.(*rules.RecordingRule); ok && l.queries[i] != "" {
		vector, err = evalRecording(ctx, rr, l.queries[i], offset, ts, l.opts.QueryFunc, l.g.Limit())
	} else {
		vector, err = rule.Eval(ctx, offset, ts, l.opts.QueryFunc, l.opts.ExternalURL, l.g.Limit())
	}
	if err != nil {
		rule.SetHealth(rules.HealthBad)
		rule.SetLastError(err)
		return
	}
	rule.SetHealth(rules.HealthGood)
	rule.SetLastError(nil)

	app := l.opts.Appendable.Appender(ctx)
	logger, _ := app.(*outputAppender)
	l.evals++
	stamp := l.evals
	returned := l.spare[:0]
	for _, smp := range vector {
		rec := l.record(smp.Metric)
		switch {
		case smp.H != nil:
			_, err = app.AppendHistogram(0, smp.Metric, smp.T, nil, smp.H)
		case logger != nil:
			app.SetOptions(discardOutOfOrder)
			err = logger.appendSeries(rec, smp.T, smp.F)
		default:
			app.SetOptions(discardOutOfOrder)
			_, err = app.Append(0, smp.Metric, smp.T, smp.F)
		}
		if err != nil {
			// Out of order, too old or duplicate: the sample is dropped,
			// and the rule says why.
			rule.SetHealth(rules.HealthBad)
			rule.SetLastError(err)
			continue
		}
		if rec.stamp != stamp {
			rec.stamp = stamp
			returned = append(returned, rec)
		}
	}
	staleAt := timestamp.FromTime(ts.Add(-offset))
	stale := math.Float64frombits(value.StaleNaN)
	for _, rec := range l.written[i] {
		if rec.stamp == stamp {
			continue
		}
		// Series no longer exposed: mark it stale. Errors are expected
		// when another rule writes the series.
		if logger != nil {
			_ = logger.appendSeries(rec, staleAt, stale)
		} else {
			_, _ = app.Append(0, rec.lset, staleAt, stale)
		}
	}
	if err := app.Commit(); err != nil {
		rule.SetHealth(rules.HealthBad)
		rule.SetLastError(err)
		l.spare = returned
		return
	}
	l.spare, l.written[i] = l.written[i], returned
}
