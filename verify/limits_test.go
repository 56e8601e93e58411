package verify

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/gotk-rules/gotk-rules/budget"
	"github.com/gotk-rules/gotk-rules/scenario"
)

// TestRunEvaluationBudget: a verification whose lives alone take more
// evaluations than its budget is refused before any replay; one whose
// shrinking takes it over stops with the same budget named.
func TestRunEvaluationBudget(t *testing.T) {
	opts := options(t, "../rules/gitopstoolkit.yml", 10, []scenario.Era{scenario.EraV21}, []scenario.Scrape{scenario.ScrapeDirect})
	opts.MaxEvals = 1000 // 10 lives of 121 evaluations are 1210
	_, err := Run(context.Background(), opts)
	var ee *budget.ExceededError
	require.True(t, errors.As(err, &ee), "%v", err)
	require.Equal(t, budget.ReplayEvaluations, ee.Budget)
	require.EqualValues(t, 1210, ee.Asked)
	require.Equal(t, "verifying 10 runs of 1 eras and scrape setups takes 1210 evaluations, over the limit of 1000", err.Error())

	// The guide's rule is wrong in v2.1 (TestFindsGuideRuleDeadOnFlux21):
	// the lives fit the budget, shrinking their counterexample does not.
	opts.MaxEvals = 1210 + 50
	_, err = Run(context.Background(), opts)
	require.True(t, errors.As(err, &ee), "%v", err)
	require.Equal(t, budget.ReplayEvaluations, ee.Budget)
	require.Contains(t, err.Error(), "shrinking counterexamples included")
}

// TestRunStopsWhenContextEnds: a verification whose context ends stops
// with the context's error, its replays and workers gone (a verification
// that went on would meet go test's timeout).
func TestRunStopsWhenContextEnds(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	opts := options(t, "../rules/gitopstoolkit.yml", 1000, nil, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := Run(ctx, opts)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.Contains(t, err.Error(), "verify stopped")
}
