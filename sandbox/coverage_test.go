package sandbox

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gotk-rules/gotk-rules/coverage"
)

// coverageRules has an alert the checks below assert firing, one they
// assert only absent, and a recording rule no check reads.
const coverageRules = `groups:
- name: g
  rules:
  - alert: Down
    expr: up == 0
    for: 1m
  - alert: Quiet
    expr: up == 0
  - record: job:up:sum
    expr: sum by (job) (up)
`

const coverageInput = `tests:
- name: t
  interval: 1m
  input_series:
  - series: 'up{job="a"}'
    values: '0x5'
  alert_rule_test:
  - eval_time: 3m
    alertname: Down
    exp_alerts:
    - exp_labels: {job: a}
  - eval_time: 3m
    alertname: Quiet
    exp_alerts: []
`

func TestEvalCoverage(t *testing.T) {
	t.Parallel()
	byName := func(rs []coverage.Rule) map[string]coverage.Rule {
		out := map[string]coverage.Rule{}
		for _, r := range rs {
			out[r.Name] = r
		}
		return out
	}
	tests := []struct {
		name    string
		req     func(t *testing.T) Request
		covered map[string]bool
		line    map[string]int
	}{
		{
			name: "promtool test file",
			req:  func(*testing.T) Request { return Request{Rules: coverageRules, Input: coverageInput} },
			// Quiet fires, but exp_alerts: [] asserts only its absence
			// (the check fails, and still does not cover it).
			covered: map[string]bool{"Down": true, "Quiet": false, "job:up:sum": false},
			line:    map[string]int{"Down": 4, "Quiet": 7, "job:up:sum": 9},
		},
		{
			name:    "scenario",
			req:     defaultRequest,
			covered: map[string]bool{"ReconciliationFailure": true},
		},
	}
	srv := New(Options{NoLint: true})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := srv.Evaluate(context.Background(), tt.req(t))
			require.True(t, res.OK, "%+v", res.Problems)
			got := byName(res.Coverage)
			require.Len(t, got, len(tt.covered), "%+v", res.Coverage)
			for name, want := range tt.covered {
				r, ok := got[name]
				require.True(t, ok, name)
				require.Equal(t, want, r.Covered, "%s: %+v", name, r)
				require.True(t, r.Evaluated, name)
				require.Equal(t, RulesFile, r.File)
				if l, ok := tt.line[name]; ok {
					require.Equal(t, l, r.Line, name)
				}
			}
		})
	}

	// Without checks, there is no coverage to show.
	res := srv.Evaluate(context.Background(), Request{Rules: coverageRules, Input: "- series: 'up{job=\"a\"}'\n  values: '0x5'\n"})
	require.True(t, res.OK, "%+v", res.Problems)
	require.Empty(t, res.Coverage)
}
