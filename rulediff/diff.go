// Package rulediff compares what two versions of a set of alerting rules do
// on the same data: both are replayed over the same inputs (promtool test
// files' input series, scenarios, verify's random lives, a Prometheus
// server's history) and, per alert name and label set, the firing intervals
// gained and lost are reported, with firings per day, time to fire and time
// to resolve before and after. Only firing counts as behaviour: pending
// alone pages nobody, and annotations are not compared.
package rulediff

import (
	"slices"
	"sort"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/gotk-rules/gotk-rules/evaluator"
	"github.com/gotk-rules/gotk-rules/scenario"
)

// Span is a half-open stretch of time [Start, End): from the first
// evaluation at which an alert fired to the first at which it no longer
// did. Open is set when it still fired at the input's last evaluation; End
// is then one step after that evaluation.
type Span struct {
	Start time.Time
	End   time.Time
	Open  bool
}

// Status says how a label set's firing changed.
type Status string

// Statuses of a label set.
const (
	// Added: the label set fires with the new rules only.
	Added Status = "added"
	// Removed: the label set fires with the old rules only.
	Removed Status = "removed"
	// Changed: the label set fires with both, at different times.
	Changed Status = "changed"
)

// SeriesDiff is the change of one alert label set's firing.
type SeriesDiff struct {
	// Labels are the alert's labels, alertname included.
	Labels labels.Labels
	Status Status
	// Gained are the spans it fires with the new rules and not the old;
	// Lost the spans it fired with the old rules and not the new.
	Gained []Span
	Lost   []Span
}

// Stats sum up one alert name's firing on one input under one rule set.
// A duration statistic is the median of what was measured; Count fields
// say how many values it was taken over (zero: not measured).
type Stats struct {
	// LabelSets is how many label sets fired.
	LabelSets int
	// Firings is how many times a label set started firing.
	Firings int
	// PerDay is Firings over the input's length in days.
	PerDay float64
	// FiringTime is the total time label sets spent firing.
	FiringTime time.Duration
	// PendingToFiring is the median time from the start of the pending
	// stretch right before a firing to the firing (zero for an alert with
	// no `for`), over PendingToFiringCount firings.
	PendingToFiring      time.Duration
	PendingToFiringCount int
	// ToResolve is the median time from a firing's start to its end, over
	// the ToResolveCount firings that ended before the input did.
	ToResolve      time.Duration
	ToResolveCount int
	// FailureToFiring, on scenario inputs only, is the median time from the
	// start of an object's failure episode (scenario.Episode) to the first
	// evaluation within the episode at which the alert fired for that
	// object, over the FailuresCaught episodes where it did.
	FailureToFiring time.Duration
	FailuresCaught  int
	// FailureEndToResolved, on scenario inputs only, is the median time
	// from the end of a failure episode the alert fired during to the
	// first evaluation after it at which the alert no longer fired for the
	// object, over FailureEndToResolvedCount episodes (those that ended,
	// and after which the alert stopped before the input's end).
	FailureEndToResolved      time.Duration
	FailureEndToResolvedCount int
}

// AlertDiff is the change of one alert name's behaviour on one input.
type AlertDiff struct {
	Alert string
	Old   Stats
	New   Stats
	// Series are the label sets whose firing changed, by labels.
	Series []SeriesDiff
}

// InputDiff is the comparison of the two rule sets on one input.
type InputDiff struct {
	Kind InputKind
	Name string
	// Start and End are the first and last evaluations; Step the time
	// between them.
	Start, End time.Time
	Step       time.Duration
	// Absolute: times are wall-clock times (a server's history); else
	// they are read as offsets from Start.
	Absolute bool
	// Alerts are the alert names whose firing changed, by name.
	Alerts []AlertDiff
}

// Changed reports whether any alert fired differently on the input.
func (d *InputDiff) Changed() bool { return len(d.Alerts) > 0 }

// Compare compares the old and the new rules' timelines of one input. sc,
// when not nil, is the scenario the input was generated from: its failure
// episodes give the failure-relative statistics.
func Compare(in *Input, old, cur *evaluator.Timeline, sc *scenario.Scenario) InputDiff {
	d := InputDiff{Kind: in.Kind, Name: in.Name, Start: old.Start, End: old.End, Step: old.Step, Absolute: in.Absolute}
	oldSets, newSets := firingSets(old), firingSets(cur)
	changedNames := map[string][]SeriesDiff{}
	keys := make(map[string]bool, len(oldSets)+len(newSets))
	for k := range oldSets {
		keys[k] = true
	}
	for k := range newSets {
		keys[k] = true
	}
	for k := range keys {
		o, n := oldSets[k], newSets[k]
		var lset labels.Labels
		var ov, nv []Span
		if o != nil {
			lset, ov = o.labels, o.spans
		}
		if n != nil {
			lset, nv = n.labels, n.spans
		}
		gained, lost := subtract(nv, ov), subtract(ov, nv)
		if len(gained) == 0 && len(lost) == 0 {
			continue
		}
		sd := SeriesDiff{Labels: lset, Gained: gained, Lost: lost, Status: Changed}
		switch {
		case len(ov) == 0:
			sd.Status = Added
		case len(nv) == 0:
			sd.Status = Removed
		}
		name := lset.Get(labels.AlertName)
		changedNames[name] = append(changedNames[name], sd)
	}
	for name, series := range changedNames {
		sort.Slice(series, func(i, j int) bool { return labels.Compare(series[i].Labels, series[j].Labels) < 0 })
		d.Alerts = append(d.Alerts, AlertDiff{
			Alert:  name,
			Old:    statsOf(old, name, sc),
			New:    statsOf(cur, name, sc),
			Series: series,
		})
	}
	sort.Slice(d.Alerts, func(i, j int) bool { return d.Alerts[i].Alert < d.Alerts[j].Alert })
	return d
}

// labelSet is one alert label set's firing spans in a timeline.
type labelSet struct {
	labels labels.Labels
	spans  []Span
}

// firingSets gathers each label set's firing spans; label sets that never
// fired are left out. Two rules of the same name giving the same labels
// are one label set (Alertmanager could not tell them apart).
func firingSets(tl *evaluator.Timeline) map[string]*labelSet {
	out := map[string]*labelSet{}
	for _, a := range tl.Alerts {
		spans := firingSpans(tl, a)
		if len(spans) == 0 {
			continue
		}
		k := a.Labels.String()
		ls := out[k]
		if ls == nil {
			ls = &labelSet{labels: a.Labels}
			out[k] = ls
		}
		ls.spans = union(ls.spans, spans)
	}
	return out
}

// endOf is the exclusive end of a timeline: one step after its last
// evaluation.
func endOf(tl *evaluator.Timeline) time.Time { return tl.End.Add(tl.Step) }

// firingSpans are the firing intervals of one alert, as spans.
func firingSpans(tl *evaluator.Timeline, a *evaluator.AlertTimeline) []Span {
	var out []Span
	for _, iv := range a.Intervals {
		if iv.State != evaluator.Firing {
			continue
		}
		s := Span{Start: iv.Start, End: iv.End}
		if iv.End.IsZero() {
			s.End, s.Open = endOf(tl), true
		}
		out = append(out, s)
	}
	return out
}

// union merges two sorted lists of spans into one sorted list of disjoint
// spans; touching spans are joined.
func union(a, b []Span) []Span {
	all := append(slices.Clone(a), b...)
	sort.Slice(all, func(i, j int) bool { return all[i].Start.Before(all[j].Start) })
	var out []Span
	for _, s := range all {
		if n := len(out); n > 0 && !s.Start.After(out[n-1].End) {
			if s.End.After(out[n-1].End) {
				out[n-1].End, out[n-1].Open = s.End, s.Open
			} else if s.End.Equal(out[n-1].End) {
				out[n-1].Open = out[n-1].Open || s.Open
			}
			continue
		}
		out = append(out, s)
	}
	return out
}

// subtract returns the parts of the sorted disjoint spans a that no span
// of the sorted disjoint spans b covers.
func subtract(a, b []Span) []Span {
	var out []Span
	j := 0
	for _, s := range a {
		cur := s
		for j < len(b) && !b[j].End.After(cur.Start) {
			j++
		}
		k := j
		for k < len(b) && b[k].Start.Before(cur.End) {
			if b[k].Start.After(cur.Start) {
				out = append(out, Span{Start: cur.Start, End: b[k].Start})
			}
			if !b[k].End.Before(cur.End) {
				cur.Start = cur.End // wholly covered from here
				break
			}
			cur.Start = b[k].End
			k++
		}
		if cur.Start.Before(cur.End) {
			out = append(out, cur)
		}
	}
	return out
}

// statsOf sums up one alert name's firing in a timeline.
func statsOf(tl *evaluator.Timeline, name string, sc *scenario.Scenario) Stats {
	var st Stats
	var toFire, toResolve []time.Duration
	sets := map[string]bool{}
	for _, a := range tl.Alerts {
		if a.Alert != name {
			continue
		}
		for i, iv := range a.Intervals {
			if iv.State != evaluator.Firing {
				continue
			}
			sets[a.Labels.String()] = true
			st.Firings++
			end := iv.End
			if end.IsZero() {
				end = endOf(tl)
			} else {
				toResolve = append(toResolve, iv.End.Sub(iv.Start))
			}
			st.FiringTime += end.Sub(iv.Start)
			wait := time.Duration(0)
			if i > 0 && a.Intervals[i-1].State == evaluator.Pending && a.Intervals[i-1].End.Equal(iv.Start) {
				wait = iv.Start.Sub(a.Intervals[i-1].Start)
			}
			toFire = append(toFire, wait)
		}
	}
	st.LabelSets = len(sets)
	if days := endOf(tl).Sub(tl.Start).Hours() / 24; days > 0 {
		st.PerDay = float64(st.Firings) / days
	}
	st.PendingToFiring, st.PendingToFiringCount = median(toFire), len(toFire)
	st.ToResolve, st.ToResolveCount = median(toResolve), len(toResolve)
	if sc != nil {
		failureStats(&st, tl, name, sc)
	}
	return st
}

// failureStats fills the failure-relative statistics from the scenario's
// failure episodes.
func failureStats(st *Stats, tl *evaluator.Timeline, name string, sc *scenario.Scenario) {
	var caught, resolved []time.Duration
	firingFor := func(o *scenario.Object, t time.Time) bool {
		for _, a := range tl.Alerts {
			if a.Alert == name && a.StateAt(t) == evaluator.Firing && sc.Matches(a.Labels, o) {
				return true
			}
		}
		return false
	}
	step := tl.Step
	for _, ep := range sc.Episodes(false) {
		o := &sc.Objects[ep.Object]
		// The first evaluation at or after the episode's start.
		t := ceilTo(tl.Start, ep.Start, step)
		end := tl.Start.Add(ep.End)
		fired := false
		for ; t.Before(end) && !t.After(tl.End); t = t.Add(step) {
			if firingFor(o, t) {
				caught = append(caught, t.Sub(tl.Start.Add(ep.Start)))
				fired = true
				break
			}
		}
		if !fired || ep.Open {
			continue
		}
		for t := ceilTo(tl.Start, ep.End, step); !t.After(tl.End); t = t.Add(step) {
			if !firingFor(o, t) {
				resolved = append(resolved, t.Sub(end))
				break
			}
		}
	}
	st.FailureToFiring, st.FailuresCaught = median(caught), len(caught)
	st.FailureEndToResolved, st.FailureEndToResolvedCount = median(resolved), len(resolved)
}

// ceilTo is the first evaluation (start plus a multiple of step) at or
// after start+off.
func ceilTo(start time.Time, off, step time.Duration) time.Time {
	if off <= 0 {
		return start
	}
	return start.Add(((off + step - 1) / step) * step)
}

// median is the middle value (the lower of the two middle ones), zero for
// none.
func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[(len(s)-1)/2]
}
