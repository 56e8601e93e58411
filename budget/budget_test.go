package budget_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gotk-rules/gotk-rules/budget"
)

func TestExceededError(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		err  *budget.ExceededError
		want string
	}{
		{"series", &budget.ExceededError{Budget: budget.InputSeries, Limit: 1, Asked: 2, Subject: "2 input series"},
			"2 input series, over the limit of 1"},
		{"the largest limit", &budget.ExceededError{Budget: budget.InputSamples, Limit: 1<<64 - 1, Subject: "all the samples"},
			"all the samples, over the limit of 18446744073709551615"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			require.EqualError(t, c.err, c.want)
			// Wrapped, it is still found, with what it says.
			var ee *budget.ExceededError
			require.ErrorAs(t, fmt.Errorf("file:1:1: %w", c.err), &ee)
			require.Same(t, c.err, ee)
		})
	}
}

// tooMany stands for an error that names no budget (Prometheus' own, for
// one): the hint names it.
type tooMany struct{}

func (tooMany) Error() string { return "too many" }

// hint is a caller's: each budget's flag, and the foreign error named.
func hint(err error) string {
	if ee, ok := errors.AsType[*budget.ExceededError](err); ok {
		return " (raise it with --" + strings.ReplaceAll(string(ee.Budget), " ", "-") + ")"
	}
	if errors.As(err, new(tooMany)) {
		return " (the too-many limit)"
	}
	return ""
}

func TestExplain(t *testing.T) {
	t.Parallel()
	series := &budget.ExceededError{Budget: budget.InputSeries, Limit: 1, Asked: 2, Subject: "2 input series"}
	samples := &budget.ExceededError{Budget: budget.InputSamples, Limit: 3, Asked: 4, Subject: "4 samples"}
	cases := []struct {
		name string
		err  error
		hint budget.Hint
		want string
	}{
		{name: "nil", err: nil, hint: hint, want: ""},
		{name: "no budget", err: errors.New("bad"), hint: hint, want: "bad"},
		{name: "alone", err: series, hint: hint, want: "2 input series, over the limit of 1 (raise it with --input-series)"},
		{name: "no hint", err: series, want: "2 input series, over the limit of 1"},
		{name: "a hint that knows none", err: series, hint: func(error) string { return "" }, want: "2 input series, over the limit of 1"},
		{name: "wrapped: the hint follows the budget's message", err: fmt.Errorf("x.yml:1:1: %w; then more", series), hint: hint,
			want: "x.yml:1:1: 2 input series, over the limit of 1 (raise it with --input-series); then more"},
		{name: "joined: each its own", err: fmt.Errorf("x.yml: %w", errors.Join(errors.New("a: bad"), fmt.Errorf("b: %w", series), samples)), hint: hint,
			want: "x.yml: a: bad\nb: 2 input series, over the limit of 1 (raise it with --input-series)\n4 samples, over the limit of 3 (raise it with --input-samples)"},
		{name: "the same message twice: each in turn", err: errors.Join(fmt.Errorf("r1: %w", tooMany{}), fmt.Errorf("r2: %w", tooMany{})), hint: hint,
			want: "r1: too many (the too-many limit)\nr2: too many (the too-many limit)"},
		{name: "a wrapper that drops its cause's message", err: &dropping{series}, hint: hint, want: "refused"},
		{name: "the cause worded with %v is not found", err: fmt.Errorf("x: %v", series), hint: hint, want: "x: 2 input series, over the limit of 1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, c.want, budget.Explain(c.err, c.hint))
		})
	}
}

// dropping wraps an error without its message.
type dropping struct{ err error }

func (d *dropping) Error() string { return "refused" }
func (d *dropping) Unwrap() error { return d.err }
