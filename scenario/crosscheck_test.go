package scenario_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gotk-rules/gotk-rules/evaluator"
	"github.com/gotk-rules/gotk-rules/internal/promtoolbin"
	"github.com/gotk-rules/gotk-rules/rulefile"
	"github.com/gotk-rules/gotk-rules/scenario"
	"github.com/gotk-rules/gotk-rules/unittest"
)

// genPromtool replays a scenario file as `gotk-rules gen --format promtool`
// does and writes the promtool test file into dir. It returns the replay
// and the file's path.
func genPromtool(t *testing.T, eng *evaluator.Engine, file, dir string) (*scenario.Replay, string) {
	t.Helper()
	sc, err := scenario.LoadFile(file, scenario.Limits{})
	require.NoError(t, err)
	var ruleFiles []string
	if len(sc.RuleFiles) > 0 {
		ruleFiles, err = sc.ResolveRuleFiles()
		require.NoError(t, err)
	} else {
		ruleFiles = glob(t, "../rules/*.yml")
	}
	for i, rf := range ruleFiles {
		ruleFiles[i], err = filepath.Abs(rf)
		require.NoError(t, err)
	}
	rep, err := scenario.Run(context.Background(), sc, scenario.RunOptions{Engine: eng, RuleFiles: ruleFiles, Loader: rulefile.NewLoader(eng.Parser(), false), CaptureFiring: true})
	require.NoError(t, err)
	return rep, writePromtool(t, rep, ruleFiles, dir)
}

func writePromtool(t *testing.T, rep *scenario.Replay, ruleFiles []string, dir string) string {
	t.Helper()
	sc := rep.Scenario
	ss := scenario.Notation(sc.Generate(), time.Duration(sc.ScrapeInterval), time.Duration(sc.Duration))
	var b bytes.Buffer
	require.NoError(t, rep.WritePromtool(&b, ruleFiles, ss))
	path := filepath.Join(dir, strings.TrimSuffix(filepath.Base(sc.File), ".scenario.yml")+"_test.yml")
	require.NoError(t, os.WriteFile(path, b.Bytes(), 0o644))
	return path
}

// runPromtoolFile runs a promtool test file through gotk-rules' runner.
func runPromtoolFile(t *testing.T, eng *evaluator.Engine, path string) (*unittest.Result, string) {
	t.Helper()
	runner, err := unittest.NewRunner(unittest.Options{Engine: eng})
	require.NoError(t, err)
	res := runner.Run(path)
	var report bytes.Buffer
	require.NoError(t, unittest.WriteText(&report, res, false))
	return res, report.String()
}

// TestCrossCheckShipped: for every shipped scenario, the series written as
// a promtool test file, with the replay's firing alerts asserted at every
// evaluation, pass the promtool test runner (and promtool itself when
// bin/promtool is there): the replay and promtool see the same timeline.
func TestCrossCheckShipped(t *testing.T) {
	eng := evaluator.NewEngine(evaluator.Options{})
	dir := t.TempDir()
	firingAssertions := 0
	for _, file := range glob(t, "../testdata/series/*.scenario.yml") {
		t.Run(filepath.Base(file), func(t *testing.T) {
			rep, path := genPromtool(t, eng, file, dir)

			// The scenario's own expectations hold on the replay.
			for _, e := range rep.Scenario.Expect {
				ok, msg := rep.Check(e)
				require.True(t, ok, msg)
			}

			res, report := runPromtoolFile(t, eng, path)
			require.Equal(t, unittest.ExitPassed, res.ExitCode(), report)
			require.Len(t, res.Files, 1)
			require.Len(t, res.Files[0].Groups, 1)
			g := res.Files[0].Groups[0]
			// One assertion per evaluation and alert name: the whole timeline.
			require.Len(t, g.Assertions, len(rep.EvalTimes())*len(rep.For))
			for _, a := range g.Assertions {
				require.True(t, a.Checked && a.Passed)
				if len(a.Expected) > 0 {
					firingAssertions++
				}
			}

			// Checked with gotk-rules' runner above; with promtool too when built.
			promtool := promtoolbin.Require(t)
			out, err := exec.Command(promtool, "test", "rules", path).CombinedOutput()
			require.NoError(t, err, "promtool test rules %s:\n%s", path, out)
			require.Contains(t, string(out), "SUCCESS")
		})
	}
	require.Positive(t, firingAssertions, "some shipped scenario fires an alert")
}

// TestCrossCheckDetectsDifference: the cross-check has teeth. A replay
// whose timeline is off by one evaluation fails the promtool file, in
// gotk-rules' runner and in promtool.
func TestCrossCheckDetectsDifference(t *testing.T) {
	eng := evaluator.NewEngine(evaluator.Options{})
	dir := t.TempDir()
	rep, _ := genPromtool(t, eng, "../testdata/series/classic-v20-failing-then-deleted.scenario.yml", dir)
	first := time.Duration(-1)
	for _, at := range rep.EvalTimes() {
		if len(rep.Firing[at]) > 0 {
			first = at
			break
		}
	}
	require.Equal(t, 15*time.Minute, first, "ReconciliationFailure fires 10m after the failure at 5m")
	rep.Firing[first] = nil // claim it started firing one evaluation later
	ruleFiles := glob(t, "../rules/gitopstoolkit.yml")
	ruleFiles[0], _ = filepath.Abs(ruleFiles[0])
	path := writePromtool(t, rep, ruleFiles, dir)

	res, report := runPromtoolFile(t, eng, path)
	require.Equal(t, unittest.ExitFailed, res.ExitCode(), report)
	require.Contains(t, report, `alert ReconciliationFailure at 15m`)

	promtool := promtoolbin.Require(t)
	out, err := exec.Command(promtool, "test", "rules", path).CombinedOutput()
	require.Error(t, err, "%s", out)
	require.Contains(t, string(out), "FAILED")
}
