// Package coverage measures how much of a set of rule files a run of rule
// unit tests exercises and checks: per rule, whether it was evaluated
// without error, returned samples, reached pending, firing and resolved
// (alerts), and whether a test asserted it. docs/coverage.md defines when
// a rule counts as covered, and why.
//
// A Collector observes the rules' state after every evaluation of every
// test group (unittest.Options.AfterEval), then Report reads the run's
// results and the test files to add the assertions and the rules no test
// reached.
package coverage

import (
	"context"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/rules"

	"github.com/gotk-rules/gotk-rules/evaluator"
)

// ruleKey names a rule of a session: its rule file (as the session loaded
// it), its group and its index in the group.
type ruleKey struct {
	file  string
	group string
	index int
}

// observed is what the evaluations of one test group showed of one rule.
type observed struct {
	evaluations int64
	returned    bool
	pending     bool
	firing      bool
	resolved    bool
}

// merge adds o's observations to m.
func (m *observed) merge(o *observed) {
	m.evaluations += o.evaluations
	m.returned = m.returned || o.returned
	m.pending = m.pending || o.pending
	m.firing = m.firing || o.firing
	m.resolved = m.resolved || o.resolved
}

// watched is a rule of a session under observation.
type watched struct {
	key  ruleKey
	rule rules.Rule
	obs  observed
	// offset is the rule group's query offset: a recording rule writes
	// its samples at the evaluation time minus it.
	offset time.Duration
	// lastEval is the rule's evaluation timestamp when last seen: an
	// evaluation that did not happen (the step failed before the rules)
	// leaves it unchanged.
	lastEval time.Time
	// output is the query finding the series a recording rule wrote.
	output string
	// firing holds the label hashes of the alerts firing at the last
	// evaluation; next is scratch for the current one.
	firing, next map[uint64]struct{}
}

// groupState is what one test group's evaluations showed, rule by rule.
// Only the goroutine running the group touches it.
type groupState struct {
	rules []*watched
}

// groupID names a test group of a run: its test file and index.
type groupID struct {
	file  string
	index int
}

// Collector records rule state after each evaluation. It is safe for
// concurrent use by test groups running in parallel; read it (Report)
// once the run is over.
type Collector struct {
	mu     sync.Mutex
	groups map[groupID]*groupState
}

// NewCollector returns an empty collector.
func NewCollector() *Collector {
	return &Collector{groups: map[groupID]*groupState{}}
}

// AfterEval records the state of every rule of sess after its evaluation
// at ts, for the test group index of file. It has unittest.Options'
// AfterEval signature. It reads the rules' state, and for a recording rule
// not yet seen producing a series, queries the session's storage for the
// series it wrote at ts.
func (c *Collector) AfterEval(file string, group int, ts time.Time, sess *evaluator.Session) {
	id := groupID{file, group}
	c.mu.Lock()
	gs, ok := c.groups[id]
	if !ok {
		gs = newGroupState(sess)
		c.groups[id] = gs
	}
	c.mu.Unlock()
	gs.observe(ts, sess)
}

// newGroupState lists the rules of sess, in evaluation order.
func newGroupState(sess *evaluator.Session) *groupState {
	gs := &groupState{}
	for _, g := range sess.Groups() {
		for i, r := range g.Rules() {
			w := &watched{key: ruleKey{g.File(), g.Name(), i}, rule: r, offset: g.QueryOffset()}
			if _, ok := r.(*rules.RecordingRule); ok {
				w.output = outputQuery(r.Name(), r.Labels())
			} else {
				w.firing, w.next = map[uint64]struct{}{}, map[uint64]struct{}{}
			}
			gs.rules = append(gs.rules, w)
		}
	}
	return gs
}

// outputQuery is the query returning the timestamps of the series a
// recording rule writes: its name and its labels, which it sets on every
// series it writes.
func outputQuery(name string, lset labels.Labels) string {
	var b strings.Builder
	b.WriteString(`timestamp({__name__=`)
	b.WriteString(strconv.Quote(name))
	lset.Range(func(l labels.Label) {
		b.WriteString(", ")
		b.WriteString(strconv.Quote(l.Name))
		b.WriteString("=")
		b.WriteString(strconv.Quote(l.Value))
	})
	b.WriteString("})")
	return b.String()
}

// activeAlerts is what both kinds of alerting rule of a session offer to
// walk their alerts without copying them.
type activeAlerts interface {
	ForEachActiveAlert(func(*rules.Alert))
}

// observe records the rules' state after the evaluation at ts.
func (gs *groupState) observe(ts time.Time, sess *evaluator.Session) {
	for _, w := range gs.rules {
		at := w.rule.GetEvaluationTimestamp()
		// Compared whole, monotonic clock reading included: two
		// evaluations never share one, whatever the wall clock's resolution.
		if at.IsZero() || at == w.lastEval {
			continue // not evaluated at this step
		}
		w.lastEval = at
		if w.rule.LastError() != nil {
			continue
		}
		w.obs.evaluations++
		if w.output != "" {
			if !w.obs.returned {
				w.obs.returned = wroteAt(sess, w.output, ts.Add(-w.offset))
			}
			continue
		}
		gs.observeAlerts(w)
	}
}

// observeAlerts records an alerting rule's states: pending or firing when
// an alert is, resolved when an alert firing at the last evaluation no
// longer is (it went from firing to inactive: an alert does not go back
// from firing to pending).
func (gs *groupState) observeAlerts(w *watched) {
	clear(w.next)
	seen := func(a *rules.Alert) {
		switch a.State {
		case rules.StatePending:
			w.obs.pending, w.obs.returned = true, true
		case rules.StateFiring:
			w.obs.firing, w.obs.returned = true, true
			w.next[a.Labels.Hash()] = struct{}{}
		}
	}
	if ar, ok := w.rule.(activeAlerts); ok {
		ar.ForEachActiveAlert(seen)
	} else if ar, ok := w.rule.(evaluator.AlertRule); ok {
		for _, a := range ar.ActiveAlerts() {
			seen(a)
		}
	}
	for h := range w.firing {
		if _, ok := w.next[h]; !ok {
			w.obs.resolved = true
			break
		}
	}
	w.firing, w.next = w.next, w.firing
}

// wroteAt says whether the recording rule whose output query is q wrote a
// series at t: the session's storage holds a sample at t.
func wroteAt(sess *evaluator.Session, q string, t time.Time) bool {
	v, err := sess.Query(context.Background(), q, t)
	if err != nil {
		return false
	}
	want := t.UnixMilli()
	for _, s := range v {
		if int64(math.Round(s.F*1000)) == want {
			return true
		}
	}
	return false
}

// observations sums, per rule, what every test group observed.
func (c *Collector) observations() map[ruleKey]*observed {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[ruleKey]*observed{}
	for _, gs := range c.groups {
		for _, w := range gs.rules {
			o, ok := out[w.key]
			if !ok {
				o = &observed{}
				out[w.key] = o
			}
			o.merge(&w.obs)
		}
	}
	return out
}
