package evaluator

import (
	"cmp"
	"context"
	"fmt"
	"net/url"
	"slices"
	"time"

	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/rules"

	"github.com/gotk-rules/gotk-rules/evaluator/runeval"
)

// Alerts moved on by changes.
//
// An alerting rule's evaluation walks every alert at every step (Eval). A
// fleet's rule returns thousands of series that hold their value for hours:
// most steps change nothing but a few alerts. When the rule's query is
// served from runs of steps (runeval) and nothing reads the rule's outputs
// (discard), consecutive evaluations move the state on from the series that
// start, stop or change value at the step, and from the alerts whose time
// comes (pending ones firing, kept ones resolving, resolved ones dropped).
// The state after each step is the one Eval's walk would leave; whatever
// would make Eval fail (a duplicate label set, a template's limit) goes to
// Eval itself, which fails as it does.

// incrementalAlerts turns the moving on by changes on; tests turn it off
// to compare.
var incrementalAlerts = true

// runsAnswerKey is the key of the context value a rule query's caller sets
// to be told the chunk of runs and the step that serve the query, instead
// of being given the vector.
type runsAnswerKey struct{}

// runsAnswer is where the range cache says which chunk and step serve a
// query, leaving the vector unbuilt.
type runsAnswer struct {
	ch  *chunk
	idx int
}

// alertRuns is a rule's state for moving on by changes: valid for the
// step idx of the chunk ch, which the last evaluation was.
type alertRuns struct {
	ch  *chunk
	idx int
	// alertOf is, for each series of the chunk, its alert while it has a
	// value; cursor is the index of its span at or after idx.
	alertOf []*activeAlert
	cursor  []int32
	// changed stamps each series with the last step it changed at;
	// changes are those of the step under way, once each.
	changed []int32
	changes []int32
	// pending are the pending alerts by ActiveAt, kept the unseen alerts
	// kept firing by KeepFiringSince, resolved the resolved ones by
	// ResolvedAt: each in time order, as they came; entries of alerts
	// that moved on since are skipped (timed.valid).
	pending, kept, resolved alertQueue
	// present counts the alerts with a series, kept those kept firing.
	present, keptCount int
}

// timed is an alert in one of alertRuns' queues, at the time it entered
// (Unix nanoseconds) in its life epoch.
type timed struct {
	a     *activeAlert
	at    int64
	epoch uint64
}

// alertQueue is a queue of alerts in time order; items before head are
// taken.
type alertQueue struct {
	items []timed
	head  int
}

func (q *alertQueue) push(a *activeAlert, at time.Time) {
	if q.head > 0 && 2*q.head >= len(q.items) {
		n := copy(q.items, q.items[q.head:])
		q.items, q.head = q.items[:n], 0
	}
	q.items = append(q.items, timed{a: a, at: at.UnixNano(), epoch: a.epoch})
}

// popDue drops the queue's first entries that are no longer valid, then
// takes the first one if due: valid says whether an entry still applies,
// due whether its time has come.
func (q *alertQueue) popDue(valid func(timed) bool, due func(timed) bool) (timed, bool) {
	for q.head < len(q.items) {
		e := q.items[q.head]
		if !valid(e) {
			q.head++
			continue
		}
		if !due(e) {
			return timed{}, false
		}
		q.head++
		return e, true
	}
	return timed{}, false
}

// evalRuns evaluates the rule at ts from a query served by a chunk of runs:
// by changes when the last evaluation was the step before on the same
// chunk, else by Eval's walk over the step's vector, after which the state
// for changes is made afresh. r.mtx is held.
func (r *AlertingRule) evalRuns(ctx context.Context, ts, queryTs time.Time, ans *runsAnswer, query rules.QueryFunc, externalURL *url.URL, limit int) (promql.Vector, error) {
	if inc := r.runs; inc != nil && inc.ch == ans.ch && ans.idx == inc.idx+1 {
		if vec, err, ok := r.evalChanges(ctx, ts, queryTs, ans.idx, query, externalURL, limit); ok {
			return vec, err
		}
	}
	r.runs = nil
	vec, err := r.evalVector(ctx, ans.ch.vector(ans.idx), ts, queryTs, query, externalURL, limit)
	if err == nil {
		r.syncRuns(ans.ch, ans.idx)
	}
	return vec, err
}

// syncRuns makes the state for changes from the alerts Eval's walk left at
// step idx of ch, whose results were r.results in series order.
func (r *AlertingRule) syncRuns(ch *chunk, idx int) {
	n := len(ch.runs)
	inc := &alertRuns{ch: ch, idx: idx, alertOf: make([]*activeAlert, n), cursor: make([]int32, n), changed: make([]int32, n)}
	for _, a := range r.alerts {
		a.src = -1
	}
	j := 0
	for k := range ch.runs {
		spans := ch.runs[k].Spans
		c, _ := slices.BinarySearchFunc(spans, idx, func(s runeval.Span, idx int) int { return cmp.Compare(s.To, idx+1) })
		inc.cursor[k] = int32(c)
		inc.changed[k] = -1
		if c < len(spans) && spans[c].From <= idx {
			if j >= len(r.results) {
				return // not the results of this step: no state for changes
			}
			a := r.active[r.results[j].memo.hash]
			j++
			if a == nil || a.State == rules.StateInactive {
				return
			}
			inc.alertOf[k], a.src = a, k
			inc.present++
		}
	}
	if j != len(r.results) {
		return
	}
	for _, a := range r.alerts {
		switch {
		case a.src >= 0 && a.State == rules.StatePending:
			inc.pending.push(a, a.ActiveAt)
		case a.src < 0 && a.State == rules.StateFiring:
			inc.kept.push(a, a.KeepFiringSince)
			inc.keptCount++
		case a.State == rules.StateInactive:
			inc.resolved.push(a, a.ResolvedAt)
		}
	}
	byTime := func(x, y timed) int { return cmp.Compare(x.at, y.at) }
	slices.SortStableFunc(inc.pending.items, byTime)
	slices.SortStableFunc(inc.kept.items, byTime)
	slices.SortStableFunc(inc.resolved.items, byTime)
	r.runs = inc
}

// evalChanges moves the state from step idx-1 to idx by the series that
// change there. ok is false, with nothing changed, when Eval must do it.
func (r *AlertingRule) evalChanges(ctx context.Context, ts, queryTs time.Time, idx int, query rules.QueryFunc, externalURL *url.URL, limit int) (promql.Vector, error, bool) {
	inc := r.runs
	ch := inc.ch
	r.funcs = nil
	changes := inc.changes[:0]
	for _, k := range ch.changesAt(idx) {
		if inc.changed[k] != int32(idx) { // a span may end and the next start here
			inc.changed[k] = int32(idx)
			changes = append(changes, k)
		}
	}
	inc.changes = changes
	claims := r.claims[:0]
	clear(r.fresh)
	// First whatever may fail, changing nothing but the memos and the
	// cursors (which a failure discards with the rest of r.runs: Eval's
	// walk makes the state for changes afresh).
	for _, k := range changes {
		spans := ch.runs[k].Spans
		c := int(inc.cursor[k])
		for c < len(spans) && spans[c].To <= idx {
			c++
		}
		inc.cursor[k] = int32(c)
		if c == len(spans) || spans[c].From > idx {
			continue // no value here
		}
		smpl := promql.Sample{Metric: ch.runs[k].Metric, T: queryTs.UnixMilli(), F: spans[c].V}
		m, err := r.expand(ctx, &smpl, ts, query, externalURL)
		if err != nil {
			return nil, nil, false
		}
		if _, dup := r.fresh[m.hash]; dup {
			return nil, nil, false
		}
		r.fresh[m.hash] = struct{}{}
		if a := r.active[m.hash]; a != nil && a.src >= 0 && inc.changed[a.src] != int32(idx) {
			return nil, nil, false // held by a series that does not change
		}
		claims = append(claims, claim{k: k, memo: m, v: spans[c].V})
	}
	r.claims = claims
	// The series that change let their alerts go, then take theirs.
	released := r.released[:0]
	for _, k := range changes {
		if a := inc.alertOf[k]; a != nil {
			inc.alertOf[k] = nil
			a.src = -1
			inc.present--
			released = append(released, a)
		}
	}
	for _, cl := range claims {
		m := cl.memo
		a := r.active[m.hash]
		if a != nil && a.State != rules.StateInactive {
			a.Value = cl.v
			a.Annotations = m.annotations
			if a.State == rules.StateFiring && !a.KeepFiringSince.IsZero() {
				inc.keptCount-- // seen again: no longer kept
			}
			a.KeepFiringSince = time.Time{}
		} else {
			a = r.newAlert(m, cl.v, ts, a)
			inc.pending.push(a, ts)
		}
		a.src = int(cl.k)
		inc.alertOf[cl.k] = a
		inc.present++
	}
	// Alerts no series holds any more, as Eval's walk treats the unseen.
	for _, a := range released {
		if a.src >= 0 {
			continue // another series took it
		}
		keepFiring := false
		if a.State == rules.StateFiring && r.keepFiringFor > 0 {
			a.KeepFiringSince = ts
			keepFiring = true // ts.Sub(ts) < keepFiringFor
		}
		if a.State == rules.StatePending {
			r.remove(a)
		}
		if a.State != rules.StateInactive && !keepFiring {
			a.State = rules.StateInactive
			a.ResolvedAt = ts
			if r.active[a.hash] == a {
				inc.resolved.push(a, ts)
			}
		}
		if keepFiring {
			inc.kept.push(a, ts)
			inc.keptCount++
		}
	}
	r.released = released
	// Then the alerts whose time comes.
	now := ts.UnixNano()
	for {
		e, ok := inc.pending.popDue(func(e timed) bool {
			return e.epoch == e.a.epoch && e.a.State == rules.StatePending && e.a.src >= 0
		}, func(e timed) bool { return now-e.at >= int64(r.hold) })
		if !ok {
			break
		}
		e.a.State = rules.StateFiring
		e.a.FiredAt = ts
	}
	for {
		e, ok := inc.kept.popDue(func(e timed) bool {
			return e.epoch == e.a.epoch && e.a.State == rules.StateFiring && e.a.src < 0 && e.a.KeepFiringSince.UnixNano() == e.at
		}, func(e timed) bool { return now-e.at >= int64(r.keepFiringFor) })
		if !ok {
			break
		}
		inc.keptCount--
		e.a.State = rules.StateInactive
		e.a.ResolvedAt = ts
		inc.resolved.push(e.a, ts)
	}
	for {
		e, ok := inc.resolved.popDue(func(e timed) bool {
			return e.epoch == e.a.epoch && e.a.State == rules.StateInactive && e.a.ResolvedAt.UnixNano() == e.at && r.active[e.a.hash] == e.a
		}, func(e timed) bool { return now-e.at > int64(resolvedRetention) })
		if !ok {
			break
		}
		r.remove(e.a)
	}
	inc.idx = idx
	if n := inc.present + inc.keptCount; limit > 0 && n > limit {
		r.active = map[uint64]*activeAlert{}
		clear(r.alerts)
		r.alerts = r.alerts[:0]
		r.runs = nil
		return nil, fmt.Errorf("exceeded limit of %d with %d alerts", limit, n), true
	}
	return nil, nil, true
}

// changesAt returns the indexes of the series with a span that starts or
// ends at step idx (a series may be there twice), built for all steps at
// the first call.
func (ch *chunk) changesAt(idx int) []int32 {
	if ch.changeStart == nil {
		counts := make([]int32, ch.steps+2)
		for k := range ch.runs {
			for _, s := range ch.runs[k].Spans {
				counts[s.From+1]++
				if s.To < ch.steps {
					counts[s.To+1]++
				}
			}
		}
		for i := 1; i < len(counts); i++ {
			counts[i] += counts[i-1]
		}
		list := make([]int32, counts[len(counts)-1])
		fill := slices.Clone(counts)
		for k := range ch.runs {
			for _, s := range ch.runs[k].Spans {
				list[fill[s.From]] = int32(k)
				fill[s.From]++
				if s.To < ch.steps {
					list[fill[s.To]] = int32(k)
					fill[s.To]++
				}
			}
		}
		ch.changeStart, ch.changeList = counts, list
	}
	if idx < 0 || idx >= ch.steps {
		return nil
	}
	return ch.changeList[ch.changeStart[idx]:ch.changeStart[idx+1]]
}
