package sandbox

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"strings"
	"testing/fstest"
	"time"

	"github.com/gotk-rules/gotk-rules/coverage"
	"github.com/gotk-rules/gotk-rules/unittest"
)

// rulesFS holds the two editors' contents for the test runner; every
// rule_files pattern of the input stands for the rules editor.
type rulesFS struct {
	fstest.MapFS
}

// Glob matches every pattern to the rules editor's file.
func (rulesFS) Glob(string) ([]string, error) { return []string{RulesFile}, nil }

var _ fs.GlobFS = rulesFS{}

// promtoolChecks runs the assertions of a promtool test group on the
// editors' rules with gotk-rules' test runner, as `gotk-rules test` would.
func (s *Server) promtoolChecks(ctx context.Context, req Request, ev *evaluation) []Check {
	in := ev.in
	tg := in.group
	if in.form != formFile || len(tg.AlertRuleTests)+len(tg.PromqlExprTests) == 0 {
		return nil
	}
	content, shift := req.Input, 0
	if len(in.tf.RuleFiles) == 0 {
		content, shift = "rule_files: ["+RulesFile+"]\n"+content, 1
	}
	fsys := rulesFS{fstest.MapFS{
		InputFile: {Data: []byte(content)},
		RulesFile: {Data: []byte(req.Rules)},
	}}
	lim := s.limits
	col := coverage.NewCollector()
	runner, err := unittest.NewRunner(unittest.Options{
		Engine:     s.engine(),
		Run:        []string{"^" + regexp.QuoteMeta(tg.TestGroupName) + "$"},
		MaxSamples: lim.MaxSamples,
		MaxSeries:  lim.MaxSeries,
		MaxEvals:   lim.MaxEvals,
		Hint:       limitHint,
		Parallel:   1,
		FS:         fsys,
		AfterEval:  col.AfterEval,
	})
	if err != nil {
		return []Check{{Kind: "test", Name: "assertions", Message: err.Error()}}
	}
	res := runner.RunContext(ctx, InputFile)
	if ctx.Err() != nil {
		return []Check{{Kind: "test", Name: "assertions", Message: stoppedMessage(ctx, "the test run", lim.Timeout, "--timeout")}}
	}
	ev.coverage = s.checksCoverage(ctx, col, res, fsys)
	var out []Check
	for _, f := range res.Files {
		if f.Error != "" {
			out = append(out, Check{Kind: "test", Name: "test file", Message: f.Error})
		}
		for _, g := range f.Groups {
			if g.Index != in.groupIndex {
				continue
			}
			for _, a := range g.Assertions {
				c := Check{Line: max(a.Line-shift, 1), Kind: a.Kind, Passed: a.Passed, Message: a.Error}
				if a.Kind == "alert" {
					c.Name = "alert_rule_test " + a.Alertname + " at " + a.EvalTime
				} else {
					c.Name = "promql_expr_test " + a.Expr + " at " + a.EvalTime
				}
				if !a.Checked && !a.Passed && c.Message == "" {
					c.Message = "not checked: the test group stopped before"
				}
				if !a.Passed {
					c.Expected, c.Got = objectStrings(a.Expected), objectStrings(a.Got)
				}
				out = append(out, c)
			}
			if g.BadInput || (!g.Passed && len(g.Assertions) == 0) {
				for _, e := range g.Errors {
					out = append(out, Check{Line: max(g.Line-shift, 1), Kind: "test", Name: "test group " + g.Name, Message: strings.TrimSpace(e)})
				}
			}
		}
	}
	return out
}

// stoppedMessage says why work stopped when ctx ended: past the limit
// (naming the flag that sets it), or cancelled (the client went away or
// the server is stopping).
func stoppedMessage(ctx context.Context, what string, limit time.Duration, flag string) string {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Sprintf("not checked: %s took longer than the sandbox's limit of %s (gotk-rules serve %s)", what, limit, flag)
	}
	return fmt.Sprintf("not checked: %s was cancelled", what)
}

// objectStrings words expected or actual alerts and samples, one a line,
// as `gotk-rules test` reports them.
func objectStrings(objs []unittest.Object) []string {
	out := make([]string, 0, len(objs))
	for _, o := range objs {
		out = append(out, o.String())
	}
	return out
}
