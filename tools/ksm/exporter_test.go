package ksm

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/stretchr/testify/require"
	"k8s.io/klog/v2"

	"github.com/gotk-rules/gotk-rules/internal/exporterdiff"
	"github.com/gotk-rules/gotk-rules/scenario"
	"github.com/gotk-rules/gotk-rules/series"
	"github.com/gotk-rules/gotk-rules/verify"
)

// TestMain silences kube-state-metrics' logging (each instance logs its
// families and stores).
func TestMain(m *testing.M) {
	klog.LogToStderr(false)
	klog.SetOutput(io.Discard)
	os.Exit(m.Run())
}

// seed is the verify seed of the lives compared.
const seed = 1

// lives is how many random lives each case compares: fewer with -short,
// and under -race (exporterdiff.Lives), where CI runs the tests again
// without -race on all of them.
func lives() int {
	if testing.Short() {
		return 15
	}
	return exporterdiff.Lives(60)
}

// ksmLife is verify's random life number run, in the kube-state-metrics era,
// scraped directly.
func ksmLife(run int) *scenario.Scenario {
	sc := verify.Life(seed, run, verify.Options{Duration: 2 * time.Hour})
	sc.Era, sc.Scrape = scenario.EraKSM, scenario.ScrapeDirect
	return sc
}

// allKinds is a life whose objects' kinds rotate over every Flux kind the
// generator knows (verify's lives may use only some), each object renamed
// to stay unique by namespace and name whatever its kind.
func allKinds(run int) *scenario.Scenario {
	sc := clone(ksmLife(run))
	kinds := scenario.Kinds()
	for i := range sc.Objects {
		sc.Objects[i].Kind = kinds[(run*5+i)%len(kinds)]
		sc.Objects[i].Name = fmt.Sprintf("%s-%d", sc.Objects[i].Name, i)
	}
	return sc
}

// clone copies a scenario deeply enough to change its objects and events.
func clone(sc *scenario.Scenario) *scenario.Scenario {
	c := *sc
	c.Objects = slices.Clone(sc.Objects)
	for i := range c.Objects {
		c.Objects[i].Events = slices.Clone(c.Objects[i].Events)
	}
	c.Cluster = slices.Clone(sc.Cluster)
	return &c
}

// seen counts what kube-state-metrics exposed over a case, so that a case
// that never exercised a label value cannot pass silently.
type seen map[string]int

// counting wraps an exporter and records the label values it exposes.
func counting(exp *exporter, s seen) exporterdiff.Exporter {
	return exporterdiff.ExporterFunc(func(t time.Duration) ([]byte, error) {
		text, err := exp.Scrape(t)
		if err != nil {
			return nil, err
		}
		got, err := exporterdiff.ParseText(text)
		if err != nil {
			return nil, err
		}
		for k := range got {
			for _, l := range []string{`ready="True"`, `ready="False"`, `ready="Unknown"`, `suspended="true"`} {
				if strings.Contains(k, l) {
					s[l]++
				}
			}
			if !strings.Contains(k, "ready=") {
				s["no ready"]++
			}
			if i := strings.Index(k, `customresource_kind="`); i >= 0 {
				kind, _, _ := strings.Cut(k[i+len(`customresource_kind="`):], `"`)
				s["kind "+kind]++
			}
		}
		return text, nil
	})
}

// check drives kube-state-metrics and generate through a life and returns
// the differences exporterdiff finds, scrape by scrape.
func check(t *testing.T, sc *scenario.Scenario, generate exporterdiff.Generator, s seen) []string {
	t.Helper()
	exp, err := newExporter(sc, configFile)
	require.NoError(t, err)
	defer exp.Close()
	diffs, err := exporterdiff.CheckWith(sc, generate, counting(exp, s), exporterdiff.Options{Metrics: []string{scenario.MetricInfo}})
	require.NoError(t, err)
	return diffs
}

// TestConfigWatchesEveryKind: kube-state-metrics, configured as Flux
// documents, watches every kind the generator writes gotk_resource_info for,
// once, with the gotk_resource_info Info family.
func TestConfigWatchesEveryKind(t *testing.T) {
	config, err := crsConfig(configFile)
	require.NoError(t, err)
	_, resources, err := factories(config)
	require.NoError(t, err)
	var kinds []string
	for _, r := range resources {
		kinds = append(kinds, r.GroupVersionKind.Kind)
		require.Equal(t, "gotk", r.GetMetricNamePrefix(), r.GroupVersionKind.Kind)
		require.Len(t, r.Metrics, 1, r.GroupVersionKind.Kind)
		require.Equal(t, "resource_info", r.Metrics[0].Name, r.GroupVersionKind.Kind)
		require.EqualValues(t, "info", r.Metrics[0].Each.Type, "FromConfig lower-cases the type (%s)", r.GroupVersionKind.Kind)
	}
	slices.Sort(kinds)
	require.Equal(t, scenario.Kinds(), kinds)
}

// TestKSMAgainstGenerator is the differential test: on random lives, at
// every scrape, kube-state-metrics' gotk_resource_info series (label sets
// and values) and their staleness are the generator's.
func TestKSMAgainstGenerator(t *testing.T) {
	cases := []struct {
		name string
		life func(run int) *scenario.Scenario
		// want are label values (and kinds) the case must have exposed.
		want []string
	}{
		{
			name: "verify lives",
			life: ksmLife,
			want: []string{`ready="True"`, `ready="False"`, `ready="Unknown"`, `suspended="true"`, "no ready"},
		},
		{
			name: "all kinds",
			life: allKinds,
			want: func() []string {
				w := []string{`ready="True"`, `ready="False"`, `ready="Unknown"`, `suspended="true"`, "no ready"}
				for _, k := range scenario.Kinds() {
					w = append(w, "kind "+k)
				}
				return w
			}(),
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := seen{}
			for run := range lives() {
				sc := tc.life(run)
				diffs := check(t, sc, exporterdiff.Generate, s)
				if len(diffs) > 0 {
					t.Fatalf("run %d (%s): the generator differs from kube-state-metrics (missing: exposed, not generated; extra: generated, not exposed):\n%s",
						run, sc.Name, strings.Join(diffs, "\n"))
				}
			}
			for _, w := range tc.want {
				require.Positive(t, s[w], "no gotk_resource_info series with %s in %d lives: the case does not exercise it", w, lives())
			}
		})
	}
}

// relabel rewrites the labels of the generated gotk_resource_info series.
func relabel(ss []series.Series, f func(*labels.Builder)) []series.Series {
	out := make([]series.Series, len(ss))
	for i, s := range ss {
		out[i] = s
		if s.Labels.Get(labels.MetricName) != scenario.MetricInfo {
			continue
		}
		b := labels.NewBuilder(s.Labels)
		f(b)
		out[i].Labels = b.Labels()
	}
	return out
}

// TestKSMCatchesBrokenGenerator: the differential notices generators that
// are wrong in ways a monitoring setup would see.
func TestKSMCatchesBrokenGenerator(t *testing.T) {
	cases := []struct {
		name     string
		generate exporterdiff.Generator
		// want are all in one of the differences reported.
		want []string
	}{
		{
			name: "suspended=false on unsuspended objects",
			generate: func(sc *scenario.Scenario) []series.Series {
				return relabel(sc.Generate(), func(b *labels.Builder) {
					if b.Get("suspended") == "" {
						b.Set("suspended", "false")
					}
				})
			},
			want: []string{"extra", `suspended="false"`},
		},
		{
			name: "ready kept for Alert and Provider",
			generate: func(sc *scenario.Scenario) []series.Series {
				// Generate them as Receivers (same API group, with
				// ready), then name them back.
				c := clone(sc)
				was := map[string]string{}
				for i, o := range c.Objects {
					if o.Kind == "Alert" || o.Kind == "Provider" {
						was[o.Namespace+"/"+o.Name] = o.Kind
						c.Objects[i].Kind = "Receiver"
					}
				}
				return relabel(c.Generate(), func(b *labels.Builder) {
					if k, ok := was[b.Get("exported_namespace")+"/"+b.Get("name")]; ok {
						b.Set("customresource_kind", k)
						b.Set("customresource_version", "v1beta3")
					}
				})
			},
			want: []string{"extra", `customresource_version="v1beta3"`, `ready="`},
		},
		{
			name: "Ready not Unknown during a reconcile",
			generate: func(sc *scenario.Scenario) []series.Series {
				c := clone(sc)
				for i := range c.Objects {
					for j := range c.Objects[i].Events {
						c.Objects[i].Events[j].Took = 0
					}
				}
				return c.Generate()
			},
			want: []string{"missing", `ready="Unknown"`},
		},
		{
			name: "deleted objects kept",
			generate: func(sc *scenario.Scenario) []series.Series {
				c := clone(sc)
				for i := range c.Objects {
					c.Objects[i].Events = slices.DeleteFunc(c.Objects[i].Events, func(e scenario.Event) bool { return e.Delete })
				}
				return c.Generate()
			},
			want: []string{"no staleness marker for vanished"},
		},
		{
			name: "HelmRelease at an old API version",
			generate: func(sc *scenario.Scenario) []series.Series {
				return relabel(sc.Generate(), func(b *labels.Builder) {
					if b.Get("customresource_kind") == "HelmRelease" {
						b.Set("customresource_version", "v2beta2")
					}
				})
			},
			want: []string{"extra", `customresource_kind="HelmRelease"`, `customresource_version="v2beta2"`},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// Lives until one shows the bug: not every life has what
			// a given bug changes (a deletion, an Alert).
			var all []string
			found := false
			for run := 0; run < lives() && !found; run++ {
				diffs := check(t, allKinds(run), tc.generate, seen{})
				all = append(all, diffs...)
				found = slices.ContainsFunc(diffs, func(d string) bool {
					return !slices.ContainsFunc(tc.want, func(w string) bool { return !strings.Contains(d, w) })
				})
			}
			require.True(t, found, "in %d lives, no difference mentions all of %q; differences:\n%s",
				lives(), tc.want, strings.Join(all[:min(len(all), 10)], "\n"))
		})
	}
}
