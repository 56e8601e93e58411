package series_test

import (
	"math"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/stretchr/testify/require"

	"github.com/gotk-rules/gotk-rules/series"
)

// validNotation are values strings promtool accepts, with their expansion
// length.
var validNotation = []struct {
	values string
	n      int
}{
	{"", 0},
	{"1", 1},
	{"1 2 3", 3},
	{"1x3", 4},
	{"1x0", 1},
	{"0x10", 11},
	{"1x010", 11},
	{"1+2x3", 4},
	{"1-2x3", 4},
	{"-1+1x2", 3},
	{"+1x2", 3},
	{"1e3x2", 3},
	{"_", 1},
	{"_x3", 3},
	{"_x0", 0},
	{"1 _ 3", 3},
	{"1 _x3 3", 5},
	{"stale", 1},
	{"1 stale 2", 3},
	{"1 2 3 _x2 stale", 6},
	{"Inf -Inf NaN", 3},
	{"1+1x2 _x3 3", 7},
	{"1x3 1x5", 10},
	{"  1\t2\n3  ", 3},
	{"{{schema:0 sum:5 count:4 buckets:[1 2 1]}}", 1},
	{"{{schema:0 sum:5 count:4 buckets:[1 2 1]}}x2", 3},
	{"{{schema:0 sum:5 count:4 buckets:[1 2 1]}} _ stale 1", 4},
	{"{{schema:0 sum:5 count:4 buckets:[1 2 1]}}+{{schema:0 sum:1 count:1 buckets:[1]}}x2", 3},
	{"{{schema:0 sum:5 count:4 buckets:[1 2 1]}}-{{schema:0 sum:1 count:1 buckets:[1]}}x2", 3},
	{"{{count:1}}x2 {{count:3}}", 4},
	{"{{schema:-53 sum:1 count:1 custom_values:[5 10] buckets:[1]}}x1", 2},
	{"{{}}", 1},
}

func TestCountValid(t *testing.T) {
	for _, tc := range validNotation {
		_, vals, err := series.ParseDesc("m " + tc.values)
		require.NoError(t, err, "%q", tc.values)
		require.Len(t, vals, tc.n, "%q: expansion", tc.values)
		require.Equal(t, uint64(tc.n), series.Count(tc.values), "%q: Count", tc.values)
	}
}

// Count must not be below what the parser expands before it finds an error,
// or the budget it guards can be bypassed.
func TestCountInvalid(t *testing.T) {
	f := func(values string, wantCount uint64) {
		t.Helper()
		c := series.Count(values)
		require.Equal(t, wantCount, c, "%q", values)
		_, vals, err := series.ParseDesc("m " + values)
		require.Error(t, err, "%q", values)
		require.GreaterOrEqual(t, c, uint64(len(vals)), "%q", values)
	}
	f("1x3 x5", 10)
	f("1 x5", 7)
	f("x5", 6)
	f("1x3 x5 x2", 13)
	f("1 2 x3", 6)
	f("1x2x", 3)
	f("1x3x", 4)
	f("1x0x3", 4)
	f("1x3x5", 9)
	f("1x3,_x4", 8)
	f("1x3#_x4", 8)
	f("1x3(x4", 8)
	f("1x3 x5 x0", 11)
	f("1x2 3x", 4)
	f("{{count:1}}x2{{count:2}}x3", 6)
	f("{{count:1}}x3_x5", 9)
	f("stalex3", 4)
}

func TestCountHuge(t *testing.T) {
	f := func(values string, want uint64) {
		t.Helper()
		require.Equal(t, want, series.Count(values), "%q", values)
	}
	f("1x1000000000", 1_000_000_001)
	f("_x1000000000", 1_000_000_000)
	// Invalid notation the parser would still expand before refusing it.
	f("1x1000000000x", 1_000_000_001)
	f("1x1000000000,", 1_000_000_001)
	f("1x1000000000 x5 x0", 1_000_000_008)
	f("{{count:1}}x1000000000}}", 1_000_000_001)
	// Past uint32 (or uint64) the count stays far past any budget.
	f("1x4294967296", math.MaxUint32+1)
	f("1x99999999999999999999999", math.MaxUint32+1)
	f("1x99999999999999999999999 1x99999999999999999999999", 2*(math.MaxUint32+1))
}

func TestParse(t *testing.T) {
	start := time.Unix(60, 0).UTC()
	s, err := series.Parse(`up{job="api"}`, "1+1x2 _ stale {{schema:0 sum:5 count:4 buckets:[1 2 1]}}", start, 30*time.Second)
	require.NoError(t, err)
	require.Equal(t, labels.FromStrings("__name__", "up", "job", "api"), s.Labels)
	require.Len(t, s.Samples, 5)
	wantT := []int64{60_000, 90_000, 120_000, 180_000, 210_000} // the blank at 150s leaves a gap
	for i, smp := range s.Samples {
		require.Equal(t, wantT[i], smp.T, "sample %d", i)
	}
	require.Equal(t, []float64{1, 2, 3}, []float64{s.Samples[0].F, s.Samples[1].F, s.Samples[2].F})
	require.True(t, value.IsStaleNaN(s.Samples[3].F))
	require.NotNil(t, s.Samples[4].H)
	require.Equal(t, 4.0, s.Samples[4].H.Count)
	require.Equal(t, 5.0, s.Samples[4].H.Sum)

	f := func(metric, values, wantErr string) {
		t.Helper()
		_, err := series.Parse(metric, values, start, time.Minute)
		require.ErrorContains(t, err, wantErr)
	}
	f("up", "1 2 x3", `unexpected "x"`)
	f("foo{", "1 2", "unexpected character inside braces")
	f("up", "1 two", "unexpected identifier")
	f("up", "1,2", "unexpected character in series sequence")
}

func TestExpand(t *testing.T) {
	lset := labels.FromStrings("__name__", "m")
	vals := []parser.SequenceValue{{Value: 1}, {Omitted: true}, {Value: 3}, {Value: 4}, {Value: 5}}
	start := time.Unix(0, 0).UTC()
	f := func(until time.Time, step time.Duration, wantT ...int64) {
		t.Helper()
		s := series.Expand(lset, vals, start, step, until)
		require.Equal(t, lset, s.Labels)
		var got []int64
		for _, smp := range s.Samples {
			got = append(got, smp.T)
		}
		require.Equal(t, wantT, got)
	}
	f(time.Time{}, time.Minute, 0, 120_000, 180_000, 240_000)
	f(start.Add(3*time.Minute), time.Minute, 0, 120_000, 180_000)
	f(start.Add(3*time.Minute-time.Second), time.Minute, 0, 120_000)
	f(start, time.Minute, 0)
	f(start.Add(-time.Minute), time.Minute)
	f(start.Add(time.Hour), time.Minute, 0, 120_000, 180_000, 240_000)
}
