package cli_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gotk-rules/gotk-rules/cli"
)

// warningAPI is fakeAPI's series, with a warning on the query_range
// answers that cover 20m, and a replica label on the series.
func warningAPI(t *testing.T, warning string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		require.NoError(t, r.ParseForm())
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/api/v1/query":
			fmt.Fprint(w, `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[0,"1"]}]}}`)
		case "/api/v1/query_range":
			start, _ := strconv.ParseFloat(r.Form.Get("start"), 64)
			end, _ := strconv.ParseFloat(r.Form.Get("end"), 64)
			step, _ := strconv.ParseFloat(r.Form.Get("step"), 64)
			warn := ""
			if start <= 1200 && end >= 1200 {
				warn = fmt.Sprintf(`,"warnings":[%q]`, warning)
			}
			if strings.HasPrefix(r.Form.Get("query"), "ALERTS") {
				fmt.Fprintf(w, `{"status":"success","data":{"resultType":"matrix","result":[]}%s}`, warn)
				return
			}
			var vals []string
			for ts := start; ts <= end; ts += step {
				if ts >= 600 && ts <= 1800 {
					vals = append(vals, fmt.Sprintf(`[%g,"0"]`, ts))
				}
			}
			fmt.Fprintf(w, `{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"instance":"a","prometheus_replica":"r0"},"values":[%s]}]}%s}`, strings.Join(vals, ","), warn)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestBacktestPartialResponse(t *testing.T) {
	t.Parallel()
	srv := warningAPI(t, "No StoreAPIs matched for this query")
	window := []string{"backtest", "--url", srv.URL, "--rules", writeRules(t), "--from", "1970-01-01T00:00:00Z", "--to", "1970-01-01T00:40:00Z", "--max-points", "10"}
	r := run(t, window...)
	require.Equal(t, cli.ExitFailed, r.code, r)
	require.Empty(t, r.stdout)
	require.Contains(t, r.stderr, "partial response from 1970-01-01T00:20:00Z to 1970-01-01T00:29:00Z")
	require.Contains(t, r.stderr, `"No StoreAPIs matched for this query"`)
	require.Contains(t, r.stderr, "--allow-partial")

	html := filepath.Join(t.TempDir(), "bt.html")
	r = run(t, append(window, "--allow-partial", "--format", "json", "--html", html)...)
	require.Equal(t, cli.ExitOK, r.code, r)
	require.Contains(t, r.stderr, "warning: the server answered 2 queries partially")
	require.Contains(t, r.stderr, "warning: alert Down carries the label prometheus_replica (values r0)")
	var got struct {
		Partial []map[string]string `json:"partial_responses"`
		Fatigue struct {
			Rules []map[string]any `json:"rules"`
		} `json:"fatigue"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &got), r.stdout)
	require.Len(t, got.Partial, 2, "the rule's query and ALERTS")
	for _, p := range got.Partial {
		require.Equal(t, "1970-01-01T00:20:00Z", p["start"])
		require.Equal(t, "1970-01-01T00:29:00Z", p["end"])
	}
	require.Len(t, got.Fatigue.Rules, 1)
	page, err := os.ReadFile(html)
	require.NoError(t, err)
	require.Contains(t, string(page), `<section id="partial">`)
	require.Contains(t, string(page), `<section id="fatigue">`)
	require.Contains(t, string(page), `<section id="replicas">`)

	// PromQL's own annotations are not partial answers.
	info := warningAPI(t, "PromQL info: metric might not be a counter")
	r = run(t, "backtest", "--url", info.URL, "--rules", writeRules(t), "--from", "1970-01-01T00:00:00Z", "--to", "1970-01-01T00:40:00Z")
	require.Equal(t, cli.ExitOK, r.code, r)
	require.Contains(t, r.stdout, "server warning: PromQL info: metric might not be a counter")
	require.Contains(t, r.stdout, "fatigue over 0.03 days")
}

func TestBacktestResume(t *testing.T) {
	t.Parallel()
	srv, requests := fakeAPI(t, 0)
	ckpt := filepath.Join(t.TempDir(), "bt.ckpt")
	args := []string{"backtest", "--url", srv.URL, "--rules", writeRules(t), "--from", "1970-01-01T00:00:00Z", "--to", "1970-01-01T00:40:00Z", "--shards", "4", "--resume", ckpt}
	first := run(t, args...)
	require.Equal(t, cli.ExitOK, first.code, first)
	require.Contains(t, first.stdout, "4 time shards (0 resumed from the checkpoint)")
	require.FileExists(t, ckpt)

	before := requests.Load()
	again := run(t, args...)
	require.Equal(t, cli.ExitOK, again.code, again)
	require.Contains(t, again.stdout, "4 time shards (4 resumed from the checkpoint)")
	// The same report, apart from the counts of this run's requests.
	cut := func(s string) string { return s[strings.Index(s, "\nDown"):] }
	require.Equal(t, cut(first.stdout), cut(again.stdout))
	require.Less(t, requests.Load()-before, int64(10), "only the check and ALERTS are asked again")

	other := run(t, append(args[:len(args):len(args)], "--step", "2m")...)
	require.Equal(t, cli.ExitBadInput, other.code, other)
	require.Contains(t, other.stderr, "the checkpoint is of another backtest")
	require.Equal(t, 1, strings.Count(strings.TrimSpace(other.stderr), "\n")+1, "one line: %s", other.stderr)
}

func TestBacktestNewFlagsBadInput(t *testing.T) {
	t.Parallel()
	rules := writeRules(t)
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"--shards", "-1"}, "--shards -1: want 0 (automatic) or more"},
		{[]string{"--shard-concurrency", "0"}, "--shard-concurrency 0: want 1 or more"},
		{[]string{"--flap-threshold", "0"}, "--flap-threshold 0: want 1 or more"},
		{[]string{"--max-split-depth", "99"}, "--max-split-depth 99: want 0 to 20"},
		{[]string{"--replica-label", ""}, `--replica-label "": not a label name`},
	} {
		r := run(t, append([]string{"backtest", "--url", "http://127.0.0.1:1", "--rules", rules}, tc.args...)...)
		require.Equal(t, cli.ExitBadInput, r.code, "%v\n%s", tc.args, r)
		require.Empty(t, r.stdout)
		require.Contains(t, r.stderr, tc.msg, "%v", tc.args)
		require.Equal(t, 1, strings.Count(strings.TrimSpace(r.stderr), "\n")+1, "one line: %s", r.stderr)
	}
}
