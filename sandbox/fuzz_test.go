package sandbox_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gotk-rules/gotk-rules/sandbox"
)

// fuzzLimits keep one fuzzed request cheap.
var fuzzLimits = sandbox.Limits{
	MaxBody:       32 << 10,
	Timeout:       2 * time.Second,
	MaxSamples:    20_000,
	MaxSeries:     100,
	MaxEvals:      2_000,
	MaxQueries:    20_000,
	VerifyRuns:    1,
	VerifyTimeout: 3 * time.Second,
}

// fuzzPaths are the API endpoints a fuzzed body is sent to.
var fuzzPaths = []string{"/api/eval", "/api/export", "/api/verify"}

// FuzzSandboxRequest sends any body to the sandbox's API through its real
// handler (the seed corpus is in testdata/fuzz/FuzzSandboxRequest). The
// handler must not panic (its recover would answer 500), must answer one of
// the documented status codes with a JSON body (413 for any valid JSON over
// the body limit), and must answer within its deadline plus a margin.
func FuzzSandboxRequest(f *testing.F) {
	for _, s := range sandboxFuzzSeeds {
		f.Add(s.path, []byte(s.body))
	}
	srv := sandbox.New(sandbox.Options{Limits: fuzzLimits, LoopbackOnly: true})
	f.Fuzz(func(t *testing.T, path uint8, body []byte) {
		p := fuzzPaths[int(path)%len(fuzzPaths)]
		req := httptest.NewRequest(http.MethodPost, "http://127.0.0.1:9095"+p, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		start := time.Now()
		srv.ServeHTTP(rec, req)
		took := time.Since(start)

		res := rec.Result()
		out := rec.Body.Bytes()
		require.NotEqual(t, http.StatusInternalServerError, res.StatusCode, "%s: %s", p, out)
		require.NotContains(t, string(out), "internal error", "%s", p)
		require.Contains(t, []int{http.StatusOK, http.StatusBadRequest, http.StatusRequestEntityTooLarge,
			http.StatusTooManyRequests, http.StatusServiceUnavailable}, res.StatusCode, "%s: %s", p, out)
		require.True(t, strings.HasPrefix(res.Header.Get("Content-Type"), "application/json"), "%s: content type %q", p, res.Header.Get("Content-Type"))
		require.True(t, json.Valid(out), "%s: answer is not JSON: %.300s", p, out)
		if int64(len(body)) > fuzzLimits.MaxBody && json.Valid(body) {
			require.Equal(t, http.StatusRequestEntityTooLarge, res.StatusCode, "%s: a %d-byte body", p, len(body))
		}
		limit := fuzzLimits.Timeout
		if p == "/api/verify" {
			limit = fuzzLimits.VerifyTimeout
		}
		require.Less(t, took, limit+5*time.Second, "%s answered in %s, its deadline is %s", p, took, limit)
	})
}

type sandboxSeed struct {
	path uint8
	body string
}

// sandboxFuzzSeeds are well and badly formed requests to each endpoint.
// More are in testdata/fuzz.
var sandboxFuzzSeeds = []sandboxSeed{
	{0, `{"rules":"groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up == 0\n    for: 1m\n","input":"input_series:\n- series: up\n  values: 0x10\n"}`},
	{0, `{"rules":"groups:\n- name: g\n  rules:\n  - alert: A\n    expr: gotk_reconcile_condition\n","input":"scenario: s\nera: v2.0\nduration: 20m\nobjects:\n  - {kind: Kustomization, name: a, namespace: b, events: [{at: 0s, reconcile: \"False\"}]}\n","group":0,"width":600}`},
	{0, `{"rules":"groups:\n- name: g\n  rules:\n  - alert: A\n    expr: count_over_time(up[100y:1ms]) > 0\n","input":"input_series:\n- series: up\n  values: 0x10\n"}`},
	{0, `{"rules":"groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up\n    annotations:\n      s: '{{ reReplaceAll \"(.*)\" \"$1$1\" (reReplaceAll \"(.*)\" \"$1$1\" (reReplaceAll \"(.*)\" \"$1$1\" \"x\")) }}'\n","input":"input_series:\n- series: up\n  values: 0x10\n"}`},
	{0, `{"rules":"","input":"","group":-1,"width":-5}`},
	{0, `{"rules":"","input":"","group":1000000000,"width":1000000000}`},
	{0, `{"rules":1}`},
	{0, `{"rulez":"x"}`},
	{0, `{}{}`},
	{0, `{"rules":`},
	{0, `[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]`},
	{0, "{\"rules\":\"\xff\xfe\x00\"}"},
	{0, ``},
	{1, `{"rules":"groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up == 0\n","input":"input_series:\n- series: up\n  values: 0x10\n"}`},
	{1, `{"rules":"groups: *x\n","input":"%YAML 2.0\n---\n"}`},
	{2, `{"rules":"groups:\n- name: g\n  rules:\n  - alert: A\n    expr: gotk_reconcile_condition == 0\n","runs":1,"seed":3,"eras":["v2.0"],"scrapes":["direct"]}`},
	{2, `{"rules":"groups: []\n","runs":-1,"eras":["v9"],"scrapes":["pigeon"]}`},
	{2, `{"rules":"groups: []\n","runs":1000000000}`},
}

// TestFuzzSandboxSeedsReachHandler keeps the fuzz target meaningful: its
// requests reach the handlers (a valid one is evaluated, a large one is
// refused for its size, a malformed one for its form).
func TestFuzzSandboxSeedsReachHandler(t *testing.T) {
	srv := sandbox.New(sandbox.Options{Limits: fuzzLimits, LoopbackOnly: true, NoLint: true})
	do := func(path, body string) (int, string) {
		req := httptest.NewRequest(http.MethodPost, "http://127.0.0.1:9095"+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		return rec.Code, rec.Body.String()
	}
	code, body := do("/api/eval", sandboxFuzzSeeds[0].body)
	require.Equal(t, http.StatusOK, code, body)
	require.Contains(t, body, `"ok":true`)
	code, body = do("/api/eval", `{"rules":"`+strings.Repeat("x", int(fuzzLimits.MaxBody))+`"}`)
	require.Equal(t, http.StatusRequestEntityTooLarge, code, body)
	code, body = do("/api/export", `{"rules":`)
	require.Equal(t, http.StatusBadRequest, code, body)
}
