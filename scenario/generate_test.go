package scenario

import (
	"math"
	"sort"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	"github.com/stretchr/testify/require"

	"github.com/gotk-rules/gotk-rules/series"
)

// lm writes a metric as Notation does: name{labels sorted}.
func lm(name string, kv ...string) string {
	return metricString(labels.FromStrings(append([]string{labels.MetricName, name}, kv...)...))
}

// cond is a directly scraped gotk_reconcile_condition series.
func cond(kind, ns, name, status string) string {
	return lm(MetricCondition, "kind", kind, "name", name, "namespace", ns, "status", status, "type", "Ready")
}

// susp is a directly scraped gotk_suspend_status series.
func susp(kind, ns, name string) string {
	return lm(MetricSuspend, "kind", kind, "name", name, "namespace", ns)
}

// info is a directly scraped gotk_resource_info series of a Kustomization.
func info(ns, name string, kv ...string) string {
	return lm(MetricInfo, append([]string{
		"customresource_group", "kustomize.toolkit.fluxcd.io", "customresource_kind", "Kustomization",
		"customresource_version", "v1", "exported_namespace", ns, "name", name}, kv...)...)
}

// notation generates a scenario's series in promtool notation, by metric.
func notation(t *testing.T, sc *Scenario) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, s := range Notation(sc.Generate(), d(sc.ScrapeInterval), d(sc.Duration)) {
		_, dup := out[s.Metric]
		require.False(t, dup, "series %s generated twice", s.Metric)
		out[s.Metric] = s.Values
	}
	return out
}

// TestGenerate checks the series of each era and scrape setup against
// docs/flux-metrics.md (§1.2, §1.3, §1.4, §3.2, §4.2), one
// scrape a minute so that every token of the notation is a minute.
func TestGenerate(t *testing.T) {
	const ks, hr = "Kustomization", "HelmRelease"
	for _, tc := range []struct {
		name string
		text string
		want map[string]string // every series generated, in promtool notation
	}{
		{
			name: "v2.0: four status series with Deleted, exactly one of them 1",
			text: `
era: v2.0
scrape_interval: 1m
duration: 4m
objects:
  - kind: Kustomization
    name: apps
    namespace: team-a
    events:
      - {at: 0s, reconcile: "True"}
      - {at: 2m, reconcile: "False"}
`,
			want: map[string]string{
				cond(ks, "team-a", "apps", "True"):    "1x1 0x2",
				cond(ks, "team-a", "apps", "False"):   "0x1 1x2",
				cond(ks, "team-a", "apps", "Unknown"): "0x4",
				cond(ks, "team-a", "apps", "Deleted"): "0x4",
				susp(ks, "team-a", "apps"):            "0x4",
			},
		},
		{
			name: "v2.1: three status series, no Deleted",
			text: `
era: v2.1
scrape_interval: 1m
duration: 4m
objects:
  - kind: Kustomization
    name: apps
    namespace: team-a
    events:
      - {at: 0s, reconcile: "True"}
      - {at: 2m, reconcile: "False"}
`,
			want: map[string]string{
				cond(ks, "team-a", "apps", "True"):    "1x1 0x2",
				cond(ks, "team-a", "apps", "False"):   "0x1 1x2",
				cond(ks, "team-a", "apps", "Unknown"): "0x4",
				susp(ks, "team-a", "apps"):            "0x4",
			},
		},
		{
			name: "no series before the first reconcile; suspension sets gotk_suspend_status",
			text: `
era: v2.1
scrape_interval: 1m
duration: 4m
objects:
  - kind: Kustomization
    name: apps
    namespace: team-a
    events:
      - {at: 1m, reconcile: "False"}
      - {at: 2m, suspend: true}
      - {at: 3m, resume: true}
`,
			want: map[string]string{
				cond(ks, "team-a", "apps", "True"):    "_ 0x3",
				cond(ks, "team-a", "apps", "False"):   "_ 1x3",
				cond(ks, "team-a", "apps", "Unknown"): "_ 0x3",
				susp(ks, "team-a", "apps"):            "_ 0 1 0x1",
			},
		},
		{
			name: "ImagePolicy has no gotk_suspend_status",
			text: `
era: v2.0
scrape_interval: 1m
duration: 1m
objects:
  - kind: ImagePolicy
    name: podinfo
    namespace: team-a
    events: [{at: 0s, reconcile: "True"}]
`,
			want: map[string]string{
				cond("ImagePolicy", "team-a", "podinfo", "True"):    "1x1",
				cond("ImagePolicy", "team-a", "podinfo", "False"):   "0x1",
				cond("ImagePolicy", "team-a", "podinfo", "Unknown"): "0x1",
				cond("ImagePolicy", "team-a", "podinfo", "Deleted"): "0x1",
			},
		},
		{
			name: "v2.0: a deleted object keeps its series, Deleted=1, until a controller restart",
			text: `
era: v2.0
scrape_interval: 1m
duration: 6m
objects:
  - kind: Kustomization
    name: apps
    namespace: team-a
    events:
      - {at: 0s, reconcile: "True"}
      - {at: 2m, delete: true}
  - kind: Kustomization
    name: infra
    namespace: team-a
    events:
      - {at: 0s, reconcile: "False"}
cluster:
  - {at: 4m, controller_restart: true}
`,
			want: map[string]string{
				cond(ks, "team-a", "apps", "True"):    "1x1 0x1 stale",
				cond(ks, "team-a", "apps", "False"):   "0x3 stale",
				cond(ks, "team-a", "apps", "Unknown"): "0x3 stale",
				cond(ks, "team-a", "apps", "Deleted"): "0x1 1x1 stale",
				susp(ks, "team-a", "apps"):            "0x3 stale",
				// A living object's series vanish at the restart and come
				// back restart_delay (30s) later, at the next scrape.
				cond(ks, "team-a", "infra", "True"):    "0x3 stale 0x1",
				cond(ks, "team-a", "infra", "False"):   "1x3 stale 1x1",
				cond(ks, "team-a", "infra", "Unknown"): "0x3 stale 0x1",
				cond(ks, "team-a", "infra", "Deleted"): "0x3 stale 0x1",
				susp(ks, "team-a", "infra"):            "0x3 stale 0x1",
			},
		},
		{
			name: "v2.0: without a finalizer the deletion is never seen, the last values stay",
			text: `
era: v2.0
scrape_interval: 1m
duration: 3m
objects:
  - kind: Provider
    name: slack
    namespace: team-a
    no_finalizer: true
    events:
      - {at: 0s, reconcile: "False"}
      - {at: 1m, delete: true}
`,
			want: map[string]string{
				cond("Provider", "team-a", "slack", "True"):    "0x3",
				cond("Provider", "team-a", "slack", "False"):   "1x3",
				cond("Provider", "team-a", "slack", "Unknown"): "0x3",
				cond("Provider", "team-a", "slack", "Deleted"): "0x3",
				susp("Provider", "team-a", "slack"):            "0x3",
			},
		},
		{
			name: "v2.1: deletion deletes every series of the object: staleness markers",
			text: `
era: v2.1
scrape_interval: 1m
duration: 4m
objects:
  - kind: Kustomization
    name: apps
    namespace: team-a
    events:
      - {at: 0s, reconcile: "True"}
      - {at: 2m, delete: true}
`,
			want: map[string]string{
				cond(ks, "team-a", "apps", "True"):    "1x1 stale",
				cond(ks, "team-a", "apps", "False"):   "0x1 stale",
				cond(ks, "team-a", "apps", "Unknown"): "0x1 stale",
				susp(ks, "team-a", "apps"):            "0x1 stale",
			},
		},
		{
			name: "v2.0: HelmRelease records Unknown when a reconcile starts, Kustomization only at its end",
			text: `
era: v2.0
scrape_interval: 1m
duration: 4m
objects:
  - kind: HelmRelease
    name: podinfo
    namespace: team-a
    events: [{at: 1m, reconcile: "False", took: 2m}]
  - kind: Kustomization
    name: apps
    namespace: team-a
    events: [{at: 1m, reconcile: "False", took: 2m}]
`,
			want: map[string]string{
				cond(hr, "team-a", "podinfo", "True"):    "_ 0x3",
				cond(hr, "team-a", "podinfo", "False"):   "_ 0x1 1x1",
				cond(hr, "team-a", "podinfo", "Unknown"): "_ 1x1 0x1",
				cond(hr, "team-a", "podinfo", "Deleted"): "_ 0x3",
				// helm-controller records its suspend status only when
				// Reconcile returns.
				susp(hr, "team-a", "podinfo"):         "_x3 0x1",
				cond(ks, "team-a", "apps", "True"):    "_x3 0x1",
				cond(ks, "team-a", "apps", "False"):   "_x3 1x1",
				cond(ks, "team-a", "apps", "Unknown"): "_x3 0x1",
				cond(ks, "team-a", "apps", "Deleted"): "_x3 0x1",
				susp(ks, "team-a", "apps"):            "_x3 0x1",
			},
		},
		{
			name: "v2.1: HelmRelease records only at the end of a reconcile",
			text: `
era: v2.1
scrape_interval: 1m
duration: 4m
objects:
  - kind: HelmRelease
    name: podinfo
    namespace: team-a
    events: [{at: 1m, reconcile: "False", took: 2m}]
`,
			want: map[string]string{
				cond(hr, "team-a", "podinfo", "True"):    "_x3 0x1",
				cond(hr, "team-a", "podinfo", "False"):   "_x3 1x1",
				cond(hr, "team-a", "podinfo", "Unknown"): "_x3 0x1",
				susp(hr, "team-a", "podinfo"):            "_x3 0x1",
			},
		},
		{
			name: "ksm: ready absent before the first condition, suspended only when true, each change a new series",
			text: `
era: ksm
scrape_interval: 1m
duration: 5m
objects:
  - kind: Kustomization
    name: apps
    namespace: team-a
    events:
      - {at: 1m, reconcile: "False", took: 1m}
      - {at: 3m, suspend: true}
      - {at: 4m, resume: true}
  - kind: Alert
    name: slack
    namespace: team-a
    events: [{at: 0s, reconcile: "False"}]
`,
			want: map[string]string{
				info("team-a", "apps"):                                        "1 stale",
				info("team-a", "apps", "ready", "Unknown"):                    "_ 1 stale",
				info("team-a", "apps", "ready", "False"):                      "_x2 1 stale 1x1",
				info("team-a", "apps", "ready", "False", "suspended", "true"): "_x3 1 stale",
				// Alert and Provider have no ready label at all.
				lm(MetricInfo, "customresource_group", "notification.toolkit.fluxcd.io", "customresource_kind", "Alert",
					"customresource_version", "v1beta3", "exported_namespace", "team-a", "name", "slack"): "1x5",
			},
		},
		{
			name: "ksm: created later, deleted: the series starts and ends with the object; restarts do nothing",
			text: `
era: ksm
scrape_interval: 1m
duration: 5m
objects:
  - kind: Kustomization
    name: apps
    namespace: team-a
    created: 1m
    events:
      - {at: 1m, reconcile: "True"}
      - {at: 3m, delete: true}
cluster:
  - {at: 2m, controller_restart: true}
`,
			want: map[string]string{
				info("team-a", "apps", "ready", "True"): "_ 1x1 stale",
			},
		},
		{
			name: "podmonitor: namespace is the controller's, the object's is exported_namespace; pod, instance, job",
			text: `
era: v2.1
scrape: podmonitor
controller_namespace: flux
scrape_interval: 1m
duration: 1m
objects:
  - kind: Kustomization
    name: apps
    namespace: team-a
    events: [{at: 0s, reconcile: "True"}]
`,
			want: func() map[string]string {
				pm := func(name string, kv ...string) string {
					return lm(name, append([]string{"container", "manager", "exported_namespace", "team-a", "instance", "10.0.2.1:8080",
						"job", "flux/flux-system", "kind", ks, "name", "apps", "namespace", "flux", "pod", "kustomize-controller-0"}, kv...)...)
				}
				return map[string]string{
					pm(MetricCondition, "status", "True", "type", "Ready"):    "1x1",
					pm(MetricCondition, "status", "False", "type", "Ready"):   "0x1",
					pm(MetricCondition, "status", "Unknown", "type", "Ready"): "0x1",
					pm(MetricSuspend): "0x1",
				}
			}(),
		},
		{
			name: "podmonitor: a controller restart is a new pod, so new series",
			text: `
era: v2.1
scrape: podmonitor
scrape_interval: 1m
duration: 4m
objects:
  - kind: GitRepository
    name: podinfo
    namespace: team-a
    events: [{at: 0s, reconcile: "True"}]
cluster:
  - {at: 2m, controller_restart: true}
`,
			want: func() map[string]string {
				pm := func(gen, ip, status string) string {
					kv := []string{"container", "manager", "exported_namespace", "team-a", "instance", ip,
						"job", "flux-system/flux-system", "kind", "GitRepository", "name", "podinfo", "namespace", "flux-system", "pod", "source-controller-" + gen}
					if status == "" {
						return lm(MetricSuspend, kv...)
					}
					return lm(MetricCondition, append(kv, "status", status, "type", "Ready")...)
				}
				return map[string]string{
					pm("0", "10.0.1.1:8080", "True"):    "1x1 stale",
					pm("0", "10.0.1.1:8080", "False"):   "0x1 stale",
					pm("0", "10.0.1.1:8080", "Unknown"): "0x1 stale",
					pm("0", "10.0.1.1:8080", ""):        "0x1 stale",
					pm("1", "10.0.1.2:8080", "True"):    "_x3 1x1",
					pm("1", "10.0.1.2:8080", "False"):   "_x3 0x1",
					pm("1", "10.0.1.2:8080", "Unknown"): "_x3 0x1",
					pm("1", "10.0.1.2:8080", ""):        "_x3 0x1",
				}
			}(),
		},
		{
			name: "ksm podmonitor: kube-state-metrics' own pod labels",
			text: `
era: ksm
scrape: podmonitor
scrape_interval: 1m
duration: 1m
objects:
  - kind: Kustomization
    name: apps
    namespace: team-a
    events: [{at: 0s, reconcile: "True"}]
`,
			want: map[string]string{
				info("team-a", "apps", "instance", "10.0.50.1:8080", "job", "monitoring/kube-state-metrics",
					"namespace", "monitoring", "pod", "kube-state-metrics-0", "ready", "True"): "1x1",
			},
		},
		{
			name: "scrape gap: no samples and no staleness markers during it; a series gone by its end is marked stale then",
			text: `
era: v2.1
scrape_interval: 1m
duration: 5m
objects:
  - kind: Kustomization
    name: apps
    namespace: team-a
    events:
      - {at: 0s, reconcile: "True"}
      - {at: 2m30s, delete: true}
  - kind: Kustomization
    name: infra
    namespace: team-a
    events:
      - {at: 0s, reconcile: "True"}
cluster:
  - {at: 2m, scrape_gap: 2m}
`,
			want: map[string]string{
				cond(ks, "team-a", "apps", "True"):     "1x1 _x2 stale",
				cond(ks, "team-a", "apps", "False"):    "0x1 _x2 stale",
				cond(ks, "team-a", "apps", "Unknown"):  "0x1 _x2 stale",
				susp(ks, "team-a", "apps"):             "0x1 _x2 stale",
				cond(ks, "team-a", "infra", "True"):    "1x1 _x2 1x1",
				cond(ks, "team-a", "infra", "False"):   "0x1 _x2 0x1",
				cond(ks, "team-a", "infra", "Unknown"): "0x1 _x2 0x1",
				susp(ks, "team-a", "infra"):            "0x1 _x2 0x1",
			},
		},
		{
			name: "second target: an old controller pod exports a frozen copy while it lasts",
			text: `
era: v2.0
scrape_interval: 1m
duration: 4m
objects:
  - kind: Kustomization
    name: apps
    namespace: team-a
    events:
      - {at: 0s, reconcile: "True"}
      - {at: 2m, reconcile: "False"}
cluster:
  - {at: 1m, second_target: 2m}
`,
			want: func() map[string]string {
				old := func(status string) string {
					return lm(MetricCondition, "instance", "second-target", "kind", ks, "name", "apps", "namespace", "team-a", "status", status, "type", "Ready")
				}
				return map[string]string{
					cond(ks, "team-a", "apps", "True"):    "1x1 0x2",
					cond(ks, "team-a", "apps", "False"):   "0x1 1x2",
					cond(ks, "team-a", "apps", "Unknown"): "0x4",
					cond(ks, "team-a", "apps", "Deleted"): "0x4",
					susp(ks, "team-a", "apps"):            "0x4",
					old("True"):                           "_ 1x1 stale",
					old("False"):                          "_ 0x1 stale",
					old("Unknown"):                        "_ 0x1 stale",
					old("Deleted"):                        "_ 0x1 stale",
					lm(MetricSuspend, "instance", "second-target", "kind", ks, "name", "apps", "namespace", "team-a"): "_ 0x1 stale",
				}
			}(),
		},
		{
			name: "second target under ksm: a second replica exports live values",
			text: `
era: ksm
scrape_interval: 1m
duration: 4m
objects:
  - kind: Kustomization
    name: apps
    namespace: team-a
    events:
      - {at: 0s, reconcile: "True"}
      - {at: 2m, reconcile: "False"}
cluster:
  - {at: 1m, second_target: 2m}
`,
			want: map[string]string{
				info("team-a", "apps", "ready", "True"):                               "1x1 stale",
				info("team-a", "apps", "ready", "False"):                              "_x2 1x2",
				info("team-a", "apps", "instance", "second-target", "ready", "True"):  "_ 1 stale",
				info("team-a", "apps", "instance", "second-target", "ready", "False"): "_x2 1 stale",
			},
		},
		{
			name: "duration histograms: observed at the end of each reconcile (at least 1s)",
			text: `
era: v2.1
scrape_interval: 1m
duration: 2m
options: {duration_histograms: true}
objects:
  - kind: Kustomization
    name: apps
    namespace: team-a
    events:
      - {at: 0s, reconcile: "True", took: 10s}
      - {at: 1m, reconcile: "True"}
`,
			want: func() map[string]string {
				m := map[string]string{
					cond(ks, "team-a", "apps", "True"):                                             "_ 1x1",
					cond(ks, "team-a", "apps", "False"):                                            "_ 0x1",
					cond(ks, "team-a", "apps", "Unknown"):                                          "_ 0x1",
					susp(ks, "team-a", "apps"):                                                     "_ 0x1",
					lm(MetricDuration+"_sum", "kind", ks, "name", "apps", "namespace", "team-a"):   "_ 11x1",
					lm(MetricDuration+"_count", "kind", ks, "name", "apps", "namespace", "team-a"): "_ 2x1",
				}
				for le, v := range map[string]string{
					"0.01": "_ 0x1", "0.038363583488692544": "_ 0x1", "0.1471764538093883": "_ 0x1", "0.5646216173286169": "_ 0x1",
					"2.166090855590701": "_ 1x1", "8.309900738254731": "_ 1x1", "31.879757075478317": "_ 2x1",
					"122.30217221643493": "_ 2x1", "469.19495946736544": "_ 2x1", "1799.9999999999986": "_ 2x1", "+Inf": "_ 2x1",
				} {
					m[lm(MetricDuration+"_bucket", "kind", ks, "le", le, "name", "apps", "namespace", "team-a")] = v
				}
				return m
			}(),
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, notation(t, parse(t, tc.text)))
		})
	}
}

// TestGenerateNoHistogramsByDefault: without options.duration_histograms
// there is no gotk_reconcile_duration_seconds series.
func TestGenerateNoHistogramsByDefault(t *testing.T) {
	sc := parse(t, `
era: v2.0
duration: 10m
objects:
  - kind: Kustomization
    name: apps
    namespace: team-a
    events: [{at: 0s, reconcile: "True", took: 1m}]
`)
	for _, s := range sc.Generate() {
		require.NotContains(t, s.Labels.Get(labels.MetricName), MetricDuration)
	}
}

// TestGenerateV20ExactlyOne: over a busy Flux 2.0 life, at every scrape an
// object exports its four status series and exactly one of them is 1.
func TestGenerateV20ExactlyOne(t *testing.T) {
	for _, scrape := range Scrapes {
		sc := parse(t, `
era: v2.0
scrape: `+string(scrape)+`
duration: 1h
objects:
  - kind: HelmRelease
    name: podinfo
    namespace: team-a
    events:
      - {at: 0s, reconcile: "True", took: 1m}
      - {at: 5m, reconcile: "False", took: 2m30s}
      - {at: 10m, reconcile: "Unknown"}
      - {at: 12m, suspend: true}
      - {at: 20m, resume: true}
      - {at: 21m, reconcile: "False", took: 1m}
      - {at: 30m, reconcile: "True"}
      - {at: 40m, delete: true}
  - kind: Kustomization
    name: podinfo
    namespace: team-b
    events:
      - {at: 1m, reconcile: "False", took: 2m}
      - {at: 33m, reconcile: "True"}
cluster:
  - {at: 25m, controller_restart: true}
  - {at: 45m, second_target: 5m}
  - {at: 52m, scrape_gap: 3m}
`)
		// object key (kind, exported or direct namespace, name, instance) -> time -> values
		type key struct{ kind, ns, name, instance string }
		byTime := map[key]map[int64][]float64{}
		for _, s := range sc.Generate() {
			if s.Labels.Get(labels.MetricName) != MetricCondition {
				continue
			}
			ns := s.Labels.Get("namespace")
			if scrape == ScrapePodMonitor {
				ns = s.Labels.Get("exported_namespace")
			}
			k := key{s.Labels.Get("kind"), ns, s.Labels.Get("name"), s.Labels.Get("instance")}
			if byTime[k] == nil {
				byTime[k] = map[int64][]float64{}
			}
			for _, smp := range s.Samples {
				if !value.IsStaleNaN(smp.F) {
					byTime[k][smp.T] = append(byTime[k][smp.T], smp.F)
				}
			}
		}
		require.NotEmpty(t, byTime)
		for k, times := range byTime {
			for ts, vs := range times {
				require.Len(t, vs, 4, "%v at %s", k, time.Duration(ts)*time.Millisecond)
				sum := 0.0
				for _, v := range vs {
					require.True(t, v == 0 || v == 1)
					sum += v
				}
				require.Equal(t, 1.0, sum, "%v at %s: %v", k, time.Duration(ts)*time.Millisecond, vs)
			}
		}
	}
}

// TestGenerateScrapeGapHasNoSamples: nothing at all is written during a gap.
func TestGenerateScrapeGapHasNoSamples(t *testing.T) {
	for _, era := range Eras {
		sc := parse(t, `
era: `+string(era)+`
duration: 30m
objects:
  - kind: Kustomization
    name: apps
    namespace: team-a
    events:
      - {at: 0s, reconcile: "True"}
      - {at: 11m, reconcile: "False", took: 2m}
      - {at: 14m, delete: true}
  - kind: HelmRelease
    name: apps
    namespace: team-a
    events:
      - {at: 0s, reconcile: "True"}
cluster:
  - {at: 10m, scrape_gap: 5m}
`)
		ss := sc.Generate()
		require.NotEmpty(t, ss)
		stale := 0
		for _, s := range ss {
			for _, smp := range s.Samples {
				at := time.Duration(smp.T) * time.Millisecond
				require.False(t, at >= 10*time.Minute && at < 15*time.Minute, "%s: sample at %s in the gap", s.Labels, at)
				if value.IsStaleNaN(smp.F) {
					stale++
					require.Equal(t, 15*time.Minute, at, "%s: marker at %s", s.Labels, at)
				}
			}
		}
		if era == EraV20 {
			require.Zero(t, stale, "Flux 2.0 keeps a deleted object's series")
		} else {
			require.Positive(t, stale, "era %s: the series deleted during the gap are marked stale when scraping resumes", era)
		}
	}
}

// TestGenerateOrderAndSampling: series come sorted by labels, samples at
// scrape times in order, one per scrape at most.
func TestGenerateOrderAndSampling(t *testing.T) {
	sc := parse(t, `
era: ksm
scrape_interval: 15s
duration: 20m
objects:
  - kind: Kustomization
    name: b
    namespace: team-a
    events:
      - {at: 0s, reconcile: "True"}
      - {at: 5m, reconcile: "False", took: 1m}
      - {at: 10m, reconcile: "True"}
  - kind: Kustomization
    name: a
    namespace: team-a
    events: [{at: 0s, reconcile: "True"}]
`)
	ss := sc.Generate()
	require.True(t, sort.SliceIsSorted(ss, func(i, j int) bool { return labels.Compare(ss[i].Labels, ss[j].Labels) < 0 }))
	for _, s := range ss {
		for i, smp := range s.Samples {
			require.Zero(t, smp.T%15000, "%s", s.Labels)
			if i > 0 {
				require.Greater(t, smp.T, s.Samples[i-1].T)
			}
		}
	}
}

func TestNotation(t *testing.T) {
	stale := math.Float64frombits(value.StaleNaN)
	ss := []series.Series{
		{Labels: labels.FromStrings(labels.MetricName, "m", "b", "x\"y", "a", "1"), Samples: []series.Sample{
			{T: 0, F: 1}, {T: 60000, F: 1}, {T: 120000, F: 1}, {T: 240000, F: 0.5}, {T: 300000, F: stale}, {T: 360000, F: stale}, {T: 600000, F: 1e21},
		}},
		{Labels: labels.FromStrings(labels.MetricName, "n"), Samples: []series.Sample{{T: 120000, F: -2}, {T: 180000, F: -2}}},
		{Labels: labels.FromStrings(labels.MetricName, "late"), Samples: []series.Sample{{T: 3600000, F: 1}}},
	}
	got := Notation(ss, time.Minute, 10*time.Minute)
	require.Equal(t, []Series{
		{Metric: `m{a="1",b="x\"y"}`, Values: "1x2 _ 0.5 stale stale _x3 1e+21"},
		{Metric: `n{}`, Values: "_x2 -2x1"},
		{Metric: `late{}`, Values: ""},
	}, got)
}
