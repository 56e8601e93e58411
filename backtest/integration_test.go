//go:build integration

// The backtest against a real Prometheus: `make test-integration`.
//
// It installs Debian's prometheus package when /usr/bin/prometheus or
// /usr/bin/promtool is missing (as root; the test is skipped, saying why,
// only when that installation fails), writes scenarios' series as
// OpenMetrics with `gotk-rules gen --format openmetrics`, backfills a TSDB
// with `promtool tsdb create-blocks-from openmetrics`, starts Prometheus on
// 127.0.0.1 on a free port with that data, runs `gotk-rules backtest` and
// requires the alert timeline of the embedded replay of the same scenario
// (shifted to the time the data was backfilled at). The server is stopped
// at the end.
package backtest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gotk-rules/gotk-rules/backtest"
	"github.com/gotk-rules/gotk-rules/cli"
	"github.com/gotk-rules/gotk-rules/evaluator"
	"github.com/gotk-rules/gotk-rules/rulefile"
	"github.com/gotk-rules/gotk-rules/scenario"
)

const (
	prometheusBin = "/usr/bin/prometheus"
	promtoolBin   = "/usr/bin/promtool"
)

// integrationCase is one scenario backfilled into the server.
type integrationCase struct {
	name     string
	scenario string
	rules    []string
	// maxPoints makes several chunks per expression.
	maxPoints int
	start     time.Time
	sc        *scenario.Scenario
	replay    *scenario.Replay
}

func TestIntegrationPrometheus(t *testing.T) {
	ensurePrometheus(t)
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	require.NoError(t, os.MkdirAll(data, 0o755))

	// Recent, 2h-aligned starts six hours apart: each scenario has its own
	// blocks, and Prometheus keeps them (retention is set far out anyway).
	base := time.Now().UTC().Truncate(2 * time.Hour).Add(-24 * time.Hour)
	cases := []*integrationCase{
		{name: "fleet", scenario: "testdata/fleet-v20.scenario.yml", rules: []string{"../rules"}, maxPoints: 37, start: base},
		{name: "classic", scenario: "../testdata/series/classic-v20-failing-then-deleted.scenario.yml", rules: []string{"../rules/gitopstoolkit.yml", "../rules/flux-reconciliation.yml"}, maxPoints: backtest.DefaultMaxPoints, start: base.Add(6 * time.Hour)},
	}
	for i, c := range cases {
		sc, err := scenario.LoadFile(c.scenario, scenario.Limits{})
		require.NoError(t, err)
		c.sc = sc
		eng := evaluator.NewEngine(evaluator.Options{})
		files, err := rulefile.Expand(c.rules)
		require.NoError(t, err)
		c.replay, err = scenario.Run(context.Background(), sc, scenario.RunOptions{Engine: eng, RuleFiles: files, Loader: rulefile.NewLoader(eng.Parser(), false)})
		require.NoError(t, err)
		require.NotEmpty(t, c.replay.Timeline.Alerts, "%s: the scenario should make alerts", c.name)

		om := filepath.Join(dir, fmt.Sprintf("series-%d.om", i))
		r := runCLI(t, "gen", c.scenario, "--format", "openmetrics", "--start", c.start.Format(time.RFC3339), "-o", om)
		require.Equal(t, 0, r.code, r)
		require.NotContains(t, r.stderr, "staleness markers", "the scenario must not have series that disappear")
		if c.name == "fleet" {
			// The server's own ALERTS, as Prometheus would have written
			// them at every evaluation, and one label set the backtest
			// never has: the comparison must find that one only.
			appendAlerts(t, om, c)
		}
		out, err := exec.Command(promtoolBin, "tsdb", "create-blocks-from", "openmetrics", om, data).CombinedOutput()
		require.NoError(t, err, "promtool: %s", out)
	}

	url := startPrometheus(t, dir, data)

	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			args := []string{"backtest", "--url", url, "--from", c.start.Format(time.RFC3339),
				"--to", c.start.Add(time.Duration(c.sc.Duration)).Format(time.RFC3339),
				"--step", c.sc.EvaluationInterval.String(), "--max-points", strconv.Itoa(c.maxPoints), "--concurrency", "3"}
			for _, r := range c.rules {
				args = append(args, "--rules", r)
			}
			if c.name == "fleet" {
				// The backfilled ALERTS have no staleness markers: an
				// alert that ends lingers for the 5m lookback on the server.
				args = append(args, "--tolerance", "5m")
			}
			r := runCLI(t, append(args, "--format", "json")...)
			require.Equal(t, 0, r.code, r)
			var got backtest.JSONReport
			require.NoError(t, json.Unmarshal([]byte(r.stdout), &got), r.stdout)
			require.Equal(t, want(c), normalizeAlerts(got.Alerts), "backtest against Prometheus differs from the embedded replay")
			require.Equal(t, int(time.Duration(c.sc.Duration)/time.Duration(c.sc.EvaluationInterval))+1, got.Evaluations)
			require.Empty(t, got.Warnings)

			for _, sa := range got.ServerDiff {
				if c.name != "fleet" {
					require.False(t, sa.Found, "%s: no ALERTS were backfilled", sa.Alert)
					continue
				}
				active := false
				for _, a := range c.replay.Timeline.Alerts {
					active = active || a.Alert == sa.Alert
				}
				require.Equal(t, active, sa.Found, "%s: ALERTS were backfilled for the replay's alerts", sa.Alert)
				if sa.Alert != "ReconciliationFailure" {
					require.Empty(t, sa.Differences, "%s", sa.Alert)
					continue
				}
				require.Len(t, sa.Differences, 1, "%+v", sa)
				d := sa.Differences[0]
				require.Equal(t, "ghost", d.Labels["name"])
				require.Equal(t, evaluator.Inactive, d.Local)
				require.Equal(t, evaluator.Firing, d.Server)
				require.Equal(t, c.start.Add(time.Hour).Format(time.RFC3339), d.Start)
			}

			text := runCLI(t, append(args, "--format", "text")...)
			require.Equal(t, 0, text.code, text)
			t.Logf("gotk-rules %s\n%s", strings.Join(args, " "), text.stdout)
		})
	}
}

type result struct {
	code           int
	stdout, stderr string
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
}

func runCLI(t *testing.T, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := cli.Main(args, &stdout, &stderr)
	return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// alertKey is an alert interval in comparable form.
type alertKey struct {
	Alert, Labels, State, Start, End string
}

// want is the embedded replay's timeline, shifted to the backfill's start.
func want(c *integrationCase) []alertKey {
	var out []alertKey
	shift := c.start.Sub(scenario.Epoch)
	for _, a := range c.replay.Timeline.Alerts {
		for _, iv := range a.Intervals {
			k := alertKey{Alert: a.Alert, Labels: a.Labels.String(), State: string(iv.State), Start: iv.Start.Add(shift).UTC().Format(time.RFC3339)}
			if !iv.End.IsZero() {
				k.End = iv.End.Add(shift).UTC().Format(time.RFC3339)
			}
			out = append(out, k)
		}
	}
	sortKeys(out)
	return out
}

func normalizeAlerts(alerts []backtest.JSONAlert) []alertKey {
	var out []alertKey
	for _, a := range alerts {
		l := labelsString(a.Labels)
		for state, ivs := range map[string][]backtest.JSONInterval{"pending": a.Pending, "firing": a.Firing} {
			for _, iv := range ivs {
				out = append(out, alertKey{Alert: a.Alert, Labels: l, State: state, Start: iv.Start, End: iv.End})
			}
		}
	}
	sortKeys(out)
	return out
}

func labelsString(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%q", k, m[k])
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

func sortKeys(ks []alertKey) {
	sort.Slice(ks, func(i, j int) bool {
		a, b := ks[i], ks[j]
		for _, p := range [][2]string{{a.Alert, b.Alert}, {a.Labels, b.Labels}, {a.Start, b.Start}, {a.State, b.State}} {
			if p[0] != p[1] {
				return p[0] < p[1]
			}
		}
		return false
	})
}

// appendAlerts writes ALERTS series for the replay's alerts (one sample per
// evaluation while active, as the rule manager writes them) and for one
// label set the backtest never has, before the OpenMetrics file's # EOF.
func appendAlerts(t *testing.T, path string, c *integrationCase) {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	body := strings.TrimSuffix(string(b), "# EOF\n")
	require.NotEqual(t, string(b), body, "no # EOF at the end")
	step := time.Duration(c.sc.EvaluationInterval)
	end := time.Duration(c.sc.Duration)
	series := map[string][]string{} // labels -> sample lines, kept per series
	var order []string
	add := func(lset map[string]string, at time.Duration) {
		l := openMetricsLabels(lset)
		if _, ok := series[l]; !ok {
			order = append(order, l)
		}
		series[l] = append(series[l], fmt.Sprintf("ALERTS%s 1 %d", l, c.start.Add(at).Unix()))
	}
	for _, a := range c.replay.Timeline.Alerts {
		for _, iv := range a.Intervals {
			stop := end + step
			if !iv.End.IsZero() {
				stop = iv.End.Sub(scenario.Epoch)
			}
			for at := iv.Start.Sub(scenario.Epoch); at < stop; at += step {
				m := a.Labels.Map()
				m["alertstate"] = string(iv.State)
				add(m, at)
			}
		}
	}
	ghost := map[string]string{"alertname": "ReconciliationFailure", "alertstate": "firing", "kind": "Kustomization", "name": "ghost", "namespace": "team-z", "severity": "page"}
	for at := time.Hour; at < time.Hour+30*time.Minute; at += step {
		add(ghost, at)
	}
	sort.Strings(order)
	var out strings.Builder
	out.WriteString(body)
	for _, l := range order {
		out.WriteString(strings.Join(series[l], "\n"))
		out.WriteString("\n")
	}
	out.WriteString("# EOF\n")
	require.NoError(t, os.WriteFile(path, []byte(out.String()), 0o644))
}

func openMetricsLabels(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%q", k, m[k])
	}
	return "{" + strings.Join(parts, ",") + "}"
}

// ensurePrometheus installs Debian's prometheus package (server and
// promtool) when either binary is missing.
func ensurePrometheus(t *testing.T) {
	t.Helper()
	if exists(prometheusBin) && exists(promtoolBin) {
		return
	}
	if os.Geteuid() != 0 {
		t.Skipf("%s or %s is missing and installing Debian's prometheus package needs root: run `apt-get install prometheus` first", prometheusBin, promtoolBin)
	}
	// Keep the package's service from starting: the test runs its own
	// server, on a free port.
	const policy = "/usr/sbin/policy-rc.d"
	if !exists(policy) {
		if err := os.WriteFile(policy, []byte("#!/bin/sh\nexit 101\n"), 0o755); err == nil {
			defer os.Remove(policy)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	env := append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
	for _, args := range [][]string{
		{"apt-get", "update"},
		{"apt-get", "install", "-y", "--no-install-recommends", "prometheus"},
	} {
		cmd := exec.CommandContext(ctx, args[0], args[1:]...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Skipf("installing Debian's prometheus package failed: %s: %v\n%s", strings.Join(args, " "), err, tail(string(out), 2000))
		}
	}
	if !exists(prometheusBin) || !exists(promtoolBin) {
		t.Skipf("Debian's prometheus package is installed but %s or %s is missing", prometheusBin, promtoolBin)
	}
	// A service the package may have started anyway is not ours to stop;
	// the test's server listens on a port of its own.
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

// startPrometheus runs Prometheus on 127.0.0.1 on a free port with the
// backfilled data and stops it when the test ends.
func startPrometheus(t *testing.T, dir, data string) string {
	t.Helper()
	return startPrometheusConfig(t, dir, data, "# No scrapes, no rules: the backfilled blocks only.\nglobal:\n  evaluation_interval: 1m\n")
}

// startPrometheusConfig is startPrometheus with config as its
// configuration file (dir/prometheus.yml).
func startPrometheusConfig(t *testing.T, dir, data, config string) string {
	t.Helper()
	return startPrometheusBin(t, prometheusBin, dir, data, config)
}

// startPrometheusBin is startPrometheusConfig with the Prometheus binary bin
// (Debian's 2.x or bin/prometheus3).
func startPrometheusBin(t *testing.T, bin, dir, data, config string) string {
	t.Helper()
	cfg := filepath.Join(dir, "prometheus.yml")
	require.NoError(t, os.WriteFile(cfg, []byte(config), 0o644))
	addr := freeAddr(t)
	var logs bytes.Buffer
	cmd := exec.Command(bin,
		"--config.file="+cfg,
		"--storage.tsdb.path="+data,
		"--storage.tsdb.retention.time=10y", // never delete the backfilled blocks
		"--web.listen-address="+addr,
		"--log.level=warn",
	)
	cmd.Stdout, cmd.Stderr = &logs, &logs
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	require.NoError(t, cmd.Start())
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	})
	url := "http://" + addr
	deadline := time.Now().Add(90 * time.Second)
	for {
		select {
		case err := <-exited:
			exited <- err
			t.Fatalf("prometheus exited before it was ready: %v\n%s", err, logs.String())
		default:
		}
		resp, err := http.Get(url + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return url
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("prometheus at %s not ready after 90s\n%s", url, logs.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}
