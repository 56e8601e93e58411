package cli_test

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gotk-rules/gotk-rules/cli"
	"github.com/gotk-rules/gotk-rules/internal/racemode"
)

// hostileFiles writes a rule file with rules and a test file whose group
// has one input series and either an alert test of alert A (expr == "") or
// a test of expr, and returns the test file.
func hostileFiles(t *testing.T, rules, series, values, expr string) string {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "rules.yml"), []byte("groups:\n- name: g\n  rules:\n"+rules), 0o644))
	test := fmt.Sprintf("rule_files: [rules.yml]\nevaluation_interval: 1m\ntests:\n- interval: 1m\n  input_series:\n  - series: '%s'\n    values: '%s'\n", series, values)
	if expr == "" {
		test += "  alert_rule_test:\n  - eval_time: 2m\n    alertname: A\n"
	} else {
		test += fmt.Sprintf("  promql_expr_test:\n  - expr: '%s'\n    eval_time: 2m\n", expr)
	}
	file := filepath.Join(dir, "test.yml")
	require.NoError(t, os.WriteFile(file, []byte(test), 0o644))
	return file
}

const recordX = "  - record: r\n    expr: x\n"

// alertWith is alert A on x with one annotation s.
func alertWith(annotation string) string {
	return "  - alert: A\n    expr: x > 0\n    annotations:\n      s: '" + annotation + "'\n"
}

func labelJoins(n int) string {
	e := "x"
	for range n {
		e = fmt.Sprintf(`label_join(%s, "a", "", "a", "a")`, e)
	}
	return e
}

// TestGuard runs each hostile input: refused as bad input (exit 2) with
// one error line naming the limit and how to raise it, in little memory,
// where Prometheus' engine runs out of memory or stack.
// Not parallel: it measures what each run allocates.
//
// Under -race the cases marked big are skipped: they run in test-unit's
// plain run (Makefile, FULL_TESTS), in full. Their work is one goroutine's
// scan of megabytes (a 17 MiB label, a 2 MiB expression) or a million
// template steps, which the race detector makes ten to thirty times dearer
// (70 CPU seconds of 90 in cli's -race run) and in which it has no
// concurrency to check; the other cases, cheap, still run under it.
func TestGuard(t *testing.T) {
	for _, tc := range []struct {
		name, rules, series, values, expr string
		// args are more flags for the run.
		args []string
		// want is in the error line; at is where it starts (after the
		// temporary directory).
		want, at string
		// big runs only without -race (see above).
		big bool
	}{
		{name: "subquery in a test expression", rules: recordX, expr: "max_over_time(x[100y:1ms])",
			want: "1:15: subquery x[100y:1ms] takes 3153600000001 query steps per evaluation, over the limit of 5000000 (raise it with --limit query-steps=N)", at: "test.yml:9:"},
		{name: "subquery in a rule", rules: "  - record: r\n    expr: max_over_time(x[100y:1ms])\n",
			want: "could not parse expression: 1:15: subquery x[100y:1ms] takes 3153600000001 query steps", at: "rules.yml:5:11:"},
		{name: "subquery without step in a rule", rules: "  - record: r\n    expr: max_over_time(x[100y:])\n",
			want: "query steps per evaluation, over the limit of 5000000 (raise it with --limit query-steps=N)", at: "rules.yml:5:11:"},
		{name: "subquery in a template query", rules: alertWith(`{{ query "max_over_time(x[100y:1ms])" }}`),
			want: `annotation "s": query "max_over_time(x[100y:1ms])": 1:15: subquery x[100y:1ms] takes 3153600000001 query steps`, at: "rules.yml:7:7:"},
		{name: "subquery built in a template", rules: alertWith(`{{ query (printf "max_over_time(x[100y:%s])" "1ms") }}`),
			want: "error calling query: 1:15: subquery x[100y:1ms] takes 3153600000001 query steps per evaluation, over the limit of 5000000 (raise it with --limit query-steps=N)"},
		{name: "nested calls", rules: recordX, expr: strings.Repeat("abs(", 5000) + "x" + strings.Repeat(")", 5000),
			want: "1:4004: expression depth of more than 1000: brackets nested 1001 deep, over the limit of 1000 (raise it with --limit expr-depth=N)"},
		{name: "nested parentheses", rules: recordX, expr: strings.Repeat("(", 50000) + "x" + strings.Repeat(")", 50000),
			want: "expression depth of more than 1000: brackets nested 1001 deep, over the limit of 1000 (raise it with --limit expr-depth=N)"},
		{name: "or chain", rules: recordX, expr: strings.Repeat("x or ", 50000) + "x",
			want: "1:10003: expression of more than 2000 operators, over the limit of 2000 (raise it with --limit expr-operators=N)"},
		{name: "long expression", rules: recordX, expr: `x{a="` + strings.Repeat("a", 2<<20) + `"}`, big: true,
			want: "expression of 2097159 bytes, over the limit of 1048576 (raise it with --limit expr-bytes=N)"},
		{name: "label_join doubling", rules: recordX, series: `x{a="abcdefgh"}`, expr: labelJoins(30),
			want: "label_join nesting has a label growth of 1073741824 (a label value may get 1073741824 times as long), over the limit of 1024 (raise it with --limit label-growth=N)"},
		{name: "label_join doubling in a rule", rules: "  - record: r\n    expr: '" + labelJoins(30) + "'\n",
			want: "label growth of 1073741824", at: "rules.yml:5:11:"},
		{name: "template loop", rules: alertWith("{{ range 300000000 }}{{ end }}"),
			want: `annotation "s": template 1:10: range loops taking 300000000 template steps, over the limit of 1000000 (raise it with --limit template-steps=N)`, at: "rules.yml:7:7:"},
		{name: "template loop at run time", rules: alertWith("{{ range .Labels }}{{ range 999999 }}{{ end }}{{ end }}"), series: `x{a="1", b="2"}`,
			// A million steps take seconds on a slow machine: the
			// template-time limit (10s) must not come first.
			args: []string{"--limit", "template-time=10m"}, big: true,
			want: `rule: A, time: 0s, err: alert "A", s: template __alert_A: expansion taking more than 1000000 template steps, over the limit of 1000000 (raise it with --limit template-steps=N)`},
		{name: "template string growth", rules: alertWith(`{{ "ab"` + strings.Repeat(` | reReplaceAll "" "xxxxxxxxxx"`, 12) + " }}"),
			want: "reReplaceAll result (at most) of 5314682 bytes, more than the template output bytes, over the limit of 1048576 (raise it with --limit template-bytes=N)"},
		{name: "template output", rules: alertWith(`{{ range 100000 }}xxxxxxxxxxxxxxxxxxxx{{ end }}`),
			want: "output of 1048580 bytes, more than the template output bytes, over the limit of 1048576 (raise it with --limit template-bytes=N)"},
		{name: "input label past 16 MiB", rules: recordX, series: `x{a="` + strings.Repeat("a", 17<<20) + `"}`, big: true,
			want: "1:5: string of 17825792 bytes, longer than the 16777216 bytes Prometheus can hold in a label", at: "test.yml:7:13:"},
		{name: "native histogram buckets", rules: recordX, values: "{{schema:0 sum:1 count:1 buckets:[" + strings.TrimSpace(strings.Repeat("1 ", 100_000)) + "]}}x1000",
			want: "input series expand to 100101001 samples, over the limit of 50000000 (raise it with --max-samples)", at: "test.yml:6:3:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.big && racemode.Enabled {
				t.Skip("megabytes or a million steps in one goroutine: runs without -race, in test-unit's plain run (Makefile)")
			}
			if tc.series == "" {
				tc.series = "x"
			}
			if tc.values == "" {
				tc.values = "1 2 3"
			}
			file := hostileFiles(t, tc.rules, tc.series, tc.values, tc.expr)
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			start := time.Now()
			r := run(t, append([]string{"test", file}, tc.args...)...)
			took := time.Since(start)
			runtime.ReadMemStats(&after)

			require.Equal(t, cli.ExitBadInput, r.code, r)
			require.NotContains(t, r.stdout+r.stderr, "goroutine ")
			require.NotContains(t, r.stdout+r.stderr, "internal error")
			// At most one line on stderr; the report may carry it too.
			require.LessOrEqual(t, strings.Count(strings.TrimSuffix(r.stderr, "\n"), "\n"), 0, r.stderr)
			var lines []string
			for _, l := range strings.Split(r.stdout+"\n"+r.stderr, "\n") {
				if strings.Contains(l, tc.want) {
					lines = append(lines, strings.TrimSpace(l))
				}
			}
			require.NotEmpty(t, lines, "want a line with %q in:\n%s", tc.want, r)
			require.LessOrEqual(t, len(lines), 2, "want the error once in the report and at most once on stderr:\n%s", r)
			for _, l := range lines {
				if tc.at != "" {
					require.Contains(t, l, string(filepath.Separator)+tc.at, l)
				}
			}
			alloc := after.TotalAlloc - before.TotalAlloc
			t.Logf("allocated %d MB in %s", alloc>>20, took)
			require.Less(t, alloc, uint64(1<<30), "allocated %d bytes", alloc)
		})
	}
}

// TestGuardRaise shows each limit is the --limit flag's.
func TestGuardRaise(t *testing.T) {
	file := hostileFiles(t, recordX, "x", "1 2 3", "max_over_time(x[2h:1s])")
	r := run(t, "test", file)
	require.Equal(t, cli.ExitFailed, r.code, r) // evaluated: no expected samples
	r = run(t, "test", "--limit", "query-steps=7000", file)
	require.Equal(t, cli.ExitBadInput, r.code, r)
	require.Contains(t, r.stdout, "takes 7201 query steps per evaluation, over the limit of 7000 (raise it with --limit query-steps=N)")

	// The template steps, raised past the default: the loop is counted
	// before the template runs (Limits.CheckTemplate counts both branches
	// of an if), and it never runs, so that raising the limit costs no
	// million steps (seconds under -race, near the template-time limit on
	// a loaded machine).
	file = hostileFiles(t, alertWith("{{ if false }}{{ range 1100000 }}{{ end }}{{ end }}"), "x", "1 2 3", "")
	r = run(t, "test", file)
	require.Equal(t, cli.ExitBadInput, r.code, r)
	require.Contains(t, r.stderr, "range loops taking 1100000 template steps, over the limit of 1000000 (raise it with --limit template-steps=N)")
	r = run(t, "test", "--limit", "template-steps=1200000", file)
	require.Equal(t, cli.ExitFailed, r.code, r) // evaluated: the alert fires, none expected
	// The template steps counted as the template runs (two labels, 1,100
	// steps each) follow the flag too, lowered and raised back.
	file = hostileFiles(t, alertWith("{{ range .Labels }}{{ range 1100 }}{{ end }}{{ end }}"), `x{a="1"}`, "1 2 3", "")
	r = run(t, "test", file)
	require.Equal(t, cli.ExitFailed, r.code, r) // 2,200 steps: under the default
	r = run(t, "test", "--limit", "template-steps=2000", file)
	require.Equal(t, cli.ExitBadInput, r.code, r)
	require.Contains(t, r.stderr, "expansion taking more than 2000 template steps, over the limit of 2000 (raise it with --limit template-steps=N)")
	r = run(t, "test", "--limit", "template-steps=1100", "--limit", "template-steps=3000", file)
	require.Equal(t, cli.ExitFailed, r.code, r)

	r = run(t, "test", "--limit", "query-steps", file)
	require.Equal(t, cli.ExitBadInput, r.code, r)
	require.Equal(t, `gotk-rules: --limit: limit "query-steps": want NAME=VALUE, NAME one of expr-bytes, expr-depth, expr-operators, query-steps, label-growth, label-bytes, template-steps, template-bytes, template-time`+"\n", r.stderr)
	r = run(t, "test", "--limit", "nope=3", file)
	require.Equal(t, cli.ExitBadInput, r.code, r)
	require.Contains(t, r.stderr, `unknown limit "nope"`)
}

// TestGuardManyLabels: an alert on a series of 100,000 labels is built and
// reported in memory linear in its labels (the run allocates what a few
// copies of them take, where copying the label set once per label would
// take hundreds of gigabytes), and refused over the label bytes limit.
// Not parallel: it measures what the run allocates. Like TestGuard's big
// cases it runs only without -race (test-unit's plain run, FULL_TESTS):
// one goroutine over 100,000 labels, 11 s under the race detector.
func TestGuardManyLabels(t *testing.T) {
	if racemode.Enabled {
		t.Skip("100,000 labels in one goroutine: runs without -race, in test-unit's plain run (Makefile)")
	}
	var b strings.Builder
	for i := range 100_000 {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `l%d="v"`, i)
	}
	file := hostileFiles(t, "  - alert: A\n    expr: x > 0\n    labels:\n      severity: page\n", "x{"+b.String()+"}", "1 1 1", "")
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	r := run(t, "test", file)
	runtime.ReadMemStats(&after)
	require.Equal(t, cli.ExitFailed, r.code, r) // the alert fires; none is expected
	require.Contains(t, r.stdout, `got:      {alertname="A", l0="v", l1="v", l10="v"`)
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("allocated %d MB", alloc>>20)
	require.Less(t, alloc, uint64(1<<30), "allocated %d bytes", alloc)

	// A label set over the label bytes limit is refused.
	r = run(t, "test", "--limit", "label-bytes=100K", file)
	require.Equal(t, cli.ExitBadInput, r.code, r)
	require.Contains(t, r.stderr, `alert "A": 100002 labels of 688912 label bytes in all, over the limit of 409600 (raise it with --limit label-bytes=N)`)
}
