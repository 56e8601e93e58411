package backtest

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/gotk-rules/gotk-rules/evaluator"
)

// ServerAlerts compares one alerting rule's backtest with the ALERTS series
// the server itself wrote for it.
type ServerAlerts struct {
	Alert string `json:"alert"`
	// Found says whether the server has ALERTS series of the rule in the
	// range; without them (the rule is not loaded there, or never was
	// active) there is nothing to compare.
	Found bool `json:"found"`
	// LabelSets counts the server's label sets (alertstate apart).
	LabelSets int `json:"label_sets"`
	// Differences are the stretches where the backtest and the server
	// disagree, per label set, longer than the tolerance.
	Differences []Difference `json:"differences"`
	// Ignored counts the differences within the tolerance.
	Ignored int `json:"ignored"`
}

// Difference is a stretch of evaluations where the backtest's state of an
// alert (Local) is not the server's (Server).
type Difference struct {
	Labels labels.Labels
	Start  time.Time
	// End is the first evaluation where the difference no longer holds;
	// zero when it lasts to the end.
	End    time.Time
	Local  evaluator.State
	Server evaluator.State
}

const (
	inactive uint8 = iota
	pending
	firing
)

var stateNames = [...]evaluator.State{evaluator.Inactive, evaluator.Pending, evaluator.Firing}

// track is one label set's state at every evaluation.
type track struct {
	labels labels.Labels
	states []uint8
}

func (b *Backtest) compare(ctx context.Context, tl *evaluator.Timeline) ([]ServerAlerts, error) {
	out := make([]ServerAlerts, len(b.rules))
	index := map[string]int{}
	for i, name := range b.rules {
		index[name] = i
	}
	err := b.src.each(b.rules, func(ctx context.Context, name string) error {
		server, err := b.serverTracks(ctx, name)
		if err != nil {
			return err
		}
		out[index[name]] = b.diff(name, b.localTracks(tl, name), server)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// key drops the metric name, alertstate and the ignored labels.
func (b *Backtest) key(l labels.Labels) labels.Labels {
	return labels.NewBuilder(l).Del(append([]string{labels.MetricName, "alertstate"}, b.opts.IgnoreLabels...)...).Labels()
}

func (b *Backtest) localTracks(tl *evaluator.Timeline, name string) map[string]*track {
	tracks := map[string]*track{}
	for _, a := range tl.Alerts {
		if a.Alert != name {
			continue
		}
		l := b.key(a.Labels)
		tr := tracks[l.String()]
		if tr == nil {
			tr = &track{labels: l, states: make([]uint8, b.g.n)}
			tracks[l.String()] = tr
		}
		for _, iv := range a.Intervals {
			lo, _ := b.g.index(iv.Start)
			hi := b.g.n
			if !iv.End.IsZero() {
				hi, _ = b.g.index(iv.End)
			}
			st := pending
			if iv.State == evaluator.Firing {
				st = firing
			}
			for i := lo; i < hi; i++ {
				tr.states[i] = max(tr.states[i], st)
			}
		}
	}
	return tracks
}

// serverTracks reads ALERTS{alertname=name} over the backtest's range.
func (b *Backtest) serverTracks(ctx context.Context, name string) (map[string]*track, error) {
	tracks := map[string]*track{}
	expr := fmt.Sprintf("ALERTS{alertname=%q}", name)
	for _, ch := range b.g.chunks(b.opts.MaxPoints) {
		vecs, err := b.src.fetch(ctx, expr, ch[0], ch[1])
		if err != nil {
			return nil, err
		}
		for j, v := range vecs {
			for _, smp := range v {
				st := inactive
				switch smp.Metric.Get("alertstate") {
				case "pending":
					st = pending
				case "firing":
					st = firing
				default:
					continue
				}
				l := b.key(smp.Metric)
				tr := tracks[l.String()]
				if tr == nil {
					tr = &track{labels: l, states: make([]uint8, b.g.n)}
					tracks[l.String()] = tr
				}
				tr.states[ch[0]+j] = max(tr.states[ch[0]+j], st)
			}
		}
	}
	return tracks, nil
}

func (b *Backtest) diff(name string, local, server map[string]*track) ServerAlerts {
	sa := ServerAlerts{Alert: name, Found: len(server) > 0, LabelSets: len(server), Differences: []Difference{}}
	if !sa.Found {
		return sa
	}
	keys := map[string]labels.Labels{}
	for k, tr := range local {
		keys[k] = tr.labels
	}
	for k, tr := range server {
		keys[k] = tr.labels
	}
	sorted := make([]string, 0, len(keys))
	for k := range keys {
		sorted = append(sorted, k)
	}
	sort.Slice(sorted, func(i, j int) bool { return labels.Compare(keys[sorted[i]], keys[sorted[j]]) < 0 })
	none := make([]uint8, b.g.n)
	for _, k := range sorted {
		lt, st := none, none
		if tr := local[k]; tr != nil {
			lt = tr.states
		}
		if tr := server[k]; tr != nil {
			st = tr.states
		}
		for i := 0; i < b.g.n; {
			if lt[i] == st[i] {
				i++
				continue
			}
			j := i + 1
			for j < b.g.n && lt[j] == lt[i] && st[j] == st[i] {
				j++
			}
			// The stretch lasts from evaluation i to j (the end counts one step).
			if time.Duration(j-i)*b.g.step <= b.opts.Tolerance {
				sa.Ignored++
			} else {
				d := Difference{Labels: keys[k], Start: b.g.at(i), Local: stateNames[lt[i]], Server: stateNames[st[i]]}
				if j < b.g.n {
					d.End = b.g.at(j)
				}
				sa.Differences = append(sa.Differences, d)
			}
			i = j
		}
	}
	return sa
}

// DayCount is one alerting rule's activity on one UTC day.
type DayCount struct {
	Day   string `json:"day"` // 2006-01-02, UTC
	Alert string `json:"alert"`
	// LabelSets counts the label sets pending or firing that day.
	LabelSets int `json:"label_sets"`
	// Pending and Firing count the intervals that started that day.
	Pending int `json:"pending"`
	Firing  int `json:"firing"`
	// FiringSeconds is the time spent firing that day, summed over label
	// sets; an interval still firing at the end counts up to the last
	// evaluation.
	FiringSeconds int64 `json:"firing_seconds"`
}

// perDay counts, per alerting rule and UTC day with any activity.
func perDay(tl *evaluator.Timeline, last time.Time) []DayCount {
	type key struct{ day, alert string }
	counts := map[key]*DayCount{}
	sets := map[key]map[string]bool{}
	get := func(day time.Time, alert string) (*DayCount, key) {
		k := key{day.Format(time.DateOnly), alert}
		if counts[k] == nil {
			counts[k] = &DayCount{Day: k.day, Alert: alert}
			sets[k] = map[string]bool{}
		}
		return counts[k], k
	}
	for _, a := range tl.Alerts {
		ls := a.Labels.String()
		for _, iv := range a.Intervals {
			start := iv.Start.UTC()
			end := iv.End.UTC()
			if iv.End.IsZero() {
				end = last.UTC()
			}
			dc, _ := get(start, a.Alert)
			if iv.State == evaluator.Firing {
				dc.Firing++
			} else {
				dc.Pending++
			}
			// Every day the interval touches: [start, end), or up to and
			// including the last evaluation when it still held then.
			for day := start.Truncate(24 * time.Hour); day.Before(end) || (iv.End.IsZero() && !day.After(end)); day = day.Add(24 * time.Hour) {
				dc, k := get(day, a.Alert)
				sets[k][ls] = true
				lo, hi := maxTime(start, day), minTime(end, day.Add(24*time.Hour))
				if iv.State == evaluator.Firing && hi.After(lo) {
					dc.FiringSeconds += int64(hi.Sub(lo) / time.Second)
				}
			}
		}
	}
	out := make([]DayCount, 0, len(counts))
	for k, dc := range counts {
		dc.LabelSets = len(sets[k])
		out = append(out, *dc)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Day != out[j].Day {
			return out[i].Day < out[j].Day
		}
		return out[i].Alert < out[j].Alert
	})
	return out
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
