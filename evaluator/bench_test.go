package evaluator_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gotk-rules/gotk-rules/evaluator"
	"github.com/gotk-rules/gotk-rules/internal/racemode"
	"github.com/gotk-rules/gotk-rules/scenario"
	"github.com/gotk-rules/gotk-rules/series"
)

// BenchmarkReplayFleet replays a day of a fleet of Flux objects through the
// guide's rule, in process, on the fast path and step by step. Its metrics
// are per input sample (series × evaluations): with -benchmem, allocs per
// sample stay far below one, as no hot loop allocates per sample.
func BenchmarkReplayFleet(b *testing.B) {
	rules, err := filepath.Abs(filepath.Join("..", "rules", "gitopstoolkit.yml"))
	require.NoError(b, err)
	for _, objects := range []int{200, 1000} {
		sc := scenario.Fleet(objects, 24*time.Hour, 1)
		input := sc.Generate()
		samples := 0
		for _, s := range input {
			samples += len(s.Samples)
		}
		for _, exact := range []bool{false, true} {
			if exact && objects > 200 {
				continue // minutes, as promtool
			}
			name := fmt.Sprintf("objects=%d/fast", objects)
			if exact {
				name = fmt.Sprintf("objects=%d/exact", objects)
			}
			b.Run(name, func(b *testing.B) {
				b.ReportAllocs()
				var before, after runtime.MemStats
				runtime.ReadMemStats(&before)
				for i := 0; i < b.N; i++ {
					replayOnce(b, rules, input, exact)
				}
				runtime.ReadMemStats(&after)
				perSample := float64(b.N) * float64(samples)
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/perSample, "ns/sample")
				b.ReportMetric(float64(after.Mallocs-before.Mallocs)/perSample, "allocs/sample")
			})
		}
	}
}

func replayOnce(b *testing.B, rules string, input []series.Series, exact bool) {
	sess, err := evaluator.NewEngine(evaluator.Options{MaxQuerySamples: 1e8}).NewSession(evaluator.SessionOptions{EvalInterval: time.Minute, Exact: exact})
	require.NoError(b, err)
	defer func() { require.NoError(b, sess.Close()) }()
	require.Nil(b, sess.LoadRules([]string{rules}, nil))
	sess.AddSeries(input...)
	tl, err := sess.Replay(context.Background(), scenario.Epoch, scenario.Epoch.Add(24*time.Hour))
	require.NoError(b, err)
	require.NotEmpty(b, tl.Alerts)
}

// TestFastPathMatchesExactFleet compares both paths on a fleet large enough
// for the caches that only big results use (more than 256 series a step),
// with range queries cut into shards of 50 series.
func TestFastPathMatchesExactFleet(t *testing.T) {
	defer evaluator.SetSeriesPerShard(50)()
	rules := filepath.Join(t.TempDir(), "rules.yml")
	require.NoError(t, os.WriteFile(rules, []byte(`
groups:
- name: fleet
  rules:
  - alert: NotReady
    expr: gotk_reconcile_condition{type="Ready",status="False"} == 1
    for: 5m
    keep_firing_for: 2m
    labels:
      severity: '{{ if eq $labels.kind "HelmRelease" }}page{{ else }}ticket{{ end }}'
    annotations:
      summary: '{{ $labels.kind }} {{ $labels.namespace }}/{{ $labels.name }}: {{ $value }}'
  - alert: Any
    expr: (gotk_reconcile_condition + 1) * ((time() / 60) % 3) > 0
    labels:
      band: '{{ if gt $value 2.0 }}high{{ else }}low{{ end }}'
    annotations:
      value: '{{ $value }}'
  - alert: ReconciliationFailure
    expr: max(gotk_reconcile_condition{status="False",type="Ready"}) by (namespace, name, kind) + on(namespace, name, kind) (max(gotk_reconcile_condition{status="Deleted"}) by (namespace, name, kind)) * 2 == 1
    for: 10m
`), 0o600))
	// Under -race, 40 objects; the plain run of test-unit-full (Makefile)
	// replays all 120.
	input := scenario.Fleet(racemode.Cases(120, 40), time.Hour, 7).Generate()
	var got [2][]string
	for i, exact := range []bool{true, false} {
		sess, err := evaluator.NewEngine(evaluator.Options{MaxQuerySamples: 1e7}).NewSession(evaluator.SessionOptions{EvalInterval: time.Minute, Exact: exact})
		require.NoError(t, err)
		require.Nil(t, sess.LoadRules([]string{rules}, nil))
		sess.AddSeries(input...)
		tl, err := sess.Replay(context.Background(), scenario.Epoch, scenario.Epoch.Add(time.Hour))
		require.NoError(t, err)
		if !exact {
			require.Equal(t, 3, sess.ShardedQueries())
		}
		for _, a := range tl.Alerts {
			got[i] = append(got[i], fmt.Sprint(a.Labels, a.Annotations, a.Intervals))
		}
		require.NoError(t, sess.Close())
	}
	require.Greater(t, len(got[0]), 300)
	require.Equal(t, got[0], got[1])
}
