package cli_test

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gotk-rules/gotk-rules/cli"
	"github.com/gotk-rules/gotk-rules/internal/promtoolbin"
)

// warningCases are the unit tests' warning files: promtool passes each.
var warningCases = []string{
	"unmatched_test.yml", "after_input_test.yml", "for_test.yml", "no_input_test.yml",
	"off_grid_test.yml", "duplicate_test.yml", "clean_test.yml", "recorded_input_test.yml",
}

func warningFile(name string) string {
	return filepath.Join("..", "unittest", "testdata", "warnings", name)
}

// writeTestFiles writes files into a new directory and returns it.
func writeTestFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644))
	}
	return dir
}

const strictRules = `groups:
- name: g
  rules:
  - alert: InstanceDown
    expr: up == 0
    for: 5m
`

// TestUnmatchedRuleFilesWarns: a rule_files pattern that matches nothing
// is promtool's warning, in its words, and the file passes (exit 0) as in
// promtool; --strict fails it (exit 1).
func TestUnmatchedRuleFilesWarns(t *testing.T) {
	t.Parallel()
	dir := writeTestFiles(t, map[string]string{
		"rules.yml": strictRules,
		"unmatched_test.yml": `rule_files: [rules.yml, missing/*.yml]
tests:
  - input_series:
      - series: up{job="a"}
        values: 0x10
    alert_rule_test:
      - eval_time: 10m
        alertname: InstanceDown
        exp_alerts:
          - exp_labels: {job: a}
`,
	})
	file := filepath.Join(dir, "unmatched_test.yml")
	r := run(t, "test", file)
	require.Equal(t, cli.ExitOK, r.code, r)
	require.Contains(t, r.stdout, "  WARNING: "+file+":1: no file match pattern "+filepath.Join(dir, "missing/*.yml")+" [rule-files-unmatched]\n", r)
	require.Contains(t, r.stdout, "1 passed, 0 failed, 1 warnings", r)

	r = run(t, "test", "--strict", file)
	require.Equal(t, cli.ExitFailed, r.code, r)
	require.Contains(t, r.stdout, "FAIL", r)
	require.Contains(t, r.stdout, "no file match pattern", r)

	// JSON: the file's warnings, with line, message and check.
	r = run(t, "test", "--format", "json", file)
	require.Equal(t, cli.ExitOK, r.code, r)
	var out struct {
		Files []struct {
			Warnings []struct {
				Line    int    `json:"line"`
				Message string `json:"message"`
				Check   string `json:"check"`
			} `json:"warnings"`
		} `json:"files"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &out), r.stdout)
	require.Len(t, out.Files, 1)
	require.Len(t, out.Files[0].Warnings, 1)
	w := out.Files[0].Warnings[0]
	require.Equal(t, 1, w.Line)
	require.Equal(t, "rule-files-unmatched", w.Check)
	require.Equal(t, "no file match pattern "+filepath.Join(dir, "missing/*.yml"), w.Message)

	// Once bad input (exit 2), now promtool's warning.
	r = run(t, "test", "testdata/bad/no_rule_files_test.yml")
	require.Equal(t, cli.ExitOK, r.code, r)
	require.Contains(t, r.stdout, "  WARNING: testdata/bad/no_rule_files_test.yml:3: no file match pattern testdata/bad/nothing/*.yml [rule-files-unmatched]\n", r)
}

// TestAfterInputWarns: an assertion after the input ended passes, with a
// warning naming its line (text, JSON and JUnit); --strict fails it.
func TestAfterInputWarns(t *testing.T) {
	t.Parallel()
	dir := writeTestFiles(t, map[string]string{
		"rules.yml": strictRules,
		"ended_test.yml": `rule_files: [rules.yml]
tests:
  - name: ended
    input_series:
      - series: up{job="a"}
        values: 0x10
    alert_rule_test:
      - eval_time: 10m
        alertname: InstanceDown
        exp_alerts:
          - exp_labels: {job: a}
      - eval_time: 1h
        alertname: InstanceDown
        exp_alerts: []
`,
	})
	file := filepath.Join(dir, "ended_test.yml")
	junit := filepath.Join(dir, "junit.xml")
	r := run(t, "test", "--junit", junit, file)
	require.Equal(t, cli.ExitOK, r.code, r)
	require.Contains(t, r.stdout, "  PASS   ended", r)
	require.Contains(t, r.stdout, "      WARNING: "+file+":12: alert InstanceDown at 1h expects no alert, but every input series its expression reads has ended", r)
	require.Contains(t, r.stdout, "[eval-after-input]", r)
	x, err := os.ReadFile(junit)
	require.NoError(t, err)
	require.Contains(t, string(x), `<testcase name="ended"><system-out>WARNING: `+file+`:12: alert InstanceDown at 1h`)
	require.NotContains(t, string(x), "<failure>")

	r = run(t, "test", "--strict", "--junit", junit, file)
	require.Equal(t, cli.ExitFailed, r.code, r)
	require.Contains(t, r.stdout, "  FAIL   ended", r)
	x, err = os.ReadFile(junit)
	require.NoError(t, err)
	require.Contains(t, string(x), `<failure>warning (--strict): `+file+`:12: alert InstanceDown at 1h`)
}

// TestWarningsMatchPromtoolExitCode runs promtool on every warning case:
// its exit code is gotk-rules' by default, and --strict exits 1 exactly
// where there are warnings.
func TestWarningsMatchPromtoolExitCode(t *testing.T) {
	promtool := promtoolbin.Require(t)
	for _, name := range warningCases {
		t.Run(name, func(t *testing.T) {
			file := warningFile(name)
			out, err := exec.Command(promtool, "test", "rules", file).CombinedOutput()
			code := 0
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				code = ee.ExitCode()
			} else {
				require.NoError(t, err)
			}
			r := run(t, "test", file)
			require.Equal(t, code, r.code, "promtool:\n%s\ngotk-rules: %s", out, r)
			// promtool's own warnings are ours, in its words.
			for _, l := range strings.Split(string(out), "\n") {
				if w, ok := strings.CutPrefix(l, "  WARNING: "); ok {
					require.Contains(t, r.stdout, w, "promtool warns %q", l)
				}
			}
			strict := run(t, "test", "--strict", file)
			if strings.Contains(r.stdout, "WARNING: ") {
				require.Equal(t, cli.ExitFailed, strict.code, strict)
			} else {
				require.Equal(t, code, strict.code, strict)
			}
		})
	}
}
