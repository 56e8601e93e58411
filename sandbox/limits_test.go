package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/gotk-rules/gotk-rules/scenario"
)

// hostileRequest is an evaluation within every budget but time: 10 series
// of 45,000 samples (450,000 of the 500,000 allowed), replayed 45,000
// times (of 50,000) through rules reading half a day of every series at
// every step (7,200 samples a query, of 10,000). Unbounded, it takes
// minutes (4m54s once, on 2 shared cores).
func hostileRequest() Request {
	var in strings.Builder
	for i := range 10 {
		fmt.Fprintf(&in, "- series: 'm{i=\"%d\"}'\n  values: '0+1x44999'\n", i)
	}
	return Request{
		Rules: `groups:
- name: g
  rules:
  - record: r
    expr: sum by (i) (rate(m[12h]))
  - record: q
    expr: quantile_over_time(0.9, m[12h])
  - alert: A
    expr: avg_over_time(m[12h]) > r
`,
		Input: in.String(),
	}
}

// cheapRequest is an evaluation of a few steps.
func cheapRequest() Request {
	return Request{
		Rules: "groups:\n- name: g\n  rules:\n  - alert: Up\n    expr: up == 1\n",
		Input: "- series: 'up{job=\"a\"}'\n  values: '1x5'\n",
	}
}

// send posts v as JSON with ctx and returns the status, Retry-After and
// body.
func send(ctx context.Context, srv *httptest.Server, path string, v any) (int, string, []byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return 0, "", nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+path, bytes.NewReader(b))
	if err != nil {
		return 0, "", nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := srv.Client().Do(req)
	if err != nil {
		return 0, "", nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Retry-After"), body, err
}

// settled waits for the goroutines started since opts were taken to end,
// the client's idle connections closed.
func settled(t *testing.T, srv *httptest.Server, opts ...goleak.Option) {
	t.Helper()
	srv.Client().CloseIdleConnections()
	http.DefaultClient.CloseIdleConnections() // post's
	if err := goleak.Find(opts...); err != nil {
		t.Errorf("goroutines left running: %v", err)
	}
}

// TestDeadlineAnswersInTime: a request past its deadline is answered by
// the deadline and a small slack, with the message naming the limit and
// its flag, and its work ends: no goroutine of it is left.
func TestDeadlineAnswersInTime(t *testing.T) {
	limit := 300 * time.Millisecond
	srv := newTestServer(t, Options{NoLint: true, Limits: Limits{Timeout: limit}})
	leaks := goleak.IgnoreCurrent()
	start := time.Now()
	code, _, body, err := send(context.Background(), srv, "/api/eval", hostileRequest())
	took := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	if took > limit+stopGrace+500*time.Millisecond+raceSlack {
		t.Errorf("answered after %s, past the deadline of %s and its slack", took, limit)
	}
	// The work's own answer (200, the message among its problems), or
	// the server's when the work has not worded it within stopGrace.
	want := "took longer than the sandbox's limit of 300ms (gotk-rules serve --timeout)"
	if (code != http.StatusOK && code != http.StatusServiceUnavailable) || !strings.Contains(string(body), want) {
		t.Errorf("%d %.300s: want 200 or 503 and %q", code, body, want)
	}
	settled(t, srv, leaks)
}

// TestClientGoneCancelsWork: a client that goes away cancels its request's
// work: the only slot is free again at once, though the deadline is a
// minute away.
func TestClientGoneCancelsWork(t *testing.T) {
	srv := newTestServer(t, Options{NoLint: true, Limits: Limits{Timeout: time.Minute, MaxConcurrent: 1}})
	leaks := goleak.IgnoreCurrent()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if _, _, _, err := send(ctx, srv, "/api/eval", hostileRequest()); err == nil {
		t.Fatal("the hostile request was answered within 200ms")
	}
	gone := time.Now()
	for {
		code, _, body, err := send(context.Background(), srv, "/api/eval", cheapRequest())
		if err != nil {
			t.Fatal(err)
		}
		if code == http.StatusOK {
			break
		}
		if code != http.StatusTooManyRequests || time.Since(gone) > 2*time.Second+raceSlack {
			t.Fatalf("%d %s: the slot of a request whose client went away is not free %s after", code, body, time.Since(gone))
		}
		time.Sleep(20 * time.Millisecond)
	}
	settled(t, srv, leaks)
}

// TestVerifyAfterTimedOutVerify: a verification past its deadline stops
// and frees the verification slot as it answers: the next one is accepted
// and runs. Nothing here depends on how fast the machine is: the first
// answer must be Verify's own (a server answering for work that did not
// stop would send no problems), the slot must be free once it has come,
// and the next verification runs on the same slot under a deadline it
// cannot miss (a copy of the server with a longer VerifyTimeout, sharing
// the slot; through the first server, 2 lives under -race on a loaded
// machine could take longer than the first's short deadline).
func TestVerifyAfterTimedOutVerify(t *testing.T) {
	// Far below what 10,000 lives take on any machine (a replay of a life
	// takes tens of microseconds at the very least), well above loading
	// the rules on a slow one.
	limit := time.Second
	s := New(Options{NoLint: true, Limits: Limits{VerifyTimeout: limit, VerifyRuns: 2_000, MaxVerifyEvals: 1 << 50}})
	next := *s
	next.limits.VerifyTimeout = 10 * time.Minute
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	rules := shipped(t, "rules/gitopstoolkit.yml")
	leaks := goleak.IgnoreCurrent()
	var res VerifyResponse
	// 10,000 lives in 8 eras and scrape setups: a minute or more.
	post(t, srv, "/api/verify", VerifyRequest{Rules: rules, Runs: 10_000}, &res)
	want := "verify took longer than the sandbox's limit of " + limit.String() + " (gotk-rules serve --verify-timeout, or fewer --verify-runs)"
	if res.OK || len(res.Problems) != 1 || res.Problems[0].Message != want {
		t.Fatalf("ok %v problems %+v: want %q", res.OK, res.Problems, want)
	}
	if n := len(s.verifying); n != 0 {
		t.Fatalf("the timed-out verification has answered and still holds the verification slot (%d)", n)
	}
	got := next.Verify(context.Background(), VerifyRequest{Rules: rules, Runs: 2, Eras: []scenario.Era{scenario.EraV21}, Scrapes: []scenario.Scrape{scenario.ScrapeDirect}})
	if !got.OK || len(got.Results) != 1 {
		t.Fatalf("the verification after a timed-out one: ok %v problems %+v", got.OK, got.Problems)
	}
	settled(t, srv, leaks)
}

// floodHeapCeiling is the most Go heap in use (HeapInuse, the test's and
// the server's) while 50 hostile requests hit a sandbox of 4 slots. Each
// request in a slot may hold its input (450,000 samples), the rule
// results of its replay so far and the samples of its queries: one
// hostile request run to its end took 95 MiB; 4 cut at a 2s deadline
// peaked at 102 MiB. The ceiling leaves room for the collector's lag.
const floodHeapCeiling = 256 << 20

// TestHostileFlood: 50 hostile requests at once. At most MaxConcurrent run;
// the others are refused at once with 429 and Retry-After; the server
// stays answerable (the page's defaults, and a cheap evaluation once a
// slot is free), and the heap stays under floodHeapCeiling.
func TestHostileFlood(t *testing.T) {
	limit := 2 * time.Second
	srv := newTestServer(t, Options{NoLint: true, Limits: Limits{Timeout: limit, MaxConcurrent: 4}})
	leaks := goleak.IgnoreCurrent()

	var peak atomic.Uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		var ms runtime.MemStats
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()

	const n = 50
	var wg sync.WaitGroup
	var ok, refused, other atomic.Int64
	for range n {
		wg.Go(func() {
			code, retry, body, err := send(context.Background(), srv, "/api/eval", hostileRequest())
			switch {
			case err != nil:
				other.Add(1)
				t.Error(err)
			case code == http.StatusTooManyRequests:
				refused.Add(1)
				if retry != "1" || !strings.Contains(string(body), "--max-concurrent") {
					t.Errorf("429 with Retry-After %q and %s", retry, body)
				}
			case code == http.StatusOK,
				// The server's answer at the deadline, when the work
				// has not worded its own (slowed by the race detector).
				code == http.StatusServiceUnavailable && strings.Contains(string(body), "(gotk-rules serve --timeout)"):
				ok.Add(1)
			default:
				other.Add(1)
				t.Errorf("%d %.200s", code, body)
			}
		})
	}
	// While they run, the page is served at once.
	time.Sleep(100 * time.Millisecond)
	start := time.Now()
	resp, err := srv.Client().Get(srv.URL + "/api/defaults")
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK || time.Since(start) > time.Second+raceSlack {
		t.Errorf("defaults during the flood: %d after %s", resp.StatusCode, time.Since(start))
	}
	// A cheap evaluation is served once a slot is free, as Retry-After says.
	deadline := time.Now().Add(limit + stopGrace + 3*time.Second + raceSlack)
	for {
		code, _, body, err := send(context.Background(), srv, "/api/eval", cheapRequest())
		if err != nil {
			t.Fatal(err)
		}
		if code == http.StatusOK {
			var res Response
			if err := json.Unmarshal(body, &res); err != nil || !res.OK {
				t.Errorf("cheap evaluation: %v %.300s", err, body)
			}
			break
		}
		if code != http.StatusTooManyRequests || time.Now().After(deadline) {
			t.Fatalf("cheap evaluation during the flood: %d %.200s", code, body)
		}
		time.Sleep(100 * time.Millisecond)
	}
	wg.Wait()
	close(stop)
	<-sampled

	t.Logf("%d answered, %d refused, heap in use at most %d MiB", ok.Load(), refused.Load(), peak.Load()>>20)
	if ok.Load() > 8 || refused.Load() < n-8 || other.Load() > 0 {
		t.Errorf("%d answered, %d refused, %d otherwise: want at most 4 running at once, the rest refused", ok.Load(), refused.Load(), other.Load())
	}
	if p := peak.Load(); p > floodHeapCeiling {
		t.Errorf("heap in use reached %d MiB, over the ceiling of %d MiB", p>>20, floodHeapCeiling>>20)
	}
	settled(t, srv, leaks)
}
