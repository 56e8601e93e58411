// Package exporterdiff compares the series the scenario generator writes with
// what a real exporter exposes, scrape by scrape. The exporters' own code
// (fluxcd/pkg/runtime's metrics recorder, kube-state-metrics) lives in
// modules of its own under tools/, whose tests drive it through a scenario's
// life and hand each scrape's text exposition to Check.
//
// A scrape is compared as Prometheus would store it: the exposition is read
// with Prometheus' own text parser (which, like a scrape, normalizes the le
// label of classic histograms), series that vanish between two scrapes must
// get a staleness marker at the second, and nothing is stored during a scrape
// gap.
package exporterdiff

import (
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/textparse"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/gotk-rules/gotk-rules/scenario"
	"github.com/gotk-rules/gotk-rules/series"
)

// Exposition is one scrape's series: the label set's String() -> value.
type Exposition map[string]float64

// textContentType is what client_golang's handler answers to a Prometheus
// that asks for the text format.
const textContentType = "text/plain; version=0.0.4; charset=utf-8"

// ParseText reads a Prometheus text exposition with Prometheus' own parser
// (github.com/prometheus/prometheus/model/textparse), as a scrape would.
// Samples with an explicit timestamp are refused: the exporters under test
// write none.
func ParseText(b []byte) (Exposition, error) {
	p, err := textparse.New(b, textContentType, labels.NewSymbolTable(), textparse.ParserOptions{})
	if err != nil {
		return nil, fmt.Errorf("text parser: %w", err)
	}
	out := Exposition{}
	for {
		entry, err := p.Next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("parse exposition: %w", err)
		}
		switch entry {
		case textparse.EntrySeries:
			_, ts, v := p.Series()
			if ts != nil {
				return nil, fmt.Errorf("parse exposition: sample with a timestamp (%d)", *ts)
			}
			var lset labels.Labels
			p.Labels(&lset)
			key := lset.String()
			if _, dup := out[key]; dup {
				return nil, fmt.Errorf("parse exposition: series %s exposed twice", key)
			}
			out[key] = v
		case textparse.EntryHistogram:
			return nil, errors.New("parse exposition: native histograms are not expected in a text exposition")
		}
	}
}

// inMetrics says whether a series name is one of metrics (all when none).
// A histogram's name covers its _bucket, _sum and _count series.
func inMetrics(name string, metrics []string) bool {
	if len(metrics) == 0 {
		return true
	}
	for _, m := range metrics {
		if name == m || name == m+"_bucket" || name == m+"_sum" || name == m+"_count" {
			return true
		}
	}
	return false
}

// Restrict returns the part of e whose metric names are among metrics (all
// when none; a histogram's name covers its _bucket, _sum and _count).
func (e Exposition) Restrict(metrics ...string) Exposition {
	out := Exposition{}
	for k, v := range e {
		if len(metrics) == 0 || inMetrics(metricName(k), metrics) {
			out[k] = v
		}
	}
	return out
}

// keyParser reads Exposition keys back into label sets.
var keyParser = parser.NewParser(parser.Options{})

// metricName returns the metric name of an Exposition key, "" when it has
// none or is no label set.
func metricName(key string) string {
	lset, err := keyParser.ParseMetric(key)
	if err != nil {
		return ""
	}
	return lset.Get(labels.MetricName)
}

// sampleAt returns the sample of s at exactly t, if any.
func sampleAt(s series.Series, t int64) (float64, bool) {
	i, ok := slices.BinarySearchFunc(s.Samples, t, func(smp series.Sample, t int64) int {
		switch {
		case smp.T < t:
			return -1
		case smp.T > t:
			return 1
		}
		return 0
	})
	if !ok {
		return 0, false
	}
	return s.Samples[i].F, true
}

// FromGenerated returns what generated series hold at scrape time t (ms since
// the scenario epoch): every series with a non-stale sample at exactly t,
// restricted to the metric names given (all when none; a histogram's name
// covers its _bucket, _sum and _count series).
func FromGenerated(ss []series.Series, t int64, metrics ...string) Exposition {
	out := Exposition{}
	for _, s := range ss {
		if !inMetrics(s.Labels.Get(labels.MetricName), metrics) {
			continue
		}
		if v, ok := sampleAt(s, t); ok && !value.IsStaleNaN(v) {
			out[s.Labels.String()] = v
		}
	}
	return out
}

// StaleAt returns the generated series (restricted to metrics, as
// FromGenerated) that have a staleness marker at exactly t.
func StaleAt(ss []series.Series, t int64, metrics ...string) map[string]bool {
	out := map[string]bool{}
	for _, s := range ss {
		if !inMetrics(s.Labels.Get(labels.MetricName), metrics) {
			continue
		}
		if v, ok := sampleAt(s, t); ok && value.IsStaleNaN(v) {
			out[s.Labels.String()] = true
		}
	}
	return out
}

// sameValue compares two sample values exactly, a NaN equal to a NaN.
func sameValue(a, b float64) bool {
	return a == b || (math.IsNaN(a) && math.IsNaN(b))
}

// Diff lists the differences (missing, extra, value), sorted; empty when
// equal. "missing" series are in want only, "extra" ones in got only.
func Diff(want, got Exposition) []string { return diff(want, got, 0) }

// diff is Diff with _sum values allowed to differ by sumTolerance.
func diff(want, got Exposition, sumTolerance float64) []string {
	var out []string
	for k, w := range want {
		g, ok := got[k]
		switch {
		case !ok:
			out = append(out, fmt.Sprintf("missing %s %v", k, w))
		case sameValue(w, g):
		case sumTolerance > 0 && strings.HasSuffix(metricName(k), "_sum") && math.Abs(w-g) <= sumTolerance:
		default:
			out = append(out, fmt.Sprintf("value %s: want %v, got %v", k, w, g))
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok {
			out = append(out, fmt.Sprintf("extra %s %v", k, g))
		}
	}
	slices.Sort(out)
	return out
}

// Exporter is a real exporter driven through a scenario's life. Check calls
// Scrape at every scrape time in increasing order, never during a scrape gap;
// Scrape first applies everything that happens up to and including t (in
// the scenario's order: what happens at a scrape time comes before it), then
// returns the text exposition a scrape would read.
type Exporter interface {
	Scrape(t time.Duration) ([]byte, error)
}

// ExporterFunc adapts a function to Exporter.
type ExporterFunc func(t time.Duration) ([]byte, error)

// Scrape calls f.
func (f ExporterFunc) Scrape(t time.Duration) ([]byte, error) { return f(t) }

// Generator turns a scenario into series: scenario.(*Scenario).Generate, or a
// deliberately broken one to show that Check catches it.
type Generator func(*scenario.Scenario) []series.Series

// Generate is the generator under test.
func Generate(sc *scenario.Scenario) []series.Series { return sc.Generate() }

// ScrapeTimes returns the times Prometheus scrapes a scenario's targets:
// every scrape interval from 0 to the duration, except during scrape gaps.
func ScrapeTimes(sc *scenario.Scenario) []time.Duration {
	step := time.Duration(sc.ScrapeInterval)
	if step <= 0 {
		step = scenario.DefaultScrapeInterval
	}
	var out []time.Duration
	for t := time.Duration(0); t <= time.Duration(sc.Duration); t += step {
		if !inGap(sc, t) {
			out = append(out, t)
		}
	}
	return out
}

func inGap(sc *scenario.Scenario, t time.Duration) bool {
	for _, c := range sc.Cluster {
		if c.ScrapeGap > 0 && t >= time.Duration(c.At) && t < time.Duration(c.At+c.ScrapeGap) {
			return true
		}
	}
	return false
}

// maxReported caps how many differences Check lists.
const maxReported = 30

// Options tune a Check.
type Options struct {
	// Metrics restricts the comparison to these metric names (all when
	// none; a histogram's name covers its _bucket, _sum and _count).
	Metrics []string
	// SumTolerance is how far a _sum series' value may be from the
	// generator's: exporters that time reconciles with the wall clock
	// (time.Since) add microseconds to each observation.
	SumTolerance float64
}

// Check is CheckWith restricted to metrics (all when none).
func Check(sc *scenario.Scenario, generate Generator, exp Exporter, metrics ...string) ([]string, error) {
	return CheckWith(sc, generate, exp, Options{Metrics: metrics})
}

// CheckWith generates the scenario's series with generate and drives exp
// through the same life, and returns the differences, scrape by scrape. It
// compares, at every scrape time:
//   - the series and values exposed with those the generator stored
//     ("missing": exposed, not generated; "extra": generated, not exposed);
//   - staleness: a series exposed at the previous scrape and not at this one
//     has a staleness marker here (as Prometheus' scrape loop writes), and no
//     other series has one.
//
// It also requires that the generator stores no sample between scrapes or
// during a scrape gap. Only direct scrapes are compared: the exposition's
// labels are the stored labels. An error is a failure of the exporter or of
// its exposition, not a difference.
func CheckWith(sc *scenario.Scenario, generate Generator, exp Exporter, opts Options) ([]string, error) {
	if sc.Scrape != "" && sc.Scrape != scenario.ScrapeDirect {
		return nil, fmt.Errorf("check %q: only direct scrapes are compared, not %s", sc.Name, sc.Scrape)
	}
	metrics := opts.Metrics
	ss := restrictSeries(generate(sc), metrics)
	keys := make([]string, len(ss))
	for i, s := range ss {
		keys[i] = s.Labels.String()
	}
	times := ScrapeTimes(sc)
	scraped := make(map[int64]bool, len(times))
	var out []string
	more := 0
	report := func(t time.Duration, lines []string) {
		for _, l := range lines {
			if len(out) < maxReported {
				out = append(out, fmt.Sprintf("at %s: %s", modelDur(t), l))
			} else {
				more++
			}
		}
	}
	prev := Exposition{}
	for _, t := range times {
		ms := t.Milliseconds()
		scraped[ms] = true
		text, err := exp.Scrape(t)
		if err != nil {
			return nil, fmt.Errorf("check %q: exporter at %s: %w", sc.Name, modelDur(t), err)
		}
		got, err := ParseText(text)
		if err != nil {
			return nil, fmt.Errorf("check %q: exporter at %s: %w", sc.Name, modelDur(t), err)
		}
		got = got.Restrict(metrics...)
		// want: the exporter's truth; got: what the generator stored.
		generated, stale := at(ss, keys, ms)
		report(t, diff(got, generated, opts.SumTolerance))
		wantStale := map[string]bool{}
		for k := range prev {
			if _, ok := got[k]; !ok {
				wantStale[k] = true
			}
		}
		report(t, staleDiff(wantStale, stale))
		prev = got
	}
	for _, s := range ss {
		for _, smp := range s.Samples {
			if !scraped[smp.T] {
				report(time.Duration(smp.T)*time.Millisecond, []string{fmt.Sprintf("sample of %s at no scrape", s.Labels)})
			}
		}
	}
	if more > 0 {
		out = append(out, fmt.Sprintf("... and %d more", more))
	}
	return out, nil
}

// restrictSeries keeps the series of metrics (all when none).
func restrictSeries(ss []series.Series, metrics []string) []series.Series {
	var out []series.Series
	for _, s := range ss {
		if inMetrics(s.Labels.Get(labels.MetricName), metrics) {
			out = append(out, s)
		}
	}
	return out
}

// at is FromGenerated and StaleAt at once, for series whose keys are known.
func at(ss []series.Series, keys []string, t int64) (Exposition, map[string]bool) {
	values, stale := Exposition{}, map[string]bool{}
	for i, s := range ss {
		v, ok := sampleAt(s, t)
		switch {
		case !ok:
		case value.IsStaleNaN(v):
			stale[keys[i]] = true
		default:
			values[keys[i]] = v
		}
	}
	return values, stale
}

func staleDiff(want, got map[string]bool) []string {
	var out []string
	for k := range want {
		if !got[k] {
			out = append(out, "no staleness marker for vanished "+k)
		}
	}
	for k := range got {
		if !want[k] {
			out = append(out, "staleness marker for "+k+", which did not vanish")
		}
	}
	slices.Sort(out)
	return out
}

// modelDur prints a duration as Prometheus does (1h30m).
func modelDur(t time.Duration) string { return model.Duration(t).String() }
