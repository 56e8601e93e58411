package scenario

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/gotk-rules/gotk-rules/budget"
	"github.com/gotk-rules/gotk-rules/evaluator"
	"github.com/gotk-rules/gotk-rules/internal/progress"
	"github.com/gotk-rules/gotk-rules/rulefile"
)

// Epoch is the time a scenario starts at.
var Epoch = time.Unix(0, 0).UTC()

// RunOptions configure a replay of a scenario.
type RunOptions struct {
	Engine *evaluator.Engine
	// RuleFiles are the rules to replay (paths the Loader can read).
	RuleFiles []string
	// Loader reads (or holds preloaded) rule files.
	Loader *rulefile.Loader
	// CaptureFiring records the firing alerts at every evaluation, or only
	// at the offsets in CaptureAt when it is not empty.
	CaptureFiring bool
	CaptureAt     []time.Duration
	Exact         bool
	// SkipAnnotations leaves alert annotations unexpanded, for callers that
	// read only alert labels and states (evaluator.SessionOptions).
	SkipAnnotations bool
	// Progress, when set, counts the replay's evaluations.
	Progress *progress.Counter
	// Inputs, when set, are the scenario's series, generated and made
	// inputs already (evaluator.NewInput).
	Inputs []evaluator.Input
	// MaxEvals bounds the replay's evaluations (budget.ReplayEvaluations;
	// zero: budget.DefaultReplayEvaluations). A scenario that asks for
	// more is refused before anything runs.
	MaxEvals int64
}

// Evaluations is how many evaluations a replay of sc takes: one at the
// start, then one every evaluation_interval up to its duration.
func Evaluations(sc *Scenario) int64 {
	step := d(sc.EvaluationInterval)
	if step <= 0 {
		step = DefaultEvaluationInterval
	}
	return int64(d(sc.Duration)/step) + 1
}

// checkEvaluations refuses a replay of more evaluations than maxEvals
// (zero: the default), naming the scenario's duration.
func checkEvaluations(sc *Scenario, maxEvals int64) error {
	if maxEvals <= 0 {
		maxEvals = budget.DefaultReplayEvaluations
	}
	n := Evaluations(sc)
	if n <= maxEvals {
		return nil
	}
	err := &budget.ExceededError{Budget: budget.ReplayEvaluations, Limit: uint64(maxEvals), Asked: uint64(n),
		Subject: fmt.Sprintf("replaying %s every %s takes %d evaluations", sc.Duration, sc.EvaluationInterval, n)}
	if sc.pos.file != "" {
		return sc.pos.wrapAt([]any{"duration"}, err)
	}
	return fmt.Errorf("%s: %w", sc.File, err)
}

// Firing is an alert firing at one evaluation.
type Firing struct {
	Labels      labels.Labels
	Annotations labels.Labels
}

// Replay is a scenario replayed through rules.
type Replay struct {
	Scenario *Scenario
	Timeline *evaluator.Timeline
	// For, per alert name, the longest `for` of its rules.
	For map[string]time.Duration
	// Firing holds, per evaluation offset, the firing alerts, when captured.
	Firing FiringLog
}

// Run generates the scenario's series and replays them through the rules.
// It refuses a scenario of more evaluations than opts.MaxEvals, and stops
// within one rule query when ctx ends, with an error wrapping ctx's.
func Run(ctx context.Context, sc *Scenario, opts RunOptions) (*Replay, error) {
	if err := checkEvaluations(sc, opts.MaxEvals); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("%s: replay stopped: %w", sc.File, err)
	}
	sess, err := opts.Engine.NewSession(evaluator.SessionOptions{
		EvalInterval:    d(sc.EvaluationInterval),
		Loader:          opts.Loader,
		Exact:           opts.Exact,
		SkipAnnotations: opts.SkipAnnotations,
		Progress:        opts.Progress,
	})
	if err != nil {
		return nil, err
	}
	defer sess.Close()
	if errs := sess.LoadRules(opts.RuleFiles, nil); errs != nil {
		return nil, errors.Join(errs...)
	}
	if opts.Inputs != nil {
		sess.AddInputs(opts.Inputs...)
	} else {
		for _, c := range sc.GenerateCompact() {
			sess.AddInputs(evaluator.CompactInput(c))
		}
	}
	r := &Replay{Scenario: sc, For: map[string]time.Duration{}}
	for _, ar := range sess.AlertingRules() {
		r.For[ar.Name()] = max(r.For[ar.Name()], ar.HoldDuration())
	}
	var observe func(time.Time) error
	if opts.CaptureFiring {
		r.Firing = FiringLog{}
		only := map[time.Duration]bool{}
		for _, t := range opts.CaptureAt {
			only[t] = true
		}
		observe = func(ts time.Time) error {
			if len(only) > 0 && !only[ts.Sub(Epoch)] {
				return nil
			}
			r.Firing[ts.Sub(Epoch)] = FiringNow(sess)
			return nil
		}
	}
	tl, err := sess.ReplayFunc(ctx, Epoch, Epoch.Add(d(sc.Duration)), observe)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", sc.File, err)
	}
	r.Timeline = tl
	return r, nil
}

// ResolveRuleFiles returns the scenario's rule files relative to its file.
func (s *Scenario) ResolveRuleFiles() ([]string, error) {
	var out []string
	for _, rf := range s.RuleFiles {
		if !filepath.IsAbs(rf) {
			rf = filepath.Join(filepath.Dir(s.File), rf)
		}
		m, err := filepath.Glob(rf)
		if err != nil || len(m) == 0 {
			return nil, fmt.Errorf("%s: rule_files: %q matches no file", s.File, rf)
		}
		out = append(out, m...)
	}
	return out, nil
}

// rank orders alert states: firing over pending over inactive.
func rank(s evaluator.State) int {
	switch s {
	case evaluator.Firing:
		return 2
	case evaluator.Pending:
		return 1
	}
	return 0
}

// StateFor is the state of alert for object o at offset t: the most severe
// state among the alert's label sets that name o.
func (r *Replay) StateFor(alert string, o *Object, t time.Duration) evaluator.State {
	best := evaluator.Inactive
	for _, a := range r.Timeline.Alerts {
		if a.Alert != alert || !r.Scenario.Matches(a.Labels, o) {
			continue
		}
		if st := a.StateAt(Epoch.Add(t)); rank(st) > rank(best) {
			best = st
		}
	}
	return best
}

// EvalTimes lists the evaluation offsets of the replay.
func (r *Replay) EvalTimes() []time.Duration {
	var out []time.Duration
	step := d(r.Scenario.EvaluationInterval)
	for t := time.Duration(0); t <= d(r.Scenario.Duration); t += step {
		out = append(out, t)
	}
	return out
}

// Check judges one expectation; the message says what did not hold.
func (r *Replay) Check(e Expectation) (bool, string) {
	o, err := r.Scenario.FindObject(e.Object)
	if err != nil {
		return false, err.Error()
	}
	times := r.EvalTimes()
	step := d(r.Scenario.EvaluationInterval)
	switch {
	case e.At != nil:
		t := d(*e.At).Truncate(step) // the evaluation at or before At
		if got := r.StateFor(e.Alert, o, t); string(got) != e.State {
			return false, fmt.Sprintf("%s for %s at %s: want %s, got %s", e.Alert, o.ID(), *e.At, e.State, got)
		}
	case e.From != nil:
		for _, t := range times {
			if t < d(*e.From) || t > d(*e.To) {
				continue
			}
			if got := r.StateFor(e.Alert, o, t); string(got) != e.State {
				return false, fmt.Sprintf("%s for %s from %s to %s: want %s throughout, got %s at %s", e.Alert, o.ID(), *e.From, *e.To, e.State, got, modelDur(t))
			}
		}
	case e.Never != "":
		for _, t := range times {
			if got := r.StateFor(e.Alert, o, t); string(got) == e.Never {
				return false, fmt.Sprintf("%s for %s: never %s, but it is at %s", e.Alert, o.ID(), e.Never, modelDur(t))
			}
		}
	case e.FiresWithin > 0:
		for _, ep := range r.Scenario.objectEpisodes(indexOf(r.Scenario, o), false) {
			deadline := ep.Start + d(e.FiresWithin)
			if deadline >= ep.End || deadline > d(r.Scenario.Duration) {
				continue // too short to judge
			}
			fired := false
			for _, t := range times {
				if t >= ep.Start && t <= deadline && r.StateFor(e.Alert, o, t) == evaluator.Firing {
					fired = true
					break
				}
			}
			if !fired {
				return false, fmt.Sprintf("%s for %s: failure from %s did not fire within %s", e.Alert, o.ID(), modelDur(ep.Start), e.FiresWithin)
			}
		}
	case e.ResolvesWithin > 0:
		for _, ep := range r.Scenario.objectEpisodes(indexOf(r.Scenario, o), false) {
			at := ep.End + d(e.ResolvesWithin)
			if ep.Open || at > d(r.Scenario.Duration) {
				continue
			}
			t := ((at + step - 1) / step) * step
			if r.StateFor(e.Alert, o, t) == evaluator.Firing {
				return false, fmt.Sprintf("%s for %s: failure ended at %s but still firing at %s", e.Alert, o.ID(), modelDur(ep.End), modelDur(t))
			}
		}
	}
	return true, ""
}

func indexOf(s *Scenario, o *Object) int {
	for i := range s.Objects {
		if &s.Objects[i] == o {
			return i
		}
	}
	return -1
}
