package rulefile_test

import (
	"errors"
	"testing"

	"github.com/prometheus/prometheus/promql/parser"
	"github.com/stretchr/testify/require"

	"github.com/gotk-rules/gotk-rules/budget"
	"github.com/gotk-rules/gotk-rules/guard"
	"github.com/gotk-rules/gotk-rules/rulefile"
)

func TestGuardLimits(t *testing.T) {
	p := guard.NewParser(parser.NewParser(parser.Options{}), guard.Limits{MaxSteps: 1000}, guard.Eval{})
	l := rulefile.NewLoader(p, false)
	for _, tc := range []struct {
		name, content string
		// want is the one error, "" for none.
		want string
	}{
		{"expression", "groups:\n- name: g\n  rules:\n  - record: r\n    expr: max_over_time(x[1h:1s])\n",
			`r.yml:5:11: group "g", rule 1, "r": could not parse expression: 1:15: subquery x[1h:1s] takes 3601 query steps per evaluation, over the limit of 1000`},
		{"expression within", "groups:\n- name: g\n  rules:\n  - record: r\n    expr: max_over_time(x[10m:1s])\n", ""},
		{"template query", "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: x\n    labels:\n      ok: '{{ query \"x\" }}'\n    annotations:\n      a: 'x {{ with query \"max_over_time(x[1h:1s])\" }}{{ . | first | value }}{{ end }}'\n",
			`r.yml:9:7: group "g", rule "A", annotation "a": query "max_over_time(x[1h:1s])": 1:15: subquery x[1h:1s] takes 3601 query steps per evaluation, over the limit of 1000`},
		{"template query in a label", "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: x\n    labels:\n      l: '{{ query \"max_over_time(x[1h:1s])\" | first | value }}'\n",
			`r.yml:7:7: group "g", rule "A", label "l": query "max_over_time(x[1h:1s])": 1:15: subquery x[1h:1s] takes 3601 query steps per evaluation, over the limit of 1000`},
		// Built when the template runs: checked then.
		{"template query built", "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: x\n    annotations:\n      a: '{{ query (printf \"max_over_time(x[1h:%s])\" \"1s\") }}'\n", ""},
		// Invalid PromQL in a template is the expansion's error, as in Prometheus.
		{"template query invalid", "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: x\n    annotations:\n      a: '{{ query \"x[\" }}'\n", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, errs := l.ParseContent("r.yml", []byte(tc.content))
			if tc.want == "" {
				require.Empty(t, errs)
				return
			}
			require.Len(t, errs, 1, "%v", errs)
			require.Equal(t, tc.want, errs[0].Error())
			ee, ok := errors.AsType[*budget.ExceededError](errs[0])
			require.True(t, ok)
			require.Equal(t, budget.QuerySteps, ee.Budget)
			require.Equal(t, tc.want+" (raise it)", budget.Explain(errs[0], func(error) string { return " (raise it)" }))
		})
	}
}
