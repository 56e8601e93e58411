package evaluator

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gotk-rules/gotk-rules/internal/racemode"
	"github.com/gotk-rules/gotk-rules/series"
)

// alertStates replays rulesYAML over input step by step with outputs
// discarded, alerts moved on by changes or not, and returns every alert's
// whole state (resolved ones too) and every rule's error after each step,
// and how many evaluations moved on by changes.
func alertStates(t *testing.T, rulesYAML string, input map[string]string, steps int, incremental bool) ([]string, int) {
	t.Helper()
	defer func(old bool) { incrementalAlerts = old }(incrementalAlerts)
	incrementalAlerts = incremental
	path := filepath.Join(t.TempDir(), "rules.yml")
	require.NoError(t, os.WriteFile(path, []byte(rulesYAML), 0o600))
	sess, err := NewEngine(Options{}).NewSession(SessionOptions{EvalInterval: time.Minute, DiscardOutputs: true})
	require.NoError(t, err)
	defer func() { require.NoError(t, sess.Close()) }()
	require.Nil(t, sess.LoadRules([]string{path}, nil))
	start := time.Unix(0, 0).UTC()
	for _, metric := range slices.Sorted(func(yield func(string) bool) {
		for m := range input {
			if !yield(m) {
				return
			}
		}
	}) {
		s, err := series.Parse(metric, input[metric], start, time.Minute)
		require.NoError(t, err)
		sess.AddSeries(s)
	}
	end := start.Add(time.Duration(steps-1) * time.Minute)
	require.NoError(t, sess.Plan(end))
	var got []string
	byChanges := 0
	for ts := start; !ts.After(end); ts = ts.Add(time.Minute) {
		errs, err := sess.Eval(context.Background(), ts)
		require.NoError(t, err)
		got = append(got, fmt.Sprint(ts.Unix(), errs))
		for _, rule := range sess.AlertingRules() {
			r, ok := rule.(*AlertingRule)
			require.True(t, ok)
			if r.runs != nil && r.runs.idx > 0 {
				byChanges++
			}
			var step []string
			for _, a := range r.alerts {
				step = append(step, fmt.Sprintf("%s %s %s v=%v active=%d fired=%d resolved=%d kept=%d",
					a.Labels, a.Annotations, a.State, a.Value, a.ActiveAt.Unix(), a.FiredAt.Unix(), a.ResolvedAt.Unix(), a.KeepFiringSince.Unix()))
			}
			slices.Sort(step)
			got = append(got, fmt.Sprintf("%s health=%s err=%v", r.Name(), r.Health(), r.LastError()))
			got = append(got, step...)
		}
	}
	return got, byChanges
}

// TestAlertsByChangesMatchWalk compares moving alerts on by changes with
// the walk of every alert at every step, on random inputs and rules:
// `for`, keep_firing_for, labels from the value, duplicate label sets and
// the group's alert limit.
func TestAlertsByChangesMatchWalk(t *testing.T) {
	exprs := []string{
		`cond{status="False"} == 1`,
		`cond > 0`,
		`max by (name) (cond) > 0`,
		`cond * 2 > 1`,
		`cond{status="False"} > 0 or cond{status="Deleted"} > 0`,
		`sum by (status) (cond) >= 1`,
		// Alert label sets that collide once __name__ is dropped.
		`(cond > 0) or on(__name__) (other > 0)`,
		`cond`,
	}
	labelSets := []string{
		"",
		"    labels: {severity: page}\n",
		"    labels: {level: '{{ if gt $value 1.0 }}high{{ else }}low{{ end }}'}\n",
	}
	annotationSets := []string{
		"",
		"    annotations: {v: '{{ $value }} {{ $labels.name }}'}\n",
		"    annotations: {s: static}\n",
	}
	values := []string{"0", "1", "2", "_", "stale"}
	rng := rand.New(rand.NewPCG(5, 9))
	runs := racemode.Cases(150, 20)
	byChanges, compared := 0, 0
	for run := range runs {
		var b strings.Builder
		b.WriteString("groups:\n- name: g\n")
		if rng.IntN(5) == 0 {
			fmt.Fprintf(&b, "  limit: %d\n", 1+rng.IntN(3))
		}
		b.WriteString("  rules:\n")
		for i := range 1 + rng.IntN(3) {
			fmt.Fprintf(&b, "  - alert: A%d\n    expr: '%s'\n    for: %dm\n    keep_firing_for: %dm\n%s%s",
				i, exprs[rng.IntN(len(exprs))], rng.IntN(4), rng.IntN(3)*rng.IntN(20),
				labelSets[rng.IntN(len(labelSets))], annotationSets[rng.IntN(len(annotationSets))])
		}
		input := map[string]string{}
		for range 1 + rng.IntN(12) {
			metric := fmt.Sprintf(`%s{name="n%d", status="%s"}`, []string{"cond", "cond", "cond", "other"}[rng.IntN(4)], rng.IntN(5), []string{"False", "Deleted"}[rng.IntN(2)])
			var v []string
			for range 1 + rng.IntN(10) {
				if x := values[rng.IntN(len(values))]; x == "stale" {
					v = append(v, x)
				} else {
					v = append(v, fmt.Sprintf("%sx%d", x, rng.IntN(12)))
				}
			}
			input[metric] = strings.Join(v, " ")
		}
		steps := 40 + rng.IntN(60)
		walk, _ := alertStates(t, b.String(), input, steps, false)
		changes, n := alertStates(t, b.String(), input, steps, true)
		require.Equal(t, walk, changes, "run %d rules:\n%s\ninput: %v", run, b.String(), input)
		byChanges += n
		compared++
	}
	// Duplicate label sets that start at a change: a series joins one that
	// holds its alert, and two series start together.
	dups := `groups:
- name: g
  rules:
  - alert: Dup
    expr: '(cond > 0) or on(__name__) (other > 0)'
    for: 2m
    keep_firing_for: 1m
`
	input := map[string]string{
		`cond{name="a"}`:  "1x30",
		`other{name="a"}`: "_x5 1x1",
		`cond{name="b"}`:  "_x15 1x3",
		`other{name="b"}`: "_x15 1x3",
	}
	walk, _ := alertStates(t, dups, input, 30, false)
	changes, n := alertStates(t, dups, input, 30, true)
	require.Equal(t, walk, changes)
	require.Contains(t, strings.Join(walk, "\n"), "same labelset", "the walk fails on duplicates")
	byChanges += n
	t.Logf("%d runs, %d evaluations moved on by changes", compared, byChanges)
	require.Greater(t, byChanges, 20*runs, "most evaluations move on by changes")
}
