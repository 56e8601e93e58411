//go:build integration

// The backtest through Thanos 0.40.1 (bin/thanos, built by `make
// bin/thanos` from the module's own source): `make test-integration`.
//
// The fleet scenario is backfilled twice with promtool (two sets of
// blocks, new ULIDs each time) and uploaded with `thanos tools bucket
// upload-blocks` into a filesystem bucket as two replicas (external label
// replica="a" and "b"); `thanos store` serves the bucket. The same data is
// backfilled into a Prometheus with external label replica="a", with a
// `thanos sidecar` next to it. Queriers on 127.0.0.1 in front of them:
//   - store: --endpoint-strict to the store, --query.replica-label=replica;
//   - raw: --endpoint to the store, no replica label (replicas doubled);
//   - sidecar: --endpoint to the sidecar, --query.replica-label=replica.
//
// Each deduplicated path must give the embedded replay's timeline; the raw
// one carries the replica label into the alerts of a rule that does not
// aggregate, until the backtest asks for deduplication itself. The probe
// measures staleness; stopping the store mid-run must fail the backtest
// naming the partial response. Every process is stopped at the end.
package backtest_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gotk-rules/gotk-rules/backtest"
	"github.com/gotk-rules/gotk-rules/scenario"
)

func TestIntegrationThanos(t *testing.T) {
	ensurePrometheus(t)
	thanos := engineBinary(t, "GOTK_THANOS", "thanos", "bin/thanos")
	dir := t.TempDir()
	d := prepareEngineData(t, dir)
	c := d.c

	// The bucket: the scenario's blocks twice, as replicas a and b.
	bucket := filepath.Join(dir, "bucket")
	require.NoError(t, os.MkdirAll(bucket, 0o755))
	objstore := filepath.Join(dir, "bucket.yml")
	require.NoError(t, os.WriteFile(objstore, []byte(fmt.Sprintf("type: FILESYSTEM\nconfig:\n  directory: %q\n", bucket)), 0o644))
	var blocks int
	for _, replica := range []string{"a", "b"} {
		out := filepath.Join(dir, "blocks-"+replica)
		backfill(t, d.om, out)
		entries, err := os.ReadDir(out)
		require.NoError(t, err)
		blocks += len(entries)
		b, err := exec.Command(thanos, "tools", "bucket", "upload-blocks", "--objstore.config-file="+objstore,
			"--path="+out, fmt.Sprintf("--label=replica=%q", replica), "--shipper.upload-compacted", "--log.level=warn").CombinedOutput()
		require.NoError(t, err, "thanos tools bucket upload-blocks: %s", b)
	}
	uploaded, err := filepath.Glob(filepath.Join(bucket, "*", "meta.json"))
	require.NoError(t, err)
	require.Len(t, uploaded, blocks, "every block uploaded")
	meta, err := os.ReadFile(uploaded[0])
	require.NoError(t, err)
	require.Contains(t, string(meta), `"replica":`, "upload-blocks writes the external label into meta.json")

	storeGRPC, storeHTTP := freeAddr(t), freeAddr(t)
	store := startProc(t, "thanos store", thanos, "store", "--data-dir="+filepath.Join(dir, "store"),
		"--objstore.config-file="+objstore, "--grpc-address="+storeGRPC, "--http-address="+storeHTTP, "--log.level=warn")
	waitFor(t, "thanos store ready", 3*time.Minute, httpOK("http://"+storeHTTP+"/-/ready"), store)
	// A second store gateway over the same bucket, for a querier that lists
	// it with --endpoint: the test stops it in the middle of a backtest.
	lostGRPC, lostHTTP := freeAddr(t), freeAddr(t)
	lost := startProc(t, "thanos store (lost)", thanos, "store", "--data-dir="+filepath.Join(dir, "store-lost"),
		"--objstore.config-file="+objstore, "--grpc-address="+lostGRPC, "--http-address="+lostHTTP, "--log.level=warn")
	waitFor(t, "thanos store (lost) ready", 3*time.Minute, httpOK("http://"+lostHTTP+"/-/ready"), lost)

	// Prometheus with the same blocks, replica "a", and its sidecar.
	promDir := filepath.Join(dir, "prometheus")
	promData := filepath.Join(promDir, "data")
	backfill(t, d.om, promData)
	promURL := startPrometheusConfig(t, promDir, promData,
		"# No scrapes, no rules: the backfilled blocks only.\nglobal:\n  evaluation_interval: 1m\n  external_labels:\n    replica: a\n")
	sidecarGRPC, sidecarHTTP := freeAddr(t), freeAddr(t)
	sidecar := startProc(t, "thanos sidecar", thanos, "sidecar", "--prometheus.url="+promURL, "--tsdb.path="+promData,
		"--grpc-address="+sidecarGRPC, "--http-address="+sidecarHTTP, "--log.level=warn")
	waitFor(t, "thanos sidecar ready", 2*time.Minute, httpOK("http://"+sidecarHTTP+"/-/ready"), sidecar)

	query := func(name string, args ...string) (string, *proc) {
		grpc, addr := freeAddr(t), freeAddr(t)
		p := startProc(t, name, thanos, append([]string{"query", "--grpc-address=" + grpc, "--http-address=" + addr, "--log.level=warn"}, args...)...)
		u := "http://" + addr
		waitFor(t, name+" ready", 2*time.Minute, httpOK(u+"/-/ready"), p)
		return u, p
	}
	qStore, qs := query("thanos query (store)", "--endpoint-strict="+storeGRPC, "--query.replica-label=replica")
	qRaw, qr := query("thanos query (store, no replica label)", "--endpoint="+storeGRPC)
	qSidecar, qsc := query("thanos query (sidecar)", "--endpoint="+sidecarGRPC, "--query.replica-label=replica")
	qLost, ql := query("thanos query (--endpoint, store lost)", "--endpoint="+lostGRPC, "--query.replica-label=replica")

	// Until each querier has found its store, it answers with no data.
	mid := c.start.Add(time.Hour)
	const sel = `gotk_reconcile_condition`
	waitFor(t, "the store's series through thanos query", 2*time.Minute, hasSeries(qStore, sel, mid, d.series), qs, store)
	waitFor(t, "both replicas through thanos query without dedup", 2*time.Minute, hasSeries(qRaw, sel, mid, 2*d.series), qr, store)
	waitFor(t, "the sidecar's series through thanos query", 2*time.Minute, hasSeries(qSidecar, sel, mid, d.series), qsc, sidecar)
	waitFor(t, "the second store's series through thanos query", 2*time.Minute, hasSeries(qLost, sel, mid, d.series), ql, lost)

	t.Run("store", func(t *testing.T) {
		requireTimeline(t, c, qStore, "Thanos Query over a store gateway")
	})
	t.Run("sidecar", func(t *testing.T) {
		requireTimeline(t, c, qSidecar, "Thanos Query over a sidecar")
	})
	t.Run("replicas", func(t *testing.T) {
		// Without deduplication every series comes twice, once per
		// replica: the aggregating rules do not see it (max by), the
		// rule that keeps the series' labels fires once per replica.
		got := backtestJSON(t, backtestArgs(c, qRaw)...)
		require.Equal(t, wantReplicas(c, "ObjectNotReady", "replica", "a", "b"), normalizeAlerts(got.Alerts))
		require.Equal(t, []backtest.ReplicaLabel{{Alert: "ObjectNotReady", Label: "replica", Values: []string{"a", "b"}}}, got.ReplicaLabels,
			"the report names the replica label the alerts carry")
		// The backtest asking Thanos to deduplicate on the replica label
		// (replicaLabels[] in each request) gives the single timeline.
		requireTimeline(t, c, qRaw, "Thanos Query without --query.replica-label, with --replica-label", "--replica-label", "replica")
	})
	t.Run("staleness", func(t *testing.T) {
		step := time.Duration(c.sc.EvaluationInterval)
		want := prometheusStaleSteps(t, promURL)
		require.Equal(t, want, stepsVisible(t, promURL, d.probe, step), "Prometheus: steps a series stays visible after its last sample")
		require.Equal(t, thanosStaleSteps, stepsVisible(t, qStore, d.probe, step), "Thanos Query over a store gateway")
		require.Equal(t, thanosStaleSteps, stepsVisible(t, qSidecar, d.probe, step), "Thanos Query over a sidecar (the querier evaluates PromQL, not the Prometheus behind)")
	})
	t.Run("store lost", func(t *testing.T) {
		// The querier lists its store with --endpoint: once the store
		// fails a health check (every 5s) the querier stops asking it and
		// answers `success`, with no data and no warning. The backtest
		// lists the querier's stores (/api/v1/stores) at its start and
		// after its queries: the store reporting an error (later gone)
		// fails it, naming the store. The proxy in front of the querier
		// stops the store at the first query_range and passes it on only
		// once the querier has noticed.
		target, err := url.Parse(qLost)
		require.NoError(t, err)
		rp := httputil.NewSingleHostReverseProxy(target)
		// Every query_range waits for the first one's kill and wait (the
		// backtest sends several at once: none may reach the querier
		// before it noticed, or it would fail on the dead store itself).
		var once sync.Once
		var noticed atomic.Bool
		proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasSuffix(r.URL.Path, "/api/v1/query_range") {
				once.Do(func() {
					lost.stop(syscall.SIGKILL, 20*time.Second)
					deadline := time.Now().Add(time.Minute)
					for time.Now().Before(deadline) && storeHealthy(qLost, lostGRPC) {
						time.Sleep(250 * time.Millisecond)
					}
					noticed.Store(!storeHealthy(qLost, lostGRPC))
				})
			}
			rp.ServeHTTP(w, r)
		}))
		defer proxy.Close()
		r := runCLI(t, backtestArgs(c, proxy.URL)...)
		require.True(t, lost.exited(), "the store was stopped mid-run")
		require.True(t, noticed.Load(), "the querier noticed the store gone within a minute")
		require.Equal(t, 1, r.code, r)
		require.Contains(t, r.stderr, "partial response", r)
		require.Contains(t, r.stderr, "Thanos store "+lostGRPC, r)
		require.Empty(t, r.stdout, "nothing is printed unless the backtest completes")

		// The same querier now: its answers are silent (no data, no
		// warning) but the store is listed with an error from the start.
		got := backtestJSON(t, append(backtestArgs(c, qLost), "--allow-partial")...)
		require.Empty(t, got.Alerts, "the store is gone")
		require.NotEmpty(t, got.Partial)
		for _, p := range got.Partial {
			require.Empty(t, p.Query, "every query of the range: %+v", p)
			require.Contains(t, p.Warning, "Thanos store "+lostGRPC, "%+v", p)
		}
	})
	t.Run("partial", func(t *testing.T) {
		// The store gateway stops mid-run: after a few answers, the
		// proxy in front of the querier kills it before passing the
		// next request on. The querier still asks the (strict) store and
		// answers with a warning; the backtest must fail, naming it.
		target, err := url.Parse(qStore)
		require.NoError(t, err)
		rp := httputil.NewSingleHostReverseProxy(target)
		var requests atomic.Int64
		const killAt = 4
		proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasSuffix(r.URL.Path, "/api/v1/query_range") && requests.Add(1) == killAt {
				store.stop(syscall.SIGKILL, 20*time.Second)
				// Let the querier's connection see the store gone: a
				// request racing the kill can break an open stream,
				// which Thanos answers as a query error (exit 1 too, but
				// not the case here); from then on every request to the
				// store fails to connect, which Thanos 0.40.1 answers
				// `success` with a warning even for partial_response=false.
				time.Sleep(2 * time.Second)
			}
			rp.ServeHTTP(w, r)
		}))
		defer proxy.Close()
		args := backtestArgs(c, proxy.URL)
		args = append(args, "--concurrency", "1", "--max-points", "10", "--retries", "0")
		r := runCLI(t, args...)
		require.True(t, store.exited(), "the store was stopped mid-run (%d query_range requests)", requests.Load())
		require.Equal(t, 1, r.code, r)
		require.Contains(t, r.stderr, "partial response", r)
		require.Empty(t, r.stdout, "nothing is printed unless the backtest completes")

		// A querier without --endpoint-strict stops asking the dead store
		// at its next health check (every 5s) and from then on answers
		// `success` with no data and no warning at all. The backtest
		// reads the querier's stores: the store reports an error, the run
		// exits 1 naming it.
		waitFor(t, "the querier without --endpoint-strict noticing the store gone", time.Minute, func() error {
			if storeHealthy(qRaw, storeGRPC) {
				return fmt.Errorf("%s still healthy in %s/api/v1/stores", storeGRPC, qRaw)
			}
			return nil
		})
		silent := apiRangeSilent(t, qRaw, c)
		require.True(t, silent, "Thanos Query answers without data and without a warning (if it starts warning, the README changes)")
		r = runCLI(t, backtestArgs(c, qRaw)...)
		require.Equal(t, 1, r.code, r)
		require.Contains(t, r.stderr, "Thanos store "+storeGRPC, r)

		// --allow-partial accepts it and lists the ranges affected.
		// Every answer is partial now: no data, no alert.
		got := backtestJSON(t, append(backtestArgs(c, qStore), "--allow-partial")...)
		require.NotEmpty(t, got.Partial, "the JSON report lists the partial ranges")
		for _, p := range got.Partial {
			require.NotEmpty(t, p.Warning, "%+v", p)
			require.LessOrEqual(t, c.start.Format(time.RFC3339), p.Start, "%+v", p)
			require.LessOrEqual(t, p.End, c.start.Add(time.Duration(c.sc.Duration)).Format(time.RFC3339), "%+v", p)
		}
		require.Empty(t, got.Alerts, "nothing was read")
	})
}

// storeHealthy says whether the Thanos querier at base lists the store
// name without an error (false when it does not answer).
func storeHealthy(base, name string) bool {
	resp, err := http.Get(base + "/api/v1/stores")
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	var a struct {
		Data map[string][]struct {
			Name      string  `json:"name"`
			LastError *string `json:"lastError"`
		} `json:"data"`
	}
	if jsonDecode(resp, &a) != nil {
		return false
	}
	for _, ss := range a.Data {
		for _, s := range ss {
			if s.Name == name {
				return s.LastError == nil
			}
		}
	}
	return false
}

// apiRangeSilent says whether the querier at base answers a range query
// of the case's series with no data and no warning.
func apiRangeSilent(t *testing.T, base string, c *integrationCase) bool {
	t.Helper()
	r, err := apiGet(base, "/api/v1/query_range", url.Values{
		"query": {"gotk_reconcile_condition"}, "start": {strconv.FormatInt(c.start.Unix(), 10)},
		"end": {strconv.FormatInt(c.start.Add(time.Hour).Unix(), 10)}, "step": {"60"}, "partial_response": {"false"},
	})
	require.NoError(t, err)
	return len(r.Data.Result) == 0 && len(r.Warnings) == 0
}

// thanosStaleSteps is how many 1m steps Thanos Query 0.40.1 (Prometheus 3's
// PromQL engine: the lookback window excludes its start) keeps returning a
// series after its last sample: 5m lookback, so 4.
const thanosStaleSteps = 4

// prometheusStaleSteps is the same for the Prometheus at base: 5 before
// Prometheus 3 (the 5m lookback included its start), 4 from 3.0 on.
func prometheusStaleSteps(t *testing.T, base string) int {
	t.Helper()
	if strings.HasPrefix(buildVersion(t, base), "2.") {
		return 5
	}
	return 4
}

// buildVersion is the version the Prometheus at base reports.
func buildVersion(t *testing.T, base string) string {
	t.Helper()
	resp, err := http.Get(base + "/api/v1/status/buildinfo")
	require.NoError(t, err)
	defer resp.Body.Close()
	var info struct {
		Data struct {
			Version string `json:"version"`
		} `json:"data"`
	}
	require.NoError(t, jsonDecode(resp, &info))
	return info.Data.Version
}

// wantReplicas is want(c) with the alerts of rule alert once per replica,
// label set to each value.
func wantReplicas(c *integrationCase, alert, label string, values ...string) []alertKey {
	var out []alertKey
	shift := c.start.Sub(scenario.Epoch)
	for _, a := range c.replay.Timeline.Alerts {
		sets := []map[string]string{a.Labels.Map()}
		if a.Alert == alert {
			sets = nil
			for _, v := range values {
				m := a.Labels.Map()
				m[label] = v
				sets = append(sets, m)
			}
		}
		for _, m := range sets {
			for _, iv := range a.Intervals {
				k := alertKey{Alert: a.Alert, Labels: labelsString(m), State: string(iv.State), Start: iv.Start.Add(shift).UTC().Format(time.RFC3339)}
				if !iv.End.IsZero() {
					k.End = iv.End.Add(shift).UTC().Format(time.RFC3339)
				}
				out = append(out, k)
			}
		}
	}
	sortKeys(out)
	return out
}
