package mutate

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gotk-rules/gotk-rules/evaluator"
	"github.com/gotk-rules/gotk-rules/rulefile"
	"github.com/gotk-rules/gotk-rules/unittest"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// golden compares got with testdata/golden/name, or writes it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run with -update to create it")
	require.Equal(t, string(want), got)
}

// describe writes mutants one a line, each with the lines of the rule file
// it changed.
func describe(orig []byte, ms []Mutant) string {
	var b strings.Builder
	before := strings.Split(string(orig), "\n")
	for _, m := range ms {
		fmt.Fprintf(&b, "%d:%d %s %s: %q -> %q", m.Line, m.Column, m.Operator, m.Rule, m.Original, m.Mutated)
		if m.Invalid != "" {
			fmt.Fprintf(&b, " (invalid: %s)", m.Invalid)
		}
		b.WriteByte('\n')
		after := strings.Split(string(m.Content), "\n")
		for i := range after {
			if i < len(before) && before[i] != after[i] {
				fmt.Fprintf(&b, "    %d| %s\n", i+1, after[i])
			}
		}
	}
	return b.String()
}

func TestOperatorsGolden(t *testing.T) {
	p := evaluator.NewEngine(evaluator.Options{}).Parser()
	src, err := os.ReadFile("testdata/operators/rules.yml")
	require.NoError(t, err)
	for _, op := range Operators {
		t.Run(op.Name, func(t *testing.T) {
			ms, err := Generate(p, "rules.yml", src, []Operator{op}, []string{"env"})
			require.NoError(t, err)
			require.NotEmpty(t, ms, "every operator has something to change in rules.yml")
			for _, m := range ms {
				require.Equal(t, op.Name, m.Operator)
			}
			golden(t, op.Name+".golden", describe(src, ms))
		})
	}
}

// Every mutant keeps every line where it was, changes its own rule only,
// and loads (unless it is marked invalid).
func TestMutantsKeepLinesAndLoad(t *testing.T) {
	p := evaluator.NewEngine(evaluator.Options{}).Parser()
	for _, path := range []string{"testdata/operators/rules.yml", "testdata/styles/rules.yml", "../rules/flux-reconciliation.yml", "../rules/flux-operator.yml"} {
		src, err := os.ReadFile(path)
		require.NoError(t, err)
		orig, err := rulefile.ParseBytes(p, path, src, false)
		require.NoError(t, err)
		ms, err := Generate(p, path, src, Operators, nil)
		require.NoError(t, err)
		require.NotEmpty(t, ms)
		for _, m := range ms {
			require.Equal(t, bytes.Count(src, []byte("\n")), bytes.Count(m.Content, []byte("\n")), "%s %d:%d %s", path, m.Line, m.Column, m.Operator)
			require.NotEqual(t, string(src), string(m.Content))
			if m.Invalid != "" {
				continue
			}
			got, err := rulefile.ParseBytes(p, path, m.Content, false)
			require.NoError(t, err, "%s %d:%d %s %q -> %q\n%s", path, m.Line, m.Column, m.Operator, m.Original, m.Mutated, m.Content)
			changed := 0
			for gi, g := range got.Groups {
				for ri, r := range g.RuleGroup.Rules {
					o := orig.Groups[gi].RuleGroup.Rules[ri]
					if fmt.Sprint(r) != fmt.Sprint(o) {
						changed++
						require.Equal(t, m.Rule, r.Alert+r.Record)
					}
				}
			}
			require.Equal(t, 1, changed, "%s %d:%d %s %q -> %q changes one rule", path, m.Line, m.Column, m.Operator, m.Original, m.Mutated)
		}
	}
}

func TestSelectOperators(t *testing.T) {
	ops, err := SelectOperators([]string{"for", " threshold", "for"})
	require.NoError(t, err)
	require.Len(t, ops, 2)
	require.Equal(t, "for", ops[0].Name)
	_, err = SelectOperators([]string{"nope"})
	require.ErrorContains(t, err, `unknown operator "nope" (known: comparison, threshold, for,`)
	all, err := SelectOperators(nil)
	require.NoError(t, err)
	require.Len(t, all, len(Operators))
}

func TestNarrowRegexp(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"a|b|c", "a|b", true},
		{"(a|b)c", "", false},
		{"foo.*", "foo", true},
		{".+bar", "bar", true},
		{".*", "", false},
		{`a\|b`, "", false},
		{"[|]x|y", "[|]x", true},
	} {
		got, ok := narrowRegexp(tc.in)
		require.Equal(t, tc.ok, ok, tc.in)
		require.Equal(t, tc.want, got, tc.in)
	}
}

func TestNumberStep(t *testing.T) {
	for _, tc := range []struct {
		in   string
		step float64
		dec  int
	}{{"0.95", 0.01, 2}, {"100", 1, 0}, {"5.", 1, 0}, {"1e3", 0, 0}, {"0x10", 0, 0}, {"-0.5", 0.1, 1}} {
		step, dec := numberStep(tc.in)
		require.InDelta(t, tc.step, step, 1e-12, tc.in)
		require.Equal(t, tc.dec, dec, tc.in)
	}
}

func runFor(t *testing.T, files ...string) *Report {
	t.Helper()
	ops, err := SelectOperators([]string{"for"})
	require.NoError(t, err)
	rep, err := Run(context.Background(), Options{Operators: ops}, files)
	require.NoError(t, err)
	return rep
}

func find(t *testing.T, rep *Report, mutated string) Result {
	t.Helper()
	for _, m := range rep.Mutants {
		if m.Mutated == mutated {
			return m
		}
	}
	t.Fatalf("no mutant %q in %+v", mutated, rep.Mutants)
	return Result{}
}

// The "done when": a test that only asserts the alert fires at 15m
// lets the shortened `for` survive; asserting it pending at 9m kills it.
func TestShortenedForSurvivesUntilPendingIsAsserted(t *testing.T) {
	rep := runFor(t, "testdata/for/fires_test.yml")
	short := find(t, rep, "for: 5m")
	require.Equal(t, Survived, short.Status)
	require.Empty(t, short.KilledBy)
	require.Equal(t, "testdata/for/rules.yml", short.File)
	require.Equal(t, 6, short.Line)
	require.Equal(t, 14, short.Column)
	require.Equal(t, "HighErrorRate", short.Rule)
	require.Contains(t, short.Suggestion, "still pending, not firing, between 5m and 10m")
	// Doubled, the alert is not yet firing at 15m: killed.
	long := find(t, rep, "for: 20m")
	require.Equal(t, Killed, long.Status)
	require.Equal(t, []string{"testdata/for/fires_test.yml:fires at 15m"}, long.KilledBy)

	rep = runFor(t, "testdata/for/pending_test.yml")
	short = find(t, rep, "for: 5m")
	require.Equal(t, Killed, short.Status)
	require.Equal(t, []string{"testdata/for/pending_test.yml:pending at 9m, fires at 15m"}, short.KilledBy)
	require.Empty(t, short.Suggestion)
	require.Equal(t, Killed, find(t, rep, "for: 0s").Status)
	require.NotNil(t, rep.Score)
	require.InDelta(t, 100, *rep.Score, 1e-9)
}

// Only the groups that load the mutated rule file run, and the rule file
// on disk is never changed.
func TestOnlyGroupsLoadingTheFileRun(t *testing.T) {
	before, err := os.ReadFile("testdata/for/rules.yml")
	require.NoError(t, err)
	var ran []string
	ops, _ := SelectOperators([]string{"for"})
	opts := Options{Operators: ops, Parallel: 1}
	rep, err := Run(context.Background(), opts, []string{"testdata/for/fires_test.yml", "testdata/other/other_test.yml"})
	require.NoError(t, err)
	for _, m := range rep.Mutants {
		require.Equal(t, "testdata/for/rules.yml", m.File)
		for _, k := range m.KilledBy {
			ran = append(ran, k)
		}
	}
	require.NotContains(t, strings.Join(ran, " "), "other_test.yml")
	after, err := os.ReadFile("testdata/for/rules.yml")
	require.NoError(t, err)
	require.Equal(t, before, after)
	// The other file's rule has no for: it has no mutant of this operator.
	require.Len(t, rep.Mutants, 3)
}

func TestBaselineFailureIsAnError(t *testing.T) {
	_, err := Run(context.Background(), Options{}, []string{"testdata/failing/failing_test.yml"})
	var be *BaselineError
	require.ErrorAs(t, err, &be)
	require.Equal(t, []string{"testdata/failing/failing_test.yml:wrong expectation"}, be.Failed)
}

func TestBudgetAndTimeout(t *testing.T) {
	rep, err := Run(context.Background(), Options{Budget: 2}, []string{"testdata/for/fires_test.yml"})
	require.NoError(t, err)
	require.Len(t, rep.Mutants, 2)
	require.Equal(t, 2, rep.Budget)
	require.Greater(t, rep.Generated, 2)

	rep, err = Run(context.Background(), Options{Timeout: time.Nanosecond}, []string{"testdata/for/fires_test.yml"})
	require.NoError(t, err)
	require.NotEmpty(t, rep.Mutants)
	for _, m := range rep.Mutants {
		require.Equal(t, Timeout, m.Status, "%+v", m)
	}
	require.Nil(t, rep.Score)
}

func TestInvalidMutantIsAnError(t *testing.T) {
	rep, err := Run(context.Background(), Options{}, []string{"testdata/invalid/invalid_test.yml"})
	require.NoError(t, err)
	errs := 0
	for _, m := range rep.Mutants {
		if m.Status == Error {
			errs++
			require.NotEmpty(t, m.Error)
		}
	}
	require.Positive(t, errs, "a mutant that does not load is an error: %+v", rep.Mutants)
	k, s := rep.Count(Killed), rep.Count(Survived)
	require.InDelta(t, float64(k)*100/float64(k+s), *rep.Score, 1e-9)
}

// Scenario files run through the same runner.
func TestScenario(t *testing.T) {
	ops, _ := SelectOperators([]string{"for"})
	rep, err := Run(context.Background(), Options{Operators: ops}, []string{"../testdata/series/operator-report-lag.scenario.yml"})
	require.NoError(t, err)
	require.NotEmpty(t, rep.Mutants)
	for _, m := range rep.Mutants {
		require.Equal(t, "../rules/flux-operator.yml", filepath.ToSlash(m.File))
		require.Contains(t, []Status{Killed, Survived}, m.Status)
	}
	require.Positive(t, rep.Count(Killed), "%+v", rep.Mutants)
}

func TestReportsGolden(t *testing.T) {
	rep, err := Run(context.Background(), Options{}, []string{"testdata/for/fires_test.yml"})
	require.NoError(t, err)
	for _, tc := range []struct {
		name  string
		write func(*bytes.Buffer, *Report) error
	}{
		{"report.txt", func(b *bytes.Buffer, r *Report) error { return WriteText(b, r) }},
		{"report.json", func(b *bytes.Buffer, r *Report) error { return WriteJSON(b, r) }},
		{"report.xml", func(b *bytes.Buffer, r *Report) error { return WriteJUnit(b, r) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			require.NoError(t, tc.write(&b, rep))
			golden(t, tc.name, b.String())
		})
	}
}

// BenchmarkMutateShipped runs every mutant of the shipped rules under the
// shipped tests and scenarios.
func BenchmarkMutateShipped(b *testing.B) {
	tests, err := filepath.Glob("../testdata/series/*_test.yml")
	require.NoError(b, err)
	scenarios, err := filepath.Glob("../testdata/series/*.scenario.yml")
	require.NoError(b, err)
	files := append(tests, scenarios...)
	for b.Loop() {
		rep, err := Run(context.Background(), Options{Unit: unittest.Options{}}, files)
		require.NoError(b, err)
		b.ReportMetric(float64(len(rep.Mutants)), "mutants")
		if rep.Score != nil {
			b.ReportMetric(*rep.Score, "score%")
		}
	}
}
