package series

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/gotk-rules/gotk-rules/guard"
)

// This file holds a hand-written reader for the common, simple subset of the
// series notation. It either recognises a whole line and returns exactly what
// Prometheus' ParseSeriesDesc returns for it, or reports that it did not, and
// ParseDesc falls back to the Prometheus parser (which then also produces the
// errors, with their positions). The subset:
//
//	line    = " "* metric ( " "+ value )* " "*
//	metric  = name | name labels | labels
//	name    = [a-zA-Z_:][a-zA-Z0-9_:]*   (not a PromQL keyword)
//	labels  = "{" " "* [ label ( " "* "," " "* label )* [ " "* "," ] ] " "* "}"
//	label   = [a-zA-Z_][a-zA-Z0-9_]* " "* "=" " "* '"' printable ASCII but " and \ '"'
//	value   = "_" | "_x" count | "stale" | num [ "x" count | ("+"|"-") unum "x" count ]
//	num     = [ "+" | "-" ] unum
//	unum    = [0-9]+ [ "." [0-9]+ ]
//	count   = [0-9]{1,9}
//
// Label names must be distinct. Everything else (histograms, escapes,
// non-ASCII, other quotes, hex, exponents, Inf/NaN, durations, tabs and
// newlines, comments, anything malformed) is left to Prometheus.

// maxFastCountDigits bounds the `xN` counts the fast path expands; longer
// counts go to the Prometheus parser, which behaves as it always did.
const maxFastCountDigits = 9

var staleNaN = math.Float64frombits(value.StaleNaN)

// lastPlainName is the last metric name plainMetricName accepted.
var lastPlainName atomic.Pointer[string]

// parseDescFast parses line if it is in the simple subset. ok is false when
// it is not, and then the other results are meaningless.
func parseDescFast(line string) (lset labels.Labels, vals []parser.SequenceValue, ok bool) {
	i := skipSpaces(line, 0)
	if i == len(line) {
		return labels.EmptyLabels(), nil, false
	}
	lset, i, ok = fastMetric(line, i)
	if !ok {
		return labels.EmptyLabels(), nil, false
	}
	// Prometheus needs a space between the metric and the first value.
	if i < len(line) && line[i] != ' ' {
		return labels.EmptyLabels(), nil, false
	}
	vals, ok = fastValues(line[i:])
	if !ok {
		return labels.EmptyLabels(), nil, false
	}
	return lset, vals, true
}

func skipSpaces(s string, i int) int {
	for i < len(s) && s[i] == ' ' {
		i++
	}
	return i
}

func isNameStart(c byte) bool {
	return c == '_' || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z')
}

func isNameChar(c byte) bool {
	return isNameStart(c) || ('0' <= c && c <= '9')
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// fastMetric reads `name`, `name{...}` or `{...}` at line[i:] and returns the
// labels as the grammar builds them, and the index after the metric.
func fastMetric(line string, i int) (labels.Labels, int, bool) {
	start := i
	if c := line[i]; isNameStart(c) || c == ':' {
		i++
		for i < len(line) && (isNameChar(line[i]) || line[i] == ':') {
			i++
		}
	}
	name := line[start:i]
	if name != "" && !plainMetricName(name) {
		return labels.EmptyLabels(), 0, false
	}
	var buf [16]labels.Label
	ls := buf[:0]
	if i < len(line) && line[i] == '{' {
		var ok bool
		ls, i, ok = fastLabelSet(line, i+1, ls)
		if !ok {
			return labels.EmptyLabels(), 0, false
		}
	} else if name == "" {
		return labels.EmptyLabels(), 0, false
	}
	slices.SortFunc(ls, func(a, b labels.Label) int { return strings.Compare(a.Name, b.Name) })
	for k := 1; k < len(ls); k++ {
		if ls[k].Name == ls[k-1].Name {
			// labels.New keeps both and the builder merges them in its own
			// way: leave duplicates to Prometheus.
			return labels.EmptyLabels(), 0, false
		}
	}
	if name == "" {
		// `{...}`: labels.New(list...), empty values kept.
		return labels.New(ls...), i, true
	}
	// `name{...}`: labels.NewBuilder(labels.New(list...)).Set("__name__",
	// name).Labels(), which drops empty values (the builder's Reset deletes
	// them) and replaces a __name__ given in braces.
	out := ls[:0]
	for _, l := range ls {
		if l.Value != "" && l.Name != labels.MetricName {
			out = append(out, l)
		}
	}
	out = append(out, labels.Label{Name: labels.MetricName, Value: name})
	return labels.New(out...), i, true
}

// fastLabelSet reads the label list after `{` up to and including `}`.
func fastLabelSet(line string, i int, ls []labels.Label) ([]labels.Label, int, bool) {
	i = skipSpaces(line, i)
	if i < len(line) && line[i] == '}' {
		return ls, i + 1, true
	}
	for {
		// Label name: the lexer reads it as an IDENTIFIER (no colon, and no
		// keyword check inside braces).
		ns := i
		if i >= len(line) || !isNameStart(line[i]) {
			return nil, 0, false
		}
		for i < len(line) && isNameChar(line[i]) {
			i++
		}
		n := line[ns:i]
		i = skipSpaces(line, i)
		if i >= len(line) || line[i] != '=' {
			return nil, 0, false
		}
		i = skipSpaces(line, i+1)
		if i >= len(line) || line[i] != '"' {
			return nil, 0, false
		}
		i++
		vs := i
		for i < len(line) && line[i] != '"' {
			if c := line[i]; c < 0x20 || c > 0x7e || c == '\\' {
				return nil, 0, false
			}
			i++
		}
		if i >= len(line) {
			return nil, 0, false
		}
		ls = append(ls, labels.Label{Name: n, Value: line[vs:i]})
		i = skipSpaces(line, i+1)
		if i >= len(line) {
			return nil, 0, false
		}
		switch line[i] {
		case '}':
			return ls, i + 1, true
		case ',':
			i = skipSpaces(line, i+1)
			if i < len(line) && line[i] == '}' { // trailing comma
				return ls, i + 1, true
			}
		default:
			return nil, 0, false
		}
	}
}

// plainMetricName reports whether Prometheus' own lexer reads name as a plain
// identifier, not a keyword (`sum`, `by`, `bool`, ...): keywords are left to
// the Prometheus parser, which accepts some of them as metric names and
// rejects others. The last accepted name is remembered, as lines of a file
// mostly repeat a few metric names.
func plainMetricName(name string) bool {
	if p := lastPlainName.Load(); p != nil && *p == name {
		return true
	}
	var it parser.Item
	parser.Lex(name).NextItem(&it)
	if (it.Typ != parser.IDENTIFIER && it.Typ != parser.METRIC_IDENTIFIER) || it.Val != name {
		return false
	}
	// Copy: name may be a slice of a long line we must not keep alive.
	s := strings.Clone(name)
	lastPlainName.Store(&s)
	return true
}

// fastValues expands the values part (starting at a space, or empty) as the
// grammar's series_values rule does.
func fastValues(s string) ([]parser.SequenceValue, bool) {
	vals := make([]parser.SequenceValue, 0, fastValuesCap(s))
	i := 0
	for {
		i = skipSpaces(s, i)
		if i == len(s) {
			return vals, true
		}
		j := i
		for j < len(s) && s[j] != ' ' {
			j++
		}
		var ok bool
		vals, ok = fastItem(vals, s[i:j])
		if !ok {
			return nil, false
		}
		i = j
	}
}

// fastValuesCap guesses the expanded length of s from its `xN` counts, so
// the common case allocates once. It is only a capacity hint.
func fastValuesCap(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == ' ':
			if i+1 < len(s) && s[i+1] != ' ' {
				n++
			}
		case c == 'x':
			c := 0
			for j := i + 1; j < len(s) && j <= i+4 && isDigit(s[j]); j++ {
				c = c*10 + int(s[j]-'0')
			}
			n += c
		}
	}
	return min(n+1, 1<<16)
}

// fastItem appends the expansion of one series_item token.
func fastItem(vals []parser.SequenceValue, tok string) ([]parser.SequenceValue, bool) {
	switch {
	case tok == "_":
		return append(vals, parser.SequenceValue{Omitted: true}), true
	case tok == "stale":
		return append(vals, parser.SequenceValue{Value: staleNaN}), true
	case tok[0] == '_':
		// `_xN`: N omitted values (none for `_x0`).
		if len(tok) < 3 || tok[1] != 'x' {
			return nil, false
		}
		n, ok := fastCount(tok[2:])
		if !ok {
			return nil, false
		}
		vals, tail := extend(vals, n)
		for k := range tail {
			tail[k].Omitted = true
		}
		return vals, true
	}
	v, rest, ok := fastNumber(tok, false)
	if !ok {
		return nil, false
	}
	if rest == "" {
		return append(vals, parser.SequenceValue{Value: v}), true
	}
	var inc float64
	hasInc := rest[0] == '+' || rest[0] == '-'
	if hasInc {
		if inc, rest, ok = fastNumber(rest, true); !ok {
			return nil, false
		}
	}
	if rest == "" || rest[0] != 'x' {
		return nil, false
	}
	n, ok := fastCount(rest[1:])
	if !ok {
		return nil, false
	}
	// `vxN` and `v+dxN` are N+1 values (the grammar adds one for time 0).
	vals, tail := extend(vals, n+1)
	if !hasInc {
		for k := range tail {
			tail[k].Value = v
		}
		return vals, true
	}
	// The grammar computes `v+dxN` by repeated addition (`$1 += $2`), so
	// rounding accumulates: 1.5+0.1x20 ends at 3.5000000000000018, not 3.5.
	for k := range tail {
		tail[k].Value = v
		v += inc
	}
	return vals, true
}

// extend lengthens vals by n zero values and returns it and the new part.
// Filling the new part field by field is cheaper than appending whole
// values, which writes the Histogram pointer each time.
func extend(vals []parser.SequenceValue, n uint64) ([]parser.SequenceValue, []parser.SequenceValue) {
	l := len(vals)
	vals = slices.Grow(vals, int(n))[:l+int(n)]
	// The new part is zero: vals comes from make and only grows here, and
	// Grow's new capacity is zeroed.
	return vals, vals[l:]
}

// fastNumber reads `[+-]?unum` (the sign required when signed is set) at the
// start of s, and returns its value and what follows it. What follows must be
// empty or start with `x`, `+` or `-`: the callers check which.
func fastNumber(s string, signed bool) (float64, string, bool) {
	neg := false
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-'
		s = s[1:]
	} else if signed {
		return 0, "", false
	}
	i := 0
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	if i == 0 {
		return 0, "", false
	}
	dot := false
	if i < len(s) && s[i] == '.' {
		j := i + 1
		for j < len(s) && isDigit(s[j]) {
			j++
		}
		if j == i+1 {
			return 0, "", false // `1.`: leave to Prometheus
		}
		i, dot = j, true
	}
	if i < len(s) && s[i] != 'x' && s[i] != '+' && s[i] != '-' {
		return 0, "", false
	}
	f, ok := promNumber(s[:i], dot)
	if !ok {
		return 0, "", false
	}
	if neg {
		f = -f // SUB number: `-0` is -0
	}
	return f, s[i:], true
}

// promNumber is the parser's number(): strconv.ParseInt(val, 0, 64) first,
// then strconv.ParseFloat. Base 0 makes a leading 0 octal: `010` is 8, while
// `08` and `09` fail ParseInt and are read by ParseFloat as 8 and 9.
func promNumber(tok string, dot bool) (float64, bool) {
	if !dot {
		if tok[0] != '0' && len(tok) <= 18 {
			// What ParseInt returns, without its cost.
			var n int64
			for k := 0; k < len(tok); k++ {
				n = n*10 + int64(tok[k]-'0')
			}
			return float64(n), true
		}
		// ParseInt never accepts a '.', so only dotless tokens try it.
		if n, err := strconv.ParseInt(tok, 0, 64); err == nil {
			return float64(n), true
		}
	}
	f, err := strconv.ParseFloat(tok, 64)
	return f, err == nil
}

// fastCount reads the repetition count of `xN`: decimal digits to the end of
// the token, as strconv.ParseUint(N, 10, 64) reads them (leading zeros are
// decimal here).
func fastCount(s string) (uint64, bool) {
	if s == "" || len(s) > maxFastCountDigits {
		return 0, false
	}
	var n uint64
	for k := 0; k < len(s); k++ {
		if !isDigit(s[k]) {
			return 0, false
		}
		n = n*10 + uint64(s[k]-'0')
	}
	return n, true
}

// ParseMetric reads a metric alone (`name`, `name{...}` or `{...}`, spaces
// around it allowed) in the simple subset ParseRuns reads, to the labels
// Prometheus' parser.ParseMetric gives. ok is false for any other text:
// that parser then reads it, and gives its errors.
func ParseMetric(s string) (labels.Labels, bool) {
	if guard.CheckHardLabels(s) != nil {
		return labels.EmptyLabels(), false
	}
	i := skipSpaces(s, 0)
	if i == len(s) {
		return labels.EmptyLabels(), false
	}
	lset, i, ok := fastMetric(s, i)
	if !ok || skipSpaces(s, i) != len(s) {
		return labels.EmptyLabels(), false
	}
	return lset, true
}
