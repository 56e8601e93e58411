package timeline

import (
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"

	"github.com/gotk-rules/gotk-rules/evaluator"
	"github.com/gotk-rules/gotk-rules/scenario"
	"github.com/gotk-rules/gotk-rules/series"
)

// View is one replay as WriteSVG, WriteHTML and the time-cursor script
// draw it; it marshals to the JSON the script reads. Times are milliseconds
// from the replay's start.
type View struct {
	// Title and Subtitle head the picture (the scenario's name and setup).
	Title    string `json:"title"`
	Subtitle string `json:"subtitle"`
	// StartMS is the start as Unix milliseconds (0 for scenarios).
	StartMS int64 `json:"start_ms"`
	// EndMS is the last evaluation; StepMS the evaluation interval.
	EndMS  int64 `json:"end_ms"`
	StepMS int64 `json:"step_ms"`
	// The constructors leave none of Series, Objects, Alerts, Marks and
	// Groups nil: the script reads them as lists.
	Series  []SeriesView  `json:"series"`
	Objects []ObjectView  `json:"objects"`
	Alerts  []AlertView   `json:"alerts"`
	Marks   []MarkView    `json:"marks"`
	Groups  []SeriesGroup `json:"groups"`
}

// SeriesView is one input series: its samples and staleness markers.
type SeriesView struct {
	Metric string `json:"metric"` // the full name{labels}
	Name   string `json:"name"`   // the metric name
	Short  string `json:"short"`  // the labels that tell it apart in its group
	Group  int    `json:"group"`  // index in View.Groups
	// T and V are the samples (histograms by their count); Stale the
	// staleness markers.
	T     []int64   `json:"t"`
	V     []float64 `json:"v"`
	Stale []int64   `json:"stale"`
	// GapMS is the longest distance between samples drawn as one line.
	GapMS int64 `json:"gap_ms"`
}

// SeriesGroup is the series of one metric name, with the labels they share.
type SeriesGroup struct {
	Name   string `json:"name"`
	Common string `json:"common"`
}

// ObjectView is a scenario object and its true state over time.
type ObjectView struct {
	ID    string     `json:"id"`
	Spans []SpanView `json:"spans"`
}

// AlertView is one alert label set and its pending and firing intervals.
type AlertView struct {
	Alert string `json:"alert"`
	// Labels are the alert's labels but alertname.
	Labels map[string]string `json:"labels"`
	// Short is the labels that tell it apart from the other label sets of
	// its alert, or all of them when it is the only one.
	Short       string            `json:"short"`
	Annotations map[string]string `json:"annotations"`
	// Objects are the IDs of the scenario objects the alert names.
	Objects []string   `json:"objects"`
	Spans   []SpanView `json:"spans"`
}

// SpanView is a state from StartMS (included) to EndMS (excluded).
type SpanView struct {
	State   string `json:"state"`
	StartMS int64  `json:"start"`
	EndMS   int64  `json:"end"`
}

// MarkView is something that happened around the objects: a controller
// restart (a moment) or a scrape gap (a stretch).
type MarkView struct {
	Text    string `json:"text"`
	StartMS int64  `json:"start"`
	EndMS   int64  `json:"end"`
}

// FromReplay builds the view of a replayed scenario, as `gotk-rules replay`
// draws it: the scenario's series (generated again), its objects' true
// states, its cluster events as marks, and its alerts.
func FromReplay(rep *scenario.Replay) *View {
	return FromScenario(rep.Scenario, rep.Timeline, rep.Scenario.Generate())
}

// FromScenario is FromReplay for a scenario whose series ss are already
// generated and whose rules were evaluated into tl.
func FromScenario(sc *scenario.Scenario, tl *evaluator.Timeline, ss []series.Series) *View {
	v := FromSeries(tl, ss, scenario.Epoch)
	v.Title = sc.Name
	v.Subtitle = "era " + string(sc.Era) + ", scrape " + string(sc.Scrape) + ", scrape every " + sc.ScrapeInterval.String() + ", evaluate every " + sc.EvaluationInterval.String()
	end := time.Duration(sc.Duration)
	for i := range sc.Objects {
		o := &sc.Objects[i]
		v.Objects = append(v.Objects, ObjectView{ID: o.Kind + " " + o.Namespace + "/" + o.Name, Spans: objectSpans(o, end, v.EndMS+v.StepMS)})
	}
	for i, a := range tl.Alerts {
		for j := range sc.Objects {
			if sc.Matches(a.Labels, &sc.Objects[j]) {
				v.Alerts[i].Objects = append(v.Alerts[i].Objects, sc.Objects[j].ID())
			}
		}
	}
	for _, c := range sc.Cluster {
		at := time.Duration(c.At).Milliseconds()
		switch {
		case c.ControllerRestart:
			v.Marks = append(v.Marks, MarkView{Text: "controller restart at " + c.At.String(), StartMS: at, EndMS: at})
		case c.ScrapeGap > 0:
			v.Marks = append(v.Marks, MarkView{Text: "scrape gap " + c.At.String() + " for " + c.ScrapeGap.String(), StartMS: at, EndMS: at + time.Duration(c.ScrapeGap).Milliseconds()})
		case c.SecondTarget > 0:
			v.Marks = append(v.Marks, MarkView{Text: "second scrape target " + c.At.String() + " for " + c.SecondTarget.String(), StartMS: at, EndMS: at + time.Duration(c.SecondTarget).Milliseconds()})
		}
	}
	return v
}

// FromTimeline builds a view of alert timelines alone (no series, no
// objects), as a backtest against a server produces.
func FromTimeline(tl *evaluator.Timeline) *View { return FromSeries(tl, nil, tl.Start) }

// FromSeries builds the view of input series ss and of the alert timeline
// tl evaluated on them, with times counted from start. It has no objects,
// no marks and no title: the caller sets Title and Subtitle.
func FromSeries(tl *evaluator.Timeline, ss []series.Series, start time.Time) *View {
	v := &View{
		StartMS: start.UnixMilli(),
		EndMS:   tl.End.Sub(tl.Start).Milliseconds() + tl.Start.Sub(start).Milliseconds(),
		StepMS:  tl.Step.Milliseconds(),
		Series:  []SeriesView{},
		Objects: []ObjectView{},
		Alerts:  []AlertView{},
		Marks:   []MarkView{},
		Groups:  []SeriesGroup{},
	}
	if v.StepMS <= 0 {
		v.StepMS = time.Minute.Milliseconds()
	}
	v.addSeries(ss)
	v.addAlerts(tl, start)
	return v
}

func (v *View) addSeries(ss []series.Series) {
	sorted := make([]series.Series, len(ss))
	copy(sorted, ss)
	sort.SliceStable(sorted, func(i, j int) bool { return labels.Compare(sorted[i].Labels, sorted[j].Labels) < 0 })
	// Group by metric name; within a group, show the labels that vary.
	byName := map[string][]int{}
	var names []string
	for i, s := range sorted {
		n := s.Labels.Get(labels.MetricName)
		if _, ok := byName[n]; !ok {
			names = append(names, n)
		}
		byName[n] = append(byName[n], i)
	}
	for gi, n := range names {
		idx := byName[n]
		lsets := make([]labels.Labels, len(idx))
		for k, i := range idx {
			lsets[k] = sorted[i].Labels
		}
		varying, common := splitLabels(lsets)
		v.Groups = append(v.Groups, SeriesGroup{Name: n, Common: common})
		for k, i := range idx {
			s := sorted[i]
			sv := SeriesView{Metric: metricString(s.Labels), Name: n, Short: shortLabels(lsets[k], varying), Group: gi, T: []int64{}, V: []float64{}, Stale: []int64{}}
			var minGap int64 = math.MaxInt64
			var last int64 = math.MinInt64
			for _, smp := range s.Samples {
				t := smp.T - v.StartMS
				if t > v.EndMS {
					break
				}
				if last != math.MinInt64 && t-last > 0 {
					minGap = min(minGap, t-last)
				}
				last = t
				switch {
				case smp.H != nil:
					sv.T = append(sv.T, t)
					sv.V = append(sv.V, smp.H.Count)
				case value.IsStaleNaN(smp.F):
					sv.Stale = append(sv.Stale, t)
				case math.IsNaN(smp.F) || math.IsInf(smp.F, 0):
					// Not drawable; JSON cannot hold it either.
				default:
					sv.T = append(sv.T, t)
					sv.V = append(sv.V, smp.F)
				}
			}
			if minGap == math.MaxInt64 {
				minGap = v.StepMS
			}
			// A sample is drawn until the next one unless they are further
			// apart than one and a half scrapes: then it is a gap.
			sv.GapMS = minGap + minGap/2
			v.Series = append(v.Series, sv)
		}
	}
}

// splitLabels returns the label names whose values differ between the
// sets, most distinct values first, and the labels they all share.
func splitLabels(lsets []labels.Labels) ([]string, string) {
	values := map[string]map[string]bool{}
	present := map[string]int{}
	for _, ls := range lsets {
		ls.Range(func(l labels.Label) {
			if l.Name == labels.MetricName {
				return
			}
			if values[l.Name] == nil {
				values[l.Name] = map[string]bool{}
			}
			values[l.Name][l.Value] = true
			present[l.Name]++
		})
	}
	var varying []string
	var common []string
	for n, vs := range values {
		if len(vs) > 1 || present[n] != len(lsets) {
			varying = append(varying, n)
		} else {
			for val := range vs {
				common = append(common, n+"="+strconv.Quote(val))
			}
		}
	}
	sort.Slice(varying, func(i, j int) bool {
		a, b := len(values[varying[i]]), len(values[varying[j]])
		if a != b {
			return a > b
		}
		return varying[i] < varying[j]
	})
	sort.Strings(common)
	c := ""
	if len(common) > 0 {
		c = "{" + strings.Join(common, ", ") + "}"
	}
	return varying, c
}

func shortLabels(ls labels.Labels, names []string) string {
	var parts []string
	for _, n := range names {
		if val := ls.Get(n); val != "" {
			parts = append(parts, n+"="+val)
		}
	}
	if len(parts) == 0 {
		return "(one series)"
	}
	return strings.Join(parts, " ")
}

// metricString writes name{label="value", ...}.
func metricString(ls labels.Labels) string { return scenario.MetricString(ls, ", ") }

func (v *View) addAlerts(tl *evaluator.Timeline, start time.Time) {
	byAlert := map[string][]labels.Labels{}
	for _, a := range tl.Alerts {
		byAlert[a.Alert] = append(byAlert[a.Alert], a.Labels)
	}
	varying := map[string][]string{}
	for name, lsets := range byAlert {
		if len(lsets) > 1 {
			varying[name], _ = splitLabels(lsets)
		}
	}
	end := v.EndMS + v.StepMS
	for _, a := range tl.Alerts {
		av := AlertView{Alert: a.Alert, Labels: map[string]string{}, Annotations: a.Annotations.Map(), Objects: []string{}, Spans: []SpanView{}}
		var parts []string
		names := varying[a.Alert]
		a.Labels.Range(func(l labels.Label) {
			if l.Name == labels.AlertName {
				return
			}
			av.Labels[l.Name] = l.Value
			if names == nil {
				parts = append(parts, l.Name+"="+l.Value)
			}
		})
		if names != nil {
			av.Short = shortLabels(a.Labels, names)
		} else {
			av.Short = strings.Join(parts, " ")
		}
		for _, iv := range a.Intervals {
			sp := SpanView{State: string(iv.State), StartMS: iv.Start.Sub(start).Milliseconds(), EndMS: end}
			if !iv.End.IsZero() {
				sp.EndMS = iv.End.Sub(start).Milliseconds()
			}
			av.Spans = append(av.Spans, sp)
		}
		v.Alerts = append(v.Alerts, av)
	}
}

// Object states, as the picture's classes (tl-o-STATE) name them.
const (
	stateReady     = "ready"
	stateFailing   = "failing"
	stateUnknown   = "unknown"
	stateNoReady   = "no-ready"
	stateSuspended = "suspended"
	stateGone      = "gone"
)

func objectState(st scenario.ObjectState) string {
	switch {
	case !st.Alive:
		return stateGone
	case st.Suspended:
		return stateSuspended
	}
	switch st.Ready {
	case "True":
		return stateReady
	case "False":
		return stateFailing
	case "Unknown":
		return stateUnknown
	}
	return stateNoReady
}

// objectSpans lists an object's true states, changing at its event times.
func objectSpans(o *scenario.Object, dur time.Duration, endMS int64) []SpanView {
	times := []time.Duration{0, time.Duration(o.Created)}
	for _, e := range o.Events {
		times = append(times, time.Duration(e.At), time.Duration(e.At+e.Took))
	}
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	spans := []SpanView{}
	for _, t := range times {
		if t > dur {
			break
		}
		st := objectState(o.StateAt(t))
		if n := len(spans); n > 0 {
			if spans[n-1].State == st {
				continue
			}
			spans[n-1].EndMS = t.Milliseconds()
		}
		spans = append(spans, SpanView{State: st, StartMS: t.Milliseconds(), EndMS: endMS})
	}
	// Drop empty spans (two changes at the same time).
	kept := spans[:0]
	for _, s := range spans {
		if s.EndMS > s.StartMS {
			kept = append(kept, s)
		}
	}
	return kept
}

// durString prints milliseconds as Prometheus prints durations (1h30m).
func durString(ms int64) string {
	if ms < 0 {
		return "-" + model.Duration(time.Duration(-ms)*time.Millisecond).String()
	}
	return model.Duration(time.Duration(ms) * time.Millisecond).String()
}
