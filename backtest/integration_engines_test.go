//go:build integration

// Helpers shared by the integration tests against the engines teams outgrow
// one Prometheus with (integration_thanos_test.go,
// integration_vm_test.go): the engines' binaries, their processes (each in
// a process group of its own, stopped when the test ends), the scenario
// data they are loaded with, and the staleness probe.
package backtest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gotk-rules/gotk-rules/backtest"
	"github.com/gotk-rules/gotk-rules/evaluator"
	"github.com/gotk-rules/gotk-rules/rulefile"
	"github.com/gotk-rules/gotk-rules/scenario"
)

// engineBinary is the path of an engine built by the Makefile (bin/thanos,
// bin/victoria-metrics), or $env when set. A missing binary skips the test,
// saying how to build it, unless GOTK_REQUIRE_ENGINES=1 (set by `make
// test-integration`, which builds them first): then it fails.
func engineBinary(t *testing.T, env, name, target string) string {
	t.Helper()
	p := os.Getenv(env)
	if p == "" {
		p = filepath.Join("..", "bin", name)
	}
	abs, err := filepath.Abs(p)
	require.NoError(t, err)
	if !exists(abs) {
		msg := fmt.Sprintf("%s is missing: build it with `make %s` (or set %s)", abs, target, env)
		if os.Getenv("GOTK_REQUIRE_ENGINES") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return abs
}

// lockedBuffer collects a process' output, written from exec's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// proc is a server the test started, in a process group of its own.
type proc struct {
	name   string
	cmd    *exec.Cmd
	logs   *lockedBuffer
	done   chan struct{}
	err    error
	closed sync.Once
}

// startProc starts bin with args and stops it (SIGTERM to its process
// group, SIGKILL after 20s) when the test ends, logging its output if the
// test failed.
func startProc(t *testing.T, name, bin string, args ...string) *proc {
	t.Helper()
	p := &proc{name: name, logs: &lockedBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Stdout, p.cmd.Stderr = p.logs, p.logs
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	require.NoError(t, p.cmd.Start(), "starting %s", name)
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.stop(syscall.SIGTERM, 20*time.Second)
		if t.Failed() {
			t.Logf("%s (%s) output:\n%s", name, strings.Join(p.cmd.Args, " "), tail(p.logs.String(), 4000))
		}
	})
	return p
}

// stop signals the process group and waits for the process to exit,
// killing the group after grace.
func (p *proc) stop(sig syscall.Signal, grace time.Duration) {
	p.closed.Do(func() {
		_ = syscall.Kill(-p.cmd.Process.Pid, sig)
		select {
		case <-p.done:
		case <-time.After(grace):
			_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
			<-p.done
		}
	})
}

// exited reports whether the process has ended.
func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// waitFor polls check every 250ms until it returns nil, failing the test
// with the last error and the processes' output after timeout or when one
// of procs exits.
func waitFor(t *testing.T, what string, timeout time.Duration, check func() error, procs ...*proc) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := check()
		if err == nil {
			return
		}
		for _, p := range procs {
			if p.exited() {
				t.Fatalf("%s: %s exited (%v) before %s\n%s", what, p.name, p.err, what, tail(p.logs.String(), 4000))
			}
		}
		if time.Now().After(deadline) {
			var logs strings.Builder
			for _, p := range procs {
				fmt.Fprintf(&logs, "--- %s:\n%s\n", p.name, tail(p.logs.String(), 3000))
			}
			t.Fatalf("%s: not after %s: %v\n%s", what, timeout, err, logs.String())
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// httpOK is a check for waitFor: GET u answers 200.
func httpOK(u string) func() error {
	return func() error {
		resp, err := http.Get(u)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		_, _ = io.Copy(io.Discard, resp.Body)
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("GET %s: %s", u, resp.Status)
		}
		return nil
	}
}

// apiResponse is the Prometheus query API's envelope.
type apiResponse struct {
	Status   string   `json:"status"`
	Error    string   `json:"error"`
	Warnings []string `json:"warnings"`
	Data     struct {
		ResultType string `json:"resultType"`
		Result     []struct {
			Metric map[string]string `json:"metric"`
			Value  []any             `json:"value"`
			Values [][]any           `json:"values"`
		} `json:"result"`
	} `json:"data"`
}

// apiGet runs a query API request (path such as /api/v1/query) on base.
func apiGet(base, path string, params url.Values) (*apiResponse, error) {
	resp, err := http.Get(base + path + "?" + params.Encode())
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	var r apiResponse
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, fmt.Errorf("%s %s: %s: %w", path, params.Encode(), tail(string(body), 300), err)
	}
	if r.Status != "success" {
		return &r, fmt.Errorf("%s %s: %s: %s", path, params.Encode(), resp.Status, r.Error)
	}
	return &r, nil
}

// hasSeries is a check for waitFor: the instant query expr at ts returns
// want series (the engine has loaded the data and, for a querier, found
// its stores).
func hasSeries(base, expr string, ts time.Time, want int) func() error {
	return func() error {
		r, err := apiGet(base, "/api/v1/query", url.Values{"query": {expr}, "time": {strconv.FormatInt(ts.Unix(), 10)}})
		if err != nil {
			return err
		}
		if len(r.Data.Result) != want {
			return fmt.Errorf("%s at %s: %d series, want %d (warnings %q)", expr, ts.Format(time.RFC3339), len(r.Data.Result), want, r.Warnings)
		}
		return nil
	}
}

// replicaRulesFile is a rule without aggregation: its alerts carry every
// label of the series, a replica label included when the querier does not
// deduplicate. The shipped rules aggregate (max by), which hides replicas.
const replicaRulesFile = `groups:
  - name: engines
    rules:
      - alert: ObjectNotReady
        expr: gotk_reconcile_condition{type="Ready",status="False"} == 1
        for: 3m
        labels:
          severity: ticket
`

// Staleness probe: a series sampled every 30s from the scenario's start to
// probeStop after it, then never again. Engines keep a series visible for
// different times after its last sample (see README, "Staleness").
const (
	probeMetric   = "gotk_staleness_probe"
	probeStop     = 30 * time.Minute
	probeInterval = 30 * time.Second
)

// engineData is one scenario's series for the engines: the fleet
// scenario, the shipped rules and replicaRulesFile, replayed embedded, and
// written as OpenMetrics with the staleness probe appended.
type engineData struct {
	c     *integrationCase
	om    string // OpenMetrics file
	probe time.Time
	// series is the number of gotk_reconcile_condition series at any time.
	series int
}

func prepareEngineData(t *testing.T, dir string) *engineData {
	t.Helper()
	extra := filepath.Join(dir, "replica-rules.yml")
	require.NoError(t, os.WriteFile(extra, []byte(replicaRulesFile), 0o644))
	start := time.Now().UTC().Truncate(2 * time.Hour).Add(-24 * time.Hour)
	c := &integrationCase{name: "fleet", scenario: "testdata/fleet-v20.scenario.yml", rules: []string{"../rules", extra}, maxPoints: 37, start: start}
	sc, err := scenario.LoadFile(c.scenario, scenario.Limits{})
	require.NoError(t, err)
	c.sc = sc
	eng := evaluator.NewEngine(evaluator.Options{})
	files, err := rulefile.Expand(c.rules)
	require.NoError(t, err)
	c.replay, err = scenario.Run(context.Background(), sc, scenario.RunOptions{Engine: eng, RuleFiles: files, Loader: rulefile.NewLoader(eng.Parser(), false)})
	require.NoError(t, err)
	var notReady bool
	for _, a := range c.replay.Timeline.Alerts {
		notReady = notReady || a.Alert == "ObjectNotReady"
	}
	require.True(t, notReady, "the scenario should make ObjectNotReady alerts")

	om := filepath.Join(dir, "series.om")
	r := runCLI(t, "gen", c.scenario, "--format", "openmetrics", "--start", start.Format(time.RFC3339), "-o", om)
	require.Equal(t, 0, r.code, r)
	require.NotContains(t, r.stderr, "staleness markers", "the scenario must not have series that disappear")

	b, err := os.ReadFile(om)
	require.NoError(t, err)
	body := strings.TrimSuffix(string(b), "# EOF\n")
	require.NotEqual(t, string(b), body, "no # EOF at the end")
	var out strings.Builder
	out.WriteString(body)
	for at := time.Duration(0); at <= probeStop; at += probeInterval {
		fmt.Fprintf(&out, "%s{probe=\"stops\"} 1 %d\n", probeMetric, start.Add(at).Unix())
	}
	out.WriteString("# EOF\n")
	require.NoError(t, os.WriteFile(om, []byte(out.String()), 0o644))

	series := map[string]bool{}
	for _, line := range strings.Split(body, "\n") {
		if strings.HasPrefix(line, "gotk_reconcile_condition{") {
			series[line[:strings.LastIndexByte(line[:strings.LastIndexByte(line, ' ')], ' ')]] = true
		}
	}
	return &engineData{c: c, om: om, probe: start.Add(probeStop), series: len(series)}
}

// backfill makes TSDB blocks of the OpenMetrics file in out with promtool
// (a new block ULID at every call).
func backfill(t *testing.T, om, out string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(out, 0o755))
	b, err := exec.Command(promtoolBin, "tsdb", "create-blocks-from", "openmetrics", om, out).CombinedOutput()
	require.NoError(t, err, "promtool: %s", b)
}

// backtestArgs are the backtest's flags for the case against base.
func backtestArgs(c *integrationCase, base string) []string {
	args := []string{"backtest", "--url", base, "--from", c.start.Format(time.RFC3339),
		"--to", c.start.Add(time.Duration(c.sc.Duration)).Format(time.RFC3339),
		"--step", c.sc.EvaluationInterval.String(), "--max-points", strconv.Itoa(c.maxPoints), "--concurrency", "3",
		"--format", "json"}
	for _, r := range c.rules {
		args = append(args, "--rules", r)
	}
	return args
}

// requireTimeline backtests the case against base and requires the
// embedded replay's timeline, with no warnings.
func requireTimeline(t *testing.T, c *integrationCase, base, engine string, extra ...string) {
	t.Helper()
	got := backtestJSON(t, append(backtestArgs(c, base), extra...)...)
	require.Equal(t, want(c), normalizeAlerts(got.Alerts), "backtest against %s differs from the embedded replay", engine)
	require.Equal(t, int(time.Duration(c.sc.Duration)/time.Duration(c.sc.EvaluationInterval))+1, got.Evaluations)
	require.Empty(t, got.Warnings, "backtest against %s", engine)
}

// stepsVisible measures how many evaluation steps (of step) after the
// probe's last sample an instant vector selector still returns it: the
// engine's staleness as a backtest sees it. It also requires the probe at
// its last sample.
func stepsVisible(t *testing.T, base string, last time.Time, step time.Duration) int {
	t.Helper()
	from, to := last.Add(-5*step), last.Add(15*step)
	r, err := apiGet(base, "/api/v1/query_range", url.Values{
		"query": {probeMetric}, "start": {strconv.FormatInt(from.Unix(), 10)}, "end": {strconv.FormatInt(to.Unix(), 10)},
		"step": {strconv.FormatFloat(step.Seconds(), 'f', -1, 64)},
	})
	require.NoError(t, err)
	require.Len(t, r.Data.Result, 1, "%s over %s..%s", probeMetric, from, to)
	seen := map[int64]bool{}
	for _, v := range r.Data.Result[0].Values {
		ts, ok := v[0].(float64)
		require.True(t, ok, "sample %v", v)
		seen[int64(ts)] = true
	}
	require.True(t, seen[last.Unix()], "%s not returned at its last sample %s: %v", probeMetric, last.Format(time.RFC3339), r.Data.Result[0].Values)
	n := 0
	for at := last.Add(step); !at.After(to); at = at.Add(step) {
		if !seen[at.Unix()] {
			break
		}
		n++
	}
	for at := last.Add(time.Duration(n+1) * step); !at.After(to); at = at.Add(step) {
		require.False(t, seen[at.Unix()], "%s back at %s after a gap", probeMetric, at.Format(time.RFC3339))
	}
	return n
}

// backtestJSON runs the backtest, requires exit 0 and returns its JSON
// report.
func backtestJSON(t *testing.T, args ...string) backtest.JSONReport {
	t.Helper()
	r := runCLI(t, args...)
	require.Equal(t, 0, r.code, r)
	var got backtest.JSONReport
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &got), r.stdout)
	return got
}

// jsonDecode reads resp's body as JSON into v.
func jsonDecode(resp *http.Response, v any) error {
	return json.NewDecoder(resp.Body).Decode(v)
}
