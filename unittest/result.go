package unittest

import (
	"strings"
	"time"
)

// Result is the outcome of a run over one or more test files.
type Result struct {
	Files []*FileResult `json:"files"`

	// strict: a warning fails the run (Options.Strict).
	strict bool
}

// FileResult is the outcome of one test file.
type FileResult struct {
	File string `json:"file"`
	// Error is set when the file could not be run at all.
	Error string `json:"error,omitempty"`
	// Warnings are the file's own, such as a rule_files pattern that
	// matches no file.
	Warnings []Warning      `json:"warnings,omitempty"`
	Groups   []*GroupResult `json:"groups"`
}

// GroupResult is the outcome of one test group.
type GroupResult struct {
	// Name is the group's name, or unnamed#INDEX as promtool names it.
	Name  string `json:"name"`
	Index int    `json:"index"`
	Line  int    `json:"line,omitempty"`
	// Passed is true when the group ran and every assertion held.
	Passed bool `json:"passed"`
	// BadInput is set when the group could not run because its input is
	// wrong: rule files, series, expressions or expected values.
	BadInput bool `json:"bad_input,omitempty"`
	// Errors are the group's failures in promtool's words.
	Errors []string `json:"errors,omitempty"`
	// Warnings are the group's vacuous assertions and other findings that
	// do not change the verdict unless Options.Strict.
	Warnings   []Warning     `json:"warnings,omitempty"`
	Assertions []*Assertion  `json:"assertions"`
	Duration   time.Duration `json:"duration_ns"`
	// FastPath is true when rule queries were served from range queries.
	FastPath bool `json:"fast_path"`

	// other holds the errors that belong to no assertion (bad input, rule
	// evaluation), for the text report.
	other []string
	// badLines are the group's bad input that belongs to an assertion (an
	// expression that does not parse or is over a limit), as
	// file:line:col: message, for BadInputLines.
	badLines []string
}

// addError records a failure that belongs to no assertion.
func (g *GroupResult) addError(msg string) {
	g.Errors = append(g.Errors, msg)
	g.other = append(g.other, msg)
}

// Assertion is one alert_rule_test or promql_expr_test entry.
type Assertion struct {
	Kind      string `json:"kind"` // "alert", "expr" or "scenario" (an expectation)
	Line      int    `json:"line,omitempty"`
	Alertname string `json:"alertname,omitempty"`
	Expr      string `json:"expr,omitempty"`
	EvalTime  string `json:"eval_time"`
	// Passed is false when the assertion failed or could not be checked.
	Passed bool `json:"passed"`
	// Checked is false when the group stopped before reaching the assertion.
	Checked  bool     `json:"checked"`
	Expected []Object `json:"expected"`
	Got      []Object `json:"got"`
	Error    string   `json:"error,omitempty"`

	// where is file:line:col of the assertion's expression.
	where string
}

// Object is an expected or actual alert (labels, annotations) or sample
// (labels, value or histogram).
type Object struct {
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations,omitempty"`
	Value       *Float            `json:"value,omitempty"`
	Histogram   string            `json:"histogram,omitempty"`
}

// Counts sums the outcome over every group.
type Counts struct {
	Files, Groups, Passed, Failed, BadInput int
}

// Counts returns how many groups passed, failed or had bad input. A file
// that could not run counts as one bad-input group.
func (r *Result) Counts() Counts {
	var c Counts
	for _, f := range r.Files {
		c.Files++
		if f.Error != "" {
			c.Groups++
			c.BadInput++
			continue
		}
		for _, g := range f.Groups {
			c.Groups++
			switch {
			case g.Passed:
				c.Passed++
			case g.BadInput:
				c.BadInput++
			default:
				c.Failed++
			}
		}
	}
	return c
}

// Exit codes of `gotk-rules test`.
const (
	ExitPassed   = 0
	ExitFailed   = 1
	ExitBadInput = 2
)

// ExitCode is 0 when everything passed, 2 when any input was bad, else 1.
// In a strict run (Options.Strict) a warning is a failure.
func (r *Result) ExitCode() int {
	c := r.Counts()
	switch {
	case c.BadInput > 0:
		return ExitBadInput
	case c.Failed > 0:
		return ExitFailed
	case r.strict && r.Warnings() > 0:
		return ExitFailed
	}
	return ExitPassed
}

// Warnings counts the warnings of every file and group.
func (r *Result) Warnings() int {
	n := 0
	for _, f := range r.Files {
		n += len(f.Warnings)
		for _, g := range f.Groups {
			n += len(g.Warnings)
		}
	}
	return n
}

// BadInputLines are the errors of the files and groups that could not run
// because their input is wrong, one line each, in order and without
// repeats: a broken rule file shared by many groups is said once. The CLI
// prints them on standard error.
func (r *Result) BadInputLines() []string {
	var out []string
	seen := map[string]bool{}
	add := func(text string) {
		for _, l := range strings.Split(strings.TrimSpace(text), "\n") {
			if l = strings.TrimSpace(l); l != "" && !seen[l] {
				seen[l] = true
				out = append(out, l)
			}
		}
	}
	for _, f := range r.Files {
		if f.Error != "" {
			add(f.Error)
			continue
		}
		for _, g := range f.Groups {
			if g.BadInput {
				for _, e := range g.other {
					add(e)
				}
				for _, e := range g.badLines {
					add(e)
				}
			}
		}
	}
	return out
}

// WithoutBadInput is r with the errors BadInputLines returns replaced by a
// pointer to standard error, for a text report printed next to them.
func (r *Result) WithoutBadInput() *Result {
	const moved = "bad input (on standard error)"
	shown := *r
	shown.Files = make([]*FileResult, len(r.Files))
	for i, f := range r.Files {
		c := *f
		shown.Files[i] = &c
		if f.Error != "" {
			c.Error = moved
			continue
		}
		c.Groups = make([]*GroupResult, len(f.Groups))
		for j, g := range f.Groups {
			c.Groups[j] = g
			if g.BadInput && len(g.other) > 0 {
				gc := *g
				gc.other = []string{moved}
				c.Groups[j] = &gc
			}
		}
	}
	return &shown
}
