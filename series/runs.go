package series

import (
	"slices"
	"strings"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/gotk-rules/gotk-rules/guard"
)

// Run is a stretch of values of a series description, as the notation
// writes them: N values, omitted, all of value V, or V, V+Inc, V+Inc+Inc, ...
// (added up one at a time, as the grammar does).
type Run struct {
	N         uint64
	V, Inc    float64
	Omitted   bool
	Increment bool
}

// ParseRuns reads a `METRIC VALUES` line in the simple subset of the
// notation (see fastdesc.go) as runs, without expanding them. ok is false
// for any other line: ParseDesc then reads it, and gives its errors.
// What it returns expands to exactly what ParseDesc returns.
func ParseRuns(line string) (lset labels.Labels, runs []Run, ok bool) {
	if guard.CheckHardLabels(line) != nil {
		return labels.EmptyLabels(), nil, false
	}
	i := skipSpaces(line, 0)
	if i == len(line) {
		return labels.EmptyLabels(), nil, false
	}
	lset, i, ok = fastMetric(line, i)
	if !ok || (i < len(line) && line[i] != ' ') {
		return labels.EmptyLabels(), nil, false
	}
	s := line[i:]
	runs = make([]Run, 0, strings.Count(s, " ")) // one per token at most
	if runs, ok = appendRuns(runs, s); !ok {
		return labels.EmptyLabels(), nil, false
	}
	return lset, runs, true
}

// ParseRunsOf is ParseRuns of the line an input series entry makes,
// metric + " " + values trimmed, without joining them (a fleet's values
// fields are long). The runs are appended to buf[:0], which a caller that
// copies them elsewhere can reuse. ok is false for any entry it does not
// read as ParseRuns would; ParseRuns of the joined line is then the
// reference.
func ParseRunsOf(metric, values string, buf []Run) (lset labels.Labels, runs []Run, ok bool) {
	// Quotes or braces in the values, or a line break, could change what
	// the joined line says: left to the joined line.
	if strings.ContainsAny(values, "\"'`{}\n") || strings.Contains(metric, "\n") || guard.CheckHardLabels(metric) != nil {
		return labels.EmptyLabels(), nil, false
	}
	i := skipSpaces(metric, 0)
	if i == len(metric) {
		return labels.EmptyLabels(), nil, false
	}
	lset, i, ok = fastMetric(metric, i)
	if !ok || (i < len(metric) && metric[i] != ' ') {
		return labels.EmptyLabels(), nil, false
	}
	rest := metric[i:]
	runs = slices.Grow(buf[:0], strings.Count(rest, " ")+strings.Count(values, " ")+1)
	if runs, ok = appendRuns(runs, rest); ok {
		runs, ok = appendRuns(runs, values)
	}
	if !ok {
		return labels.EmptyLabels(), nil, false
	}
	return lset, runs, true
}

// appendRuns reads the space-separated values of s as runs.
func appendRuns(runs []Run, s string) ([]Run, bool) {
	for i := 0; ; {
		i = skipSpaces(s, i)
		if i == len(s) {
			return runs, true
		}
		j := i
		for j < len(s) && s[j] != ' ' {
			j++
		}
		r, ok := fastRun(s[i:j])
		if !ok {
			return nil, false
		}
		runs = append(runs, r)
		i = j
	}
}

// fastRun reads one series_item token as fastItem does, as a run.
func fastRun(tok string) (Run, bool) {
	switch {
	case tok == "_":
		return Run{N: 1, Omitted: true}, true
	case tok == "stale":
		return Run{N: 1, V: staleNaN}, true
	case tok[0] == '_':
		if len(tok) < 3 || tok[1] != 'x' {
			return Run{}, false
		}
		n, ok := fastCount(tok[2:])
		return Run{N: n, Omitted: true}, ok
	}
	v, rest, ok := fastNumber(tok, false)
	if !ok {
		return Run{}, false
	}
	if rest == "" {
		return Run{N: 1, V: v}, true
	}
	var inc float64
	hasInc := rest[0] == '+' || rest[0] == '-'
	if hasInc {
		if inc, rest, ok = fastNumber(rest, true); !ok {
			return Run{}, false
		}
	}
	if rest == "" || rest[0] != 'x' {
		return Run{}, false
	}
	n, ok := fastCount(rest[1:])
	if !ok {
		return Run{}, false
	}
	return Run{N: n + 1, V: v, Inc: inc, Increment: hasInc}, true
}

// PlaceRuns places runs on the time axis as Expand places their values:
// value i at start + i*step, none after until unless until is zero, omitted
// values leaving gaps. It calls emit with each stretch of equal values,
// n of value v at t, t+dt, ... (milliseconds), in time order, and stops at
// emit's first error. ok is false, and nothing is emitted, when the times
// are not whole milliseconds apart (step not positive, or not in whole
// milliseconds, or start not on a millisecond): Expand must place those.
func PlaceRuns(runs []Run, start time.Time, step time.Duration, until time.Time, emit func(t, dt int64, n int, v float64) error) (bool, error) {
	if step <= 0 || step%time.Millisecond != 0 || start.Nanosecond()%int(time.Millisecond) != 0 {
		return false, nil
	}
	var total uint64
	for _, r := range runs {
		total += r.N
	}
	limit := total
	if !until.IsZero() {
		limit = min(limit, uint64(max(int64(until.Sub(start)/step)+1, 0)))
	}
	t0, dt := start.UnixMilli(), step.Milliseconds()
	var i uint64 // values placed so far
	for _, r := range runs {
		if i >= limit {
			break
		}
		n := min(r.N, limit-i)
		t := t0 + int64(i)*dt
		i += n
		switch {
		case r.Omitted || n == 0:
		case !r.Increment:
			if err := emit(t, dt, int(n), r.V); err != nil {
				return true, err
			}
		default:
			v := r.V
			for k := uint64(0); k < n; k++ {
				if err := emit(t+int64(k)*dt, dt, 1, v); err != nil {
					return true, err
				}
				v += r.Inc
			}
		}
	}
	return true, nil
}
