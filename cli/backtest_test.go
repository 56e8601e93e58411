package cli_test

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gotk-rules/gotk-rules/cli"
)

const backtestRules = `groups:
  - name: g
    rules:
      - alert: Down
        expr: up == 0
        for: 5m
        labels: {severity: page}
`

// fakeAPI answers every query_range with one series, {instance="a"} = 0,
// from 10m to 30m after the epoch, and ALERTS with nothing; status, when
// set, answers everything with that HTTP status.
func fakeAPI(t *testing.T, status int) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var requests atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		require.NoError(t, r.ParseForm())
		if status != 0 {
			http.Error(w, "nope", status)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/api/v1/query":
			fmt.Fprint(w, `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[0,"1"]}]}}`)
		case "/api/v1/query_range":
			if strings.HasPrefix(r.Form.Get("query"), "ALERTS") {
				fmt.Fprint(w, `{"status":"success","data":{"resultType":"matrix","result":[]}}`)
				return
			}
			start, _ := strconv.ParseFloat(r.Form.Get("start"), 64)
			end, _ := strconv.ParseFloat(r.Form.Get("end"), 64)
			step, _ := strconv.ParseFloat(r.Form.Get("step"), 64)
			var vals []string
			for ts := start; ts <= end; ts += step {
				if ts >= 600 && ts <= 1800 {
					vals = append(vals, fmt.Sprintf(`[%g,"0"]`, ts))
				}
			}
			fmt.Fprintf(w, `{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"instance":"a"},"values":[%s]}]}}`, strings.Join(vals, ","))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, &requests
}

func writeRules(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "rules.yml")
	require.NoError(t, os.WriteFile(p, []byte(backtestRules), 0o644))
	return p
}

func TestBacktestJSON(t *testing.T) {
	t.Parallel()
	srv, _ := fakeAPI(t, 0)
	r := run(t, "backtest", "--url", srv.URL, "--rules", writeRules(t), "--from", "1970-01-01T00:00:00Z", "--to", "1970-01-01T00:40:00Z", "--format", "json")
	require.Equal(t, cli.ExitOK, r.code, r)
	require.Empty(t, r.stderr)
	var got struct {
		Alerts []struct {
			Alert   string              `json:"alert"`
			Labels  map[string]string   `json:"labels"`
			Pending []map[string]string `json:"pending"`
			Firing  []map[string]string `json:"firing"`
		} `json:"alerts"`
		PerDay []map[string]any `json:"per_day"`
		Diff   []map[string]any `json:"server_alerts_diff"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &got), r.stdout)
	require.Len(t, got.Alerts, 1)
	a := got.Alerts[0]
	require.Equal(t, "Down", a.Alert)
	require.Equal(t, map[string]string{"alertname": "Down", "instance": "a", "severity": "page"}, a.Labels)
	require.Equal(t, []map[string]string{{"start": "1970-01-01T00:10:00Z", "end": "1970-01-01T00:15:00Z"}}, a.Pending)
	require.Equal(t, []map[string]string{{"start": "1970-01-01T00:15:00Z", "end": "1970-01-01T00:31:00Z"}}, a.Firing)
	require.Len(t, got.PerDay, 1)
	require.Equal(t, false, got.Diff[0]["found"])

	text := run(t, "backtest", "--url", srv.URL, "--rules", writeRules(t), "--from", "1970-01-01T00:00:00Z", "--to", "1970-01-01T00:40:00Z")
	require.Equal(t, cli.ExitOK, text.code, text)
	require.Contains(t, text.stdout, "Down{instance=\"a\", severity=\"page\"}\n  pending  1970-01-01T00:10:00Z  ..  1970-01-01T00:15:00Z  5m\n  firing   1970-01-01T00:15:00Z  ..  1970-01-01T00:31:00Z  16m\n")
}

func TestBacktestOutputFileWholeOrNothing(t *testing.T) {
	t.Parallel()
	out := filepath.Join(t.TempDir(), "result.json")
	srv, _ := fakeAPI(t, http.StatusInternalServerError)
	r := run(t, "backtest", "--url", srv.URL, "--rules", writeRules(t), "--from", "1970-01-01T00:00:00Z", "--to", "1970-01-01T00:40:00Z", "--retries", "0", "-o", out)
	require.Equal(t, cli.ExitFailed, r.code, r)
	require.Empty(t, r.stdout)
	require.Contains(t, r.stderr, "500 Internal Server Error: nope")
	require.NoFileExists(t, out)

	ok, _ := fakeAPI(t, 0)
	r = run(t, "backtest", "--url", ok.URL, "--rules", writeRules(t), "--from", "1970-01-01T00:00:00Z", "--to", "1970-01-01T00:40:00Z", "--format", "json", "-o", out)
	require.Equal(t, cli.ExitOK, r.code, r)
	require.Empty(t, r.stdout)
	b, err := os.ReadFile(out)
	require.NoError(t, err)
	require.True(t, json.Valid(b))
}

func TestBacktestExitCodes(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closed := "http://" + l.Addr().String()
	require.NoError(t, l.Close())
	unauthorized, _ := fakeAPI(t, http.StatusUnauthorized)
	notFound, _ := fakeAPI(t, http.StatusNotFound)
	unavailable, requests := fakeAPI(t, http.StatusServiceUnavailable)
	rules := writeRules(t)
	window := []string{"--rules", rules, "--from", "1970-01-01T00:00:00Z", "--to", "1970-01-01T00:40:00Z"}
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"--url", closed}, cli.ExitBadInput, "cannot reach the server"},
		{[]string{"--url", unauthorized.URL}, cli.ExitBadInput, "401 Unauthorized"},
		{[]string{"--url", notFound.URL}, cli.ExitBadInput, "404 Not Found at /api/v1/query"},
		{[]string{"--url", unavailable.URL, "--retries", "1"}, cli.ExitFailed, "503 Service Unavailable: nope (tried 2 times)"},
	} {
		r := run(t, append(append([]string{"backtest"}, window...), tc.args...)...)
		require.Equal(t, tc.code, r.code, r)
		require.Empty(t, r.stdout, "nothing half-written")
		require.Contains(t, r.stderr, tc.msg)
	}
	require.EqualValues(t, 2, requests.Load(), "503 retried once")
}

func TestBacktestBadInput(t *testing.T) {
	t.Parallel()
	rules := writeRules(t)
	token := filepath.Join(t.TempDir(), "empty-token")
	require.NoError(t, os.WriteFile(token, nil, 0o600))
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"--rules", rules}, "--url: name the Prometheus API"},
		{[]string{"--url", "localhost:9090", "--rules", rules}, "want an http:// or https:// URL"},
		{[]string{"--url", "http://127.0.0.1:1", "--rules", rules, "--from", "yesterday"}, `--from "yesterday": want an RFC 3339 time`},
		{[]string{"--url", "http://127.0.0.1:1", "--rules", rules, "--to", "-2x"}, `--to "-2x": "2x" is not a duration`},
		{[]string{"--url", "http://127.0.0.1:1", "--rules", rules, "--from", "-1h", "--to", "-2h"}, "is not after --from"},
		{[]string{"--url", "http://127.0.0.1:1", "--rules", rules, "--step", "0s"}, "--step 0s: want at least 1s"},
		{[]string{"--url", "http://127.0.0.1:1", "--rules", rules, "--step", "fast"}, `--step "fast": want a duration`},
		{[]string{"--url", "http://127.0.0.1:1", "--rules", rules, "--format", "yaml"}, `--format "yaml": want text or json`},
		{[]string{"--url", "http://127.0.0.1:1", "--rules", rules, "--header", "NoColon"}, `--header "NoColon": want "Name: value"`},
		{[]string{"--url", "http://127.0.0.1:1", "--rules", rules, "--bearer-token-file", token}, "the file is empty"},
		{[]string{"--url", "http://127.0.0.1:1", "--rules", rules, "--tls-cert-file", "c.pem"}, "--tls-cert-file and --tls-key-file go together"},
		{[]string{"--url", "http://127.0.0.1:1", "--rules", rules, "--tls-ca-file", "missing.pem"}, "--tls-ca-file"},
		{[]string{"--url", "http://127.0.0.1:1", "--rules", rules, "--concurrency", "0"}, "--concurrency 0: want 1 or more"},
		{[]string{"--url", "http://127.0.0.1:1", "--rules", "nope.yml"}, "nope.yml"},
		{[]string{"--url", "http://127.0.0.1:1", "--rules", rules, "--from", "-400d", "--step", "1s"}, "over the limit of 1000000"},
	} {
		r := run(t, append([]string{"backtest"}, tc.args...)...)
		require.Equal(t, cli.ExitBadInput, r.code, "%v\n%s", tc.args, r)
		require.Empty(t, r.stdout)
		require.Contains(t, r.stderr, tc.msg, "%v", tc.args)
	}
}

func TestGenOpenMetrics(t *testing.T) {
	t.Parallel()
	r := run(t, "gen", "../testdata/series/classic-v20-failing-then-deleted.scenario.yml", "--format", "openmetrics", "--start", "2026-01-01T00:00:00Z")
	require.Equal(t, cli.ExitOK, r.code, r)
	require.Empty(t, r.stderr)
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	require.Equal(t, "# EOF", lines[len(lines)-1])
	require.Equal(t, `gotk_reconcile_condition{kind="HelmRelease",name="podinfo",namespace="team-a",status="Deleted",type="Ready"} 0 1767225660`, lines[0], "created at 1m, in seconds")

	// Series that disappear: their staleness markers are left out, with a warning.
	out := filepath.Join(t.TempDir(), "flaws.om")
	r = run(t, "gen", "../testdata/series/classic-v20-documented-flaws.scenario.yml", "--format", "openmetrics", "-o", out)
	require.Equal(t, cli.ExitOK, r.code, r)
	require.Contains(t, r.stderr, "staleness markers left out")
	require.FileExists(t, out)

	r = run(t, "gen", "../testdata/series/classic-v20-failing-then-deleted.scenario.yml", "--start", "-1h")
	require.Equal(t, cli.ExitBadInput, r.code, r)
	require.Contains(t, r.stderr, "--start: only with --format openmetrics")
	r = run(t, "gen", "../testdata/series/classic-v20-failing-then-deleted.scenario.yml", "--format", "openmetrics", "--start", "soon")
	require.Equal(t, cli.ExitBadInput, r.code, r)
	require.Contains(t, r.stderr, `--start "soon"`)
}

func TestBacktestPictures(t *testing.T) {
	t.Parallel()
	srv, _ := fakeAPI(t, 0)
	dir := t.TempDir()
	svg, html := filepath.Join(dir, "t.svg"), filepath.Join(dir, "t.html")
	r := run(t, "backtest", "--url", srv.URL, "--rules", writeRules(t), "--from", "1970-01-01T00:00:00Z", "--to", "1970-01-01T00:40:00Z",
		"--svg", svg, "--html", html)
	require.Equal(t, cli.ExitOK, r.code, r)
	b, err := os.ReadFile(svg)
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(strings.TrimSpace(string(b)), "<svg") || strings.HasPrefix(strings.TrimSpace(string(b)), "<?xml"), string(b[:min(len(b), 80)]))
	require.Contains(t, string(b), "Down")
	h, err := os.ReadFile(html)
	require.NoError(t, err)
	require.Contains(t, string(h), "<html")
	require.Contains(t, string(h), "Down")
}
