package coverage

import (
	"bytes"
	"context"
	"encoding/xml"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gotk-rules/gotk-rules/evaluator"
	"github.com/gotk-rules/gotk-rules/unittest"
)

// state is a rule's coverage in a table: the booleans in Rule's order.
type state struct {
	evaluated, returned, pending, firing, resolved, asserted, covered bool
}

func stateOf(r Rule) state {
	return state{r.Evaluated, r.ReturnedSamples, r.Pending, r.Firing, r.Resolved, r.Asserted, r.Covered}
}

// run runs files with coverage, fast or exact, and returns the report.
func run(t *testing.T, exact bool, files ...string) *Report {
	t.Helper()
	eng := evaluator.NewEngine(evaluator.Options{})
	col := NewCollector()
	runner, err := unittest.NewRunner(unittest.Options{Engine: eng, Exact: exact, AfterEval: col.AfterEval})
	require.NoError(t, err)
	res := runner.Run(files...)
	require.Equal(t, unittest.ExitPassed, res.ExitCode())
	rep, err := col.Report(context.Background(), res, Options{Engine: eng, Exact: exact})
	require.NoError(t, err)
	return rep
}

func TestReportRules(t *testing.T) {
	t.Parallel()
	rules := filepath.Join("testdata", "rules.yml")
	flux := filepath.Join("testdata", "flux.yml")
	tests := []struct {
		file, name string
		line       int
		want       state
		missing    string
	}{
		{rules, "job:up:sum", 4, state{evaluated: true, returned: true, asserted: true, covered: true}, ""},
		{rules, "job:missing:sum", 6, state{evaluated: true}, "never produced a series; no promql_expr_test reads its series"},
		// exp_samples: [] checks absence only.
		{rules, "job:up:unread", 8, state{evaluated: true, returned: true}, "no promql_expr_test reads its series"},
		{rules, "InstanceDown", 12, state{true, true, true, true, true, true, true}, ""},
		// Fires and resolves, asserted only with exp_alerts: [].
		{rules, "AbsenceOnly", 17, state{evaluated: true, returned: true, firing: true, resolved: true}, "asserted only absent"},
		{rules, "NeverPending", 21, state{evaluated: true}, "never returned samples; no test asserts it firing"},
		{rules, "PendingOnly", 24, state{evaluated: true, returned: true, pending: true}, "never fired (pending, never for 1h)"},
		// Asserted by a promql_expr_test reading ALERTS{alertname=...}.
		{rules, "ViaALERTS", 27, state{evaluated: true, returned: true, firing: true, resolved: true, asserted: true, covered: true}, ""},
		// The scenario's expectations: a firing range asserts, never does not.
		{flux, "ReconciliationFailure", 4, state{true, true, true, true, true, true, true}, ""},
		{flux, "SuspendedTooLong", 9, state{evaluated: true}, "never returned samples; asserted only absent"},
	}
	for _, exact := range []bool{false, true} {
		rep := run(t, exact, filepath.Join("testdata", "cover_test.yml"), filepath.Join("testdata", "failing.scenario.yml"))
		require.Len(t, rep.Rules, len(tests))
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				var got *Rule
				for i := range rep.Rules {
					if rep.Rules[i].Name == tt.name && rep.Rules[i].File == tt.file {
						got = &rep.Rules[i]
					}
				}
				require.NotNil(t, got, "exact %v", exact)
				require.Equal(t, tt.want, stateOf(*got), "exact %v", exact)
				require.Equal(t, tt.line, got.Line)
				require.Contains(t, strings.Join(got.Missing(), "; "), tt.missing)
				if got.Covered {
					require.Positive(t, got.Evaluations)
				}
			})
		}
		require.Equal(t, Summary{Rules: 10, Covered: 4, Percent: 40, Files: []Part{
			{Name: rules, Rules: 8, Covered: 3, Percent: 37.5, Groups: []Part{
				{Name: "recording", Rules: 3, Covered: 1, Percent: 33.3},
				{Name: "alerts", Rules: 5, Covered: 2, Percent: 40},
			}},
			{Name: flux, Rules: 2, Covered: 1, Percent: 50, Groups: []Part{{Name: "flux", Rules: 2, Covered: 1, Percent: 50}}},
		}}, rep.Summary)
	}
}

// The fast path and --exact observe the same coverage, evaluation counts
// included.
func TestFastAndExactAgree(t *testing.T) {
	t.Parallel()
	files := []string{filepath.Join("testdata", "cover_test.yml"), filepath.Join("testdata", "failing.scenario.yml")}
	require.Equal(t, run(t, true, files...), run(t, false, files...))
}

// A rule file named by a test whose groups --run leaves out is listed,
// not evaluated.
func TestNotReached(t *testing.T) {
	t.Parallel()
	eng := evaluator.NewEngine(evaluator.Options{})
	col := NewCollector()
	runner, err := unittest.NewRunner(unittest.Options{Engine: eng, AfterEval: col.AfterEval, Run: []string{"^nothing$"}})
	require.NoError(t, err)
	res := runner.Run(filepath.Join("testdata", "cover_test.yml"), filepath.Join("testdata", "failing.scenario.yml"))
	rep, err := col.Report(context.Background(), res, Options{Engine: eng})
	require.NoError(t, err)
	require.Len(t, rep.Rules, 10)
	for _, r := range rep.Rules {
		require.Equal(t, state{}, stateOf(r), r.Name)
		require.Equal(t, []string{"not evaluated"}, r.Missing()[:1])
	}
	require.Equal(t, 0.0, rep.Summary.Percent)
}

func TestSelects(t *testing.T) {
	t.Parallel()
	record := &Rule{Type: TypeRecord, Name: "job:up:sum", labels: map[string]string{"team": "a"}}
	alert := &Rule{Type: TypeAlert, Name: "Down", labels: map[string]string{"severity": "page", "summary": "{{ $labels.x }}"}}
	tests := []struct {
		expr string
		rule *Rule
		want bool
	}{
		{`job:up:sum`, record, true},
		{`sum(rate(job:up:sum[5m]))`, record, true},
		{`job:up:sum{team="a"}`, record, true},
		{`job:up:sum{team="b"}`, record, false}, // the rule writes team="a"
		{`job:up:sum{job="x"}`, record, true},   // job comes from the expression
		{`{__name__=~"job:up:sum|other"}`, record, true},
		{`{__name__=~"job:.*"}`, record, false}, // open-ended: names no metric
		{`{__name__!="x", job="a"}`, record, false},
		{`other`, record, false},
		{`ALERTS{alertname="Down"}`, alert, true},
		{`ALERTS_FOR_STATE{alertname="Down"}`, alert, true},
		{`count(ALERTS{alertname="Down", severity="page"})`, alert, true},
		{`ALERTS{alertname="Down", severity="ticket"}`, alert, false},
		{`ALERTS{alertname="Down", summary="anything"}`, alert, true}, // a template: not judged
		{`ALERTS`, alert, false},                                      // no alertname
		{`ALERTS{alertname="Other"}`, alert, false},
		{`Down`, alert, false},
		{`job:up:sum`, alert, false},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			expr, err := evaluator.NewEngine(evaluator.Options{}).Parser().ParseExpr(tt.expr)
			require.NoError(t, err)
			require.Equal(t, tt.want, reads(expr, tt.rule))
		})
	}
}

func TestWriteCobertura(t *testing.T) {
	t.Parallel()
	rep := &Report{Rules: []Rule{
		{File: "r.yml", Line: 4, Group: "g", Name: "a", Type: TypeAlert, Covered: true, Evaluations: 7},
		{File: "r.yml", Line: 9, Group: "g", Name: "b", Type: TypeRecord, Evaluations: 7},
	}}
	rep.Summary = summarize(rep.Rules)
	var buf bytes.Buffer
	require.NoError(t, WriteCobertura(&buf, rep, time.Unix(100, 0)))
	var doc cobertura
	require.NoError(t, xml.Unmarshal(buf.Bytes(), &doc))
	require.Equal(t, "0.5000", doc.LineRate)
	require.Equal(t, 1, doc.LinesCovered)
	require.Len(t, doc.Packages, 1)
	require.Equal(t, "r.yml", doc.Packages[0].Name)
	require.Equal(t, []coberturaLine{{Number: 4, Hits: 7}, {Number: 9, Hits: 0}}, doc.Packages[0].Classes[0].Lines)
}

func TestWriteText(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	require.NoError(t, WriteText(&buf, &Report{Summary: summarize(nil)}))
	require.Equal(t, "coverage: [no rules]\n", buf.String())
}

func TestPercentAndBelow(t *testing.T) {
	t.Parallel()
	tests := []struct {
		covered, rules int
		percent        float64
		below80        bool
	}{
		{0, 0, 100, false},
		{2, 3, 66.6, true},
		{4, 5, 80, false},
		{799, 1000, 79.9, true},
		{3999, 4999, 79.9, true}, // 79.996%: rounds up to 80 but is below
	}
	for _, tt := range tests {
		s := Summary{Rules: tt.rules, Covered: tt.covered, Percent: percent(tt.covered, tt.rules)}
		require.Equal(t, tt.percent, s.Percent)
		require.Equal(t, tt.below80, s.Below(80), "%d/%d", tt.covered, tt.rules)
	}
}
