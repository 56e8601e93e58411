package evaluator

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/rules"
)

// State is an alert's state at one evaluation.
type State string

// Alert states, as Prometheus names them.
const (
	Inactive State = "inactive"
	Pending  State = "pending"
	Firing   State = "firing"
)

// Interval is a stretch of evaluations during which an alert kept a state.
type Interval struct {
	State State     `json:"state"`
	Start time.Time `json:"start"`
	// End is the first evaluation at which the state no longer held; zero
	// when it held until the end of the replay.
	End time.Time `json:"end"`
}

// AlertTimeline is the life of one alert (one rule, one label set).
type AlertTimeline struct {
	Alert string `json:"alert"`
	Group string `json:"group"`
	// Labels are the alert's labels, alertname included.
	Labels labels.Labels `json:"labels"`
	// Annotations are as expanded at the last evaluation the alert was active.
	Annotations labels.Labels `json:"annotations"`
	Intervals   []Interval    `json:"intervals"`
}

// StateAt returns the alert's state at t.
func (a *AlertTimeline) StateAt(t time.Time) State {
	for _, iv := range a.Intervals {
		if !t.Before(iv.Start) && (iv.End.IsZero() || t.Before(iv.End)) {
			return iv.State
		}
	}
	return Inactive
}

// Timeline is the outcome of a replay: every alert that was ever pending or
// firing, ordered by rule then labels.
type Timeline struct {
	Start  time.Time        `json:"start"`
	End    time.Time        `json:"end"`
	Step   time.Duration    `json:"step_ns"`
	Alerts []*AlertTimeline `json:"alerts"`
}

// Replay evaluates every group at start, start+EvalInterval, ... up to end
// and records each alert's pending and firing intervals. A rule that fails
// to evaluate stops the replay with an error naming the group and rule.
// When ctx ends, the replay stops within one rule query and returns an
// error wrapping ctx's.
func (s *Session) Replay(ctx context.Context, start, end time.Time) (*Timeline, error) {
	return s.ReplayFunc(ctx, start, end, nil)
}

// ReplayFunc is Replay that calls observe after each evaluation, for
// callers that check state as time goes by.
func (s *Session) ReplayFunc(ctx context.Context, start, end time.Time, observe func(ts time.Time) error) (*Timeline, error) {
	if end.Before(start) {
		return nil, fmt.Errorf("replay ends (%s) before it starts (%s)", end.UTC().Format(time.RFC3339), start.UTC().Format(time.RFC3339))
	}
	if err := s.Plan(end); err != nil {
		return nil, err
	}
	tl := &Timeline{Start: start, End: end, Step: s.opts.EvalInterval}
	s.opts.Progress.AddTotal(int64(end.Sub(start)/s.opts.EvalInterval) + 1)
	// Alerts are found again at each step by rule and labels hash; a hash
	// shared by two label sets chains them.
	type alertKey struct {
		rule int
		hash uint64
	}
	open := map[alertKey][]*AlertTimeline{}
	var order []*AlertTimeline
	seen := map[*AlertTimeline]bool{}
	for ts := start; !ts.After(end); ts = ts.Add(s.opts.EvalInterval) {
		ruleErrs, err := s.Eval(ctx, ts)
		if err != nil {
			return nil, err
		}
		if len(ruleErrs) > 0 {
			errs := make([]error, len(ruleErrs))
			for i, e := range ruleErrs {
				errs[i] = e
			}
			return nil, errors.Join(errs...)
		}
		clear(seen)
		ruleIndex := 0
		for _, g := range s.groups {
			for _, r := range g.Rules() {
				ar, ok := r.(AlertRule)
				if !ok {
					continue
				}
				ruleIndex++
				observe := func(a *rules.Alert) {
					key := alertKey{ruleIndex, a.Labels.Hash()}
					var at *AlertTimeline
					for _, c := range open[key] {
						if labels.Equal(c.Labels, a.Labels) {
							at = c
							break
						}
					}
					if at == nil {
						at = &AlertTimeline{Alert: ar.Name(), Group: g.Name(), Labels: a.Labels.Copy()}
						open[key] = append(open[key], at)
						order = append(order, at)
					}
					seen[at] = true
					at.Annotations = a.Annotations
					state := Pending
					if a.State == rules.StateFiring {
						state = Firing
					}
					n := len(at.Intervals)
					if n > 0 && at.Intervals[n-1].End.IsZero() && at.Intervals[n-1].State == state {
						return
					}
					if n > 0 && at.Intervals[n-1].End.IsZero() {
						at.Intervals[n-1].End = ts
					}
					at.Intervals = append(at.Intervals, Interval{State: state, Start: ts})
				}
				if fast, ok := ar.(*AlertingRule); ok {
					fast.ForEachActiveAlert(observe)
					continue
				}
				for _, a := range ar.ActiveAlerts() {
					observe(a)
				}
			}
		}
		for _, at := range order {
			if n := len(at.Intervals); !seen[at] && n > 0 && at.Intervals[n-1].End.IsZero() {
				at.Intervals[n-1].End = ts
			}
		}
		if observe != nil {
			if err := observe(ts); err != nil {
				return nil, err
			}
		}
	}
	tl.Alerts = append(tl.Alerts, order...)
	sort.SliceStable(tl.Alerts, func(i, j int) bool {
		a, b := tl.Alerts[i], tl.Alerts[j]
		if a.Alert != b.Alert {
			return a.Alert < b.Alert
		}
		return labels.Compare(a.Labels, b.Labels) < 0
	})
	return tl, nil
}
