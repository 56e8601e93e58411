package series

import (
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
