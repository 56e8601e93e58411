package exporterdiff

import (
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	"github.com/stretchr/testify/require"

	"github.com/gotk-rules/gotk-rules/scenario"
	"github.com/gotk-rules/gotk-rules/series"
)

func TestParseText(t *testing.T) {
	tests := []struct {
		name    string
		text    string
		want    Exposition
		wantErr string
	}{
		{
			name: "gauges with help and type",
			text: `# HELP gotk_reconcile_condition The current condition status of a GitOps Toolkit resource reconciliation.
# TYPE gotk_reconcile_condition gauge
gotk_reconcile_condition{kind="Kustomization",name="apps",namespace="team-a",status="False",type="Ready"} 1
gotk_reconcile_condition{kind="Kustomization",name="apps",namespace="team-a",status="True",type="Ready"} 0
`,
			want: Exposition{
				`{__name__="gotk_reconcile_condition", kind="Kustomization", name="apps", namespace="team-a", status="False", type="Ready"}`: 1,
				`{__name__="gotk_reconcile_condition", kind="Kustomization", name="apps", namespace="team-a", status="True", type="Ready"}`:  0,
			},
		},
		{
			// A scrape normalizes classic histograms' le (Prometheus 3).
			name: "histogram le normalized",
			text: `# TYPE d histogram
d_bucket{le="1"} 2
d_bucket{le="0.5646216173286169"} 1
d_bucket{le="+Inf"} 3
d_sum 7.5
d_count 3
`,
			want: Exposition{
				`{__name__="d_bucket", le="1.0"}`:                2,
				`{__name__="d_bucket", le="0.5646216173286169"}`: 1,
				`{__name__="d_bucket", le="+Inf"}`:               3,
				`{__name__="d_sum"}`:                             7.5,
				`{__name__="d_count"}`:                           3,
			},
		},
		{
			name: "escaped label value, untyped",
			text: "m{a=\"x\\\"y\\\\z\"} 2.5e-3\n",
			want: Exposition{`{__name__="m", a="x\"y\\z"}`: 0.0025},
		},
		{name: "empty", text: "", want: Exposition{}},
		{name: "timestamp refused", text: "m 1 1000\n", wantErr: "with a timestamp"},
		{name: "duplicate refused", text: "m{a=\"1\"} 1\nm{a=\"1\"} 2\n", wantErr: "exposed twice"},
		{name: "garbage", text: "m{a=1} 1\n", wantErr: "parse exposition"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseText([]byte(tt.text))
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestDiff(t *testing.T) {
	tests := []struct {
		name      string
		want, got Exposition
		diff      []string
	}{
		{name: "equal", want: Exposition{"a": 1, "b": 0}, got: Exposition{"b": 0, "a": 1}},
		{name: "both empty", want: Exposition{}, got: nil},
		{name: "NaN equals NaN", want: Exposition{"a": math.NaN()}, got: Exposition{"a": math.NaN()}},
		{
			name: "missing, extra and value, sorted",
			want: Exposition{"b": 1, "c": 2, "a": 0},
			got:  Exposition{"c": 3, "a": 0, "d": 4},
			diff: []string{"extra d 4", "missing b 1", "value c: want 2, got 3"},
		},
		{name: "zero is not absent", want: Exposition{"a": 0}, got: Exposition{}, diff: []string{"missing a 0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.diff, Diff(tt.want, tt.got))
		})
	}
}

var staleNaN = math.Float64frombits(value.StaleNaN)

func TestFromGeneratedAndStaleAt(t *testing.T) {
	mk := func(name string, smps ...series.Sample) series.Series {
		return series.Series{Labels: labels.FromStrings(labels.MetricName, name, "x", "1"), Samples: smps}
	}
	ss := []series.Series{
		mk("gotk_reconcile_condition", series.Sample{T: 0, F: 1}, series.Sample{T: 30000, F: 0}, series.Sample{T: 60000, F: staleNaN}),
		mk("gotk_reconcile_duration_seconds_bucket", series.Sample{T: 30000, F: 2}),
		mk("gotk_reconcile_duration_seconds_total", series.Sample{T: 30000, F: 5}),
		mk("other", series.Sample{T: 60000, F: 7}),
	}
	cond := `{__name__="gotk_reconcile_condition", x="1"}`
	bucket := `{__name__="gotk_reconcile_duration_seconds_bucket", x="1"}`
	total := `{__name__="gotk_reconcile_duration_seconds_total", x="1"}`
	other := `{__name__="other", x="1"}`

	tests := []struct {
		name    string
		t       int64
		metrics []string
		want    Exposition
		stale   map[string]bool
	}{
		{name: "all metrics", t: 30000, want: Exposition{cond: 0, bucket: 2, total: 5}, stale: map[string]bool{}},
		{name: "between samples: nothing", t: 15000, want: Exposition{}, stale: map[string]bool{}},
		{name: "stale marker is not a value", t: 60000, want: Exposition{other: 7}, stale: map[string]bool{cond: true}},
		{
			name: "a histogram's name covers _bucket, not other suffixes", t: 30000,
			metrics: []string{"gotk_reconcile_duration_seconds"}, want: Exposition{bucket: 2}, stale: map[string]bool{},
		},
		{
			name: "restricted", t: 60000, metrics: []string{"other"},
			want: Exposition{other: 7}, stale: map[string]bool{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, FromGenerated(ss, tt.t, tt.metrics...))
			require.Equal(t, tt.stale, StaleAt(ss, tt.t, tt.metrics...))
		})
	}
	require.Equal(t, Exposition{cond: 1}, Exposition{cond: 1, other: 3}.Restrict("gotk_reconcile_condition"))
}

// lifeScenario: a Kustomization ready, then failing, then deleted, on Flux
// 2.1 metrics, with a scrape gap at 1m30s.
func lifeScenario() *scenario.Scenario {
	sc := &scenario.Scenario{
		Name:           "unit",
		Era:            scenario.EraV21,
		Scrape:         scenario.ScrapeDirect,
		ScrapeInterval: model.Duration(30 * time.Second),
		Duration:       model.Duration(3 * time.Minute),
		Objects: []scenario.Object{{
			Kind: "Kustomization", Name: "apps", Namespace: "team-a",
			Events: []scenario.Event{
				{At: 0, Reconcile: "True"},
				{At: model.Duration(time.Minute), Reconcile: "False"},
				{At: model.Duration(2 * time.Minute), Delete: true},
			},
		}},
		Cluster: []scenario.ClusterEvent{{At: model.Duration(90 * time.Second), ScrapeGap: model.Duration(30 * time.Second)}},
	}
	sc.Normalize()
	return sc
}

// lifeExporter is what a Flux 2.1 controller exposes along lifeScenario,
// written by hand, and the times it was scraped at.
func lifeExporter(scraped *[]time.Duration) Exporter {
	const series = `# TYPE gotk_reconcile_condition gauge
gotk_reconcile_condition{kind="Kustomization",name="apps",namespace="team-a",status="False",type="Ready"} %F
gotk_reconcile_condition{kind="Kustomization",name="apps",namespace="team-a",status="True",type="Ready"} %T
gotk_reconcile_condition{kind="Kustomization",name="apps",namespace="team-a",status="Unknown",type="Ready"} 0
# TYPE gotk_suspend_status gauge
gotk_suspend_status{kind="Kustomization",name="apps",namespace="team-a"} 0
`
	return ExporterFunc(func(t time.Duration) ([]byte, error) {
		*scraped = append(*scraped, t)
		switch {
		case t < time.Minute:
			return []byte(strings.NewReplacer("%F", "0", "%T", "1").Replace(series)), nil
		case t < 2*time.Minute:
			return []byte(strings.NewReplacer("%F", "1", "%T", "0").Replace(series)), nil
		}
		return nil, nil
	})
}

func TestScrapeTimes(t *testing.T) {
	s := func(n ...int) []time.Duration {
		var out []time.Duration
		for _, v := range n {
			out = append(out, time.Duration(v)*time.Second)
		}
		return out
	}
	require.Equal(t, s(0, 30, 60, 120, 150, 180), ScrapeTimes(lifeScenario()))
}

func TestCheckAgreement(t *testing.T) {
	var scraped []time.Duration
	diff, err := Check(lifeScenario(), Generate, lifeExporter(&scraped))
	require.NoError(t, err)
	require.Empty(t, diff)
	require.Equal(t, ScrapeTimes(lifeScenario()), scraped, "scraped at every scrape time, in order, not in the gap")
}

// mapSamples returns a generator that rewrites the generated series.
func mapSamples(f func(ss []series.Series) []series.Series) Generator {
	return func(sc *scenario.Scenario) []series.Series { return f(sc.Generate()) }
}

func TestCheckCatchesBrokenGenerators(t *testing.T) {
	falseSeries := `{__name__="gotk_reconcile_condition", kind="Kustomization", name="apps", namespace="team-a", status="False", type="Ready"}`
	tests := []struct {
		name     string
		generate Generator
		want     []string
	}{
		{
			name: "no staleness markers",
			generate: mapSamples(func(ss []series.Series) []series.Series {
				for i := range ss {
					ss[i].Samples = slices.DeleteFunc(ss[i].Samples, func(s series.Sample) bool { return value.IsStaleNaN(s.F) })
				}
				return ss
			}),
			want: []string{"at 2m: no staleness marker for vanished " + falseSeries},
		},
		{
			name: "series kept after deletion",
			generate: mapSamples(func(ss []series.Series) []series.Series {
				for i := range ss {
					if n := len(ss[i].Samples); n > 0 && value.IsStaleNaN(ss[i].Samples[n-1].F) {
						last := ss[i].Samples[n-2].F
						ss[i].Samples = append(ss[i].Samples[:n-1], series.Sample{T: 120000, F: last}, series.Sample{T: 150000, F: last}, series.Sample{T: 180000, F: last})
					}
				}
				return ss
			}),
			want: []string{"at 2m: extra " + falseSeries + " 1"},
		},
		{
			name: "wrong value",
			generate: mapSamples(func(ss []series.Series) []series.Series {
				for i := range ss {
					if ss[i].Labels.Get("status") == "False" {
						ss[i].Samples[2].F = 0 // at 1m
					}
				}
				return ss
			}),
			want: []string{"at 1m: value " + falseSeries + ": want 1, got 0"},
		},
		{
			name: "sample in the scrape gap",
			generate: mapSamples(func(ss []series.Series) []series.Series {
				for i := range ss {
					if ss[i].Labels.Get("status") == "False" {
						ss[i].Samples = slices.Insert(ss[i].Samples, 3, series.Sample{T: 90000, F: 1})
					}
				}
				return ss
			}),
			want: []string{"at 1m30s: sample of " + falseSeries + " at no scrape"},
		},
		{
			name: "stale marker too early",
			generate: mapSamples(func(ss []series.Series) []series.Series {
				for i := range ss {
					if ss[i].Labels.Get("status") == "False" {
						ss[i].Samples[1].F = staleNaN // at 30s
					}
				}
				return ss
			}),
			want: []string{
				"at 30s: missing " + falseSeries + " 0",
				"at 30s: staleness marker for " + falseSeries + ", which did not vanish",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var scraped []time.Duration
			diff, err := Check(lifeScenario(), tt.generate, lifeExporter(&scraped))
			require.NoError(t, err)
			for _, w := range tt.want {
				require.Contains(t, diff, w)
			}
		})
	}
}

func TestCheckRestrictsMetrics(t *testing.T) {
	// A generator that drops gotk_suspend_status differs on all metrics,
	// not on gotk_reconcile_condition alone.
	dropSuspend := mapSamples(func(ss []series.Series) []series.Series {
		return slices.DeleteFunc(ss, func(s series.Series) bool { return s.Labels.Get(labels.MetricName) == scenario.MetricSuspend })
	})
	var scraped []time.Duration
	diff, err := Check(lifeScenario(), dropSuspend, lifeExporter(&scraped))
	require.NoError(t, err)
	require.Contains(t, diff, `at 0s: missing {__name__="gotk_suspend_status", kind="Kustomization", name="apps", namespace="team-a"} 0`)
	diff, err = Check(lifeScenario(), dropSuspend, lifeExporter(&scraped), scenario.MetricCondition)
	require.NoError(t, err)
	require.Empty(t, diff)
}

func TestCheckErrors(t *testing.T) {
	sc := lifeScenario()
	_, err := Check(sc, Generate, ExporterFunc(func(time.Duration) ([]byte, error) { return []byte("m{ 1\n"), nil }))
	require.ErrorContains(t, err, "exporter at 0s: parse exposition")

	sc.Scrape = scenario.ScrapePodMonitor
	_, err = Check(sc, Generate, lifeExporter(new([]time.Duration)))
	require.ErrorContains(t, err, "only direct scrapes")
}

func TestDiffSumTolerance(t *testing.T) {
	sum := `{__name__="d_sum", a="1"}`
	count := `{__name__="d_count", a="1"}`
	want := Exposition{sum: 10, count: 3}
	tests := []struct {
		name      string
		got       Exposition
		tolerance float64
		diff      []string
	}{
		{name: "within tolerance", got: Exposition{sum: 10.3, count: 3}, tolerance: 0.5},
		{name: "past tolerance", got: Exposition{sum: 10.6, count: 3}, tolerance: 0.5, diff: []string{"value " + sum + ": want 10, got 10.6"}},
		{name: "no tolerance", got: Exposition{sum: 10.3, count: 3}, diff: []string{"value " + sum + ": want 10, got 10.3"}},
		{name: "only _sum is tolerated", got: Exposition{sum: 10, count: 3.2}, tolerance: 0.5, diff: []string{"value " + count + ": want 3, got 3.2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.diff, diff(want, tt.got, tt.tolerance))
		})
	}
}
