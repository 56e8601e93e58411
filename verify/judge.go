package verify

import (
	"context"
	"fmt"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/gotk-rules/gotk-rules/evaluator"
	"github.com/gotk-rules/gotk-rules/scenario"
)

// judge replays a life and compares every alert, each over the objects in
// its scope, and with Options.Policy the rule set as a whole, with the
// ground truth.
// Its evaluations count against the verification's budget.
func judge(ctx context.Context, sc *scenario.Scenario, opts Options, rs *ruleSet, scopes map[string]Scope) (map[string]verdict, error) {
	if err := opts.evals.take(sc); err != nil {
		return nil, err
	}
	rep, err := scenario.Run(ctx, sc, scenario.RunOptions{Engine: opts.Engine, RuleFiles: opts.RuleFiles, Loader: opts.Loader, SkipAnnotations: true, MaxEvals: opts.MaxEvals})
	if err != nil {
		return nil, err
	}
	j := &judgement{sc: sc, rep: rep, opts: opts, tol: Tolerance(sc)}
	j.episodes = sc.Episodes(opts.ExcludeSuspended)
	j.observed = observable(sc, j.episodes, j.tol)
	out := map[string]verdict{}
	for _, name := range rs.alerts {
		scope := scopes[name]
		out[name] = j.verdict(
			func(o *scenario.Object) (time.Duration, bool) { return rep.For[name], scope.Includes(sc, o) },
			func(alert string) bool { return alert == name },
			name+" never fired for it")
	}
	if opts.Policy {
		out[PolicyAlert] = j.verdict(
			func(o *scenario.Object) (time.Duration, bool) {
				// The quickest alert that watches the object sets when
				// the policy must have paged; an object no alert watches
				// is a failure the policy misses.
				hold, watched := time.Duration(-1), false
				for _, name := range rs.alerts {
					if scopes[name].Includes(sc, o) && (!watched || rep.For[name] < hold) {
						hold, watched = rep.For[name], true
					}
				}
				if !watched {
					for _, name := range rs.alerts {
						if hold < 0 || rep.For[name] < hold {
							hold = rep.For[name]
						}
					}
				}
				return max(hold, 0), true
			},
			func(string) bool { return true },
			"no alert of the rule set fired for it")
	}
	return out, nil
}

// judgement is one replayed life being judged.
type judgement struct {
	sc       *scenario.Scenario
	rep      *scenario.Replay
	opts     Options
	tol      time.Duration
	episodes []scenario.Episode
	observed []scenario.Episode
}

// verdict judges the alerts that pick accepts: every failure episode of an
// object that watch says is watched, longer than the hold it returns (at
// least --min-failure) plus the tolerance, must make one of them fire for
// the object (missed says how it was missed); every firing alert must name
// an object that has been failing for --min-failure.
func (j *judgement) verdict(watch func(*scenario.Object) (time.Duration, bool), pick func(alert string) bool, missed string) verdict {
	sc, rep := j.sc, j.rep
	var v verdict
	for _, ep := range j.episodes {
		o := &sc.Objects[ep.Object]
		hold, watched := watch(o)
		if !watched {
			continue
		}
		hold = max(hold, j.opts.MinFailure)
		// A controller restart empties the controllers' metrics; every
		// alert's `for` starts over when they come back.
		start := gapEnd(sc, ep.Start)
		if sc.Era == scenario.EraV20 || sc.Era == scenario.EraV21 {
			for _, c := range sc.Cluster {
				if back := time.Duration(c.At + sc.Options.RestartDelay); c.ControllerRestart && time.Duration(c.At) < ep.End && back > start {
					start = back
				}
			}
		}
		end, tol := ep.End, j.tol
		if lag := sc.ExportLag(); lag > 0 {
			// Judge what the lagging exporter showed: its reports may
			// show a failure later, and its end later, than the lag, or
			// never show it.
			shown, ok := exportedStart(sc, ep)
			if !ok {
				continue
			}
			start, end, tol = max(start, shown), exportedEnd(sc, ep), j.tol-lag
		}
		if end-start <= hold+tol {
			continue
		}
		v.realFailures++
		if !j.firedFor(o, scenario.Episode{Object: ep.Object, Start: ep.Start, End: max(end, ep.End)}, pick) {
			v.fn++
			if v.what == "" {
				v.what = fmt.Sprintf("false negative: %s failed from %s to %s and %s", o.ID(), model.Duration(ep.Start), model.Duration(ep.End), missed)
			}
		}
	}
	for _, a := range rep.Timeline.Alerts {
		if !pick(a.Alert) {
			continue
		}
		for _, iv := range a.Intervals {
			if iv.State != evaluator.Firing {
				continue
			}
			v.fired++
			for t := iv.Start; t.Before(j.end(iv)); t = t.Add(time.Duration(sc.EvaluationInterval)) {
				if !legit(sc, j.observed, a.Labels, t.Sub(scenario.Epoch), j.opts.MinFailure, j.tol-sc.ExportLag(), j.tol) {
					v.fp++
					if v.what == "" {
						v.what = fmt.Sprintf("false positive: %s fired at %s for %s, which was not failing for %s then", a.Alert, model.Duration(t.Sub(scenario.Epoch)), a.Labels, model.Duration(j.opts.MinFailure))
					}
					break
				}
			}
		}
	}
	return v
}

// firedFor reports whether an alert that pick accepts fired for the object
// during the episode (or within the tolerance after it).
func (j *judgement) firedFor(o *scenario.Object, ep scenario.Episode, pick func(string) bool) bool {
	for _, a := range j.rep.Timeline.Alerts {
		if !pick(a.Alert) || !j.sc.Matches(a.Labels, o) {
			continue
		}
		for _, iv := range a.Intervals {
			if iv.State == evaluator.Firing && iv.Start.Sub(scenario.Epoch) < ep.End+j.tol && j.end(iv).Sub(scenario.Epoch) > ep.Start {
				return true
			}
		}
	}
	return false
}

// end is when an interval ended, just past the scenario for an open one.
func (j *judgement) end(iv evaluator.Interval) time.Time {
	if iv.End.IsZero() {
		return scenario.Epoch.Add(time.Duration(j.sc.Duration) + time.Nanosecond)
	}
	return iv.End
}

// Tolerance is how late an alert may start or stop: one scrape interval
// (the sample must be scraped) plus one evaluation interval (and evaluated),
// plus how late the era's exporter may show a change.
func Tolerance(sc *scenario.Scenario) time.Duration {
	return time.Duration(sc.ScrapeInterval) + time.Duration(sc.EvaluationInterval) + sc.ExportLag()
}

// observable is the ground truth as Prometheus can see it, for judging
// firing alerts: an object's episodes separated by less than the tolerance
// are one (a recovery shorter than a scrape plus an evaluation may go
// unseen), an episode ending inside a scrape gap is seen to end only when
// scraping resumes, and one that an exporter with a lag (the Flux
// Operator's report) shows ending later is seen to end then.
func observable(sc *scenario.Scenario, episodes []scenario.Episode, tol time.Duration) []scenario.Episode {
	var out []scenario.Episode
	for _, ep := range episodes {
		ep.End = gapEnd(sc, exportedEnd(sc, ep))
		if n := len(out); n > 0 && out[n-1].Object == ep.Object && ep.Start-out[n-1].End < tol {
			out[n-1].End = max(out[n-1].End, ep.End)
			continue
		}
		out = append(out, ep)
	}
	return out
}

// exportedEnd is when the era's exporter first shows an episode over: the
// object Ready or gone. A lagging exporter may show it failing, or
// reconciling (Unknown) since its last report, for longer than the lag:
// a report taken during the next reconcile shows Unknown for a whole
// interval.
func exportedEnd(sc *scenario.Scenario, ep scenario.Episode) time.Duration {
	if sc.ExportLag() == 0 {
		return ep.End
	}
	o := &sc.Objects[ep.Object]
	end := time.Duration(sc.Duration)
	for t := ep.End; t < end; t += time.Duration(sc.ScrapeInterval) {
		if st := sc.ExportedStateAt(o, t); !st.Alive || st.Ready == "True" {
			return max(ep.End, t)
		}
	}
	return end
}

// exportedStart is when the era's exporter first shows an episode's
// object failing (Ready=False); ok is false when it never does (every
// report fell before the failure or into a reconcile's Unknown).
func exportedStart(sc *scenario.Scenario, ep scenario.Episode) (start time.Duration, ok bool) {
	o := &sc.Objects[ep.Object]
	for t := ep.Start; t < ep.End+sc.ExportLag(); t += time.Duration(sc.ScrapeInterval) {
		if st := sc.ExportedStateAt(o, t); st.Alive && st.Ready == "False" {
			return t, true
		}
	}
	return 0, false
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
// names has been failing for at least minFailure (less early), or stopped
// failing less than late ago. An exporter that shows changes late (the
// Flux Operator's report) makes alerts later, never earlier: its lag is
// part of late, not of early.
func legit(sc *scenario.Scenario, episodes []scenario.Episode, lset labels.Labels, t, minFailure, early, late time.Duration) bool {
	for _, ep := range episodes {
		o := &sc.Objects[ep.Object]
		if !sc.Matches(lset, o) {
			continue
		}
		if t >= ep.Start+minFailure-early && t < ep.End+late {
			return true
		}
	}
	return false
}
