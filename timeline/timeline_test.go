package timeline

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"flag"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/stretchr/testify/require"

	"github.com/gotk-rules/gotk-rules/evaluator"
	"github.com/gotk-rules/gotk-rules/rulefile"
	"github.com/gotk-rules/gotk-rules/scenario"
)

var update = flag.Bool("update", false, "rewrite golden files")

// golden compares got with testdata/golden/NAME, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		require.NoError(t, os.WriteFile(path, got, 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run with -update to write it")
	require.Equal(t, string(want), string(got), "%s differs (run with -update if the change is meant)", path)
}

// replay runs a shipped scenario file through its rule files, as
// `gotk-rules replay` does.
func replay(t *testing.T, path string) *scenario.Replay {
	t.Helper()
	sc, err := scenario.LoadFile(path, scenario.Limits{})
	require.NoError(t, err)
	files, err := sc.ResolveRuleFiles()
	require.NoError(t, err)
	if len(files) == 0 {
		files, err = rulefile.Expand([]string{"../rules"})
		require.NoError(t, err)
	}
	eng := evaluator.NewEngine(evaluator.Options{})
	rep, err := scenario.Run(context.Background(), sc, scenario.RunOptions{Engine: eng, RuleFiles: files, Loader: rulefile.NewLoader(eng.Parser(), false)})
	require.NoError(t, err)
	return rep
}

func svgOf(t *testing.T, v *View, o SVGOptions) string {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, WriteSVG(&b, v, o))
	return b.String()
}

func htmlOf(t *testing.T, v *View, o HTMLOptions) string {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, WriteHTML(&b, v, o))
	return b.String()
}

// wellFormed fails unless s parses as XML.
func wellFormed(t *testing.T, s string) {
	t.Helper()
	dec := xml.NewDecoder(strings.NewReader(s))
	for {
		_, err := dec.Token()
		if err == io.EOF {
			return
		}
		require.NoError(t, err, "not well-formed XML:\n%s", s[:min(len(s), 500)])
	}
}

// handTimeline is a backtest-like timeline: a real start, two label sets of
// one alert, one still firing at the end, and text that needs escaping.
func handTimeline() *evaluator.Timeline {
	start := time.Date(2026, 1, 2, 3, 0, 0, 0, time.UTC)
	at := func(m int) time.Time { return start.Add(time.Duration(m) * time.Minute) }
	return &evaluator.Timeline{
		Start: start,
		End:   at(90),
		Step:  time.Minute,
		Alerts: []*evaluator.AlertTimeline{
			{
				Alert:       "Down",
				Labels:      labels.FromStrings("alertname", "Down", "instance", "a:9090", "job", "node"),
				Annotations: labels.FromStrings("summary", "a <down> & out"),
				Intervals: []evaluator.Interval{
					{State: evaluator.Pending, Start: at(10), End: at(12)},
					{State: evaluator.Firing, Start: at(12), End: at(21)},
					{State: evaluator.Pending, Start: at(60)},
				},
			},
			{
				Alert:  "Down",
				Labels: labels.FromStrings("alertname", "Down", "instance", "b:9090", "job", "node"),
				Intervals: []evaluator.Interval{
					{State: evaluator.Firing, Start: at(30)},
				},
			},
			{
				Alert:     "VeryLongAlertNameThatDoesNotFitInTheLabelColumnAtAll",
				Labels:    labels.FromStrings("alertname", "VeryLongAlertNameThatDoesNotFitInTheLabelColumnAtAll", "severity", "page"),
				Intervals: []evaluator.Interval{{State: evaluator.Pending, Start: at(0), End: at(89)}},
			},
		},
	}
}

// The pictures of `replay --svg/--html` and `backtest --svg/--html`, byte
// for byte.
func TestGolden(t *testing.T) {
	failing := "../testdata/series/classic-v20-failing-then-deleted.scenario.yml"
	flaws := "../testdata/series/classic-v20-documented-flaws.scenario.yml"
	for _, c := range []struct {
		name string
		view func(t *testing.T) *View
		svg  SVGOptions // Standalone, as the commands write it
		html *HTMLOptions
	}{
		{"replay-failing-then-deleted", func(t *testing.T) *View { return FromReplay(replay(t, failing)) }, SVGOptions{Width: 1200, Standalone: true}, &HTMLOptions{Width: 1200}},
		{"replay-documented-flaws-600", func(t *testing.T) *View { return FromReplay(replay(t, flaws)) }, SVGOptions{Width: 600, Standalone: true}, nil},
		{"backtest", func(*testing.T) *View { return FromTimeline(handTimeline()) }, SVGOptions{Standalone: true}, &HTMLOptions{}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			v := c.view(t)
			svg := svgOf(t, v, c.svg)
			wellFormed(t, svg)
			golden(t, c.name+".svg", []byte(svg))
			if c.html != nil {
				golden(t, c.name+".html", []byte(htmlOf(t, v, *c.html)))
			}
		})
	}
}

// Every shipped scenario draws as well-formed SVG at any width, standalone
// or for a page.
func TestEveryScenarioWellFormed(t *testing.T) {
	paths, err := filepath.Glob("../testdata/series/*.scenario.yml")
	require.NoError(t, err)
	require.NotEmpty(t, paths)
	for _, p := range paths {
		t.Run(filepath.Base(p), func(t *testing.T) {
			t.Parallel()
			rep := replay(t, p)
			v := FromReplay(rep)
			require.Equal(t, rep.Scenario.Name, v.Title)
			require.Len(t, v.Objects, len(rep.Scenario.Objects))
			require.Len(t, v.Alerts, len(rep.Timeline.Alerts))
			for _, o := range []SVGOptions{{}, {Width: 100}, {Width: 4000, Standalone: true}, {MaxLanes: 1}} {
				svg := svgOf(t, v, o)
				wellFormed(t, svg)
				want := max(o.Width, minWidth)
				if o.Width == 0 {
					want = defaultW
				}
				require.Contains(t, svg, ` width="`+strconv.Itoa(want)+`" `)
			}
		})
	}
}

func TestSVGOptions(t *testing.T) {
	v := FromReplay(replay(t, "../testdata/series/classic-v20-failing-then-deleted.scenario.yml"))
	require.Len(t, v.Series, 10)
	for _, c := range []struct {
		name          string
		o             SVGOptions
		want, notWant []string
	}{
		{"for a page", SVGOptions{},
			[]string{`<svg xmlns="http://www.w3.org/2000/svg" class="tl" width="1200"`, "Input series (10)", "Objects (2)"},
			[]string{"<?xml", "<style>", `class="tl-title"`, "more series not drawn"}},
		{"standalone", SVGOptions{Standalone: true},
			[]string{"<?xml", "<style>", timelineCSS(), `class="tl-title" x="12" y="22">classic rule, Flux 2.0, failing then deleted</text>`},
			nil},
		{"narrow is clamped", SVGOptions{Width: 10}, []string{`width="480"`}, nil},
		{"lanes", SVGOptions{MaxLanes: 3}, []string{"+7 more series not drawn"}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			svg := svgOf(t, v, c.o)
			for _, w := range c.want {
				require.Contains(t, svg, w)
			}
			for _, w := range c.notWant {
				require.NotContains(t, svg, w)
			}
			if c.o.MaxLanes > 0 {
				require.Equal(t, c.o.MaxLanes, strings.Count(svg, `data-k="s" data-i=`)/2, "each drawn series has a row and a value")
			}
		})
	}
}

// A replay in which nothing happened still draws, and says so.
func TestEmpty(t *testing.T) {
	start := time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)
	v := FromTimeline(&evaluator.Timeline{Start: start, End: start.Add(time.Hour)})
	require.Equal(t, start.UnixMilli(), v.StartMS)
	require.Equal(t, time.Minute.Milliseconds(), v.StepMS, "no step: a minute")
	svg := svgOf(t, v, SVGOptions{Standalone: true})
	wellFormed(t, svg)
	require.Contains(t, svg, "no input series")
	require.Contains(t, svg, "no alert was pending or firing")
	require.NotContains(t, svg, "Objects (")
	require.Contains(t, htmlOf(t, v, HTMLOptions{}), `<tr><td colspan="4">no alert was pending or firing</td></tr>`)

	b, err := json.Marshal(v)
	require.NoError(t, err)
	require.Contains(t, string(b), `"series":[],"objects":[],"alerts":[],"marks":[],"groups":[]`, "empty lists, not null, for the script")
}

func TestFromTimeline(t *testing.T) {
	v := FromTimeline(handTimeline())
	require.Equal(t, (90 * time.Minute).Milliseconds(), v.EndMS, "the last evaluation")
	require.Len(t, v.Alerts, 3)
	a := v.Alerts[0]
	require.Equal(t, "instance=a:9090", a.Short, "the labels that tell the two Down alerts apart")
	require.Equal(t, map[string]string{"instance": "a:9090", "job": "node"}, a.Labels)
	require.Equal(t, []SpanView{
		{State: "pending", StartMS: (10 * time.Minute).Milliseconds(), EndMS: (12 * time.Minute).Milliseconds()},
		{State: "firing", StartMS: (12 * time.Minute).Milliseconds(), EndMS: (21 * time.Minute).Milliseconds()},
		{State: "pending", StartMS: (60 * time.Minute).Milliseconds(), EndMS: (91 * time.Minute).Milliseconds()},
	}, a.Spans, "an open interval lasts to the end of the last evaluation")
	require.Equal(t, "severity=page", v.Alerts[2].Short, "a lone label set shows all its labels")
	require.Equal(t, []string{}, a.Objects)
}

// The HTML file loads nothing: the picture's script and stylesheet are
// inside, and the view it carries is the one drawn.
func TestHTMLSelfContained(t *testing.T) {
	v := FromTimeline(handTimeline())
	h := htmlOf(t, v, HTMLOptions{Width: 900})
	require.Contains(t, h, `width="900"`)
	require.Contains(t, h, timelineJS())
	require.Contains(t, h, timelineCSS())
	require.Contains(t, h, "GotkTimeline.attach(")
	require.NotContains(t, h, "<script src")
	require.NotContains(t, h, "<link")
	require.Contains(t, h, "<td>Down</td><td><code>{instance=&#34;a:9090&#34;, job=&#34;node&#34;}</code></td><td class=\"pending\">10m–12m, 1h–1h31m</td><td class=\"firing\">12m–21m</td>")

	m := regexp.MustCompile(`<script type="application/json" id="view">(.*)</script>`).FindStringSubmatch(h)
	require.Len(t, m, 2)
	require.NotContains(t, m[1], "<down>", "escaped inside <script>")
	var back View
	require.NoError(t, json.Unmarshal([]byte(m[1]), &back))
	require.Equal(t, *v, back)
}

// Assets holds the script and stylesheet, and nothing they load comes from
// elsewhere.
func TestAssets(t *testing.T) {
	var names []string
	require.NoError(t, fs.WalkDir(Assets(), ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			names = append(names, p)
		}
		return err
	}))
	require.Equal(t, []string{"timeline.css", "timeline.js"}, names)
	js, err := fs.ReadFile(Assets(), "timeline.js")
	require.NoError(t, err)
	require.Equal(t, timelineJS(), string(js))
	require.Contains(t, string(js), "GotkTimeline")
	for _, name := range names {
		b, err := fs.ReadFile(Assets(), name)
		require.NoError(t, err)
		for _, l := range strings.Split(string(b), "\n") {
			if strings.Contains(l, "http://") || strings.Contains(l, "https://") {
				require.Contains(t, l, "http://www.w3.org/2000/svg", "%s refers to another site", name)
			}
		}
	}
}

func TestSplitLabels(t *testing.T) {
	for _, c := range []struct {
		name        string
		sets        []labels.Labels
		wantVarying []string
		wantCommon  string
	}{
		{"one set", []labels.Labels{labels.FromStrings("__name__", "m", "a", "1")}, nil, `{a="1"}`},
		{"most distinct values first", []labels.Labels{
			labels.FromStrings("__name__", "m", "kind", "K", "name", "x", "ns", "n"),
			labels.FromStrings("__name__", "m", "kind", "K", "name", "y", "ns", "n"),
			labels.FromStrings("__name__", "m", "kind", "H", "name", "z", "ns", "n"),
		}, []string{"name", "kind"}, `{ns="n"}`},
		{"a label missing somewhere varies", []labels.Labels{
			labels.FromStrings("a", "1", "b", "2"),
			labels.FromStrings("a", "1"),
		}, []string{"b"}, `{a="1"}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			varying, common := splitLabels(c.sets)
			require.Equal(t, c.wantVarying, varying)
			require.Equal(t, c.wantCommon, common)
		})
	}
}

func TestFormatting(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{durString(0), "0s"},
		{durString(90 * time.Minute.Milliseconds()), "1h30m"},
		{durString(-1500), "-1s500ms"},
		{formatValue(3), "3"},
		{formatValue(-2e15), "-2e+15"},
		{formatValue(0.123456), "0.1235"},
		{clipText("abcdef", 40), "abcdef"},
		{clipText("abcdefg", 40), "abcde…"},
		{clipText("abc", 10), ""},
		{strconv.FormatInt(tickStep(float64(time.Hour.Milliseconds()), 700), 10), "600000"},
		{strconv.FormatInt(tickStep(float64(time.Minute.Milliseconds()), 700), 10), "10000"},
		{strconv.FormatInt(tickStep(float64(1000*7*24*time.Hour.Milliseconds()), 70), 10), strconv.FormatInt(1000*604800*1000, 10)},
	} {
		require.Equal(t, c.want, c.got)
	}
}
