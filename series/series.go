// Package series reads the expanding series notation of promtool unit tests
// (`1+2x3 _ stale 5x2 {{schema:0 sum:1 count:1}}x2`) into samples, refusing
// descriptions that would expand past a budget before expanding them.
package series

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/gotk-rules/gotk-rules/guard"
)

// Sample is one point of a series. H is set for native histogram samples.
type Sample struct {
	T int64 // milliseconds since the Unix epoch
	F float64
	H *histogram.FloatHistogram
}

// Series is a labelled list of samples in time order.
type Series struct {
	Labels  labels.Labels
	Samples []Sample
}

var (
	histogramBody = regexp.MustCompile(`\{\{[^}]*\}\}`)
	repetition    = regexp.MustCompile(`x(\d+)`)
)

// Count returns how many values (omitted ones included) a values string
// expands to, without expanding it. The count is exact for well-formed
// notation and an upper bound otherwise, so it can guard memory: the parser
// expands every `xN` it reads before it finds an error after it (as in
// `1x1000000000x`), so every `xN` of a token is counted.
func Count(values string) uint64 {
	if n, ok := countPlain(values); ok {
		return n
	}
	flat := histogramBody.ReplaceAllString(values, "H")
	var total uint64
	add := func(n uint64) {
		if total > math.MaxUint64-n {
			total = math.MaxUint64
			return
		}
		total += n
	}
	for _, tok := range strings.Fields(flat) {
		reps := repetition.FindAllStringSubmatchIndex(tok, -1)
		if len(reps) == 0 || tok[:reps[0][0]] != "_" {
			add(1) // the value itself; `_xN` is N omitted values
		}
		for _, m := range reps {
			n, err := strconv.ParseUint(tok[m[2]:m[3]], 10, 64)
			if err != nil || n > math.MaxUint32 {
				n = math.MaxUint32 // far past any budget
			}
			add(n)
		}
	}
	return total
}

// countPlain is Count for values of ASCII text without a histogram, read
// without regular expressions: each token counts one value unless it starts
// with `_x`, plus every `xN` in it (leftmost first, as the regular expression
// repetition finds them). ok is false for other text, which Count reads the
// slow way.
func countPlain(values string) (uint64, bool) {
	var total uint64
	add := func(n uint64) {
		if total > math.MaxUint64-n {
			total = math.MaxUint64
			return
		}
		total += n
	}
	i := 0
	for i < len(values) {
		c := values[i]
		if c >= 0x80 || c == '{' {
			return 0, false // strings.Fields' Unicode spaces, or a histogram
		}
		if asciiSpace(c) {
			i++
			continue
		}
		start := i
		for i < len(values) && !asciiSpace(values[i]) {
			if values[i] >= 0x80 || values[i] == '{' {
				return 0, false
			}
			i++
		}
		tok := values[start:i]
		first := true
		for k := 0; k < len(tok); k++ {
			if tok[k] != 'x' || k+1 == len(tok) || !isDigit(tok[k+1]) {
				continue
			}
			if first && tok[:k] != "_" {
				add(1)
			}
			first = false
			var n uint64
			k++
			for ; k < len(tok) && isDigit(tok[k]); k++ {
				if n <= math.MaxUint32 {
					n = n*10 + uint64(tok[k]-'0')
				}
			}
			k--                         // the loop's k++ moves past the digits
			add(min(n, math.MaxUint32)) // far past any budget
		}
		if first {
			add(1)
		}
	}
	return total, true
}

// asciiSpace reports whether c is a space as strings.Fields reads ASCII.
func asciiSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

// Parse reads one series: its metric (`name{label="value"}`) and its values.
// Sample i is at start + i*step; omitted values (`_`) leave a gap.
func Parse(metric, values string, start time.Time, step time.Duration) (Series, error) {
	lset, vals, err := ParseDesc(metric + " " + values)
	if err != nil {
		return Series{}, err
	}
	return Expand(lset, vals, start, step, time.Time{}), nil
}

// Expand places parsed values on the time axis. Values after until are
// dropped, unless until is zero.
func Expand(lset labels.Labels, vals []parser.SequenceValue, start time.Time, step time.Duration, until time.Time) Series {
	n := len(vals)
	if !until.IsZero() && step > 0 {
		n = min(n, max(int(until.Sub(start)/step)+1, 0))
	}
	s := Series{Labels: lset, Samples: make([]Sample, 0, n)}
	ts := start
	for _, v := range vals[:n] {
		if !v.Omitted {
			s.Samples = append(s.Samples, Sample{T: ts.UnixMilli(), F: v.Value, H: v.Histogram})
		}
		ts = ts.Add(step)
	}
	return s
}

// seriesParser accepts every notation the pinned Prometheus knows, as
// promtool's loader does.
var seriesParser = parser.NewParser(parser.Options{
	EnableExperimentalFunctions:  true,
	ExperimentalDurationExpr:     true,
	EnableExtendedRangeSelectors: true,
	EnableBinopFillModifiers:     true,
})

// ParseDesc parses one `METRIC VALUES` line as promtool's loader does. Lines
// in the common, simple subset of the notation are read by a hand-written
// reader with the same results; everything else goes to the Prometheus parser.
func ParseDesc(line string) (labels.Labels, []parser.SequenceValue, error) {
	// Prometheus panics building a label value past 16 MiB.
	if err := guard.CheckHardLabels(line); err != nil {
		return labels.EmptyLabels(), nil, err
	}
	if lset, vals, ok := parseDescFast(line); ok {
		return lset, vals, nil
	}
	return seriesParser.ParseSeriesDesc(line)
}
