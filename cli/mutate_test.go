package cli_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The "done when", end to end: the shortened for survives a test
// that only asserts firing at 15m, and is killed once pending at 9m is
// asserted.
func TestMutateForEndToEnd(t *testing.T) {
	r := run(t, "mutate", "--operators", "for", "../mutate/testdata/for/fires_test.yml")
	require.Equal(t, 0, r.code, r)
	require.Contains(t, r.stdout, "../mutate/testdata/for/rules.yml:6:14: survived: for: `for: 10m` -> `for: 5m` in HighErrorRate: no test checks that the alert is still pending")
	require.Contains(t, r.stdout, "mutation score: 33.3% (1 killed, 2 survived, 0 errors, 0 timeouts; 3 mutants)")

	r = run(t, "mutate", "--operators", "for", "--format", "json", "../mutate/testdata/for/pending_test.yml")
	require.Equal(t, 0, r.code, r)
	var rep struct {
		Mutants []struct {
			File, Rule, Operator, Original, Mutated, Status string
			Line, Column                                    int
			KilledBy                                        []string `json:"killed_by"`
		} `json:"mutants"`
		Score *float64 `json:"score"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &rep), r.stdout)
	require.Len(t, rep.Mutants, 3)
	for _, m := range rep.Mutants {
		require.Equal(t, "killed", m.Status, "%+v", m)
		require.Equal(t, []string{"../mutate/testdata/for/pending_test.yml:pending at 9m, fires at 15m"}, m.KilledBy)
	}
	require.NotNil(t, rep.Score)
	require.InDelta(t, 100, *rep.Score, 1e-9)
}

func TestMutateMinScoreAndFormats(t *testing.T) {
	r := run(t, "mutate", "--operators", "for", "--min-score", "50", "../mutate/testdata/for/fires_test.yml")
	require.Equal(t, 1, r.code, r)
	require.Contains(t, r.stderr, "mutation score 33.3% is below --min-score 50")

	r = run(t, "mutate", "--operators", "for", "--min-score", "30", "--format", "junit", "../mutate/testdata/for/fires_test.yml")
	require.Equal(t, 0, r.code, r)
	require.Contains(t, r.stdout, `<testsuite name="mutants of ../mutate/testdata/for/rules.yml" tests="3" failures="2"`)

	out := filepath.Join(t.TempDir(), "report.json")
	r = run(t, "mutate", "--operators", "for", "--format", "json", "-o", out, "../mutate/testdata/for/fires_test.yml")
	require.Equal(t, 0, r.code, r)
	require.Contains(t, r.stdout, "mutation score: 33.3%")
	b, err := os.ReadFile(out)
	require.NoError(t, err)
	require.True(t, json.Valid(b))

	r = run(t, "mutate", "--budget", "1", "../mutate/testdata/for/fires_test.yml")
	require.Equal(t, 0, r.code, r)
	require.Contains(t, r.stderr, "the mutant budget (--budget 1) was reached; raise it with --budget N")
}

func TestMutateBadInput(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--operators", "nope"}, `--operators: unknown operator "nope"`},
		{[]string{"--format", "xml"}, `--format "xml": want text, json or junit`},
		{[]string{"--parallel", "0"}, "--parallel 0: want at least 1"},
		{[]string{"--min-score", "101"}, "--min-score 101: want a percentage"},
		{[]string{"--budget", "-1"}, "--budget -1"},
		{[]string{"-o", "../mutate/testdata/for/rules.yml"}, "refusing to overwrite an input"},
	} {
		args := append(append([]string{"mutate"}, tc.args...), "../mutate/testdata/for/fires_test.yml")
		r := run(t, args...)
		require.Equal(t, 2, r.code, r)
		require.Contains(t, r.stderr, tc.want)
		require.Equal(t, 1, strings.Count(r.stderr, "\n"), r)
	}
	r := run(t, "mutate", "../mutate/testdata/failing/failing_test.yml")
	require.Equal(t, 2, r.code, r)
	require.Contains(t, r.stderr, "the tests fail without any mutation (../mutate/testdata/failing/failing_test.yml:wrong expectation)")
	require.Equal(t, 1, strings.Count(r.stderr, "\n"), r)
}
