package sandbox

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"testing/fstest"
	"time"

	"github.com/prometheus/common/model"

	"github.com/gotk-rules/gotk-rules/scenario"
	"github.com/gotk-rules/gotk-rules/unittest"
	"github.com/gotk-rules/gotk-rules/unittest/testfile"
)

// ExportResponse is a rule file and a promtool test file that pins what the
// rules do on the input, checked with gotk-rules' test runner.
type ExportResponse struct {
	OK        bool      `json:"ok"`
	RulesName string    `json:"rules_name"`
	TestName  string    `json:"test_name"`
	Rules     string    `json:"rules"`
	Test      string    `json:"test"`
	Passed    bool      `json:"passed"`
	Report    string    `json:"report"`
	Problems  []Problem `json:"problems"`
}

// Export replays the editors' contents and writes the rules and a test
// file for them, then runs the test file as `gotk-rules test` would.
func (s *Server) Export(ctx context.Context, req Request) *ExportResponse {
	res := &ExportResponse{RulesName: RulesFile, TestName: TestFile, Rules: req.Rules, Problems: []Problem{}}
	ev, problems := s.evaluate(ctx, req)
	if len(problems) > 0 || ev == nil || ev.tl == nil {
		res.Problems = append(res.Problems, problems...)
		return res
	}
	var b bytes.Buffer
	if err := writeTestFile(&b, ev); err != nil {
		res.Problems = append(res.Problems, Problem{Severity: "error", Message: err.Error()})
		return res
	}
	res.Test = b.String()
	res.OK = true
	lim := s.limits
	runner, err := unittest.NewRunner(unittest.Options{
		Engine: s.engine(), MaxSamples: lim.MaxSamples, MaxSeries: lim.MaxSeries, MaxEvals: lim.MaxEvals, Hint: limitHint, Parallel: 1,
		FS: fstest.MapFS{RulesFile: {Data: []byte(req.Rules)}, TestFile: {Data: b.Bytes()}},
	})
	if err != nil {
		res.Report = err.Error()
		return res
	}
	out := runner.RunContext(ctx, TestFile)
	if ctx.Err() != nil {
		res.Report = stoppedMessage(ctx, "the test run", lim.Timeout, "--timeout")
		return res
	}
	var rep bytes.Buffer
	_ = unittest.WriteText(&rep, out, false)
	res.Report = rep.String()
	res.Passed = out.ExitCode() == unittest.ExitPassed
	return res
}

// writeTestFile writes a promtool test file: the input series and, at the
// evaluations where the firing alerts change (and the one before each
// change, the first and the last), every alert rule's firing alerts.
func writeTestFile(w io.Writer, ev *evaluation) error {
	in := ev.in
	tg := testfile.TestGroup{}
	switch in.kind {
	case KindScenario:
		sc := in.sc
		tg.TestGroupName, tg.Interval = sc.Name, sc.ScrapeInterval
		tg.InputSeries = scenario.InputSeries(scenario.Notation(in.series, time.Duration(sc.ScrapeInterval), in.end))
	default:
		tg.TestGroupName, tg.Interval = "sandbox", model.Duration(in.groupInterval)
		if in.form == formFile {
			tg.TestGroupName = in.groupNames[in.groupIndex]
		}
		for _, is := range in.group.InputSeries {
			tg.InputSeries = append(tg.InputSeries, testfile.InputSeries{Series: strings.TrimSpace(is.Series), Values: strings.TrimSpace(is.Values)})
		}
	}
	if in.kind == KindPromtool {
		if in.start.Unix() != 0 || in.start.Nanosecond() != 0 {
			tg.StartTimestamp = testfile.StartTimestamp{Time: in.start}
		}
		tg.ExternalLabels, tg.ExternalURL = in.extLabels, in.extURL
	}
	tg.AlertRuleTests = scenario.FiringLog(ev.firing).AlertTests(ev.alertNames)
	comment := "Exported by the gotk-rules sandbox (gotk-rules serve).\n" +
		"alert_rule_test pins the firing alerts of every alerting rule where they change,\n" +
		"at the evaluation before each change, and at the first and the last evaluation.\n" +
		fmt.Sprintf("Run it beside %s: gotk-rules test %s (or promtool test rules %s).", RulesFile, TestFile, TestFile)
	return testfile.Write(w, comment, &testfile.TestFile{
		RuleFiles:          []string{RulesFile},
		EvaluationInterval: model.Duration(in.evalInterval),
		Tests:              []testfile.TestGroup{tg},
	})
}
