package unittest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/promql"

	"github.com/gotk-rules/gotk-rules/budget"
	"github.com/gotk-rules/gotk-rules/evaluator"
	"github.com/gotk-rules/gotk-rules/guard"
)

// badInput marks a group as not runnable.
func badInput(gr *GroupResult, errs ...string) {
	gr.BadInput = true
	gr.Passed = false
	for _, e := range errs {
		gr.addError(e)
	}
}

// runGroup runs one test group into gr, following promtool's procedure step
// by step so the verdict is the same.
func (r *Runner) runGroup(ctx context.Context, lf *loadedFile, idx int, gr *GroupResult) {
	defer func() {
		// A panic in the engine on some odd input must not take down the
		// other groups: report it as this group's failure.
		if p := recover(); p != nil {
			gr.Passed = false
			gr.addError(fmt.Sprintf("internal error (please report it): %v", p))
		}
	}()
	tg := lf.tf.Tests[idx]
	path := lf.path
	evalInterval := time.Duration(lf.tf.EvaluationInterval)
	if tg.Interval == 0 {
		tg.Interval = lf.tf.EvaluationInterval
	}
	at := func(p ...any) string {
		line, col := lf.pos.At(append([]any{"tests", idx}, p...)...)
		return fmt.Sprintf("%s:%d:%d", path, line, col)
	}

	// Assertions, in file order: alert tests first, then expressions.
	for i, a := range tg.AlertRuleTests {
		line, _ := lf.pos.At("tests", idx, "alert_rule_test", i)
		gr.Assertions = append(gr.Assertions, &Assertion{Kind: "alert", Line: line, Alertname: a.Alertname, EvalTime: a.EvalTime.String(), Expected: expectedAlerts(a)})
	}
	for i, e := range tg.PromqlExprTests {
		line, _ := lf.pos.At("tests", idx, "promql_expr_test", i)
		gr.Assertions = append(gr.Assertions, &Assertion{Kind: "expr", Line: line, Expr: e.Expr, EvalTime: e.EvalTime.String(), where: at("promql_expr_test", i, "expr")})
	}

	if tg.Interval < 0 {
		badInput(gr, at("interval")+": interval must be positive")
		return
	}
	for i, a := range tg.AlertRuleTests {
		if a.Alertname == "" {
			badInput(gr, at("alert_rule_test", i)+": an item under alert_rule_test misses required attribute alertname")
			return
		}
	}

	// Budgets, checked before anything is expanded.
	if err := CheckInputLimits(tg.InputSeries, InputLimits{MaxSeries: r.opts.MaxSeries, MaxSamples: r.opts.MaxSamples}); err != nil {
		badInput(gr, inputErrorAt(err, at, r.opts.Hint))
		return
	}
	maxEval := maxEvalTime(tg)
	if steps := int64(maxEval/evalInterval) + 1; steps > r.opts.MaxEvals {
		err := &budget.ExceededError{Budget: budget.GroupEvaluations, Limit: uint64(max(r.opts.MaxEvals, 0)), Asked: uint64(steps),
			Subject: fmt.Sprintf("evaluating up to eval_time %s every %s takes %d evaluations", model.Duration(maxEval), model.Duration(evalInterval), steps)}
		badInput(gr, at()+": "+budget.Explain(err, r.opts.Hint))
		return
	}

	mint := time.Unix(0, 0).UTC()
	if !tg.StartTimestamp.IsZero() {
		mint = tg.StartTimestamp.Time
	}
	// Samples after the last evaluation are never read: they are dropped,
	// and each series is made compact as soon as it is expanded.
	input, err := ReadInputs(tg.InputSeries, InputOptions{Start: mint, Step: time.Duration(tg.Interval), Until: mint.Add(maxEval)})
	if err != nil {
		badInput(gr, inputErrorAt(err, at, r.opts.Hint))
		return
	}

	sess, err := r.opts.Engine.NewSession(evaluator.SessionOptions{
		EvalInterval:        evalInterval,
		GroupInterval:       time.Duration(tg.Interval),
		ExternalLabels:      tg.ExternalLabels,
		ExternalURL:         tg.ExternalURL,
		IgnoreUnknownFields: r.opts.IgnoreUnknownFields,
		Loader:              r.loader,
		Exact:               r.opts.Exact,
		Progress:            r.opts.Progress,
		// Alert assertions read rule states: without expression tests,
		// debug dump or hook, nothing reads the storage.
		DiscardOutputs: len(tg.PromqlExprTests) == 0 && r.opts.Debug == nil && r.opts.AfterEval == nil,
	})
	if err != nil {
		gr.addError(err.Error())
		return
	}
	defer func() {
		if err := sess.Close(); err != nil {
			gr.addError(err.Error())
			gr.Passed = false
		}
	}()
	sess.AddInputs(input...)
	if errs := sess.LoadRules(lf.ruleFiles, lf.order); errs != nil {
		for _, e := range errs {
			badInput(gr, budget.Explain(e, r.opts.Hint))
		}
		return
	}

	if err := sess.Plan(mint.Add(maxEval)); err != nil {
		gr.addError(err.Error())
		return
	}
	var why string
	gr.FastPath, why = sess.FastPath()
	if r.opts.Debug != nil && !gr.FastPath {
		fmt.Fprintf(r.opts.Debug, "DEBUG: %s: step-by-step evaluation: %s\n", gr.Name, why)
	}
	r.evaluate(ctx, sess, lf, tg, mint, maxEval, evalInterval, gr)
	if r.opts.Debug != nil && ctx.Err() == nil {
		r.dump(ctx, sess, gr.Name, mint, maxEval)
	}
	gr.Passed = len(gr.Errors) == 0 && !gr.BadInput
}

// inputErrorAt words the first input error at its place, as promtool stops
// at the first, with hint's words after an exceeded budget.
func inputErrorAt(err error, at func(p ...any) string, hint budget.Hint) string {
	var errs InputErrors
	if !errors.As(err, &errs) || len(errs) == 0 {
		return at("input_series") + ": " + budget.Explain(err, hint)
	}
	if ie := errs[0]; ie.Index >= 0 {
		return at("input_series", ie.Index, ie.Field) + ": " + budget.Explain(ie, hint)
	}
	return at("input_series") + ": " + budget.Explain(errs[0], hint)
}

func maxEvalTime(tg TestGroup) time.Duration {
	var m model.Duration
	for _, a := range tg.AlertRuleTests {
		m = max(m, a.EvalTime)
	}
	for _, e := range tg.PromqlExprTests {
		m = max(m, e.EvalTime)
	}
	return time.Duration(m)
}

// evaluate steps through time as promtool does, checking alert assertions
// at their evaluation and expression assertions at the end.
func (r *Runner) evaluate(ctx context.Context, sess *evaluator.Session, lf *loadedFile, tg TestGroup, mint time.Time, maxEval, evalInterval time.Duration, gr *GroupResult) {
	fuzzy := lf.tf.FuzzyCompare
	alertIdx := map[model.Duration][]int{}
	var evalTimes []model.Duration
	for i, a := range tg.AlertRuleTests {
		if _, ok := alertIdx[a.EvalTime]; !ok {
			evalTimes = append(evalTimes, a.EvalTime)
		}
		alertIdx[a.EvalTime] = append(alertIdx[a.EvalTime], i)
	}
	slices.Sort(evalTimes)

	maxt := mint.Add(maxEval)
	r.opts.Progress.AddTotal(int64(maxEval/evalInterval) + 1)
	curr := 0
	for ts := mint; !ts.After(maxt); ts = ts.Add(evalInterval) {
		ruleErrs, err := sess.Eval(ctx, ts)
		if cerr := ctx.Err(); cerr != nil {
			stoppedGroup(gr, cerr)
			return
		}
		if r.opts.AfterEval != nil {
			r.opts.AfterEval(lf.path, gr.Index, ts, sess)
		}
		if err != nil {
			gr.addError(err.Error())
			continue
		}
		if len(ruleErrs) > 0 {
			for _, e := range ruleErrs {
				// promtool's words, then which limit was hit, if one was.
				// A guard limit is bad input: promtool would crash on it.
				gr.BadInput = gr.BadInput || guard.IsLimit(e.Err)
				gr.addError(fmt.Sprintf("    rule: %s, time: %s, err: %s", e.Rule, ts.Sub(time.Unix(0, 0).UTC()), budget.Explain(e.Err, r.opts.Hint)))
			}
			return
		}
		for curr < len(evalTimes) && ts.Sub(mint) <= time.Duration(evalTimes[curr]) &&
			time.Duration(evalTimes[curr]) < ts.Add(evalInterval).Sub(mint) {
			t := evalTimes[curr]
			names := map[string]struct{}{}
			for _, i := range alertIdx[t] {
				names[tg.AlertRuleTests[i].Alertname] = struct{}{}
			}
			got := sess.FiringAlerts(names)
			for _, i := range alertIdx[t] {
				a := gr.Assertions[i]
				r.checkAlert(a, tg.AlertRuleTests[i], got[a.Alertname], tg.TestGroupName, gr)
			}
			curr++
		}
	}

	offset := len(tg.AlertRuleTests)
	for i, tc := range tg.PromqlExprTests {
		a := gr.Assertions[offset+i]
		if cerr := ctx.Err(); cerr != nil {
			stoppedGroup(gr, cerr)
			return
		}
		r.checkExpr(ctx, sess, a, tc, mint, fuzzy, gr)
	}
}

// dump writes every series up to the group's last evaluation, as promtool --debug.
func (r *Runner) dump(ctx context.Context, sess *evaluator.Session, name string, mint time.Time, maxEval time.Duration) {
	ts := (maxEval + time.Second).Truncate(time.Second)
	expr := fmt.Sprintf(`{__name__=~".+"}[%v]`, model.Duration(ts))
	v, err := sess.QueryValue(ctx, expr, mint.Add(ts))
	if err != nil {
		fmt.Fprintf(r.opts.Debug, "DEBUG: %s: failed querying %q: %v\n", name, expr, err)
		return
	}
	if m, ok := v.(promql.Matrix); ok {
		fmt.Fprintf(r.opts.Debug, "DEBUG: %s: dump of all data (input_series and rules) at %v:\n%s\n", name, model.Duration(ts), m.String())
	}
}
