// Package verify checks alerting rules against random Flux object lives:
// it generates lives, replays them through the rules for each era and scrape
// setup, compares the alerts with the ground truth (failure episodes) and
// reports false positives and negatives with the smallest counterexample.
package verify

import (
	"fmt"
	"math/rand"
	"runtime"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/gotk-rules/gotk-rules/evaluator"
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
	// Progress, when set, counts runs (one life, one era and scrape setup).
	Progress *progress.Counter
}

// Result is the verdict for one alert in one era and scrape setup.
type Result struct {
	Alert          string          `json:"alert"`
	Era            scenario.Era    `json:"era"`
	Scrape         scenario.Scrape `json:"scrape"`
	Runs           int             `json:"runs"`
	RealFailures   int             `json:"real_failures"`
	AlertsFired    int             `json:"alerts_fired"`
	FalsePositives int             `json:"false_positives"`
	FalseNegatives int             `json:"false_negatives"`
	// Verdict is clean, wrong, or no-data when the alert reads no metric
	// the era exposes (it can never fire there).
	Verdict        string          `json:"verdict"`
	Counterexample *Counterexample `json:"counterexample"`
}

// Verdicts of a result.
const (
	VerdictClean  = "clean"
	VerdictWrong  = "wrong"
	VerdictNoData = "no-data"
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

// Tolerance is how late an alert may start or stop: one scrape interval
// (the sample must be scraped) plus one evaluation interval (and evaluated).
func Tolerance(sc *scenario.Scenario) time.Duration {
	return time.Duration(sc.ScrapeInterval) + time.Duration(sc.EvaluationInterval)
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
}

// verdict is how one replay went for one alert.
type verdict struct {
	realFailures, fired, fp, fn int
	what                        string // the first mistake, described
}

// Run verifies the rules and returns one result per alert, era and scrape
// setup, in that order. It is deterministic for a seed.
func Run(opts Options) ([]*Result, error) {
	opts.withDefaults()
	alerts, err := alertNames(opts)
	if err != nil {
		return nil, err
	}
	type combo struct {
		era    scenario.Era
		scrape scenario.Scrape
	}
	var combos []combo
	for _, e := range opts.Eras {
		for _, s := range opts.Scrapes {
			combos = append(combos, combo{e, s})
		}
	}
	// verdicts[c][run][alert]
	verdicts := make([][]map[string]verdict, len(combos))
	for c := range verdicts {
		verdicts[c] = make([]map[string]verdict, opts.Runs)
	}
	opts.Progress.AddTotal(int64(len(combos) * opts.Runs))
	type task struct{ c, run int }
	tasks := make(chan task)
	errs := make(chan error, opts.Parallel)
	var wg sync.WaitGroup
	for range opts.Parallel {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for t := range tasks {
				sc := Life(opts.Seed, t.run, opts)
				sc.Era, sc.Scrape = combos[t.c].era, combos[t.c].scrape
				v, err := judge(sc, opts, alerts)
				if err != nil {
					select {
					case errs <- err:
					default:
					}
					continue
				}
				verdicts[t.c][t.run] = v
				opts.Progress.Add(1)
			}
		}()
	}
	for c := range combos {
		for run := 0; run < opts.Runs; run++ {
			tasks <- task{c, run}
		}
	}
	close(tasks)
	wg.Wait()
	select {
	case err := <-errs:
		return nil, err
	default:
	}

	reads, err := metricsRead(opts)
	if err != nil {
		return nil, err
	}
	var out []*Result
	for _, a := range alerts {
		for c, cb := range combos {
			res := &Result{Alert: a, Era: cb.era, Scrape: cb.scrape, Runs: opts.Runs, Verdict: VerdictClean}
			first := -1
			for run, vs := range verdicts[c] {
				v := vs[a]
				res.RealFailures += v.realFailures
				res.AlertsFired += v.fired
				res.FalsePositives += v.fp
				res.FalseNegatives += v.fn
				if first < 0 && v.fp+v.fn > 0 {
					first = run
				}
			}
			if !exposes(cb.era, reads[a]) {
				res.Verdict = VerdictNoData
				out = append(out, res)
				continue
			}
			if first >= 0 {
				res.Verdict = VerdictWrong
				sc := Life(opts.Seed, first, opts)
				sc.Era, sc.Scrape = cb.era, cb.scrape
				ce, err := shrink(sc, a, opts, alerts)
				if err != nil {
					return nil, err
				}
				res.Counterexample = ce
			}
			out = append(out, res)
		}
	}
	return out, nil
}

// alertNames lists the alerting rules' names, sorted.
func alertNames(opts Options) ([]string, error) {
	reads, err := metricsRead(opts)
	if err != nil {
		return nil, err
	}
	if len(reads) == 0 {
		return nil, fmt.Errorf("no alerting rule in %v", opts.RuleFiles)
	}
	out := make([]string, 0, len(reads))
	for a := range reads {
		out = append(out, a)
	}
	sort.Strings(out)
	return out, nil
}

// judge replays a life and compares every alert with the ground truth.
func judge(sc *scenario.Scenario, opts Options, alerts []string) (map[string]verdict, error) {
	rep, err := scenario.Run(sc, scenario.RunOptions{Engine: opts.Engine, RuleFiles: opts.RuleFiles, Loader: opts.Loader})
	if err != nil {
		return nil, err
	}
	tol := Tolerance(sc)
	episodes := sc.Episodes(opts.ExcludeSuspended)
	observed := observable(sc, episodes, tol)
	out := map[string]verdict{}
	for _, name := range alerts {
		var v verdict
		hold := max(rep.For[name], opts.MinFailure)
		for _, ep := range episodes {
			// A controller restart empties the controllers' metrics; every
			// alert's `for` starts over when they come back.
			start := gapEnd(sc, ep.Start)
			if sc.Era != scenario.EraKSM {
				for _, c := range sc.Cluster {
					if back := time.Duration(c.At + sc.Options.RestartDelay); c.ControllerRestart && time.Duration(c.At) < ep.End && back > start {
						start = back
					}
				}
			}
			if ep.End-start <= hold+tol {
				continue
			}
			v.realFailures++
			o := &sc.Objects[ep.Object]
			fired := false
			for _, a := range rep.Timeline.Alerts {
				if a.Alert != name || !sc.Matches(a.Labels, o) {
					continue
				}
				for _, iv := range a.Intervals {
					end := iv.End
					if end.IsZero() {
						end = scenario.Epoch.Add(time.Duration(sc.Duration) + time.Nanosecond)
					}
					if iv.State == evaluator.Firing && iv.Start.Sub(scenario.Epoch) < ep.End+tol && end.Sub(scenario.Epoch) > ep.Start {
						fired = true
					}
				}
			}
			if !fired {
				v.fn++
				if v.what == "" {
					v.what = fmt.Sprintf("false negative: %s failed from %s to %s and %s never fired for it", o.ID(), model.Duration(ep.Start), model.Duration(ep.End), name)
				}
			}
		}
		for _, a := range rep.Timeline.Alerts {
			if a.Alert != name {
				continue
			}
			for _, iv := range a.Intervals {
				if iv.State != evaluator.Firing {
					continue
				}
				v.fired++
				end := iv.End
				if end.IsZero() {
					end = scenario.Epoch.Add(time.Duration(sc.Duration) + time.Nanosecond)
				}
				for t := iv.Start; t.Before(end); t = t.Add(time.Duration(sc.EvaluationInterval)) {
					if !legit(sc, observed, a.Labels, t.Sub(scenario.Epoch), opts.MinFailure, tol) {
						v.fp++
						if v.what == "" {
							v.what = fmt.Sprintf("false positive: %s fired at %s for %s, which was not failing for %s then", name, model.Duration(t.Sub(scenario.Epoch)), a.Labels, model.Duration(opts.MinFailure))
						}
						break
					}
				}
			}
		}
		out[name] = v
	}
	return out, nil
}

// observable is the ground truth as Prometheus can see it, for judging
// firing alerts: an object's episodes separated by less than the tolerance
// are one (a recovery shorter than a scrape plus an evaluation may go
// unseen), and an episode ending inside a scrape gap is seen to end only
// when scraping resumes.
func observable(sc *scenario.Scenario, episodes []scenario.Episode, tol time.Duration) []scenario.Episode {
	var out []scenario.Episode
	for _, ep := range episodes {
		ep.End = gapEnd(sc, ep.End)
		if n := len(out); n > 0 && out[n-1].Object == ep.Object && ep.Start-out[n-1].End < tol {
			out[n-1].End = max(out[n-1].End, ep.End)
			continue
		}
		out = append(out, ep)
	}
	return out
}

// gapEnd moves t to the end of the scrape gap it falls in, if any.
func gapEnd(sc *scenario.Scenario, t time.Duration) time.Duration {
	for _, c := range sc.Cluster {
		if c.ScrapeGap > 0 && t >= time.Duration(c.At) && t < time.Duration(c.At+c.ScrapeGap) {
			return time.Duration(c.At + c.ScrapeGap)
		}
	}
	return t
}

// legit says whether an alert with these labels may fire at t: an object it
// names has been failing for at least minFailure (give or take tol), or
// stopped failing less than tol ago.
func legit(sc *scenario.Scenario, episodes []scenario.Episode, lset labels.Labels, t, minFailure, tol time.Duration) bool {
	for _, ep := range episodes {
		o := &sc.Objects[ep.Object]
		if !sc.Matches(lset, o) {
			continue
		}
		if t >= ep.Start+minFailure-tol && t < ep.End+tol {
			return true
		}
	}
	return false
}

// Life makes the random life of run number run: objects that reconcile,
// fail and recover, with long reconciles, suspensions and deletions, and
// controller restarts and short scrape gaps around them.
func Life(seed int64, run int, opts Options) *scenario.Scenario {
	rng := rand.New(rand.NewSource(seed*1_000_003 + int64(run)))
	dur := opts.Duration
	sc := &scenario.Scenario{
		Name:               fmt.Sprintf("verify seed %d run %d", seed, run),
		Duration:           model.Duration(dur),
		ScrapeInterval:     model.Duration(30 * time.Second),
		EvaluationInterval: model.Duration(time.Minute),
	}
	kinds := []string{"Kustomization", "HelmRelease", "GitRepository", "Kustomization"}
	names := []string{"apps", "infra"}
	nss := []string{"team-a", "team-b"}
	seen := map[string]bool{}
	for n := 1 + rng.Intn(4); len(sc.Objects) < n; {
		o := scenario.Object{Kind: kinds[rng.Intn(len(kinds))], Name: names[rng.Intn(len(names))], Namespace: nss[rng.Intn(len(nss))]}
		if seen[o.ID()] {
			n--
			continue
		}
		seen[o.ID()] = true
		o.Events = scenario.RandomEvents(rng, dur)
		sc.Objects = append(sc.Objects, o)
	}
	if rng.Intn(5) == 0 {
		sc.Cluster = append(sc.Cluster, scenario.ClusterEvent{At: minutes(rng, 10, int(dur/time.Minute)-10), ControllerRestart: true})
	}
	if rng.Intn(6) == 0 {
		sc.Cluster = append(sc.Cluster, scenario.ClusterEvent{At: minutes(rng, 5, int(dur/time.Minute)-10), ScrapeGap: model.Duration(time.Duration(1+rng.Intn(4)) * time.Minute)})
	}
	if opts.SecondTargets && rng.Intn(6) == 0 {
		sc.Cluster = append(sc.Cluster, scenario.ClusterEvent{At: minutes(rng, 5, int(dur/time.Minute)-10), SecondTarget: model.Duration(time.Duration(1+rng.Intn(5)) * time.Minute)})
	}
	sort.SliceStable(sc.Cluster, func(i, j int) bool { return sc.Cluster[i].At < sc.Cluster[j].At })
	sc.Normalize()
	return sc
}

func minutes(rng *rand.Rand, lo, hi int) model.Duration {
	if hi <= lo {
		hi = lo + 1
	}
	return model.Duration(time.Duration(lo+rng.Intn(hi-lo)) * time.Minute)
}

// eraMetrics are the metric names each era's monitoring setup exposes.
var eraMetrics = map[scenario.Era][]string{
	scenario.EraV20: {scenario.MetricCondition, scenario.MetricSuspend, scenario.MetricDuration + "_bucket", scenario.MetricDuration + "_sum", scenario.MetricDuration + "_count"},
	scenario.EraV21: {scenario.MetricCondition, scenario.MetricSuspend, scenario.MetricDuration + "_bucket", scenario.MetricDuration + "_sum", scenario.MetricDuration + "_count"},
	scenario.EraKSM: {scenario.MetricInfo},
}

func exposes(era scenario.Era, reads map[string]bool) bool {
	for _, m := range eraMetrics[era] {
		if reads[m] {
			return true
		}
	}
	return false
}

// metricsRead returns, per alert name, the metric names its expression
// reads, through the recording rules it reads.
func metricsRead(opts Options) (map[string]map[string]bool, error) {
	recorded := map[string][]string{}
	alertReads := map[string][]string{}
	for _, f := range opts.RuleFiles {
		rf, err := opts.Loader.LoadFile(f)
		if err != nil {
			return nil, err
		}
		for _, g := range rf.Groups {
			for _, r := range g.RuleGroup.Rules {
				expr, err := opts.Engine.Parser().ParseExpr(r.Expr)
				if err != nil {
					return nil, err
				}
				var names []string
				parser.Inspect(expr, func(n parser.Node, _ []parser.Node) error {
					if vs, ok := n.(*parser.VectorSelector); ok {
						for _, m := range vs.LabelMatchers {
							if m.Name == labels.MetricName && m.Type == labels.MatchEqual {
								names = append(names, m.Value)
							}
						}
					}
					return nil
				})
				if r.Record != "" {
					recorded[r.Record] = append(recorded[r.Record], names...)
				} else {
					alertReads[r.Alert] = append(alertReads[r.Alert], names...)
				}
			}
		}
	}
	out := map[string]map[string]bool{}
	for a, names := range alertReads {
		seen := map[string]bool{}
		var visit func(string)
		visit = func(n string) {
			if seen[n] {
				return
			}
			seen[n] = true
			for _, m := range recorded[n] {
				visit(m)
			}
		}
		for _, n := range names {
			visit(n)
		}
		out[a] = seen
	}
	return out, nil
}
