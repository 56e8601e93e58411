package evaluator

import (
	"math"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/timestamp"
	"github.com/prometheus/prometheus/model/value"
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
	// written[i] holds the series rule i wrote at its last evaluation.
	written []labelsMap[struct{}]
	hashes  *idCache[uint64]
}

var discardOutOfOrder = &storage.AppendOptions{DiscardOutOfOrder: true}

func newGroupLoop(g *rules.Group, opts *rules.ManagerOptions) *groupLoop {
	return &groupLoop{g: g, opts: opts, written: make([]labelsMap[struct{}], len(g.Rules())), hashes: newIDCache[uint64](16)}
}

func (l *groupLoop) hash(lset labels.Labels) uint64 {
	if h, ok := l.hashes.get(lset); ok {
		return h
	}
	h := lset.Hash()
	l.hashes.put(lset, h)
	return h
}

// eval evaluates every rule of the group at ts, in order.
func (l *groupLoop) eval(s *Session, ts time.Time) {
	offset := l.g.QueryOffset()
	for i, rule := range l.g.Rules() {
		start := time.Now()
		l.evalRule(s, i, rule, offset, ts)
		rule.SetEvaluationDuration(time.Since(start))
		rule.SetEvaluationTimestamp(start)
	}
}

func (l *groupLoop) evalRule(s *Session, i int, rule rules.Rule, offset time.Duration, ts time.Time) {
	vector, err := rule.Eval(s.ctx, offset, ts, l.opts.QueryFunc, l.opts.ExternalURL, l.g.Limit())
	if err != nil {
		rule.SetHealth(rules.HealthBad)
		rule.SetLastError(err)
		return
	}
	rule.SetHealth(rules.HealthGood)
	rule.SetLastError(nil)

	app := l.opts.Appendable.Appender(s.ctx)
	returned := make(labelsMap[struct{}], len(l.written[i]))
	for _, smp := range vector {
		if smp.H != nil {
			_, err = app.AppendHistogram(0, smp.Metric, smp.T, nil, smp.H)
		} else {
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
		returned.set(l.hash(smp.Metric), smp.Metric, struct{}{})
	}
	staleAt := timestamp.FromTime(ts.Add(-offset))
	for h, entries := range l.written[i] {
		for _, e := range entries {
			if _, ok := returned.get(h, e.lset); !ok {
				// Series no longer exposed: mark it stale. Errors are
				// expected when another rule writes the series.
				_, _ = app.Append(0, e.lset, staleAt, math.Float64frombits(value.StaleNaN))
			}
		}
	}
	if err := app.Commit(); err != nil {
		rule.SetHealth(rules.HealthBad)
		rule.SetLastError(err)
		return
	}
	l.written[i] = returned
}
