package unittest

import (
	"context"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/rules"

	"github.com/gotk-rules/gotk-rules/budget"
	"github.com/gotk-rules/gotk-rules/evaluator"
)

// checkAlert compares the firing alerts of one rule with the expected ones.
func (r *Runner) checkAlert(a *Assertion, tc AlertTestCase, got []*rules.Alert, groupName string, gr *GroupResult) {
	a.Checked = true
	var gotLA, expLA labelsAndAnnotations
	for _, al := range got {
		gotLA = append(gotLA, labelAndAnnotation{Labels: al.Labels.Copy(), Annotations: al.Annotations.Copy()})
	}
	for _, e := range tc.ExpAlerts {
		lm := map[string]string{}
		for k, v := range e.ExpLabels {
			lm[k] = v
		}
		lm[labels.AlertName] = tc.Alertname
		expLA = append(expLA, labelAndAnnotation{Labels: labels.FromMap(lm), Annotations: labels.FromMap(e.ExpAnnotations)})
	}
	sort.Sort(gotLA)
	sort.Sort(expLA)
	a.Got = gotLA.objects()
	a.Expected = expLA.objects()
	if gotLA.equal(expLA) {
		a.Passed = true
		return
	}
	var testName string
	if groupName != "" {
		testName = fmt.Sprintf("    name: %s,\n", groupName)
	}
	gr.Errors = append(gr.Errors, fmt.Sprintf("%s    alertname: %s, time: %s, \n        exp:%v, \n        got:%v",
		testName, tc.Alertname, tc.EvalTime.String(), indentLines(expLA.String(), "            "), indentLines(gotLA.String(), "            ")))
	a.Error = "firing alerts differ"
}

// checkExpr runs an expression and compares its result with the expected samples.
func (r *Runner) checkExpr(ctx context.Context, sess *evaluator.Session, a *Assertion, tc ExprTestCase, mint time.Time, fuzzy bool, gr *GroupResult) {
	a.Checked = true
	fail := func(msg string, bad bool) {
		a.Error = msg
		line := fmt.Sprintf("    expr: %q, time: %s, err: %s", tc.Expr, tc.EvalTime.String(), msg)
		if bad {
			gr.BadInput = true
			gr.badLines = append(gr.badLines, fmt.Sprintf("%s: expr %q: %s", a.where, tc.Expr, msg))
		}
		gr.Errors = append(gr.Errors, line)
	}
	if _, err := r.instant.Parse(tc.Expr); err != nil {
		fail(budget.Explain(err, r.opts.Hint), true)
		return
	}
	vec, err := r.instant.Query(ctx, sess, tc.Expr, mint.Add(time.Duration(tc.EvalTime)))
	if err != nil {
		fail(budget.Explain(err, r.opts.Hint), false)
		return
	}
	var got []parsedSample
	for _, s := range vec {
		got = append(got, parsedSample{Labels: s.Metric.Copy(), Value: s.F, Histogram: histogramTestExpression(s.H)})
	}
	var exp []parsedSample
	for _, s := range tc.ExpSamples {
		ps, err := parseExpSample(sess, s)
		if err != nil {
			fail(fmt.Sprintf("labels %q: %v", s.Labels, err), true)
			return
		}
		exp = append(exp, ps)
	}
	sort.SliceStable(exp, func(i, j int) bool { return labels.Compare(exp[i].Labels, exp[j].Labels) <= 0 })
	sort.SliceStable(got, func(i, j int) bool { return labels.Compare(got[i].Labels, got[j].Labels) <= 0 })
	a.Expected = samplesObjects(exp)
	a.Got = samplesObjects(got)
	if samplesEqual(exp, got, fuzzy) {
		a.Passed = true
		return
	}
	a.Error = "result differs"
	gr.Errors = append(gr.Errors, fmt.Sprintf("    expr: %q, time: %s,\n        exp: %v\n        got: %v", tc.Expr,
		tc.EvalTime.String(), parsedSamplesString(exp), parsedSamplesString(got)))
}

func parseExpSample(sess *evaluator.Session, s ExpSample) (parsedSample, error) {
	p := sess.Engine().Parser()
	lb, err := p.ParseMetric(s.Labels)
	if err != nil {
		return parsedSample{}, err
	}
	var h *histogram.FloatHistogram
	if s.Histogram != "" {
		_, values, err := p.ParseSeriesDesc("{} " + s.Histogram)
		switch {
		case err != nil:
			return parsedSample{}, err
		case len(values) != 1:
			return parsedSample{}, fmt.Errorf("expected 1 value, got %d", len(values))
		case values[0].Histogram == nil:
			return parsedSample{}, fmt.Errorf("expected histogram, got %v", values[0])
		}
		h = values[0].Histogram
	}
	return parsedSample{Labels: lb, Value: s.Value, Histogram: histogramTestExpression(h)}, nil
}

// floatEqual compares as promtool: exactly, or within one ULP when fuzzy.
func floatEqual(x, y float64, fuzzy bool) bool {
	if x == y {
		return true
	}
	return fuzzy && (math.Nextafter(x, math.Inf(-1)) == y || math.Nextafter(x, math.Inf(1)) == y)
}

func samplesEqual(a, b []parsedSample, fuzzy bool) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !labels.Equal(a[i].Labels, b[i].Labels) || !floatEqual(a[i].Value, b[i].Value, fuzzy) || a[i].Histogram != b[i].Histogram {
			return false
		}
	}
	return true
}

// histogramTestExpression is promqltest.HistogramTestExpression, which
// promtool compares histograms by; that package would link Prometheus' test
// framework (and its dependencies' start-up) into the binary.
func histogramTestExpression(h *histogram.FloatHistogram) string {
	if h == nil {
		return ""
	}
	return h.TestExpression()
}
