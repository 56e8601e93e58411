package evaluator

import (
	"context"
	"errors"
	"math"

	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"

	"github.com/gotk-rules/gotk-rules/evaluator/memstore"
)

// ruleOutputs is where rule groups write their results: the main storage,
// or, while nothing reads the main storage, a compact log of them.
//
// A day of a fleet's alerts is millions of ALERTS and ALERTS_FOR_STATE
// samples, long runs of the same value, that no unit test assertion reads
// from storage (alert assertions read the rules' state). The log keeps them
// as runs, and writes them to the main storage the first time anything
// reads it (see Session.flush); from then on, results go straight there.
//
// The log accepts only samples the main storage would accept silently: a
// series' first sample, or one after its last. Anything else (a duplicate
// timestamp, an out-of-order sample, a histogram) first writes the log to
// the main storage and then goes there, so that it fails or succeeds
// exactly as Prometheus decides.
type ruleOutputs struct {
	db      storage.Appendable
	logging bool
	series  labelsMap[*loggedSeries]
	order   []*loggedSeries // in creation order
}

type loggedSeries struct {
	lset  labels.Labels
	lastT int64
	b     memstore.Builder
}

// Appender returns an appender for one rule's results.
func (o *ruleOutputs) Appender(ctx context.Context) storage.Appender {
	return &outputAppender{Appender: o.db.Appender(ctx), o: o}
}

// startLogging turns the log on; call it before any result is written.
func (o *ruleOutputs) startLogging() {
	o.logging = true
	o.series = labelsMap[*loggedSeries]{}
}

// flush writes the log to the main storage and turns the log off.
func (o *ruleOutputs) flush(ctx context.Context) error {
	if !o.logging {
		return nil
	}
	o.logging = false
	app := o.db.Appender(ctx)
	for _, ls := range o.order {
		ref := storage.SeriesRef(0)
		c := ls.b.Series().Cursor()
		for t, v, ok := c.Peek(); ok; t, v, ok = c.Peek() {
			var err error
			if ref, err = app.Append(ref, ls.lset, t, v); err != nil {
				_ = app.Rollback()
				return appendError(ls.lset, t, err)
			}
			c.Advance()
		}
	}
	o.series, o.order = nil, nil
	return app.Commit()
}

type pendingSample struct {
	rec *outSeries
	t   int64
	v   float64
}

// outputAppender logs samples until committed, or hands them to the main
// storage's appender.
type outputAppender struct {
	storage.Appender
	o       *ruleOutputs
	pending []pendingSample
}

// errFlushed is a flush failure met while appending a rule's result.
var errFlushed = errors.New("writing logged rule results")

func (a *outputAppender) passThrough() error {
	if !a.o.logging {
		return nil
	}
	// Samples of this appender not yet committed go with the log.
	a.commitPending()
	if err := a.o.flush(context.Background()); err != nil {
		return errors.Join(errFlushed, err)
	}
	return nil
}

// Append writes to the main storage, after the log. The group loop logs
// with appendSeries.
func (a *outputAppender) Append(ref storage.SeriesRef, lset labels.Labels, t int64, v float64) (storage.SeriesRef, error) {
	if err := a.passThrough(); err != nil {
		return 0, err
	}
	return a.Appender.Append(ref, lset, t, v)
}

// appendSeries logs a sample of a series the group loop knows, or writes
// it to the main storage.
func (a *outputAppender) appendSeries(rec *outSeries, t int64, v float64) error {
	if a.o.logging {
		ls := rec.logged
		if ls == nil {
			ls, _ = a.o.series.get(rec.hash, rec.lset)
			rec.logged = ls
		}
		if ls == nil || t > ls.lastT {
			a.pending = append(a.pending, pendingSample{rec: rec, t: t, v: v})
			return nil
		}
		if err := a.passThrough(); err != nil {
			return err
		}
	}
	_, err := a.Appender.Append(0, rec.lset, t, v)
	return err
}

// AppendHistogram writes to the main storage, after the log.
func (a *outputAppender) AppendHistogram(ref storage.SeriesRef, lset labels.Labels, t int64, h *histogram.Histogram, fh *histogram.FloatHistogram) (storage.SeriesRef, error) {
	if err := a.passThrough(); err != nil {
		return 0, err
	}
	return a.Appender.AppendHistogram(ref, lset, t, h, fh)
}

// commitPending moves the appender's samples to the log.
func (a *outputAppender) commitPending() {
	for _, p := range a.pending {
		// Not logged when appendSeries looked, nor by an earlier sample of
		// this appender (which set rec.logged): a new series.
		ls := p.rec.logged
		if ls == nil {
			ls = &loggedSeries{lset: p.rec.lset, lastT: math.MinInt64, b: *memstore.NewBuilder(p.rec.lset)}
			a.o.series.set(p.rec.hash, p.rec.lset, ls)
			a.o.order = append(a.o.order, ls)
		}
		p.rec.logged = ls
		if p.t > ls.lastT {
			_ = ls.b.Append(p.t, p.v) // in order: checked above
			ls.lastT = p.t
		}
	}
	a.pending = a.pending[:0]
}

// Commit makes the appender's samples visible.
func (a *outputAppender) Commit() error {
	if a.o.logging {
		a.commitPending()
	}
	return a.Appender.Commit()
}

// Rollback drops the appender's samples.
func (a *outputAppender) Rollback() error {
	a.pending = a.pending[:0]
	return a.Appender.Rollback()
}
