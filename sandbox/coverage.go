package sandbox

import (
	"context"
	"io/fs"
	"testing/fstest"

	"github.com/gotk-rules/gotk-rules/coverage"
	"github.com/gotk-rules/gotk-rules/scenario"
	"github.com/gotk-rules/gotk-rules/unittest"
)

// checksCoverage is the coverage of the rules editor's rules by the page's
// checks (docs/coverage.md): for a promtool test file, by the test group
// the checks ran, observed by col while it ran (res its results, fsys the
// editors as the runner read them); nil when it could not be measured
// (the run stopped, or the rules are not what ran).
func (s *Server) checksCoverage(ctx context.Context, col *coverage.Collector, res *unittest.Result, fsys fs.FS) []coverage.Rule {
	if ctx.Err() != nil {
		return nil
	}
	lim := s.limits
	rep, err := col.Report(ctx, res, coverage.Options{
		Engine: s.engine(), FS: fsys,
		Scenario: scenario.Limits{MaxSeries: lim.MaxSeries, MaxSamples: lim.MaxSamples},
	})
	if err != nil {
		return nil
	}
	return rep.Rules
}

// scenarioCoverage is the coverage of the rules editor's rules by a
// scenario's expectations: the scenario is replayed once more, observed.
// A scenario without rule_files reads the rules editor, as the replay
// does.
func (s *Server) scenarioCoverage(ctx context.Context, req Request, ev *evaluation) []coverage.Rule {
	content := req.Input
	if len(ev.in.sc.RuleFiles) == 0 {
		content = "rule_files: [" + RulesFile + "]\n" + content
	}
	fsys := rulesFS{fstest.MapFS{
		InputFile: {Data: []byte(content)},
		RulesFile: {Data: []byte(req.Rules)},
	}}
	// The scenario ran (its replay is on the page): one group, not bad input.
	res := &unittest.Result{Files: []*unittest.FileResult{{File: InputFile, Groups: []*unittest.GroupResult{{Name: ev.in.sc.Name, Passed: true}}}}}
	return s.checksCoverage(ctx, coverage.NewCollector(), res, fsys)
}
