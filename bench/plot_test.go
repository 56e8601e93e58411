package bench

import (
	"encoding/xml"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestPlotSVG(t *testing.T) {
	var b strings.Builder
	require.NoError(t, PlotSVG(&b, "Fleet <replay>", "series × evaluations", "seconds", []Curve{
		{Name: "gotk-rules", Colour: "#1f77b4", Points: []Point{{1.4e6, 0.4}, {7.2e6, 2.2}, {72e6, 50}}},
		{Name: "promtool", Colour: "#d62728", Points: []Point{{1.4e6, 17}, {7.2e6, 120}}},
	}))
	svg := b.String()
	// Well-formed XML, title escaped, one polyline and one circle per point.
	require.NoError(t, xml.Unmarshal([]byte(svg), new(struct{})))
	require.Contains(t, svg, "Fleet &lt;replay&gt;")
	require.Equal(t, 2, strings.Count(svg, "<polyline"))
	require.Equal(t, 5, strings.Count(svg, "<circle"))
	require.Contains(t, svg, "gotk-rules: 72M, 50.00 s")
	// Axes reach a round number above the largest point.
	require.Contains(t, svg, ">200<")

	require.Error(t, PlotSVG(&b, "empty", "x", "y", []Curve{{Name: "none"}}))
}

func TestNiceCeilAndShort(t *testing.T) {
	f := func(v, want float64) {
		t.Helper()
		require.Equal(t, want, niceCeil(v))
	}
	f(0.7, 1)
	f(1.2, 2)
	f(3, 5)
	f(72e6, 1e8)
	require.Equal(t, "1.5M", short(1.5e6))
	require.Equal(t, "20k", short(20e3))
	require.Equal(t, "3", short(3))
}
