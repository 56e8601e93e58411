package sandbox

import (
	"fmt"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/require"

	"github.com/gotk-rules/gotk-rules/unittest"
)

// The sandbox reads promtool input series as the test runner does: the
// same series, the same sample count against the budget, the same error at
// the same column. Each case is read by both and compared.
func TestParseInputAsTheRunner(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name       string
		list       string // the input editor: a list of series
		maxSamples uint64
		series     []string // the series read, when it reads
		line, col  int      // of the problem, when it does not
		problem    string   // in the sandbox's words
		runner     string   // the same, in the runner's
	}{
		{
			name:   "a comment entry ends the list",
			list:   "- series: up\n  values: 1 2\n- series: '# off'\n- series: down\n  values: 1 2\n",
			series: []string{`{__name__="up"}`},
		},
		{
			name:   "a blank line in the values ends the list",
			list:   "- series: up\n  values: \"1 2\\n\\n3\"\n- series: down\n  values: 1 2\n",
			series: []string{`{__name__="up"}`},
		},
		{
			name:   "a comment line in the values ends the list",
			list:   "- series: up\n  values: \"1 2\\n# 3\"\n- series: down\n  values: 1 2\n",
			series: []string{`{__name__="up"}`},
		},
		{
			name:       "label values are not counted as samples",
			list:       "- series: 'up{instance=\"x1000\"}'\n  values: 1 2 3\n",
			maxSamples: 3,
			series:     []string{`{__name__="up", instance="x1000"}`},
		},
		{
			name:       "values in the series field are counted",
			list:       "- series: 'up{job=\"a\"} 1 2'\n  values: 3 4\n",
			maxSamples: 3,
			line:       1,
			col:        1,
			problem:    "the input series expand to 4 samples, over the sandbox's limit of 3 (gotk-rules serve --max-samples)",
			runner:     "input series expand to 4 samples, over the limit of 3",
		},
		{
			name:    "the column counts the values' leading spaces",
			list:    "- series: 'up{job=\"a\"}'\n  values: '  1 2 x3'\n",
			line:    2,
			col:     11,
			problem: `input_series[0]: values "  1 2 x3", column 7: unexpected "x"`,
		},
		{
			name:    "the column of a metric",
			list:    "- series: up\n  values: 1\n- series: 'up{=}'\n  values: 1\n",
			line:    3,
			col:     11,
			problem: `input_series[1]: series "up{=}", column 4: unexpected "=" in label set, expected identifier or "}"`,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			lim := DefaultLimits
			if c.maxSamples > 0 {
				lim.MaxSamples = c.maxSamples
			}
			in, problems := parseInput([]byte(c.list), 0, lim)
			groups := runAsTestFile(t, c.list, lim)
			require.Len(t, groups, 1)
			if c.problem == "" {
				require.Empty(t, problems)
				var got []string
				for _, s := range in.series {
					got = append(got, s.Labels.String())
				}
				require.Equal(t, c.series, got)
				require.True(t, groups[0].Passed, "the runner: %v", groups[0].Errors)
				return
			}
			require.Nil(t, in)
			require.Equal(t, []Problem{inputProblem(c.line, c.col, c.problem)}, problems)
			runner := c.runner
			if runner == "" {
				runner = c.problem
			}
			require.False(t, groups[0].Passed)
			require.Len(t, groups[0].Errors, 1)
			require.True(t, strings.HasSuffix(groups[0].Errors[0], ": "+runner), "the runner: %q, want it to end with %q", groups[0].Errors[0], runner)
		})
	}
}

// runAsTestFile runs the series as the only test group of a test file,
// under the sandbox's budgets, and returns the group's result.
func runAsTestFile(t *testing.T, list string, lim Limits) []*unittest.GroupResult {
	t.Helper()
	var b strings.Builder
	b.WriteString("tests:\n- input_series:\n")
	for _, l := range strings.SplitAfter(list, "\n") {
		if l != "" {
			fmt.Fprintf(&b, "  %s", l)
		}
	}
	r, err := unittest.NewRunner(unittest.Options{
		FS:         fstest.MapFS{"in_test.yml": {Data: []byte(b.String())}},
		MaxSamples: lim.MaxSamples,
		MaxSeries:  lim.MaxSeries,
		Parallel:   1,
	})
	require.NoError(t, err)
	res := r.Run("in_test.yml")
	require.Len(t, res.Files, 1)
	require.Empty(t, res.Files[0].Error)
	return res.Files[0].Groups
}
