package cli_test

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gotk-rules/gotk-rules/cli"
)

var update = flag.Bool("update", false, "rewrite golden files")

// result is one in-process run of the command line.
type result struct {
	code           int
	stdout, stderr string
}

func run(t *testing.T, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := cli.Main(args, &stdout, &stderr)
	return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
}

var (
	textDuration = regexp.MustCompile(`\((\d+(\.\d+)?(ns|µs|us|ms|s|m|h))+\)`)
	jsonDuration = regexp.MustCompile(`"duration_ns": \d+`)
)

// normalize replaces what changes from run to run: durations.
func normalize(s string) string {
	s = textDuration.ReplaceAllString(s, "(…)")
	return jsonDuration.ReplaceAllString(s, `"duration_ns": 0`)
}

// golden compares got, normalized, with testdata/golden/NAME, or rewrites
// it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	got = normalize(got)
	path := filepath.Join("testdata", "golden", name)
	if *update {
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test -update to create it")
	require.Equal(t, string(want), got, "%s differs; run go test -update to accept the change", path)
}

func TestNormalize(t *testing.T) {
	require.Equal(t, "  PASS   a (…)\n  FAIL   b (…) (…) (…) (x)", normalize("  PASS   a (12ms)\n  FAIL   b (0s) (1.5s) (1m2.003s) (x)"))
	require.Equal(t, `{"duration_ns": 0, "n": 5}`, normalize(`{"duration_ns": 123456, "n": 5}`))
}

func TestPassing(t *testing.T) {
	t.Parallel()
	r := run(t, "test", "testdata/pass_test.yml")
	require.Equal(t, cli.ExitOK, r.code, r)
	require.Empty(t, r.stderr)
	golden(t, "pass.txt", r.stdout)
}

func TestFailing(t *testing.T) {
	t.Parallel()
	r := run(t, "test", "testdata/fail_test.yml")
	require.Equal(t, cli.ExitFailed, r.code, r)
	require.Empty(t, r.stderr)
	golden(t, "fail.txt", r.stdout)
}

func TestFailingDiff(t *testing.T) {
	t.Parallel()
	r := run(t, "test", "--diff", "testdata/fail_test.yml")
	require.Equal(t, cli.ExitFailed, r.code, r)
	golden(t, "fail_diff.txt", r.stdout)
	require.Contains(t, r.stdout, "- expected, + got")
}

func TestPassingAndFailing(t *testing.T) {
	t.Parallel()
	// The worst verdict wins: a failure is exit 1, bad input is exit 2.
	r := run(t, "test", "testdata/pass_test.yml", "testdata/fail_test.yml")
	require.Equal(t, cli.ExitFailed, r.code, r)
	require.Contains(t, r.stdout, "2 files, 5 groups: 3 passed, 2 failed\n")
	r = run(t, "test", "testdata/fail_test.yml", "testdata/bad/bad_values_test.yml", "testdata/pass_test.yml")
	require.Equal(t, cli.ExitBadInput, r.code, r)
	require.Contains(t, r.stdout, "3 files, 6 groups: 3 passed, 3 failed (1 with bad input)\n")
}

func TestJSON(t *testing.T) {
	t.Parallel()
	r := run(t, "test", "--format", "json", "testdata/fail_test.yml")
	require.Equal(t, cli.ExitFailed, r.code, r)
	golden(t, "fail.json", r.stdout)

	var out struct {
		Files []struct {
			File   string
			Groups []struct {
				Name   string
				Passed bool
				Errors []string
			}
		}
		Summary struct{ Files, Groups, Passed, Failed, BadInput int }
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &out))
	require.Len(t, out.Files, 1)
	require.Equal(t, "testdata/fail_test.yml", out.Files[0].File)
	var names []string
	for _, g := range out.Files[0].Groups {
		names = append(names, g.Name)
	}
	require.Equal(t, []string{"passes", "wrong alert labels", "unnamed#2"}, names)
	require.Equal(t, struct{ Files, Groups, Passed, Failed, BadInput int }{1, 3, 1, 2, 0}, out.Summary)

	r = run(t, "test", "--format", "json", "testdata/pass_test.yml")
	require.Equal(t, cli.ExitOK, r.code, r)
	require.True(t, json.Valid([]byte(r.stdout)))
}

type junitSuites struct {
	Suites []struct {
		Name     string `xml:"name,attr"`
		Tests    int    `xml:"tests,attr"`
		Failures int    `xml:"failures,attr"`
		Errors   int    `xml:"errors,attr"`
		Cases    []struct {
			Name     string   `xml:"name,attr"`
			Failures []string `xml:"failure"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

func TestJUnit(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "junit.xml")
	r := run(t, "test", "--junit", path, "testdata/pass_test.yml", "testdata/fail_test.yml", "testdata/bad/yaml_syntax_test.yml")
	require.Equal(t, cli.ExitBadInput, r.code, r)
	// The text report is still written.
	require.Contains(t, r.stdout, "FAIL   wrong alert labels")

	b, err := os.ReadFile(path)
	require.NoError(t, err)
	var doc junitSuites
	require.NoError(t, xml.Unmarshal(b, &doc))
	require.Len(t, doc.Suites, 3)

	// One testsuite per file, one testcase per group, named as promtool
	// names them, failures on the failed groups only.
	pass := doc.Suites[0]
	require.Equal(t, "testdata/pass_test.yml", pass.Name)
	require.Equal(t, [3]int{2, 0, 0}, [3]int{pass.Tests, pass.Failures, pass.Errors})
	require.Len(t, pass.Cases, 2)
	require.Equal(t, "instance down fires after 2m", pass.Cases[0].Name)
	require.Equal(t, "unnamed#1", pass.Cases[1].Name)
	require.Empty(t, pass.Cases[0].Failures)
	require.Empty(t, pass.Cases[1].Failures)

	fail := doc.Suites[1]
	require.Equal(t, "testdata/fail_test.yml", fail.Name)
	require.Equal(t, [3]int{3, 2, 0}, [3]int{fail.Tests, fail.Failures, fail.Errors})
	require.Len(t, fail.Cases, 3)
	require.Equal(t, "passes", fail.Cases[0].Name)
	require.Empty(t, fail.Cases[0].Failures)
	require.Equal(t, "wrong alert labels", fail.Cases[1].Name)
	require.Len(t, fail.Cases[1].Failures, 1)
	require.Contains(t, fail.Cases[1].Failures[0], "alertname: InstanceDown, time: 3m")
	require.Equal(t, "unnamed#2", fail.Cases[2].Name)
	require.Len(t, fail.Cases[2].Failures, 1)
	require.Contains(t, fail.Cases[2].Failures[0], `expr: "job:up:sum", time: 2m`)

	// A file that cannot run is an aborted suite with an error.
	bad := doc.Suites[2]
	require.Equal(t, "testdata/bad/yaml_syntax_test.yml", bad.Name)
	require.Equal(t, 1, bad.Errors)

	// Only passing files: still a report, exit 0.
	r = run(t, "test", "--junit", path, "testdata/pass_test.yml")
	require.Equal(t, cli.ExitOK, r.code, r)
	b, err = os.ReadFile(path)
	require.NoError(t, err)
	doc = junitSuites{}
	require.NoError(t, xml.Unmarshal(b, &doc))
	require.Len(t, doc.Suites, 1)

	// A JUnit file that cannot be written is bad input.
	r = run(t, "test", "--junit", filepath.Join(t.TempDir(), "no", "such", "dir", "j.xml"), "testdata/pass_test.yml")
	require.Equal(t, cli.ExitBadInput, r.code, r)
	require.Contains(t, r.stderr, "--junit")
}

func TestRun(t *testing.T) {
	t.Parallel()
	f := func(wantCode int, wantGroups []string, args ...string) {
		t.Helper()
		r := run(t, append([]string{"test"}, args...)...)
		require.Equal(t, wantCode, r.code, r)
		var got []string
		for _, l := range strings.Split(r.stdout, "\n") {
			if m := regexp.MustCompile(`^  (?:PASS |FAIL |ERROR)  (.*) \(`).FindStringSubmatch(l); m != nil {
				got = append(got, m[1])
			}
		}
		require.Equal(t, wantGroups, got, r)
	}
	f(cli.ExitOK, []string{"passes"}, "--run", "^passes$", "testdata/fail_test.yml")
	f(cli.ExitFailed, []string{"wrong alert labels"}, "--run", "wrong", "testdata/fail_test.yml")
	// Repeatable: a group runs when any expression matches.
	f(cli.ExitFailed, []string{"passes", "wrong alert labels"}, "--run", "^pass", "--run", "labels$", "testdata/fail_test.yml")
	// Across files; unnamed groups have an empty name.
	f(cli.ExitOK, []string{"instance down fires after 2m", "passes"}, "--run", "^(instance|passes)", "testdata/pass_test.yml", "testdata/fail_test.yml")
	f(cli.ExitFailed, []string{"unnamed#1", "unnamed#2"}, "--run", "^$", "testdata/pass_test.yml", "testdata/fail_test.yml")
	f(cli.ExitOK, nil, "--run", "nothing matches this", "testdata/fail_test.yml")

	r := run(t, "test", "--run", "nothing matches this", "testdata/fail_test.yml")
	require.Contains(t, r.stdout, "(no test group selected)")

	r = run(t, "test", "--run", "(", "testdata/fail_test.yml")
	require.Equal(t, cli.ExitBadInput, r.code, r)
	require.Contains(t, r.stderr, "--run")
}

func TestEnableFeature(t *testing.T) {
	t.Parallel()
	r := run(t, "test", "testdata/feature/feature_test.yml")
	require.Equal(t, cli.ExitBadInput, r.code, r)
	require.Contains(t, r.stderr, `testdata/feature/rules.yml:5:11: group "experimental", rule 1, "job:latency:mad5m": could not parse expression: 1:1: parse error: function "mad_over_time" is not enabled`)

	r = run(t, "test", "--enable-feature", "promql-experimental-functions", "testdata/feature/feature_test.yml")
	require.Equal(t, cli.ExitOK, r.code, r)
	require.Empty(t, r.stderr)
	// As a comma-separated list, with a feature that is always on, and after the command.
	r = run(t, "--enable-feature=promql-duration-expr,promql-experimental-functions", "test", "testdata/feature/feature_test.yml")
	require.Equal(t, cli.ExitOK, r.code, r)

	// Unknown features are a warning, as in promtool.
	r = run(t, "test", "--enable-feature", "no-such-feature", "testdata/pass_test.yml")
	require.Equal(t, cli.ExitOK, r.code, r)
	require.Contains(t, r.stderr, "warning: unknown feature passed to --enable-feature: no-such-feature")
}

func TestShippedTests(t *testing.T) {
	t.Parallel()
	r := run(t, "test")
	require.Equal(t, cli.ExitOK, r.code, r)
	require.Contains(t, r.stdout, "testdata/series/gitopstoolkit_test.yml\n")
	require.Regexp(t, `\n\d+ files, (\d+) groups: (\d+) passed, 0 failed\n$`, r.stdout)
	m := regexp.MustCompile(`(\d+) groups: (\d+) passed`).FindStringSubmatch(r.stdout)
	require.Equal(t, m[1], m[2])
	require.NotEqual(t, "0", m[1])
}

// TestDebug is not parallel, and runs groups one at a time: the dump reads
// a query result after the query is closed (see TestDebugParallel).
func TestDebug(t *testing.T) {
	r := run(t, "test", "--debug", "--parallel", "1", "testdata/pass_test.yml")
	require.Equal(t, cli.ExitOK, r.code, r)
	require.Contains(t, r.stderr, "DEBUG: unnamed#1: dump of all data")
	require.Contains(t, r.stderr, `{__name__="up", instance="c", job="db"}`)
	require.Contains(t, r.stderr, "DEBUG: instance down fires after 2m: dump of all data")
}

// TestDebugParallel is --debug with groups in parallel. Under -race it
// guards against evaluator.Session.QueryValue returning a matrix whose
// points go back to the engine's pool when the query is closed.
func TestDebugParallel(t *testing.T) {
	for range 4 {
		r := run(t, "test", "--debug", "--parallel", "4", "testdata/pass_test.yml", "testdata/fail_test.yml")
		require.Equal(t, cli.ExitFailed, r.code, r)
		require.Equal(t, 5, strings.Count(r.stderr, ": dump of all data"), r.stderr)
	}
}

func TestUsageErrors(t *testing.T) {
	t.Parallel()
	f := func(wantStderr string, args ...string) {
		t.Helper()
		r := run(t, args...)
		require.Equal(t, cli.ExitBadInput, r.code, r)
		require.Empty(t, r.stdout)
		require.Contains(t, r.stderr, wantStderr)
		require.Equal(t, 1, strings.Count(r.stderr, "\n"), "one line: %q", r.stderr)
	}
	f("unknown flag: --no-such-flag", "test", "--no-such-flag", "testdata/pass_test.yml")
	f("unknown shorthand flag: 'z'", "test", "-z")
	f(`--format "xml": want text or json`, "test", "--format", "xml", "testdata/pass_test.yml")
	f(`unknown command "bogus"`, "bogus")
	f(`invalid argument "many"`, "test", "--max-samples", "many")
	f("--query-max-samples 0: want at least 1", "test", "--query-max-samples", "0", "testdata/pass_test.yml")

	r := run(t, "--help")
	require.Equal(t, cli.ExitOK, r.code, r)
	require.Contains(t, r.stdout, "test")
}

// TestBadInput checks that every kind of bad input is exit 2 with one line
// saying file:line[:col]: what is wrong.
func TestBadInput(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		args []string
		// want is the start of the error line, position included.
		want string
		// more must appear in the same line.
		more []string
	}{
		{name: "missing test file", args: []string{"testdata/bad/missing_test.yml"},
			want: "testdata/bad/missing_test.yml: open: no such file or directory"},
		{name: "yaml syntax", args: []string{"testdata/bad/yaml_syntax_test.yml"},
			want: "testdata/bad/yaml_syntax_test.yml:5:3: did not find expected key"},
		{name: "unknown field in test file", args: []string{"testdata/bad/unknown_field_test.yml"},
			want: "testdata/bad/unknown_field_test.yml:7:5: field colour not found"},
		{name: "unknown field in rule file", args: []string{"testdata/bad/unknown_rule_field_test.yml"},
			want: "testdata/bad/unknown_rule_field.yml:6:5: ", more: []string{"field owner not found"}},
		{name: "invalid promql", args: []string{"testdata/bad/bad_promql_test.yml"},
			want: "testdata/bad/bad_promql.yml:5:11: ", more: []string{`rule 1, "Broken": could not parse expression`, "unclosed left parenthesis"}},
		{name: "invalid template", args: []string{"testdata/bad/bad_template_test.yml"},
			want: "testdata/bad/bad_template.yml:8:7: ", more: []string{`annotation "description"`, "unclosed action"}},
		{name: "invalid for", args: []string{"testdata/bad/bad_for_test.yml"},
			want: "testdata/bad/bad_for.yml:6:10: ", more: []string{`unknown unit "x" in duration "10x"`}},
		{name: "invalid eval_time", args: []string{"testdata/bad/bad_eval_time_test.yml"},
			want: "testdata/bad/bad_eval_time_test.yml:8:16: ", more: []string{`not a valid duration string: "abc"`}},
		{name: "negative eval_time", args: []string{"testdata/bad/negative_eval_time_test.yml"},
			want: "testdata/bad/negative_eval_time_test.yml:9:16: ", more: []string{`"-5m"`}},
		{name: "bad values", args: []string{"testdata/bad/bad_values_test.yml"},
			want: "testdata/bad/bad_values_test.yml:6:13: ", more: []string{"input_series[0]", `unexpected "x"`}},
		{name: "alert test without alertname", args: []string{"testdata/bad/no_alertname_test.yml"},
			want: "testdata/bad/no_alertname_test.yml:8:5: ", more: []string{"misses required attribute alertname"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := run(t, append([]string{"test"}, tc.args...)...)
			require.Equal(t, cli.ExitBadInput, r.code, r)
			// A file's bad input is on stderr, a group's in the report.
			line := errorLine(t, r.stdout+r.stderr, tc.want)
			for _, m := range tc.more {
				require.Contains(t, line, m)
			}
			require.Contains(t, r.stdout, "(1 with bad input)")
		})
	}
}

// errorLine returns the one report line that holds the error starting with
// want.
func errorLine(t *testing.T, stdout, want string) string {
	t.Helper()
	var found []string
	for _, l := range strings.Split(stdout, "\n") {
		if strings.Contains(l, want) {
			found = append(found, l)
		}
	}
	require.Len(t, found, 1, "want one line with %q in:\n%s", want, stdout)
	l := strings.TrimSpace(found[0])
	l = strings.TrimSpace(strings.TrimPrefix(l, "ERROR"))
	require.True(t, strings.HasPrefix(l, want), "line %q does not start with %q", l, want)
	return l
}

func TestBadSeries(t *testing.T) {
	t.Parallel()
	r := run(t, "test", "testdata/bad/bad_series_test.yml")
	require.Equal(t, cli.ExitBadInput, r.code, r)
	// The second input series, `foo{`: its entry (series line 7 or values
	// line 8) with a column.
	require.Regexp(t, `(^|\n)testdata/bad/bad_series_test.yml:[78]:\d+: input_series\[1\]: .*unexpected character inside braces`, r.stderr)
}

func TestIgnoreUnknownFields(t *testing.T) {
	t.Parallel()
	for _, file := range []string{"testdata/bad/unknown_field_test.yml", "testdata/bad/unknown_rule_field_test.yml"} {
		r := run(t, "test", file)
		require.Equal(t, cli.ExitBadInput, r.code, r)
		r = run(t, "test", "--ignore-unknown-fields", file)
		require.Equal(t, cli.ExitOK, r.code, r)
		require.Contains(t, r.stdout, "1 passed, 0 failed")
	}
}

// TestSampleBudget is not parallel: it measures the memory the run takes.
func TestSampleBudget(t *testing.T) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	r := run(t, "test", "testdata/bad/budget_test.yml")
	took := time.Since(start)
	runtime.ReadMemStats(&after)

	require.Equal(t, cli.ExitBadInput, r.code, r)
	line := errorLine(t, r.stderr, "testdata/bad/budget_test.yml:5:3: ")
	require.Contains(t, line, "input series expand to 1000000001 samples, over the limit of 50000000")
	require.Contains(t, line, "--max-samples")
	// Refused before expanding: one billion samples would take many GB.
	require.Less(t, took, 5*time.Second)
	t.Logf("allocated %d bytes", after.TotalAlloc-before.TotalAlloc)
	require.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(64<<20), "allocated %d bytes", after.TotalAlloc-before.TotalAlloc)

	// The limit is the flag's.
	r = run(t, "test", "--max-samples", "3", "testdata/pass_test.yml")
	require.Equal(t, cli.ExitBadInput, r.code, r)
	require.Contains(t, r.stderr, "input series expand to 10 samples, over the limit of 3 (raise it with --max-samples)")
	r = run(t, "test", "--max-series", "1", "testdata/pass_test.yml")
	require.Equal(t, cli.ExitBadInput, r.code, r)
	require.Contains(t, r.stderr, "2 input series, over the limit of 1 (raise it with --max-series)")
	r = run(t, "test", "--max-evals", "2", "testdata/pass_test.yml")
	require.Equal(t, cli.ExitBadInput, r.code, r)
	require.Contains(t, r.stderr, "(raise it with --max-evals)")
}

// TestQuerySampleLimit: a rule or an expression that loads more samples
// than --query-max-samples fails in promtool's words, then says which
// limit it hit and how to raise it.
func TestQuerySampleLimit(t *testing.T) {
	t.Parallel()
	const hint = "(the per-query sample limit; raise it with --query-max-samples)"
	r := run(t, "test", "--query-max-samples", "1", "testdata/pass_test.yml")
	require.Equal(t, cli.ExitFailed, r.code, r)
	require.Contains(t, r.stdout, "rule: job:up:sum, time: 0s, err: query processing would load too many samples into memory in query execution "+hint)

	path := filepath.Join(t.TempDir(), "expr_test.yml")
	require.NoError(t, os.WriteFile(path, []byte(`tests:
- interval: 1m
  input_series:
  - {series: 'up{job="a"}', values: '1x3'}
  - {series: 'up{job="b"}', values: '1x3'}
  - {series: 'up{job="c"}', values: '1x3'}
  promql_expr_test:
  - expr: count(up)
    eval_time: 2m
    exp_samples: [{labels: '{}', value: 3}]
`), 0o644))
	r = run(t, "test", "--query-max-samples", "2", path)
	require.Equal(t, cli.ExitFailed, r.code, r)
	require.Contains(t, r.stdout, "query processing would load too many samples into memory in query execution "+hint)
	r = run(t, "test", "--query-max-samples", "3", path)
	require.Equal(t, cli.ExitOK, r.code, r)
}
