package rulediff

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gotk-rules/gotk-rules/budget"
	"github.com/gotk-rules/gotk-rules/evaluator"
	"github.com/gotk-rules/gotk-rules/internal/boundedio"
	"github.com/gotk-rules/gotk-rules/scenario"
)

const ruleFor = `groups:
- name: g
  rules:
  - alert: Down
    expr: up == 0
    for: FOR
    labels:
      severity: page
`

// writeRules writes the rule file with the `for` given.
func writeRules(t *testing.T, dir, name, forDur string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(p, []byte(strings.Replace(ruleFor, "FOR", forDur, 1)), 0o644))
	return p
}

const testFile = `rule_files: [rules.yml]
evaluation_interval: 1m
tests:
- name: down from 10m to 40m
  interval: 1m
  input_series:
  - series: 'up{job="a"}'
    values: '1x9 0x30 1x19'
`

func load(t *testing.T, spec string, opts LoadOptions) *RuleSet {
	t.Helper()
	rs, err := LoadRuleSet(context.Background(), spec, opts)
	require.NoError(t, err)
	return rs
}

func TestTestFileForChangeShiftsFiring(t *testing.T) {
	t.Parallel()
	eng := evaluator.NewEngine(evaluator.Options{})
	dir := t.TempDir()
	old := load(t, writeRules(t, dir, "old.yml", "5m"), LoadOptions{Engine: eng})
	cur := load(t, writeRules(t, dir, "new.yml", "15m"), LoadOptions{Engine: eng})
	inputs, err := TestFileInputs("t_test.yml", []byte(testFile), eng, TestLimits{})
	require.NoError(t, err)
	require.Len(t, inputs, 1)
	require.Equal(t, `t_test.yml, group "down from 10m to 40m"`, inputs[0].Name)

	rep, err := Run(context.Background(), old, cur, inputs, 1)
	require.NoError(t, err)
	require.True(t, rep.Changed())
	d := rep.Inputs[0]
	require.Equal(t, at(60), d.End, "replayed to the end of the longest series")
	require.Len(t, d.Alerts, 1)
	a := d.Alerts[0]
	require.Equal(t, "Down", a.Alert)
	require.Len(t, a.Series, 1)
	// Down from 10m to 40m: firing from 15m with for 5m, from 25m with 15m.
	require.Equal(t, Changed, a.Series[0].Status)
	require.Equal(t, []Span{sp(15, 25)}, a.Series[0].Lost)
	require.Empty(t, a.Series[0].Gained)
	require.Equal(t, 5*time.Minute, a.Old.PendingToFiring)
	require.Equal(t, 15*time.Minute, a.New.PendingToFiring)
	require.Equal(t, 26*time.Minute, a.Old.ToResolve) // down to 40m: resolved at 41m
	require.Equal(t, 16*time.Minute, a.New.ToResolve)

	same, err := Run(context.Background(), old, old, inputs, 1)
	require.NoError(t, err)
	require.False(t, same.Changed())
	var buf bytes.Buffer
	require.NoError(t, same.WriteText(&buf))
	require.True(t, strings.HasPrefix(buf.String(), "no change"), buf.String())
}

func TestTestFileInputsBadInput(t *testing.T) {
	t.Parallel()
	eng := evaluator.NewEngine(evaluator.Options{})
	for _, tc := range []struct {
		name, file, want string
		lim              TestLimits
		budget           budget.Name
	}{
		{name: "bad values", file: "tests:\n- input_series:\n  - series: 'up'\n    values: '1 x'\n", want: "t.yml:4:13: "},
		{name: "unknown field", file: "tests:\n- bogus: 1\n", want: "t.yml:2:"},
		{name: "no groups", file: "rule_files: []\n", want: "t.yml:1:1: no test group"},
		{name: "negative interval", file: "tests:\n- interval: -1m\n  input_series: []\n", want: `t.yml:2:13: not a valid duration string: "-1m"`},
		{name: "too many evaluations", file: "tests:\n- input_series:\n  - series: up\n    values: 1x100\n", lim: TestLimits{MaxEvals: 10}, want: "t.yml:2:3: ", budget: budget.ReplayEvaluations},
		{name: "too many series", file: "tests:\n- input_series:\n  - series: up\n    values: 1\n  - series: down\n    values: 1\n", lim: TestLimits{MaxSeries: 1}, want: "t.yml:3:", budget: budget.InputSeries},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := TestFileInputs("t.yml", []byte(tc.file), eng, tc.lim)
			require.Error(t, err)
			require.True(t, strings.HasPrefix(err.Error(), tc.want), err.Error())
			require.NotContains(t, err.Error(), "\n")
			if tc.budget != "" {
				ee, ok := errors.AsType[*budget.ExceededError](err)
				require.True(t, ok, "a budget error in the chain")
				require.Equal(t, tc.budget, ee.Budget)
			}
		})
	}
}

func TestScenarioFailureStats(t *testing.T) {
	t.Parallel()
	eng := evaluator.NewEngine(evaluator.Options{})
	sc, err := scenario.LoadFile("../testdata/series/classic-v20-failing-then-deleted.scenario.yml", scenario.Limits{})
	require.NoError(t, err)
	dir := t.TempDir()
	b, err := os.ReadFile("../rules/gitopstoolkit.yml")
	require.NoError(t, err)
	longer := filepath.Join(dir, "longer.yml")
	require.NoError(t, os.WriteFile(longer, bytes.Replace(b, []byte("for: 10m"), []byte("for: 20m"), 1), 0o644))
	old := load(t, "../rules/gitopstoolkit.yml", LoadOptions{Engine: eng})
	cur := load(t, longer, LoadOptions{Engine: eng})
	rep, err := Run(context.Background(), old, cur, []Input{ScenarioInput(KindScenario, "s", sc, eng, 0)}, 1)
	require.NoError(t, err)
	require.True(t, rep.Changed())
	a := rep.Inputs[0].Alerts[0]
	require.Equal(t, 1, a.Old.FailuresCaught)
	require.Equal(t, 1, a.New.FailuresCaught)
	require.Equal(t, a.Old.FailureToFiring+10*time.Minute, a.New.FailureToFiring, "the failure is caught 10m later")
	require.Equal(t, a.Old.FailureEndToResolved, a.New.FailureEndToResolved)
	require.Equal(t, []Span{{Start: a.Series[0].Lost[0].Start, End: a.Series[0].Lost[0].Start.Add(10 * time.Minute)}}, a.Series[0].Lost)
}

func TestLoadRuleSetGit(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git")
	}
	dir := t.TempDir()
	git := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false"}, args...)...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, string(out))
	}
	git("init", "-q")
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "rules"), 0o755))
	writeRules(t, filepath.Join(dir, "rules"), "a.yml", "5m")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "rules", "README.md"), []byte("not rules"), 0o644))
	git("add", ".")
	git("commit", "-q", "-m", "one")
	writeRules(t, filepath.Join(dir, "rules"), "a.yml", "15m")

	eng := evaluator.NewEngine(evaluator.Options{})
	opts := LoadOptions{Engine: eng, GitDir: dir}
	for _, spec := range []string{"git:HEAD:rules/", "git:HEAD:rules", "git:HEAD:rules/a.yml"} {
		rs := load(t, spec, opts)
		require.Equal(t, []string{"git:HEAD:rules/a.yml"}, rs.Files, spec)
	}
	old := load(t, "git:HEAD:rules", opts)
	cur := load(t, filepath.Join(dir, "rules"), opts)
	inputs, err := TestFileInputs("t_test.yml", []byte(testFile), eng, TestLimits{})
	require.NoError(t, err)
	rep, err := Run(context.Background(), old, cur, inputs, 1)
	require.NoError(t, err)
	require.Equal(t, []Span{sp(15, 25)}, rep.Inputs[0].Alerts[0].Series[0].Lost)

	for _, tc := range []struct{ spec, want string }{
		{"git:nosuchrev:rules", "git:nosuchrev:rules: git ls-tree: "},
		{"git:HEAD:nothing/", "no rule file"},
		{"git:HEAD:rules/README.md", "git:HEAD:rules/README.md:1:1: "},
	} {
		_, err := LoadRuleSet(context.Background(), tc.spec, opts)
		require.ErrorContains(t, err, tc.want, tc.spec)
		require.NotContains(t, err.Error(), "\n")
	}
	_, err = LoadRuleSet(context.Background(), "git:HEAD:rules", LoadOptions{Engine: eng, GitDir: dir, Input: boundedioLimits(10)})
	require.ErrorContains(t, err, "--max-input-bytes")
}

func boundedioLimits(n int64) boundedio.Limits { return boundedio.Limits{Bytes: n} }
