package evaluator

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"slices"
	"sort"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/rules"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb"

	"github.com/gotk-rules/gotk-rules/budget"
	"github.com/gotk-rules/gotk-rules/evaluator/memstore"
	"github.com/gotk-rules/gotk-rules/evaluator/runeval"
	"github.com/gotk-rules/gotk-rules/internal/progress"
	"github.com/gotk-rules/gotk-rules/internal/tsdbopts"
	"github.com/gotk-rules/gotk-rules/rulefile"
	"github.com/gotk-rules/gotk-rules/series"
)

// SessionOptions configure one replay.
type SessionOptions struct {
	// EvalInterval is the step between evaluations and the default step of
	// subqueries (default 1m).
	EvalInterval time.Duration
	// GroupInterval is the interval of groups that set none (default EvalInterval).
	GroupInterval  time.Duration
	ExternalLabels labels.Labels
	ExternalURL    string
	// IgnoreUnknownFields accepts rule files with fields Prometheus does not know.
	IgnoreUnknownFields bool
	// QueryFunc, when set, answers every rule query (and template query)
	// instead of the local engine: for replaying rules over another
	// source of history, such as a remote Prometheus. The fast path is off.
	QueryFunc rules.QueryFunc
	// Exact turns the fast path off: every rule query is an instant query
	// on input appended step by step, exactly as promtool replays.
	Exact bool
	// Progress, when set, counts evaluations: Replay announces its steps,
	// and every Eval adds one.
	Progress *progress.Counter
	// SkipAnnotations leaves alert annotations unexpanded (empty) on the
	// fast path, for callers that read only alert labels and states, such
	// as verify: expanding a templated annotation for every new label set
	// costs more than the rest of a replay.
	SkipAnnotations bool
	// DiscardOutputs promises that the caller never reads the session's
	// storage (Query, QueryValue, Storage): only rule states, such as
	// FiringAlerts. On the fast path, the ALERTS and ALERTS_FOR_STATE
	// samples of alerting rules are then not written at all when no rule
	// can read them and writing them could not fail (see
	// discardAlertOutputs); a query would not see them.
	DiscardOutputs bool
	// Loader reads rule files; a shared loader parses each file once.
	// Default: a new loader with the engine's parser.
	Loader *rulefile.Loader
}

// Session is one TSDB head, query engine and set of rule groups. Series are
// appended lazily, up to each evaluation's timestamp, as promtool does, so
// rules see exactly what a live Prometheus would have ingested by then.
// A Session is not safe for concurrent use; make one per goroutine.
type Session struct {
	// runsAnswered counts the instant queries answered on runs (queryRuns).
	runsAnswered int
	engine       *Engine
	opts         SessionOptions
	// db is the main storage, in dir, opened the first time it is needed
	// (see mainDB); dbErr is why it could not be.
	db      *tsdb.DB
	dir     string
	dbErr   error
	qe      *promql.Engine
	ctx     context.Context
	cancel  context.CancelFunc
	pending []series.Series // samples not yet appended, each in time order
	// cursors replace pending once the fast path holds the input compactly.
	cursors []inputCursor
	// deferInput delays appending input to the main storage until
	// something reads it there (see flush); due is the time to append up to.
	deferInput bool
	outputs    *ruleOutputs
	due        time.Time
	hasDue     bool
	groups     []*rules.Group
	// loops evaluate the groups, in the same order, unless exact.
	loops []*groupLoop
	cache *rangeCache // set when the fast path is on
	// view answers queries while the main storage is not needed (see
	// compactQueryable).
	view compactView
	// evalMax[i] is the latest time of the evaluations up to the i-th:
	// input is appended up to it.
	evalMax []int64
	// slowReason says why Plan left the fast path off.
	slowReason string
}

var nopLogger = slog.New(slog.NewTextHandler(io.Discard, nil))

// NewSession opens an empty in-process TSDB. Close it when done.
func (e *Engine) NewSession(opts SessionOptions) (*Session, error) {
	if opts.EvalInterval <= 0 {
		opts.EvalInterval = time.Minute
	}
	if opts.GroupInterval <= 0 {
		opts.GroupInterval = opts.EvalInterval
	}
	if opts.Loader == nil {
		opts.Loader = rulefile.NewLoader(e.parser, opts.IgnoreUnknownFields)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Session{
		engine: e,
		opts:   opts,
		qe:     e.sharedQueryEngine(opts.EvalInterval, e.opts.MaxQuerySamples),
		ctx:    ctx,
		cancel: cancel,
	}
	s.outputs = &ruleOutputs{open: s.mainDB}
	// A sample the log cannot take writes what was deferred in order.
	s.outputs.flushAll = func(context.Context) error { return s.flush() }
	return s, nil
}

// mainDB returns the main storage, opening it the first time. A replay
// served wholly from the fast path, with input and rule results logged
// compactly (deferInput), never needs it: opening and removing a TSDB in a
// temporary directory would cost more than such a replay of a few series.
func (s *Session) mainDB() (*tsdb.DB, error) {
	if s.db == nil && s.dbErr == nil {
		s.db, s.dir, s.dbErr = openStorage()
	}
	return s.db, s.dbErr
}

// mainQueryable opens the main storage when first queried.
type mainQueryable struct{ s *Session }

func (q mainQueryable) Querier(mint, maxt int64) (storage.Querier, error) {
	db, err := q.s.mainDB()
	if err != nil {
		return nil, err
	}
	return db.Querier(mint, maxt)
}

// openStorage opens an empty TSDB in a new temporary directory.
func openStorage() (*tsdb.DB, string, error) {
	dir, err := os.MkdirTemp("", "gotk-rules-tsdb")
	if err != nil {
		return nil, "", fmt.Errorf("create storage directory: %w", err)
	}
	db, err := tsdb.Open(dir, nopLogger, nil, tsdbopts.Session(), nil)
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, "", fmt.Errorf("open storage: %w", err)
	}
	db.DisableCompactions()
	return db, dir, nil
}

// Close releases the storage. The query engine is shared by the engine's
// sessions: it stays open.
func (s *Session) Close() error {
	s.cancel()
	var err error
	if s.db != nil {
		err = errors.Join(s.db.Close(), os.RemoveAll(s.dir))
	}
	if s.cache != nil {
		err = errors.Join(err, s.cache.close())
	}
	return err
}

// Engine is the engine the session was made by.
func (s *Session) Engine() *Engine { return s.engine }

// Storage is the session's storage, with input series and rule results,
// input appended up to the last evaluation.
func (s *Session) Storage() storage.Storage {
	if _, err := s.mainDB(); err != nil {
		return failedStorage{err}
	}
	_ = s.flush() // an error shows again at the next evaluation
	return s.db
}

// AddSeries queues series for appending; each sample is written when an
// evaluation at or after its timestamp runs. Samples must be in time order.
func (s *Session) AddSeries(ss ...series.Series) {
	for _, ser := range ss {
		s.AddInputs(NewInput(ser))
	}
}

// Input is one input series, held compactly when it can be.
type Input struct {
	raw     series.Series
	compact *memstore.Series
}

// NewInput holds ser compactly when its samples are floats in strictly
// increasing time order, as fleets of scraped series are; its samples may
// then be dropped.
func NewInput(ser series.Series) Input {
	b := memstore.NewBuilder(ser.Labels)
	for _, smp := range ser.Samples {
		if smp.H != nil || b.Append(smp.T, smp.F) != nil {
			return Input{raw: ser}
		}
	}
	return Input{compact: b.Series()}
}

// NewInputRuns is NewInput for the series of labels lset whose values
// are runs (series.ParseRuns), placed on the time axis as series.Expand
// places them, built compactly without expanding them. ok is false when
// it cannot be: NewInput of the expanded series then makes the input.
func NewInputRuns(lset labels.Labels, runs []series.Run, start time.Time, step time.Duration, until time.Time) (Input, bool) {
	b := memstore.NewBuilder(lset)
	b.Grow(len(runs)) // at most one run each, fewer when they join
	ok, err := series.PlaceRuns(runs, start, step, until, b.AppendRun)
	if !ok || err != nil {
		return Input{}, false
	}
	return Input{compact: b.Series()}, true
}

// CompactInput makes a series held compactly an input.
func CompactInput(s *memstore.Series) Input { return Input{compact: s} }

// AddInputs is AddSeries for series made inputs already.
func (s *Session) AddInputs(ins ...Input) {
	for _, in := range ins {
		if in.compact != nil {
			s.cursors = append(s.cursors, inputCursor{series: in.compact, Cursor: in.compact.Cursor()})
		} else {
			s.pending = append(s.pending, in.raw)
		}
	}
}

// LoadRules loads rule files into groups. Groups named in order are
// evaluated in that order; others keep their file order and run with the
// first named group, as in promtool's group_eval_order.
func (s *Session) LoadRules(files []string, order []string) []error {
	mopts := &rules.ManagerOptions{
		QueryFunc:   s.ruleQueryFunc(),
		Appendable:  s.outputs,
		Queryable:   mainQueryable{s},
		Context:     s.ctx,
		NotifyFunc:  func(context.Context, string, ...*rules.Alert) {},
		Logger:      nopLogger,
		Parser:      s.engine.parser,
		GroupLoader: newCachingLoader(s.opts.Loader),
		Metrics:     s.engine.sharedRuleMetrics(),
	}
	m := rules.NewManager(mopts)
	groupsMap, errs := m.LoadGroups(s.opts.GroupInterval, s.opts.ExternalLabels, s.opts.ExternalURL, nil, s.opts.IgnoreUnknownFields, files...)
	if errs != nil {
		return errs
	}
	rank := map[string]int{}
	for i, name := range order {
		rank[name] = i
	}
	fileRank := map[string]int{}
	for i, f := range files {
		if _, ok := fileRank[f]; !ok {
			fileRank[f] = i
		}
	}
	s.groups = s.groups[:0]
	for _, g := range groupsMap {
		if !s.opts.Exact {
			g = s.fastAlerts(g, mopts)
		}
		s.groups = append(s.groups, g)
		for _, r := range g.Rules() {
			if ar, ok := r.(*rules.AlertingRule); ok {
				// Restored, so that ALERTS series are written from the first evaluation.
				ar.SetRestored(true)
			}
		}
	}
	index := groupIndex(s.opts.Loader, files)
	sort.SliceStable(s.groups, func(i, j int) bool {
		a, b := s.groups[i], s.groups[j]
		if rank[a.Name()] != rank[b.Name()] {
			return rank[a.Name()] < rank[b.Name()]
		}
		if fileRank[a.File()] != fileRank[b.File()] {
			return fileRank[a.File()] < fileRank[b.File()]
		}
		return index[rules.GroupKey(a.File(), a.Name())] < index[rules.GroupKey(b.File(), b.Name())]
	})
	s.loops = nil
	if !s.opts.Exact {
		for _, g := range s.groups {
			s.loops = append(s.loops, newGroupLoop(g, mopts))
		}
	}
	return nil
}

// fastAlerts returns g with its alerting rules replaced by AlertingRules,
// which evaluate the same, faster.
func (s *Session) fastAlerts(g *rules.Group, mopts *rules.ManagerOptions) *rules.Group {
	loader := mopts.GroupLoader.(cachingLoader)
	rs := slices.Clone(g.Rules())
	for i, r := range rs {
		if ar, ok := r.(*rules.AlertingRule); ok {
			annotations := ar.Annotations()
			if s.opts.SkipAnnotations {
				annotations = labels.EmptyLabels()
			}
			fast := newAlertingRule(ar.Name(), ar.Query(), loader.String(ar.Query()), ar.HoldDuration(), ar.KeepFiringFor(), ar.Labels(), annotations, s.opts.ExternalLabels, s.opts.ExternalURL)
			fast.limits = s.engine.opts.Limits
			rs[i] = fast
		}
	}
	offset := g.QueryOffset()
	return rules.NewGroup(rules.GroupOptions{
		Name:        g.Name(),
		File:        g.File(),
		Interval:    g.Interval(),
		Limit:       g.Limit(),
		Rules:       rs,
		Opts:        mopts,
		QueryOffset: &offset,
	})
}

// groupIndex gives each group its position within its file.
func groupIndex(l *rulefile.Loader, files []string) map[string]int {
	idx := map[string]int{}
	for _, f := range files {
		rf, err := l.LoadFile(f)
		if err != nil {
			continue
		}
		for i, g := range rf.Groups {
			idx[rules.GroupKey(f, g.Name)] = i
		}
	}
	return idx
}

// Groups returns the loaded groups in evaluation order.
func (s *Session) Groups() []*rules.Group { return s.groups }

// AlertingRules returns every alerting rule, in evaluation order.
func (s *Session) AlertingRules() []AlertRule {
	var out []AlertRule
	for _, g := range s.groups {
		for _, r := range g.Rules() {
			if ar, ok := r.(AlertRule); ok {
				out = append(out, ar)
			}
		}
	}
	return out
}

// RuleError is a rule that failed to evaluate.
type RuleError struct {
	Group string
	Rule  string
	Time  time.Time
	Err   error
}

func (e RuleError) Error() string {
	return fmt.Sprintf("group %q, rule %q, time %s: %v", e.Group, e.Rule, e.Time.UTC().Format(time.RFC3339), e.Err)
}

// Unwrap returns the rule's error.
func (e RuleError) Unwrap() error { return e.Err }

// ExceededBudget says which budget err ran out of, when the evaluator knows
// it: a query that loaded too many samples ran out of budget.QuerySamples.
// Prometheus' error does not name its limit; callers word a hint with it
// (budget.Explain).
func ExceededBudget(err error) (budget.Name, bool) {
	var tooMany promql.ErrTooManySamples
	if errors.As(err, &tooMany) {
		return budget.QuerySamples, true
	}
	return "", false
}

// ruleQueryFunc is what rules query: the options' QueryFunc, or the local
// engine through the fast path's cache.
func (s *Session) ruleQueryFunc() rules.QueryFunc {
	if s.opts.QueryFunc != nil {
		return s.opts.QueryFunc
	}
	return s.queryFunc(rules.EngineQueryFunc(s.qe, mainQueryable{s}))
}

// Plan announces the evaluations to come, the last at end. Call it after
// AddSeries and LoadRules, before the first Eval. Unless told otherwise, it
// turns on the fast path (see fastpath.go); results are the same either way.
func (s *Session) Plan(end time.Time) error {
	if s.cache == nil {
		s.slowReason = s.plan(end)
	}
	return nil
}

// FastPath reports whether Plan turned the fast path on, and if not, why.
func (s *Session) FastPath() (bool, string) { return s.cache != nil, s.slowReason }

// inputCursor is an input series not yet fully appended.
type inputCursor struct {
	series *memstore.Series
	*memstore.Cursor
}

// AppendTill writes every queued sample with a timestamp at or before ts.
func (s *Session) AppendTill(ts time.Time) error {
	till := ts.UnixMilli()
	db, err := s.mainDB()
	if err != nil {
		return err
	}
	app := db.AppenderV2(s.ctx)
	kept := s.pending[:0]
	for _, ser := range s.pending {
		n := 0
		for _, smp := range ser.Samples {
			if smp.T > till {
				break
			}
			if err := appendSample(app, ser.Labels, smp); err != nil {
				_ = app.Rollback()
				return appendError(ser.Labels, smp.T, err)
			}
			n++
		}
		if ser.Samples = ser.Samples[n:]; len(ser.Samples) > 0 {
			kept = append(kept, ser)
		}
	}
	clear(s.pending[len(kept):])
	s.pending = kept

	keptCursors := s.cursors[:0]
	for _, c := range s.cursors {
		if t, err := appendCursor(app, c.series.Labels(), c.Cursor, till); err != nil {
			_ = app.Rollback()
			return appendError(c.series.Labels(), t, err)
		}
		if _, _, ok := c.Peek(); ok {
			keptCursors = append(keptCursors, c)
		}
	}
	clear(s.cursors[len(keptCursors):])
	s.cursors = keptCursors
	return app.Commit()
}

// appendCursor appends the cursor's samples up to till, moving it past
// them. On error, it returns the time of the sample refused.
func appendCursor(app storage.AppenderV2, lset labels.Labels, c *memstore.Cursor, till int64) (int64, error) {
	ref := storage.SeriesRef(0)
	for t, v, ok := c.Peek(); ok && t <= till; t, v, ok = c.Peek() {
		var err error
		if ref, err = app.Append(ref, lset, 0, t, v, nil, nil, storage.AppendV2Options{}); err != nil {
			return t, err
		}
		c.Advance()
	}
	return 0, nil
}

func appendError(lset labels.Labels, t int64, err error) error {
	return fmt.Errorf("append %s at %s: %w", lset, time.UnixMilli(t).UTC().Format(time.RFC3339), err)
}

// flush appends the input deferred so far, before the main storage is read.
func (s *Session) flush() error {
	if s.hasDue && len(s.pending) == 0 {
		return s.flushInOrder()
	}
	if err := s.outputs.flush(s.ctx); err != nil {
		return err
	}
	if !s.hasDue {
		return nil
	}
	s.hasDue = false
	return s.AppendTill(s.due)
}

// flushInOrder writes the logged rule results, and the input deferred up to
// the last evaluation, to the main storage, creating their series in the
// order evaluating step by step creates them (see compactView): a TSDB
// reads series in the order it created them, and ties in topk follow it.
func (s *Session) flushInOrder() error {
	db, err := s.mainDB()
	if err != nil {
		return err
	}
	order := s.creationOrder()
	logged := s.outputs.logging
	s.outputs.logging, s.outputs.series, s.outputs.order = false, nil, nil
	s.hasDue = false
	till := s.due.UnixMilli()
	app := db.AppenderV2(s.ctx)
	for _, c := range order {
		var t int64
		switch {
		case c.cursor != nil:
			t, err = appendCursor(app, c.series.Labels(), c.cursor.Cursor, till)
		case logged:
			t, err = appendCursor(app, c.logged.lset, c.logged.b.Series().Cursor(), math.MaxInt64)
		}
		if err != nil {
			_ = app.Rollback()
			return appendError(c.series.Labels(), t, err)
		}
	}
	kept := s.cursors[:0]
	for _, c := range s.cursors {
		if _, _, ok := c.Peek(); ok {
			kept = append(kept, c)
		}
	}
	clear(s.cursors[len(kept):])
	s.cursors = kept
	return app.Commit()
}

// appendSample appends a float or histogram sample.
func appendSample(app storage.AppenderV2, lset labels.Labels, smp series.Sample) error {
	var err error
	if smp.H != nil {
		_, err = app.Append(0, lset, 0, smp.T, 0, nil, smp.H, storage.AppendV2Options{})
	} else {
		_, err = app.Append(0, lset, 0, smp.T, smp.F, nil, nil, storage.AppendV2Options{})
	}
	return err
}

// Eval appends the samples due by ts, then evaluates every group at ts in
// order, with ctx bounding every rule query. It returns the rules whose
// evaluation failed. When ctx ends before or during the evaluation, the
// error is ctx's (errors.Is context.Canceled or DeadlineExceeded): the
// rules' state is then incomplete and the session good only for Close.
func (s *Session) Eval(ctx context.Context, ts time.Time) ([]RuleError, error) {
	if err := stopped(ctx, ts); err != nil {
		return nil, err
	}
	latest := ts.UnixMilli()
	if n := len(s.evalMax); n > 0 {
		latest = max(latest, s.evalMax[n-1])
	}
	s.outputs.step = len(s.evalMax)
	s.evalMax = append(s.evalMax, latest)
	if s.deferInput {
		s.due, s.hasDue = ts, true
	} else if err := s.AppendTill(ts); err != nil {
		return nil, err
	}
	defer s.opts.Progress.Add(1)
	var errs []RuleError
	for i, g := range s.groups {
		if s.loops != nil {
			s.loops[i].eval(ctx, ts)
		} else {
			g.Eval(ctx, ts)
		}
		// A query cut short by ctx fails with PromQL's own error, which
		// does not say why: ctx's error says it instead.
		if err := stopped(ctx, ts); err != nil {
			return nil, err
		}
		for _, r := range g.Rules() {
			if err := r.LastError(); err != nil {
				errs = append(errs, RuleError{Group: g.Name(), Rule: r.Name(), Time: ts, Err: err})
			}
		}
	}
	return errs, nil
}

// stopped returns an error wrapping ctx's, naming the evaluation time, once
// ctx has ended; nil before.
func stopped(ctx context.Context, ts time.Time) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("evaluation at %s stopped: %w", ts.UTC().Format(time.RFC3339), err)
	}
	return nil
}

// queryable is what queries of the session's storage read: the compact
// view of it when it reads the same (compactview.go), else the main
// storage, with everything deferred written to it.
func (s *Session) queryable() (storage.Queryable, error) {
	if v := s.compactQueryable(); v != nil {
		return v, nil
	}
	if err := s.flush(); err != nil {
		return nil, err
	}
	return mainQueryable{s}, nil
}

// Query runs an instant query at ts, bounded by ctx. A scalar result is
// returned as one sample without labels.
func (s *Session) Query(ctx context.Context, expr string, ts time.Time) (promql.Vector, error) {
	return s.queryWith(ctx, s.qe, s.engine.guarded.ParseExpr, expr, ts)
}

// queryWith answers an instant query with the given engine, or on runs of
// steps when it can (queryRuns, parsing with parse): Session.Query and
// Instant.Query differ only in the engine and parser.
func (s *Session) queryWith(ctx context.Context, qe *promql.Engine, parse func(string) (parser.Expr, error), expr string, ts time.Time) (promql.Vector, error) {
	queryable, err := s.queryable()
	if err != nil {
		return nil, err
	}
	if v, ok := s.queryRuns(ctx, queryable, parse, expr, ts); ok {
		return v, nil
	}
	q, err := qe.NewInstantQuery(ctx, queryable, nil, expr, ts)
	if err != nil {
		return nil, err
	}
	defer q.Close()
	res := q.Exec(ctx)
	if res.Err != nil {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("query %q stopped: %w", expr, err)
		}
		return nil, res.Err
	}
	switch v := res.Value.(type) {
	case promql.Vector:
		return v, nil
	case promql.Scalar:
		return promql.Vector{{T: v.T, F: v.V, Metric: labels.EmptyLabels()}}, nil
	default:
		return nil, errors.New("rule result is not a vector or scalar")
	}
}

// queryRuns answers an instant query of expr at ts on runs of steps
// (runeval.Instant) over the compact view, without the engine, when that
// answers exactly as the engine does: the expression is of runeval's
// subset, the view holds every sample up to ts, and the series it selects
// stay well below the query sample limit (the engine would refuse more).
// False when the engine must answer, whatever the reason.
func (s *Session) queryRuns(ctx context.Context, queryable storage.Queryable, parse func(string) (parser.Expr, error), expr string, ts time.Time) (promql.Vector, bool) {
	view, ok := queryable.(viewQueryable)
	if !ok || ts.UnixMilli() > view.until || s.engine.opts.Features.DelayedNameRemoval {
		return nil, false
	}
	tree, err := parse(expr)
	if err != nil || !runeval.Supported(tree) || 2*selectedBound(tree, view.st) >= s.engine.opts.MaxQuerySamples {
		return nil, false
	}
	res, err := runeval.Instant(ctx, tree, view.st, ts.UnixMilli(), s.engine.opts.LookbackDelta)
	if err != nil {
		return nil, false
	}
	s.runsAnswered++
	vec := make(promql.Vector, len(res))
	for i, smp := range res {
		vec[i] = promql.Sample{Metric: smp.Metric, T: ts.UnixMilli(), F: smp.V}
	}
	return vec, true
}

// selectedBound bounds the samples an instant query of expr over st holds
// at once: the series its selectors match, and one a node.
func selectedBound(expr parser.Expr, st *memstore.Store) int {
	n := 0
	parser.Inspect(expr, func(node parser.Node, _ []parser.Node) error {
		n++
		if vs, ok := node.(*parser.VectorSelector); ok {
			n += len(st.Select(vs.LabelMatchers...))
		}
		return nil
	})
	return n
}

// QueryValue runs an instant query at ts, bounded by ctx, and returns its
// raw result, for range selectors and debugging. A matrix is copied:
// closing the query hands its points back to the engine's pools.
func (s *Session) QueryValue(ctx context.Context, expr string, ts time.Time) (parser.Value, error) {
	if err := s.flush(); err != nil {
		return nil, err
	}
	q, err := s.qe.NewInstantQuery(ctx, mainQueryable{s}, nil, expr, ts)
	if err != nil {
		return nil, err
	}
	defer q.Close()
	res := q.Exec(ctx)
	if m, ok := res.Value.(promql.Matrix); ok {
		out := make(promql.Matrix, len(m))
		for i, ser := range m {
			out[i] = promql.Series{Metric: ser.Metric, Floats: append([]promql.FPoint(nil), ser.Floats...)}
			for _, h := range ser.Histograms {
				out[i].Histograms = append(out[i].Histograms, promql.HPoint{T: h.T, H: h.H.Copy()})
			}
		}
		return out, res.Err
	}
	return res.Value, res.Err
}

// FiringAlerts returns the labels and annotations of the firing alerts of
// the named alerting rules, across groups, as promtool compares them.
func (s *Session) FiringAlerts(names map[string]struct{}) map[string][]*rules.Alert {
	got := map[string][]*rules.Alert{}
	for _, ar := range s.AlertingRules() {
		if _, ok := names[ar.Name()]; !ok {
			continue
		}
		for _, a := range ar.ActiveAlerts() {
			if a.State == rules.StateFiring {
				got[ar.Name()] = append(got[ar.Name()], a)
			}
		}
		if _, ok := got[ar.Name()]; !ok {
			got[ar.Name()] = nil
		}
	}
	return got
}
