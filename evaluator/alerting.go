package evaluator

import (
	"context"
	"fmt"
	"math"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/timestamp"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/rules"
	"github.com/prometheus/prometheus/template"

	"github.com/gotk-rules/gotk-rules/budget"
	"github.com/gotk-rules/gotk-rules/guard"
)

// AlertRule is an alerting rule of a session: Prometheus' own
// *rules.AlertingRule in exact mode, an *AlertingRule otherwise.
type AlertRule interface {
	rules.Rule
	// ActiveAlerts returns copies of the pending and firing alerts.
	ActiveAlerts() []*rules.Alert
	HoldDuration() time.Duration
	KeepFiringFor() time.Duration
	Annotations() labels.Labels
}

// AlertingRule is Prometheus' alerting rule (rules/alerting.go at v0.315.0)
// with the same state machine, outputs and errors, made cheap to evaluate
// at every step of a long replay:
//   - a label or annotation template is parsed and run only when its input
//     changes: its result is kept per input series and value, unless the
//     template calls query or now, whose results depend on the time;
//   - the ALERTS and ALERTS_FOR_STATE label sets of an alert are built once
//     per state, not at every evaluation.
//
// Nothing is sent anywhere: sessions have no notifier.
type AlertingRule struct {
	name          string
	expr          parser.Expr
	exprString    string
	hold          time.Duration
	keepFiringFor time.Duration
	labels        labels.Labels
	annotations   labels.Labels
	extLabels     map[string]string
	extURL        string

	// templates are the rule's label then annotation values.
	templates []ruleTemplate
	// timed is true when some template's result may depend on the time.
	timed bool
	// static is true when no template has an action: the expansion of a
	// series does not depend on its value.
	static bool

	mtx sync.Mutex
	// active are the alerts by the hash of their labels; alerts holds
	// the same alerts, each at its slot, and is what evaluations walk.
	active map[uint64]*activeAlert
	alerts []*activeAlert
	// gen counts evaluations: an alert whose seen is gen has a result in
	// the evaluation under way.
	gen  uint64
	memo map[uint64]*seriesMemo
	// memoByID finds memos without hashing, once results are many.
	memoByID *idCache[*seriesMemo]
	// Per evaluation scratch, kept to save allocations.
	results []result
	// last are the memos of the last evaluation's results, in its order:
	// a result series whose labels are in the same memory as the one at
	// about the same place last time has the same memo, found without
	// hashing (the range cache serves the same series in the same order).
	last, lastSpare []*seriesMemo
	// fresh are the hashes of this evaluation's new alerts, to find two
	// results with one label set.
	fresh map[uint64]struct{}
	// spare are removed alerts, reused for new ones: nothing else holds
	// them (ActiveAlerts copies, ForEachActiveAlert's callers must not keep).
	spare []*activeAlert
	// runs is the state for moving alerts on by changes (alertruns.go),
	// nil when the last evaluation did not leave one; claims, released
	// and answer are its scratch.
	runs     *alertRuns
	claims   []claim
	released []*activeAlert
	answer   runsAnswer

	// limits bound the templates' expansion and the alerts' labels.
	limits guard.Limits
	// tmplName is the name Prometheus gives the rule's templates.
	tmplName string
	// funcs are Prometheus' template functions for the evaluation under
	// way, made at its first expansion: they depend on its time and query
	// function, not on the series.
	funcs map[string]any
	// discard leaves the ALERTS and ALERTS_FOR_STATE samples out of Eval's
	// result: nothing reads them (see Session.discardAlertOutputs).
	discard bool

	lastError error
	health    rules.RuleHealth
	evalDur   time.Duration
	evalTime  time.Time
}

// ruleTemplate is one label or annotation value of a rule.
type ruleTemplate struct {
	name, text string
	// full is text after Prometheus' variable definitions (templateDefs).
	full string
	// static is true when text has no action: it expands to itself.
	static bool
	// timed is true when the result may depend on the evaluation time.
	timed bool
}

// seriesMemo is what one result series expanded to, last time it was seen.
type seriesMemo struct {
	metric      labels.Labels
	valueBits   uint64
	labels      labels.Labels
	hash        uint64
	annotations labels.Labels
	// version counts the expansions of labels.
	version uint64
	// outputs are the ALERTS_FOR_STATE and, by state, ALERTS label sets
	// of an alert with these labels, built when first needed. Alerts that
	// come back reuse them, and the group loop finds their series from
	// the same memory.
	forState labels.Labels
	alerts   [rules.StateFiring + 1]labels.Labels
}

// claim is a series that takes an alert at a step (alertRuns).
type claim struct {
	k    int32
	memo *seriesMemo
	v    float64
}

type result struct {
	memo  *seriesMemo
	value float64
	// alert is the alert of the memo's labels before this evaluation.
	alert *activeAlert
}

// activeAlert is an alert with its output label sets built once.
type activeAlert struct {
	rules.Alert
	outputState rules.AlertState
	alertsLabels,
	forStateLabels labels.Labels
	// memo is the memo the alert's labels came from, at version.
	memo    *seriesMemo
	version uint64
	// hash is the alert's key in AlertingRule.active, slot its index in
	// AlertingRule.alerts, seen the last evaluation that returned it.
	hash uint64
	slot int
	seen uint64
	// src is the series of the chunk of runs that holds the alert, or -1
	// (alertRuns); epoch counts the alert's lives, as it is reused.
	src   int
	epoch uint64
}

// maxMemo bounds the series memo of one rule; beyond it, it starts afresh.
const maxMemo = 1 << 20

// NewAlertingRule makes an alerting rule; the arguments are those of
// rules.NewAlertingRule. The rule is restored: it writes ALERTS and
// ALERTS_FOR_STATE from its first evaluation.
func NewAlertingRule(name string, expr parser.Expr, hold, keepFiringFor time.Duration, lset, annotations, externalLabels labels.Labels, externalURL string) *AlertingRule {
	return newAlertingRule(name, expr, expr.String(), hold, keepFiringFor, lset, annotations, externalLabels, externalURL)
}

// newAlertingRule is NewAlertingRule with expr.String() known.
func newAlertingRule(name string, expr parser.Expr, exprString string, hold, keepFiringFor time.Duration, lset, annotations, externalLabels labels.Labels, externalURL string) *AlertingRule {
	r := &AlertingRule{
		name:          name,
		expr:          expr,
		exprString:    exprString,
		hold:          hold,
		keepFiringFor: keepFiringFor,
		labels:        lset,
		annotations:   annotations,
		extLabels:     externalLabels.Map(),
		extURL:        externalURL,
		active:        map[uint64]*activeAlert{},
		memo:          map[uint64]*seriesMemo{},
		fresh:         map[uint64]struct{}{},
		health:        rules.HealthUnknown,
		limits:        guard.Default(),
		tmplName:      "__alert_" + name,
	}
	add := func(l labels.Label) {
		r.templates = append(r.templates, ruleTemplate{
			name:   l.Name,
			text:   l.Value,
			full:   templateDefs + l.Value,
			static: !strings.Contains(l.Value, "{{"),
			timed:  strings.Contains(l.Value, "query") || strings.Contains(l.Value, "now"),
		})
	}
	lset.Range(add)
	annotations.Range(add)
	r.static = true
	for _, t := range r.templates {
		r.timed = r.timed || (t.timed && !t.static)
		r.static = r.static && t.static
	}
	return r
}

// Name is the alert's name.
func (r *AlertingRule) Name() string { return r.name }

// Labels are the rule's labels, unexpanded.
func (r *AlertingRule) Labels() labels.Labels { return r.labels }

// Annotations are the rule's annotations, unexpanded.
func (r *AlertingRule) Annotations() labels.Labels { return r.annotations }

// Query is the rule's expression.
func (r *AlertingRule) Query() parser.Expr { return r.expr }

// HoldDuration is the rule's `for`.
func (r *AlertingRule) HoldDuration() time.Duration { return r.hold }

// KeepFiringFor is the rule's `keep_firing_for`.
func (r *AlertingRule) KeepFiringFor() time.Duration { return r.keepFiringFor }

// String describes the rule.
func (r *AlertingRule) String() string {
	return fmt.Sprintf("alert: %s\nexpr: %s\n", r.name, r.exprString)
}

// SetLastError records the last evaluation's error.
func (r *AlertingRule) SetLastError(err error) { r.lastError = err }

// LastError is the last evaluation's error.
func (r *AlertingRule) LastError() error { return r.lastError }

// SetHealth records the rule's health.
func (r *AlertingRule) SetHealth(h rules.RuleHealth) { r.health = h }

// Health is the rule's health.
func (r *AlertingRule) Health() rules.RuleHealth { return r.health }

// SetEvaluationDuration records how long the last evaluation took.
func (r *AlertingRule) SetEvaluationDuration(d time.Duration) { r.evalDur = d }

// GetEvaluationDuration is how long the last evaluation took.
func (r *AlertingRule) GetEvaluationDuration() time.Duration { return r.evalDur }

// SetEvaluationTimestamp records when the last evaluation ran.
func (r *AlertingRule) SetEvaluationTimestamp(t time.Time) { r.evalTime = t }

// GetEvaluationTimestamp is when the last evaluation ran.
func (r *AlertingRule) GetEvaluationTimestamp() time.Time { return r.evalTime }

// SetDependentRules is part of rules.Rule; groups here run sequentially.
func (r *AlertingRule) SetDependentRules([]rules.Rule) {}

// NoDependentRules is false: no guarantee is made.
func (r *AlertingRule) NoDependentRules() bool { return false }

// DependentRules is unknown.
func (r *AlertingRule) DependentRules() []rules.Rule { return nil }

// SetDependencyRules is part of rules.Rule; groups here run sequentially.
func (r *AlertingRule) SetDependencyRules([]rules.Rule) {}

// NoDependencyRules is false: no guarantee is made.
func (r *AlertingRule) NoDependencyRules() bool { return false }

// DependencyRules is unknown.
func (r *AlertingRule) DependencyRules() []rules.Rule { return nil }

// ActiveAlerts returns copies of the pending and firing alerts.
func (r *AlertingRule) ActiveAlerts() []*rules.Alert {
	r.mtx.Lock()
	defer r.mtx.Unlock()
	var out []*rules.Alert
	for _, a := range r.alerts {
		if a.ResolvedAt.IsZero() {
			c := a.Alert
			out = append(out, &c)
		}
	}
	return out
}

// ForEachActiveAlert calls f with each pending or firing alert, without
// copying; f must not keep or change it.
func (r *AlertingRule) ForEachActiveAlert(f func(*rules.Alert)) {
	r.mtx.Lock()
	defer r.mtx.Unlock()
	for _, a := range r.alerts {
		if a.ResolvedAt.IsZero() {
			f(&a.Alert)
		}
	}
}

// resolvedRetention is how long a resolved alert is kept, as in Prometheus.
const resolvedRetention = 15 * time.Minute

// Eval evaluates the expression at ts and moves the alerts' states on,
// exactly as rules.AlertingRule.Eval does.
func (r *AlertingRule) Eval(ctx context.Context, queryOffset time.Duration, ts time.Time, query rules.QueryFunc, externalURL *url.URL, limit int) (promql.Vector, error) {
	// The result is only read (never kept, nor changed): served uncopied.
	qctx := context.WithValue(ctx, readOnlyResult{}, true)
	var ans *runsAnswer
	if r.discard && !r.timed && incrementalAlerts {
		// Told the chunk of runs and the step, if they serve the query.
		ans = &r.answer
		*ans = runsAnswer{}
		qctx = context.WithValue(qctx, runsAnswerKey{}, ans)
	}
	queryTs := ts.Add(-queryOffset)
	res, err := query(qctx, r.exprString, queryTs)
	r.mtx.Lock()
	defer r.mtx.Unlock()
	if err != nil {
		r.runs = nil
		return nil, err
	}
	if ans != nil && ans.ch != nil {
		return r.evalRuns(ctx, ts, queryTs, ans, query, externalURL, limit)
	}
	r.runs = nil
	return r.evalVector(ctx, res, ts, queryTs, query, externalURL, limit)
}

// evalVector moves the alerts on from the query's result res at ts, walking
// every alert. r.mtx is held.
func (r *AlertingRule) evalVector(ctx context.Context, res promql.Vector, ts, queryTs time.Time, query rules.QueryFunc, externalURL *url.URL, limit int) (promql.Vector, error) {
	r.funcs = nil // made again for this evaluation's time and query

	// First the label sets, so that a duplicate leaves the state untouched.
	r.gen++
	gen := r.gen
	r.results = r.results[:0]
	clear(r.fresh)
	if len(res) > 256 && r.memoByID == nil {
		r.memoByID = newIDCache[*seriesMemo](16)
	}
	cur := r.lastSpare[:0]
	k := 0 // where res[i] is looked for in r.last
	for i := range res {
		m := r.fromLast(&res[i], &k)
		if m == nil {
			var err error
			if m, err = r.expand(ctx, &res[i], ts, query, externalURL); err != nil {
				r.lastSpare = cur
				return nil, err
			}
		}
		cur = append(cur, m)
		// A stamp of this evaluation, or a new alert met twice, is a
		// second result with the same labels. Stamps left by a failed
		// evaluation are older than the next one's.
		a := r.active[m.hash]
		if a != nil && a.seen == gen {
			return nil, rules.ErrDuplicateAlertLabelSet
		}
		if a == nil || a.State == rules.StateInactive {
			if _, dup := r.fresh[m.hash]; dup {
				return nil, rules.ErrDuplicateAlertLabelSet
			}
			r.fresh[m.hash] = struct{}{}
		}
		if a != nil {
			a.seen = gen
		}
		r.results = append(r.results, result{memo: m, value: res[i].F, alert: a})
	}
	r.last, r.lastSpare = cur, r.last
	for _, res := range r.results {
		m, a := res.memo, res.alert
		if a != nil && a.State != rules.StateInactive {
			a.Value = res.value
			a.Annotations = m.annotations
			continue
		}
		r.newAlert(m, res.value, ts, a).seen = gen
	}

	var vec promql.Vector
	if !r.discard {
		vec = make(promql.Vector, 0, 2*len(r.active))
	}
	numActivePending := 0
	outTs := timestamp.FromTime(queryTs)
	for i := 0; i < len(r.alerts); i++ {
		a := r.alerts[i]
		if a.seen != gen {
			keepFiring := false
			if a.State == rules.StateFiring && r.keepFiringFor > 0 {
				if a.KeepFiringSince.IsZero() {
					a.KeepFiringSince = ts
				}
				if ts.Sub(a.KeepFiringSince) < r.keepFiringFor {
					keepFiring = true
				}
			}
			if a.State == rules.StatePending || (!a.ResolvedAt.IsZero() && ts.Sub(a.ResolvedAt) > resolvedRetention) {
				r.remove(a)
				i-- // the alert moved into its slot is walked next
			}
			if a.State != rules.StateInactive && !keepFiring {
				a.State = rules.StateInactive
				a.ResolvedAt = ts
			}
			if !keepFiring {
				continue
			}
		} else {
			a.KeepFiringSince = time.Time{}
		}
		numActivePending++

		if a.State == rules.StatePending && ts.Sub(a.ActiveAt) >= r.hold {
			a.State = rules.StateFiring
			a.FiredAt = ts
		}
		if a.State == rules.StateFiring && ts.Sub(a.ActiveAt) < r.hold {
			a.State = rules.StatePending
			a.FiredAt = time.Time{}
			a.LastSentAt = time.Time{}
			a.KeepFiringSince = time.Time{}
		}
		if r.discard {
			continue
		}
		r.outputLabels(a)
		vec = append(vec,
			promql.Sample{Metric: a.alertsLabels, T: outTs, F: 1},
			promql.Sample{Metric: a.forStateLabels, T: outTs, F: float64(a.ActiveAt.Unix())},
		)
	}
	if limit > 0 && numActivePending > limit {
		r.active = map[uint64]*activeAlert{}
		clear(r.alerts)
		r.alerts = r.alerts[:0]
		return nil, fmt.Errorf("exceeded limit of %d with %d alerts", limit, numActivePending)
	}
	return vec, nil
}

// newAlert makes the pending alert of memo m at ts, with value v, in place
// of replaced, the resolved alert of the same labels, if not nil.
func (r *AlertingRule) newAlert(m *seriesMemo, v float64, ts time.Time, replaced *activeAlert) *activeAlert {
	var n *activeAlert
	if k := len(r.spare); k > 0 {
		n, r.spare = r.spare[k-1], r.spare[:k-1]
	} else {
		n = new(activeAlert)
	}
	*n = activeAlert{Alert: rules.Alert{
		Labels:      m.labels,
		Annotations: m.annotations,
		ActiveAt:    ts,
		State:       rules.StatePending,
		Value:       v,
	}, memo: m, version: m.version, hash: m.hash, src: -1, epoch: n.epoch + 1}
	if replaced != nil {
		n.slot = replaced.slot
		r.alerts[replaced.slot] = n
	} else {
		n.slot = len(r.alerts)
		r.alerts = append(r.alerts, n)
	}
	r.active[m.hash] = n
	return n
}

// remove drops alert a: the last alert takes its slot. The evaluation
// under way may still read a, but no new alert is made after removals.
func (r *AlertingRule) remove(a *activeAlert) {
	delete(r.active, a.hash)
	last := len(r.alerts) - 1
	moved := r.alerts[last]
	r.alerts[a.slot], moved.slot = moved, a.slot
	r.alerts[last] = nil
	r.alerts = r.alerts[:last]
	r.spare = append(r.spare, a) // read no more after this evaluation
}

// outputLabels builds a's ALERTS and ALERTS_FOR_STATE label sets, as
// rules.AlertingRule's sample and forStateSample do, when its state changed.
func (r *AlertingRule) outputLabels(a *activeAlert) {
	if !a.forStateLabels.IsEmpty() && !a.alertsLabels.IsEmpty() && a.outputState == a.State {
		return // an alert's labels never change: its identity is their hash
	}
	// From the memo, while it still holds the labels the alert came from.
	m := a.memo
	if m == nil || m.version != a.version || int(a.State) >= len(m.alerts) {
		m = &seriesMemo{} // built for this alert only
	}
	if m.forState.IsEmpty() {
		m.forState = r.outputSet(a.Labels, "ALERTS_FOR_STATE", "")
	}
	if m.alerts[a.State].IsEmpty() {
		m.alerts[a.State] = r.outputSet(a.Labels, "ALERTS", a.State.String())
	}
	a.forStateLabels, a.alertsLabels, a.outputState = m.forState, m.alerts[a.State], a.State
}

// outputSet is the label set of the named output series of an alert with
// the given labels; state, when set, is its alertstate. It is the rule's
// labels overridden by the alert's, then the metric name, alert name and
// state, as rules.AlertingRule builds it, in time linear in the labels
// (a labels.Builder takes quadratic time for an alert of many labels).
func (r *AlertingRule) outputSet(alert labels.Labels, metric, state string) labels.Labels {
	sb := labels.NewScratchBuilder(alert.Len() + r.labels.Len() + 3)
	own := func(name string) bool {
		return name == labels.MetricName || name == labels.AlertName || (state != "" && name == "alertstate")
	}
	alert.Range(func(l labels.Label) {
		if !own(l.Name) {
			sb.Add(l.Name, l.Value)
		}
	})
	r.labels.Range(func(l labels.Label) {
		if !own(l.Name) && !alert.Has(l.Name) {
			sb.Add(l.Name, l.Value)
		}
	})
	sb.Add(labels.MetricName, metric)
	sb.Add(labels.AlertName, r.name)
	if state != "" {
		sb.Add("alertstate", state)
	}
	sb.Sort()
	return sb.Labels()
}

// fromLast returns the memo of smpl when it is one of the next few of the
// last evaluation's results, from *k on, with labels in the same memory and
// a memo expand would return as is; nil otherwise. It moves *k past it.
func (r *AlertingRule) fromLast(smpl *promql.Sample, k *int) *seriesMemo {
	if smpl.H != nil || r.timed {
		return nil
	}
	id := labelsID(smpl.Metric)
	if id == nil {
		return nil
	}
	for j := *k; j < len(r.last) && j < *k+4; j++ {
		m := r.last[j]
		if labelsID(m.metric) == id && labels.Equal(m.metric, smpl.Metric) {
			if !r.static && m.valueBits != math.Float64bits(smpl.F) {
				return nil
			}
			*k = j + 1
			return m
		}
	}
	return nil
}

// expand returns the alert labels and annotations of one result sample,
// from the memo when the same series had the same value before.
func (r *AlertingRule) expand(ctx context.Context, smpl *promql.Sample, ts time.Time, query rules.QueryFunc, externalURL *url.URL) (*seriesMemo, error) {
	bits := math.Float64bits(smpl.F)
	if m, ok := r.memoByID.get(smpl.Metric); ok && smpl.H == nil && !r.timed && (r.static || m.valueBits == bits) {
		return m, nil
	}
	h := smpl.Metric.Hash()
	m, ok := r.memo[h]
	if ok && smpl.H == nil && !r.timed && (r.static || m.valueBits == bits) && labels.Equal(m.metric, smpl.Metric) {
		r.memoByID.put(smpl.Metric, m)
		return m, nil
	}
	if !ok || !labels.Equal(m.metric, smpl.Metric) {
		if len(r.memo) >= maxMemo {
			clear(r.memo)
		}
		m = &seriesMemo{metric: smpl.Metric}
		r.memo[h] = m
	}
	m.valueBits = bits // a histogram's value is not: it is never served from the memo

	var data any
	// limitErr is the first template limit hit: the evaluation fails
	// with it, where promtool would run out of time or memory.
	var limitErr error
	expandText := func(t ruleTemplate) string {
		if t.static || limitErr != nil {
			return t.text
		}
		if data == nil {
			data = template.AlertTemplateData(smpl.Metric.Map(), r.extLabels, r.extURL, *smpl)
		}
		if r.funcs == nil {
			// The expander's functions depend on ctx, ts, query and
			// externalURL only, the same for every series of an evaluation.
			tmpl := template.NewTemplateExpander(ctx, "", r.tmplName, nil,
				model.Time(timestamp.FromTime(ts)), template.QueryFunc(query), externalURL, nil)
			r.funcs = guard.TemplateFuncs(tmpl)
		}
		// Prometheus' functions, run by guard within the template limits.
		out, err := parsedTemplates.Expand(ctx, r.limits, r.tmplName, t.full, data, r.funcs)
		if guard.IsLimit(err) {
			limitErr = fmt.Errorf("alert %q, %s: %w", r.name, t.name, err)
		}
		if err != nil {
			out = fmt.Sprintf("<error expanding template: %s>", err)
		}
		return out
	}
	lb := labels.NewBuilder(smpl.Metric)
	lb.Del(labels.MetricName)
	nLabels := r.labels.Len()
	for _, t := range r.templates[:nLabels] {
		lb.Set(t.name, expandText(t))
	}
	lb.Set(labels.AlertName, r.name)
	sb := labels.NewScratchBuilder(len(r.templates) - nLabels)
	for _, t := range r.templates[nLabels:] {
		sb.Add(t.name, expandText(t))
	}
	m.labels = lb.Labels()
	if limitErr == nil {
		limitErr = r.checkLabelBytes(m.labels)
	}
	if limitErr != nil {
		delete(r.memo, h) // half built
		return nil, limitErr
	}
	m.hash = m.labels.Hash()
	m.version++
	m.forState, m.alerts = labels.EmptyLabels(), [len(m.alerts)]labels.Labels{}
	m.annotations = sb.Labels()
	r.memoByID.put(smpl.Metric, m)
	return m, nil
}

// checkLabelBytes returns an error when a label value of an alert, or all
// of them, is over the limits' label bytes: Prometheus cannot hold a value
// of more than 16 MiB, and panics building it.
func (r *AlertingRule) checkLabelBytes(ls labels.Labels) error {
	total, longest, name := 0, 0, ""
	ls.Range(func(l labels.Label) {
		total += len(l.Name) + len(l.Value)
		if len(l.Value) > longest {
			longest, name = len(l.Value), l.Name
		}
	})
	if longest > r.limits.MaxLabelBytes {
		return fmt.Errorf("alert %q: %w", r.name, &budget.ExceededError{Budget: budget.LabelBytes,
			Limit: uint64(r.limits.MaxLabelBytes), Asked: uint64(longest),
			Subject: fmt.Sprintf("label %s of %d label bytes", name, longest)})
	}
	if total > r.limits.MaxLabelSetBytes {
		return fmt.Errorf("alert %q: %w", r.name, &budget.ExceededError{Budget: budget.LabelBytes,
			Limit: uint64(r.limits.MaxLabelSetBytes), Asked: uint64(total),
			Subject: fmt.Sprintf("%d labels of %d label bytes in all", ls.Len(), total)})
	}
	return nil
}

// parsedTemplates keeps the alert templates parsed, for the expansions of
// every rule: they are all run with Prometheus' template functions.
var parsedTemplates = guard.NewTemplates()

// templateDefs are the variables Prometheus defines for alert templates.
const templateDefs = "{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}{{$externalURL := .ExternalURL}}{{$value := .Value}}"
