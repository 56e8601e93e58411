//go:build unix

package cli_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gotk-rules/gotk-rules/cli"
)

// hostileDir copies a passing test file, its rules, a scenario and its
// rules into a temporary directory: t.yml, rules.yml, s.scenario.yml and
// flux.yml.
func hostileDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for dst, src := range map[string]string{
		"t.yml":          "testdata/pass_test.yml",
		"rules.yml":      "testdata/rules.yml",
		"flux.yml":       "../rules/gitopstoolkit.yml",
		"s.scenario.yml": "../testdata/series/classic-v21-never-fires.scenario.yml",
	} {
		b, err := os.ReadFile(src)
		require.NoError(t, err)
		if dst == "s.scenario.yml" {
			b = bytes.Replace(b, []byte("../../rules/gitopstoolkit.yml"), []byte("flux.yml"), 1)
		}
		require.NoError(t, os.WriteFile(filepath.Join(dir, dst), b, 0o644))
	}
	return dir
}

// write writes a file in dir and returns its path.
func write(t *testing.T, dir, name, text string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(p, []byte(text), 0o644))
	return p
}

// badLine checks a bad-input run: exit 2, one line on stderr holding want,
// and want nowhere on stdout.
func badLine(t *testing.T, r result, want string) {
	t.Helper()
	require.Equal(t, cli.ExitBadInput, r.code, r)
	lines := strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n")
	require.Len(t, lines, 1, "one line on stderr: %s", r)
	require.Contains(t, lines[0], want, r)
	require.NotContains(t, r.stdout, want, r)
}

func needDevZero(t *testing.T) {
	t.Helper()
	if _, err := os.Stat("/dev/zero"); err != nil {
		t.Skip("no /dev/zero")
	}
}

// TestHostileDevices reads a device (endless /dev/zero) where each command
// reads a file: refused at once, not read until memory runs out.
func TestHostileDevices(t *testing.T) {
	t.Parallel()
	needDevZero(t)
	dir := hostileDir(t)
	devRules := write(t, dir, "dev_test.yml", strings.Replace(mustRead(t, filepath.Join(dir, "t.yml")), "rule_files: [rules.yml]", "rule_files: [/dev/zero]", 1))
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"test file", []string{"test", "/dev/zero"}},
		{"rule_files entry", []string{"test", devRules}},
		{"lint path", []string{"lint", "/dev/zero"}},
		{"lint --config", []string{"lint", "--config", "/dev/zero", filepath.Join(dir, "rules.yml")}},
		{"replay scenario", []string{"replay", "/dev/zero"}},
		{"replay --rules", []string{"replay", "--rules", "/dev/zero", filepath.Join(dir, "s.scenario.yml")}},
		{"verify --rules", []string{"verify", "--runs", "1", "--rules", "/dev/zero"}},
		{"backtest --bearer-token-file", []string{"backtest", "--url", "http://127.0.0.1:1", "--bearer-token-file", "/dev/zero"}},
		{"backtest --tls-ca-file", []string{"backtest", "--url", "https://127.0.0.1:1", "--tls-ca-file", "/dev/zero"}},
		{"serve --rules", []string{"serve", "--addr", "127.0.0.1:0", "--rules", "/dev/zero"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := run(t, tc.args...)
			require.Equal(t, cli.ExitBadInput, r.code, r)
			require.Contains(t, r.stdout+r.stderr, "not a regular file (a character device)", r)
		})
	}
}

func mustRead(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	return string(b)
}

// TestHostileFIFO reads a named pipe nobody writes to: each command gives
// up after --input-timeout.
func TestHostileFIFO(t *testing.T) {
	t.Parallel()
	if runtime.GOOS == "windows" {
		t.Skip("no named pipes as files")
	}
	dir := hostileDir(t)
	for _, tc := range []struct {
		name string
		args func(fifo string) []string
	}{
		{"test file", func(p string) []string { return []string{"test", p} }},
		{"rule_files entry", func(p string) []string {
			return []string{"test", write(t, filepath.Dir(p), "fifo_test.yml", strings.Replace(mustRead(t, filepath.Join(dir, "t.yml")), "rule_files: [rules.yml]", "rule_files: [fifo]", 1))}
		}},
		{"lint path", func(p string) []string { return []string{"lint", p} }},
		{"lint --config", func(p string) []string { return []string{"lint", "--config", p, filepath.Join(dir, "rules.yml")} }},
		{"replay scenario", func(p string) []string { return []string{"replay", p} }},
		{"backtest --bearer-token-file", func(p string) []string {
			return []string{"backtest", "--url", "http://127.0.0.1:1", "--bearer-token-file", p}
		}},
		{"serve --input", func(p string) []string { return []string{"serve", "--addr", "127.0.0.1:0", "--input", p} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fifoDir := t.TempDir()
			fifo := filepath.Join(fifoDir, "fifo")
			require.NoError(t, syscall.Mkfifo(fifo, 0o600))
			// The message says the run ended because of --input-timeout
			// (a run that waited for the pipe would not end: go test's
			// -timeout is its hang guard).
			r := run(t, append([]string{"--input-timeout", "200ms"}, tc.args(fifo)...)...)
			require.Equal(t, cli.ExitBadInput, r.code, r)
			require.Contains(t, r.stdout+r.stderr, "a named pipe gave no end of file within 200ms", r)
			require.Contains(t, r.stdout+r.stderr, "--input-timeout", r)
		})
	}
}

// TestHostileFIFOWithWriter reads a named pipe that is written to, as
// process substitution does: it is read as a file.
func TestHostileFIFOWithWriter(t *testing.T) {
	t.Parallel()
	if runtime.GOOS == "windows" {
		t.Skip("no named pipes as files")
	}
	dir := hostileDir(t)
	fifo := filepath.Join(t.TempDir(), "rules.yml")
	require.NoError(t, syscall.Mkfifo(fifo, 0o600))
	rules := mustRead(t, filepath.Join(dir, "rules.yml"))
	go func() {
		f, err := os.OpenFile(fifo, os.O_WRONLY, 0)
		if err != nil {
			return
		}
		_, _ = f.WriteString(rules)
		f.Close()
	}()
	r := run(t, "lint", "--fail-on", "never", fifo)
	require.Equal(t, cli.ExitOK, r.code, r)
	require.Contains(t, r.stderr, "1 file linted")
}

// TestHostileSizes bounds each input to --max-input-bytes.
func TestHostileSizes(t *testing.T) {
	t.Parallel()
	dir := hostileDir(t)
	const want = "over the limit of 100 (raise it with --max-input-bytes)"
	rulesOnly := write(t, dir, "norules_test.yml", "tests: []\n")
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"test file", []string{"test", filepath.Join(dir, "t.yml")}},
		{"rule_files entry", []string{"--max-input-bytes", "150", "test", write(t, dir, "small_test.yml", "rule_files: [rules.yml]\ntests: [{input_series: []}]\n")}},
		{"lint path", []string{"lint", filepath.Join(dir, "rules.yml")}},
		{"lint --config", []string{"lint", "--config", write(t, dir, "cfg.yaml", "# "+strings.Repeat("x", 200)+"\n"), rulesOnly}},
		{"replay scenario", []string{"replay", filepath.Join(dir, "s.scenario.yml")}},
		{"backtest --bearer-token-file", []string{"backtest", "--url", "http://127.0.0.1:1", "--bearer-token-file", write(t, dir, "token", strings.Repeat("x", 200))}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			args := tc.args
			if args[0] != "--max-input-bytes" {
				args = append([]string{"--max-input-bytes", "100"}, args...)
			}
			r := run(t, args...)
			require.Equal(t, cli.ExitBadInput, r.code, r)
			w := want
			if tc.name == "rule_files entry" {
				w = "over the limit of 150 (raise it with --max-input-bytes)"
			}
			require.Contains(t, r.stdout+r.stderr, w, r)
		})
	}
	t.Run("lint stdin", func(t *testing.T) {
		t.Parallel()
		var stdout, stderr bytes.Buffer
		root := cli.NewRootCommand(&stdout, &stderr)
		root.SetIn(strings.NewReader(strings.Repeat("#\n", 100)))
		root.SetArgs([]string{"--max-input-bytes", "100", "lint", "-"})
		err := root.Execute()
		require.ErrorContains(t, err, "<stdin>: more than 100 input bytes, "+want)
	})
	// Within the limit, the same inputs pass.
	r := run(t, "--max-input-bytes", "100000", "test", filepath.Join(dir, "t.yml"))
	require.Equal(t, cli.ExitOK, r.code, r)
}

// TestHostileOutputs points each output flag at an input of the command:
// refused before anything is written, the input left byte for byte.
func TestHostileOutputs(t *testing.T) {
	t.Parallel()
	dir := hostileDir(t)
	testFile := filepath.Join(dir, "t.yml")
	rules := filepath.Join(dir, "rules.yml")
	sc := filepath.Join(dir, "s.scenario.yml")
	flux := filepath.Join(dir, "flux.yml")
	link := filepath.Join(dir, "link.yml")
	require.NoError(t, os.Symlink("t.yml", link))
	hard := filepath.Join(dir, "hard.yml")
	require.NoError(t, os.Link(testFile, hard))
	relative := filepath.Join(dir, ".", "sub", "..", "t.yml")
	require.NoError(t, os.Mkdir(filepath.Join(dir, "sub"), 0o755))
	for _, tc := range []struct {
		name  string
		args  []string
		input string // the file the output names
	}{
		{"--cpuprofile on the test file", []string{"test", testFile, "--cpuprofile", testFile}, testFile},
		{"--memprofile on the test file", []string{"test", testFile, "--memprofile", testFile}, testFile},
		{"--junit on the test file", []string{"test", testFile, "--junit", testFile}, testFile},
		{"--junit on a rule file the test names", []string{"test", testFile, "--junit", rules}, rules},
		{"--junit through a symbolic link", []string{"test", testFile, "--junit", link}, testFile},
		{"--junit on a hard link", []string{"test", testFile, "--junit", hard}, testFile},
		{"--junit by another path", []string{"test", testFile, "--junit", relative}, testFile},
		{"--cpuprofile on a lint path", []string{"lint", rules, "--cpuprofile", rules}, rules},
		{"--memprofile on a lint directory's file", []string{"lint", dir, "--memprofile", rules}, rules},
		{"--svg on the scenario", []string{"replay", sc, "--svg", sc}, sc},
		{"--html on the scenario's rules", []string{"replay", sc, "--html", flux}, flux},
		{"--svg on --rules", []string{"replay", sc, "--rules", flux, "--svg", flux}, flux},
		{"gen -o on the scenario", []string{"gen", sc, "-o", sc}, sc},
		{"gen --output on its rules", []string{"gen", sc, "--output", flux}, flux},
		{"gen fleet -o on --rules", []string{"gen", "fleet", "--objects", "1", "--hours", "1", "--rules", flux, "-o", flux}, flux},
		{"backtest -o on --rules", []string{"backtest", "--url", "http://127.0.0.1:1", "--rules", flux, "-o", flux}, flux},
		{"backtest --svg on --bearer-token-file", []string{"backtest", "--url", "http://127.0.0.1:1", "--bearer-token-file", testFile, "--svg", link}, testFile},
		{"serve --cpuprofile on --input", []string{"serve", "--addr", "127.0.0.1:0", "--input", sc, "--cpuprofile", sc}, sc},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := mustRead(t, tc.input)
			r := run(t, tc.args...)
			badLine(t, r, "refusing to overwrite an input")
			require.Equal(t, before, mustRead(t, tc.input), "the input changed")
			st, err := os.Lstat(link)
			require.NoError(t, err)
			require.NotZero(t, st.Mode()&os.ModeSymlink, "the link was replaced")
		})
	}
	// An output that is no input is written, whole, and the profile too.
	out := filepath.Join(t.TempDir(), "j.xml")
	prof := filepath.Join(t.TempDir(), "cpu.pprof")
	r := run(t, "test", testFile, "--junit", out, "--cpuprofile", prof)
	require.Equal(t, cli.ExitOK, r.code, r)
	require.Contains(t, mustRead(t, out), "<testsuites")
	st, err := os.Stat(prof)
	require.NoError(t, err)
	require.NotZero(t, st.Size())
	// A bad flag stops the run before its outputs are checked: the heap
	// profile is not written either.
	before := mustRead(t, testFile)
	r = run(t, "test", testFile, "--memprofile", testFile, "--no-such-flag")
	require.Equal(t, cli.ExitBadInput, r.code, r)
	require.Equal(t, before, mustRead(t, testFile))
}

// TestHostileFlags gives each command's flags values out of range: each is
// one line on stderr, exit 2, nothing on stdout.
func TestHostileFlags(t *testing.T) {
	t.Parallel()
	dir := hostileDir(t)
	testFile := filepath.Join(dir, "t.yml")
	sc := filepath.Join(dir, "s.scenario.yml")
	url := []string{"backtest", "--url", "http://127.0.0.1:1"}
	for _, tc := range []struct {
		want string
		args []string
	}{
		{"--max-input-bytes 0: want at least 1", []string{"--max-input-bytes", "0", "test", testFile}},
		{"--max-input-bytes -5: want at least 1", []string{"--max-input-bytes", "-5", "lint", testFile}},
		{"--input-timeout 0s: want more than 0", []string{"--input-timeout", "0", "test", testFile}},
		{"--input-timeout -1s: want more than 0", []string{"--input-timeout", "-1s", "test", testFile}},
		{"invalid argument \"NaN\" for \"--input-timeout\"", []string{"--input-timeout", "NaN", "test", testFile}},
		{"--query-max-samples 0: want at least 1", []string{"--query-max-samples", "0", "test", testFile}},
		{"--parallel 0: want at least 1", []string{"test", "--parallel", "0", testFile}},
		{"--parallel -2: want at least 1", []string{"test", "--parallel", "-2", testFile}},
		{"--max-evals 0: want at least 1", []string{"test", "--max-evals", "0", testFile}},
		{"--max-series 0: want at least 1", []string{"test", "--max-series", "0", testFile}},
		{"--max-samples 0: want at least 1", []string{"test", "--max-samples", "0", testFile}},
		{"--width 0: want 40 to 10000", []string{"replay", "--width", "0", sc}},
		{"--width 100000000: want 40 to 10000", []string{"replay", "--width", "100000000", sc}},
		{"--picture-width 0: want 480 to 100000", []string{"replay", "--picture-width", "0", sc}},
		{"--max-series 0: want at least 1", []string{"replay", "--max-series", "0", sc}},
		{"--max-samples 0: want at least 1", []string{"gen", "--max-samples", "0", sc}},
		{"--max-series 0: want at least 1", []string{"gen", "--format", "openmetrics", "--max-series", "0", sc}},
		{"--hours NaN: want more than 0, at most 744", []string{"gen", "fleet", "--hours", "NaN"}},
		{"--hours +Inf: want more than 0, at most 744", []string{"gen", "fleet", "--hours", "Inf"}},
		{"--hours -1: want more than 0, at most 744", []string{"gen", "fleet", "--hours", "-1"}},
		{"--objects 0: want 1 to 1000000", []string{"gen", "fleet", "--objects", "0"}},
		{"--runs 0: want 1 to 1000000", []string{"verify", "--runs", "0"}},
		{"--min-failure -1m0s: want 0 to --duration", []string{"verify", "--min-failure", "-1m"}},
		{"--min-failure 3h0m0s: want 0 to --duration (2h0m0s)", []string{"verify", "--min-failure", "3h"}},
		{"--duration 0s: want 10m to 168h", []string{"verify", "--duration", "0"}},
		{"--max-evals 0: want at least 1", []string{"verify", "--max-evals", "0"}},
		{"must be positive", []string{"serve", "--max-body", "0"}},
		{"--max-body 9007199254740993: want at most 1048576", []string{"serve", "--max-body", "9007199254740993"}},
		{"must be positive", []string{"serve", "--timeout", "-1s"}},
		{"must be positive", []string{"serve", "--verify-runs", "0"}},
		{"--max-response-bytes 0: want 1 or more", append(url, "--max-response-bytes", "0")},
		{"--max-response-series -1: want 1 or more", append(url, "--max-response-series", "-1")},
		{"--max-response-samples 0: want 1 or more", append(url, "--max-response-samples", "0")},
		{"--picture-width 10: want 480 to 100000", append(url, "--picture-width", "10")},
		{"--concurrency 0: want 1 or more", append(url, "--concurrency", "0")},
		{"--max-points 0: want 1 or more", append(url, "--max-points", "0")},
		{"--retries -1: want 0 or more", append(url, "--retries", "-1")},
		{"--step 0s: want at least 1s", append(url, "--step", "0s")},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			t.Parallel()
			r := run(t, tc.args...)
			badLine(t, r, tc.want)
			require.Empty(t, r.stdout, r)
		})
	}
}

// TestHostileEmptyDirectory names a directory without rule files: lint
// refuses it; test warns on stderr and keeps its exit code.
func TestHostileEmptyDirectory(t *testing.T) {
	t.Parallel()
	dir := hostileDir(t)
	empty := filepath.Join(dir, "empty")
	require.NoError(t, os.Mkdir(empty, 0o755))
	write(t, empty, "README.md", "no rules here\n")

	r := run(t, "lint", empty)
	require.Equal(t, cli.ExitBadInput, r.code, r)
	require.Contains(t, r.stderr, "gotk-rules: "+empty+": the directory holds no rule file (*.yml, *.yaml)\n", r)
	// With a file besides, the directory is still refused.
	r = run(t, "lint", empty, filepath.Join(dir, "rules.yml"))
	require.Equal(t, cli.ExitBadInput, r.code, r)
	require.NotContains(t, r.stderr, "linted", "the error is the one line")
	require.Contains(t, r.stderr, empty+": the directory holds no rule file", r)

	testFile := write(t, dir, "emptydir_test.yml", `rule_files: [empty]
tests:
- interval: 1m
  input_series:
  - {series: 'up{job="a"}', values: '1x3'}
  promql_expr_test:
  - expr: up
    eval_time: 1m
    exp_samples: [{labels: 'up{job="a"}', value: 1}]
`)
	r = run(t, "test", testFile)
	require.Equal(t, cli.ExitOK, r.code, r)
	require.Contains(t, r.stderr, "warning: "+testFile+":1:14: rule_files: directory \"empty\" holds no rule file (*.yml, *.yaml)\n", r)

	// --rules naming only an empty directory is refused.
	r = run(t, "replay", "--rules", empty, filepath.Join(dir, "s.scenario.yml"))
	badLine(t, r, "--rules "+empty+": no rule file (*.yml, *.yaml) in it")

	// In a block list, after another key: the entry's own line.
	testFile = write(t, dir, "emptydir2_test.yml", "evaluation_interval: 1m\nrule_files:\n  - rules.yml\n  - empty\n"+
		mustRead(t, testFile)[strings.Index(mustRead(t, testFile), "tests:"):])
	r = run(t, "test", testFile)
	require.Equal(t, cli.ExitOK, r.code, r)
	require.Equal(t, "warning: "+testFile+":4:5: rule_files: directory \"empty\" holds no rule file (*.yml, *.yaml)\n", r.stderr, r)
}

// TestHostileYAML gives the decoders text they refuse without a position:
// the error says file:line:col, on stderr, exit 2.
func TestHostileYAML(t *testing.T) {
	t.Parallel()
	dir := hostileDir(t)
	pass := mustRead(t, filepath.Join(dir, "t.yml"))
	for _, tc := range []struct {
		name, text, want string
	}{
		{"invalid UTF-8", strings.Replace(pass, "instance down", "instance \xffdown", 1), ":4:18: invalid UTF-8: byte 0xff"},
		{"NUL byte", strings.Replace(pass, "evaluation_interval: 1m", "evaluation_interval: 1\x00m", 1), ":2:23: character U+0000 is not allowed in YAML"},
		{"undefined alias", strings.Replace(pass, "interval: 1m\n  input_series", "interval: *every\n  input_series", 1), ":5:13: alias *every: no anchor &every defined before it"},
		{"YAML 2.0", "%YAML 2.0\n---\n" + pass, ":1:1: %YAML 2.0: unsupported YAML version"},
	} {
		t.Run("test file: "+tc.name, func(t *testing.T) {
			t.Parallel()
			p := write(t, dir, strings.ReplaceAll(tc.name, " ", "_")+"_test.yml", tc.text)
			r := run(t, "test", p)
			badLine(t, r, p+tc.want)
			require.Contains(t, r.stdout, "ERROR  bad input (on standard error)", r)
			// JSON still carries the error, besides stderr.
			r = run(t, "test", "--format", "json", p)
			require.Equal(t, cli.ExitBadInput, r.code, r)
			require.Contains(t, r.stderr, p+tc.want)
			var doc struct {
				Files []struct{ Error string } `json:"files"`
			}
			require.NoError(t, json.Unmarshal([]byte(r.stdout), &doc), r)
			require.Len(t, doc.Files, 1)
			require.True(t, strings.HasPrefix(doc.Files[0].Error, p+tc.want), doc.Files[0].Error)
		})
	}
	t.Run("rule file", func(t *testing.T) {
		t.Parallel()
		sub := t.TempDir()
		write(t, sub, "t.yml", pass)
		write(t, sub, "rules.yml", "groups:\n- name: example\n  rules:\n  - record: \"a\x01\"\n    expr: up\n")
		r := run(t, "test", filepath.Join(sub, "t.yml"))
		require.Equal(t, cli.ExitBadInput, r.code, r)
		require.Contains(t, r.stdout+r.stderr, filepath.Join(sub, "rules.yml")+":4:15: character U+0001 is not allowed in YAML", r)
	})
	t.Run("lint path", func(t *testing.T) {
		t.Parallel()
		p := write(t, t.TempDir(), "r.yml", "groups:\n- name: \"\xc3\"\n  rules: []\n")
		r := run(t, "lint", p)
		require.Equal(t, cli.ExitBadInput, r.code, r)
		require.Contains(t, r.stderr, p+":2:10: invalid UTF-8: byte 0xc3", r)
	})
	t.Run("lint stdin", func(t *testing.T) {
		t.Parallel()
		var stdout, stderr bytes.Buffer
		root := cli.NewRootCommand(&stdout, &stderr)
		root.SetIn(strings.NewReader("groups:\n- name: \"a\x00\"\n"))
		root.SetArgs([]string{"lint", "--stdin-filename", "in.yml", "-"})
		require.EqualError(t, root.Execute(), "in.yml:2:11: character U+0000 is not allowed in YAML (a control character or NUL byte)")
	})
	t.Run("lint --config", func(t *testing.T) {
		t.Parallel()
		sub := t.TempDir()
		cfg := write(t, sub, "cfg.yaml", "checks:\n  disable: [no/such]\n")
		r := run(t, "lint", "--config", cfg, filepath.Join(dir, "rules.yml"))
		badLine(t, r, cfg+`:2:13: checks.disable: no check is named "no/such"`)
		cfg = write(t, sub, "alias.yaml", "checks:\n  disable: *x\n")
		r = run(t, "lint", "--config", cfg, filepath.Join(dir, "rules.yml"))
		badLine(t, r, cfg+":2:12: alias *x: no anchor &x defined before it")
	})
	t.Run("scenario", func(t *testing.T) {
		t.Parallel()
		p := write(t, t.TempDir(), "s.scenario.yml", strings.Replace(mustRead(t, filepath.Join(dir, "s.scenario.yml")), "duration: 1h", "duration: \x001h", 1))
		r := run(t, "replay", p)
		badLine(t, r, p+":7:11: character U+0000 is not allowed in YAML")
	})
}

// TestHostileBacktestResponses bounds what the server may answer: over a
// budget, exit 2 naming the flag that raises it, nothing on stdout.
func TestHostileBacktestResponses(t *testing.T) {
	t.Parallel()
	srv, _ := fakeAPI(t, 0) // 21 samples of one series per query_range
	rules := writeRules(t)
	args := []string{"backtest", "--url", srv.URL, "--rules", rules, "--from", "1970-01-01T00:00:00Z", "--to", "1970-01-01T00:40:00Z", "--compare-alerts=false"}
	for _, tc := range []struct {
		flag, value, want string
	}{
		{"--max-response-samples", "20", "21 samples in one response, over the limit of 20 (raise it with --max-response-samples)"},
		{"--max-response-bytes", "100", "the response is too large: 325 response bytes, over the limit of 100 (raise it with --max-response-bytes)"},
	} {
		t.Run(tc.flag, func(t *testing.T) {
			t.Parallel()
			r := run(t, append(args, tc.flag, tc.value)...)
			badLine(t, r, tc.want)
			require.Empty(t, r.stdout)
		})
	}
	r := run(t, append(args, "--max-response-samples", "21")...)
	require.Equal(t, cli.ExitOK, r.code, r)
}
