package cli

import (
	"errors"

	"github.com/gotk-rules/gotk-rules/budget"
	"github.com/gotk-rules/gotk-rules/evaluator"
	"github.com/gotk-rules/gotk-rules/guard"
)

// budgetFlags are the flags that set each budget. The libraries say which
// budget a run exceeded; the command line says how to raise it.
var budgetFlags = map[budget.Name]string{
	budget.InputSeries:      "--max-series",
	budget.InputSamples:     "--max-samples",
	budget.GroupEvaluations: "--max-evals",
	budget.QuerySamples:     "--query-max-samples",
	budget.ResponseBytes:    "--max-response-bytes",
	budget.ResponseSeries:   "--max-response-series",
	budget.ResponseSamples:  "--max-response-samples",
	// replay's and gen's per replay, verify's for all its replays.
	budget.ReplayEvaluations: "--max-evals",
}

// budgetHint words how to raise the budget err exceeded, with the flag
// that sets it (a budget.Hint). Prometheus' error for a query that loads
// too many samples does not say which limit it hit: the hint names it.
func budgetHint(err error) string {
	if ee, ok := errors.AsType[*budget.ExceededError](err); ok {
		if ee.Budget == budget.BacktestEvaluations {
			return " (raise --step or --max-evals)"
		}
		if key := guard.Key(ee.Budget); key != "" {
			return " (raise it with --limit " + key + "=N)"
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
