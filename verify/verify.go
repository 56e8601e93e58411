// Package verify checks alerting rules against random Flux object lives:
// it generates lives, replays them through the rules for each era and scrape
// setup, compares the alerts with the ground truth (failure episodes) and
// reports false positives and negatives with the smallest counterexample.
package verify

import (
	"cmp"
	"context"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gotk-rules/gotk-rules/budget"
	"github.com/gotk-rules/gotk-rules/evaluator"
	"github.com/gotk-rules/gotk-rules/internal/parallel"
	"github.com/gotk-rules/gotk-rules/internal/progress"
	"github.com/gotk-rules/gotk-rules/rulefile"
	"github.com/gotk-rules/gotk-rules/scenario"
)

// Options configure a verification.
type Options struct {
	Engine    *evaluator.Engine
	RuleFiles []string
	Loader    *rulefile.Loader
	Eras      []scenario.Era
	Scrapes   []scenario.Scrape
	Runs      int
	Seed      int64
	// ExcludeSuspended: time spent suspended is not failure time.
	ExcludeSuspended bool
	// MinFailure: a failure shorter than this is transient (a dependency
	// wait, a retry) and must not page (default 5m).
	MinFailure time.Duration
	// Duration of each generated life (default 2h).
	Duration time.Duration
	// SecondTargets also generates second scrape targets that keep
	// exporting stale values (no rule can tell them from live ones).
	SecondTargets bool
	Parallel      int
	// Policy also judges the rule set as one paging policy: every real
	// failure of every object must be caught by some alert of the set, and
	// nothing may fire without a failure.
	Policy bool
	// Progress, when set, counts runs (one life, one era and scrape setup).
	Progress *progress.Counter
	// MaxEvals bounds the evaluations of the whole verification, every
	// replay of a life and of a counterexample being shrunk counted
	// (budget.ReplayEvaluations; zero: budget.DefaultVerifyEvaluations).
	MaxEvals int64

	// evals counts the evaluations against MaxEvals, shared by the
	// copies of the options the replays get.
	evals *evalCounter
}

// evalCounter counts a verification's evaluations against its budget.
type evalCounter struct {
	used  atomic.Int64
	limit int64
}

// take counts the evaluations of a replay of sc, refusing it when they
// take the verification over its budget.
func (c *evalCounter) take(sc *scenario.Scenario) error {
	if c == nil {
		return nil
	}
	n := scenario.Evaluations(sc)
	if used := c.used.Add(n); used > c.limit {
		return &budget.ExceededError{Budget: budget.ReplayEvaluations, Limit: uint64(c.limit), Asked: uint64(used),
			Subject: fmt.Sprintf("verifying takes at least %d evaluations (shrinking counterexamples included)", used)}
	}
	return nil
}

// Result is the verdict for one alert in one era and scrape setup.
type Result struct {
	Alert  string          `json:"alert"`
	Era    scenario.Era    `json:"era"`
	Scrape scenario.Scrape `json:"scrape"`
	// Scope is the objects the alert is judged over, derived from its
	// selectors (see Scope); "all objects" for the policy.
	Scope          string `json:"scope"`
	Runs           int    `json:"runs"`
	RealFailures   int    `json:"real_failures"`
	AlertsFired    int    `json:"alerts_fired"`
	FalsePositives int    `json:"false_positives"`
	FalseNegatives int    `json:"false_negatives"`
	// Verdict is clean, wrong, or no-data when the alert reads no metric
	// the era exposes (it can never fire there).
	Verdict string `json:"verdict"`
	// NoData says why the verdict is no-data: the alert reads no metric of
	// the era, or its selectors match no object's series there.
	NoData         string          `json:"no_data,omitempty"`
	Counterexample *Counterexample `json:"counterexample"`
}

// PolicyAlert is the Alert of the results that judge the whole rule set as
// one paging policy (Options.Policy).
const PolicyAlert = "(policy)"

// Verdicts of a result.
const (
	VerdictClean  = "clean"
	VerdictWrong  = "wrong"
	VerdictNoData = "no-data"
)

// Why a result is no-data (Result.NoData).
const (
	NoDataMetric = "reads no metric of this era"
	NoDataScope  = "its selectors match no object's series in this era"
)

// Clean reports whether the rule made no mistake (a rule that reads no
// metric of the era makes none: it is dead there, which Verdict says).
func (r *Result) Clean() bool { return r.Verdict != VerdictWrong }

// Counterexample is the smallest life found on which the alert is wrong.
type Counterexample struct {
	Description string `json:"description"`
	// Scenario is a scenario file that `gotk-rules replay` accepts.
	Scenario string `json:"scenario"`
	// File is where it was written, when it was.
	File string `json:"file,omitempty"`
}

func (o *Options) withDefaults() {
	if o.Runs <= 0 {
		o.Runs = 100
	}
	if o.MinFailure == 0 {
		o.MinFailure = 5 * time.Minute
	}
	if o.Duration == 0 {
		o.Duration = 2 * time.Hour
	}
	if len(o.Eras) == 0 {
		o.Eras = scenario.Eras
	}
	if len(o.Scrapes) == 0 {
		o.Scrapes = scenario.Scrapes
	}
	if o.Parallel <= 0 {
		o.Parallel = runtime.GOMAXPROCS(0)
	}
	if o.MaxEvals <= 0 {
		o.MaxEvals = budget.DefaultVerifyEvaluations
	}
}

// verdict is how one replay went for one alert, or for the policy.
type verdict struct {
	realFailures, fired, fp, fn int
	what                        string // the first mistake, described
}

// tally is the sum of an alert's verdicts over the runs of one era and
// scrape setup, and the first run (lowest index) with a mistake, or -1.
type tally struct {
	realFailures, fired, fp, fn int
	first                       int
}

// comboTally holds the tallies of one era and scrape setup, by alert.
type comboTally struct {
	mu     sync.Mutex
	alerts map[string]*tally
}

// add counts run's verdicts.
func (ct *comboTally) add(run int, vs map[string]verdict) {
	ct.mu.Lock()
	defer ct.mu.Unlock()
	for a, v := range vs {
		t := ct.alerts[a]
		if t == nil {
			t = &tally{first: -1}
			ct.alerts[a] = t
		}
		t.realFailures += v.realFailures
		t.fired += v.fired
		t.fp += v.fp
		t.fn += v.fn
		if v.fp+v.fn > 0 && (t.first < 0 || run < t.first) {
			t.first = run
		}
	}
}

// combo is one era and scrape setup.
type combo struct {
	era    scenario.Era
	scrape scenario.Scrape
}

// Run verifies the rules and returns one result per alert, era and scrape
// setup, in that order, then (with Options.Policy) one per era and scrape
// setup for the rule set as a whole. It is deterministic for a seed.
// A verification of more evaluations than Options.MaxEvals is refused
// (before any replay when the lives alone take more). When ctx ends, no
// new replay starts, those running stop within one rule query, and Run
// returns an error wrapping ctx's once they have.
func Run(ctx context.Context, opts Options) ([]*Result, error) {
	opts.withDefaults()
	rs, err := loadRuleSet(opts)
	if err != nil {
		return nil, err
	}
	var combos []combo
	for _, e := range opts.Eras {
		for _, s := range opts.Scrapes {
			combos = append(combos, combo{e, s})
		}
	}
	if n := int64(len(combos)*opts.Runs) * scenario.Evaluations(Life(opts.Seed, 0, opts)); n > opts.MaxEvals {
		return nil, &budget.ExceededError{Budget: budget.ReplayEvaluations, Limit: uint64(opts.MaxEvals), Asked: uint64(n),
			Subject: fmt.Sprintf("verifying %d runs of %d eras and scrape setups takes %d evaluations", opts.Runs, len(combos), n)}
	}
	opts.evals = &evalCounter{limit: opts.MaxEvals}
	scopes := map[scenario.Era]map[string]Scope{}
	for _, e := range opts.Eras {
		scopes[e] = rs.scopes(e)
	}
	// tallies[c][alert] sums the runs' verdicts as they come, so that the
	// memory of a verification does not grow with its runs.
	tallies := make([]comboTally, len(combos))
	for c := range tallies {
		tallies[c].alerts = map[string]*tally{}
	}
	opts.Progress.AddTotal(int64(len(combos) * opts.Runs))
	var (
		mu       sync.Mutex
		firstErr error
	)
	parallel.ForContext(ctx, len(combos)*opts.Runs, opts.Parallel, func(i int) {
		c, run := i/opts.Runs, i%opts.Runs
		sc := Life(opts.Seed, run, opts)
		sc.Era, sc.Scrape = combos[c].era, combos[c].scrape
		v, err := judge(ctx, sc, opts, rs, scopes[sc.Era])
		if err != nil {
			mu.Lock()
			firstErr = cmp.Or(firstErr, err)
			mu.Unlock()
			return
		}
		tallies[c].add(run, v)
		opts.Progress.Add(1)
	})
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("verify stopped: %w", err)
	}
	if firstErr != nil {
		return nil, firstErr
	}

	targets := rs.alerts
	if opts.Policy {
		targets = append(slices.Clone(targets), PolicyAlert)
	}
	var out []*Result
	// Counterexamples are shrunk after, all at once.
	type shrinkJob struct {
		res   *Result
		sc    *scenario.Scenario
		alert string
	}
	var jobs []shrinkJob
	for _, a := range targets {
		for c, cb := range combos {
			res := &Result{Alert: a, Era: cb.era, Scrape: cb.scrape, Runs: opts.Runs, Verdict: VerdictClean, Scope: "all objects"}
			if a != PolicyAlert {
				res.Scope = scopes[cb.era][a].String()
			}
			first := -1
			if t := tallies[c].alerts[a]; t != nil {
				res.RealFailures, res.AlertsFired = t.realFailures, t.fired
				res.FalsePositives, res.FalseNegatives = t.fp, t.fn
				first = t.first
			}
			switch {
			case !rs.exposes(cb.era, a):
				res.Verdict, res.NoData = VerdictNoData, NoDataMetric
			case a != PolicyAlert && scopes[cb.era][a].Empty(probeScenario(cb)):
				res.Verdict, res.NoData = VerdictNoData, NoDataScope
			}
			if res.Verdict == VerdictNoData {
				out = append(out, res)
				continue
			}
			if first >= 0 {
				res.Verdict = VerdictWrong
				sc := Life(opts.Seed, first, opts)
				sc.Era, sc.Scrape = cb.era, cb.scrape
				jobs = append(jobs, shrinkJob{res, sc, a})
			}
			out = append(out, res)
		}
	}
	errs := make([]error, len(jobs))
	parallel.ForContext(ctx, len(jobs), opts.Parallel, func(i int) {
		j := jobs[i]
		j.res.Counterexample, errs[i] = shrink(ctx, j.sc, j.alert, opts, rs, scopes[j.sc.Era])
	})
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("verify stopped: %w", err)
	}
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// probeScenario is an empty scenario of an era and scrape setup, to ask
// what its series look like.
func probeScenario(c combo) *scenario.Scenario {
	sc := &scenario.Scenario{Era: c.era, Scrape: c.scrape}
	sc.Normalize()
	return sc
}
