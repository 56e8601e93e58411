package backtest

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/stretchr/testify/require"

	"github.com/gotk-rules/gotk-rules/evaluator"
	"github.com/gotk-rules/gotk-rules/rulefile"
	"github.com/gotk-rules/gotk-rules/scenario"
	"github.com/gotk-rules/gotk-rules/series"
)

var epoch = time.Unix(0, 0).UTC()

func min_(m int) time.Time { return epoch.Add(time.Duration(m) * time.Minute) }

// testClient is a client with fast retries whose waits are recorded, not slept.
func testClient(t *testing.T, url string, mod func(*ClientOptions)) (*Client, *[]time.Duration) {
	t.Helper()
	opts := ClientOptions{URL: url, Timeout: 10 * time.Second, Backoff: 4 * time.Millisecond, MaxBackoff: time.Second}
	if mod != nil {
		mod(&opts)
	}
	c, err := NewClient(opts)
	require.NoError(t, err)
	var sleeps []time.Duration
	var mu sync.Mutex
	c.sleep = func(ctx context.Context, d time.Duration) error {
		mu.Lock()
		defer mu.Unlock()
		sleeps = append(sleeps, d)
		return ctx.Err()
	}
	return c, &sleeps
}

func run(t *testing.T, c *Client, files []string, from, to time.Time, mod func(*Options)) (*Result, error) {
	t.Helper()
	eng := evaluator.NewEngine(evaluator.Options{})
	opts := Options{Client: c, Engine: eng, RuleFiles: files, From: from, To: to, Step: time.Minute}
	if mod != nil {
		mod(&opts)
	}
	b, err := New(opts)
	require.NoError(t, err)
	defer b.Close()
	return b.Run(context.Background())
}

// localReplay replays series through rules in an evaluator session, as
// `gotk-rules test` does: what the backtest must equal.
func localReplay(t *testing.T, files []string, from, to time.Time, ss ...series.Series) *evaluator.Timeline {
	t.Helper()
	eng := evaluator.NewEngine(evaluator.Options{})
	sess, err := eng.NewSession(evaluator.SessionOptions{EvalInterval: time.Minute})
	require.NoError(t, err)
	defer sess.Close()
	require.Nil(t, sess.LoadRules(files, nil))
	sess.AddSeries(ss...)
	tl, err := sess.Replay(context.Background(), from, to)
	require.NoError(t, err)
	return tl
}

func upSeries(t *testing.T) []series.Series {
	return []series.Series{
		mustSeries(t, `up{instance="a",job="node"}`, "1x9 0x9 1x20"),
		mustSeries(t, `up{instance="b",job="node"}`, "1x40"),
	}
}

func TestMatchesLocalReplay(t *testing.T) {
	ss := upSeries(t)
	f := newFakeServer(t, ss...)
	c, _ := testClient(t, f.URL(), nil)
	files := []string{"testdata/rules.yml"}
	res, err := run(t, c, files, epoch, min_(40), func(o *Options) { o.MaxPoints = 7 })
	require.NoError(t, err)
	want := localReplay(t, files, epoch, min_(40), upSeries(t)...)
	require.Equal(t, want.Alerts, res.Timeline.Alerts)

	// What the state machine made of it: for 2m, keep_firing_for 1m.
	require.Len(t, res.Timeline.Alerts, 2)
	down := res.Timeline.Alerts[1]
	require.Equal(t, "Down", down.Alert)
	require.Equal(t, []evaluator.Interval{
		{State: evaluator.Pending, Start: min_(10), End: min_(12)},
		{State: evaluator.Firing, Start: min_(12), End: min_(21)},
	}, down.Intervals)
	require.Equal(t, "instance a down, value 0", down.Annotations.Get("summary"))
	// Expanded at 19m, the last evaluation with a result: a is 0, b is 1.
	require.Equal(t, "1", down.Annotations.Get("total"), "template queries go to the server too")
	require.Positive(t, res.InstantQueries)
	require.Equal(t, 41, res.Evals)
	require.Equal(t, []string{"Down", "AlsoDown"}, res.Rules)
}

// The shipped scenarios and rules, through the API, equal their embedded
// replay, staleness markers and controller restarts included (what a
// backfilled Prometheus cannot hold: the integration test's scenarios have
// none).
func TestScenariosMatchReplay(t *testing.T) {
	for _, path := range []string{
		"../testdata/series/classic-v20-documented-flaws.scenario.yml",
		"../testdata/series/reconciliation-podmonitor-same-name.scenario.yml",
		"../testdata/series/resource-info-ksm-slow-reconcile.scenario.yml",
	} {
		t.Run(filepath.Base(path), func(t *testing.T) {
			t.Parallel()
			sc, err := scenario.LoadFile(path, scenario.Limits{})
			require.NoError(t, err)
			eng := evaluator.NewEngine(evaluator.Options{})
			files, err := rulefile.Expand([]string{"../rules"})
			require.NoError(t, err)
			rep, err := scenario.Run(context.Background(), sc, scenario.RunOptions{Engine: eng, RuleFiles: files, Loader: rulefile.NewLoader(eng.Parser(), false)})
			require.NoError(t, err)
			require.NotEmpty(t, rep.Timeline.Alerts)

			f := newFakeServer(t, sc.Generate()...)
			c, _ := testClient(t, f.URL(), nil)
			res, err := run(t, c, files, scenario.Epoch, scenario.Epoch.Add(time.Duration(sc.Duration)), func(o *Options) { o.MaxPoints = 13 })
			require.NoError(t, err)
			require.Equal(t, rep.Timeline.Alerts, res.Timeline.Alerts)
		})
	}
}

func TestChunking(t *testing.T) {
	f := newFakeServer(t, upSeries(t)...)
	c, _ := testClient(t, f.URL(), nil)
	res, err := run(t, c, []string{"testdata/rules.yml"}, epoch, min_(99), func(o *Options) { o.MaxPoints, o.CompareAlerts = 30, true })
	require.NoError(t, err)
	require.Equal(t, 100, res.Evals)

	calls := f.rangeCalls()
	byExpr := map[string][]rangeCall{}
	for _, rc := range calls {
		require.LessOrEqual(t, rc.points(), 30, "a query_range asked for more points than --max-points")
		require.Equal(t, time.Minute, rc.step)
		byExpr[rc.query] = append(byExpr[rc.query], rc)
	}
	// Each expression once per chunk (the two alerts share theirs), chunks
	// contiguous and covering every evaluation; ALERTS once per rule and chunk.
	require.ElementsMatch(t, []string{"up == 0", "sum by (job) (up)", `ALERTS{alertname="Down"}`, `ALERTS{alertname="AlsoDown"}`}, keys(byExpr))
	for expr, rcs := range byExpr {
		slices.SortFunc(rcs, func(a, b rangeCall) int { return a.start.Compare(b.start) })
		require.Len(t, rcs, 4, expr)
		next := epoch
		for _, rc := range rcs {
			require.Equal(t, next, rc.start, expr)
			next = rc.end.Add(time.Minute)
		}
		require.Equal(t, min_(100), next, expr)
	}
	require.Equal(t, len(calls), res.RangeQueries)
}

func TestChunkingAtTheServersLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("12,001 evaluations")
	}
	f := newFakeServer(t, mustSeries(t, `up{instance="a"}`, "1x12000"))
	c, _ := testClient(t, f.URL(), nil)
	rules := filepath.Join(t.TempDir(), "one.yml")
	require.NoError(t, os.WriteFile(rules, []byte("groups:\n  - name: one\n    rules:\n      - alert: Down\n        expr: up == 0\n"), 0o644))
	// One shard: the chunking alone (automatic shards are a day each).
	res, err := run(t, c, []string{rules}, epoch, min_(12000), func(o *Options) { o.Shards = 1 })
	require.NoError(t, err)
	require.Equal(t, 12001, res.Evals)
	var sizes []int
	for _, rc := range f.rangeCalls() {
		if rc.query == "up == 0" {
			sizes = append(sizes, rc.points())
		}
	}
	slices.Sort(sizes)
	require.Equal(t, []int{1001, 11000}, sizes, "11,000 points, the most Prometheus answers, then the rest")
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// statusFault answers the first requests with codes, one each; a 429 with
// a Retry-After of retryAfter.
func statusFault(codes []int, retryAfter string) func(http.ResponseWriter, *http.Request) bool {
	i := 0
	return func(w http.ResponseWriter, r *http.Request) bool {
		if i >= len(codes) {
			return false
		}
		if codes[i] == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", retryAfter)
		}
		w.WriteHeader(codes[i])
		i++
		return true
	}
}

func TestRetriesWithBackoff(t *testing.T) {
	f := newFakeServer(t, upSeries(t)...)
	// The fault runs under the server's lock-free handler: one request at a time here.
	f.setFault(statusFault([]int{http.StatusTooManyRequests, http.StatusServiceUnavailable, http.StatusBadGateway}, "5"))
	c, sleeps := testClient(t, f.URL(), func(o *ClientOptions) { o.Concurrency = 1 })
	res, err := run(t, c, []string{"testdata/rules.yml"}, epoch, min_(40), nil)
	require.NoError(t, err)
	require.EqualValues(t, 3, res.Stats.Retries)
	require.Len(t, *sleeps, 3)
	// Retry-After (5s) capped at MaxBackoff (1s); then exponential with jitter: 8ms, 16ms.
	require.Equal(t, time.Second, (*sleeps)[0])
	require.GreaterOrEqual(t, (*sleeps)[1], 4*time.Millisecond)
	require.LessOrEqual(t, (*sleeps)[1], 8*time.Millisecond)
	require.GreaterOrEqual(t, (*sleeps)[2], 8*time.Millisecond)
	require.LessOrEqual(t, (*sleeps)[2], 16*time.Millisecond)
	require.Len(t, res.Timeline.Alerts, 2)
}

func TestRetriesAreBounded(t *testing.T) {
	f := newFakeServer(t, upSeries(t)...)
	f.setFault(func(w http.ResponseWriter, r *http.Request) bool {
		apiError(w, http.StatusServiceUnavailable, "unavailable", "ingesters unhealthy")
		return true
	})
	c, sleeps := testClient(t, f.URL(), func(o *ClientOptions) { o.Retries = 2 })
	_, err := run(t, c, []string{"testdata/rules.yml"}, epoch, min_(40), nil)
	var e *Error
	require.ErrorAs(t, err, &e)
	require.Equal(t, KindServer, e.Kind)
	require.True(t, e.Usable())
	require.Contains(t, err.Error(), "503 Service Unavailable: ingesters unhealthy (tried 3 times)")
	require.Len(t, *sleeps, 2)
	require.EqualValues(t, 3, c.Stats().Requests)
}

func TestNoRetryOnQueryErrors(t *testing.T) {
	f := newFakeServer(t, upSeries(t)...)
	f.setFault(func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path != "/api/v1/query_range" {
			return false
		}
		apiError(w, http.StatusUnprocessableEntity, "execution", "query processing would load too many samples into memory")
		return true
	})
	c, sleeps := testClient(t, f.URL(), nil)
	_, err := run(t, c, []string{"testdata/rules.yml"}, epoch, min_(40), nil)
	var e *Error
	require.ErrorAs(t, err, &e)
	require.Equal(t, KindQuery, e.Kind)
	require.Contains(t, err.Error(), "the server refused the query (execution): query processing would load too many samples into memory")
	require.Empty(t, *sleeps)
}

func TestAuthFailures(t *testing.T) {
	for _, tc := range []struct {
		code     int
		requests int64 // a 403 makes the API client try GET after POST
		msg      string
	}{
		{http.StatusUnauthorized, 1, "401 Unauthorized: the server wants credentials (--bearer-token-file"},
		{http.StatusForbidden, 2, "403 Forbidden: the credentials are refused"},
	} {
		t.Run(http.StatusText(tc.code), func(t *testing.T) {
			f := newFakeServer(t)
			f.setFault(func(w http.ResponseWriter, r *http.Request) bool {
				http.Error(w, "no org id", tc.code)
				return true
			})
			c, sleeps := testClient(t, f.URL(), nil)
			_, err := run(t, c, []string{"testdata/rules.yml"}, epoch, min_(40), nil)
			var e *Error
			require.ErrorAs(t, err, &e)
			require.Equal(t, KindAuth, e.Kind)
			require.False(t, e.Usable())
			require.Contains(t, err.Error(), tc.msg)
			require.Contains(t, err.Error(), "no org id", "the server's reason is shown")
			require.Empty(t, *sleeps)
			require.Equal(t, tc.requests, c.Stats().Requests)
		})
	}
}

func TestWrongURL(t *testing.T) {
	f := newFakeServer(t, upSeries(t)...)
	f.setPrefix("/prometheus")
	c, _ := testClient(t, f.URL(), nil)
	_, err := run(t, c, []string{"testdata/rules.yml"}, epoch, min_(40), nil)
	var e *Error
	require.ErrorAs(t, err, &e)
	require.Equal(t, KindNotFound, e.Kind)
	require.Contains(t, err.Error(), "404 Not Found at /api/v1/query: is --url the base URL of a Prometheus query API?")

	// With the prefix, as Mimir's.
	c, _ = testClient(t, f.URL()+"/prometheus/", nil)
	res, err := run(t, c, []string{"testdata/rules.yml"}, epoch, min_(40), nil)
	require.NoError(t, err)
	require.Len(t, res.Timeline.Alerts, 2)
}

func TestUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	c, sleeps := testClient(t, "http://"+addr, nil)
	_, err = run(t, c, []string{"testdata/rules.yml"}, epoch, min_(40), nil)
	var e *Error
	require.ErrorAs(t, err, &e)
	require.Equal(t, KindUnreachable, e.Kind)
	require.Contains(t, err.Error(), "http://"+addr+": checking the server with query vector(1): cannot reach the server")
	require.Empty(t, *sleeps, "a refused connection is not retried")
}

func TestMalformedResponses(t *testing.T) {
	rangeOnly := func(f func(w http.ResponseWriter, r *http.Request)) func(http.ResponseWriter, *http.Request) bool {
		return func(w http.ResponseWriter, r *http.Request) bool {
			if r.URL.Path != "/api/v1/query_range" {
				return false
			}
			f(w, r)
			return true
		}
	}
	for _, tc := range []struct {
		name  string
		fault func(http.ResponseWriter, *http.Request) bool
		kind  Kind
		msg   string
	}{
		{"html page", func(w http.ResponseWriter, r *http.Request) bool {
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprint(w, "<html><body>Grafana</body></html>")
			return true
		}, KindNotAPI, "checking the server with query vector(1): the response is not a Prometheus API response (is --url the API's base URL?)"},
		{"cut short", rangeOnly(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprint(w, `{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"val`)
		}), KindMalformed, "malformed response (cut short, or not JSON)"},
		{"no data", rangeOnly(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprint(w, `{"status":"success"}`)
		}), KindMalformed, "malformed response"},
		{"a vector", rangeOnly(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprint(w, `{"status":"success","data":{"resultType":"vector","result":[]}}`)
		}), KindMalformed, "want a matrix result, got a vector"},
		{"off the steps", rangeOnly(func(w http.ResponseWriter, r *http.Request) {
			start := parseAPITime(r.Form.Get("start"))
			writeJSON(w, map[string]any{"status": "success", "data": map[string]any{"resultType": "matrix", "result": []map[string]any{
				{"metric": map[string]string{"instance": "a"}, "values": [][2]any{point(start.Add(time.Second).UnixMilli(), 0)}},
			}}})
		}), KindMalformed, "the result has a point at 1970-01-01T00:00:01Z, not one of the steps asked for"},
		{"a series twice", rangeOnly(func(w http.ResponseWriter, r *http.Request) {
			start := parseAPITime(r.Form.Get("start"))
			s := map[string]any{"metric": map[string]string{"instance": "a"}, "values": [][2]any{point(start.UnixMilli(), 0)}}
			writeJSON(w, map[string]any{"status": "success", "data": map[string]any{"resultType": "matrix", "result": []map[string]any{s, s}}})
		}), KindMalformed, `the result has the series {instance="a"} twice`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeServer(t, upSeries(t)...)
			f.setFault(tc.fault)
			c, _ := testClient(t, f.URL(), nil)
			_, err := run(t, c, []string{"testdata/rules.yml"}, epoch, min_(40), nil)
			var e *Error
			require.ErrorAs(t, err, &e)
			require.Equal(t, tc.kind, e.Kind, err.Error())
			require.Contains(t, err.Error(), tc.msg)
		})
	}
}

// A body cut off by the connection is retried, then reported.
func TestBrokenConnection(t *testing.T) {
	broken := 0
	f := newFakeServer(t, upSeries(t)...)
	f.setFault(func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path != "/api/v1/query_range" || broken >= 2 {
			return false
		}
		broken++
		w.Header().Set("Content-Length", "1000")
		fmt.Fprint(w, `{"status":"success","data":`)
		return true
	})
	c, sleeps := testClient(t, f.URL(), func(o *ClientOptions) { o.Concurrency = 1 })
	res, err := run(t, c, []string{"testdata/rules.yml"}, epoch, min_(40), nil)
	require.NoError(t, err)
	require.Len(t, *sleeps, 2)
	require.Len(t, res.Timeline.Alerts, 2)

	f.setFault(func(w http.ResponseWriter, r *http.Request) bool {
		w.Header().Set("Content-Length", "1000")
		fmt.Fprint(w, `{"status":"success","data":`)
		return true
	})
	c, _ = testClient(t, f.URL(), func(o *ClientOptions) { o.Retries = 1 })
	_, err = run(t, c, []string{"testdata/rules.yml"}, epoch, min_(40), nil)
	var e *Error
	require.ErrorAs(t, err, &e)
	require.Equal(t, KindServer, e.Kind)
	require.Contains(t, err.Error(), "the connection broke")
}

func TestTimeouts(t *testing.T) {
	t.Run("client", func(t *testing.T) {
		f := newFakeServer(t, upSeries(t)...)
		f.setDelay(3 * time.Second)
		c, sleeps := testClient(t, f.URL(), func(o *ClientOptions) { o.Timeout = 100 * time.Millisecond })
		_, err := run(t, c, []string{"testdata/rules.yml"}, epoch, min_(40), nil)
		var e *Error
		require.ErrorAs(t, err, &e)
		require.Equal(t, KindTimeout, e.Kind)
		require.Contains(t, err.Error(), "no complete answer within 100ms (raise --timeout")
		require.Empty(t, *sleeps)
	})
	t.Run("server", func(t *testing.T) {
		f := newFakeServer(t, upSeries(t)...)
		f.setFault(func(w http.ResponseWriter, r *http.Request) bool {
			apiError(w, http.StatusServiceUnavailable, "timeout", "query timed out in expression evaluation")
			return true
		})
		c, sleeps := testClient(t, f.URL(), nil)
		_, err := run(t, c, []string{"testdata/rules.yml"}, epoch, min_(40), nil)
		var e *Error
		require.ErrorAs(t, err, &e)
		require.Equal(t, KindTimeout, e.Kind)
		require.Contains(t, err.Error(), "the server timed out the query: 503 Service Unavailable: query timed out in expression evaluation")
		require.Empty(t, *sleeps)
	})
}

func TestHeadersAndBearerToken(t *testing.T) {
	f := newFakeServer(t, upSeries(t)...)
	tokenFile := filepath.Join(t.TempDir(), "token")
	require.NoError(t, os.WriteFile(tokenFile, []byte("s3cret\n"), 0o600))
	tok, err := ReadBearerToken(tokenFile)
	require.NoError(t, err)
	h := http.Header{}
	for _, s := range []string{"X-Scope-OrgID: tenant-1", "x-extra:  a: b "} {
		name, value, err := ParseHeader(s)
		require.NoError(t, err)
		h.Add(name, value)
	}
	c, _ := testClient(t, f.URL(), func(o *ClientOptions) { o.Headers = h; o.BearerToken = tok })
	_, err = run(t, c, []string{"testdata/rules.yml"}, epoch, min_(40), nil)
	require.NoError(t, err)
	reqs, _ := f.seen()
	require.NotEmpty(t, reqs)
	for _, r := range reqs {
		require.Equal(t, "tenant-1", r.Header.Get("X-Scope-OrgID"))
		require.Equal(t, "a: b", r.Header.Get("X-Extra"))
		require.Equal(t, "Bearer s3cret", r.Header.Get("Authorization"))
		require.Equal(t, "false", r.URL.Query().Get("partial_response"), "Thanos must not answer from some stores only")
	}

	_, err = NewClient(ClientOptions{URL: f.URL(), Headers: http.Header{"Authorization": {"Basic x"}}, BearerToken: "t"})
	require.ErrorContains(t, err, "give one")
	for _, bad := range []string{"NoColon", ": value", "Two Words: x"} {
		_, _, err := ParseHeader(bad)
		require.Error(t, err, bad)
	}
	empty := filepath.Join(t.TempDir(), "empty")
	require.NoError(t, os.WriteFile(empty, []byte(" \n"), 0o600))
	_, err = ReadBearerToken(empty)
	require.ErrorContains(t, err, "the file is empty")
}

func TestConcurrencyLimit(t *testing.T) {
	// Twelve alerting rules, twelve expressions fetched at once per chunk.
	var b strings.Builder
	b.WriteString("groups:\n  - name: many\n    rules:\n")
	for i := range 12 {
		fmt.Fprintf(&b, "      - alert: A%d\n        expr: up > %d\n", i, i)
	}
	rules := filepath.Join(t.TempDir(), "many.yml")
	require.NoError(t, os.WriteFile(rules, []byte(b.String()), 0o644))
	for _, limit := range []int{1, 3} {
		t.Run(fmt.Sprint(limit), func(t *testing.T) {
			f := newFakeServer(t, upSeries(t)...)
			f.setDelay(15 * time.Millisecond)
			c, _ := testClient(t, f.URL(), func(o *ClientOptions) { o.Concurrency = limit })
			_, err := run(t, c, []string{rules}, epoch, min_(40), nil)
			require.NoError(t, err)
			_, maxIn := f.seen()
			require.Equal(t, limit, maxIn, "requests in flight at once, as the server saw them")
			require.Equal(t, limit, c.MaxInFlight())
		})
	}
}

func TestCompareWithServerAlerts(t *testing.T) {
	ss := append(upSeries(t),
		// The server's rule went pending at 10m too, but fired one
		// evaluation later (it evaluates at other instants).
		mustSeries(t, `ALERTS{alertname="Down",alertstate="pending",instance="a",job="node",severity="page",cluster="eu"}`, "_x10 1x2 stale"),
		mustSeries(t, `ALERTS{alertname="Down",alertstate="firing",instance="a",job="node",severity="page",cluster="eu"}`, "_x13 1x7 stale"),
		// A label set the backtest never has.
		mustSeries(t, `ALERTS{alertname="Down",alertstate="firing",instance="ghost",job="node",severity="page",cluster="eu"}`, "_x30 1x4 stale"),
	)
	f := newFakeServer(t, ss...)
	c, _ := testClient(t, f.URL(), nil)
	res, err := run(t, c, []string{"testdata/rules.yml"}, epoch, min_(40), func(o *Options) {
		o.CompareAlerts, o.IgnoreLabels, o.MaxPoints = true, []string{"cluster"}, 9
	})
	require.NoError(t, err)
	require.Len(t, res.Server, 2)
	down, also := res.Server[0], res.Server[1]
	require.Equal(t, "AlsoDown", also.Alert)
	require.False(t, also.Found)
	require.Equal(t, "Down", down.Alert)
	require.True(t, down.Found)
	require.Equal(t, 2, down.LabelSets)
	require.Equal(t, 1, down.Ignored, "fired one evaluation later: within the tolerance")
	require.Equal(t, []Difference{{
		Labels: labels.FromStrings("alertname", "Down", "instance", "ghost", "job", "node", "severity", "page"),
		Start:  min_(30), End: min_(35), Local: evaluator.Inactive, Server: evaluator.Firing,
	}}, down.Differences)

	// Without tolerance, the late firing shows; without dropping cluster,
	// no label set matches.
	res, err = run(t, c, []string{"testdata/rules.yml"}, epoch, min_(40), func(o *Options) {
		o.CompareAlerts, o.IgnoreLabels, o.Tolerance = true, []string{"cluster"}, -1
	})
	require.NoError(t, err)
	require.Len(t, res.Server[0].Differences, 2)
	require.Equal(t, Difference{
		Labels: labels.FromStrings("alertname", "Down", "instance", "a", "job", "node", "severity", "page"),
		Start:  min_(12), End: min_(13), Local: evaluator.Firing, Server: evaluator.Pending,
	}, res.Server[0].Differences[0])
	res, err = run(t, c, []string{"testdata/rules.yml"}, epoch, min_(40), func(o *Options) { o.CompareAlerts = true })
	require.NoError(t, err)
	require.Len(t, res.Server[0].Differences, 5, "the backtest's pending and firing, the server's pending, firing and ghost")

	var out bytes.Buffer
	require.NoError(t, res.WriteText(&out))
	require.Contains(t, out.String(), "Down: 5 differences (2 label sets on the server)")
	require.Contains(t, out.String(), "  none for AlsoDown in this range (not loaded there, or never active): nothing to compare\n")
}

func TestPerDay(t *testing.T) {
	day := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	at := func(h, m int) time.Time { return day.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute) }
	l := labels.FromStrings("alertname", "X", "instance", "a")
	l2 := labels.FromStrings("alertname", "X", "instance", "b")
	tl := &evaluator.Timeline{Alerts: []*evaluator.AlertTimeline{
		{Alert: "X", Labels: l, Intervals: []evaluator.Interval{
			{State: evaluator.Pending, Start: at(23, 0), End: at(23, 10)},
			{State: evaluator.Firing, Start: at(23, 10), End: at(25, 0)}, // to 01:00 the next day
		}},
		{Alert: "X", Labels: l2, Intervals: []evaluator.Interval{
			{State: evaluator.Firing, Start: at(47, 30)}, // still firing at the end
		}},
	}}
	got := perDay(tl, at(48, 0))
	require.Equal(t, []DayCount{
		{Day: "2026-03-01", Alert: "X", LabelSets: 1, Pending: 1, Firing: 1, FiringSeconds: 50 * 60},
		{Day: "2026-03-02", Alert: "X", LabelSets: 2, Pending: 0, Firing: 1, FiringSeconds: 90 * 60},
		{Day: "2026-03-03", Alert: "X", LabelSets: 1, FiringSeconds: 0},
	}, got)
}

func TestJSONReport(t *testing.T) {
	f := newFakeServer(t, upSeries(t)...)
	c, _ := testClient(t, f.URL(), nil)
	res, err := run(t, c, []string{"testdata/rules.yml"}, epoch, min_(40), func(o *Options) { o.CompareAlerts = true })
	require.NoError(t, err)
	var buf bytes.Buffer
	require.NoError(t, res.WriteJSON(&buf))
	var got map[string]any
	require.NoError(t, json.Unmarshal(buf.Bytes(), &got))
	alerts := got["alerts"].([]any)
	require.Len(t, alerts, 2)
	require.Equal(t, map[string]any{
		"alert":   "Down",
		"labels":  map[string]any{"alertname": "Down", "instance": "a", "job": "node", "severity": "page"},
		"pending": []any{map[string]any{"start": "1970-01-01T00:10:00Z", "end": "1970-01-01T00:12:00Z"}},
		"firing":  []any{map[string]any{"start": "1970-01-01T00:12:00Z", "end": "1970-01-01T00:21:00Z"}},
	}, alerts[1])
	require.Equal(t, []any{map[string]any{"day": "1970-01-01", "alert": "AlsoDown", "label_sets": 1.0, "pending": 0.0, "firing": 1.0, "firing_seconds": 600.0},
		map[string]any{"day": "1970-01-01", "alert": "Down", "label_sets": 1.0, "pending": 1.0, "firing": 1.0, "firing_seconds": 540.0}}, got["per_day"])
	require.Len(t, got["server_alerts_diff"], 2)
}

func TestParseTime(t *testing.T) {
	now := time.Date(2026, 5, 10, 12, 30, 15, 0, time.UTC)
	for in, want := range map[string]time.Time{
		"now":                       now,
		"-7d":                       now.Add(-7 * 24 * time.Hour),
		"-36h":                      now.Add(-36 * time.Hour),
		"-1h30m":                    now.Add(-90 * time.Minute),
		"now-2w":                    now.Add(-14 * 24 * time.Hour),
		" -5m ":                     now.Add(-5 * time.Minute),
		"2026-01-02T15:04:05Z":      time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC),
		"2026-01-02T15:04:05+02:00": time.Date(2026, 1, 2, 13, 4, 5, 0, time.UTC),
		"2026-01-02T15:04:05.5Z":    time.Date(2026, 1, 2, 15, 4, 5, 5e8, time.UTC),
	} {
		got, err := ParseTime(in, now)
		require.NoError(t, err, in)
		require.True(t, want.Equal(got), "%s: want %s, got %s", in, want, got)
	}
	for _, bad := range []string{"", "yesterday", "-7x", "7d", "+1h", "2026-01-02", "now-", "-"} {
		_, err := ParseTime(bad, now)
		require.Error(t, err, bad)
	}
}

func TestBadOptions(t *testing.T) {
	c, _ := testClient(t, "http://127.0.0.1:1", nil)
	eng := evaluator.NewEngine(evaluator.Options{})
	for _, tc := range []struct {
		opts Options
		msg  string
	}{
		{Options{RuleFiles: []string{"testdata/rules.yml"}, From: min_(10), To: min_(10)}, "is not after --from"},
		{Options{RuleFiles: []string{"testdata/rules.yml"}, From: min_(0), To: min_(10), Step: time.Millisecond}, "--step 1ms: want at least 1s"},
		{Options{RuleFiles: []string{"testdata/rules.yml"}, From: min_(0), To: min_(1000), MaxEvals: 100}, "1001 evaluations, over the limit of 100"},
		{Options{RuleFiles: []string{"testdata/nope.yml"}, From: min_(0), To: min_(10)}, "nope.yml"},
	} {
		tc.opts.Client, tc.opts.Engine = c, eng
		_, err := New(tc.opts)
		var ie *InputError
		require.ErrorAs(t, err, &ie)
		require.ErrorContains(t, err, tc.msg)
	}
	for _, bad := range []string{"localhost:9090", "ftp://x", "http://", "http://x/?a=b"} {
		_, err := NewClient(ClientOptions{URL: bad})
		require.Error(t, err, bad)
	}
}

// --from is aligned down to the step; --to to the last evaluation before it.
func TestAlignment(t *testing.T) {
	f := newFakeServer(t, upSeries(t)...)
	c, _ := testClient(t, f.URL(), nil)
	eng := evaluator.NewEngine(evaluator.Options{})
	b, err := New(Options{Client: c, Engine: eng, RuleFiles: []string{"testdata/rules.yml"}, From: epoch.Add(90 * time.Second), To: epoch.Add(10*time.Minute + 59*time.Second)})
	require.NoError(t, err)
	defer b.Close()
	require.Equal(t, min_(1), b.From())
	require.Equal(t, min_(10), b.To())
}

func TestTLS(t *testing.T) {
	f := startFakeServer(t, true, upSeries(t)...)
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	require.NoError(t, os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: f.srv.Certificate().Raw}), 0o600))

	c, _ := testClient(t, f.URL(), nil)
	_, err := run(t, c, []string{"testdata/rules.yml"}, epoch, min_(40), nil)
	var e *Error
	require.ErrorAs(t, err, &e)
	require.Equal(t, KindTLS, e.Kind)
	require.Contains(t, err.Error(), "TLS: the server's certificate is not trusted (--tls-ca-file, or --tls-insecure-skip-verify)")

	for _, opts := range []TLSOptions{{CAFile: ca}, {InsecureSkipVerify: true}} {
		cfg, err := opts.Config()
		require.NoError(t, err)
		c, _ := testClient(t, f.URL(), func(o *ClientOptions) { o.TLS = cfg })
		res, err := run(t, c, []string{"testdata/rules.yml"}, epoch, min_(40), nil)
		require.NoError(t, err, "%+v", opts)
		require.Len(t, res.Timeline.Alerts, 2)
	}

	notPEM := filepath.Join(dir, "not.pem")
	require.NoError(t, os.WriteFile(notPEM, []byte("hello"), 0o600))
	_, err = TLSOptions{CAFile: notPEM}.Config()
	require.ErrorContains(t, err, "no PEM certificate")
	_, err = TLSOptions{CertFile: ca}.Config()
	require.ErrorContains(t, err, "go together")
}
