package fluxruntime

// The differential test of scenario.EraV21 against fluxcd/pkg/runtime
// v0.43.0. What runs for real: metrics.Recorder (runtime/metrics/recorder.go
// at tag runtime/v0.43.0), registered in client_golang registries, gathered
// and encoded as text with prometheus/common/expfmt, read back with
// Prometheus' own parser; the conditions package (runtime/conditions) that
// sets and reads an object's Ready condition. What the test does itself,
// each rule cited below: when a Flux 2.1 controller calls the recorder.
//
// runtime/controller (Metrics.RecordReadiness, IsDelete) cannot be built
// here: it needs controller-runtime's pkg/ratelimiter, gone from the
// controller-runtime versions that compile against the client-go the main
// module's Prometheus requires. Its few lines are restated below
// (isDelete, recordReadiness, recordSuspend, recordDuration). The recorder
// itself imports controller-runtime's metrics registry (for
// MustMakeRecorder, unused here): go.mod raises controller-runtime to a
// version whose pkg/metrics builds against that client-go.

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fluxcd/pkg/apis/meta"
	"github.com/fluxcd/pkg/runtime/conditions"
	"github.com/fluxcd/pkg/runtime/metrics"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/gotk-rules/gotk-rules/internal/exporterdiff"
	"github.com/gotk-rules/gotk-rules/scenario"
	"github.com/gotk-rules/gotk-rules/series"
)

// fluxObject is the smallest Flux object the runtime's conditions package
// accepts (conditions.Setter): metadata and status conditions.
type fluxObject struct {
	metav1.TypeMeta
	metav1.ObjectMeta
	Conditions []metav1.Condition
}

func (o *fluxObject) GetConditions() []metav1.Condition  { return o.Conditions }
func (o *fluxObject) SetConditions(c []metav1.Condition) { o.Conditions = c }
func (o *fluxObject) DeepCopyObject() runtime.Object {
	c := *o
	o.ObjectMeta.DeepCopyInto(&c.ObjectMeta)
	c.Conditions = slices.Clone(o.Conditions)
	return &c
}

// ref is the object reference the controllers pass to the recorder
// (reference.GetReference fills Kind, Name and Namespace from the object).
func (o *fluxObject) ref() corev1.ObjectReference {
	return corev1.ObjectReference{Kind: o.Kind, APIVersion: o.APIVersion, Name: o.Name, Namespace: o.Namespace}
}

// controllerOf is the controller that reconciles each kind.
var controllerOf = map[string]string{
	"GitRepository": "source-controller", "HelmRepository": "source-controller", "HelmChart": "source-controller",
	"Bucket": "source-controller", "OCIRepository": "source-controller",
	"Kustomization":         "kustomize-controller",
	"HelmRelease":           "helm-controller",
	"Alert":                 "notification-controller",
	"Provider":              "notification-controller",
	"Receiver":              "notification-controller",
	"ImageRepository":       "image-reflector-controller",
	"ImagePolicy":           "image-reflector-controller",
	"ImageUpdateAutomation": "image-automation-controller",
}

// recordsSuspend: ImagePolicy has no spec.suspend and its reconciler never
// calls RecordSuspend (image-reflector-controller v0.29.0
// internal/controller/imagepolicy_controller.go).
func recordsSuspend(kind string) bool { return kind != "ImagePolicy" }

// instantReconcile is how long a reconcile takes that the scenario gives no
// duration (one without Took, or one it does not list): the generator's
// convention, 1s.
const instantReconcile = time.Second

// controller is one Flux controller process: its recorder in its registry.
type controller struct {
	rec *metrics.Recorder
	reg *prometheus.Registry
}

func newController() *controller {
	c := &controller{rec: metrics.NewRecorder(), reg: prometheus.NewRegistry()}
	c.reg.MustRegister(c.rec.Collectors()...)
	return c
}

// object is the cluster's view of one scenario object.
type object struct {
	spec      *scenario.Object
	obj       *fluxObject
	created   bool
	suspended bool // spec.suspend
	gone      bool // removed from the API
}

// finalizer stands for each controller's own finalizer, the one it passes
// to NewMetrics as owned (e.g. kustomize-controller v1.1.0 main.go:
// helper.NewMetrics(mgr, metrics.MustMakeRecorder(), kustomizev1.KustomizationFinalizer)).
const finalizer = "finalizers.fluxcd.io"

// cluster drives the controllers of Flux 2.1 through a scenario.
type cluster struct {
	sc       *scenario.Scenario
	objects  []*object
	ctrls    map[string]*controller
	queue    []happening
	next     int
	observed int // durations observed, to see the histograms exercised
}

// happening is a change at a time. Ties: object events in file order, then
// cluster events (the scenario's order).
type happening struct {
	at    time.Duration
	order int
	apply func()
}

func newCluster(sc *scenario.Scenario) *cluster {
	c := &cluster{sc: sc}
	c.restartControllers()
	for i := range sc.Objects {
		o := &sc.Objects[i]
		obj := &object{spec: o, obj: &fluxObject{
			TypeMeta:   metav1.TypeMeta{Kind: o.Kind, APIVersion: "toolkit.fluxcd.io/v1"},
			ObjectMeta: metav1.ObjectMeta{Name: o.Name, Namespace: o.Namespace},
		}}
		// Every kind of Flux 2.1 has a finalizer (NoFinalizer describes
		// controllers before Flux 0.34): the controller sees each deletion.
		obj.obj.Finalizers = []string{finalizer}
		c.objects = append(c.objects, obj)
		c.at(time.Duration(o.Created), 0, func() { obj.created = true })
		for _, e := range o.Events {
			at, took := time.Duration(e.At), time.Duration(e.Took)
			switch {
			case e.Reconcile != "":
				if took > 0 {
					// The reconcile marks Ready Unknown ("reconciliation in
					// progress") as it starts.
					c.at(at, 0, func() { c.reconcileStart(obj) })
				}
				c.at(at+took, 0, func() { c.reconcileEnd(obj, e.Reconcile, took) })
			case e.Suspend, e.Resume:
				// Changing spec.suspend triggers a reconcile.
				c.at(at, 0, func() {
					obj.suspended = e.Suspend
					c.reconcile(obj, instantReconcile, eventPass)
				})
			case e.Delete:
				c.at(at, 0, func() { c.delete(obj) })
			}
		}
	}
	for _, ce := range sc.Cluster {
		if ce.ControllerRestart {
			at := time.Duration(ce.At)
			up := at + time.Duration(sc.Options.RestartDelay)
			c.at(at, 1, c.restartControllers)
			c.at(up, 1, func() { c.startUp() })
		}
	}
	slices.SortStableFunc(c.queue, func(a, b happening) int {
		if a.at != b.at {
			return int(a.at - b.at)
		}
		return a.order - b.order
	})
	return c
}

func (c *cluster) at(t time.Duration, order int, f func()) {
	c.queue = append(c.queue, happening{at: t, order: order, apply: f})
}

// restartControllers: every controller process starts afresh, with an
// empty registry (a restart in the scenario restarts every controller).
// Processes are made when first needed: a controller that recorded nothing
// exposes nothing of these families either way.
func (c *cluster) restartControllers() {
	c.ctrls = map[string]*controller{}
}

func (c *cluster) ctrl(o *object) *controller {
	name, ok := controllerOf[o.spec.Kind]
	if !ok {
		panic(fmt.Sprintf("no controller known for kind %s", o.spec.Kind))
	}
	if c.ctrls[name] == nil {
		c.ctrls[name] = newController()
	}
	return c.ctrls[name]
}

func (c *cluster) setReady(o *object, status string) {
	switch status {
	case "True":
		conditions.MarkTrue(o.obj, meta.ReadyCondition, meta.SucceededReason, "reconciled")
	case "False":
		conditions.MarkFalse(o.obj, meta.ReadyCondition, meta.FailedReason, "failed")
	default:
		conditions.MarkUnknown(o.obj, meta.ReadyCondition, meta.ProgressingReason, "reconciliation in progress")
	}
}

// reconcileStart: a long reconcile marks Ready Unknown and patches the
// status; Flux 2.1 controllers record only at the end (deferred).
func (c *cluster) reconcileStart(o *object) {
	if o.gone {
		return
	}
	c.setReady(o, "Unknown")
}

// reconcileEnd: a listed reconcile ends with its Ready status, and the
// controller runs its end-of-reconcile recording.
func (c *cluster) reconcileEnd(o *object, ready string, took time.Duration) {
	if o.gone {
		return
	}
	c.setReady(o, ready)
	c.reconcile(o, max(took, instantReconcile), listedReconcile)
}

// delete: the object gets a deletionTimestamp and its controller runs the
// deletion pass, which removes the finalizer; the object is then gone.
func (c *cluster) delete(o *object) {
	if o.gone {
		return
	}
	now := metav1.Now()
	o.obj.DeletionTimestamp = &now
	c.reconcile(o, instantReconcile, eventPass)
}

// startUp: the restarted controllers list every object and reconcile each
// (controller-runtime enqueues all objects of the watched kinds at start),
// RestartDelay after the restart. In between, the scenario's own events
// are reconciled as they come: the scenario says they happen.
func (c *cluster) startUp() {
	for _, o := range c.objects {
		if o.created && !o.gone {
			c.reconcile(o, instantReconcile, startupPass)
		}
	}
}

// why a controller reconciles an object.
type why int

const (
	// listedReconcile is a Reconcile event of the scenario: its Ready
	// status is set, it took the event's time.
	listedReconcile why = iota
	// eventPass is the reconcile a suspend, resume or deletion triggers:
	// Ready is unchanged.
	eventPass
	// startupPass is the reconcile of every object after a restart.
	startupPass
)

// reconcile is one call of the controller's Reconcile for o, taking took,
// and its recording.
func (c *cluster) reconcile(o *object, took time.Duration, why why) {
	if o.gone || !o.created {
		return
	}
	observe := func() { c.recordDuration(o, took) }
	// Flux 2.1 controllers record in a deferred function at the end of
	// Reconcile, on every path (kustomize-controller v1.1.0
	// internal/controller/kustomization_controller.go, source-controller
	// v1.1.0 internal/controller/gitrepository_controller.go: the defer
	// calls r.Metrics.RecordReadiness, RecordDuration and RecordSuspend).
	// The deletion pass removes the finalizer before the defer runs, so
	// the Metrics helper deletes the object's series (IsDelete). The
	// suspend path returns early: Ready is re-recorded unchanged.
	if o.obj.DeletionTimestamp != nil {
		o.obj.Finalizers = nil
		o.gone = true
	}
	c.recordReadiness(o)
	observe()
	c.recordSuspend(o, o.suspended)
}

// isDelete is runtime/controller Metrics.IsDelete at tag runtime/v0.43.0
// (controller/metrics.go): an object is deleted when it has a deletion
// timestamp and none of the controller's own finalizers.
func isDelete(o *fluxObject) bool {
	if slices.Contains(o.Finalizers, finalizer) {
		return false
	}
	return !o.GetDeletionTimestamp().IsZero()
}

// recordReadiness is runtime/controller Metrics.RecordReadiness and
// RecordCondition at tag runtime/v0.43.0 (controller/metrics.go): a deleted
// object's condition series are deleted; a missing Ready condition is
// recorded as Unknown.
func (c *cluster) recordReadiness(o *object) {
	ref := o.obj.ref()
	if isDelete(o.obj) {
		c.ctrl(o).rec.DeleteCondition(ref, meta.ReadyCondition)
		return
	}
	rc := conditions.Get(o.obj, meta.ReadyCondition)
	if rc == nil {
		rc = conditions.UnknownCondition(meta.ReadyCondition, "", "")
	}
	c.ctrl(o).rec.RecordCondition(ref, *rc)
}

func (c *cluster) recordSuspend(o *object, suspend bool) {
	if !recordsSuspend(o.spec.Kind) {
		return
	}
	// Metrics.RecordSuspend at runtime/v0.43.0: DeleteSuspend when deleted.
	if isDelete(o.obj) {
		c.ctrl(o).rec.DeleteSuspend(o.obj.ref())
		return
	}
	c.ctrl(o).rec.RecordSuspend(o.obj.ref(), suspend)
}

// recordDuration is Metrics.RecordDuration at runtime/v0.43.0
// (DeleteDuration when deleted), called with a start took ago: it observes
// time.Since(start), took plus the microseconds of the call.
func (c *cluster) recordDuration(o *object, took time.Duration) {
	if !c.sc.Options.DurationHistograms {
		return
	}
	if isDelete(o.obj) {
		c.ctrl(o).rec.DeleteDuration(o.obj.ref())
		return
	}
	c.ctrl(o).rec.RecordDuration(o.obj.ref(), time.Now().Add(-took))
	c.observed++
}

// Scrape applies what happens up to t and returns what a scrape of every
// controller reads: each registry gathered, as one direct scrape keeps them.
func (c *cluster) Scrape(t time.Duration) ([]byte, error) {
	for c.next < len(c.queue) && c.queue[c.next].at <= t {
		c.queue[c.next].apply()
		c.next++
	}
	var gs prometheus.Gatherers
	for _, ctrl := range c.ctrls {
		gs = append(gs, ctrl.reg)
	}
	return exporterdiff.GatherText(gs)
}

// sumTolerance absorbs the microseconds time.Since adds to each observation.
const sumTolerance = 0.5

func check(t *testing.T, sc *scenario.Scenario, gen exporterdiff.Generator) ([]string, *cluster) {
	t.Helper()
	c := newCluster(sc)
	diff, err := exporterdiff.CheckWith(sc, gen, c, exporterdiff.Options{SumTolerance: sumTolerance})
	require.NoError(t, err)
	return diff, c
}

// life is run number run of verify's random lives on this era's metrics.
func life(run int, histograms bool) *scenario.Scenario {
	return exporterdiff.Life(scenario.EraV21, run, histograms)
}

const runs = 200

// TestExporterRandomLives: on random lives (restarts and scrape gaps
// included), the generator stores what the real recorder exposes, at every
// scrape, with duration histograms (and without, on a quarter of them).
func TestExporterRandomLives(t *testing.T) {
	var counts exporterdiff.LifeCounts
	observed := 0
	// Under -race, a few lives (exporterdiff.Lives): CI runs this test
	// again without -race on all of them.
	n := exporterdiff.Lives(runs)
	for run := range n {
		// With histograms every run (a superset of the series); without,
		// a quarter of them (the generator's other path), for time.
		for _, hist := range []bool{true, false} {
			if !hist && run%4 != 0 {
				continue
			}
			sc := life(run, hist)
			diff, c := check(t, sc, exporterdiff.Generate)
			require.Empty(t, diff, "run %d (histograms %v):\n%s\n%s", run, hist, strings.Join(diff, "\n"), exporterdiff.Describe(sc))
			observed += c.observed
			if hist {
				counts.Add(sc)
			}
		}
	}
	// The lives exercise what the test is about.
	counts.RequireAll(t)
	require.Positive(t, observed)
	t.Logf("%d runs: %+v, %d durations observed", n, counts, observed)
}

// TestExporterCatchesBrokenGenerators: the differential has teeth. Each
// broken generator makes some random life differ, with the expected kind
// of difference.
func TestExporterCatchesBrokenGenerators(t *testing.T) {
	tests := []struct {
		name       string
		histograms bool
		generate   exporterdiff.Generator
		want       string
	}{
		{
			name: "keeps series after deletion, as Flux 2.0",
			generate: func(sc *scenario.Scenario) []series.Series {
				cp := *sc
				cp.Era = scenario.EraV20
				return cp.Generate()
			},
			want: `status="Deleted"`,
		},
		{
			name: "keeps the last values after deletion",
			generate: exporterdiff.MapSeries(func(ss []series.Series) []series.Series {
				for i := range ss {
					ss[i].Samples = slices.DeleteFunc(ss[i].Samples, func(s series.Sample) bool { return math.IsNaN(s.F) })
				}
				return ss
			}),
			want: "no staleness marker for vanished",
		},
		{
			name:       "wrong le bounds",
			histograms: true,
			generate: exporterdiff.MapSeries(func(ss []series.Series) []series.Series {
				for i, s := range ss {
					if le := s.Labels.Get("le"); le == "0.01" {
						ss[i].Labels = labels.NewBuilder(s.Labels).Set("le", "0.001").Labels()
					}
				}
				return ss
			}),
			want: `le="0.01"`,
		},
		{
			name: "drops gotk_suspend_status",
			generate: exporterdiff.MapSeries(func(ss []series.Series) []series.Series {
				return slices.DeleteFunc(ss, func(s series.Series) bool { return s.Labels.Get(labels.MetricName) == scenario.MetricSuspend })
			}),
			want: `missing {__name__="gotk_suspend_status"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for run := range runs {
				diff, _ := check(t, life(run, tt.histograms), tt.generate)
				for _, d := range diff {
					if strings.Contains(d, tt.want) {
						return
					}
				}
			}
			t.Fatalf("no life showed a difference containing %q", tt.want)
		})
	}
}

// obj builds a scenario object; events are given as (minute, what) pairs.
func obj(kind string, evs ...scenario.Event) scenario.Object {
	return scenario.Object{Kind: kind, Name: "app", Namespace: "team-a", Events: evs}
}

func at(m float64) model.Duration { return model.Duration(time.Duration(m * float64(time.Minute))) }

func small(histograms bool, cluster []scenario.ClusterEvent, objs ...scenario.Object) *scenario.Scenario {
	sc := &scenario.Scenario{
		Name: "small", Era: scenario.EraV21, Scrape: scenario.ScrapeDirect,
		ScrapeInterval: model.Duration(30 * time.Second), Duration: at(20),
		Objects: objs, Cluster: cluster,
	}
	sc.Options.DurationHistograms = histograms
	sc.Normalize()
	return sc
}

// TestExporterSmallLives: hand-made lives on the edges the random ones reach
// rarely.
func TestExporterSmallLives(t *testing.T) {
	tests := []struct {
		name    string
		sc      *scenario.Scenario
		present []string // series the exporter shows at the end
	}{
		{
			name: "Kustomization failing then deleted: its series go",
			sc:   small(true, nil, obj("Kustomization", scenario.Event{At: at(0), Reconcile: "False"}, scenario.Event{At: at(5), Delete: true})),
		},
		{
			name: "deleted while suspended: its series go",
			sc: small(false, nil, obj("HelmRelease",
				scenario.Event{At: at(0), Reconcile: "True"}, scenario.Event{At: at(2), Suspend: true}, scenario.Event{At: at(5), Delete: true})),
		},
		{
			name: "long reconcile: no Unknown recorded mid-reconcile",
			sc:   small(true, nil, obj("HelmRelease", scenario.Event{At: at(0), Reconcile: "True"}, scenario.Event{At: at(5), Reconcile: "False", Took: at(3)})),
			present: []string{
				`{__name__="gotk_reconcile_condition", kind="HelmRelease", name="app", namespace="team-a", status="False", type="Ready"} 1`,
				`{__name__="gotk_reconcile_duration_seconds_count", kind="HelmRelease", name="app", namespace="team-a"} 2`,
				`{__name__="gotk_reconcile_duration_seconds_sum", kind="HelmRelease", name="app", namespace="team-a"} 181`,
			},
		},
		{
			name: "restart: series come back after the restart delay",
			sc:   small(false, []scenario.ClusterEvent{{At: at(6), ControllerRestart: true}}, obj("GitRepository", scenario.Event{At: at(0), Reconcile: "False"})),
			present: []string{
				`{__name__="gotk_reconcile_condition", kind="GitRepository", name="app", namespace="team-a", status="False", type="Ready"} 1`,
				`{__name__="gotk_suspend_status", kind="GitRepository", name="app", namespace="team-a"} 0`,
			},
		},
		{
			name: "ImagePolicy has no suspend series",
			sc:   small(false, nil, obj("ImagePolicy", scenario.Event{At: at(0), Reconcile: "True"})),
			present: []string{
				`{__name__="gotk_reconcile_condition", kind="ImagePolicy", name="app", namespace="team-a", status="True", type="Ready"} 1`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			diff, c := check(t, tt.sc, exporterdiff.Generate)
			require.Empty(t, diff, strings.Join(diff, "\n"))
			text, err := c.Scrape(time.Duration(tt.sc.Duration))
			require.NoError(t, err)
			e, err := exporterdiff.ParseText(text)
			require.NoError(t, err)
			for _, p := range tt.present {
				k, v, _ := strings.Cut(p, "} ")
				require.Contains(t, e, k+"}", "exposition:\n%s", text)
				want, err := strconv.ParseFloat(v, 64)
				require.NoError(t, err)
				require.InDelta(t, want, e[k+"}"], sumTolerance, k)
			}
			if len(tt.present) == 0 {
				require.Empty(t, e)
			}
		})
	}
}

// controllerDetails are lives on which this differential once found the
// generator wrong (scenario/generate.go now models each); was is the
// difference it reported then. They stay as cases of their own, since
// random lives reach them rarely.
var controllerDetails = []struct {
	name string
	sc   *scenario.Scenario
	was  string
}{
	{
		name: "durations of the reconciles the scenario does not list",
		sc: small(true, []scenario.ClusterEvent{{At: at(6), ControllerRestart: true}}, obj("Kustomization",
			scenario.Event{At: at(0), Reconcile: "True"}, scenario.Event{At: at(2), Suspend: true})),
		was: `at 2m: value {__name__="gotk_reconcile_duration_seconds_count", kind="Kustomization", name="app", namespace="team-a"}: want 2, got 1`,
	},
}

// TestControllerDetails: the generator matches the controllers on each
// detail it once got wrong.
func TestControllerDetails(t *testing.T) {
	for _, tc := range controllerDetails {
		t.Run(tc.name, func(t *testing.T) {
			diff, _ := check(t, tc.sc, exporterdiff.Generate)
			require.Empty(t, diff, "once: %s\nnow:\n%s", tc.was, strings.Join(diff, "\n"))
		})
	}
}
