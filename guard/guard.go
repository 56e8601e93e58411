// Package guard bounds what hostile PromQL expressions and alert templates
// may cost, so that no input crashes the process: expressions are checked
// before the upstream parser sees them (CheckExpr, a byte scan) and after
// (CheckAST), and templates run with a step, output and time bound
// (Expand).
//
// Every limit is a budget (budget.Name) and every error a limit hit wraps a
// *budget.ExceededError, so callers word how to raise it (budget.Explain).
// The upstream engine has no such bounds: a subquery of a trillion steps
// allocates per-step statistics for each and dies out of memory, deeply
// nested calls overflow the stack, and long operator chains and deep
// parentheses are quadratic to parse.
package guard

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gotk-rules/gotk-rules/budget"
)

// Limits bound one expression, one query evaluation and one template
// expansion. A zero field takes its default (WithDefaults).
type Limits struct {
	// MaxExprBytes bounds the bytes of one expression (budget.ExprBytes).
	MaxExprBytes int
	// MaxDepth bounds how deep one expression nests: brackets before
	// parsing, the syntax tree after (budget.ExprDepth).
	MaxDepth int
	// MaxOperators bounds the operators of one expression, which the
	// upstream parser takes quadratic time for (budget.ExprOperators).
	MaxOperators int
	// MaxSteps bounds the steps one evaluation of a query takes, each
	// subquery's steps and a range query's included (budget.QuerySteps).
	MaxSteps int64
	// MaxLabelGrowth bounds how many times nested label_join and
	// label_replace calls may multiply the size of a label value
	// (budget.LabelGrowth).
	MaxLabelGrowth int64
	// MaxLabelBytes bounds one label value and MaxLabelSetBytes one label
	// set an alert is built with (budget.LabelBytes).
	MaxLabelBytes, MaxLabelSetBytes int
	// TemplateMaxSteps bounds the function calls, loop iterations and
	// template calls of one template expansion (budget.TemplateSteps).
	TemplateMaxSteps int64
	// TemplateMaxBytes bounds the output of one template expansion and
	// every string its functions return (budget.TemplateBytes).
	TemplateMaxBytes int
	// TemplateTimeout bounds the time of one template expansion
	// (budget.TemplateTime).
	TemplateTimeout time.Duration
}

// Default returns the default limits (budget's defaults).
func Default() Limits {
	return Limits{
		MaxExprBytes:     budget.DefaultExprBytes,
		MaxDepth:         budget.DefaultExprDepth,
		MaxOperators:     budget.DefaultExprOperators,
		MaxSteps:         budget.DefaultQuerySteps,
		MaxLabelGrowth:   budget.DefaultLabelGrowth,
		MaxLabelBytes:    budget.DefaultLabelBytes,
		MaxLabelSetBytes: budget.DefaultLabelSetBytes,
		TemplateMaxSteps: budget.DefaultTemplateSteps,
		TemplateMaxBytes: budget.DefaultTemplateBytes,
		TemplateTimeout:  budget.DefaultTemplateTime,
	}
}

// WithDefaults returns l with each zero or negative field set to its
// default.
func (l Limits) WithDefaults() Limits {
	d := Default()
	fill(&l.MaxExprBytes, d.MaxExprBytes)
	fill(&l.MaxDepth, d.MaxDepth)
	fill(&l.MaxOperators, d.MaxOperators)
	fill(&l.MaxLabelBytes, d.MaxLabelBytes)
	l.MaxLabelBytes = min(l.MaxLabelBytes, HardMaxLabelBytes)
	fill(&l.MaxLabelSetBytes, d.MaxLabelSetBytes)
	fill(&l.TemplateMaxBytes, d.TemplateMaxBytes)
	fill(&l.MaxSteps, d.MaxSteps)
	fill(&l.MaxLabelGrowth, d.MaxLabelGrowth)
	fill(&l.TemplateMaxSteps, d.TemplateMaxSteps)
	fill(&l.TemplateTimeout, d.TemplateTimeout)
	return l
}

// fill sets *v to def when *v is zero or negative.
func fill[T int | int64 | time.Duration](v *T, def T) {
	if *v <= 0 {
		*v = def
	}
}

// keys name the limits for Set, each with the budget it sets.
var keys = []struct {
	key    string
	budget budget.Name
}{
	{"expr-bytes", budget.ExprBytes},
	{"expr-depth", budget.ExprDepth},
	{"expr-operators", budget.ExprOperators},
	{"query-steps", budget.QuerySteps},
	{"label-growth", budget.LabelGrowth},
	{"label-bytes", budget.LabelBytes},
	{"template-steps", budget.TemplateSteps},
	{"template-bytes", budget.TemplateBytes},
	{"template-time", budget.TemplateTime},
}

// Keys lists the names Set accepts, in order.
func Keys() []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = k.key
	}
	return out
}

// Key returns the name Set knows the limit of budget b by, or "" for a
// budget that is no guard limit.
func Key(b budget.Name) string {
	for _, k := range keys {
		if k.budget == b {
			return k.key
		}
	}
	return ""
}

// Set sets the limit named key (Keys) from value: a count, a byte size
// ("expr-bytes", "label-bytes" and "template-bytes"; a K, M or G suffix
// multiplies by 1024s), or a duration for "template-time". "label-bytes"
// sets the label value limit and the label set limit to 4 times it.
func (l *Limits) Set(key, value string) error {
	if key == "template-time" {
		d, err := time.ParseDuration(value)
		if err != nil || d <= 0 {
			return fmt.Errorf("limit %s=%s: want a positive duration such as 10s", key, value)
		}
		l.TemplateTimeout = d
		return nil
	}
	n, err := parseSize(value)
	if err != nil {
		return fmt.Errorf("limit %s=%s: %w", key, value, err)
	}
	asInt := int(min(n, 1<<50))
	switch key {
	case "expr-bytes":
		l.MaxExprBytes = asInt
	case "expr-depth":
		l.MaxDepth = asInt
	case "expr-operators":
		l.MaxOperators = asInt
	case "query-steps":
		l.MaxSteps = int64(asInt)
	case "label-growth":
		l.MaxLabelGrowth = int64(asInt)
	case "label-bytes":
		l.MaxLabelBytes, l.MaxLabelSetBytes = asInt, 4*asInt
	case "template-steps":
		l.TemplateMaxSteps = int64(asInt)
	case "template-bytes":
		l.TemplateMaxBytes = asInt
	default:
		return fmt.Errorf("unknown limit %q (known: %s)", key, strings.Join(Keys(), ", "))
	}
	return nil
}

// Parse reads limits from NAME=VALUE settings (Set) over the defaults.
func Parse(settings []string) (Limits, error) {
	l := Default()
	for _, s := range settings {
		key, value, ok := strings.Cut(s, "=")
		if !ok {
			return l, fmt.Errorf("limit %q: want NAME=VALUE, NAME one of %s", s, strings.Join(Keys(), ", "))
		}
		if err := l.Set(strings.TrimSpace(key), strings.TrimSpace(value)); err != nil {
			return l, err
		}
	}
	return l, nil
}

// parseSize reads a positive count, with an optional K, M or G (1024s).
func parseSize(s string) (uint64, error) {
	mult := uint64(1)
	switch {
	case strings.HasSuffix(s, "K"), strings.HasSuffix(s, "k"):
		mult, s = 1<<10, s[:len(s)-1]
	case strings.HasSuffix(s, "M"):
		mult, s = 1<<20, s[:len(s)-1]
	case strings.HasSuffix(s, "G"):
		mult, s = 1<<30, s[:len(s)-1]
	}
	n, err := strconv.ParseUint(strings.ReplaceAll(s, "_", ""), 10, 64)
	if err != nil || n == 0 || n > (1<<50)/mult {
		return 0, errors.New("want a positive whole number")
	}
	return n * mult, nil
}

// PosError is a limit hit at a place in an expression or template.
type PosError struct {
	// Line and Column are 1-based, in the text checked.
	Line, Column int
	// Err is the budget exceeded.
	Err *budget.ExceededError
}

// Error words the error as "LINE:COL: SUBJECT, over the limit of LIMIT",
// as the PromQL parser words its errors.
func (e *PosError) Error() string {
	return fmt.Sprintf("%d:%d: %s", e.Line, e.Column, e.Err.Error())
}

// Unwrap returns the exceeded budget.
func (e *PosError) Unwrap() error { return e.Err }

// IsLimit reports whether err, or an error it wraps, is a guard limit hit.
func IsLimit(err error) bool {
	ee, ok := errors.AsType[*budget.ExceededError](err)
	return ok && Key(ee.Budget) != ""
}

// exceeded builds the error of a limit hit at byte offset pos of text.
func exceeded(text string, pos int, b budget.Name, limit, asked uint64, subject string) *PosError {
	line, col := lineCol(text, pos)
	return &PosError{Line: line, Column: col, Err: &budget.ExceededError{Budget: b, Limit: limit, Asked: asked, Subject: subject}}
}

// lineCol returns the 1-based line and column (in bytes) of offset pos.
func lineCol(text string, pos int) (int, int) {
	pos = max(0, min(pos, len(text)))
	before := text[:pos]
	line := strings.Count(before, "\n") + 1
	col := pos - strings.LastIndexByte(before, '\n')
	return line, col
}
