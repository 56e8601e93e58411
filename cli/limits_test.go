package cli_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gotk-rules/gotk-rules/cli"
)

// writeScenario writes a scenario of one Kustomization failing after an
// hour, lasting duration, evaluated every interval.
func writeScenario(t *testing.T, duration, interval string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "long.scenario.yml")
	require.NoError(t, os.WriteFile(path, []byte(`era: v2.1
duration: `+duration+`
evaluation_interval: `+interval+`
objects:
  - kind: Kustomization
    name: apps
    namespace: team-a
    events:
      - {at: 0s, reconcile: "True"}
      - {at: 1h, reconcile: "False"}
`), 0o600))
	return path
}

// TestReplayEvaluationBudget: replay refuses a scenario of more
// evaluations than --max-evals, at its duration, with how to raise it;
// gen too; a larger --max-evals lets it run.
func TestReplayEvaluationBudget(t *testing.T) {
	path := writeScenario(t, "7d", "1ms")
	for _, cmd := range []string{"replay", "gen"} {
		r := run(t, cmd, path)
		require.Equal(t, cli.ExitBadInput, r.code, r.String())
		require.Equal(t, "gotk-rules: "+path+":2:11: replaying 1w every 1ms takes 604800001 evaluations, over the limit of 1000000 (raise it with --max-evals)\n", r.stderr, cmd)
	}
	path = writeScenario(t, "2h", "1m")
	r := run(t, "replay", "--max-evals", "120", path)
	require.Equal(t, cli.ExitBadInput, r.code, r.String())
	require.Contains(t, r.stderr, "takes 121 evaluations, over the limit of 120 (raise it with --max-evals)")
	r = run(t, "replay", "--max-evals", "121", path)
	require.Equal(t, cli.ExitOK, r.code, r.String())
}

// TestVerifyEvaluationBudget: verify counts the evaluations of all its
// replays against --max-evals.
func TestVerifyEvaluationBudget(t *testing.T) {
	r := run(t, "verify", "--era", "v2.1", "--scrape", "direct", "--runs", "10", "--max-evals", "1000")
	require.Equal(t, cli.ExitBadInput, r.code, r.String())
	require.Equal(t, "gotk-rules: verifying 10 runs of 1 eras and scrape setups takes 1210 evaluations, over the limit of 1000 (raise it with --max-evals)\n", r.stderr)
}

// TestInterruptedReplay: a replay whose context ends (SIGINT, SIGTERM in
// the binary) stops and fails with exit 1, saying it was interrupted by
// the context's end. No timing: go test's -timeout is the hang guard.
func TestInterruptedReplay(t *testing.T) {
	path := writeScenario(t, "30d", "15s")
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	var stdout, stderr bytes.Buffer
	code := cli.MainContext(ctx, []string{"replay", path}, &stdout, &stderr)
	require.Equal(t, cli.ExitFailed, code, stderr.String())
	require.True(t, strings.HasPrefix(stderr.String(), "gotk-rules: interrupted: "), stderr.String())
	require.Contains(t, stderr.String(), "context deadline exceeded")
	require.Empty(t, stdout.String())
}

// TestInterruptedTest: a test run whose context ends stops and fails with
// exit 1, saying it was interrupted by the context's end. The run would
// take seconds (an alert on a recording rule over 200,000 steps: 4 s on
// the 2-core CI machine without -race); its context ends after 100 ms.
func TestInterruptedTest(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "rules.yml"), []byte(`groups:
- name: g
  rules:
  - record: r
    expr: sum(rate(m[1h]))
  - alert: A
    expr: r > 0
    for: 1m
`), 0o600))
	test := filepath.Join(dir, "long_test.yml")
	require.NoError(t, os.WriteFile(test, []byte(`rule_files: [rules.yml]
tests:
- interval: 1m
  input_series:
  - series: m
    values: 0+1x200000
  alert_rule_test:
  - {alertname: A, eval_time: 138d}
`), 0o600))
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	var stdout, stderr bytes.Buffer
	code := cli.MainContext(ctx, []string{"test", test}, &stdout, &stderr)
	require.Equal(t, cli.ExitFailed, code, stderr.String())
	require.Equal(t, "gotk-rules: interrupted: context deadline exceeded\n", stderr.String())
}
