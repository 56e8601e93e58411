package scenario

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/gotk-rules/gotk-rules/evaluator"
	"github.com/gotk-rules/gotk-rules/unittest/testfile"
)

// Legend explains the timeline characters.
const Legend = "objects: T ready  F failing  U unknown  ? no condition  S suspended  x gone\nalerts:  . inactive  p pending  # firing"

// WriteText prints the replay as aligned timelines: per object its state,
// and under it every alert label set that names it; then alerts that name
// no object. It fits width columns (at least 40).
func (r *Replay) WriteText(w io.Writer, width int) error {
	sc := r.Scenario
	width = max(width, 40)
	const labelW = 18
	total := d(sc.Duration)
	// One column is a whole number of evaluation intervals.
	step := d(sc.EvaluationInterval)
	perCell := max(1, int(math.Ceil(float64(total)/float64(step)/float64(width-labelW-1))))
	cell := time.Duration(perCell) * step
	cells := int(total/cell) + 1

	fmt.Fprintf(w, "%s\n", sc.Name)
	fmt.Fprintf(w, "era %s, scrape %s, 0s..%s, one column = %s\n", sc.Era, sc.Scrape, sc.Duration, modelDur(cell))
	fmt.Fprintf(w, "%s\n\n", Legend)
	var axis strings.Builder
	for c := 0; c < cells; c += 10 {
		mark := "|" + modelDur(time.Duration(c)*cell)
		if c+10 < cells {
			mark += strings.Repeat(" ", max(0, 10-len(mark)))
		} else if labelW+1+c+len(mark) > width {
			mark = "|" // the last label would stick out of the width
		}
		axis.WriteString(mark)
	}
	fmt.Fprintf(w, "%-*s %s\n", labelW, "", axis.String())

	shown := map[int]bool{}
	for i := range sc.Objects {
		o := &sc.Objects[i]
		row := make([]byte, cells)
		for c := range row {
			row[c] = objectChar(o.StateAt(time.Duration(c) * cell))
		}
		fmt.Fprintf(w, "%s\n", o.ID())
		fmt.Fprintf(w, "%-*s %s\n", labelW, "  object", row)
		for ai, a := range r.Timeline.Alerts {
			if !sc.Matches(a.Labels, o) {
				continue
			}
			shown[ai] = true
			fmt.Fprintf(w, "%-*s %s\n", labelW, clip("  "+a.Alert, labelW), alertRow(a, cells, cell))
		}
	}
	for ai, a := range r.Timeline.Alerts {
		if shown[ai] {
			continue
		}
		fmt.Fprintf(w, "alert naming no object: %s\n", clip(a.Labels.String(), width-24))
		fmt.Fprintf(w, "%-*s %s\n", labelW, clip("  "+a.Alert, labelW), alertRow(a, cells, cell))
	}
	_, err := fmt.Fprintln(w)
	return err
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-1] + "…"
}

func objectChar(st ObjectState) byte {
	switch {
	case !st.Alive:
		return 'x'
	case st.Suspended:
		return 'S'
	}
	switch st.Ready {
	case "True":
		return 'T'
	case "False":
		return 'F'
	case "Unknown":
		return 'U'
	}
	return '?'
}

// alertRow marks each column with the most severe state within it.
func alertRow(a *evaluator.AlertTimeline, cells int, cell time.Duration) string {
	row := []byte(strings.Repeat(".", cells))
	for _, iv := range a.Intervals {
		ch := byte('p')
		if iv.State == evaluator.Firing {
			ch = '#'
		}
		start := int(iv.Start.Sub(Epoch) / cell)
		end := cells
		if !iv.End.IsZero() {
			end = int((iv.End.Sub(Epoch) + cell - 1) / cell)
		}
		for c := max(start, 0); c < min(end, cells); c++ {
			if row[c] != '#' {
				row[c] = ch
			}
		}
	}
	return string(row)
}

// jsonInterval is an interval as offsets and times.
type jsonInterval struct {
	Start string `json:"start"`
	End   string `json:"end,omitempty"`
}

// WriteJSON prints the replay: objects with their state intervals and
// alerts with their pending and firing intervals (an end is the first
// evaluation at which the state no longer held; none when it lasted).
func (r *Replay) WriteJSON(w io.Writer) error {
	type object struct {
		Object string              `json:"object"`
		States []map[string]string `json:"states"`
	}
	type alert struct {
		Alert       string            `json:"alert"`
		Labels      map[string]string `json:"labels"`
		Annotations map[string]string `json:"annotations"`
		Objects     []string          `json:"objects"`
		Pending     []jsonInterval    `json:"pending"`
		Firing      []jsonInterval    `json:"firing"`
	}
	out := struct {
		Scenario string   `json:"scenario"`
		Era      Era      `json:"era"`
		Scrape   Scrape   `json:"scrape"`
		Duration string   `json:"duration"`
		Objects  []object `json:"objects"`
		Alerts   []alert  `json:"alerts"`
	}{Scenario: r.Scenario.Name, Era: r.Scenario.Era, Scrape: r.Scenario.Scrape, Duration: r.Scenario.Duration.String(), Objects: []object{}, Alerts: []alert{}}
	for i := range r.Scenario.Objects {
		o := &r.Scenario.Objects[i]
		out.Objects = append(out.Objects, object{Object: o.ID(), States: r.stateIntervals(o)})
	}
	for _, a := range r.Timeline.Alerts {
		ja := alert{Alert: a.Alert, Labels: a.Labels.Map(), Annotations: a.Annotations.Map(), Objects: []string{}, Pending: []jsonInterval{}, Firing: []jsonInterval{}}
		for i := range r.Scenario.Objects {
			if r.Scenario.Matches(a.Labels, &r.Scenario.Objects[i]) {
				ja.Objects = append(ja.Objects, r.Scenario.Objects[i].ID())
			}
		}
		for _, iv := range a.Intervals {
			ji := jsonInterval{Start: modelDur(iv.Start.Sub(Epoch))}
			if !iv.End.IsZero() {
				ji.End = modelDur(iv.End.Sub(Epoch))
			}
			if iv.State == evaluator.Firing {
				ja.Firing = append(ja.Firing, ji)
			} else {
				ja.Pending = append(ja.Pending, ji)
			}
		}
		out.Alerts = append(out.Alerts, ja)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// stateIntervals lists an object's states as they change at event times.
func (r *Replay) stateIntervals(o *Object) []map[string]string {
	var times []time.Duration
	times = append(times, 0, d(o.Created))
	for _, e := range o.Events {
		times = append(times, d(e.At), d(e.At+e.Took))
	}
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	var out []map[string]string
	var last string
	for _, t := range times {
		if t > d(r.Scenario.Duration) {
			continue
		}
		st := o.StateAt(t)
		desc := describe(st)
		if desc == last {
			continue
		}
		last = desc
		out = append(out, map[string]string{"start": modelDur(t), "state": desc})
	}
	return out
}

func describe(st ObjectState) string {
	switch {
	case !st.Alive:
		return "gone"
	case st.Suspended:
		return "suspended, ready " + strconv.Quote(st.Ready)
	case st.Ready == "":
		return "no Ready condition"
	}
	return "ready " + st.Ready
}

// WritePromtool writes the scenario's series as a promtool unit test file
// with, at every evaluation the replay captured (see RunOptions), the firing
// alerts it found: `promtool test rules` on it cross-checks the replay.
// ruleFiles are written as given.
func (r *Replay) WritePromtool(w io.Writer, ruleFiles []string, ss []Series) error {
	sc := r.Scenario
	tg := testfile.TestGroup{TestGroupName: sc.Name, Interval: sc.ScrapeInterval, InputSeries: InputSeries(ss)}
	if r.Firing != nil {
		tg.AlertRuleTests = r.Firing.AlertTests(slices.Sorted(maps.Keys(r.For)))
	}
	comment := fmt.Sprintf("Generated by gotk-rules gen from %s (era %s, scrape %s).\n", sc.File, sc.Era, sc.Scrape) +
		fmt.Sprintf("Input series are scrapes every %s; alert_rule_test holds the replay's firing alerts at the evaluations captured.", sc.ScrapeInterval)
	return testfile.Write(w, comment, &testfile.TestFile{RuleFiles: ruleFiles, EvaluationInterval: sc.EvaluationInterval, Tests: []testfile.TestGroup{tg}})
}

// WriteYAML writes the scenario as a scenario file.
func (s *Scenario) WriteYAML(w io.Writer) error {
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	if err := enc.Encode(s); err != nil {
		return err
	}
	return enc.Close()
}
