package unittest

import (
	"context"
	"fmt"
	"io/fs"
	"path"
	"path/filepath"

	"github.com/gotk-rules/gotk-rules/budget"
	"github.com/gotk-rules/gotk-rules/scenario"
)

// scenarioJob prepares a scenario file as one test group whose assertions
// are the scenario's expectations. A scenario that does not load is a bad
// input for the file.
func (r *Runner) scenarioJob(file string, b []byte, fr *FileResult) (job, bool) {
	sc, err := scenario.Parse(file, b, scenario.Limits{MaxSeries: r.opts.MaxSeries, MaxSamples: r.opts.MaxSamples})
	if err != nil {
		fr.Error = budget.Explain(err, r.opts.Hint)
		return job{}, false
	}
	if r.run != nil && !r.run.MatchString(sc.Name) {
		return job{}, false
	}
	ruleFiles, err := r.scenarioRuleFiles(sc)
	if err != nil {
		fr.Error = err.Error()
		return job{}, false
	}
	if r.opts.Groups != nil && !r.opts.Groups(file, 0, ruleFiles) {
		return job{}, false
	}
	gr := &GroupResult{Name: sc.Name, Line: 1, Assertions: []*Assertion{}}
	fr.Groups = append(fr.Groups, gr)
	return job{out: gr, run: func(ctx context.Context) { r.runScenario(ctx, sc, ruleFiles, gr) }}, true
}

// scenarioRuleFiles resolves rule_files relative to the scenario, in the
// options' file system when there is one.
func (r *Runner) scenarioRuleFiles(sc *scenario.Scenario) ([]string, error) {
	if r.opts.FS == nil {
		return sc.ResolveRuleFiles()
	}
	var out []string
	for _, rf := range sc.RuleFiles {
		p := path.Clean(path.Join(path.Dir(filepath.ToSlash(sc.File)), rf))
		m, err := fs.Glob(r.opts.FS, p)
		if err != nil || len(m) == 0 {
			return nil, fmt.Errorf("%s: rule_files: %q matches no file", sc.File, rf)
		}
		out = append(out, m...)
	}
	return out, r.preloadRules(out)
}

func (r *Runner) runScenario(ctx context.Context, sc *scenario.Scenario, ruleFiles []string, gr *GroupResult) {
	defer func() {
		if p := recover(); p != nil {
			gr.Passed = false
			gr.addError(fmt.Sprintf("internal error (please report it): %v", p))
		}
	}()
	rep, err := scenario.Run(ctx, sc, scenario.RunOptions{Engine: r.opts.Engine, RuleFiles: ruleFiles, Loader: r.loader, Exact: r.opts.Exact, MaxEvals: r.opts.MaxEvals})
	if cerr := ctx.Err(); cerr != nil {
		stoppedGroup(gr, cerr)
		return
	}
	if err != nil {
		badInput(gr, budget.Explain(err, r.opts.Hint))
		return
	}
	for i, e := range sc.Expect {
		a := &Assertion{Kind: "scenario", Line: sc.ExpectationLine(i), Alertname: e.Alert, EvalTime: e.When(), Checked: true}
		a.Passed, a.Error = rep.Check(e)
		if !a.Passed {
			gr.Errors = append(gr.Errors, fmt.Sprintf("    %s:%d: %s", sc.File, a.Line, a.Error))
		}
		gr.Assertions = append(gr.Assertions, a)
	}
	gr.Passed = len(gr.Errors) == 0
}
