package series

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gotk-rules/gotk-rules/internal/racemode"
)

// TestParseMetricMatchesPrometheus reads metrics alone with ParseMetric and
// with Prometheus' parser.ParseMetric: what ParseMetric reads, the parser
// reads to the same labels.
func TestParseMetricMatchesPrometheus(t *testing.T) {
	cases := []struct {
		metric string
		fast   bool
	}{
		{`up`, true},
		{` up{job="a"} `, true},
		{`{__name__="x", a="b"}`, true},
		{`m{a=""}`, true},
		{`m{__name__="y"}`, true},
		{`{a="1"}`, true},
		{`m{a="b"} 1`, false},
		{`m{a="b",a="c"}`, false},
		{`sum`, false},
		{``, false},
		{`m{a=~"b"}`, false},
	}
	for _, c := range cases {
		t.Run(c.metric, func(t *testing.T) {
			_, ok := ParseMetric(c.metric)
			require.Equal(t, c.fast, ok)
			checkMetricAgainstPrometheus(t, c.metric)
		})
	}
	r := rand.New(rand.NewPCG(5, 6))
	fast := 0
	n := racemode.Cases(3000, 300)
	for range n {
		line := randomDesc(r)
		// The metric alone: up to the closing brace, or the first space.
		metric := line
		if i := strings.LastIndexByte(line, '}'); i >= 0 {
			metric = line[:i+1]
		} else if i := strings.IndexByte(strings.TrimSpace(line), ' '); i >= 0 {
			metric = strings.TrimSpace(line)[:i]
		}
		for _, m := range []string{metric, line} {
			if checkMetricAgainstPrometheus(t, m) {
				fast++
			}
		}
	}
	require.Greater(t, fast, n/4, "the fast reader is exercised")
}

func checkMetricAgainstPrometheus(t *testing.T, metric string) bool {
	t.Helper()
	got, ok := ParseMetric(metric)
	want, err := seriesParser.ParseMetric(metric)
	if !ok {
		return false
	}
	require.NoError(t, err, "%q read by ParseMetric, refused by Prometheus", metric)
	require.Equal(t, want, got, "%q", metric)
	return true
}

// TestParseRunsOfMatchesJoinedLine: an entry's fields read apart
// (ParseRunsOf) give what ParseRuns gives of the line they make.
func TestParseRunsOfMatchesJoinedLine(t *testing.T) {
	cases := [][2]string{
		{`up`, `1 2 3`},
		{`up 1`, `2x3`},
		{` m{a="b"} `, ` 0+1x10 _x3 stale `},
		{`m{a="b"}`, ``},
		{``, `up 1`},
		{`m`, `1 {{count:1}}`},
		{`m`, "1\t2"},
		{"m", "1\n2"},
		{`m{a="x y"} 3`, `4`},
	}
	r := rand.New(rand.NewPCG(7, 8))
	for range racemode.Cases(3000, 300) {
		line := randomDesc(r)
		// Split where a space is, or anywhere.
		k := r.IntN(len(line) + 1)
		if i := strings.IndexByte(line[k:], ' '); i >= 0 && r.IntN(2) == 0 {
			k += i
		}
		cases = append(cases, [2]string{line[:k], line[k:]})
	}
	read := 0
	// A buffer reused from an earlier entry: its content must not show.
	buf := []Run{{N: 7, V: 1}, {N: 9, Omitted: true}}
	for _, c := range cases {
		lset, runs, ok := ParseRunsOf(c[0], c[1], buf)
		if !ok {
			continue
		}
		read++
		wl, wr, wok := ParseRuns(strings.TrimSpace(c[0] + " " + c[1]))
		require.True(t, wok, "%q read apart, not joined", c)
		require.Equal(t, wl, lset, "%q", c)
		require.Equal(t, runBits(wr), runBits(runs), "%q", c)
		buf = runs
	}
	require.Greater(t, read, len(cases)/5)
}

// runBits shows runs with their values' bits, so that NaNs compare.
func runBits(runs []Run) []string {
	out := make([]string, len(runs))
	for i, r := range runs {
		out[i] = fmt.Sprintf("%d %x %x %v %v", r.N, math.Float64bits(r.V), math.Float64bits(r.Inc), r.Omitted, r.Increment)
	}
	return out
}
