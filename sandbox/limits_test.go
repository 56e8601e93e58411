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

// hangGuard bounds the waits of these tests: far above what any of them
// takes on a slow machine under -race, it only turns a hang into a failure
// that says what did not happen (no test fails for being slow).
const hangGuard = 2 * time.Minute

// waitFor polls cond until it holds; after hangGuard the test fails with
// what.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(hangGuard); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after %s", what, hangGuard)
		}
	}
}

// settled waits for the goroutines started since opts were taken to end,
// the client's idle connections closed. Work past its deadline stops at
// its next check of its context, which on a slow machine under -race can
// come after goleak's own retries: it waits up to hangGuard.
func settled(t *testing.T, srv *httptest.Server, opts ...goleak.Option) {
	t.Helper()
	srv.Client().CloseIdleConnections()
	http.DefaultClient.CloseIdleConnections() // post's
	for deadline := time.Now().Add(hangGuard); ; {
		err := goleak.Find(opts...) // retries for a while itself
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("goroutines left running after %s: %v", hangGuard, err)
			return
		}
	}
}

// TestDeadlineAnswersInTime: a request past its deadline is answered
// because of the deadline, with the message naming the limit and its flag,
// and its work ends: no goroutine of it is left. The request's work takes
// minutes unbounded; the client gives up after hangGuard, so that a
// deadline that does not stop the work fails here rather than hangs.
func TestDeadlineAnswersInTime(t *testing.T) {
	limit := 300 * time.Millisecond
	srv := newTestServer(t, Options{NoLint: true, Limits: Limits{Timeout: limit}})
	leaks := goleak.IgnoreCurrent()
	ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
	defer cancel()
	code, _, body, err := send(ctx, srv, "/api/eval", hostileRequest())
	if err != nil {
		t.Fatalf("no answer past the deadline of %s: %v", limit, err)
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
// work: the only slot is freed, though the deadline is an hour away and the
// work takes minutes, and the next request runs in it.
func TestClientGoneCancelsWork(t *testing.T) {
	s := New(Options{NoLint: true, Limits: Limits{Timeout: time.Hour, MaxConcurrent: 1}})
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	leaks := goleak.IgnoreCurrent()
	ctx, cancel := context.WithCancel(context.Background())
	answered := make(chan error, 1)
	go func() {
		_, _, _, err := send(ctx, srv, "/api/eval", hostileRequest())
		answered <- err
	}()
	waitFor(t, "the hostile request takes the slot", func() bool { return len(s.slots) == 1 })
	// Not a bound: the client goes away once the work is under way (its
	// request read), or before, which frees the slot too.
	time.Sleep(200 * time.Millisecond)
	cancel()
	if err := <-answered; err == nil {
		t.Fatal("the hostile request was answered before its client went away")
	}
	waitFor(t, "the slot of a request whose client went away is free", func() bool { return len(s.slots) == 0 })
	code, _, body, err := send(context.Background(), srv, "/api/eval", cheapRequest())
	if err != nil {
		t.Fatal(err)
	}
	if code != http.StatusOK {
		t.Fatalf("%d %s: the request after one whose client went away", code, body)
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
// stays answerable (the page's defaults while every slot is taken, and a
// cheap evaluation once a slot is free), and the heap stays under
// floodHeapCeiling.
func TestHostileFlood(t *testing.T) {
	limit := 2 * time.Second
	s := New(Options{NoLint: true, Limits: Limits{Timeout: limit, MaxConcurrent: 4}})
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
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
	// While they run, every slot taken, the page is served: it takes no
	// slot. (The slots are all taken once the first 4 requests have come,
	// and stay so until the deadline, 2 s away.)
	waitFor(t, "the flood takes every slot", func() bool { return len(s.slots) == cap(s.slots) })
	ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/api/defaults", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("defaults during the flood: %d", resp.StatusCode)
	}
	// A cheap evaluation is served once a slot is free, as Retry-After
	// says: the slots free at the deadline.
	deadline := time.Now().Add(hangGuard)
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
