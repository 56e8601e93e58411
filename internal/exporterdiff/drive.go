package exporterdiff

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
	"github.com/stretchr/testify/require"

	"github.com/gotk-rules/gotk-rules/scenario"
	"github.com/gotk-rules/gotk-rules/series"
	"github.com/gotk-rules/gotk-rules/verify"
)

// GatherText is what one direct scrape of the registries reads: every
// registry gathered, encoded as the text exposition client_golang serves.
func GatherText(gs prometheus.Gatherers) ([]byte, error) {
	mfs, err := gs.Gather()
	if err != nil {
		return nil, fmt.Errorf("gather: %w", err)
	}
	var b bytes.Buffer
	enc := expfmt.NewEncoder(&b, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			return nil, fmt.Errorf("encode %s: %w", mf.GetName(), err)
		}
	}
	return b.Bytes(), nil
}

// Life is run number run of verify's random lives (seed 1, 2h) in an era,
// scraped directly, with or without duration histograms.
func Life(era scenario.Era, run int, histograms bool) *scenario.Scenario {
	sc := verify.Life(1, run, verify.Options{Duration: 2 * time.Hour})
	sc.Era, sc.Scrape = era, scenario.ScrapeDirect
	sc.Options.DurationHistograms = histograms
	return sc
}

// LifeCounts counts what random lives exercise, so that a differential
// test can require that its lives reach what it is about.
type LifeCounts struct {
	Restarts, Gaps, Deletions, Suspensions int
}

// Add counts a life's controller restarts, scrape gaps, deletions and
// suspensions.
func (c *LifeCounts) Add(sc *scenario.Scenario) {
	for _, ce := range sc.Cluster {
		c.Restarts += btoi(ce.ControllerRestart)
		c.Gaps += btoi(ce.ScrapeGap > 0)
	}
	for _, o := range sc.Objects {
		for _, e := range o.Events {
			c.Deletions += btoi(e.Delete)
			c.Suspensions += btoi(e.Suspend)
		}
	}
}

// RequireAll fails the test unless every count is positive.
func (c *LifeCounts) RequireAll(t testing.TB) {
	t.Helper()
	require.Positive(t, c.Restarts, "no controller restart")
	require.Positive(t, c.Gaps, "no scrape gap")
	require.Positive(t, c.Deletions, "no deletion")
	require.Positive(t, c.Suspensions, "no suspension")
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Describe prints a scenario's lives in one line an object, for a failure
// message.
func Describe(sc *scenario.Scenario) string {
	var b strings.Builder
	for _, o := range sc.Objects {
		fmt.Fprintf(&b, "%s:", o.ID())
		for _, e := range o.Events {
			fmt.Fprintf(&b, " %s@%s", e, e.At)
		}
		b.WriteString("\n")
	}
	for _, ce := range sc.Cluster {
		fmt.Fprintf(&b, "cluster@%s restart=%v gap=%s\n", ce.At, ce.ControllerRestart, ce.ScrapeGap)
	}
	return b.String()
}

// MapSeries is a generator that rewrites what the real one generates: a
// deliberately broken generator, for tests that the differential has teeth.
func MapSeries(f func([]series.Series) []series.Series) Generator {
	return func(sc *scenario.Scenario) []series.Series { return f(sc.Generate()) }
}

// RaceLives is how many random lives a differential test compares in a
// binary built with -race. The race detector makes each life about four
// times dearer and finds a race on a few lives as well as on hundreds (every
// life drives the same code, in the same goroutines), so CI runs each
// exporter module twice (Makefile, test-exporter-NAME): with -race on
// RaceLives lives, for the races, and without on the full count, for the
// differential's power.
const RaceLives = 16

// Lives is how many of n random lives a differential test compares: n, or
// RaceLives when the race detector is on.
func Lives(n int) int {
	if Race {
		return min(n, RaceLives)
	}
	return n
}
