package cli_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gotk-rules/gotk-rules/cli"
)

// diffGolden compares got with testdata/diff/NAME, or rewrites it with
// -update.
func diffGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "diff", name)
	if *update {
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test -update to create it")
	require.Equal(t, string(want), got, "%s differs; run go test -update to accept the change", path)
}

// The example: the Flux monitoring guide's rule against the
// reconciliation rule, on the shipped scenarios.
func TestDiffShippedScenarios(t *testing.T) {
	t.Parallel()
	for _, format := range []string{"text", "markdown"} {
		r := run(t, "diff", "--format", format, "../rules/gitopstoolkit.yml", "../rules/flux-reconciliation.yml")
		require.Equal(t, cli.ExitFailed, r.code, r)
		require.Empty(t, r.stderr)
		diffGolden(t, "shipped."+map[string]string{"text": "txt", "markdown": "md"}[format], r.stdout)
	}
	r := run(t, "diff", "--format", "json", "../rules/gitopstoolkit.yml", "../rules/flux-reconciliation.yml")
	require.Equal(t, cli.ExitFailed, r.code, r)
	var rep struct {
		Changed bool `json:"changed"`
		Summary struct {
			Inputs, InputsChanged int
		} `json:"summary"`
		Inputs []struct {
			Kind   string `json:"kind"`
			Name   string `json:"name"`
			Alerts []struct {
				Alert  string `json:"alert"`
				Series []struct {
					Status string `json:"status"`
					Gained []struct {
						StartOffset string `json:"start_offset"`
						EndOffset   string `json:"end_offset"`
					} `json:"gained"`
					Lost []struct{} `json:"lost"`
				} `json:"series"`
			} `json:"alerts"`
		} `json:"inputs"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &rep))
	require.True(t, rep.Changed)
	require.Len(t, rep.Inputs, 8, "every shipped scenario")
	var names []string
	for _, in := range rep.Inputs {
		require.Equal(t, "scenario", in.Kind)
		for _, a := range in.Alerts {
			names = append(names, a.Alert)
			for _, s := range a.Series {
				require.NotEmpty(t, len(s.Gained)+len(s.Lost), "a changed label set gains or loses firing")
			}
		}
	}
	require.Contains(t, names, "ReconciliationFailure")
	require.Contains(t, names, "FluxReconciliationFailure")
}

func TestDiffNoChange(t *testing.T) {
	t.Parallel()
	r := run(t, "diff", "../rules/gitopstoolkit.yml", "../rules/gitopstoolkit.yml")
	require.Equal(t, cli.ExitOK, r.code, r)
	require.Equal(t, "no change: ../rules/gitopstoolkit.yml and ../rules/gitopstoolkit.yml fire alike on 8 inputs\n", r.stdout)
	r = run(t, "diff", "--format", "markdown", "--tests", "testdata/diff/down_test.yml", "testdata/diff/for5m.yml", "testdata/diff/for5m.yml")
	require.Equal(t, cli.ExitOK, r.code, r)
	require.Contains(t, r.stdout, "No change")
	r = run(t, "diff", "--format", "json", "--tests", "testdata/diff/down_test.yml", "testdata/diff/for5m.yml", "testdata/diff/for5m.yml")
	require.Equal(t, cli.ExitOK, r.code, r)
	require.Contains(t, r.stdout, `"changed": false`)
}

func TestDiffForChangeOnTestFile(t *testing.T) {
	t.Parallel()
	r := run(t, "diff", "--tests", "testdata/diff/down_test.yml", "testdata/diff/for5m.yml", "testdata/diff/for15m.yml")
	require.Equal(t, cli.ExitFailed, r.code, r)
	diffGolden(t, "for.txt", r.stdout)
	require.Contains(t, r.stdout, "lost firing   15m–25m")
	require.Contains(t, r.stdout, "pending to firing 5m -> 15m")
}

func TestDiffGit(t *testing.T) {
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
	rules := filepath.Join(dir, "rules")
	require.NoError(t, os.MkdirAll(rules, 0o755))
	for5, err := os.ReadFile("testdata/diff/for5m.yml")
	require.NoError(t, err)
	for15, err := os.ReadFile("testdata/diff/for15m.yml")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(rules, "down.yml"), for5, 0o644))
	git("init", "-q")
	git("add", ".")
	git("commit", "-q", "-m", "for 5m")
	require.NoError(t, os.WriteFile(filepath.Join(rules, "down.yml"), for15, 0o644))

	r := run(t, "diff", "--repo", dir, "--tests", "testdata/diff/down_test.yml", "git:HEAD:rules", rules)
	require.Equal(t, cli.ExitFailed, r.code, r)
	require.Contains(t, r.stdout, "git:HEAD:rules -> "+rules+": behaviour changed on 1 of 1 input")
	require.Contains(t, r.stdout, "lost firing   15m–25m")

	git("commit", "-q", "-am", "for 15m")
	r = run(t, "diff", "--repo", dir, "--tests", "testdata/diff/down_test.yml", "git:HEAD~1:rules/down.yml", "git:HEAD:rules/")
	require.Equal(t, cli.ExitFailed, r.code, r)
	require.Contains(t, r.stdout, "lost firing   15m–25m")
	r = run(t, "diff", "--repo", dir, "--tests", "testdata/diff/down_test.yml", "git:HEAD:rules/", rules)
	require.Equal(t, cli.ExitOK, r.code, r)

	r = run(t, "diff", "--repo", dir, "git:nosuch:rules", rules)
	require.Equal(t, cli.ExitBadInput, r.code, r)
	require.Regexp(t, `^gotk-rules: git:nosuch:rules: git ls-tree: .+\n$`, r.stderr)
}

func TestDiffRandomVerdicts(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	b, err := os.ReadFile("../rules/gitopstoolkit.yml")
	require.NoError(t, err)
	longer := filepath.Join(dir, "longer.yml")
	require.NoError(t, os.WriteFile(longer, []byte(strings.Replace(string(b), "for: 10m", "for: 40m", 1)), 0o644))
	r := run(t, "diff", "--format", "json", "--random", "2", "--seed", "3", "--random-duration", "1h", "../rules/gitopstoolkit.yml", longer)
	require.Equal(t, cli.ExitFailed, r.code, r)
	var rep struct {
		Inputs []struct {
			Kind    string `json:"kind"`
			Name    string `json:"name"`
			Changed bool   `json:"changed"`
		} `json:"inputs"`
		Verdicts []struct {
			Alert, Era, Scrape string
			Changed            bool
			Old, New           *struct {
				Verdict        string `json:"verdict"`
				FalseNegatives int    `json:"false_negatives"`
			}
		} `json:"verdicts"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &rep))
	require.Len(t, rep.Inputs, 2*4*2, "2 lives in 4 eras and 2 scrape setups")
	require.Equal(t, "random", rep.Inputs[0].Kind)
	require.Equal(t, "seed 3 run 0, era v2.0, scrape direct", rep.Inputs[0].Name)
	require.Len(t, rep.Verdicts, 8, "one alert, 4 eras, 2 scrape setups")
	changed := 0
	for _, v := range rep.Verdicts {
		require.Equal(t, "ReconciliationFailure", v.Alert)
		require.NotNil(t, v.Old)
		require.NotNil(t, v.New)
		if v.Changed {
			changed++
		}
	}
	require.Positive(t, changed, "for: 40m changes some verdict on these lives")
	// Same seed, same lives: the same rules give no change.
	r = run(t, "diff", "--random", "2", "--seed", "3", "--random-duration", "1h", "../rules/gitopstoolkit.yml", "../rules/gitopstoolkit.yml")
	require.Equal(t, cli.ExitOK, r.code, r)
}

func TestDiffBadInput(t *testing.T) {
	t.Parallel()
	positioned := regexp.MustCompile(`^gotk-rules: [^:\n]+:\d+:\d+: [^\n]+\n$`)
	oneLine := regexp.MustCompile(`^gotk-rules: [^\n]+\n$`)
	empty := t.TempDir()
	for _, tc := range []struct {
		name string
		args []string
		re   *regexp.Regexp
		want string
	}{
		{"bad rule file", []string{"testdata/diff/bad-rules.yml", "../rules/"}, positioned, "testdata/diff/bad-rules.yml:5:11: "},
		{"bad new rule file", []string{"../rules/", "testdata/diff/bad-rules.yml"}, positioned, "bad-rules.yml:5:11"},
		{"missing rule file", []string{"nosuch.yml", "../rules/"}, oneLine, "nosuch.yml"},
		{"empty directory", []string{empty, "../rules/"}, oneLine, "no rule file"},
		{"bad test file", []string{"--tests", "testdata/diff/bad-rules.yml", "../rules/", "../rules/"}, positioned, "bad-rules.yml:1:1: "},
		{"bad format", []string{"--format", "html", "../rules/", "../rules/"}, oneLine, `--format "html"`},
		{"bad random", []string{"--random", "-1", "../rules/", "../rules/"}, oneLine, "--random -1"},
		{"too many random lives", []string{"--random", "100000", "../rules/", "../rules/"}, oneLine, "lower --random"},
		{"bad git spec", []string{"git:HEAD", "../rules/"}, oneLine, "want git:REV:path"},
		{"dash revision", []string{"git:--output=x:rules", "../rules/"}, oneLine, "starts with a dash"},
		{"one argument", []string{"../rules/"}, oneLine, "accepts 2 arg(s)"},
		{"budget", []string{"--max-evals", "3", "--tests", "testdata/diff/down_test.yml", "../rules/", "../rules/"}, positioned, "--max-evals"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := run(t, append([]string{"diff"}, tc.args...)...)
			require.Equal(t, cli.ExitBadInput, r.code, r)
			require.Empty(t, r.stdout)
			require.Regexp(t, tc.re, r.stderr)
			require.Contains(t, r.stderr, tc.want)
		})
	}
}

func TestDiffURL(t *testing.T) {
	t.Parallel()
	srv, _ := fakeAPI(t, 0)
	// {instance="a"} is down from 10m to 30m on the server.
	r := run(t, "diff", "--url", srv.URL, "--from", "1970-01-01T00:00:00Z", "--to", "1970-01-01T00:40:00Z", "testdata/diff/for5m.yml", "testdata/diff/for15m.yml")
	require.Equal(t, cli.ExitFailed, r.code, r)
	require.Contains(t, r.stdout, "url "+srv.URL+" (1970-01-01T00:00:00Z to 1970-01-01T00:40:00Z every 1m)")
	require.Contains(t, r.stdout, "lost firing   1970-01-01T00:15:00Z–1970-01-01T00:25:00Z")

	r = run(t, "diff", "--url", srv.URL, "--from", "1970-01-01T00:00:00Z", "--to", "1970-01-01T00:40:00Z", "testdata/diff/for5m.yml", "testdata/diff/for5m.yml")
	require.Equal(t, cli.ExitOK, r.code, r)

	failing, _ := fakeAPI(t, 500)
	r = run(t, "diff", "--url", failing.URL, "--retries", "0", "--from", "1970-01-01T00:00:00Z", "--to", "1970-01-01T00:40:00Z", "testdata/diff/for5m.yml", "testdata/diff/for15m.yml")
	require.Equal(t, cli.ExitFailed, r.code, r)
	require.Empty(t, r.stdout)
	require.Regexp(t, `^gotk-rules: [^\n]+\n$`, r.stderr)
}
