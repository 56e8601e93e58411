package cli

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/prometheus/promql"
	"github.com/stretchr/testify/require"

	"github.com/gotk-rules/gotk-rules/budget"
	"github.com/gotk-rules/gotk-rules/evaluator"
)

// Every budget a library reports is raised by a flag the hint names.
func TestBudgetHint(t *testing.T) {
	t.Parallel()
	exceeded := func(b budget.Name) error {
		return &budget.ExceededError{Budget: b, Limit: 1, Asked: 2, Subject: "2 things"}
	}
	tooMany := promql.ErrTooManySamples("query execution")
	cases := []struct {
		name string
		err  error
		want string
	}{
		{"input series", exceeded(budget.InputSeries), " (raise it with --max-series)"},
		{"input samples", exceeded(budget.InputSamples), " (raise it with --max-samples)"},
		{"group evaluations", exceeded(budget.GroupEvaluations), " (raise it with --max-evals)"},
		{"query samples", exceeded(budget.QuerySamples), " (raise it with --query-max-samples)"},
		{"backtest evaluations", exceeded(budget.BacktestEvaluations), " (raise --step or --max-evals)"},
		{"a budget the command line sets no flag for", exceeded("other"), ""},
		{"Prometheus' sample limit, named", tooMany, " (the per-query sample limit; raise it with --query-max-samples)"},
		{"Prometheus' sample limit in a rule's error", evaluator.RuleError{Group: "g", Rule: "r", Err: tooMany},
			" (the per-query sample limit; raise it with --query-max-samples)"},
		{"no budget", errors.New("bad"), ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, c.want, budgetHint(c.err))
		})
	}
}

// The command line's messages: the library's words, then the flag.
func TestBudgetExplained(t *testing.T) {
	t.Parallel()
	at := time.Unix(60, 0)
	tooMany := promql.ErrTooManySamples("query execution")
	cases := []struct {
		name string
		err  error
		want string
	}{
		{
			name: "a scenario over two budgets",
			err: fmt.Errorf("x.yml: %w", errors.Join(
				fmt.Errorf("x.yml:1:1: %w", &budget.ExceededError{Budget: budget.InputSeries, Limit: 5, Asked: 24, Subject: "the scenario asks for 24 series"}),
				fmt.Errorf("x.yml:1:1: %w", &budget.ExceededError{Budget: budget.InputSamples, Limit: 9, Asked: 10, Subject: "the scenario asks for about 10 samples"}))),
			want: "x.yml: x.yml:1:1: the scenario asks for 24 series, over the limit of 5 (raise it with --max-series)\n" +
				"x.yml:1:1: the scenario asks for about 10 samples, over the limit of 9 (raise it with --max-samples)",
		},
		{
			name: "two rules over the query sample limit",
			err: errors.Join(evaluator.RuleError{Group: "g", Rule: "a", Time: at, Err: tooMany},
				evaluator.RuleError{Group: "g", Rule: "b", Time: at, Err: tooMany}),
			want: `group "g", rule "a", time 1970-01-01T00:01:00Z: query processing would load too many samples into memory in query execution (the per-query sample limit; raise it with --query-max-samples)` + "\n" +
				`group "g", rule "b", time 1970-01-01T00:01:00Z: query processing would load too many samples into memory in query execution (the per-query sample limit; raise it with --query-max-samples)`,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, c.want, budget.Explain(c.err, budgetHint))
		})
	}
}

// A scenario over its budgets: replay prints each with its flag.
func TestReplayBudgetsSayTheFlag(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "s.yml")
	require.NoError(t, os.WriteFile(path, []byte("duration: 10m\nobjects:\n  - {kind: Kustomization, name: a, namespace: b}\n"), 0o600))
	var stdout, stderr bytes.Buffer
	code := Main([]string{"replay", "--max-series", "1", "--max-samples", "2", path}, &stdout, &stderr)
	require.Equal(t, ExitBadInput, code, stderr.String())
	require.Equal(t, "gotk-rules: "+path+":2:1: the scenario has 1 object, at least 6 series, over the limit of 1 (raise it with --max-series)\n", stderr.String())

	stdout.Reset()
	stderr.Reset()
	code = Main([]string{"replay", "--max-samples", "2", path}, &stdout, &stderr)
	require.Equal(t, ExitBadInput, code, stderr.String())
	require.Equal(t, "gotk-rules: "+path+":1:1: the scenario asks for about 126 samples, over the limit of 2 (raise it with --max-samples)\n", stderr.String())
}
