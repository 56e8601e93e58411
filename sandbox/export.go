package sandbox

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"testing/fstest"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/gotk-rules/gotk-rules/scenario"
	"github.com/gotk-rules/gotk-rules/unittest"
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
		Engine: s.engine(), MaxSamples: lim.MaxSamples, MaxSeries: lim.MaxSeries, MaxEvals: lim.MaxEvals, Parallel: 1,
		FS: fstest.MapFS{RulesFile: {Data: []byte(req.Rules)}, TestFile: {Data: b.Bytes()}},
	})
	if err != nil {
		res.Report = err.Error()
		return res
	}
	out, ok := runBounded(ctx, lim, func() *unittest.Result { return runner.Run(TestFile) })
	if !ok {
		res.Report = "not checked: the test run took longer than the sandbox's limit"
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
	var name string
	var interval time.Duration
	var ss []scenario.Series
	switch in.kind {
	case KindScenario:
		sc := in.sc
		name, interval = sc.Name, time.Duration(sc.ScrapeInterval)
		ss = scenario.Notation(in.series, interval, in.end)
	default:
		name, interval = "sandbox", in.groupInterval
		if in.form == formFile {
			name = in.groupNames[in.groupIndex]
		}
		for _, is := range in.group.InputSeries {
			ss = append(ss, scenario.Series{Metric: strings.TrimSpace(is.Series), Values: strings.TrimSpace(is.Values)})
		}
	}
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	p("# Exported by the gotk-rules sandbox (gotk-rules serve).\n")
	p("# alert_rule_test pins the firing alerts of every alerting rule where they change,\n")
	p("# at the evaluation before each change, and at the first and the last evaluation.\n")
	p("# Run it beside %s: gotk-rules test %s (or promtool test rules %s).\n", RulesFile, TestFile, TestFile)
	p("rule_files:\n  - %s\n", RulesFile)
	p("evaluation_interval: %s\n", model.Duration(in.evalInterval))
	p("tests:\n  - name: %s\n    interval: %s\n", strconv.Quote(name), model.Duration(interval))
	if in.kind == KindPromtool {
		if in.start.Unix() != 0 || in.start.Nanosecond() != 0 {
			p("    start_timestamp: %s\n", strconv.Quote(in.start.UTC().Format(time.RFC3339Nano)))
		}
		if in.extLabels.Len() > 0 {
			p("    external_labels:\n")
			in.extLabels.Range(func(l labels.Label) {
				p("      %s: %s\n", strconv.Quote(l.Name), strconv.Quote(l.Value))
			})
		}
		if in.extURL != "" {
			p("    external_url: %s\n", strconv.Quote(in.extURL))
		}
	}
	p("    input_series:\n")
	for _, s := range ss {
		p("      - series: %s\n        values: %s\n", strconv.Quote(s.Metric), strconv.Quote(s.Values))
	}
	if len(ev.alertNames) == 0 {
		return nil
	}
	times := make([]time.Duration, 0, len(ev.firing))
	for t := range ev.firing {
		times = append(times, t)
	}
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	p("    alert_rule_test:\n")
	for _, t := range times {
		for _, alert := range ev.alertNames {
			p("      - eval_time: %s\n        alertname: %s\n", model.Duration(t), strconv.Quote(alert))
			var mine []scenario.Firing
			for _, f := range ev.firing[t] {
				if f.Labels.Get(labels.AlertName) == alert {
					mine = append(mine, f)
				}
			}
			if len(mine) == 0 {
				p("        exp_alerts: []\n")
				continue
			}
			p("        exp_alerts:\n")
			for _, f := range mine {
				p("          - exp_labels:\n")
				f.Labels.Range(func(l labels.Label) {
					if l.Name != labels.AlertName {
						p("              %s: %s\n", strconv.Quote(l.Name), strconv.Quote(l.Value))
					}
				})
				if f.Annotations.Len() > 0 {
					p("            exp_annotations:\n")
					f.Annotations.Range(func(l labels.Label) {
						p("              %s: %s\n", strconv.Quote(l.Name), strconv.Quote(l.Value))
					})
				}
			}
		}
	}
	return nil
}
