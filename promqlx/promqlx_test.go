package promqlx_test

import (
	"strings"
	"testing"

	"github.com/prometheus/prometheus/promql/parser"
	"github.com/stretchr/testify/require"

	"github.com/gotk-rules/gotk-rules/evaluator"
	"github.com/gotk-rules/gotk-rules/promqlx"
)

var p = evaluator.NewEngine(evaluator.Options{}).Parser()

func parse(t *testing.T, q string) parser.Expr {
	t.Helper()
	e, err := p.ParseExpr(q)
	require.NoError(t, err, q)
	return e
}

func TestOutputLabels(t *testing.T) {
	cases := []struct {
		expr  string
		fixed bool
		names []string // fixed: the possible labels; otherwise: the ones surely absent
	}{
		{`up`, false, nil},
		{`sum by (job) (up)`, true, []string{"job"}},
		{`max(x) by (namespace, name, kind)`, true, []string{"kind", "name", "namespace"}},
		{`sum(up)`, true, nil},
		{`sum without (instance) (up)`, false, []string{"instance"}},
		{`sum by (job) (sum without (job) (up))`, true, nil},
		{`topk(3, sum by (job) (up))`, true, []string{"job"}},
		{`count_values("value", sum by (job) (up))`, true, []string{"value"}},
		{`count_values by (job) ("value", up)`, true, []string{"job", "value"}},
		{`rate(x[5m])`, false, nil},
		{`label_replace(sum by (a) (x), "b", "$1", "a", "(.*)")`, true, []string{"a", "b"}},
		{`histogram_quantile(0.9, sum by (le, job) (rate(x_bucket[5m])))`, true, []string{"job"}},
		{`absent(up{job="a", instance=~"b"})`, true, []string{"job"}},
		{`vector(1)`, true, nil},
		{`sum by (a) (x) > 1`, true, []string{"a"}},
		{`1 < sum by (a) (x)`, true, []string{"a"}},
		{`sum by (a, b) (x) / on(a) sum by (a, b) (y)`, true, []string{"a"}},
		{`sum by (a, b) (x) / ignoring(b) sum by (a) (y)`, true, []string{"a"}},
		{`x / ignoring(b) y`, false, []string{"b"}},
		{`sum by (a, b) (x) * on(a) group_left(c) y`, true, []string{"a", "b", "c"}},
		{`sum by (a) (x) and on(a) sum by (a, b) (y)`, true, []string{"a"}},
		{`sum by (a) (x) or sum by (b) (y)`, true, []string{"a", "b"}},
		{`sum by (a) (x) or y`, false, nil},
		{`sum without (a, b) (x) or sum without (b) (y)`, false, []string{"b"}},
		{`(sum by (a) (x))`, true, []string{"a"}},
		{`max_over_time(sum by (a) (x)[5m:])`, true, []string{"a"}},
		{`scalar(x)`, true, nil},
		{`-sum by (a) (x)`, true, []string{"a"}},
	}
	for _, tc := range cases {
		t.Run(tc.expr, func(t *testing.T) {
			got := promqlx.OutputLabels(parse(t, tc.expr))
			require.Equal(t, tc.fixed, got.Fixed)
			want := tc.names
			if want == nil {
				want = []string{}
			}
			require.Equal(t, want, append([]string{}, got.List()...))
		})
	}
}

func TestLacks(t *testing.T) {
	l := promqlx.OutputLabels(parse(t, `max by (namespace) (x)`))
	require.True(t, l.Lacks("name"))
	require.False(t, l.Lacks("namespace"))
	require.False(t, l.Lacks("__name__"))
	require.Equal(t, "max by (namespace)", l.By)
	w := promqlx.OutputLabels(parse(t, `sum without (pod) (x)`))
	require.True(t, w.Lacks("pod"))
	require.False(t, w.Lacks("namespace"))
}

func TestEffects(t *testing.T) {
	// The effect on the whole expression of the selector named x being empty.
	cases := []struct {
		expr string
		want promqlx.Effect
	}{
		{`x`, promqlx.Empties},
		{`sum by (a) (x) > 1`, promqlx.Empties},
		{`y + on(a) x * 2 == 1`, promqlx.Empties},
		{`y and x`, promqlx.Empties},
		{`y unless x`, promqlx.NoEffect},
		{`x unless y`, promqlx.Empties},
		{`y or x`, promqlx.NoEffect},
		{`absent(x)`, promqlx.Fills},
		{`absent(sum(x) > 1)`, promqlx.Fills},
		{`absent(y or x)`, promqlx.NoEffect},
		{`y > scalar(x)`, promqlx.NoEffect},
		{`rate(x[5m]) > 0`, promqlx.Empties},
		{`label_replace(x, "a", "b", "c", "d")`, promqlx.Empties},
		{`count(max_over_time(x[5m:1m])) > 0`, promqlx.Empties},
		{`vector(1) + count(x)`, promqlx.Empties},
		{`topk(scalar(x), y)`, promqlx.NoEffect},
	}
	for _, tc := range cases {
		t.Run(tc.expr, func(t *testing.T) {
			e := parse(t, tc.expr)
			effects := promqlx.Effects(e)
			var got []promqlx.Effect
			for _, s := range promqlx.Selectors(e) {
				if s.Name == "x" {
					got = append(got, effects[s.VectorSelector])
				}
			}
			require.Equal(t, []promqlx.Effect{tc.want}, got)
		})
	}
}

func TestFilters(t *testing.T) {
	recorded := func(name string) bool { return name == "job:errors:above" }
	cases := []struct {
		expr string
		want bool
	}{
		{`up == 0`, true},
		{`up == bool 0`, false},
		{`up`, false},
		{`sum by (job) (rate(x[5m]))`, false},
		{`sum by (job) (rate(x[5m]) > 0)`, true},
		{`x and y`, true},
		{`x unless y`, true},
		{`x or y`, false},
		{`(x > 1) or (y > 1)`, true},
		{`(x > 1) or y`, false},
		{`absent(up)`, true},
		{`label_replace(up == 0, "a", "b", "c", "d")`, true},
		{`ALERTS{alertstate="firing"}`, true},
		{`gotk_resource_info{ready="False"}`, true},
		{`kube_pod_info`, false},
		{`kube_pod_info{node=~".*"}`, false},
		{`job:errors:above`, true},
		{`(x > 1) * 100`, true},
		{`vector(1)`, false},
	}
	for _, tc := range cases {
		t.Run(tc.expr, func(t *testing.T) {
			require.Equal(t, tc.want, promqlx.Filters(parse(t, tc.expr), recorded))
		})
	}
}

func TestPositions(t *testing.T) {
	q := `sum by (job) (rate(http_requests_total{code=~"5..", "job" = "api"}[5m])) / on(job) group_left(team) max(x) by (job, team)`
	e := parse(t, q)
	sels := promqlx.Selectors(e)
	vs := sels[0].VectorSelector
	at := func(off int) string { return q[off:] }
	require.True(t, strings.HasPrefix(at(int(promqlx.MatcherPos(q, vs, promqlx.Matcher(vs, "code")))), `code=~`))
	require.True(t, strings.HasPrefix(at(int(promqlx.MatcherValuePos(q, vs, promqlx.Matcher(vs, "code")))), `"5.."`))
	require.True(t, strings.HasPrefix(at(int(promqlx.MatcherPos(q, vs, promqlx.Matcher(vs, "job")))), `"job" = "api"`))
	require.Equal(t, int(vs.PosRange.Start), int(promqlx.MatcherPos(q, vs, promqlx.Matcher(vs, "__name__"))))

	b := e.(*parser.BinaryExpr)
	require.True(t, strings.HasPrefix(at(int(promqlx.OperatorPos(q, b))), `/ on(job)`))
	require.True(t, strings.HasPrefix(at(int(promqlx.ModifierPos(q, b, false))), `on(job)`))
	require.True(t, strings.HasPrefix(at(int(promqlx.ModifierPos(q, b, true))), `group_left(team)`))

	agg := b.RHS.(*parser.AggregateExpr)
	kw, lab, ok := promqlx.GroupingPos(q, agg, "team")
	require.True(t, ok)
	require.True(t, strings.HasPrefix(at(int(kw)), `by (job, team)`))
	require.True(t, strings.HasPrefix(at(int(lab)), `team)`))
	lhs := b.LHS.(*parser.AggregateExpr)
	kw, lab, ok = promqlx.GroupingPos(q, lhs, "job")
	require.True(t, ok)
	require.True(t, strings.HasPrefix(at(int(kw)), `by (job) (rate`))
	require.True(t, strings.HasPrefix(at(int(lab)), `job) (rate`))
	_, _, ok = promqlx.GroupingPos(q, parse(t, `sum(x)`).(*parser.AggregateExpr), "job")
	require.False(t, ok)

	ms := parse(t, `rate(x{a="b"} [5m])`).(*parser.Call).Args[0].(*parser.MatrixSelector)
	require.Equal(t, 14, int(promqlx.RangePos(`rate(x{a="b"} [5m])`, ms)))
}

func TestSelectsAny(t *testing.T) {
	vs := parse(t, `x{status=~"False|Deleted", type!="Stalled"}`).(*parser.VectorSelector)
	require.True(t, promqlx.SelectsAny(vs, "status", "Deleted"))
	require.False(t, promqlx.SelectsAny(vs, "status", "True", "Unknown"))
	require.True(t, promqlx.SelectsAny(vs, "type", "Ready"))
	require.False(t, promqlx.SelectsAny(vs, "type", "Stalled"))
	require.Equal(t, "x", promqlx.MetricName(vs))
	require.Equal(t, "y", promqlx.MetricName(parse(t, `{__name__="y"}`).(*parser.VectorSelector)))
}
