//go:build integration

// The backtest against Prometheus 3 (bin/prometheus3, built by `make
// bin/prometheus3` from the pinned github.com/prometheus/prometheus module
// in tools/prometheus, without the web UI's assets): `make
// test-integration`. Debian ships Prometheus 2.x (integration_test.go);
// this is the 3.x the embedded engine is, with its lookback window that
// excludes its start.
package backtest_test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// prometheus3StaleSteps is how many 1m steps Prometheus 3 keeps returning
// a series after its last sample: the 5m lookback excludes its start, so 4
// (Prometheus 2.x: 5).
const prometheus3StaleSteps = 4

func TestIntegrationPrometheus3(t *testing.T) {
	ensurePrometheus(t) // promtool, to backfill
	bin := engineBinary(t, "GOTK_PROMETHEUS3", "prometheus3", "bin/prometheus3")
	dir := t.TempDir()
	d := prepareEngineData(t, dir)
	c := d.c

	data := filepath.Join(dir, "prometheus3", "data")
	backfill(t, d.om, data)
	base := startPrometheusBin(t, bin, filepath.Join(dir, "prometheus3"), data,
		"# No scrapes, no rules: the backfilled blocks only.\nglobal:\n  evaluation_interval: 1m\n")
	require.True(t, strings.HasPrefix(buildVersion(t, base), "3."), "bin/prometheus3 is a Prometheus 3.x (its buildinfo, stamped by the Makefile): %q", buildVersion(t, base))
	require.Equal(t, prometheus3StaleSteps, prometheusStaleSteps(t, base))
	waitFor(t, "the backfilled series in prometheus 3", time.Minute, hasSeries(base, "gotk_reconcile_condition", c.start.Add(time.Hour), d.series))

	t.Run("timeline", func(t *testing.T) {
		requireTimeline(t, c, base, "Prometheus 3")
	})
	t.Run("staleness", func(t *testing.T) {
		step := time.Duration(c.sc.EvaluationInterval)
		require.Equal(t, time.Minute, step)
		n := stepsVisible(t, base, d.probe, step)
		t.Logf("Prometheus 3: a stopped series is still returned %d steps (1m) after its last sample", n)
		require.Equal(t, prometheus3StaleSteps, n, "Prometheus 3: 1m steps a series stays visible after its last sample")
	})
}
