package unittest

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/gotk-rules/gotk-rules/budget"
	"github.com/gotk-rules/gotk-rules/evaluator"
	"github.com/gotk-rules/gotk-rules/internal/parallel"
	"github.com/gotk-rules/gotk-rules/series"
)

// This file is the one reader of promtool input series: the test runner and
// the web sandbox both read input_series through it, so they count, parse and
// place errors alike.

// InputLimits bound a test group's input series before anything is expanded.
type InputLimits struct {
	// MaxSeries bounds the input_series entries (zero or less:
	// budget.DefaultInputSeries).
	MaxSeries int
	// MaxSamples bounds the values they expand to, omitted ones included
	// (zero: budget.DefaultInputSamples).
	MaxSamples uint64
}

// InputError is a problem with a test group's input series and where it is.
type InputError struct {
	// Index is the input series at fault, or -1 when the error is the
	// list's as a whole (a budget).
	Index int
	// Field is the entry's field the error is in, "series" or "values";
	// empty when Index is -1.
	Field string
	// Err is the cause: a *budget.ExceededError (budget.InputSeries or
	// budget.InputSamples), or a parse error worded with its column in
	// Field's text.
	Err error
}

// Error words the error as promtool's runner reports it, after the place.
func (e *InputError) Error() string {
	if e.Index < 0 {
		return e.Err.Error()
	}
	return fmt.Sprintf("input_series[%d]: %v", e.Index, e.Err)
}

// Unwrap returns the cause.
func (e *InputError) Unwrap() error { return e.Err }

// InputErrors are the errors of one test group's input series, in input
// order. The test runner reports the first, as promtool stops at it; an
// editor can mark them all.
type InputErrors []*InputError

func (e InputErrors) Error() string {
	msgs := make([]string, len(e))
	for i, ie := range e {
		msgs[i] = ie.Error()
	}
	return strings.Join(msgs, "\n")
}

// Unwrap returns the errors, for errors.Is and errors.As.
func (e InputErrors) Unwrap() []error {
	out := make([]error, len(e))
	for i, ie := range e {
		out[i] = ie
	}
	return out
}

// CheckInputLimits refuses input series over the budgets without expanding
// them: the series count, then the samples they would expand to. The series
// field can hold values too, which promtool loads after the metric, so they
// are counted with the values field's. The error is an InputErrors of one
// error at the list (Index -1), a *budget.ExceededError.
func CheckInputLimits(list []InputSeries, lim InputLimits) error {
	lim = lim.withDefaults()
	if len(list) > lim.MaxSeries {
		return InputErrors{{Index: -1, Err: &budget.ExceededError{Budget: budget.InputSeries, Limit: uint64(lim.MaxSeries), Asked: uint64(len(list)),
			Subject: fmt.Sprintf("%d input series", len(list))}}}
	}
	var total uint64
	for _, is := range list {
		// A native histogram weighs one sample per bucket (series.Weight).
		total += series.Weight(is.Values) + series.Weight(valuesInMetric(is.Series))
	}
	if total > lim.MaxSamples {
		return InputErrors{{Index: -1, Err: &budget.ExceededError{Budget: budget.InputSamples, Limit: lim.MaxSamples, Asked: total,
			Subject: fmt.Sprintf("input series expand to %d samples", total)}}}
	}
	return nil
}

func (l InputLimits) withDefaults() InputLimits {
	if l.MaxSeries <= 0 {
		l.MaxSeries = budget.DefaultInputSeries
	}
	if l.MaxSamples == 0 {
		l.MaxSamples = budget.DefaultInputSamples
	}
	return l
}

// valuesInMetric returns what follows the metric in a series field: values
// written there are loaded too, as promtool joins series and values.
func valuesInMetric(metric string) string {
	if i := strings.LastIndexByte(metric, '}'); i >= 0 {
		return metric[i+1:]
	}
	if i := strings.IndexAny(strings.TrimSpace(metric), " \t\n"); i >= 0 {
		return strings.TrimSpace(metric)[i:]
	}
	return ""
}

// InputOptions place input series on the time axis.
type InputOptions struct {
	// Start is the time of every series' first value.
	Start time.Time
	// Step is the time between values: the test group's interval.
	Step time.Duration
	// Until drops the samples after it, which no evaluation reads; zero
	// keeps them all.
	Until time.Time
}

// ReadInputSeries reads input series as promtool's loader does: each entry
// is joined into lines `METRIC VALUES`; a blank or comment line ends the
// list (promtool's load command ends there), and a later definition of the
// same series replaces an earlier one. Call CheckInputLimits first: this
// expands what it is given.
//
// Each series, expanded as o says, goes through keep with the number of
// values its description had (omitted ones included), and the results are
// returned in input order. keep runs on every core at once, right after its
// series is expanded, so it can make the series compact: a fleet's input
// then never exists in full as raw samples.
//
// A series that does not parse is an *InputError at its entry's field, its
// column counted in the text of that field as the user wrote it; the error
// returned is the InputErrors of every such series.
func ReadInputSeries[T any](list []InputSeries, o InputOptions, keep func(s series.Series, values int) T) ([]T, error) {
	return readInput(list, func(in *inputLine) (labels.Labels, T, error) {
		line := in.text()
		lset, vals, err := seriesDesc(line)
		if err != nil {
			var zero T
			return lset, zero, err
		}
		return lset, keep(series.Expand(lset, vals, o.Start, o.Step, o.Until), len(vals)), nil
	})
}

// ReadInputs is ReadInputSeries keeping each series as an evaluator.Input
// (evaluator.NewInput). A line in the simple subset of the notation is
// held compactly straight from its runs of values (`0x1437` is one run),
// never expanded into samples.
func ReadInputs(list []InputSeries, o InputOptions) ([]evaluator.Input, error) {
	return readInput(list, func(in *inputLine) (labels.Labels, evaluator.Input, error) {
		if in.joined == "" {
			// The runs are copied into the input: their slice is reused.
			buf := runBufs.Get().(*[]series.Run)
			defer runBufs.Put(buf)
			lset, runs, ok := series.ParseRunsOf(in.metric, in.values, *buf)
			if ok {
				*buf = runs[:0]
				if in, ok := evaluator.NewInputRuns(lset, runs, o.Start, o.Step, o.Until); ok {
					return lset, in, nil
				}
			}
		}
		line := in.text()
		if lset, runs, ok := series.ParseRuns(line); ok {
			if in, ok := evaluator.NewInputRuns(lset, runs, o.Start, o.Step, o.Until); ok {
				return lset, in, nil
			}
		}
		lset, vals, err := seriesDesc(line)
		if err != nil {
			return lset, evaluator.Input{}, err
		}
		return lset, evaluator.NewInput(series.Expand(lset, vals, o.Start, o.Step, o.Until)), nil
	})
}

// runBufs are slices of runs for ReadInputs to parse into.
var runBufs = sync.Pool{New: func() any { return new([]series.Run) }}

// inputLine is one `METRIC VALUES` line of the input. The line of an entry
// whose fields hold no line break is its fields joined, which is done only
// when needed (a fleet's values fields are long): metric and values are
// the fields then, and joined empty until text.
type inputLine struct {
	metric, values string
	joined         string // the line, trimmed, once known
}

// text is the line, trimmed.
func (l *inputLine) text() string {
	if l.joined == "" {
		l.joined = strings.TrimSpace(l.metric + " " + l.values)
	}
	return l.joined
}

// readInput is ReadInputSeries with read making what is kept of a line.
func readInput[T any](list []InputSeries, read func(in *inputLine) (labels.Labels, T, error)) ([]T, error) {
	type job struct {
		index int // in list
		in    inputLine
		lset  labels.Labels
		out   T
		err   error
	}
	var jobs []job
lines:
	for i, is := range list {
		if !strings.Contains(is.Series, "\n") && !strings.Contains(is.Values, "\n") {
			// One line: blank, or a comment, it ends the list.
			first := strings.TrimLeftFunc(is.Series, unicode.IsSpace)
			if first == "" {
				first = strings.TrimLeftFunc(is.Values, unicode.IsSpace)
			}
			if first == "" || first[0] == '#' {
				break
			}
			jobs = append(jobs, job{index: i, in: inputLine{metric: is.Series, values: is.Values}})
			continue
		}
		for _, line := range strings.Split(is.Series+" "+is.Values, "\n") {
			line = strings.TrimSpace(line)
			if line == "" || strings.HasPrefix(line, "#") {
				break lines
			}
			jobs = append(jobs, job{index: i, in: inputLine{joined: line}})
		}
	}
	parallel.For(len(jobs), 0, func(k int) {
		jb := &jobs[k]
		jb.lset, jb.out, jb.err = read(&jb.in)
	})
	var errs InputErrors
	byHash := map[uint64]int{}
	var out []T
	for _, jb := range jobs {
		if jb.err != nil {
			err, inValues := describeSeriesError(jb.err, jb.in.text(), list[jb.index].Series)
			field := "series"
			if inValues {
				field = "values"
			}
			errs = append(errs, &InputError{Index: jb.index, Field: field, Err: err})
			continue
		}
		// A later definition of the same series replaces an earlier one.
		// Series are the same when their hashes are, as in promtool's
		// loader (promqltest's loadCmd.set).
		h := jb.lset.Hash()
		if j, ok := byHash[h]; ok {
			out[j] = jb.out
			continue
		}
		byHash[h] = len(out)
		out = append(out, jb.out)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return out, nil
}

// describeSeriesError restates a parse error of `METRIC VALUES` with the
// column in the part the user wrote, metric or values, and says whether it
// is in the values.
func describeSeriesError(err error, line, metric string) (error, bool) {
	var pes parser.ParseErrors
	if !errors.As(err, &pes) || len(pes) == 0 {
		return err, true
	}
	pe := pes[0]
	pos := int(pe.PositionRange.Start)
	metric = strings.TrimSpace(metric)
	if off := strings.Index(line, metric); pos >= off+len(metric)+1 {
		values := line[off+len(metric)+1:]
		return fmt.Errorf("values %q, column %d: %v", values, pos-(off+len(metric)+1)+1, pe.Err), true
	}
	return fmt.Errorf("series %q, column %d: %v", metric, pos+1, pe.Err), false
}
