package cli

import (
	"errors"

	"github.com/gotk-rules/gotk-rules/budget"
	"github.com/gotk-rules/gotk-rules/evaluator"
)

// budgetFlags are the flags that set each budget. The libraries say which
// budget a run exceeded; the command line says how to raise it.
var budgetFlags = map[budget.Name]string{
	budget.InputSeries:      "--max-series",
	budget.InputSamples:     "--max-samples",
	budget.GroupEvaluations: "--max-evals",
	budget.QuerySamples:     "--query-max-samples",
}

// budgetHint words how to raise the budget err exceeded, with the flag
// that sets it (a budget.Hint). Prometheus' error for a query that loads
// too many samples does not say which limit it hit: the hint names it.
func budgetHint(err error) string {
	if ee, ok := errors.AsType[*budget.ExceededError](err); ok {
		if ee.Budget == budget.BacktestEvaluations {
			return " (raise --step or --max-evals)"
		}
		if flag := budgetFlags[ee.Budget]; flag != "" {
			return " (raise it with " + flag + ")"
		}
		return ""
	}
	if b, ok := evaluator.ExceededBudget(err); ok && b == budget.QuerySamples {
		return " (the per-query sample limit; raise it with " + budgetFlags[b] + ")"
	}
	return ""
}
