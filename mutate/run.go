package mutate

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"go.yaml.in/yaml/v3"

	"github.com/gotk-rules/gotk-rules/evaluator"
	"github.com/gotk-rules/gotk-rules/internal/boundedio"
	"github.com/gotk-rules/gotk-rules/internal/parallel"
	"github.com/gotk-rules/gotk-rules/scenario"
	"github.com/gotk-rules/gotk-rules/unittest"
)

// Status is what the tests did to a mutant.
type Status string

// The statuses of a mutant.
const (
	// Killed: a test group failed against the mutant.
	Killed Status = "killed"
	// Survived: every test group passed against the mutant.
	Survived Status = "survived"
	// Error: the mutant does not load (its rule file is refused, as the
	// test runner would refuse it); it is not run and does not count in
	// the score.
	Error Status = "error"
	// Timeout: the tests did not finish within the timeout; it does not
	// count in the score.
	Timeout Status = "timeout"
)

// Options configure a mutation run.
type Options struct {
	// Unit holds the test runner's options: engine, budgets, file system.
	// Its RuleFiles and Groups are set for each mutant.
	Unit unittest.Options
	// Operators are the operator families to use; nil: all (Operators).
	Operators []Operator
	// Budget is the most mutants run, in position order; 0: no limit.
	Budget int
	// Timeout bounds the tests of one mutant; 0: no limit.
	Timeout time.Duration
	// Parallel is how many mutants run at once (0: GOMAXPROCS).
	Parallel int
}

// Result is one mutant and what the tests did to it.
type Result struct {
	Mutant
	Status Status `json:"status"`
	// KilledBy lists the test groups that failed, as FILE:GROUP.
	KilledBy []string `json:"killed_by"`
	// Suggestion words, for a survivor, which test would kill it.
	Suggestion string `json:"suggestion,omitempty"`
	// Error says why a mutant is an error or a timeout.
	Error string `json:"error,omitempty"`
}

// Report is the outcome of a mutation run.
type Report struct {
	Mutants []Result `json:"mutants"`
	// Score is killed / (killed + survived), in percent; nil when no
	// mutant was killed or survived.
	Score *float64 `json:"score"`
	// Generated is how many mutants the operators made; more than
	// len(Mutants) when the budget stopped the run.
	Generated int `json:"-"`
	// Budget is the budget that stopped the run, when it did.
	Budget int `json:"-"`
}

// Count returns how many mutants have status s.
func (r *Report) Count(s Status) int {
	n := 0
	for _, m := range r.Mutants {
		if m.Status == s {
			n++
		}
	}
	return n
}

// BaselineError says the tests fail before any mutation: a mutation run
// needs a passing suite.
type BaselineError struct {
	// Failed lists the failing groups as FILE:GROUP, or a file's error.
	Failed []string
}

func (e *BaselineError) Error() string {
	return "the tests fail without any mutation (" + strings.Join(e.Failed, "; ") + "): mutation testing needs passing tests, see gotk-rules test"
}

// group is a test group of the suite, with the rule files it loads.
type group struct {
	file      string
	index     int
	name      string
	ruleFiles []string
	// alerts holds the alert names its assertions name, exprs its
	// promql_expr_test expressions.
	alerts []string
	exprs  []string
}

// Run runs the tests in files (promtool test files and scenarios) against
// every mutant of the rule files they load. Errors are bad input: a file
// that does not load, or a suite that fails unmutated (*BaselineError).
func Run(ctx context.Context, opts Options, files []string) (*Report, error) {
	if opts.Unit.Engine == nil {
		opts.Unit.Engine = evaluator.NewEngine(evaluator.Options{})
	}
	if opts.Operators == nil {
		opts.Operators = Operators
	}
	groups, err := baseline(ctx, opts.Unit, files)
	if err != nil {
		return nil, err
	}
	var ruleFiles []string
	for _, g := range groups {
		for _, rf := range g.ruleFiles {
			if !slices.Contains(ruleFiles, rf) {
				ruleFiles = append(ruleFiles, rf)
			}
		}
	}
	hints := inputLabels(opts.Unit, files)
	var mutants []Mutant
	for _, rf := range ruleFiles {
		b, err := readFile(opts.Unit, rf)
		if err != nil {
			return nil, err
		}
		ms, err := Generate(opts.Unit.Engine.Parser(), rf, b, opts.Operators, hints)
		if err != nil {
			return nil, err
		}
		mutants = append(mutants, ms...)
	}
	rep := &Report{Generated: len(mutants)}
	if opts.Budget > 0 && len(mutants) > opts.Budget {
		mutants = mutants[:opts.Budget]
		rep.Budget = opts.Budget
	}
	rep.Mutants = make([]Result, len(mutants))
	parallel.For(len(mutants), opts.Parallel, func(i int) {
		rep.Mutants[i] = runMutant(ctx, opts, files, groups, mutants[i])
	})
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("interrupted: %w", err)
	}
	if k, s := rep.Count(Killed), rep.Count(Survived); k+s > 0 {
		score := float64(k) * 100 / float64(k+s)
		rep.Score = &score
	}
	return rep, nil
}

// baseline runs the suite unmutated, and returns its groups with the rule
// files each loads.
func baseline(ctx context.Context, unit unittest.Options, files []string) ([]group, error) {
	var mu sync.Mutex
	loads := map[[2]any][]string{}
	unit.Groups = func(file string, i int, ruleFiles []string) bool {
		mu.Lock()
		defer mu.Unlock()
		loads[[2]any{file, i}] = slices.Clone(ruleFiles)
		return true
	}
	runner, err := unittest.NewRunner(unit)
	if err != nil {
		return nil, err
	}
	res := runner.RunContext(ctx, files...)
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("interrupted: %w", err)
	}
	if lines := res.BadInputLines(); len(lines) > 0 {
		return nil, errors.New(strings.Join(lines, "\n"))
	}
	var out []group
	var failed []string
	for _, fr := range res.Files {
		if fr.Error != "" {
			failed = append(failed, fr.Error)
			continue
		}
		for _, gr := range fr.Groups {
			if !gr.Passed {
				failed = append(failed, fr.File+":"+gr.Name)
				continue
			}
			g := group{file: fr.File, index: gr.Index, name: gr.Name, ruleFiles: loads[[2]any{fr.File, gr.Index}]}
			for _, a := range gr.Assertions {
				if a.Alertname != "" {
					g.alerts = append(g.alerts, a.Alertname)
				}
				if a.Expr != "" {
					g.exprs = append(g.exprs, a.Expr)
				}
			}
			out = append(out, g)
		}
	}
	if len(failed) > 0 {
		return nil, &BaselineError{Failed: failed}
	}
	return out, nil
}

// runMutant runs the groups that load the mutant's rule file against it.
func runMutant(ctx context.Context, opts Options, files []string, groups []group, m Mutant) Result {
	r := Result{Mutant: m, KilledBy: []string{}}
	if m.Invalid != "" {
		r.Status, r.Error = Error, m.Invalid
		return r
	}
	var run []string
	for _, f := range files {
		if slices.ContainsFunc(groups, func(g group) bool { return g.file == f && slices.Contains(g.ruleFiles, m.File) }) && !slices.Contains(run, f) {
			run = append(run, f)
		}
	}
	unit := opts.Unit
	unit.RuleFiles = map[string][]byte{m.File: m.Content}
	unit.Groups = func(file string, _ int, ruleFiles []string) bool { return slices.Contains(ruleFiles, m.File) }
	unit.Parallel = 1
	unit.Debug = nil
	unit.AfterEval = nil
	runner, err := unittest.NewRunner(unit)
	if err != nil {
		r.Status, r.Error = Error, err.Error()
		return r
	}
	mctx, cancel := ctx, context.CancelFunc(func() {})
	if opts.Timeout > 0 {
		mctx, cancel = context.WithTimeout(ctx, opts.Timeout)
	}
	defer cancel()
	res := runner.RunContext(mctx, run...)
	if mctx.Err() != nil {
		r.Status, r.Error = Timeout, fmt.Sprintf("the tests did not finish within --timeout %s", opts.Timeout)
		return r
	}
	for _, fr := range res.Files {
		if fr.Error != "" {
			r.Status, r.Error = Error, fr.Error
			return r
		}
		for _, gr := range fr.Groups {
			// The mutant loads (Generate checked it): a group failing,
			// even as bad input (a scenario's rule evaluation error, a
			// budget), failed because of it.
			if !gr.Passed {
				r.KilledBy = append(r.KilledBy, fr.File+":"+gr.Name)
			}
		}
	}
	if len(r.KilledBy) > 0 {
		r.Status = Killed
		return r
	}
	r.Status = Survived
	r.Suggestion = suggest(m, groups)
	return r
}

// suggest words which test would kill a survivor: first whether any test
// asserts the rule at all.
func suggest(m Mutant, groups []group) string {
	asserted := false
	for _, g := range groups {
		if !slices.Contains(g.ruleFiles, m.File) {
			continue
		}
		if m.alert && slices.Contains(g.alerts, m.Rule) {
			asserted = true
		}
		if !m.alert && slices.ContainsFunc(g.exprs, func(e string) bool { return strings.Contains(e, m.Rule) }) {
			asserted = true
		}
	}
	if !asserted {
		if m.alert {
			return "no test asserts the alert " + m.Rule + ": add an alert_rule_test for it (and " + m.hint + ")"
		}
		return "no promql_expr_test reads the series " + m.Rule + " records: add one (and " + m.hint + ")"
	}
	return m.hint
}

// readFile reads a rule file from the options' file system or the OS.
func readFile(unit unittest.Options, path string) ([]byte, error) {
	if unit.FS != nil {
		b, err := boundedio.ReadFS(unit.FS, path, unit.Input)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return b, nil
	}
	b, err := boundedio.ReadFile(path, unit.Input)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return b, nil
}

// inputLabels returns the label names of the test files' input series,
// sorted, the metric name left out. Scenarios and files that do not
// decode give none.
func inputLabels(unit unittest.Options, files []string) []string {
	seen := map[string]bool{}
	p := unit.Engine.Parser()
	for _, f := range files {
		b, err := readFile(unit, f)
		if err != nil || scenario.IsScenario(b) {
			continue
		}
		var tf struct {
			Tests []struct {
				InputSeries []struct {
					Series string `yaml:"series"`
				} `yaml:"input_series"`
			} `yaml:"tests"`
		}
		if yaml.Unmarshal(b, &tf) != nil {
			continue
		}
		for _, t := range tf.Tests {
			for _, s := range t.InputSeries {
				ls, err := p.ParseMetric(s.Series)
				if err != nil {
					continue
				}
				ls.Range(func(l labels.Label) {
					if l.Name != "__name__" {
						seen[l.Name] = true
					}
				})
			}
		}
	}
	out := make([]string, 0, len(seen))
	for l := range seen {
		out = append(out, l)
	}
	sort.Strings(out)
	return out
}
