//go:build integration

// The backtest through VictoriaMetrics single-node 1.151.0
// (bin/victoria-metrics, built by `make bin/victoria-metrics` from the
// module's own source): `make test-integration`.
//
// VictoriaMetrics starts on 127.0.0.1 with an empty data directory and a
// retention of 100 years (the scenario's timestamps are a day old here,
// but the default retention of one month would drop a scenario placed at
// a fixed older date); the fleet scenario's samples are imported through
// /api/v1/import/prometheus (the Prometheus text format, millisecond
// timestamps), flushed with /internal/force_flush, and the backtest
// through its Prometheus query API must give the embedded replay's
// timeline. The probe measures its staleness. The server is stopped at
// the end.
package backtest_test

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// vmStaleSteps is how many steps (1m, and 30s) VictoriaMetrics keeps
// returning a series sampled every 30s after its last sample in a range
// query: its lookback is not a fixed 5m but the larger of the step and the
// interval between the series' samples, so the series is gone one sample
// interval after its last sample (0 steps of 1m, 1 of 30s). An instant
// query (a template's query) looks back its step parameter, 5m by default.
const (
	vmStaleSteps    = 0
	vmStaleSteps30s = 1
)

func TestIntegrationVictoriaMetrics(t *testing.T) {
	vm := engineBinary(t, "GOTK_VICTORIA_METRICS", "victoria-metrics", "bin/victoria-metrics")
	dir := t.TempDir()
	d := prepareEngineData(t, dir)
	c := d.c

	addr := freeAddr(t)
	p := startProc(t, "victoria-metrics", vm,
		"-storageDataPath="+filepath.Join(dir, "vm"),
		"-httpListenAddr="+addr,
		"-retentionPeriod=100y",
		"-search.disableCache", // imported history: no stale cached results
		"-loggerLevel=ERROR",
	)
	base := "http://" + addr
	waitFor(t, "victoria-metrics ready", 2*time.Minute, httpOK(base+"/health"), p)

	n := importPrometheusText(t, base, d.om)
	require.Positive(t, n)
	resp, err := http.Get(base + "/internal/force_flush")
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	waitFor(t, "the imported series in victoria-metrics", time.Minute, hasSeries(base, "gotk_reconcile_condition", c.start.Add(time.Hour), d.series), p)

	t.Run("timeline", func(t *testing.T) {
		requireTimeline(t, c, base, "VictoriaMetrics")
	})
	t.Run("staleness", func(t *testing.T) {
		require.Equal(t, time.Minute, time.Duration(c.sc.EvaluationInterval))
		require.Equal(t, vmStaleSteps, stepsVisible(t, base, d.probe, time.Minute), "VictoriaMetrics: 1m steps a series stays visible after its last sample")
		require.Equal(t, vmStaleSteps30s, stepsVisible(t, base, d.probe, 30*time.Second), "VictoriaMetrics: 30s steps a series stays visible after its last sample")
	})
}

// importPrometheusText posts the OpenMetrics file's samples to
// VictoriaMetrics' /api/v1/import/prometheus, with the timestamps in
// milliseconds (OpenMetrics has seconds), and returns how many it sent.
func importPrometheusText(t *testing.T, base, om string) int {
	t.Helper()
	f, err := os.Open(om)
	require.NoError(t, err)
	defer f.Close()
	var body strings.Builder
	n := 0
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		require.Positive(t, i, "sample line without a timestamp: %q", line)
		sec, err := strconv.ParseFloat(line[i+1:], 64)
		require.NoError(t, err, "timestamp of %q", line)
		fmt.Fprintf(&body, "%s %d\n", line[:i], int64(sec*1000))
		n++
	}
	require.NoError(t, sc.Err())
	resp, err := http.Post(base+"/api/v1/import/prometheus", "text/plain", strings.NewReader(body.String()))
	require.NoError(t, err)
	defer resp.Body.Close()
	msg, _ := io.ReadAll(resp.Body)
	require.Equal(t, http.StatusNoContent, resp.StatusCode, "import: %s", msg)
	return n
}
