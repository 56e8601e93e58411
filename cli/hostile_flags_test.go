package cli_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// writeHostileScenario writes a small scenario and its rules in a new
// directory, and returns the scenario's and the rules' paths.
func writeHostileScenario(t *testing.T) (sc, rules string) {
	t.Helper()
	dir := t.TempDir()
	rules = filepath.Join(dir, "rules.yml")
	require.NoError(t, os.WriteFile(rules, []byte("groups:\n- name: g\n  rules:\n  - alert: A\n    expr: \"up == 0\"\n"), 0o644))
	sc = filepath.Join(dir, "s.scenario.yml")
	require.NoError(t, os.WriteFile(sc, []byte(`scenario: hostile
era: v2.0
scrape: direct
duration: 20m
rule_files: [rules.yml]
objects:
  - kind: Kustomization
    name: apps
    namespace: team-a
    events:
      - {at: 0s, reconcile: "True"}
`), 0o644))
	return sc, rules
}

// TestHostileOutputPlace refuses, before anything is written, an output
// flag naming a directory or a file in a directory that does not exist,
// and leaves no temporary file behind.
func TestHostileOutputPlace(t *testing.T) {
	sc, _ := writeHostileScenario(t)
	dir := filepath.Dir(sc)
	sub := filepath.Join(dir, "sub")
	require.NoError(t, os.Mkdir(sub, 0o755))
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"gen -o a directory", []string{"gen", sc, "-o", sub}, "-o/--output " + sub + ": is a directory"},
		{"gen -o in a missing directory", []string{"gen", sc, "-o", filepath.Join(dir, "nodir", "out.yml")}, "parent directory does not exist"},
		{"gen -o under a file", []string{"gen", sc, "-o", filepath.Join(sc, "out.yml")}, "is not a directory"},
		{"replay --svg a directory", []string{"replay", sc, "--svg", sub}, "--svg " + sub + ": is a directory"},
		{"test --junit in a missing directory", []string{"test", "testdata/pass_test.yml", "--junit", filepath.Join(dir, "nodir", "j.xml")}, "--junit"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := run(t, tc.args...)
			badLine(t, r, tc.want)
			require.NotContains(t, r.stderr, ".gotk-rules-", r)
			entries, err := os.ReadDir(dir)
			require.NoError(t, err)
			for _, e := range entries {
				require.False(t, strings.HasPrefix(e.Name(), ".gotk-rules-"), "temporary file left: %s", e.Name())
			}
		})
	}
}

// TestHostileVerifyCounterexamples refuses a --counterexamples that is a
// file or an input, before the runs, naming the flag.
func TestHostileVerifyCounterexamples(t *testing.T) {
	rdir := t.TempDir()
	rules := filepath.Join(rdir, "rules.yml")
	require.NoError(t, os.WriteFile(rules, []byte("groups:\n- name: g\n  rules:\n  - alert: A\n    expr: \"up == 0\"\n"), 0o644))
	file := filepath.Join(t.TempDir(), "notes.txt")
	require.NoError(t, os.WriteFile(file, []byte("x"), 0o644))
	for _, tc := range []struct {
		name, rules, dir, want string
	}{
		{"the rule file", rules, rules, "--counterexamples " + rules + ": the same as the input"},
		{"the rules' directory", rdir, rdir, "--counterexamples " + rdir + ": the same as the input"},
		{"a file", rules, file, "--counterexamples " + file + ": not a directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			badLine(t, run(t, "verify", "--runs", "1", "--era", "v2.0", "--scrape", "direct", "--rules", tc.rules, "--counterexamples", tc.dir), tc.want)
		})
	}
}

// TestHostileServeFlags names the very flag that is not positive.
func TestHostileServeFlags(t *testing.T) {
	for _, fl := range []string{"--max-body", "--max-samples", "--max-series", "--max-evals", "--max-queries", "--verify-runs", "--max-verify-evals", "--max-concurrent"} {
		t.Run(fl, func(t *testing.T) {
			badLine(t, run(t, "serve", "--addr", "127.0.0.1:0", fl, "0"), fl+" 0: must be positive")
		})
	}
	badLine(t, run(t, "serve", "--addr", "127.0.0.1:0", "--timeout", "-1s"), "--timeout -1s: must be positive")
}

// TestHostileReplayObjects refuses, before parsing it, a scenario whose
// objects alone are over --max-series, in one line naming the flag; one
// within the budget is loaded.
func TestHostileReplayObjects(t *testing.T) {
	sc, _ := writeHostileScenario(t)
	var b strings.Builder
	b.WriteString("scenario: many\nera: v2.0\nscrape: direct\nduration: 10m\nrule_files: [rules.yml]\nobjects:\n")
	for i := range 20 {
		fmt.Fprintf(&b, "  - {kind: Kustomization, name: o%d, namespace: n, events: [{at: 0s, reconcile: \"False\"}]}\n", i)
	}
	many := filepath.Join(filepath.Dir(sc), "many.scenario.yml")
	require.NoError(t, os.WriteFile(many, []byte(b.String()), 0o644))
	r := run(t, "replay", many, "--max-series", "100")
	badLine(t, r, many+":6:1: the scenario has 20 objects, at least 120 series, over the limit of 100 (raise it with --max-series)")
	// 20 objects × 12 series (one event each): over 200 once loaded,
	// though the pre-check's lower bound (120) lets it through.
	badLine(t, run(t, "replay", many, "--max-series", "200"), "the scenario asks for 240 series")
	r = run(t, "replay", many, "--max-series", "240")
	require.NotEqual(t, 2, r.code, r)
}
