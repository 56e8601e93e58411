package ksm

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/tools/cache"
	"k8s.io/kube-state-metrics/v2/pkg/allowdenylist"
	"k8s.io/kube-state-metrics/v2/pkg/builder"
	"k8s.io/kube-state-metrics/v2/pkg/customresource"
	"k8s.io/kube-state-metrics/v2/pkg/customresourcestate"
	generator "k8s.io/kube-state-metrics/v2/pkg/metric_generator"
	metricsstore "k8s.io/kube-state-metrics/v2/pkg/metrics_store"
	"k8s.io/kube-state-metrics/v2/pkg/metricshandler"
	"k8s.io/kube-state-metrics/v2/pkg/optin"
	"k8s.io/kube-state-metrics/v2/pkg/options"
	"k8s.io/kube-state-metrics/v2/pkg/util"
	yaml "sigs.k8s.io/yaml/goyaml.v3"

	"github.com/gotk-rules/gotk-rules/scenario"
)

// configFile is Flux's kube-state-metrics chart values (see its header).
const configFile = "testdata/kube-state-metrics-config.yaml"

// crsConfig returns the custom-resource-state configuration in the chart
// values, as the YAML file kube-state-metrics reads: the chart writes
// customResourceState.config into it with toYaml.
func crsConfig(path string) ([]byte, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read chart values: %w", err)
	}
	var values struct {
		KSM struct {
			CustomResourceState struct {
				Enabled bool           `yaml:"enabled"`
				Config  map[string]any `yaml:"config"`
			} `yaml:"customResourceState"`
		} `yaml:"kube-state-metrics"`
	}
	if err := yaml.Unmarshal(raw, &values); err != nil {
		return nil, fmt.Errorf("parse chart values %s: %w", path, err)
	}
	crs := values.KSM.CustomResourceState
	if !crs.Enabled || crs.Config == nil {
		return nil, fmt.Errorf("chart values %s: customResourceState is not enabled with a config", path)
	}
	out, err := yaml.Marshal(crs.Config)
	if err != nil {
		return nil, fmt.Errorf("write custom resource state config: %w", err)
	}
	return out, nil
}

// capturingDecoder decodes as kube-state-metrics does (its server reads the
// config file with this YAML package's Decoder) and keeps the decoded value,
// which FromConfig then normalizes in place (metric types lower-cased).
type capturingDecoder struct {
	dec *yaml.Decoder
	got *customresourcestate.Metrics
}

// Decode decodes into v and keeps it.
func (c *capturingDecoder) Decode(v any) error {
	if m, ok := v.(*customresourcestate.Metrics); ok {
		c.got = m
	}
	return c.dec.Decode(v)
}

// factories runs the configuration through kube-state-metrics' FromConfig
// and builds one registry factory per resource, as the function FromConfig
// returns does once discovery has resolved each GVK. That function needs
// kube-state-metrics' CRD discoverer (an internal package, fed by a live API
// server); for a fully specified group, version and kind its resolution is
// the identity, with the plural taken from the CRD, which only names the
// store (the plural kube-state-metrics guesses from the kind is used here).
func factories(config []byte) ([]customresource.RegistryFactory, []customresourcestate.Resource, error) {
	dec := &capturingDecoder{dec: yaml.NewDecoder(bytes.NewReader(config))}
	if _, err := customresourcestate.FromConfig(dec, nil); err != nil {
		return nil, nil, fmt.Errorf("kube-state-metrics config: %w", err)
	}
	if dec.got == nil {
		return nil, nil, fmt.Errorf("kube-state-metrics config: FromConfig decoded no customresourcestate.Metrics")
	}
	var out []customresource.RegistryFactory
	for _, r := range dec.got.Spec.Resources {
		f, err := customresourcestate.NewCustomResourceMetrics(r)
		if err != nil {
			return nil, nil, fmt.Errorf("kube-state-metrics config: metrics for %s: %w", r.GroupVersionKind, err)
		}
		out = append(out, f)
	}
	return out, dec.got.Spec.Resources, nil
}

// builderMu guards kube-state-metrics' store builder, which registers
// custom resource store constructors in a package-level map.
var builderMu sync.Mutex

// exporter is a kube-state-metrics instance serving /metrics for the Flux
// custom resources of one scenario. Its stores, filters, writers and HTTP
// handler are kube-state-metrics' own; only the reflectors that would list
// and watch the API server are replaced: Scrape hands the stores the add,
// update and delete events a reflector would deliver for the objects'
// states at that time.
type exporter struct {
	sc      *scenario.Scenario
	gvk     map[string]customresourcestate.GroupVersionKind // by kind
	stores  map[string]*metricsstore.MetricsStore           // by kind
	handler *metricshandler.MetricsHandler
	cancel  context.CancelFunc
	objects []*unstructured.Unstructured // by object index, nil when absent
}

// newExporter builds kube-state-metrics for a scenario from the chart values
// at path, as its server does (pkg/app): metric allow/deny and opt-in
// filters (empty: all families), one store per custom resource, a store
// builder and the metrics handler configured for a single shard.
func newExporter(sc *scenario.Scenario, path string) (*exporter, error) {
	config, err := crsConfig(path)
	if err != nil {
		return nil, err
	}
	facs, resources, err := factories(config)
	if err != nil {
		return nil, err
	}
	e := &exporter{
		sc:      sc,
		gvk:     map[string]customresourcestate.GroupVersionKind{},
		stores:  map[string]*metricsstore.MetricsStore{},
		objects: make([]*unstructured.Unstructured, len(sc.Objects)),
	}
	for _, r := range resources {
		if _, dup := e.gvk[r.GroupVersionKind.Kind]; dup {
			return nil, fmt.Errorf("kube-state-metrics config: kind %s configured twice", r.GroupVersionKind.Kind)
		}
		e.gvk[r.GroupVersionKind.Kind] = r.GroupVersionKind
	}

	allowDeny, err := allowdenylist.New(map[string]struct{}{}, map[string]struct{}{})
	if err != nil {
		return nil, fmt.Errorf("allow/deny list: %w", err)
	}
	if err := allowDeny.Parse(); err != nil {
		return nil, fmt.Errorf("allow/deny list: %w", err)
	}
	optIn, err := optin.NewMetricFamilyFilter(map[string]struct{}{})
	if err != nil {
		return nil, fmt.Errorf("opt-in filter: %w", err)
	}
	filter := generator.NewCompositeFamilyGeneratorFilter(allowDeny, optIn)

	var enabled []string
	for _, f := range facs {
		gvr, err := util.GVRFromType(f.Name(), f.ExpectedType())
		if err != nil {
			return nil, fmt.Errorf("resource of %s: %w", f.Name(), err)
		}
		enabled = append(enabled, gvr.String())
	}

	builderMu.Lock()
	defer builderMu.Unlock()
	b := builder.NewBuilder()
	b.WithMetrics(prometheus.NewRegistry()) // its own list/watch and sharding metrics
	b.WithNamespaces(options.DefaultNamespaces)
	b.WithFamilyGeneratorFilter(filter)
	b.WithCustomResourceStoreFactories(facs...)
	if err := b.WithEnabledResources(enabled); err != nil {
		return nil, fmt.Errorf("enable custom resources: %w", err)
	}
	// As the builder's own custom resource store function, minus the
	// reflector: one store over all namespaces, its families filtered.
	b.WithGenerateCustomResourceStoresFunc(func(_ string, families []generator.FamilyGenerator, expectedType any,
		_ func(any, string, string) cache.ListerWatcher, _ bool, _ int64) []cache.Store {
		families = generator.FilterFamilyGenerators(filter, families)
		store := metricsstore.NewMetricsStore(generator.ExtractMetricFamilyHeaders(families), generator.ComposeMetricGenFuncs(families))
		e.stores[expectedType.(*unstructured.Unstructured).GetKind()] = store
		return []cache.Store{store}
	})
	ctx, cancel := context.WithCancel(context.Background())
	e.cancel = cancel
	e.handler = metricshandler.New(options.NewOptions(), nil, b, false)
	e.handler.ConfigureSharding(ctx, 0, 1)
	for kind := range e.gvk {
		if e.stores[kind] == nil {
			cancel()
			return nil, fmt.Errorf("kube-state-metrics built no store for %s", kind)
		}
	}
	return e, nil
}

// Close stops the handler's context.
func (e *exporter) Close() { e.cancel() }

// object is the Flux object as the API server would serve it in a state,
// with only the fields the scenario models: identity, spec.suspend (the Flux
// API types declare it `json:"suspend,omitempty"`, so it is written only
// when true) and the Ready condition, once the object has one. Values have
// the types JSON decoding gives an informer (string, bool, []any, map).
//
// Informational labels of the configuration (revision, url, source_name,
// chart_name, image, webhook_path, ...) come from fields the scenario does
// not model, so kube-state-metrics leaves them out here, as the generator
// does. They do not change which series an alert sees for a failing object:
// the spec ones (url, source_name, endpoint, bucket_name, image, chart
// references) are fixed for the object's life and add the same labels to all
// its series, and the revision ones change only when a new revision is
// fetched, applied or released, which the scenario has no event for: an
// object that keeps failing at one revision keeps one label set, and its
// ready label alone moves it between series, as the generator models. (A
// new chart version whose release fails does change a HelmRelease's
// revision, from status.history, while it fails; rules that aggregate the
// informational labels away, as by name and namespace, see no difference.)
func (e *exporter) object(i int, st scenario.ObjectState) (*unstructured.Unstructured, error) {
	o := &e.sc.Objects[i]
	gvk, ok := e.gvk[o.Kind]
	if !ok {
		return nil, fmt.Errorf("object %s: kind not in the kube-state-metrics config", o.ID())
	}
	spec := map[string]any{"interval": "10m"}
	if st.Suspended {
		spec["suspend"] = true
	}
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": gvk.Group + "/" + gvk.Version,
		"kind":       gvk.Kind,
		"metadata": map[string]any{
			"name":      o.Name,
			"namespace": o.Namespace,
			// One object per scenario object: the scenario never
			// recreates a deleted one.
			"uid": fmt.Sprintf("%s-%d", e.sc.Name, i),
		},
		"spec": spec,
	}}
	if st.Ready != "" {
		// Alert and Provider get one too: their configuration, not the
		// object, must keep ready out of their series.
		u.Object["status"] = map[string]any{"conditions": []any{
			map[string]any{"type": "Reconciling", "status": "True", "reason": "Progressing"},
			map[string]any{"type": "Ready", "status": st.Ready, "reason": "Reconciled", "message": "modelled"},
		}}
	}
	return u, nil
}

// Scrape delivers each object's change up to t to its store, as a reflector
// would (added, updated, deleted), then serves /metrics as text.
func (e *exporter) Scrape(t time.Duration) ([]byte, error) {
	for i := range e.sc.Objects {
		st := e.sc.Objects[i].StateAt(t)
		store := e.stores[e.sc.Objects[i].Kind]
		if store == nil {
			return nil, fmt.Errorf("object %s: no kube-state-metrics store for its kind", e.sc.Objects[i].ID())
		}
		prev := e.objects[i]
		switch {
		case st.Alive:
			u, err := e.object(i, st)
			if err != nil {
				return nil, err
			}
			if prev == nil {
				err = store.Add(u)
			} else {
				err = store.Update(u)
			}
			if err != nil {
				return nil, fmt.Errorf("object %s: %w", e.sc.Objects[i].ID(), err)
			}
			e.objects[i] = u
		case prev != nil:
			if err := store.Delete(prev); err != nil {
				return nil, fmt.Errorf("object %s: %w", e.sc.Objects[i].ID(), err)
			}
			e.objects[i] = nil
		}
	}
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	// The Prometheus text format (what exporterdiff.ParseText reads). A
	// Prometheus that negotiates OpenMetrics gets the same series, with
	// "# TYPE gotk_resource_info info" and "# EOF".
	req.Header.Set("Accept", "text/plain;version=0.0.4")
	rec := httptest.NewRecorder()
	e.handler.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		return nil, fmt.Errorf("GET /metrics: status %d: %s", rec.Code, rec.Body.String())
	}
	return rec.Body.Bytes(), nil
}
