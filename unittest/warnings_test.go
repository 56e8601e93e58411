package unittest

import (
	"bytes"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// runWarnings runs test files of testdata/warnings, durations zeroed.
func runWarnings(t *testing.T, strict bool, names ...string) *Result {
	t.Helper()
	r, err := NewRunner(Options{Parallel: 2, Strict: strict})
	require.NoError(t, err)
	files := make([]string, len(names))
	for i, n := range names {
		files[i] = filepath.Join("testdata", "warnings", n)
	}
	res := r.Run(files...)
	for _, f := range res.Files {
		for _, g := range f.Groups {
			g.Duration = 0
		}
	}
	return res
}

// warningPlaces lists a file's warnings, its own then its groups', as
// "check@line".
func warningPlaces(f *FileResult) []string {
	out := []string{}
	for _, w := range f.Warnings {
		out = append(out, fmt.Sprintf("%s@%d", w.Check, w.Line))
	}
	for _, g := range f.Groups {
		for _, w := range g.Warnings {
			out = append(out, fmt.Sprintf("%s@%d", w.Check, w.Line))
		}
	}
	return out
}

// TestWarnings runs each check's test file: every group passes, as in
// promtool, with the warnings listed and nothing else; with Strict the
// same files fail (exit 1) on them, and a file without warnings passes.
func TestWarnings(t *testing.T) {
	cases := []struct {
		file string
		want []string
	}{
		{"unmatched_test.yml", []string{"rule-files-unmatched@2"}},
		{"after_input_test.yml", []string{"eval-after-input@17", "eval-after-input@29", "eval-after-input@33"}},
		{"for_test.yml", []string{"for-never-elapses@15"}},
		{"no_input_test.yml", []string{
			"alert-reads-no-input@8", "alert-reads-no-input@11", "unknown-alert@18",
			"expr-reads-no-input@22",
		}},
		{"off_grid_test.yml", []string{"eval-time-off-grid@10", "eval-time-off-grid@16"}},
		{"duplicate_test.yml", []string{"duplicate-input-series@7"}},
		{"clean_test.yml", []string{}},
		{"recorded_input_test.yml", []string{}},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			res := runWarnings(t, false, tc.file)
			require.Equal(t, ExitPassed, res.ExitCode(), "promtool passes this file: %v", res.Files[0].Error)
			require.Equal(t, tc.want, warningPlaces(res.Files[0]))
			require.Equal(t, len(tc.want), res.Warnings())

			strict := runWarnings(t, true, tc.file)
			require.Equal(t, tc.want, warningPlaces(strict.Files[0]))
			if len(tc.want) == 0 {
				require.Equal(t, ExitPassed, strict.ExitCode())
				return
			}
			require.Equal(t, ExitFailed, strict.ExitCode(), "--strict fails on warnings")
			for _, g := range strict.Files[0].Groups {
				require.False(t, g.Passed, g.Name)
				require.Contains(t, g.Errors[len(g.Errors)-1], "warning (--strict): ")
			}
		})
	}
}

// TestWarningsReports checks every report format: text, JSON and JUnit,
// plain and strict.
func TestWarningsReports(t *testing.T) {
	files := []string{"unmatched_test.yml", "after_input_test.yml", "for_test.yml", "no_input_test.yml", "off_grid_test.yml", "duplicate_test.yml", "clean_test.yml", "recorded_input_test.yml"}
	for _, strict := range []bool{false, true} {
		res := runWarnings(t, strict, files...)
		suffix := ""
		if strict {
			suffix = "-strict"
		}
		var text, js, junit bytes.Buffer
		require.NoError(t, WriteText(&text, res, false))
		golden(t, "warnings/text"+suffix+".golden", text.Bytes())
		require.NoError(t, WriteJSON(&js, res))
		golden(t, "warnings/json"+suffix+".golden", js.Bytes())
		require.NoError(t, WriteJUnit(&junit, res, time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)))
		golden(t, "warnings/junit"+suffix+".golden", junit.Bytes())
	}
}

// TestYieldsWithoutData covers the expressions whose emptiness cannot be
// told from their inputs: those give no reads-no-input warnings.
func TestYieldsWithoutData(t *testing.T) {
	r, err := NewRunner(Options{})
	require.NoError(t, err)
	p := r.opts.Engine.Parser()
	for expr, want := range map[string]bool{
		`up`:                             false,
		`up == 0`:                        false,
		`sum by (job) (rate(x[5m])) > 1`: false,
		`absent(up)`:                     true,
		`absent_over_time(up[5m])`:       true,
		`up or vector(0)`:                true,
		`vector(1)`:                      true,
		`up unless absent(x)`:            false,
		`absent(x) unless up`:            true,
		`time() - x > 10`:                false,
		`scalar(up) > bool 1`:            true,
		`label_replace(vector(1), "a", "b", "", "")`: true,
		`up and on() vector(1)`:                      false,
		`1 > bool 0`:                                 true,
		`histogram_quantile(0.9, rate(h[5m]))`:       false,
	} {
		e, err := p.ParseExpr(expr)
		require.NoError(t, err, expr)
		require.Equal(t, want, yieldsWithoutData(e), expr)
	}
}

// TestStrictFileWarningWithoutGroups: a file's own warning fails a strict
// run even when --run selects none of its groups.
func TestStrictFileWarningWithoutGroups(t *testing.T) {
	for strict, want := range map[bool]int{false: ExitPassed, true: ExitFailed} {
		r, err := NewRunner(Options{Strict: strict, Run: []string{"^no such group$"}})
		require.NoError(t, err)
		res := r.Run(filepath.Join("testdata", "warnings", "unmatched_test.yml"))
		require.Empty(t, res.Files[0].Groups)
		require.Equal(t, 1, res.Warnings())
		require.Equal(t, want, res.ExitCode(), "strict=%v", strict)
	}
}

// TestShippedTestsHaveNoWarnings: the shipped tests mean what they say,
// stale markers and gaps included.
func TestShippedTestsHaveNoWarnings(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "testdata", "series", "*_test.yml"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	r, err := NewRunner(Options{})
	require.NoError(t, err)
	res := r.Run(files...)
	require.Equal(t, ExitPassed, res.ExitCode())
	for _, f := range res.Files {
		require.Empty(t, warningPlaces(f), f.File)
	}
}
