package sandbox

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gotk-rules/gotk-rules/rulefile"
	"github.com/gotk-rules/gotk-rules/scenario"
)

// saysWhy fails unless a verification that is not OK has at least one
// problem, each an error with words.
func saysWhy(t *testing.T, res *VerifyResponse) {
	t.Helper()
	if res.OK {
		return
	}
	require.NotEmpty(t, res.Problems, "a verification that is not OK must say why")
	for _, p := range res.Problems {
		assert.Equal(t, "error", p.Severity, "%+v", p)
		assert.NotEmpty(t, strings.TrimSpace(p.Message), "%+v", p)
	}
}

// TestVerifyCutShortSaysWhy: a verification cut short by its client, its
// time limit or its evaluation budget answers not OK with one problem
// naming what cut it short and, for a limit, the flag that raises it. The
// context has ended before the verification starts, or the budget is too
// small for it: nothing depends on how fast the machine is. Each case is
// asked a few times: a free verification slot and an ended context used
// to be a coin toss between the true reason and "another verification is
// still running", when none was.
func TestVerifyCutShortSaysWhy(t *testing.T) {
	rules := shipped(t, "rules/gitopstoolkit.yml")
	v21Direct := VerifyRequest{Rules: rules, Runs: 10, Eras: []scenario.Era{scenario.EraV21}, Scrapes: []scenario.Scrape{scenario.ScrapeDirect}}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name   string
		limits Limits
		ctx    context.Context
		// busy holds the verification slot, as a verification running.
		busy bool
		req  VerifyRequest
		// want is the problem's message, or (wantAll) words it contains.
		want    string
		wantAll []string
		// tries is how many times to ask (default once).
		tries int
	}{
		{
			name:  "client gone before the start",
			ctx:   cancelled,
			req:   VerifyRequest{Rules: rules},
			want:  "verify was cancelled",
			tries: 8,
		},
		{
			name:   "time limit over before the start",
			limits: Limits{VerifyTimeout: time.Nanosecond},
			ctx:    context.Background(),
			req:    VerifyRequest{Rules: rules},
			want:   "verify took longer than the sandbox's limit of 1ns (gotk-rules serve --verify-timeout, or fewer --verify-runs)",
			tries:  8,
		},
		{
			name:   "time limit over while another verification runs",
			limits: Limits{VerifyTimeout: time.Nanosecond},
			ctx:    context.Background(),
			busy:   true,
			req:    VerifyRequest{Rules: rules},
			want:   "another verification is still running; try again",
		},
		{
			name:   "lives over the evaluation budget",
			limits: Limits{MaxVerifyEvals: 1000},
			ctx:    context.Background(),
			req:    v21Direct,
			want:   "verifying 10 runs of 1 eras and scrape setups takes 1210 evaluations, over the limit of 1000 (gotk-rules serve --max-verify-evals)",
		},
		{
			// The guide's rule is wrong in v2.1: its lives fit the
			// budget, shrinking their counterexample does not.
			name:    "shrinking over the evaluation budget",
			limits:  Limits{MaxVerifyEvals: 1210 + 50},
			ctx:     context.Background(),
			req:     v21Direct,
			wantAll: []string{"shrinking counterexamples included", "over the limit of 1260 (gotk-rules serve --max-verify-evals)"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New(Options{NoLint: true, Limits: tt.limits})
			if tt.busy {
				s.verifying <- struct{}{}
				defer func() { <-s.verifying }()
			}
			for range max(tt.tries, 1) {
				res := s.Verify(tt.ctx, tt.req)
				require.False(t, res.OK)
				saysWhy(t, res)
				require.Len(t, res.Problems, 1, "%+v", res.Problems)
				if tt.want != "" {
					require.Equal(t, tt.want, res.Problems[0].Message)
				}
				for _, w := range tt.wantAll {
					require.Contains(t, res.Problems[0].Message, w)
				}
				if !tt.busy {
					require.Empty(t, s.verifying, "the verification slot is still held")
				}
			}
		})
	}
}

// TestVerifyWaitCounted: an answer given early (here, after waiting for
// the slot until the time limit) says how long it took, the wait
// included, as the others do.
func TestVerifyWaitCounted(t *testing.T) {
	s := New(Options{NoLint: true, Limits: Limits{VerifyTimeout: 50 * time.Millisecond}})
	s.verifying <- struct{}{}
	defer func() { <-s.verifying }()
	res := s.Verify(context.Background(), VerifyRequest{Rules: shipped(t, "rules/gitopstoolkit.yml")})
	require.False(t, res.OK)
	require.GreaterOrEqual(t, res.ElapsedMS, int64(50), "the wait for the slot is part of the answer's time")
}

// TestServerAnswerSaysWhy: the answers the server words itself, for a
// verification past its deadline and stopGrace, a busy sandbox or a bad
// request, read as a VerifyResponse, are not OK and say why, in the same
// words as their error (which the page shows). The work past its deadline
// does not stop until the answer has come: the answer is the server's.
func TestServerAnswerSaysWhy(t *testing.T) {
	limit := time.Millisecond
	tests := []struct {
		name string
		// fill takes every API slot, for a busy sandbox.
		fill     bool
		body     string
		wantCode int
		want     string
	}{
		{
			name:     "past the deadline and its grace",
			body:     `{"rules": ""}`,
			wantCode: http.StatusServiceUnavailable,
			want:     "verify took longer than the sandbox's limit of 1ms (gotk-rules serve --verify-timeout, or fewer --verify-runs)",
		},
		{
			name:     "busy",
			fill:     true,
			body:     `{"rules": ""}`,
			wantCode: http.StatusTooManyRequests,
			want:     "the sandbox is busy: 4 requests are running, its limit (gotk-rules serve --max-concurrent); try again shortly",
		},
		{
			name:     "bad request",
			body:     `{"rules": 1}`,
			wantCode: http.StatusBadRequest,
			want:     "bad request: json: cannot unmarshal number into Go struct field VerifyRequest.rules of type string",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New(Options{NoLint: true})
			if tt.fill {
				for range cap(s.slots) {
					s.slots <- struct{}{}
				}
				defer func() {
					for range cap(s.slots) {
						<-s.slots
					}
				}()
			}
			// Verify's route, with work that outlives its deadline.
			release := make(chan struct{})
			stuck := func(w http.ResponseWriter, r *http.Request) (func(context.Context) any, bool) {
				var req VerifyRequest
				if !decode(w, r, s.limits.MaxBody, &req) {
					return nil, false
				}
				return func(context.Context) any { <-release; return &VerifyResponse{OK: true} }, true
			}
			srv := httptest.NewServer(s.limited(deadline{limit, "verify", "--verify-timeout, or fewer --verify-runs"}, stuck))
			defer srv.Close()
			defer close(release)
			resp, err := http.Post(srv.URL, "application/json", strings.NewReader(tt.body))
			require.NoError(t, err)
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			require.Equal(t, tt.wantCode, resp.StatusCode, "%s", body)

			var res VerifyResponse
			require.NoError(t, json.Unmarshal(body, &res))
			require.False(t, res.OK)
			saysWhy(t, &res)
			require.Equal(t, []Problem{{Severity: "error", Message: tt.want}}, res.Problems)
			// The page reads error, as it did.
			var page struct{ Error string }
			require.NoError(t, json.Unmarshal(body, &page))
			require.Equal(t, tt.want, page.Error)
		})
	}
}

// joinedNone is a joined error of no errors.
type joinedNone struct{}

func (joinedNone) Error() string   { return "" }
func (joinedNone) Unwrap() []error { return nil }

// TestEvalProblemsNeverEmpty: an error, however it is made, is at least
// one problem.
func TestEvalProblemsNeverEmpty(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want []Problem
	}{
		{"plain", io.ErrUnexpectedEOF, []Problem{{Severity: "error", Message: "unexpected EOF"}}},
		{"joined of none", joinedNone{}, []Problem{{Severity: "error", Message: "failed without saying why (please report it)"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, evalProblems(tt.err, &rulefile.File{}))
		})
	}
}
