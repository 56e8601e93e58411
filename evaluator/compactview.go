package evaluator

import (
	"cmp"
	"math"
	"slices"

	"github.com/prometheus/prometheus/storage"

	"github.com/gotk-rules/gotk-rules/evaluator/memstore"
)

// compactView reads as the main storage would after a flush, without it:
// the input held compactly up to the last evaluation, and the rule results
// of the output log. A test group's expression assertions (promql_expr_test)
// are then answered without opening a TSDB in a temporary directory and
// appending every input sample and rule result to it a second time.
//
// It is what the main storage holds because, while it serves:
//   - the main storage was never opened, so nothing was written there;
//   - all input is compact (floats in strictly increasing time order), so
//     appending it would have stored every sample up to the last
//     evaluation (deferInput);
//   - no input series has a rule output's name (deferInput), so input and
//     outputs are distinct series;
//   - the log holds only samples the main storage would have accepted
//     silently, each after its series' last (ruleOutputs); anything else
//     turns the log off, and queries go to the main storage again.
//
// A TSDB's head is read only when a query's range reaches its earliest
// sample (see memstore.reorderAsTSDB): the earliest sample of the view,
// which a memstore querier bounded to the last evaluation finds alike.
//
// A TSDB's head reads series in the order it created them, which decides
// ties in topk, bottomk and limitk. The view reads them in the order
// evaluating step by step creates them, as promtool does: at each
// evaluation, the input series whose first sample is due, in input order,
// then the rule results' new series, in the order written.
type compactView struct {
	st *memstore.Store
	// outputs, inputs and evals are the logged output series, input series
	// and evaluations st was made after: a new series, or an input series
	// created by a new evaluation, needs a new store (the logged series
	// grow in place).
	outputs, inputs, evals int
}

// viewQueryable is the store of a compactView, read up to until.
type viewQueryable struct {
	st    *memstore.Store
	until int64
}

// Querier returns a querier of the view's samples in [mint, maxt], none
// after until: those were not appended yet.
func (q viewQueryable) Querier(mint, maxt int64) (storage.Querier, error) {
	return q.st.Querier(mint, min(maxt, q.until))
}

// compactQueryable returns what a query of the session's storage reads,
// without the main storage, or nil when it must read the main storage.
func (s *Session) compactQueryable() storage.Queryable {
	if s.db != nil || s.dbErr != nil || !s.deferInput || !s.outputs.logging || len(s.pending) > 0 || !s.hasDue {
		return nil
	}
	v := &s.view
	if v.st == nil || v.outputs != len(s.outputs.order) || v.inputs != len(s.cursors) || v.evals != len(s.evalMax) {
		st, err := memstore.NewOrdered(s.creationSeries())
		if err != nil {
			// Two series with the same labels: the main storage decides.
			return nil
		}
		*v = compactView{st: st, outputs: len(s.outputs.order), inputs: len(s.cursors), evals: len(s.evalMax)}
	}
	return viewQueryable{st: v.st, until: s.due.UnixMilli()}
}

// created is a series of the view: input (cursor, its index in
// Session.cursors) or a logged rule result (logged).
type created struct {
	step, phase, index int
	series             *memstore.Series
	cursor             *inputCursor
	logged             *loggedSeries
}

// creationOrder returns the input and logged output series in the order
// evaluating step by step creates them; input series not created yet
// come last.
func (s *Session) creationOrder() []created {
	all := make([]created, 0, len(s.cursors)+len(s.outputs.order))
	for i := range s.cursors {
		c := &s.cursors[i]
		all = append(all, created{step: s.creationStep(c.series), index: i, series: c.series, cursor: c})
	}
	for i, ls := range s.outputs.order {
		all = append(all, created{step: ls.step, phase: 1, index: i, series: ls.b.Live(), logged: ls})
	}
	slices.SortFunc(all, compareCreated)
	return all
}

// compareCreated orders series by creation: step, then input before
// output, then the order they were given in.
func compareCreated(a, b created) int {
	return cmp.Or(cmp.Compare(a.step, b.step), cmp.Compare(a.phase, b.phase), cmp.Compare(a.index, b.index))
}

// creationStep is the index in evalMax of the evaluation that first
// appends a sample of the input series ser, creating it: the first
// evaluation at or after its first sample. Evaluations not made yet are
// taken to come every evaluation interval after the last one made; a
// series without samples is never created (math.MaxInt, last).
func (s *Session) creationStep(ser *memstore.Series) int {
	t, ok := ser.First()
	if !ok {
		return math.MaxInt
	}
	evals := s.evalMax
	i, _ := slices.BinarySearch(evals, t)
	if i < len(evals) || len(evals) == 0 {
		return i
	}
	last, stepMs := evals[len(evals)-1], s.opts.EvalInterval.Milliseconds()
	if stepMs <= 0 {
		return len(evals)
	}
	return len(evals) - 1 + int((t-last+stepMs-1)/stepMs)
}

// creationSeries is creationOrder's series.
func (s *Session) creationSeries() []*memstore.Series {
	all := s.creationOrder()
	out := make([]*memstore.Series, len(all))
	for i, c := range all {
		out[i] = c.series
	}
	return out
}
