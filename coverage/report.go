package coverage

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"path/filepath"
	"slices"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
	"go.yaml.in/yaml/v3"

	"github.com/gotk-rules/gotk-rules/evaluator"
	"github.com/gotk-rules/gotk-rules/internal/boundedio"
	"github.com/gotk-rules/gotk-rules/rulefile"
	"github.com/gotk-rules/gotk-rules/scenario"
	"github.com/gotk-rules/gotk-rules/unittest"
)

// The types of rule.
const (
	TypeAlert  = "alert"
	TypeRecord = "record"
)

// Rule is the coverage of one rule. The JSON fields are documented in
// docs/coverage.md.
type Rule struct {
	File  string `json:"file"`
	Line  int    `json:"line"`
	Group string `json:"group"`
	Name  string `json:"name"`
	// Type is TypeAlert or TypeRecord.
	Type string `json:"type"`
	// Evaluated: at least one evaluation without error.
	Evaluated bool `json:"evaluated"`
	// ReturnedSamples: the expression returned samples at least once (an
	// alert became pending or firing; a recording rule wrote a series).
	ReturnedSamples bool `json:"returned_samples"`
	// Pending, Firing and Resolved: an alert of the rule reached the
	// state at least once; resolved is firing then inactive. Always
	// false for recording rules.
	Pending  bool `json:"pending"`
	Firing   bool `json:"firing"`
	Resolved bool `json:"resolved"`
	// Asserted: a test checks the rule's output (docs/coverage.md).
	Asserted bool `json:"asserted"`
	// Covered: see docs/coverage.md.
	Covered bool `json:"covered"`

	// Evaluations counts the evaluations without error, over every test.
	Evaluations int64 `json:"-"`
	// AbsentOnly: the alert is named only by assertions of its absence
	// (exp_alerts: [], never, state inactive).
	AbsentOnly bool `json:"-"`

	hold   time.Duration
	labels map[string]string // the rule's and its group's, as written
}

// Missing says why a rule is not covered, criteria missing in the order
// docs/coverage.md lists them; empty when it is covered.
func (r *Rule) Missing() []string {
	var out []string
	if !r.Evaluated {
		return append(out, "not evaluated")
	}
	switch {
	case r.Type == TypeRecord && !r.ReturnedSamples:
		out = append(out, "never produced a series")
	case r.Type == TypeAlert && !r.ReturnedSamples:
		out = append(out, "never returned samples")
	case r.Type == TypeAlert && !r.Firing:
		out = append(out, fmt.Sprintf("never fired (pending, never for %s)", shortDuration(r.hold)))
	}
	switch {
	case r.Asserted:
	case r.AbsentOnly:
		out = append(out, "asserted only absent (exp_alerts: [], never or state inactive: not that it fires)")
	case r.Type == TypeRecord:
		out = append(out, "no promql_expr_test reads its series")
	default:
		out = append(out, "no test asserts it firing")
	}
	return out
}

// Part is the coverage of a file or a group.
type Part struct {
	Name    string  `json:"name"`
	Rules   int     `json:"rules"`
	Covered int     `json:"covered"`
	Percent float64 `json:"percent"`
	// Groups are a file's groups, in file order.
	Groups []Part `json:"groups,omitempty"`
}

// Summary totals the coverage: every rule, then per file and group.
type Summary struct {
	Rules   int     `json:"rules"`
	Covered int     `json:"covered"`
	Percent float64 `json:"percent"`
	Files   []Part  `json:"files"`
}

// Report is the coverage of a run.
type Report struct {
	Rules   []Rule  `json:"rules"`
	Summary Summary `json:"summary"`
}

// Options say where a run read its files and how it evaluated, for Report
// to read them again and replay scenarios the same way.
type Options struct {
	// Engine evaluates scenario replays and parses expressions.
	Engine *evaluator.Engine
	// FS holds the test files and rule files; nil: the operating system's.
	FS fs.FS
	// Input bounds each file read.
	Input boundedio.Limits
	// Exact replays scenarios step by step (as unittest.Options.Exact).
	Exact bool
	// IgnoreUnknownFields accepts fields Prometheus does not know in rule
	// files.
	IgnoreUnknownFields bool
	// Scenario bounds scenario files as the run did.
	Scenario scenario.Limits
}

// fileRun is one test or scenario file of the run: the rule files it
// loads and its assertions.
type fileRun struct {
	ruleFiles []string
	asserts   []assertion
}

// assertion is one check of a test, reduced to what coverage needs.
type assertion struct {
	// alert names the alert an alert test or expectation is about.
	alert string
	// firing: the assertion passes only if the alert fires (non-empty
	// exp_alerts, state firing, fires_within).
	firing bool
	// expr is a promql_expr_test's expression, with non-empty exp_samples.
	expr parser.Expr
}

// Report builds the coverage of the run that produced res, with what c
// observed during it. It reads the test files and the rule files they
// load again, and replays the scenario files that ran (a scenario's
// replay offers no hook to observe it). Files res reports as bad input
// load no rules.
func (c *Collector) Report(ctx context.Context, res *unittest.Result, opts Options) (*Report, error) {
	if opts.Engine == nil {
		opts.Engine = evaluator.NewEngine(evaluator.Options{})
	}
	loader := rulefile.NewLoader(opts.Engine.Parser(), opts.IgnoreUnknownFields)
	loader.Input = opts.Input
	var runs []fileRun
	for _, fr := range res.Files {
		if fr.Error != "" {
			continue
		}
		run, err := c.readRun(ctx, fr, loader, opts)
		if err != nil {
			return nil, err
		}
		runs = append(runs, run)
	}
	rep := &Report{Rules: []Rule{}}
	index := map[ruleKey]int{}
	seen := map[string]bool{}
	for _, run := range runs {
		for _, rf := range run.ruleFiles {
			if seen[rf] {
				continue
			}
			seen[rf] = true
			f, err := loader.LoadFile(rf)
			if err != nil {
				continue // the run reported it
			}
			for _, g := range f.Groups {
				for i, r := range g.RuleGroup.Rules {
					x := Rule{File: rf, Group: g.Name, Name: r.Alert, Type: TypeAlert, hold: time.Duration(r.For), labels: map[string]string{}}
					if r.Record != "" {
						x.Name, x.Type = r.Record, TypeRecord
					}
					if i < len(g.Rules) {
						x.Line = g.Rules[i].Pos.Line
					}
					for k, v := range g.Labels {
						x.labels[k] = v
					}
					for k, v := range r.Labels {
						x.labels[k] = v
					}
					index[ruleKey{rf, g.Name, i}] = len(rep.Rules)
					rep.Rules = append(rep.Rules, x)
				}
			}
		}
	}
	for k, o := range c.observations() {
		i, ok := index[ruleKey{filepath.Clean(k.file), k.group, k.index}]
		if !ok {
			continue
		}
		r := &rep.Rules[i]
		r.Evaluations += o.evaluations
		r.Evaluated = r.Evaluations > 0
		r.ReturnedSamples = r.ReturnedSamples || o.returned
		r.Pending = r.Pending || o.pending
		r.Firing = r.Firing || o.firing
		r.Resolved = r.Resolved || o.resolved
	}
	for _, run := range runs {
		for _, a := range run.asserts {
			for i := range rep.Rules {
				r := &rep.Rules[i]
				if slices.Contains(run.ruleFiles, r.File) {
					a.apply(r)
				}
			}
		}
	}
	for i := range rep.Rules {
		r := &rep.Rules[i]
		if r.Asserted {
			r.AbsentOnly = false
		}
		r.Covered = len(r.Missing()) == 0
	}
	rep.Summary = summarize(rep.Rules)
	return rep, nil
}

// apply marks r asserted when a checks it.
func (a assertion) apply(r *Rule) {
	if a.alert != "" {
		if r.Type == TypeAlert && r.Name == a.alert {
			if a.firing {
				r.Asserted = true
			} else {
				r.AbsentOnly = true
			}
		}
		return
	}
	if a.expr != nil && reads(a.expr, r) {
		r.Asserted = true
	}
}

// readRun reads what a file of the run loads and asserts, and replays it
// when it is a scenario that ran.
func (c *Collector) readRun(ctx context.Context, fr *unittest.FileResult, loader *rulefile.Loader, opts Options) (fileRun, error) {
	b, err := readFile(opts, fr.File)
	if err != nil {
		return fileRun{}, fmt.Errorf("coverage: %w", err)
	}
	if scenario.IsScenario(b) {
		return c.readScenario(ctx, fr, b, loader, opts)
	}
	var tf struct {
		RuleFiles []string `yaml:"rule_files"`
	}
	if err := yaml.Unmarshal(b, &tf); err != nil {
		return fileRun{}, fmt.Errorf("coverage: %s: %w", fr.File, err)
	}
	var run fileRun
	base := filepath.Dir(fr.File)
	for _, rf := range tf.RuleFiles {
		if rf != "" && !filepath.IsAbs(rf) {
			rf = filepath.Join(base, rf)
		}
		var m []string
		if opts.FS != nil {
			m, err = fs.Glob(opts.FS, filepath.ToSlash(rf))
		} else if m, err = filepath.Glob(rf); err == nil {
			m, err = rulefile.Expand(m)
		}
		if err != nil {
			continue // the run reported it
		}
		run.ruleFiles = append(run.ruleFiles, m...)
	}
	if err := preload(opts, loader, run.ruleFiles); err != nil {
		return fileRun{}, err
	}
	p := opts.Engine.Parser()
	for _, g := range fr.Groups {
		for _, a := range g.Assertions {
			if !a.Checked {
				continue
			}
			switch a.Kind {
			case "alert":
				run.asserts = append(run.asserts, assertion{alert: a.Alertname, firing: len(a.Expected) > 0})
			case "expr":
				if len(a.Expected) == 0 {
					continue // exp_samples: [] checks absence only
				}
				if expr, err := p.ParseExpr(a.Expr); err == nil {
					run.asserts = append(run.asserts, assertion{expr: expr})
				}
			}
		}
	}
	return run, nil
}

// readScenario reads a scenario's rule files and expectations, and
// replays it, observed, when it ran (its group is in the results and was
// not bad input).
func (c *Collector) readScenario(ctx context.Context, fr *unittest.FileResult, b []byte, loader *rulefile.Loader, opts Options) (fileRun, error) {
	sc, err := scenario.Parse(fr.File, b, opts.Scenario)
	if err != nil {
		return fileRun{}, nil // the run reported it
	}
	var run fileRun
	if opts.FS == nil {
		run.ruleFiles, err = sc.ResolveRuleFiles()
	} else {
		for _, rf := range sc.RuleFiles {
			var m []string
			m, err = fs.Glob(opts.FS, path.Clean(path.Join(path.Dir(filepath.ToSlash(sc.File)), rf)))
			if err != nil {
				break
			}
			run.ruleFiles = append(run.ruleFiles, m...)
		}
	}
	if err != nil {
		return fileRun{}, nil // the run reported it
	}
	for i := range run.ruleFiles {
		run.ruleFiles[i] = filepath.Clean(run.ruleFiles[i])
	}
	if err := preload(opts, loader, run.ruleFiles); err != nil {
		return fileRun{}, err
	}
	if len(fr.Groups) == 0 || fr.Groups[0].BadInput {
		return run, nil // filtered out by --run, or it did not run
	}
	for _, e := range sc.Expect {
		run.asserts = append(run.asserts, assertion{alert: e.Alert, firing: e.State == "firing" || e.FiresWithin > 0})
	}
	if err := c.replayScenario(ctx, sc, run.ruleFiles, loader, opts); err != nil {
		return fileRun{}, fmt.Errorf("coverage: %s: %w", fr.File, err)
	}
	return run, nil
}

// replayScenario replays a scenario as scenario.Run does, observing every
// evaluation as the scenario's group 0.
func (c *Collector) replayScenario(ctx context.Context, sc *scenario.Scenario, ruleFiles []string, loader *rulefile.Loader, opts Options) error {
	step := time.Duration(sc.EvaluationInterval)
	sess, err := opts.Engine.NewSession(evaluator.SessionOptions{EvalInterval: step, Loader: loader, Exact: opts.Exact})
	if err != nil {
		return err
	}
	defer sess.Close()
	if errs := sess.LoadRules(ruleFiles, nil); errs != nil {
		return errors.Join(errs...)
	}
	for _, s := range sc.GenerateCompact() {
		sess.AddInputs(evaluator.CompactInput(s))
	}
	end := scenario.Epoch.Add(time.Duration(sc.Duration))
	if err := sess.Plan(end); err != nil {
		return err
	}
	for ts := scenario.Epoch; !ts.After(end); ts = ts.Add(step) {
		ruleErrs, err := sess.Eval(ctx, ts)
		if err != nil {
			return err
		}
		c.AfterEval(sc.File, 0, ts, sess)
		if len(ruleErrs) > 0 {
			return nil // the replay stops there, as the run's did
		}
	}
	return nil
}

// readFile reads a file of the run as the runner did.
func readFile(opts Options, name string) ([]byte, error) {
	if opts.FS != nil {
		return boundedio.ReadFS(opts.FS, name, opts.Input)
	}
	return boundedio.ReadFile(name, opts.Input)
}

// preload hands rule files of opts.FS to the loader.
func preload(opts Options, loader *rulefile.Loader, files []string) error {
	if opts.FS == nil {
		return nil
	}
	for _, rf := range files {
		b, err := boundedio.ReadFS(opts.FS, rf, opts.Input)
		if err != nil {
			return fmt.Errorf("coverage: %s: %w", rf, err)
		}
		loader.Preload(rf, b)
	}
	return nil
}

// reads says whether expr reads r's output: a vector selector naming the
// recording rule's metric, or ALERTS or ALERTS_FOR_STATE with an
// alertname naming the alert, whose other matchers all accept the labels
// the rule sets.
func reads(expr parser.Expr, r *Rule) bool {
	found := false
	parser.Inspect(expr, func(n parser.Node, _ []parser.Node) error {
		vs, ok := n.(*parser.VectorSelector)
		if ok && !found && selects(vs.LabelMatchers, r) {
			found = true
		}
		return nil
	})
	return found
}

// selects says whether matchers select series of r's output.
func selects(ms []*labels.Matcher, r *Rule) bool {
	named, alertNamed := false, false
	for _, m := range ms {
		switch {
		case m.Name == labels.MetricName && r.Type == TypeRecord:
			if !names(m, r.Name) {
				return false
			}
			named = true
		case m.Name == labels.MetricName:
			if !names(m, "ALERTS") && !names(m, "ALERTS_FOR_STATE") {
				return false
			}
			named = true
		case m.Name == labels.AlertName && r.Type == TypeAlert:
			if !names(m, r.Name) {
				return false
			}
			alertNamed = true
		default:
			if v, ok := r.labels[m.Name]; ok && !isTemplate(v) && !m.Matches(v) {
				return false
			}
		}
	}
	if r.Type == TypeAlert {
		return named && alertNamed
	}
	return named
}

// names says whether m names value: an equality to it, or a regular
// expression of literal alternatives, one of them value. A negative or
// open-ended matcher reads series by exclusion, naming none.
func names(m *labels.Matcher, value string) bool {
	switch m.Type {
	case labels.MatchEqual:
		return m.Value == value
	case labels.MatchRegexp:
		return slices.Contains(m.SetMatches(), value)
	}
	return false
}

// isTemplate says whether a label value is a template, whose value the
// rule computes.
func isTemplate(v string) bool {
	for i := 0; i+1 < len(v); i++ {
		if v[i] == '{' && v[i+1] == '{' {
			return true
		}
	}
	return false
}

// summarize totals rules per file and group, in their order.
func summarize(rs []Rule) Summary {
	var s Summary
	s.Files = []Part{}
	for _, r := range rs {
		s.Rules++
		if n := len(s.Files); n == 0 || s.Files[n-1].Name != r.File {
			s.Files = append(s.Files, Part{Name: r.File})
		}
		f := &s.Files[len(s.Files)-1]
		f.Rules++
		if n := len(f.Groups); n == 0 || f.Groups[n-1].Name != r.Group {
			f.Groups = append(f.Groups, Part{Name: r.Group})
		}
		g := &f.Groups[len(f.Groups)-1]
		g.Rules++
		if r.Covered {
			s.Covered++
			f.Covered++
			g.Covered++
		}
	}
	s.Percent = percent(s.Covered, s.Rules)
	for i := range s.Files {
		f := &s.Files[i]
		f.Percent = percent(f.Covered, f.Rules)
		for j := range f.Groups {
			f.Groups[j].Percent = percent(f.Groups[j].Covered, f.Groups[j].Rules)
		}
	}
	return s
}

// percent is covered out of n, rounded down to 0.1 (80.0 means at least
// 80); 100 when there is nothing to cover.
func percent(covered, n int) float64 {
	if n == 0 {
		return 100
	}
	return float64(covered*1000/n) / 10
}

// Below says whether less than pct percent of the rules are covered,
// compared exactly (not rounded).
func (s Summary) Below(pct float64) bool {
	return float64(s.Covered)*100 < pct*float64(s.Rules)
}

// shortDuration words a duration as PromQL does (5m, not 5m0s).
func shortDuration(d time.Duration) string {
	s := d.String()
	for _, suffix := range []string{"m0s", "h0m"} {
		if len(s) > len(suffix) && s[len(s)-len(suffix):] == suffix {
			s = s[:len(s)-len(suffix)+1]
		}
	}
	return s
}
