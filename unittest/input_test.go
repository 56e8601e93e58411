package unittest_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gotk-rules/gotk-rules/budget"
	"github.com/gotk-rules/gotk-rules/series"
	"github.com/gotk-rules/gotk-rules/unittest"
)

// read is what the keep function of the tests sees of a series.
type read struct {
	labels  string
	samples int
	values  int
}

func readAll(t *testing.T, list []unittest.InputSeries, o unittest.InputOptions) ([]read, error) {
	t.Helper()
	return unittest.ReadInputSeries(list, o, func(s series.Series, values int) read {
		return read{labels: s.Labels.String(), samples: len(s.Samples), values: values}
	})
}

// The input series are read as promtool's load command reads them: a blank
// or comment line ends the list, later definitions replace earlier ones.
func TestReadInputSeries(t *testing.T) {
	t.Parallel()
	start := time.Unix(0, 0).UTC()
	cases := []struct {
		name  string
		list  []unittest.InputSeries
		until time.Duration // zero keeps every sample
		want  []read
	}{
		{
			name: "every series",
			list: []unittest.InputSeries{{Series: `up{a="1"}`, Values: "1 2"}, {Series: `up{a="2"}`, Values: "1x3"}},
			want: []read{{`{__name__="up", a="1"}`, 2, 2}, {`{__name__="up", a="2"}`, 4, 4}},
		},
		{
			name: "a blank entry ends the list",
			list: []unittest.InputSeries{{Series: "up", Values: "1"}, {}, {Series: "down", Values: "1"}},
			want: []read{{`{__name__="up"}`, 1, 1}},
		},
		{
			name: "a comment entry ends the list",
			list: []unittest.InputSeries{{Series: "up", Values: "1"}, {Series: "# off", Values: ""}, {Series: "down", Values: "1"}},
			want: []read{{`{__name__="up"}`, 1, 1}},
		},
		{
			name: "a comment line in the values ends the list",
			list: []unittest.InputSeries{{Series: "up", Values: "1 2\n# the rest\n3"}, {Series: "down", Values: "1"}},
			want: []read{{`{__name__="up"}`, 2, 2}},
		},
		{
			name: "a blank line in the values ends the list",
			list: []unittest.InputSeries{{Series: "up", Values: "1 2\n\ndown 1"}, {Series: "down", Values: "1"}},
			want: []read{{`{__name__="up"}`, 2, 2}},
		},
		{
			name: "lines of one entry are series of their own",
			list: []unittest.InputSeries{{Series: "up", Values: "1 2\ndown 1"}},
			want: []read{{`{__name__="up"}`, 2, 2}, {`{__name__="down"}`, 1, 1}},
		},
		{
			name: "values in the series field",
			list: []unittest.InputSeries{{Series: "up 1 2", Values: "3"}},
			want: []read{{`{__name__="up"}`, 3, 3}},
		},
		{
			name: "a later definition replaces an earlier one",
			list: []unittest.InputSeries{{Series: "up", Values: "1 2 3"}, {Series: "down", Values: "1"}, {Series: "up", Values: "5"}},
			want: []read{{`{__name__="up"}`, 1, 1}, {`{__name__="down"}`, 1, 1}},
		},
		{
			name: "omitted values count as values, not samples",
			list: []unittest.InputSeries{{Series: "up", Values: "1 _x3 2 _"}},
			want: []read{{`{__name__="up"}`, 2, 6}},
		},
		{
			name:  "samples after until are dropped",
			list:  []unittest.InputSeries{{Series: "up", Values: "1x9"}},
			until: 3 * time.Minute,
			want:  []read{{`{__name__="up"}`, 4, 10}},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			o := unittest.InputOptions{Start: start, Step: time.Minute}
			if c.until > 0 {
				o.Until = start.Add(c.until)
			}
			got, err := readAll(t, c.list, o)
			require.NoError(t, err)
			require.Equal(t, c.want, got)
		})
	}
}

// A series that does not parse is reported at its entry's field, its column
// counted in that field's text as written.
func TestReadInputSeriesErrors(t *testing.T) {
	t.Parallel()
	type wantErr struct {
		index int
		field string
		msg   string
	}
	cases := []struct {
		name string
		list []unittest.InputSeries
		want []wantErr
	}{
		{
			name: "bad value",
			list: []unittest.InputSeries{{Series: `up{job="a"}`, Values: "1 2 x3"}},
			want: []wantErr{{0, "values", `input_series[0]: values "1 2 x3", column 5: unexpected "x"`}},
		},
		{
			// The column counts the leading spaces, as the quoted text has them.
			name: "bad value after leading spaces",
			list: []unittest.InputSeries{{Series: `up{job="a"}`, Values: "  1 2 x3"}},
			want: []wantErr{{0, "values", `input_series[0]: values "  1 2 x3", column 7: unexpected "x"`}},
		},
		{
			name: "bad metric",
			list: []unittest.InputSeries{{Series: "up", Values: "1"}, {Series: `foo{=}`, Values: "1"}},
			want: []wantErr{{1, "series", `input_series[1]: series "foo{=}", column 5: unexpected "=" in label set, expected identifier or "}"`}},
		},
		{
			name: "every bad series, in order",
			list: []unittest.InputSeries{{Series: "up", Values: "1 +"}, {Series: "ok", Values: "1"}, {Series: "down", Values: "foo"}},
			want: []wantErr{
				{0, "values", `input_series[0]: values "1 +", column 4: unexpected end of input in series values`},
				{2, "values", `input_series[2]: values "foo", column 1: unexpected identifier "foo" in series values, expected number or "stale"`},
			},
		},
		{
			name: "none after a comment line, which promtool never reads",
			list: []unittest.InputSeries{{Series: "up", Values: "1 +"}, {Series: "#", Values: ""}, {Series: "down", Values: "foo"}},
			want: []wantErr{{0, "values", `input_series[0]: values "1 +", column 4: unexpected end of input in series values`}},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			got, err := readAll(t, c.list, unittest.InputOptions{Start: time.Unix(0, 0), Step: time.Minute})
			require.Error(t, err)
			require.Nil(t, got)
			var errs unittest.InputErrors
			require.ErrorAs(t, err, &errs)
			var have []wantErr
			for _, ie := range errs {
				have = append(have, wantErr{ie.Index, ie.Field, ie.Error()})
			}
			require.Equal(t, c.want, have)
		})
	}
}

// The budgets count what promtool loads: the values, and values written
// after the metric in the series field; never the metric's own text.
func TestCheckInputLimits(t *testing.T) {
	t.Parallel()
	three := []unittest.InputSeries{{Series: "a", Values: "1"}, {Series: "b", Values: "1"}, {Series: "c", Values: "1"}}
	cases := []struct {
		name string
		list []unittest.InputSeries
		lim  unittest.InputLimits
		want *budget.ExceededError // nil: within the budgets
	}{
		{name: "within", list: three, lim: unittest.InputLimits{MaxSeries: 3, MaxSamples: 3}},
		{name: "too many series", list: three, lim: unittest.InputLimits{MaxSeries: 2},
			want: &budget.ExceededError{Budget: budget.InputSeries, Limit: 2, Asked: 3, Subject: "3 input series"}},
		{name: "too many samples", list: three, lim: unittest.InputLimits{MaxSamples: 2},
			want: &budget.ExceededError{Budget: budget.InputSamples, Limit: 2, Asked: 3, Subject: "input series expand to 3 samples"}},
		{
			name: "repetitions in label values are not values",
			list: []unittest.InputSeries{{Series: `up{instance="x1000000"}`, Values: "1 2 3"}},
			lim:  unittest.InputLimits{MaxSamples: 3},
		},
		{
			name: "words of the metric are not values",
			list: []unittest.InputSeries{{Series: `up{job="a b c"}`, Values: "1 2"}},
			lim:  unittest.InputLimits{MaxSamples: 2},
		},
		{
			name: "values in the series field are",
			list: []unittest.InputSeries{{Series: `up{job="a"} 1 2`, Values: "3x2"}},
			lim:  unittest.InputLimits{MaxSamples: 4},
			want: &budget.ExceededError{Budget: budget.InputSamples, Limit: 4, Asked: 5, Subject: "input series expand to 5 samples"},
		},
		{
			name: "values after a bare metric are",
			list: []unittest.InputSeries{{Series: "up 1 2", Values: ""}},
			lim:  unittest.InputLimits{MaxSamples: 1},
			want: &budget.ExceededError{Budget: budget.InputSamples, Limit: 1, Asked: 2, Subject: "input series expand to 2 samples"},
		},
		{
			name: "zero limits are the defaults",
			list: []unittest.InputSeries{{Series: "up", Values: "1x100000"}},
		},
		{
			name: "the default series limit",
			list: make([]unittest.InputSeries, budget.DefaultInputSeries+1),
			want: &budget.ExceededError{Budget: budget.InputSeries, Limit: budget.DefaultInputSeries, Asked: budget.DefaultInputSeries + 1,
				Subject: "100001 input series"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			err := unittest.CheckInputLimits(c.list, c.lim)
			if c.want == nil {
				require.NoError(t, err)
				return
			}
			var errs unittest.InputErrors
			require.ErrorAs(t, err, &errs)
			require.Len(t, errs, 1)
			require.Equal(t, -1, errs[0].Index, "a budget is the list's")
			var ee *budget.ExceededError
			require.True(t, errors.As(err, &ee), "%v", err)
			require.Equal(t, c.want, ee)
			require.NotContains(t, err.Error(), "--", "the library names no flag")
		})
	}
}
