package backtest

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/stretchr/testify/require"

	"github.com/gotk-rules/gotk-rules/evaluator"
)

// The -update flag rewrites golden files; shared with the other tests of
// the binary when they define it.
func init() {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite golden files")
	}
}

func updating() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if updating() {
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, got, 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run with -update to write it")
	require.Equal(t, string(want), string(got), "%s differs: run with -update if the change is meant", path)
}

func hm(day, h, m int) time.Time {
	return epoch.Add(time.Duration(day)*24*time.Hour + time.Duration(h)*time.Hour + time.Duration(m)*time.Minute)
}

// fatigueTimeline is two days of alerts: one flapping, one slow to
// resolve, one only pending, and twelve label sets firing once.
func fatigueTimeline() *evaluator.Timeline {
	tl := &evaluator.Timeline{Start: epoch, End: hm(1, 23, 59), Step: time.Minute}
	alert := func(name string, lbls map[string]string, ivs ...evaluator.Interval) {
		l := labels.NewBuilder(labels.FromMap(lbls)).Set(labels.AlertName, name).Labels()
		tl.Alerts = append(tl.Alerts, &evaluator.AlertTimeline{Alert: name, Group: "g", Labels: l, Intervals: ivs})
	}
	var flappy []evaluator.Interval
	for i := range 7 { // seven firings resolved after 2m on day 0
		at := hm(0, 3, 10*i)
		flappy = append(flappy, evaluator.Interval{State: evaluator.Firing, Start: at, End: at.Add(2 * time.Minute)})
	}
	flappy = append(flappy, evaluator.Interval{State: evaluator.Firing, Start: hm(1, 23, 0)}) // open at the end
	alert("Flappy", map[string]string{"instance": "d"}, flappy...)
	alert("Slow", map[string]string{"instance": "a"},
		evaluator.Interval{State: evaluator.Pending, Start: hm(0, 10, 0), End: hm(0, 10, 15)},
		evaluator.Interval{State: evaluator.Firing, Start: hm(0, 10, 15), End: hm(0, 13, 15)},
		evaluator.Interval{State: evaluator.Pending, Start: hm(1, 10, 0), End: hm(1, 10, 15)},
		evaluator.Interval{State: evaluator.Firing, Start: hm(1, 10, 15), End: hm(1, 11, 15)},
		evaluator.Interval{State: evaluator.Pending, Start: hm(1, 12, 0), End: hm(1, 12, 15)},
		evaluator.Interval{State: evaluator.Firing, Start: hm(1, 12, 15), End: hm(1, 12, 45)})
	alert("Slow", map[string]string{"instance": "b"},
		evaluator.Interval{State: evaluator.Pending, Start: hm(0, 1, 0), End: hm(0, 1, 3)})
	for i := range 12 {
		at := hm(1, 1, i)
		alert("Many", map[string]string{"pod": fmt.Sprintf("p%02d", i)},
			evaluator.Interval{State: evaluator.Firing, Start: at, End: at.Add(time.Duration(i+1) * time.Minute)})
	}
	return tl
}

func fatigueResult() *Result {
	tl := fatigueTimeline()
	from, to := epoch, hm(1, 23, 59)
	return &Result{URL: "http://prometheus:9090", From: from, To: to, Step: time.Minute, Evals: 2880,
		Rules: []string{"Flappy", "Slow", "Many", "Quiet"}, Timeline: tl, PerDay: perDay(tl, to),
		Fatigue: fatigue(tl, from, to, time.Minute, DefaultFlapThreshold)}
}

func TestFatigue(t *testing.T) {
	f := fatigueResult().Fatigue
	require.Equal(t, 2.0, f.Days)
	require.Len(t, f.Noisiest, NoisiestCount)
	top := f.Noisiest[0]
	require.Equal(t, "Flappy", top.Alert)
	require.Equal(t, 8, top.Firings)
	require.Equal(t, 4.0, top.FiringsPerDay)
	require.Equal(t, 7, top.Resolved)
	require.EqualValues(t, 120, *top.MedianResolveSeconds)
	require.Equal(t, 7, top.MaxPerDay)
	require.True(t, top.Flapping)
	require.Equal(t, 1, top.FlappingDays)
	require.EqualValues(t, 7*120+59*60, top.FiringSeconds, "the open firing counts up to the last evaluation")

	slow := f.Noisiest[1]
	require.Equal(t, map[string]string{"instance": "a"}, slow.Labels)
	require.Equal(t, 3, slow.Firings)
	require.EqualValues(t, 3600, *slow.MedianResolveSeconds, "median of 3h, 1h, 30m")
	require.False(t, slow.Flapping)

	var pendingOnly *AlertFatigue
	for i, a := range f.Alerts {
		if a.Labels["instance"] == "b" {
			pendingOnly = &f.Alerts[i]
		}
	}
	require.NotNil(t, pendingOnly)
	require.Zero(t, pendingOnly.Firings)
	require.Nil(t, pendingOnly.MedianResolveSeconds)
	require.Len(t, f.Alerts, 15)

	require.Equal(t, []string{"Flappy", "Many", "Slow"}, []string{f.Rules[0].Alert, f.Rules[1].Alert, f.Rules[2].Alert})
	many := f.Rules[1]
	require.Equal(t, 12, many.LabelSets)
	require.Equal(t, 12, many.Firings)
	require.EqualValues(t, 360, *many.MedianResolveSeconds, "lower middle of 1..12 minutes")

	// A lower threshold makes Many's day flap for none (one firing each) and
	// Slow's second day flap at 1.
	f1 := fatigue(fatigueTimeline(), epoch, hm(1, 23, 59), time.Minute, 1)
	for _, a := range f1.Alerts {
		if a.Alert == "Slow" && a.Labels["instance"] == "a" {
			require.True(t, a.Flapping)
			require.Equal(t, 1, a.FlappingDays)
		}
		if a.Alert == "Many" {
			require.False(t, a.Flapping)
		}
	}
}

func TestFatigueGolden(t *testing.T) {
	res := fatigueResult()
	var text bytes.Buffer
	require.NoError(t, res.WriteText(&text))
	golden(t, "fatigue.txt", text.Bytes())
	js, err := json.MarshalIndent(res.JSON().Fatigue, "", "  ")
	require.NoError(t, err)
	golden(t, "fatigue.json", append(js, '\n'))
	golden(t, "fatigue.html", []byte(res.htmlSections()))

	var page bytes.Buffer
	require.NoError(t, res.WriteHTML(&page, 900))
	require.Contains(t, page.String(), res.htmlSections()+"<footer>", "the sections come before the footer")
	require.Contains(t, page.String(), "<title>backtest against http://prometheus:9090")
}
