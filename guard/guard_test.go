package guard_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	promtemplate "github.com/prometheus/prometheus/template"
	"github.com/stretchr/testify/require"

	"github.com/gotk-rules/gotk-rules/budget"
	"github.com/gotk-rules/gotk-rules/guard"
)

var upstream = parser.NewParser(parser.Options{ExperimentalDurationExpr: true, EnableExperimentalFunctions: true})

// hit returns the budget err exceeded, or "" when it is no limit hit.
func hit(t *testing.T, err error) budget.Name {
	t.Helper()
	if err == nil {
		return ""
	}
	ee, ok := errors.AsType[*budget.ExceededError](err)
	require.True(t, ok, "not a limit hit: %v", err)
	require.True(t, guard.IsLimit(err))
	return ee.Budget
}

func TestCheckExpr(t *testing.T) {
	small := guard.Limits{MaxExprBytes: 100, MaxDepth: 5, MaxOperators: 4}
	for _, tc := range []struct {
		name, src string
		want      budget.Name
		pos       string
	}{
		{"plain", `sum by (job) (rate(http_requests_total{code=~"5.."}[5m]))`, "", ""},
		{"bytes", strings.Repeat("x", 101), budget.ExprBytes, "1:101: "},
		{"bytes at the limit", strings.Repeat("x", 100), "", ""},
		{"depth", "((((((x))))))", budget.ExprDepth, "1:6: "},
		{"depth at the limit", "(((((x)))))", "", ""},
		{"depth on a later line", "x +\n  abs(abs(abs(abs(abs(abs(x))))))", budget.ExprDepth, "2:26: "},
		{"brackets in strings do not count", `x{a="((((((((("}`, "", ""},
		{"brackets in comments do not count", "x # ((((((((\n", "", ""},
		{"escaped quote", `x{a="\"(((((((("}`, "", ""},
		{"operators", "a or b or c and d unless e or f", budget.ExprOperators, "1:28: "},
		{"operators at the limit", "a + b - c * d / e", "", ""},
		{"comparison counts once", "a >= b <= c != d == e", "", ""},
		{"unary minus", "- - - - - x", budget.ExprOperators, "1:9: "},
		{"keywords ignore case", "a OR b Or c oR d or e Or f", budget.ExprOperators, "1:23: "},
		{"label names are not operators", `x{order="a", and_b="c"}`, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := small.CheckExpr(tc.src)
			require.Equal(t, tc.want, hit(t, err), "%v", err)
			if tc.pos != "" {
				require.True(t, strings.HasPrefix(err.Error(), tc.pos), "%s: want %s", err.Error(), tc.pos)
			}
		})
	}
}

func TestCheckExprDefaults(t *testing.T) {
	require.NoError(t, guard.CheckExpr(strings.Repeat("abs(", 999)+"x"+strings.Repeat(")", 999)))
	require.Equal(t, budget.ExprDepth, hit(t, guard.CheckExpr(strings.Repeat("(", 1001)+"x"+strings.Repeat(")", 1001))))
	require.Equal(t, budget.ExprOperators, hit(t, guard.CheckExpr(strings.Repeat("x or ", 2001)+"x")))
	require.Equal(t, budget.ExprBytes, hit(t, guard.CheckExpr(`x{a="`+strings.Repeat("a", 1<<20)+`"}`)))
}

func TestCheckAST(t *testing.T) {
	l := guard.Limits{MaxSteps: 1000, MaxDepth: 6, MaxLabelGrowth: 8}
	for _, tc := range []struct {
		name, src string
		ev        guard.Eval
		want      budget.Name
	}{
		{"instant", "x", guard.Eval{}, ""},
		{"subquery", "max_over_time(x[1000s:1s])", guard.Eval{}, budget.QuerySteps},
		{"subquery at the limit", "max_over_time(x[999s:1s])", guard.Eval{}, ""},
		{"huge subquery", "max_over_time(x[100y:1ms])", guard.Eval{}, budget.QuerySteps},
		{"subquery without step", "max_over_time(x[1000m:])", guard.Eval{SubqueryStep: time.Minute}, budget.QuerySteps},
		{"subquery without step, longer interval", "max_over_time(x[1000m:])", guard.Eval{SubqueryStep: 2 * time.Minute}, ""},
		{"subqueries add up", "max_over_time(x[600s:1s]) + min_over_time(x[600s:1s])", guard.Eval{}, budget.QuerySteps},
		{"nested subquery spans its parent", "max_over_time(max_over_time(x[100s:1s])[900s:1s])", guard.Eval{}, budget.QuerySteps},
		{"range query", "x", guard.Eval{Range: 1000 * time.Second, Step: time.Second}, budget.QuerySteps},
		{"range query spans subqueries", "max_over_time(x[700s:1s])", guard.Eval{Range: 400 * time.Second, Step: 100 * time.Second}, budget.QuerySteps},
		{"duration expression", "max_over_time(x[1000s*2:1s])", guard.Eval{}, budget.QuerySteps},
		{"depth", "abs(abs(abs(abs(abs(abs(x))))))", guard.Eval{}, budget.ExprDepth},
		{"operator chain is deep", "a or b or c or d or e or f or g", guard.Eval{}, budget.ExprDepth},
		{"depth at the limit", "abs(abs(abs(abs(abs(x)))))", guard.Eval{}, ""},
		{"label_join once", `label_join(x, "a", ",", "b", "c", "d")`, guard.Eval{}, ""},
		{"label_join doubling", `label_join(label_join(label_join(label_join(x, "a", "", "a", "a"), "a", "", "a", "a"), "a", "", "a", "a"), "a", "", "a", "a")`, guard.Eval{}, budget.LabelGrowth},
		{"label_replace references", `label_replace(label_replace(x, "a", "$1$1$1", "a", "(.*)"), "a", "$1$1$1", "a", "(.*)")`, guard.Eval{}, budget.LabelGrowth},
		{"label_replace once", `label_replace(x, "a", "$1-$2", "a", "(.*)-(.*)")`, guard.Eval{}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			expr, err := upstream.ParseExpr(tc.src)
			require.NoError(t, err)
			err = l.CheckAST(expr, tc.src, tc.ev)
			require.Equal(t, tc.want, hit(t, err), "%v", err)
			if err != nil {
				require.Regexp(t, `^\d+:\d+: `, err.Error())
			}
		})
	}
}

func TestParser(t *testing.T) {
	p := guard.NewParser(upstream, guard.Limits{MaxSteps: 100}, guard.Eval{SubqueryStep: time.Minute})
	_, err := p.ParseExpr("max_over_time(x[1h:])")
	require.NoError(t, err)
	_, err = p.ParseExpr("max_over_time(x[2h:])")
	require.Equal(t, budget.QuerySteps, hit(t, err))
	require.EqualError(t, err, "1:15: subquery x[2h:] takes 121 query steps per evaluation, over the limit of 100")
	_, err = p.ParseExpr("max_over_time(x[")
	require.Error(t, err)
	require.False(t, guard.IsLimit(err), "a parse error is no limit")
	// The inner parser's other methods are kept.
	_, err = p.ParseMetric(`x{a="b"}`)
	require.NoError(t, err)
}

func TestLimitsSet(t *testing.T) {
	l, err := guard.Parse([]string{"query-steps=10", "expr-bytes=2K", "template-time=3s", "label-bytes=1M"})
	require.NoError(t, err)
	require.Equal(t, int64(10), l.MaxSteps)
	require.Equal(t, 2048, l.MaxExprBytes)
	require.Equal(t, 3*time.Second, l.TemplateTimeout)
	require.Equal(t, 1<<20, l.MaxLabelBytes)
	require.Equal(t, 4<<20, l.MaxLabelSetBytes)
	require.Equal(t, guard.Default().MaxDepth, l.MaxDepth)
	for _, bad := range []string{"query-steps", "query-steps=0", "query-steps=-1", "nope=1", "template-time=x", "expr-depth=1.5"} {
		_, err := guard.Parse([]string{bad})
		require.Error(t, err, bad)
	}
	for _, k := range guard.Keys() {
		_, err := guard.Parse([]string{k + "=5"})
		if k == "template-time" {
			require.Error(t, err)
			continue
		}
		require.NoError(t, err, k)
	}
	require.Equal(t, "query-steps", guard.Key(budget.QuerySteps))
	require.Empty(t, guard.Key(budget.InputSeries))
}

// expander builds Prometheus' expander of text, whose functions the guard
// runs.
func expand(t *testing.T, l guard.Limits, text string) (string, error) {
	t.Helper()
	data := promtemplate.AlertTemplateData(map[string]string{"instance": "a:9090"}, nil, "", promqlSample(3))
	te := promtemplate.NewTemplateExpander(context.Background(), text, "t", data, 0, nil, nil, nil)
	funcs := guard.TemplateFuncs(te)
	require.NotEmpty(t, funcs, "Prometheus' expander no longer has its funcMap field")
	return l.ExpandTemplate(context.Background(), "t", text, data, funcs)
}

func TestExpandTemplate(t *testing.T) {
	l := guard.Limits{TemplateMaxSteps: 100, TemplateMaxBytes: 1000, TemplateTimeout: time.Minute}
	for _, tc := range []struct {
		name, text, out string
		want            budget.Name
	}{
		{"plain", "{{ $labels := .Labels }}{{ $labels.instance | stripPort }} is {{ .Value }}", "a is 3", ""},
		{"builtins", `{{ printf "%s-%d" "a" 1 }}{{ len "abc" }}{{ if eq 1 1 }}y{{ end }}`, "a-13y", ""},
		{"missing key is zero", "{{ .Labels.nope }}.", ".", ""},
		{"range within steps", "{{ range 10 }}x{{ end }}", "xxxxxxxxxx", ""},
		{"range over steps", "{{ range 300000000 }}{{ end }}", "", budget.TemplateSteps},
		{"nested ranges", "{{ range 20 }}{{ range 20 }}{{ end }}{{ end }}", "", budget.TemplateSteps},
		{"recursive template", `{{ define "a" }}{{ template "a" . }}{{ template "a" . }}{{ end }}{{ template "a" . }}`, "", budget.TemplateSteps},
		{"function calls", "{{ range 60 }}{{ toUpper \"a\" }}{{ end }}", "", budget.TemplateSteps},
		{"output", "{{ range 90 }}xxxxxxxxxxxxxxxxxxxx{{ end }}", "", budget.TemplateBytes},
		{"reReplaceAll growth", `{{ "ab" | reReplaceAll "" "xxxxxxxxxx" | reReplaceAll "" "xxxxxxxxxx" | reReplaceAll "" "xxxxxxxxxx" }}`, "", budget.TemplateBytes},
		{"reReplaceAll within", `{{ "ab" | reReplaceAll "a" "$0$0" }}`, "aab", ""},
		{"printf width", `{{ printf "%0100000000d" 1 }}`, "", budget.TemplateBytes},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := expand(t, l, tc.text)
			require.Equal(t, tc.want, hit(t, err), "%v", err)
			if tc.want == "" {
				require.Equal(t, tc.out, out)
			}
		})
	}
}

// TestExpandTemplateAsPrometheus checks results and errors are Prometheus'
// own when no limit is hit.
func TestExpandTemplateAsPrometheus(t *testing.T) {
	for _, text := range []string{
		"{{ humanize 1234567 }} {{ humanizeDuration 3600 }} {{ title \"ab cd\" }}",
		"{{ .Labels.instance | stripDomain }} {{ 1.5 | humanizePercentage }}",
		"{{ range $i, $v := .Labels }}{{ $i }}={{ $v }}{{ end }}",
		"{{ nope }}",
		"{{ .Value | toTime }}",
		"{{ first (query \"x\") }}",
		"{{ break }}",
		"{{ humanize \"x\" }}",
	} {
		data := promtemplate.AlertTemplateData(map[string]string{"instance": "a.b:9090"}, nil, "", promqlSample(3))
		te := promtemplate.NewTemplateExpander(context.Background(), text, "t", data, 0, nil, nil, nil)
		want, wantErr := te.Expand()
		got, gotErr := guard.Default().ExpandTemplate(context.Background(), "t", text, data, guard.TemplateFuncs(te))
		require.Equal(t, want, got, text)
		if wantErr == nil {
			require.NoError(t, gotErr, text)
		} else {
			require.Error(t, gotErr, text)
			require.Equal(t, wantErr.Error(), gotErr.Error(), text)
		}
	}
}

func TestExpandTemplateTime(t *testing.T) {
	l := guard.Limits{TemplateMaxSteps: 1 << 40, TemplateTimeout: 20 * time.Millisecond}
	_, err := expand(t, l, "{{ range 1000000000 }}{{ end }}")
	require.Equal(t, budget.TemplateTime, hit(t, err))
}

func TestExpandTemplateContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	l := guard.Limits{TemplateMaxSteps: 1 << 40}
	_, err := l.ExpandTemplate(ctx, "t", "{{ range 1000000000 }}{{ end }}", nil, nil)
	require.ErrorIs(t, err, context.Canceled)
}

func promqlSample(v float64) promql.Sample { return promql.Sample{F: v} }

func TestCheckLabels(t *testing.T) {
	l := guard.Limits{MaxLabelBytes: 10, MaxLabelSetBytes: 100, MaxExprBytes: 100}
	require.NoError(t, l.CheckLabels(`x{a="0123456789", b='0123456789', c=`+"`0123456789`}"))
	err := l.CheckLabels(`x{a="b", c="01234567890"}`)
	require.Equal(t, budget.LabelBytes, hit(t, err))
	require.EqualError(t, err, "1:12: string of 11 label bytes, over the limit of 10")
	require.Equal(t, budget.LabelBytes, hit(t, l.CheckLabels(strings.Repeat("x", 101))))

	require.NoError(t, guard.CheckHardLabels(`x{a="`+strings.Repeat("a", 1<<24)+`"}`))
	err = guard.CheckHardLabels(`x{a="` + strings.Repeat("a", 1<<24+1) + `"}`)
	require.EqualError(t, err, "1:5: string of 16777217 bytes, longer than the 16777216 bytes Prometheus can hold in a label")
	require.False(t, guard.IsLimit(err), "no flag raises it")

	// The parser checks metrics and series descriptions too.
	p := guard.NewParser(upstream, l, guard.Eval{})
	_, err = p.ParseMetric(`x{a="01234567890"}`)
	require.Equal(t, budget.LabelBytes, hit(t, err))
	_, _, err = p.ParseSeriesDesc(`x{a="01234567890"} 1 2`)
	require.Equal(t, budget.LabelBytes, hit(t, err))
	_, err = p.ParseExpr(`label_replace(x, "a", "01234567890", "b", ".*")`)
	require.Equal(t, budget.LabelBytes, hit(t, err))
	// Never more than Prometheus can hold.
	require.Equal(t, guard.HardMaxLabelBytes, guard.Limits{MaxLabelBytes: 1 << 30}.WithDefaults().MaxLabelBytes)
}

func TestCheckTemplate(t *testing.T) {
	l := guard.Limits{TemplateMaxSteps: 1000}
	for _, tc := range []struct {
		text string
		want budget.Name
	}{
		{"{{ range 1000 }}x{{ end }}", ""},
		{"{{ range 1001 }}x{{ end }}", budget.TemplateSteps},
		{"{{ range 10 }}{{ range 10 }}{{ range 10 }}{{ end }}{{ end }}{{ end }}", ""},
		{"{{ range 10 }}{{ range 10 }}{{ range 11 }}{{ end }}{{ end }}{{ end }}", budget.TemplateSteps},
		{"{{ if true }}{{ with 1 }}{{ range 5000 }}{{ end }}{{ end }}{{ end }}", budget.TemplateSteps},
		{`{{ define "a" }}{{ range 5000 }}{{ end }}{{ end }}`, budget.TemplateSteps},
		{"{{ range .Labels }}{{ range 999 }}{{ end }}{{ end }}", ""}, // counted when it runs
		{"{{ range 5000 }}{{ end", ""},                               // the expansion's error
		{"no actions", ""},
	} {
		err := l.CheckTemplate(tc.text)
		require.Equal(t, tc.want, hit(t, err), "%s: %v", tc.text, err)
	}
}
