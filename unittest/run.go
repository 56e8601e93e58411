package unittest

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/grafana/regexp"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/promql/promqltest"
	"github.com/prometheus/prometheus/rules"

	"github.com/gotk-rules/gotk-rules/evaluator"
	"github.com/gotk-rules/gotk-rules/internal/progress"
	"github.com/gotk-rules/gotk-rules/internal/yamlpos"
	"github.com/gotk-rules/gotk-rules/rulefile"
	"github.com/gotk-rules/gotk-rules/scenario"
	"github.com/gotk-rules/gotk-rules/series"
)

// Default budgets of one test group.
const (
	DefaultMaxSamples = 50_000_000 // input samples (real suites use 20M)
	DefaultMaxSeries  = 100_000    // input series
	DefaultMaxEvals   = 5_000_000  // evaluation steps
)

// Options configure a run.
type Options struct {
	Engine *evaluator.Engine
	// Run keeps only groups whose name matches one of these expressions.
	Run []string
	// IgnoreUnknownFields accepts unknown fields in test and rule files.
	IgnoreUnknownFields bool
	// Budgets per test group; zero means the default.
	MaxSamples uint64
	MaxSeries  int
	MaxEvals   int64
	// Exact turns off the evaluator's fast path (same results, slower).
	Exact bool
	// Parallel is how many groups run at once (default GOMAXPROCS).
	Parallel int
	// Progress, when set, counts evaluations across groups.
	Progress *progress.Counter
	// Debug receives a dump of every series at the end of each group.
	Debug io.Writer
	// FS reads test files; nil means the operating system's files. Rule
	// files named by a test file are read from the same place.
	FS fs.FS
	// AfterEval, when set, is called after each evaluation of a test group
	// with the test file, the group's index in it, the evaluation time and
	// the session, whose rules' state it may read but not change. Groups
	// run in parallel: it must be safe for concurrent use. Tests use it to
	// compare the fast and exact evaluation paths step by step.
	AfterEval func(file string, group int, ts time.Time, sess *evaluator.Session)
}

// Runner runs promtool test files.
type Runner struct {
	opts   Options
	run    *regexp.Regexp
	loader *rulefile.Loader
}

// NewRunner checks the options. A bad --run expression is an error.
func NewRunner(opts Options) (*Runner, error) {
	if opts.Engine == nil {
		opts.Engine = evaluator.NewEngine(evaluator.Options{})
	}
	if opts.MaxSamples == 0 {
		opts.MaxSamples = DefaultMaxSamples
	}
	if opts.MaxSeries == 0 {
		opts.MaxSeries = DefaultMaxSeries
	}
	if opts.MaxEvals == 0 {
		opts.MaxEvals = DefaultMaxEvals
	}
	if opts.Parallel <= 0 {
		opts.Parallel = runtime.GOMAXPROCS(0)
	}
	r := &Runner{opts: opts, loader: rulefile.NewLoader(opts.Engine.Parser(), opts.IgnoreUnknownFields)}
	if len(opts.Run) > 0 {
		re, err := regexp.Compile(strings.Join(opts.Run, "|"))
		if err != nil {
			return nil, fmt.Errorf("--run: %w", err)
		}
		r.run = re
	}
	return r, nil
}

// job is one test group to run.
type job struct {
	run func()
	out *GroupResult
}

// loadedFile is a test file read and checked, ready to run.
type loadedFile struct {
	path      string
	tf        *TestFile
	pos       yamlpos.Doc
	ruleFiles []string
	order     []string
}

// Run runs every file and returns the results in file order. Groups run in
// parallel; each has its own storage and rule state.
func (r *Runner) Run(files ...string) *Result {
	res := &Result{}
	var jobs []job
	for _, f := range files {
		fr := &FileResult{File: f, Groups: []*GroupResult{}}
		res.Files = append(res.Files, fr)
		b, err := r.readFile(f)
		if err != nil {
			fr.Error = err.Error()
			continue
		}
		if scenario.IsScenario(b) {
			if j, ok := r.scenarioJob(f, b, fr); ok {
				jobs = append(jobs, j)
			}
			continue
		}
		lf, err := r.loadFile(f, b)
		if err != nil {
			fr.Error = err.Error()
			continue
		}
		for i, tg := range lf.tf.Tests {
			if r.run != nil && !r.run.MatchString(tg.TestGroupName) {
				continue
			}
			name := tg.TestGroupName
			if name == "" {
				name = fmt.Sprintf("unnamed#%d", i)
			}
			line, _ := lf.pos.At("tests", i)
			gr := &GroupResult{Name: name, Index: i, Line: line, Assertions: []*Assertion{}}
			fr.Groups = append(fr.Groups, gr)
			jobs = append(jobs, job{run: func() { r.runGroup(lf, i, gr) }, out: gr})
		}
	}

	work := make(chan job)
	var wg sync.WaitGroup
	for range min(r.opts.Parallel, max(len(jobs), 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range work {
				start := time.Now()
				j.run()
				j.out.Duration = time.Since(start)
			}
		}()
	}
	for _, j := range jobs {
		work <- j
	}
	close(work)
	wg.Wait()
	return res
}

// readFile reads a file from the options' file system or the OS.
func (r *Runner) readFile(path string) ([]byte, error) {
	var b []byte
	var err error
	if r.opts.FS != nil {
		b, err = fs.ReadFile(r.opts.FS, path)
	} else {
		b, err = os.ReadFile(path)
	}
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			return nil, fmt.Errorf("%s: %s: %w", path, pe.Op, pe.Err)
		}
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return b, nil
}

// loadFile checks a test file's content and resolves its rule files.
func (r *Runner) loadFile(path string, b []byte) (*loadedFile, error) {
	tf, err := decode(b, r.opts.IgnoreUnknownFields)
	if err != nil {
		return nil, positionedYAMLError(path, err)
	}
	lf := &loadedFile{path: path, tf: tf, pos: yamlpos.Parse(b)}
	if tf.EvaluationInterval == 0 {
		tf.EvaluationInterval = model.Duration(time.Minute)
	}
	if tf.EvaluationInterval < 0 {
		line, col := lf.pos.At("evaluation_interval")
		return nil, fmt.Errorf("%s:%d:%d: evaluation_interval must be positive", path, line, col)
	}
	seen := map[string]bool{}
	for i, g := range tf.GroupEvalOrder {
		if seen[g] {
			line, col := lf.pos.At("group_eval_order", i)
			return nil, fmt.Errorf("%s:%d:%d: group name repeated in evaluation order: %s", path, line, col, g)
		}
		seen[g] = true
	}
	lf.order = tf.GroupEvalOrder
	base := filepath.Dir(path)
	for i, rf := range tf.RuleFiles {
		if rf != "" && !filepath.IsAbs(rf) {
			rf = filepath.Join(base, rf)
		}
		var m []string
		if r.opts.FS != nil {
			m, err = fs.Glob(r.opts.FS, filepath.ToSlash(rf))
		} else {
			m, err = filepath.Glob(rf)
		}
		line, col := lf.pos.At("rule_files", i)
		if err != nil {
			return nil, fmt.Errorf("%s:%d:%d: rule_files: %w", path, line, col, err)
		}
		if len(m) == 0 {
			return nil, fmt.Errorf("%s:%d:%d: rule_files: %q matches no file", path, line, col, tf.RuleFiles[i])
		}
		if r.opts.FS == nil {
			// A directory stands for the rule files below it.
			if m, err = rulefile.Expand(m); err != nil {
				return nil, fmt.Errorf("%s:%d:%d: rule_files: %w", path, line, col, err)
			}
		}
		lf.ruleFiles = append(lf.ruleFiles, m...)
	}
	if err := r.preloadRules(lf.ruleFiles); err != nil {
		return nil, err
	}
	return lf, nil
}

// preloadRules hands rule files from the options' file system to the loader.
func (r *Runner) preloadRules(files []string) error {
	if r.opts.FS == nil {
		return nil
	}
	for _, rf := range files {
		b, err := fs.ReadFile(r.opts.FS, rf)
		if err != nil {
			return fmt.Errorf("%s: %w", rf, err)
		}
		r.loader.Preload(rf, b)
	}
	return nil
}

// positionedYAMLError rewrites YAML errors as file:line: message.
func positionedYAMLError(path string, err error) error {
	var parts []string
	for _, m := range yamlpos.Messages(err.Error()) {
		parts = append(parts, m.In(path))
	}
	return errors.New(strings.Join(parts, "\n"))
}

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
func (r *Runner) runGroup(lf *loadedFile, idx int, gr *GroupResult) {
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
		gr.Assertions = append(gr.Assertions, &Assertion{Kind: "expr", Line: line, Expr: e.Expr, EvalTime: e.EvalTime.String()})
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
	if len(tg.InputSeries) > r.opts.MaxSeries {
		badInput(gr, fmt.Sprintf("%s: %d input series, over the limit of %d (raise it with --max-series)", at("input_series"), len(tg.InputSeries), r.opts.MaxSeries))
		return
	}
	var total uint64
	for _, is := range tg.InputSeries {
		// The series field can hold values too: promtool joins the two.
		total += series.Count(is.Values) + series.Count(valuesInMetric(is.Series))
	}
	if total > r.opts.MaxSamples {
		badInput(gr, at("input_series")+": "+(&series.BudgetError{Asked: total, Limit: r.opts.MaxSamples}).Error())
		return
	}
	maxEval := maxEvalTime(tg)
	if steps := int64(maxEval/evalInterval) + 1; steps > r.opts.MaxEvals {
		badInput(gr, fmt.Sprintf("%s: evaluating up to eval_time %s every %s takes %d evaluations, over the limit of %d (raise it with --max-evals)",
			at(), model.Duration(maxEval), model.Duration(evalInterval), steps, r.opts.MaxEvals))
		return
	}

	mint := time.Unix(0, 0).UTC()
	if !tg.StartTimestamp.IsZero() {
		mint = tg.StartTimestamp.Time
	}
	input, err := parseInputSeries(tg, mint, mint.Add(maxEval))
	if err != nil {
		var ie *inputError
		if errors.As(err, &ie) {
			field := "series"
			if ie.inValues {
				field = "values"
			}
			badInput(gr, fmt.Sprintf("%s: input_series[%d]: %v", at("input_series", ie.index, field), ie.index, ie.err))
		} else {
			badInput(gr, at("input_series")+": "+err.Error())
		}
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
			badInput(gr, e.Error())
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
	r.evaluate(sess, lf, tg, mint, maxEval, evalInterval, gr)
	if r.opts.Debug != nil {
		r.dump(sess, gr.Name, mint, maxEval)
	}
	gr.Passed = len(gr.Errors) == 0 && !gr.BadInput
}

// valuesInMetric returns what follows the metric in a series field: values
// written there are loaded too, as promtool joins series and values.
func valuesInMetric(metric string) string {
	if i := strings.LastIndexByte(metric, '}'); i >= 0 {
		return metric[i+1:]
	}
	if i := strings.IndexAny(strings.TrimSpace(metric), " \t\n"); i >= 0 {
		return strings.TrimSpace(metric)[i:]
	}
	return ""
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

// inputError is a series that does not parse.
type inputError struct {
	index    int
	err      error
	inValues bool // else in the metric
}

func (e *inputError) Error() string { return e.err.Error() }

// parseInputSeries reads the input series as promtool's loader does: each
// series is one line `METRIC VALUES`; a blank line ends the list, and a later
// definition of the same series replaces an earlier one. Samples after until
// are dropped, as no evaluation reaches them.
func parseInputSeries(tg TestGroup, start, until time.Time) ([]evaluator.Input, error) {
	type job struct {
		index int // in tg.InputSeries
		line  string
		lset  labels.Labels
		in    evaluator.Input
		err   error
	}
	var jobs []job
lines:
	for i, is := range tg.InputSeries {
		for _, line := range strings.Split(is.Series+" "+is.Values, "\n") {
			line = strings.TrimSpace(line)
			if line == "" || strings.HasPrefix(line, "#") {
				break lines
			}
			jobs = append(jobs, job{index: i, line: line})
		}
	}
	// Series are parsed and expanded on every core, each made compact at
	// once: a fleet's input never exists in full as raw samples.
	step := time.Duration(tg.Interval)
	parallel(len(jobs), func(k int) {
		jb := &jobs[k]
		lset, vals, err := seriesDesc(jb.line)
		if err != nil {
			jb.err = err
			return
		}
		// Samples after the last evaluation are never read: drop them now.
		jb.lset, jb.in = lset, evaluator.NewInput(series.Expand(lset, vals, start, step, until))
	})
	byHash := map[uint64]int{}
	var out []evaluator.Input
	for _, jb := range jobs {
		if jb.err != nil {
			err, inValues := describeSeriesError(jb.err, jb.line, tg.InputSeries[jb.index].Series)
			return nil, &inputError{index: jb.index, err: err, inValues: inValues}
		}
		// A later definition of the same series replaces an earlier one.
		// Series are the same when their hashes are, as in promtool's
		// loader (promqltest's loadCmd.set).
		h := jb.lset.Hash()
		if j, ok := byHash[h]; ok {
			out[j] = jb.in
			continue
		}
		byHash[h] = len(out)
		out = append(out, jb.in)
	}
	return out, nil
}

// parallel calls f(0) ... f(n-1) on every core.
func parallel(n int, f func(int)) {
	workers := min(runtime.GOMAXPROCS(0), n)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for k := int(next.Add(1)) - 1; k < n; k = int(next.Add(1)) - 1 {
				f(k)
			}
		})
	}
	wg.Wait()
}

// describeSeriesError restates a parse error of `METRIC VALUES` with the
// column in the part the user wrote, metric or values.
func describeSeriesError(err error, line, metric string) (error, bool) {
	var pes parser.ParseErrors
	if !errors.As(err, &pes) || len(pes) == 0 {
		return err, true
	}
	pe := pes[0]
	pos := int(pe.PositionRange.Start)
	metric = strings.TrimSpace(metric)
	if off := strings.Index(line, metric); pos >= off+len(metric)+1 {
		values := line[off+len(metric)+1:]
		return fmt.Errorf("values %q, column %d: %v", values, pos-(off+len(metric)+1)+1, pe.Err), true
	}
	return fmt.Errorf("series %q, column %d: %v", metric, pos+1, pe.Err), false
}

// evaluate steps through time as promtool does, checking alert assertions
// at their evaluation and expression assertions at the end.
func (r *Runner) evaluate(sess *evaluator.Session, lf *loadedFile, tg TestGroup, mint time.Time, maxEval, evalInterval time.Duration, gr *GroupResult) {
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
		ruleErrs, err := sess.Eval(ts)
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
				gr.addError(fmt.Sprintf("    rule: %s, time: %s, err: %v", e.Rule, ts.Sub(time.Unix(0, 0).UTC()), e.Err) + evaluator.LimitHint(e.Err))
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
		r.checkExpr(sess, a, tc, mint, fuzzy, gr)
	}
}

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
func (r *Runner) checkExpr(sess *evaluator.Session, a *Assertion, tc ExprTestCase, mint time.Time, fuzzy bool, gr *GroupResult) {
	a.Checked = true
	fail := func(msg string, bad bool) {
		a.Error = msg
		line := fmt.Sprintf("    expr: %q, time: %s, err: %s", tc.Expr, tc.EvalTime.String(), msg)
		if bad {
			gr.BadInput = true
		}
		gr.Errors = append(gr.Errors, line)
	}
	if _, err := sess.Engine().Parser().ParseExpr(tc.Expr); err != nil {
		fail(err.Error(), true)
		return
	}
	vec, err := sess.Query(tc.Expr, mint.Add(time.Duration(tc.EvalTime)))
	if err != nil {
		fail(err.Error()+evaluator.LimitHint(err), false)
		return
	}
	var got []parsedSample
	for _, s := range vec {
		got = append(got, parsedSample{Labels: s.Metric.Copy(), Value: s.F, Histogram: promqltest.HistogramTestExpression(s.H)})
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
	return parsedSample{Labels: lb, Value: s.Value, Histogram: promqltest.HistogramTestExpression(h)}, nil
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

// dump writes every series up to the group's last evaluation, as promtool --debug.
func (r *Runner) dump(sess *evaluator.Session, name string, mint time.Time, maxEval time.Duration) {
	ts := (maxEval + time.Second).Truncate(time.Second)
	expr := fmt.Sprintf(`{__name__=~".+"}[%v]`, model.Duration(ts))
	v, err := sess.QueryValue(expr, mint.Add(ts))
	if err != nil {
		fmt.Fprintf(r.opts.Debug, "DEBUG: %s: failed querying %q: %v\n", name, expr, err)
		return
	}
	if m, ok := v.(promql.Matrix); ok {
		fmt.Fprintf(r.opts.Debug, "DEBUG: %s: dump of all data (input_series and rules) at %v:\n%s\n", name, model.Duration(ts), m.String())
	}
}
