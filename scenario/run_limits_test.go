package scenario

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gotk-rules/gotk-rules/budget"
	"github.com/gotk-rules/gotk-rules/evaluator"
	"github.com/gotk-rules/gotk-rules/rulefile"
)

// TestRunEvaluationBudget: a replay of more evaluations than its budget is
// refused before anything runs, at the scenario's duration, naming the
// budget; a budget large enough lets it run.
func TestRunEvaluationBudget(t *testing.T) {
	eng := evaluator.NewEngine(evaluator.Options{})
	run := func(text string, maxEvals int64) (*Replay, error) {
		sc := parse(t, text)
		return Run(context.Background(), sc, RunOptions{Engine: eng, RuleFiles: []string{"../rules/gitopstoolkit.yml"}, Loader: rulefile.NewLoader(eng.Parser(), false), MaxEvals: maxEvals})
	}
	hostile := `
era: v2.1
duration: 7d
evaluation_interval: 1ms
objects:
  - kind: Kustomization
    name: apps
    namespace: team-a
    events:
      - {at: 0s, reconcile: "True"}
`
	_, err := run(hostile, 0) // refused before running: 604,800,001 evaluations would not end
	var ee *budget.ExceededError
	require.True(t, errors.As(err, &ee), "%v", err)
	require.Equal(t, budget.ReplayEvaluations, ee.Budget)
	require.EqualValues(t, budget.DefaultReplayEvaluations, ee.Limit)
	require.EqualValues(t, 7*24*3600*1000+1, ee.Asked)
	require.Equal(t, "test.yml:3:11: replaying 1w every 1ms takes 604800001 evaluations, over the limit of 1000000", err.Error())

	small := `
era: v2.1
duration: 10m
objects:
  - kind: Kustomization
    name: apps
    namespace: team-a
    events:
      - {at: 0s, reconcile: "True"}
`
	_, err = run(small, 10)
	require.True(t, errors.As(err, &ee), "%v", err)
	require.EqualValues(t, 11, ee.Asked)
	rep, err := run(small, 11)
	require.NoError(t, err)
	require.Len(t, rep.EvalTimes(), 11)
}

// TestRunStopsWhenContextEnds: a replay whose context has ended, or ends
// during it, stops with the context's error.
func TestRunStopsWhenContextEnds(t *testing.T) {
	eng := evaluator.NewEngine(evaluator.Options{})
	sc := parse(t, `
era: v2.1
duration: 30d
evaluation_interval: 15s
objects:
  - kind: Kustomization
    name: apps
    namespace: team-a
    events:
      - {at: 0s, reconcile: "True"}
      - {at: 1h, reconcile: "False"}
`)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := Run(ctx, sc, RunOptions{Engine: eng, RuleFiles: []string{"../rules/gitopstoolkit.yml"}, Loader: rulefile.NewLoader(eng.Parser(), false)})
	require.ErrorIs(t, err, context.DeadlineExceeded)
	_, err = Run(ctx, sc, RunOptions{Engine: eng, RuleFiles: []string{"../rules/gitopstoolkit.yml"}, Loader: rulefile.NewLoader(eng.Parser(), false)})
	require.ErrorIs(t, err, context.DeadlineExceeded)
}
