package unittest_test

import (
	"context"
	"testing"
	"testing/fstest"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/gotk-rules/gotk-rules/unittest"
)

// TestRunContextStops: a run whose context ends stops: the group running
// and the groups not started yet fail, saying why (the context's deadline);
// with a context that does not end, the short group passes.
func TestRunContextStops(t *testing.T) {
	rules := `groups:
- name: g
  rules:
  - record: r
    expr: sum(rate(m[1h]))
  - alert: A
    expr: avg_over_time(r[30m]) < 0
`
	tests := `rule_files: [rules.yml]
evaluation_interval: 1m
tests:
- name: long
  interval: 1m
  input_series:
  - series: m{i="1"}
    values: 0+1x50000
  - series: m{i="2"}
    values: 0+2x50000
  alert_rule_test:
  - {eval_time: 34d, alertname: A}
- name: short
  interval: 1m
  input_series:
  - series: m
    values: 0+1x10
  alert_rule_test:
  - {eval_time: 5m, alertname: A}
`
	fsys := fstest.MapFS{"rules.yml": {Data: []byte(rules)}, "t.yml": {Data: []byte(tests)}}
	runner, err := unittest.NewRunner(unittest.Options{FS: fsys, Parallel: 1})
	require.NoError(t, err)

	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	res := runner.RunContext(ctx, "t.yml")
	require.Equal(t, unittest.ExitFailed, res.ExitCode())
	groups := res.Files[0].Groups
	require.Len(t, groups, 2)
	for _, g := range groups {
		require.False(t, g.Passed, g.Name)
		require.Contains(t, g.Errors, "test run stopped: context deadline exceeded", g.Name)
	}

	runner, err = unittest.NewRunner(unittest.Options{FS: fsys, Parallel: 1, Run: []string{"^short$"}})
	require.NoError(t, err)
	res = runner.RunContext(context.Background(), "t.yml")
	require.Equal(t, unittest.ExitPassed, res.ExitCode(), "%+v", res.Files[0].Groups[0].Errors)
}
