package backtest

import (
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/gotk-rules/gotk-rules/evaluator"
)

// DefaultFlapThreshold: an alert that fires and resolves more than this
// many times on one UTC day is flapping.
const DefaultFlapThreshold = 5

// NoisiestCount is how many label sets the fatigue report ranks.
const NoisiestCount = 10

// Fatigue is how noisy the alerts would have been over the window: what
// the people on call would have lived through.
type Fatigue struct {
	// Days is the window's length in days (evaluations times the step).
	Days float64 `json:"days"`
	// FlapThreshold: more firings resolved on one day than this is flapping.
	FlapThreshold int `json:"flap_threshold"`
	// Rules sums the label sets of each alerting rule that fired or was
	// pending, in the order of the rules.
	Rules []RuleFatigue `json:"rules"`
	// Alerts are every label set that was pending or firing, noisiest
	// first (most firings, then longest firing).
	Alerts []AlertFatigue `json:"alerts"`
	// Noisiest are the first NoisiestCount of Alerts that fired.
	Noisiest []AlertFatigue `json:"noisiest"`
}

// AlertFatigue is one alert's (rule and label set's) noise.
type AlertFatigue struct {
	Alert  string            `json:"alert"`
	Labels map[string]string `json:"labels"`
	// Firings counts the times it started firing; FiringsPerDay divides
	// by the window's days.
	Firings       int     `json:"firings"`
	FiringsPerDay float64 `json:"firings_per_day"`
	// FiringSeconds is the time spent firing (up to the last evaluation
	// for a firing still open at the end).
	FiringSeconds int64 `json:"firing_seconds"`
	// Resolved counts the firings that ended within the window;
	// MedianResolveSeconds is the median time from firing to resolved
	// over them (absent when none resolved).
	Resolved             int    `json:"resolved"`
	MedianResolveSeconds *int64 `json:"median_resolve_seconds,omitempty"`
	// MaxPerDay is the most firings resolved on one UTC day (the day
	// they resolved); FlappingDays counts the days over the threshold.
	MaxPerDay    int  `json:"max_resolved_per_day"`
	FlappingDays int  `json:"flapping_days"`
	Flapping     bool `json:"flapping"`

	labels labels.Labels
}

// RuleFatigue sums one alerting rule's label sets.
type RuleFatigue struct {
	Alert         string  `json:"alert"`
	LabelSets     int     `json:"label_sets"`
	Firings       int     `json:"firings"`
	FiringsPerDay float64 `json:"firings_per_day"`
	FiringSeconds int64   `json:"firing_seconds"`
	// MedianResolveSeconds is over every resolved firing of the rule.
	MedianResolveSeconds *int64 `json:"median_resolve_seconds,omitempty"`
	// Flapping counts the label sets that flapped.
	Flapping int `json:"flapping_label_sets"`
}

// fatigue measures the timeline's noise from first to last (evaluations
// every step), with flapping above threshold firings resolved a day.
func fatigue(tl *evaluator.Timeline, first, last time.Time, step time.Duration, threshold int) Fatigue {
	days := float64(last.Sub(first)+step) / float64(24*time.Hour)
	f := Fatigue{Days: round2(days), FlapThreshold: threshold, Rules: []RuleFatigue{}, Alerts: []AlertFatigue{}, Noisiest: []AlertFatigue{}}
	perRule := map[string]*RuleFatigue{}
	resolves := map[string][]int64{}
	var order []string
	for _, a := range tl.Alerts {
		af := AlertFatigue{Alert: a.Alert, Labels: labels.NewBuilder(a.Labels).Del(labels.AlertName).Labels().Map(), labels: a.Labels}
		var durs []int64
		perDay := map[string]int{}
		for _, iv := range a.Intervals {
			if iv.State != evaluator.Firing {
				continue
			}
			af.Firings++
			end := iv.End
			if end.IsZero() {
				end = last
			}
			af.FiringSeconds += int64(end.Sub(iv.Start) / time.Second)
			if !iv.End.IsZero() {
				af.Resolved++
				durs = append(durs, int64(iv.End.Sub(iv.Start)/time.Second))
				perDay[iv.End.UTC().Format(time.DateOnly)]++
			}
		}
		for _, n := range perDay {
			af.MaxPerDay = max(af.MaxPerDay, n)
			if n > threshold {
				af.FlappingDays++
			}
		}
		af.Flapping = af.FlappingDays > 0
		af.FiringsPerDay = round2(float64(af.Firings) / days)
		af.MedianResolveSeconds = median(durs)
		f.Alerts = append(f.Alerts, af)

		rf := perRule[a.Alert]
		if rf == nil {
			rf = &RuleFatigue{Alert: a.Alert}
			perRule[a.Alert] = rf
			order = append(order, a.Alert)
		}
		rf.LabelSets++
		rf.Firings += af.Firings
		rf.FiringSeconds += af.FiringSeconds
		if af.Flapping {
			rf.Flapping++
		}
		resolves[a.Alert] = append(resolves[a.Alert], durs...)
	}
	sort.Strings(order)
	for _, name := range order {
		rf := perRule[name]
		rf.FiringsPerDay = round2(float64(rf.Firings) / days)
		rf.MedianResolveSeconds = median(resolves[name])
		f.Rules = append(f.Rules, *rf)
	}
	sort.SliceStable(f.Alerts, func(i, j int) bool {
		a, b := f.Alerts[i], f.Alerts[j]
		if a.Firings != b.Firings {
			return a.Firings > b.Firings
		}
		if a.FiringSeconds != b.FiringSeconds {
			return a.FiringSeconds > b.FiringSeconds
		}
		if a.Alert != b.Alert {
			return a.Alert < b.Alert
		}
		return labels.Compare(a.labels, b.labels) < 0
	})
	for _, a := range f.Alerts {
		if len(f.Noisiest) == NoisiestCount || a.Firings == 0 {
			break
		}
		f.Noisiest = append(f.Noisiest, a)
	}
	return f
}

// median of whole seconds (the lower middle of an even count: a time one
// of the firings took); nil for none.
func median(v []int64) *int64 {
	if len(v) == 0 {
		return nil
	}
	s := slices.Clone(v)
	slices.Sort(s)
	m := s[(len(s)-1)/2]
	return &m
}

func round2(x float64) float64 {
	return float64(int64(x*100+0.5)) / 100
}

// CommonReplicaLabels are label names that usually tell replicas of one
// Prometheus (or ruler) apart: an alert carrying one is counted once per
// replica unless the querier deduplicates (--dedup, --replica-label).
var CommonReplicaLabels = []string{"replica", "prometheus_replica", "__replica__", "rule_replica"}

// ReplicaLabel is a label that looks like a replica label, found on an
// alerting rule's alerts.
type ReplicaLabel struct {
	Alert string `json:"alert"`
	Label string `json:"label"`
	// Values are its distinct values (the replicas seen).
	Values []string `json:"values"`
}

// replicaLabels finds the alerts' labels named as replica labels.
func replicaLabels(tl *evaluator.Timeline, extra []string) []ReplicaLabel {
	names := append(slices.Clone(CommonReplicaLabels), extra...)
	type key struct{ alert, label string }
	found := map[key]map[string]bool{}
	var keys []key
	for _, a := range tl.Alerts {
		for _, n := range names {
			v := a.Labels.Get(n)
			if v == "" {
				continue
			}
			k := key{a.Alert, n}
			if found[k] == nil {
				found[k] = map[string]bool{}
				keys = append(keys, k)
			}
			found[k][v] = true
		}
	}
	out := make([]ReplicaLabel, 0, len(keys))
	for _, k := range keys {
		vals := make([]string, 0, len(found[k]))
		for v := range found[k] {
			vals = append(vals, v)
		}
		sort.Strings(vals)
		out = append(out, ReplicaLabel{Alert: k.alert, Label: k.label, Values: vals})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Alert != out[j].Alert {
			return out[i].Alert < out[j].Alert
		}
		return out[i].Label < out[j].Label
	})
	return out
}

// String says what the replica label means for the backtest.
func (r ReplicaLabel) String() string {
	return "alert " + r.Alert + " carries the label " + r.Label + " (values " + strings.Join(r.Values, ", ") +
		"), which looks like a replica label: each replica's copy counts as an alert of its own; deduplicate with --dedup and --replica-label " + r.Label
}
