package cli_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gotk-rules/gotk-rules/cli"
)

// The -update flag rewrites golden files; it is shared with the other tests
// of the package when they define it.
func init() {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite golden files")
	}
}

func updating() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

type lintResult struct {
	code           int
	stdout, stderr string
}

func lintRun(t *testing.T, args ...string) lintResult {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := cli.Main(append([]string{"lint"}, args...), &stdout, &stderr)
	return lintResult{code, stdout.String(), stderr.String()}
}

// lintGolden compares got with testdata/lint/golden/NAME, or rewrites it
// with -update.
func lintGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "lint", "golden", name)
	if updating() {
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test ./cli/ -run TestLint -update to create it")
	require.Equal(t, string(want), got, "%s differs; run go test ./cli/ -run TestLint -update to accept the change", path)
}

var lintInputs = []string{"testdata/lint/rules.yml", "testdata/lint/prometheusrule.yaml", "testdata/lint/broken.yml", "testdata/lint/clean.yml"}

func TestLintFormats(t *testing.T) {
	for format, file := range map[string]string{
		"text": "text.txt", "json": "json.json", "sarif": "sarif.json", "github": "github.txt", "checkstyle": "checkstyle.xml",
	} {
		t.Run(format, func(t *testing.T) {
			r := lintRun(t, append([]string{"--format", format}, lintInputs...)...)
			require.Equal(t, cli.ExitFailed, r.code, r.stderr)
			require.Equal(t, "4 files linted: 8 findings (3 errors, 4 warnings, 1 info)\n", r.stderr)
			lintGolden(t, file, r.stdout)
			if strings.HasSuffix(file, ".json") {
				require.True(t, json.Valid([]byte(r.stdout)))
			}
		})
	}
}

func TestLintJSONFields(t *testing.T) {
	r := lintRun(t, "--format", "json", "testdata/lint/broken.yml")
	var out map[string][]map[string]any
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &out))
	require.Len(t, out["findings"], 1)
	f := out["findings"][0]
	require.Len(t, f, 6)
	for _, k := range []string{"file", "line", "column", "check", "severity", "message"} {
		require.Contains(t, f, k)
	}
	require.Equal(t, "promtool/promql", f["check"])

	r = lintRun(t, "--format", "json", "testdata/lint/clean.yml")
	require.Equal(t, cli.ExitOK, r.code)
	require.JSONEq(t, `{"findings":[]}`, r.stdout)
}

func TestLintExitCodes(t *testing.T) {
	cases := []struct {
		name string
		args []string
		code int
		err  string
	}{
		{"clean", []string{"testdata/lint/clean.yml"}, cli.ExitOK, "1 file linted: no findings"},
		{"warnings fail by default", []string{"testdata/lint/prometheusrule.yaml"}, cli.ExitFailed, "1 warning"},
		{"fail on error only", []string{"--fail-on", "error", "testdata/lint/prometheusrule.yaml"}, cli.ExitOK, "1 warning"},
		{"fail on error, with an error", []string{"--fail-on", "error", "testdata/lint/broken.yml"}, cli.ExitFailed, "1 error"},
		{"fail on info", []string{"--fail-on", "info", "--config", "testdata/lint/config.yaml", "testdata/lint/rules.yml"}, cli.ExitFailed, ""},
		{"never fail", []string{"--fail-on", "never", "testdata/lint/broken.yml"}, cli.ExitOK, "1 error"},
		{"missing file", []string{"testdata/lint/clean.yml", "testdata/lint/nope.yml"}, cli.ExitBadInput, "testdata/lint/nope.yml: stat: no such file or directory"},
		{"glob matching nothing", []string{"testdata/lint/*.nope"}, cli.ExitBadInput, "pattern matches no file"},
		{"no path", nil, cli.ExitBadInput, "no PATH given"},
		{"bad format", []string{"--format", "yaml", "testdata/lint/clean.yml"}, cli.ExitBadInput, `--format "yaml"`},
		{"bad fail-on", []string{"--fail-on", "fatal", "testdata/lint/clean.yml"}, cli.ExitBadInput, `--fail-on: unknown severity "fatal"`},
		{"bad color", []string{"--color", "sometimes", "testdata/lint/clean.yml"}, cli.ExitBadInput, `--color "sometimes"`},
		{"missing config", []string{"--config", "testdata/lint/nope.yaml", "testdata/lint/clean.yml"}, cli.ExitBadInput, "nope.yaml"},
		{"bad config", []string{"--config", "testdata/lint/rules.yml", "testdata/lint/clean.yml"}, cli.ExitBadInput, "field groups not found"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := lintRun(t, tc.args...)
			require.Equal(t, tc.code, r.code, "%+v", r)
			require.Contains(t, r.stderr, tc.err)
		})
	}
}

// An unreadable input exits 2, but every readable one is still linted.
func TestLintUnreadableStillLintsOthers(t *testing.T) {
	r := lintRun(t, "--format", "json", "testdata/lint/nope.yml", "testdata/lint/broken.yml")
	require.Equal(t, cli.ExitBadInput, r.code)
	require.Contains(t, r.stdout, `"check": "promtool/promql"`)
	require.Equal(t, "gotk-rules: testdata/lint/nope.yml: stat: no such file or directory\n", r.stderr, "the one error line, no summary after it")
}

func TestLintConfig(t *testing.T) {
	r := lintRun(t, "--config", "testdata/lint/config.yaml", "--format", "json", "testdata/lint/rules.yml")
	require.NotContains(t, r.stdout, `"flux/`)
	require.Contains(t, r.stdout, `"check": "promql/needless-regex",
      "severity": "error"`)

	// .gotk-rules.yaml in the current directory is read without --config.
	dir := t.TempDir()
	cfg, err := os.ReadFile("testdata/lint/config.yaml")
	require.NoError(t, err)
	rules, err := filepath.Abs("testdata/lint/rules.yml")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, ".gotk-rules.yaml"), cfg, 0o644))
	t.Chdir(dir)
	r2 := lintRun(t, "--format", "json", rules)
	require.Equal(t, strings.ReplaceAll(r.stdout, "testdata/lint/rules.yml", rules), r2.stdout)
}

func TestLintDirectoryAndGlob(t *testing.T) {
	r := lintRun(t, "--format", "json", "testdata/lint/dir")
	require.Equal(t, cli.ExitFailed, r.code)
	require.Contains(t, r.stderr, "2 files linted: 1 finding (1 error)")
	require.Contains(t, r.stdout, `"file": "testdata/lint/dir/sub/b.yml"`)

	// The same file named twice is linted once.
	r = lintRun(t, "testdata/lint/clean*.yml", "testdata/lint/clean.yml")
	require.Equal(t, cli.ExitOK, r.code)
	require.Contains(t, r.stderr, "1 file linted")
}

func TestLintStdin(t *testing.T) {
	content, err := os.ReadFile("testdata/lint/broken.yml")
	require.NoError(t, err)
	for _, tc := range []struct {
		args []string
		name string
	}{
		{[]string{"-"}, "<stdin>"},
		{[]string{"--stdin-filename", "rules/broken.yml", "-"}, "rules/broken.yml"},
	} {
		rd, wr, err := os.Pipe()
		require.NoError(t, err)
		_, err = wr.Write(content)
		require.NoError(t, err)
		require.NoError(t, wr.Close())
		old := os.Stdin
		os.Stdin = rd
		r := lintRun(t, tc.args...)
		os.Stdin = old
		rd.Close()
		require.Equal(t, cli.ExitFailed, r.code)
		require.True(t, strings.HasPrefix(r.stdout, tc.name+":8:12: error: "), r.stdout)
		require.Contains(t, r.stdout, "8 |           )\n")
	}
}

func TestLintColor(t *testing.T) {
	r := lintRun(t, "--color", "always", "testdata/lint/broken.yml")
	require.Contains(t, r.stdout, "\x1b[31m")
	r = lintRun(t, "testdata/lint/broken.yml") // auto, not a terminal
	require.NotContains(t, r.stdout, "\x1b[")
}

func TestLintListChecks(t *testing.T) {
	r := lintRun(t, "--list-checks")
	require.Equal(t, cli.ExitOK, r.code)
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	require.Greater(t, len(lines), 20)
	require.Regexp(t, `^CHECK\s+SEVERITY\s+SUMMARY$`, lines[0])
	require.Regexp(t, `(?m)^flux/deleted-status\s+error\s+`, r.stdout)

	r = lintRun(t, "--list-checks", "--config", "testdata/lint/config.yaml")
	require.Regexp(t, `(?m)^flux/deleted-status\s+off\s+`, r.stdout)
	require.Regexp(t, `(?m)^promql/needless-regex\s+error\s+`, r.stdout)
}

// The shipped rule of Flux's monitoring guide is dead on Flux >= 2.1.
func TestLintShippedRule(t *testing.T) {
	r := lintRun(t, "--format", "json", "../rules/gitopstoolkit.yml")
	require.Equal(t, cli.ExitFailed, r.code)
	require.Contains(t, r.stdout, `"check": "flux/deleted-status"`)
}
