package rulediff

import (
	"context"
	"fmt"
	"strings"

	"github.com/gotk-rules/gotk-rules/evaluator"
	"github.com/gotk-rules/gotk-rules/internal/parallel"
	"github.com/gotk-rules/gotk-rules/verify"
)

// Report is the outcome of a diff.
type Report struct {
	// Old and New are the rule sets as the user named them.
	Old, New string
	// Inputs are the comparisons, one per input, in input order.
	Inputs []InputDiff
	// Verdicts are verify's results before and after, when the inputs
	// include random lives (VerdictsOf).
	Verdicts []VerdictChange
	// Random describes the random lives the verdicts were judged on.
	Random *RandomOptions
}

// Changed reports whether any alert fired differently on any input, or a
// verify verdict changed.
func (r *Report) Changed() bool {
	for i := range r.Inputs {
		if r.Inputs[i].Changed() {
			return true
		}
	}
	for _, v := range r.Verdicts {
		if v.Changed() {
			return true
		}
	}
	return false
}

// ChangedInputs counts the inputs on which an alert fired differently.
func (r *Report) ChangedInputs() int {
	n := 0
	for i := range r.Inputs {
		if r.Inputs[i].Changed() {
			n++
		}
	}
	return n
}

// InputError is an input that could not be replayed: which input, which
// side, and why (Err is the replay's error, for errors.As).
type InputError struct {
	Input string
	Side  string // "old" or "new"
	Spec  string // the side's rule set
	Err   error
}

func (e *InputError) Error() string {
	msg := e.Err.Error()
	if first, rest, ok := strings.Cut(msg, "\n"); ok {
		msg = fmt.Sprintf("%s (and %d more problems)", first, strings.Count(rest, "\n")+1)
	}
	return fmt.Sprintf("%s (replaying %s with the %s rules %s)", msg, e.Input, e.Side, e.Spec)
}

// Unwrap returns the cause.
func (e *InputError) Unwrap() error { return e.Err }

// Run replays every input through both rule sets, up to workers replays at
// once (zero: one per core), and compares them. The first error stops it
// (an *InputError); when ctx ends, no new replay starts.
func Run(ctx context.Context, old, cur *RuleSet, inputs []Input, workers int) (*Report, error) {
	rep := &Report{Old: old.Spec, New: cur.Spec, Inputs: make([]InputDiff, len(inputs))}
	tls := make([]*evaluator.Timeline, 2*len(inputs))
	errs := make([]error, 2*len(inputs))
	sides := [2]*RuleSet{old, cur}
	parallel.ForContext(ctx, 2*len(inputs), workers, func(i int) {
		in, rs := &inputs[i/2], sides[i%2]
		tl, err := in.Replay(ctx, rs)
		if err != nil {
			side := "old"
			if i%2 == 1 {
				side = "new"
			}
			errs[i] = &InputError{Input: in.Name, Side: side, Spec: rs.Spec, Err: err}
			return
		}
		tls[i] = tl
	})
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("diff stopped: %w", err)
	}
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	for i := range inputs {
		rep.Inputs[i] = Compare(&inputs[i], tls[2*i], tls[2*i+1], inputs[i].Scenario)
	}
	return rep, nil
}

// VerdictChange is one alert's verify result in one era and scrape setup,
// before and after. Old or New is nil when the alert is not in that
// side's rules.
type VerdictChange struct {
	Alert  string
	Era    string
	Scrape string
	Old    *verify.Result
	New    *verify.Result
}

// Changed reports whether the verdict or its counts differ.
func (v VerdictChange) Changed() bool {
	if v.Old == nil || v.New == nil {
		return true
	}
	o, n := v.Old, v.New
	return o.Verdict != n.Verdict || o.FalsePositives != n.FalsePositives || o.FalseNegatives != n.FalseNegatives ||
		o.AlertsFired != n.AlertsFired || o.RealFailures != n.RealFailures
}

// VerdictsOf runs verify (opts, with each side's rules) on both rule sets
// and pairs the results by alert, era and scrape setup: old order first,
// then alerts only the new rules have.
func VerdictsOf(ctx context.Context, opts verify.Options, old, cur *RuleSet) ([]VerdictChange, error) {
	run := func(rs *RuleSet) ([]*verify.Result, error) {
		o := opts
		o.RuleFiles, o.Loader = rs.Files, rs.Loader
		res, err := verify.Run(ctx, o)
		if err != nil {
			return nil, fmt.Errorf("verify with %s: %w", rs.Spec, err)
		}
		return res, nil
	}
	before, err := run(old)
	if err != nil {
		return nil, err
	}
	after, err := run(cur)
	if err != nil {
		return nil, err
	}
	type key struct{ alert, era, scrape string }
	var order []key
	pairs := map[key]*VerdictChange{}
	add := func(r *verify.Result, isNew bool) {
		k := key{r.Alert, string(r.Era), string(r.Scrape)}
		vc := pairs[k]
		if vc == nil {
			vc = &VerdictChange{Alert: k.alert, Era: k.era, Scrape: k.scrape}
			pairs[k] = vc
			order = append(order, k)
		}
		if isNew {
			vc.New = r
		} else {
			vc.Old = r
		}
	}
	for _, r := range before {
		add(r, false)
	}
	for _, r := range after {
		add(r, true)
	}
	out := make([]VerdictChange, len(order))
	for i, k := range order {
		out[i] = *pairs[k]
	}
	return out, nil
}
