package scenario

import (
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"

	"github.com/gotk-rules/gotk-rules/evaluator/memstore"
	"github.com/gotk-rules/gotk-rules/series"
)

// Series is a series in promtool's notation: a metric and its values, one
// value per step from time 0 (`_` where there is no sample, `stale` for a
// staleness marker), runs written as `VxN`.
type Series struct {
	Metric string
	Values string
}

// Notation writes series sampled every step up to end in promtool notation.
func Notation(ss []series.Series, step, end time.Duration) []Series {
	out := make([]Series, 0, len(ss))
	for _, s := range ss {
		out = append(out, notate(s.Labels, func(yield func(int64, float64)) {
			for _, smp := range s.Samples {
				yield(smp.T, smp.F)
			}
		}, step, end))
	}
	return out
}

// CompactNotation is Notation for series held compactly.
func CompactNotation(ss []*memstore.Series, step, end time.Duration) []Series {
	out := make([]Series, 0, len(ss))
	for _, s := range ss {
		out = append(out, notate(s.Labels(), func(yield func(int64, float64)) {
			c := s.Cursor()
			for t, v, ok := c.Peek(); ok; t, v, ok = c.Peek() {
				yield(t, v)
				c.Advance()
			}
		}, step, end))
	}
	return out
}

// notate writes one series, whose samples samples yields in time order.
func notate(lset labels.Labels, samples func(yield func(int64, float64)), step, end time.Duration) Series {
	tokens := make([]string, int(end/step)+1)
	for i := range tokens {
		tokens[i] = "_"
	}
	samples(func(t int64, v float64) {
		i := int(time.Duration(t) * time.Millisecond / step)
		if i < 0 || i >= len(tokens) {
			return
		}
		if value.IsStaleNaN(v) {
			tokens[i] = "stale"
		} else {
			tokens[i] = strconv.FormatFloat(v, 'g', -1, 64)
		}
	})
	// Trailing absences say nothing.
	for len(tokens) > 0 && tokens[len(tokens)-1] == "_" {
		tokens = tokens[:len(tokens)-1]
	}
	return Series{Metric: metricString(lset), Values: runs(tokens)}
}

// runs compresses equal neighbours: `1 1 1` is `1x2`, `_ _` is `_x2`.
func runs(tokens []string) string {
	var parts []string
	for i := 0; i < len(tokens); {
		j := i
		for j+1 < len(tokens) && tokens[j+1] == tokens[i] {
			j++
		}
		n := j - i + 1
		switch {
		case n == 1:
			parts = append(parts, tokens[i])
		case tokens[i] == "_":
			parts = append(parts, "_x"+strconv.Itoa(n))
		case tokens[i] == "stale":
			parts = append(parts, strings.TrimSpace(strings.Repeat("stale ", n)))
		default:
			parts = append(parts, tokens[i]+"x"+strconv.Itoa(n-1))
		}
		i = j + 1
	}
	return strings.Join(parts, " ")
}

// metricString writes name{labels} as promtool's series field takes it.
func metricString(lset labels.Labels) string { return MetricString(lset, ",") }

// MetricString writes name{label="value"<sep>...}, with quoted values.
func MetricString(lset labels.Labels, sep string) string {
	var b strings.Builder
	b.WriteString(lset.Get(labels.MetricName))
	b.WriteByte('{')
	first := true
	lset.Range(func(l labels.Label) {
		if l.Name == labels.MetricName {
			return
		}
		if !first {
			b.WriteString(sep)
		}
		first = false
		b.WriteString(l.Name + "=" + strconv.Quote(l.Value))
	})
	b.WriteByte('}')
	return b.String()
}
