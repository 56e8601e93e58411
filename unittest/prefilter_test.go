package unittest

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gotk-rules/gotk-rules/evaluator"
	"github.com/gotk-rules/gotk-rules/scenario"
)

// TestMayBeScenario: the prefilter never says "not a scenario" of a file
// scenario.IsScenario takes for one, however "objects" is spelled.
func TestMayBeScenario(t *testing.T) {
	for _, tc := range []struct {
		name string
		text string
		may  bool
	}{
		{"test file", "rule_files: [r.yml]\ntests:\n  - input_series: []\n", false},
		{"quoted expressions", "tests:\n  - promql_expr_test:\n      - expr: \"up{job=\\\"a\\\"}\"\n", false},
		{"escaped backslash then x", "a: \"\\\\x6f\"\n", false},
		{"scenario", "objects:\n  - kind: Kustomization\n", true},
		{"quoted key", "\"objects\": []\n", true},
		{"hex escape", "\"\\x6fbjects\": []\n", true},
		{"unicode escape", "\"\\u006Fbjects\": []\n", true},
		{"long unicode escape", "\"\\U0000006Fbjects\": []\n", true},
		{"escaped line break", "? \"obj\\\n  ects\"\n: []\n", true},
		{"word in a value", "tests:\n  - name: objects\n", true},
		{"backslash at the end", "a: b\\", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := []byte(tc.text)
			require.Equal(t, tc.may, mayBeScenario(b))
			if scenario.IsScenario(b) {
				require.True(t, mayBeScenario(b), "a scenario must never be filtered out")
			}
		})
	}
	require.True(t, scenario.IsScenario([]byte("\"\\x6fbjects\": []\n")), "the escapes above are scenarios")
	require.True(t, scenario.IsScenario([]byte("? \"obj\\\n  ects\"\n: []\n")))
}

// TestRuleTableShared: groups loading the same rule files read one table,
// built once; other lists get their own, and a list that fails to parse
// gives no table.
func TestRuleTableShared(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yml")
	bad := filepath.Join(dir, "bad.yml")
	require.NoError(t, os.WriteFile(good, []byte("groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up == 0\n        for: 5m\n      - record: r:sum\n        expr: sum(up)\n"), 0o600))
	require.NoError(t, os.WriteFile(bad, []byte("groups:\n  - name: g\n    rules:\n      - record: r\n        expr: sum(\n"), 0o600))
	r, err := NewRunner(Options{Engine: evaluator.NewEngine(evaluator.Options{})})
	require.NoError(t, err)

	a := r.ruleTable([]string{good})
	require.True(t, a.ok)
	require.Len(t, a.alerts["A"], 1)
	require.Len(t, a.records["r:sum"], 1)
	require.Equal(t, "up == 0", a.alerts["A"][0].expr.String())
	b := r.ruleTable([]string{good})
	require.Same(t, a.alerts["A"][0].expr, b.alerts["A"][0].expr, "built once")

	require.False(t, r.ruleTable([]string{good, bad}).ok)
	require.False(t, r.ruleTable([]string{filepath.Join(dir, "missing.yml")}).ok)
}
