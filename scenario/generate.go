package scenario

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"

	"github.com/gotk-rules/gotk-rules/evaluator/memstore"
	"github.com/gotk-rules/gotk-rules/series"
)

// Metric names the monitoring setups produce.
const (
	MetricCondition = "gotk_reconcile_condition"
	MetricSuspend   = "gotk_suspend_status"
	MetricDuration  = "gotk_reconcile_duration_seconds"
	MetricInfo      = "gotk_resource_info"
)

// durationBuckets are the controllers' histogram bounds (runtime >= v0.33.0).
var durationBuckets = []float64{0.01, 0.038363583488692544, 0.1471764538093883, 0.5646216173286169, 2.166090855590701,
	8.309900738254731, 31.879757075478317, 122.30217221643493, 469.19495946736544, 1799.9999999999986}

// ObjectState is what an object really is at a time: the ground truth.
type ObjectState struct {
	Alive     bool
	Ready     string // "", True, False or Unknown
	Suspended bool
}

// StateAt returns the object's true state at t.
func (o *Object) StateAt(t time.Duration) ObjectState {
	var st ObjectState
	if t < d(o.Created) {
		return st
	}
	st.Alive = true
	for _, e := range o.Events {
		if d(e.At) > t {
			break
		}
		switch {
		case e.Delete:
			return ObjectState{}
		case e.Suspend:
			st.Suspended = true
		case e.Resume:
			st.Suspended = false
		case e.Reconcile != "":
			if t < d(e.At+e.Took) {
				st.Ready = "Unknown"
			} else {
				st.Ready = e.Reconcile
			}
		}
	}
	return st
}

// suspendedAt returns a function answering o.StateAt(t).Suspended: in
// logarithmic time when o's events are in time order (StateAt walks them
// all, and a day of a fleet's events asks it at every event), else by
// StateAt.
func suspendedAt(o *Object) func(t time.Duration) bool {
	if !slices.IsSortedFunc(o.Events, func(a, b Event) int { return cmp.Compare(a.At, b.At) }) {
		return func(t time.Duration) bool { return o.StateAt(t).Suspended }
	}
	// after[i] is Suspended once events[:i+1] happened: a deletion ends
	// the object's life, and with it any suspension.
	after := make([]bool, len(o.Events))
	suspended, deleted := false, false
	for i, e := range o.Events {
		switch {
		case e.Delete:
			deleted = true
		case e.Suspend:
			suspended = true
		case e.Resume:
			suspended = false
		}
		after[i] = suspended && !deleted
	}
	created := d(o.Created)
	return func(t time.Duration) bool {
		if t < created {
			return false
		}
		i := sort.Search(len(o.Events), func(i int) bool { return d(o.Events[i].At) > t })
		return i > 0 && after[i-1]
	}
}

// recordsProgress says whether the controller records Ready=Unknown when a
// reconcile starts, not only at its end: helm-controller up to v0.35
// (Flux 2.0) did; deferred recording elsewhere and later (flux-metrics.md §1.2).
func recordsProgress(era Era, kind string) bool {
	return era == EraV20 && kind == "HelmRelease"
}

// happening is a change of state at a time, applied before a scrape at the same time.
type happening struct {
	at    time.Duration
	order int // ties: object events in file order, then cluster events
	apply func(*simulation)
}

// controllerView is what a controller exports about one object. Each
// family's series exist from the controller's first record of it.
type controllerView struct {
	present     bool // the condition series exist
	suspPresent bool // the suspend series exists
	histPresent bool // the duration histogram's series exist
	ready       string
	deleted     bool // Flux 2.0: marked Deleted
	suspend     float64
	histCount   []float64 // per bucket, cumulative at export
	histSum     float64
	histN       float64
	// condLabels are the labels of the condition series by status (as
	// conditionStatuses), then of the suspend series, for labelsGen.
	condLabels [5]labels.Labels
	labelsGen  int
}

type simulation struct {
	s          *Scenario
	views      []controllerView
	generation int // controller pod generation, bumped by restarts
	lsets      map[lsetKey]labels.Labels
	// exported is the buffer export fills, reused at every scrape.
	exported []exported
	// opReport is flux_resource_info as the report at opReportAt wrote
	// it (era operator).
	opReport   []labels.Labels
	opReportAt time.Duration
	// ksmLsets are gotk_resource_info's labels per object and state, built
	// once instead of at every scrape (era ksm).
	ksmLsets map[ksmKey]labels.Labels
}

// ksmKey identifies an object's gotk_resource_info series.
type ksmKey struct {
	obj int
	st  ObjectState
}

// lsetKey identifies a controller series, to build its labels once.
type lsetKey struct {
	obj                int
	metric, status, le string
	generation         int
}

// exported is one series value a target exposes at a scrape.
type exported struct {
	lset  labels.Labels
	value float64
}

// Generate turns the scenario into series: one sample per scrape for every
// series a target exposes, a staleness marker when a series disappears, and
// nothing during scrape gaps. Series are in a stable order.
func (s *Scenario) Generate() []series.Series {
	compact := s.GenerateCompact()
	out := make([]series.Series, len(compact))
	for i, c := range compact {
		out[i] = series.Series{Labels: c.Labels(), Samples: make([]series.Sample, 0, c.Len())}
		cur := c.Cursor()
		for t, v, ok := cur.Peek(); ok; t, v, ok = cur.Peek() {
			out[i].Samples = append(out[i].Samples, series.Sample{T: t, F: v})
			cur.Advance()
		}
	}
	return out
}

// GenerateCompact is Generate with each series held compactly, as runs:
// a fleet's day of samples takes a small part of its raw size.
func (s *Scenario) GenerateCompact() []*memstore.Series {
	sim := &simulation{s: s, views: make([]controllerView, len(s.Objects)), lsets: map[lsetKey]labels.Labels{}}
	var hs []happening
	for i := range s.Objects {
		i, o := i, &s.Objects[i]
		suspended := suspendedAt(o)
		for _, e := range o.Events {
			e := e
			switch {
			case e.Reconcile != "" && e.Took > 0 && recordsProgress(s.Era, o.Kind):
				hs = append(hs, happening{at: d(e.At), order: 0, apply: func(sim *simulation) {
					if !suspended(d(e.At)) {
						sim.record(i, "Unknown")
					}
				}})
			}
			switch {
			case e.Reconcile != "":
				end := d(e.At + e.Took)
				hs = append(hs, happening{at: end, order: 0, apply: func(sim *simulation) {
					sim.reconcile(i, e.Reconcile, max(d(e.Took), time.Second), suspended(end))
				}})
			case e.Suspend, e.Resume:
				// Changing spec.suspend triggers a reconcile, with Ready
				// as it is.
				hs = append(hs, happening{at: d(e.At), order: 0, apply: func(sim *simulation) {
					sim.reconcile(i, readyOrUnknown(o.StateAt(d(e.At))), time.Second, e.Suspend)
				}})
			case e.Delete:
				hs = append(hs, happening{at: d(e.At), order: 0, apply: func(sim *simulation) { sim.delete(i) }})
			}
		}
	}
	for _, c := range s.Cluster {
		if c.ControllerRestart {
			at := d(c.At)
			hs = append(hs, happening{at: at, order: 1, apply: func(sim *simulation) { sim.restart() }})
			hs = append(hs, happening{at: at + d(s.Options.RestartDelay), order: 1, apply: func(sim *simulation) { sim.rerecord(at + d(s.Options.RestartDelay)) }})
		}
	}
	slices.SortStableFunc(hs, func(a, b happening) int {
		return cmp.Or(cmp.Compare(a.at, b.at), cmp.Compare(a.order, b.order))
	})

	step := d(s.ScrapeInterval)
	b := newBuilder()
	var frozen []exported // a second target's copy, taken when it starts
	frozenFor := -1       // the cluster event frozen was taken for
	next := 0
	for t := time.Duration(0); t <= d(s.Duration); t += step {
		for next < len(hs) && hs[next].at <= t {
			hs[next].apply(sim)
			next++
		}
		if s.inGap(t) {
			continue
		}
		cur := sim.export(t)
		if idx := s.secondTarget(t); idx >= 0 {
			// An old controller pod keeps its last values; a second
			// kube-state-metrics replica exports live ones.
			if frozenFor != idx || s.Era == EraKSM {
				frozen, frozenFor = sim.secondTargetCopy(cur), idx
			}
			cur = append(cur, frozen...)
		}
		b.scrape(t.Milliseconds(), cur)
	}
	return b.series()
}

func (s *Scenario) inGap(t time.Duration) bool {
	for _, c := range s.Cluster {
		if c.ScrapeGap > 0 && t >= d(c.At) && t < d(c.At+c.ScrapeGap) {
			return true
		}
	}
	return false
}

// secondTarget returns the index of the second-target event active at t, or -1.
func (s *Scenario) secondTarget(t time.Duration) int {
	for i, c := range s.Cluster {
		if c.SecondTarget > 0 && t >= d(c.At) && t < d(c.At+c.SecondTarget) {
			return i
		}
	}
	return -1
}

// unsettled is the Ready status controllers record for an object without a
// Ready condition (fluxcd/pkg runtime/controller Metrics.RecordReadiness).
const unsettled = "Unknown"

// readyOrUnknown is the Ready status a controller records in a state.
func readyOrUnknown(st ObjectState) string {
	if st.Ready == "" {
		return unsettled
	}
	return st.Ready
}

// helmRecordsOwn says whether the object's controller records at points
// of its own rather than in a deferred function at the end of Reconcile:
// helm-controller v0.35 (Flux 2.0) records readiness after each step, its
// suspend status when Reconcile returns, and returns early, recording
// nothing else, for a suspended HelmRelease (docs/flux-metrics.md §1.2,
// §1.4).
func (sim *simulation) helmRecordsOwn(i int) bool {
	return sim.s.Era == EraV20 && sim.s.Objects[i].Kind == "HelmRelease"
}

// reconcile is one call of the controller's Reconcile for object i that
// ends with Ready ready and took took, and what the controller records:
// readiness, the duration and the suspend status, in a deferred function
// on every path (the suspend path included), except helm-controller on
// Flux 2.0, which returns early for a suspended object.
func (sim *simulation) reconcile(i int, ready string, took time.Duration, suspended bool) {
	if sim.views[i].deleted {
		return
	}
	if !(sim.helmRecordsOwn(i) && suspended) {
		sim.observe(i, took.Seconds())
		sim.record(i, ready)
	}
	sim.recordSuspend(i, suspended)
}

func (sim *simulation) record(i int, ready string) {
	v := &sim.views[i]
	if v.deleted {
		return
	}
	v.present = true
	v.ready = ready
}

// recordSuspend records gotk_suspend_status, for the kinds that have it.
func (sim *simulation) recordSuspend(i int, suspended bool) {
	v := &sim.views[i]
	if v.deleted || !kinds[sim.s.Objects[i].Kind].suspend {
		return
	}
	v.suspPresent = true
	v.suspend = 0
	if suspended {
		v.suspend = 1
	}
}

func (sim *simulation) observe(i int, seconds float64) {
	v := &sim.views[i]
	if v.deleted {
		return
	}
	if !v.histPresent {
		v.histPresent = true
		v.histCount = make([]float64, len(durationBuckets))
	}
	for b, le := range durationBuckets {
		if seconds <= le {
			v.histCount[b]++
		}
	}
	v.histSum += seconds
	v.histN++
}

// delete: the object gets a deletion timestamp and its controller runs
// the deletion pass.
func (sim *simulation) delete(i int) {
	v := &sim.views[i]
	o := &sim.s.Objects[i]
	if v.deleted {
		return
	}
	switch sim.s.Era {
	case EraV20:
		// Without a finalizer the controller never sees the deletion and
		// the last values stay.
		if o.NoFinalizer {
			return
		}
		suspended := sim.suspendedAtDeletion(i)
		// The deletion pass records readiness marked Deleted. Deferred
		// recorders also observe its duration and record spec.suspend;
		// helm-controller records its suspend status as false for an
		// object under deletion (recordSuspension).
		if !sim.helmRecordsOwn(i) {
			sim.observe(i, time.Second.Seconds())
		}
		v.present, v.ready = true, ""
		if sim.helmRecordsOwn(i) {
			suspended = false
		}
		sim.recordSuspend(i, suspended)
		v.deleted = true
	default:
		// Flux 2.1: the Metrics helper deletes every series of a deleted
		// object (IsDelete).
		*v = controllerView{deleted: true}
	}
}

// suspendedAtDeletion is spec.suspend when object i is deleted: its last
// suspend or resume before the deletion.
func (sim *simulation) suspendedAtDeletion(i int) bool {
	suspended := false
	for _, e := range sim.s.Objects[i].Events {
		switch {
		case e.Delete:
			return suspended
		case e.Suspend:
			suspended = true
		case e.Resume:
			suspended = false
		}
	}
	return suspended
}

// restart: every controller process starts afresh; its metrics are empty.
func (sim *simulation) restart() {
	for i := range sim.views {
		// A deleted object stays deleted: nothing records it again.
		sim.views[i] = controllerView{deleted: sim.views[i].deleted}
	}
	sim.generation++
}

// rerecord: after a restart, controllers reconcile every living object
// again (controller-runtime lists them all), recording as any reconcile
// does: its current Ready condition (Unknown when it has none).
func (sim *simulation) rerecord(t time.Duration) {
	for i := range sim.s.Objects {
		st := sim.s.Objects[i].StateAt(t)
		if !st.Alive {
			continue
		}
		sim.reconcile(i, readyOrUnknown(st), time.Second, st.Suspended)
	}
}

// export lists what the targets expose at t, with scrape labels applied.
// conditionStatuses are the statuses of gotk_reconcile_condition series;
// Flux 2.0 has the last one too.
var conditionStatuses = [...]string{"True", "False", "Unknown", "Deleted"}

// export returns the series values the targets expose at t, in a buffer
// the next call reuses.
func (sim *simulation) export(t time.Duration) []exported {
	s := sim.s
	out := sim.exported[:0]
	defer func() { sim.exported = out[:0] }()
	statuses := conditionStatuses[:3]
	if s.Era == EraV20 {
		statuses = conditionStatuses[:]
	}
	for i := range s.Objects {
		o := &s.Objects[i]
		if s.Era == EraKSM {
			if st := o.StateAt(t); st.Alive {
				out = append(out, exported{sim.ksmSeries(i, st), 1})
			}
			continue
		}
		if s.Era == EraOperator {
			continue // below: the whole report at once
		}
		v := &sim.views[i]
		if !v.present && !v.suspPresent && !v.histPresent {
			continue
		}
		if v.labelsGen != sim.generation+1 {
			// Built once per controller generation (+1: the zero value
			// means none yet), instead of looked up at every scrape.
			for k, st := range statuses {
				v.condLabels[k] = sim.labelsFor(i, MetricCondition, st, "")
			}
			if kinds[o.Kind].suspend {
				v.condLabels[4] = sim.labelsFor(i, MetricSuspend, "", "")
			}
			v.labelsGen = sim.generation + 1
		}
		for k, st := range statuses {
			if !v.present {
				break
			}
			val := 0.0
			if (v.deleted && st == "Deleted") || (!v.deleted && st == v.ready) {
				val = 1
			}
			out = append(out, exported{v.condLabels[k], val})
		}
		if v.suspPresent {
			out = append(out, exported{v.condLabels[4], v.suspend})
		}
		if s.Options.DurationHistograms && v.histPresent {
			for b, le := range durationBuckets {
				out = append(out, exported{sim.labelsFor(i, MetricDuration+"_bucket", "", strconv.FormatFloat(le, 'g', -1, 64)), v.histCount[b]})
			}
			out = append(out,
				exported{sim.labelsFor(i, MetricDuration+"_bucket", "", "+Inf"), v.histN},
				exported{sim.labelsFor(i, MetricDuration+"_sum", "", ""), v.histSum},
				exported{sim.labelsFor(i, MetricDuration+"_count", "", ""), v.histN})
		}
	}
	if s.Era == EraOperator {
		for _, l := range sim.operatorReport(s.reportAt(t)) {
			out = append(out, exported{l, 1})
		}
	}
	return out
}

// secondTargetCopy is what a second target exposes: for controllers, an
// old pod's frozen copy of the series; for kube-state-metrics, a replica.
func (sim *simulation) secondTargetCopy(cur []exported) []exported {
	out := make([]exported, 0, len(cur))
	for _, e := range cur {
		b := labels.NewBuilder(e.lset)
		switch sim.s.Scrape {
		case ScrapePodMonitor:
			b.Set("pod", e.lset.Get("pod")+"-old")
			b.Set("instance", "10.0.99.1:8080")
		default:
			b.Set("instance", "second-target")
		}
		out = append(out, exported{b.Labels(), e.value})
	}
	return out
}

// labelsFor returns (building once) the labels of an object's controller
// series, as the scrape stores them.
func (sim *simulation) labelsFor(i int, metric, status, le string) labels.Labels {
	key := lsetKey{obj: i, metric: metric, status: status, le: le, generation: sim.generation}
	if l, ok := sim.lsets[key]; ok {
		return l
	}
	o := &sim.s.Objects[i]
	extra := map[string]string{}
	if status != "" {
		extra["type"], extra["status"] = "Ready", status
	}
	if le != "" {
		extra["le"] = le
	}
	l := sim.controllerTarget(o, metric, extra, sim.generation)
	sim.lsets[key] = l
	return l
}

// controllerTarget labels a controller series as the scrape stores it.
func (sim *simulation) controllerTarget(o *Object, name string, extra map[string]string, gen int) labels.Labels {
	m := map[string]string{labels.MetricName: name, "kind": o.Kind, "name": o.Name, "namespace": o.Namespace}
	for k, v := range extra {
		m[k] = v
	}
	if sim.s.Scrape == ScrapePodMonitor {
		ctrl := kinds[o.Kind].controller
		m["exported_namespace"] = m["namespace"]
		m["namespace"] = sim.s.ControllerNamespace
		m["pod"] = fmt.Sprintf("%s-%d", ctrl, gen)
		m["instance"] = fmt.Sprintf("10.0.%d.%d:8080", controllerIndex(ctrl), gen+1)
		m["job"] = sim.s.ControllerNamespace + "/flux-system"
		m["container"] = "manager"
	}
	return labels.FromMap(m)
}

// ksmSeries returns (building once) the labels of object i's
// gotk_resource_info series in state st, as the scrape stores them.
func (sim *simulation) ksmSeries(i int, st ObjectState) labels.Labels {
	key := ksmKey{obj: i, st: st}
	if l, ok := sim.ksmLsets[key]; ok {
		return l
	}
	l := sim.ksmTarget(ksmLabels(&sim.s.Objects[i], st))
	if sim.ksmLsets == nil {
		sim.ksmLsets = map[ksmKey]labels.Labels{}
	}
	sim.ksmLsets[key] = l
	return l
}

// ksmTarget labels a kube-state-metrics series as the scrape stores it.
func (sim *simulation) ksmTarget(m map[string]string) labels.Labels {
	if sim.s.Scrape == ScrapePodMonitor {
		m["namespace"] = "monitoring"
		m["pod"] = "kube-state-metrics-0"
		m["instance"] = "10.0.50.1:8080"
		m["job"] = "monitoring/kube-state-metrics"
	}
	return labels.FromMap(m)
}

// ksmLabels are gotk_resource_info's labels for an object in a state
// (flux-metrics.md §3.2): ready absent without a Ready condition (and for
// Alert and Provider), suspended only when set.
func ksmLabels(o *Object, st ObjectState) map[string]string {
	k := kinds[o.Kind]
	m := map[string]string{
		labels.MetricName:        MetricInfo,
		"customresource_group":   k.group,
		"customresource_kind":    o.Kind,
		"customresource_version": k.version,
		"exported_namespace":     o.Namespace,
		"name":                   o.Name,
	}
	if k.ready && st.Ready != "" {
		m["ready"] = st.Ready
	}
	if st.Suspended {
		m["suspended"] = "true"
	}
	return m
}

func controllerIndex(ctrl string) int {
	for i, c := range []string{"source-controller", "kustomize-controller", "helm-controller", "notification-controller", "image-reflector-controller", "image-automation-controller"} {
		if c == ctrl {
			return i + 1
		}
	}
	return 0
}

// builder accumulates scrapes into series with staleness markers. Series
// are keyed by label hash.
type builder struct {
	byKey   map[uint64]*memstore.Builder
	order   []uint64
	present map[uint64]bool
	// now is the next scrape's present, kept to reuse its memory.
	now map[uint64]bool
}

func newBuilder() *builder {
	return &builder{byKey: map[uint64]*memstore.Builder{}, present: map[uint64]bool{}, now: map[uint64]bool{}}
}

var staleNaN = math.Float64frombits(value.StaleNaN)

func (b *builder) scrape(ts int64, cur []exported) {
	now := b.now
	clear(now)
	for _, e := range cur {
		key := e.lset.Hash()
		now[key] = true
		s, ok := b.byKey[key]
		if !ok {
			s = memstore.NewBuilder(e.lset)
			b.byKey[key] = s
			b.order = append(b.order, key)
		}
		// A series exposed twice in one scrape keeps its first sample, as
		// Prometheus' scrape does.
		_ = s.Append(ts, e.value)
	}
	for key := range b.present {
		if !now[key] {
			_ = b.byKey[key].Append(ts, staleNaN) // after its last: no error
		}
	}
	b.present, b.now = now, b.present
}

func (b *builder) series() []*memstore.Series {
	out := make([]*memstore.Series, 0, len(b.order))
	for _, key := range b.order {
		out = append(out, b.byKey[key].Series())
	}
	slices.SortStableFunc(out, func(x, y *memstore.Series) int { return labels.Compare(x.Labels(), y.Labels()) })
	return out
}

// size estimates the series and samples the scenario generates, before
// generating them.
func (s *Scenario) size() (int, uint64) {
	perObject := 6
	if s.Options.DurationHistograms {
		perObject += 13
	}
	copies := 1
	for _, c := range s.Cluster {
		if c.ControllerRestart || c.SecondTarget > 0 {
			copies++
		}
	}
	n := 0
	for _, o := range s.Objects {
		n += perObject * copies * (1 + len(o.Events))
	}
	scrapes := uint64(s.Duration)/uint64(max(s.ScrapeInterval, 1)) + 1
	return n, uint64(n) * scrapes
}
