package sandbox

import (
	"errors"
	"fmt"
	"testing"

	"github.com/prometheus/prometheus/promql"
	"github.com/stretchr/testify/require"

	"github.com/gotk-rules/gotk-rules/budget"
)

// The sandbox words exceeded budgets with gotk-rules serve's flags, never
// the test command's.
func TestLimitMessage(t *testing.T) {
	t.Parallel()
	series := &budget.ExceededError{Budget: budget.InputSeries, Limit: 2, Asked: 3, Subject: "3 input series"}
	samples := &budget.ExceededError{Budget: budget.InputSamples, Limit: 3, Asked: 4, Subject: "input series expand to 4 samples"}
	evals := &budget.ExceededError{Budget: budget.GroupEvaluations, Limit: 5, Asked: 6, Subject: "6 evaluations"}
	query := &budget.ExceededError{Budget: budget.QuerySamples, Limit: 7, Asked: 8, Subject: "8 samples"}
	cases := []struct {
		name string
		err  error
		want string
	}{
		{"series", series, "3 input series, over the sandbox's limit of 2 (gotk-rules serve --max-series)"},
		{"samples", fmt.Errorf("wrapped: %w", samples), "the input series expand to 4 samples, over the sandbox's limit of 3 (gotk-rules serve --max-samples)"},
		{"evaluations", evals, "6 evaluations, over the limit of 5 (gotk-rules serve --max-evals)"},
		{"a budget the sandbox sets no flag for", query, "8 samples, over the limit of 7"},
		{"Prometheus' sample limit, named", fmt.Errorf("rule: %w", promql.ErrTooManySamples("query execution")),
			"rule: query processing would load too many samples into memory in query execution (the per-query sample limit)"},
		{"no budget", errors.New("bad"), "bad"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, c.want, limitMessage(c.err))
		})
	}
}

// A scenario over the sandbox's budgets is placed and says the sandbox's
// flag.
func TestScenarioBudgets(t *testing.T) {
	t.Parallel()
	const text = "duration: 10m\nobjects:\n  - {kind: Kustomization, name: a, namespace: b}\n"
	cases := []struct {
		name string
		lim  Limits
		want []Problem
	}{
		{name: "series", lim: Limits{MaxSeries: 1, MaxSamples: 1 << 30, MaxEvals: 1 << 30}, want: []Problem{
			inputProblem(1, 1, "the scenario asks for 6 series, over the limit of 1 (gotk-rules serve --max-series)")}},
		{name: "samples", lim: Limits{MaxSeries: 100, MaxSamples: 10, MaxEvals: 1 << 30}, want: []Problem{
			inputProblem(1, 1, "the scenario asks for about 126 samples, over the limit of 10 (gotk-rules serve --max-samples)")}},
		{name: "evaluations", lim: Limits{MaxSeries: 100, MaxSamples: 1 << 30, MaxEvals: 5}, want: []Problem{
			inputProblem(1, 11, "replaying 10m every 1m takes 11 evaluations, over the sandbox's limit of 5 (gotk-rules serve --max-evals)")}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			in, problems := parseScenario([]byte(text), c.lim)
			require.Nil(t, in)
			require.Equal(t, c.want, problems)
		})
	}
}
