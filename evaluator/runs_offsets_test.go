package evaluator_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestRunsOnTwoGrids: two groups share a rule expression at different
// query offsets, so the fast path is asked for it on two grids of steps in
// turn. Its runs of steps give way to bounded range-query chunks; both
// paths give the same timelines.
func TestRunsOnTwoGrids(t *testing.T) {
	rules := `groups:
- name: a
  rules:
  - alert: Down
    expr: max by (job) (up) == 0
    for: 2m
- name: b
  query_offset: 30s
  rules:
  - alert: DownLate
    expr: max by (job) (up) == 0
    keep_firing_for: 1m
`
	input := map[string]string{
		`up{job="a", inst="1"}`: "1x20 0x30 1x20 0x50",
		`up{job="b", inst="1"}`: "0x10 1 0 1 0 1x40 _x10 0x60",
		`up{job="b", inst="2"}`: "1x100 stale 1x30",
	}
	exactTL, exactQ, exactErr := replayAndQuery(t, true, rules, input, 2*time.Hour, []string{`ALERTS`})
	fastTL, fastQ, fastErr := replayAndQuery(t, false, rules, input, 2*time.Hour, []string{`ALERTS`})
	require.NoError(t, exactErr)
	require.NoError(t, fastErr)
	require.NotEmpty(t, intervals(exactTL))
	require.Equal(t, intervals(exactTL), intervals(fastTL))
	require.Equal(t, exactQ, fastQ)
}
