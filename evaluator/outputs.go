package evaluator

import (
	"context"
	"errors"
	"math"

	"github.com/prometheus/prometheus/model/exemplar"
	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/metadata"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb"

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
	// open returns the main storage, opening it the first time.
	open    func() (*tsdb.DB, error)
	logging bool
	series  labelsMap[*loggedSeries]
	order   []*loggedSeries // in creation order
	// step is the index of the session's evaluation under way.
	step int
	// flushAll writes the log, and whatever else was deferred, to the main
	// storage, and turns the log off (default: flush).
	flushAll func(context.Context) error
}

type loggedSeries struct {
	lset  labels.Labels
	lastT int64
	b     memstore.Builder
	// step is the index of the evaluation that created the series.
	step int
}

// Appender returns an appender for one rule's results. While the log is
// on, the main storage's appender is made only when a sample goes there.
func (o *ruleOutputs) Appender(ctx context.Context) storage.Appender {
	a := &outputAppender{o: o, ctx: ctx}
	if !o.logging {
		a.base()
	}
	return a
}

// appender is an appender of the main storage.
func (o *ruleOutputs) appender(ctx context.Context) storage.Appender {
	db, err := o.open()
	if err != nil {
		return failedAppender{err}
	}
	return db.Appender(ctx)
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
	app := o.appender(ctx)
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
	// Appender is the main storage's, once made (see base).
	storage.Appender
	ctx     context.Context
	opts    *storage.AppendOptions
	o       *ruleOutputs
	pending []pendingSample
}

// base makes the main storage's appender, the first time.
func (a *outputAppender) base() storage.Appender {
	if a.Appender == nil {
		a.Appender = a.o.appender(a.ctx)
		if a.opts != nil {
			a.Appender.SetOptions(a.opts)
		}
	}
	return a.Appender
}

// SetOptions sets the options of the appends to the main storage.
func (a *outputAppender) SetOptions(opts *storage.AppendOptions) {
	a.opts = opts
	if a.Appender != nil {
		a.Appender.SetOptions(opts)
	}
}

// errFlushed is a flush failure met while appending a rule's result.
var errFlushed = errors.New("writing logged rule results")

func (a *outputAppender) passThrough() error {
	if !a.o.logging {
		return nil
	}
	// Samples of this appender not yet committed go with the log.
	a.commitPending()
	flush := a.o.flush
	if a.o.flushAll != nil {
		flush = a.o.flushAll
	}
	if err := flush(a.ctx); err != nil {
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
	return a.base().Append(ref, lset, t, v)
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
	_, err := a.base().Append(0, rec.lset, t, v)
	return err
}

// AppendHistogram writes to the main storage, after the log.
func (a *outputAppender) AppendHistogram(ref storage.SeriesRef, lset labels.Labels, t int64, h *histogram.Histogram, fh *histogram.FloatHistogram) (storage.SeriesRef, error) {
	if err := a.passThrough(); err != nil {
		return 0, err
	}
	return a.base().AppendHistogram(ref, lset, t, h, fh)
}

// commitPending moves the appender's samples to the log.
func (a *outputAppender) commitPending() {
	for _, p := range a.pending {
		// Not logged when appendSeries looked, nor by an earlier sample of
		// this appender (which set rec.logged): a new series.
		ls := p.rec.logged
		if ls == nil {
			ls = &loggedSeries{lset: p.rec.lset, lastT: math.MinInt64, b: *memstore.NewBuilder(p.rec.lset), step: a.o.step}
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

// Commit makes the appender's samples visible. With nothing sent to the
// main storage, there is nothing to commit there.
func (a *outputAppender) Commit() error {
	if a.o.logging {
		a.commitPending()
	}
	if a.Appender == nil {
		return nil
	}
	return a.Appender.Commit()
}

// Rollback drops the appender's samples.
func (a *outputAppender) Rollback() error {
	a.pending = a.pending[:0]
	if a.Appender == nil {
		return nil
	}
	return a.Appender.Rollback()
}

// AppendExemplar writes to the main storage.
func (a *outputAppender) AppendExemplar(ref storage.SeriesRef, l labels.Labels, e exemplar.Exemplar) (storage.SeriesRef, error) {
	return a.base().AppendExemplar(ref, l, e)
}

// AppendHistogramSTZeroSample writes to the main storage.
func (a *outputAppender) AppendHistogramSTZeroSample(ref storage.SeriesRef, l labels.Labels, t, st int64, h *histogram.Histogram, fh *histogram.FloatHistogram) (storage.SeriesRef, error) {
	return a.base().AppendHistogramSTZeroSample(ref, l, t, st, h, fh)
}

// UpdateMetadata writes to the main storage.
func (a *outputAppender) UpdateMetadata(ref storage.SeriesRef, l labels.Labels, m metadata.Metadata) (storage.SeriesRef, error) {
	return a.base().UpdateMetadata(ref, l, m)
}

// AppendSTZeroSample writes to the main storage.
func (a *outputAppender) AppendSTZeroSample(ref storage.SeriesRef, l labels.Labels, t, st int64) (storage.SeriesRef, error) {
	return a.base().AppendSTZeroSample(ref, l, t, st)
}
