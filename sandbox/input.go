package sandbox

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	yamlv2 "go.yaml.in/yaml/v2"
	"go.yaml.in/yaml/v3"

	"github.com/gotk-rules/gotk-rules/budget"
	"github.com/gotk-rules/gotk-rules/evaluator"
	"github.com/gotk-rules/gotk-rules/internal/yamlpos"
	"github.com/gotk-rules/gotk-rules/scenario"
	"github.com/gotk-rules/gotk-rules/series"
	"github.com/gotk-rules/gotk-rules/unittest"
)

// The names the editors' contents go by, in messages and exports.
const (
	RulesFile = "rules.yml"
	InputFile = "input.yml"
	TestFile  = "rules_test.yml"
)

// Editors a problem can be in.
const (
	EditorRules = "rules"
	EditorInput = "input"
)

// Input kinds.
const (
	KindScenario = "scenario"
	KindPromtool = "promtool"
)

// Forms of promtool input.
const (
	formFile  = "file"  // a whole test file: tests: [...]
	formGroup = "group" // one test group: input_series: [...]
	formList  = "list"  // just the series: [{series, values}, ...]
)

// input is the input editor's content, read and expanded.
type input struct {
	kind string
	sc   *scenario.Scenario

	form       string
	tf         *unittest.TestFile
	group      unittest.TestGroup
	groupIndex int
	groupNames []string
	evalIvl    model.Duration

	series        []series.Series
	start         time.Time
	end           time.Duration // offset of the last evaluation
	evalInterval  time.Duration
	groupInterval time.Duration
	extLabels     labels.Labels
	extURL        string
	notes         []string
}

// groupDoc is the group form: one test group, with the file's evaluation interval.
type groupDoc struct {
	EvaluationInterval model.Duration `yaml:"evaluation_interval,omitempty"`
	unittest.TestGroup `yaml:",inline"`
}

// parseInput reads the input editor: a scenario file, or promtool input (a
// test file, one test group or a list of series). group picks the test
// group of a test file.
func parseInput(b []byte, group int, lim Limits) (*input, []Problem) {
	if strings.TrimSpace(stripComments(string(b))) == "" {
		return nil, []Problem{inputProblem(1, 1, "the input is empty: write a scenario (objects: ...) or promtool input (input_series: ...); the Examples menu has both")}
	}
	if scenario.IsScenario(b) {
		return parseScenario(b, lim)
	}
	var probe any
	if err := yaml.Unmarshal(b, &probe); err != nil {
		return nil, problemsFromText(EditorInput, InputFile, yamlv3Error(err))
	}
	in := &input{kind: KindPromtool}
	pos := yamlpos.Parse(b)
	var path []any // where the group is in the document
	switch p := probe.(type) {
	case map[string]any:
		switch {
		case p["tests"] != nil:
			in.form = formFile
			var tf unittest.TestFile
			if err := yamlv2.UnmarshalStrict(b, &tf); err != nil {
				return nil, problemsFromText(EditorInput, InputFile, yamlv2Error(err))
			}
			if len(tf.Tests) == 0 {
				line, col := pos.At("tests")
				return nil, []Problem{inputProblem(line, col, "tests: no test group")}
			}
			for i, tg := range tf.Tests {
				name := tg.TestGroupName
				if name == "" {
					name = fmt.Sprintf("unnamed#%d", i)
				}
				in.groupNames = append(in.groupNames, name)
			}
			if group < 0 || group >= len(tf.Tests) {
				group = 0
			}
			in.tf, in.group, in.groupIndex, in.evalIvl = &tf, tf.Tests[group], group, tf.EvaluationInterval
			path = []any{"tests", group}
			if len(tf.Tests) > 1 {
				in.notes = append(in.notes, fmt.Sprintf("showing test group %d of %d, %q", group+1, len(tf.Tests), in.groupNames[group]))
			}
			if len(tf.RuleFiles) > 0 {
				in.notes = append(in.notes, "rule_files is ignored: the rules editor's rules are replayed")
			}
		case p["input_series"] != nil:
			in.form = formGroup
			var gd groupDoc
			if err := yamlv2.UnmarshalStrict(b, &gd); err != nil {
				return nil, problemsFromText(EditorInput, InputFile, yamlv2Error(err))
			}
			in.group, in.evalIvl = gd.TestGroup, gd.EvaluationInterval
		default:
			return nil, []Problem{inputProblem(1, 1, "neither a scenario (objects: ...) nor promtool input (tests: ..., input_series: ... or a list of {series, values})")}
		}
	case []any:
		in.form = formList
		var list []unittest.InputSeries
		if err := yamlv2.UnmarshalStrict(b, &list); err != nil {
			return nil, problemsFromText(EditorInput, InputFile, yamlv2Error(err))
		}
		in.group.InputSeries = list
	default:
		return nil, []Problem{inputProblem(1, 1, "neither a scenario (objects: ...) nor promtool input (tests: ..., input_series: ... or a list of {series, values})")}
	}
	at := func(p ...any) (int, int) { return pos.At(append(append([]any{}, path...), p...)...) }
	seriesPath := func(i int, field string) (int, int) {
		if in.form == formList {
			return pos.At(i, field)
		}
		return at("input_series", i, field)
	}

	if in.evalIvl == 0 {
		in.evalIvl = model.Duration(time.Minute)
	}
	if in.evalIvl < 0 {
		line, col := pos.At("evaluation_interval")
		return nil, []Problem{inputProblem(line, col, "evaluation_interval must be positive")}
	}
	tg := in.group
	if tg.Interval == 0 {
		tg.Interval = in.evalIvl
	}
	if tg.Interval < 0 {
		line, col := at("interval")
		return nil, []Problem{inputProblem(line, col, "interval must be positive")}
	}
	in.group.Interval = tg.Interval
	in.evalInterval, in.groupInterval = time.Duration(in.evalIvl), time.Duration(tg.Interval)
	in.extLabels, in.extURL = tg.ExternalLabels, tg.ExternalURL
	in.start = time.Unix(0, 0).UTC()
	if !tg.StartTimestamp.IsZero() {
		in.start = tg.StartTimestamp.Time
	}

	// Budgets, before anything is expanded; then the series, read as the
	// test runner reads them.
	if len(tg.InputSeries) == 0 {
		line, col := at("input_series")
		return nil, []Problem{inputProblem(line, col, "no input series")}
	}
	if err := unittest.CheckInputLimits(tg.InputSeries, unittest.InputLimits{MaxSeries: lim.MaxSeries, MaxSamples: lim.MaxSamples}); err != nil {
		line, col := at("input_series")
		return nil, []Problem{inputProblem(line, col, limitMessage(err))}
	}

	// The replay runs to the last assertion, as promtool's, else to the
	// end of the longest series.
	asserts := len(tg.AlertRuleTests)+len(tg.PromqlExprTests) > 0
	var assertEnd time.Duration
	for _, a := range tg.AlertRuleTests {
		assertEnd = max(assertEnd, time.Duration(a.EvalTime))
	}
	for _, e := range tg.PromqlExprTests {
		assertEnd = max(assertEnd, time.Duration(e.EvalTime))
	}
	opts := unittest.InputOptions{Start: in.start, Step: in.groupInterval}
	if asserts {
		// Samples after the last evaluation are never read.
		opts.Until = in.start.Add(assertEnd)
	}
	var mu sync.Mutex
	longest := 0 // most values of one series, omitted ones included
	list, err := unittest.ReadInputSeries(tg.InputSeries, opts, func(s series.Series, values int) series.Series {
		mu.Lock()
		longest = max(longest, values)
		mu.Unlock()
		return s
	})
	if err != nil {
		var errs unittest.InputErrors
		if !errors.As(err, &errs) {
			line, col := at("input_series")
			return nil, []Problem{inputProblem(line, col, err.Error())}
		}
		problems := make([]Problem, 0, len(errs))
		for _, ie := range errs {
			line, col := seriesPath(ie.Index, ie.Field)
			problems = append(problems, inputProblem(line, col, ie.Error()))
		}
		return nil, problems
	}
	in.series = list
	in.end = time.Duration(max(longest-1, 0)) * in.groupInterval
	if asserts {
		in.end = assertEnd
	}
	if steps := int64(in.end/in.evalInterval) + 1; steps > lim.MaxEvals {
		return nil, []Problem{inputProblem(1, 1, fmt.Sprintf("replaying to %s every %s takes %d evaluations, over the sandbox's limit of %d%s", model.Duration(in.end), model.Duration(in.evalInterval), steps, lim.MaxEvals, serveHint(budget.GroupEvaluations)))}
	}
	return in, nil
}

// limitMessage words a refusal of the input's budgets in the sandbox's
// words, with its flags.
func limitMessage(err error) string {
	if ee, ok := errors.AsType[*budget.ExceededError](err); ok {
		switch ee.Budget {
		case budget.InputSeries:
			return fmt.Sprintf("%d input series, over the sandbox's limit of %d%s", ee.Asked, ee.Limit, serveHint(ee.Budget))
		case budget.InputSamples:
			return fmt.Sprintf("the input series expand to %d samples, over the sandbox's limit of %d%s", ee.Asked, ee.Limit, serveHint(ee.Budget))
		}
	}
	return budget.Explain(err, limitHint)
}

// serveFlags are the flags of gotk-rules serve that set each budget.
var serveFlags = map[budget.Name]string{
	budget.InputSeries:      "--max-series",
	budget.InputSamples:     "--max-samples",
	budget.GroupEvaluations: "--max-evals",
	// A verification's evaluations, all its replays together.
	budget.ReplayEvaluations: "--max-verify-evals",
}

// serveHint says how to raise budget b: " (gotk-rules serve --FLAG)", or ""
// when no flag of the sandbox sets it.
func serveHint(b budget.Name) string {
	if flag := serveFlags[b]; flag != "" {
		return " (gotk-rules serve " + flag + ")"
	}
	return ""
}

// limitHint words how to raise the budget err exceeded with the sandbox's
// flags (a budget.Hint). Prometheus' error for a query that loads too many
// samples does not say which limit it hit: the hint names it (no flag of
// the sandbox raises it).
func limitHint(err error) string {
	if ee, ok := errors.AsType[*budget.ExceededError](err); ok {
		return serveHint(ee.Budget)
	}
	if b, ok := evaluator.ExceededBudget(err); ok && b == budget.QuerySamples {
		return " (the per-query sample limit)"
	}
	return ""
}

// parseScenario reads a scenario within the sandbox's budgets.
func parseScenario(b []byte, lim Limits) (*input, []Problem) {
	sc, err := scenario.Parse(InputFile, b, scenario.Limits{MaxSeries: lim.MaxSeries, MaxSamples: lim.MaxSamples})
	if err != nil {
		return nil, problemsFromText(EditorInput, InputFile, budget.Explain(err, limitHint))
	}
	in := &input{kind: KindScenario, sc: sc, start: scenario.Epoch, end: time.Duration(sc.Duration),
		evalInterval: time.Duration(sc.EvaluationInterval), groupInterval: time.Duration(sc.EvaluationInterval)}
	if steps := int64(in.end/in.evalInterval) + 1; steps > lim.MaxEvals {
		line, col := yamlpos.Parse(b).At("duration")
		return nil, []Problem{inputProblem(line, col, fmt.Sprintf("replaying %s every %s takes %d evaluations, over the sandbox's limit of %d%s", sc.Duration, sc.EvaluationInterval, steps, lim.MaxEvals, serveHint(budget.GroupEvaluations)))}
	}
	if len(sc.RuleFiles) > 0 {
		in.notes = append(in.notes, "rule_files is ignored: the rules editor's rules are replayed")
	}
	in.series = sc.Generate()
	return in, nil
}

func stripComments(s string) string {
	var b strings.Builder
	for _, l := range strings.Split(s, "\n") {
		if t := strings.TrimSpace(l); t != "" && !strings.HasPrefix(t, "#") {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}

func inputProblem(line, col int, msg string) Problem {
	return Problem{Editor: EditorInput, Line: max(line, 1), Column: max(col, 1), Severity: "error", Message: msg}
}

var (
	fileLine  = regexp.MustCompile(`^(?:[^:\s]+):(\d+)(?::(\d+))?:\s*(.*)$`)
	yamlLine  = regexp.MustCompile(`^line (\d+)(?::(\d+))?:\s*(.*)$`)
	yamlWhere = regexp.MustCompile(`^yaml: line (\d+)(?::(\d+))?:\s*(.*)$`)
)

// problemsFromText turns error text ("file:line:col: message" per line,
// or YAML's "line N: message") into problems in one editor.
func problemsFromText(editor, file, text string) []Problem {
	var out []Problem
	for _, l := range strings.Split(text, "\n") {
		l = strings.TrimSpace(l)
		if l == "" {
			continue
		}
		p := Problem{Editor: editor, Severity: "error", Message: l}
		rest := strings.TrimPrefix(l, file)
		if rest != l && strings.HasPrefix(rest, ": ") {
			p.Message = strings.TrimPrefix(rest, ": ")
		}
		for _, re := range []*regexp.Regexp{fileLine, yamlLine, yamlWhere} {
			if m := re.FindStringSubmatch(l); m != nil {
				p.Line, _ = strconv.Atoi(m[1])
				p.Column, _ = strconv.Atoi(m[2])
				p.Message = m[3]
				break
			}
		}
		out = append(out, p)
	}
	return out
}

// yamlv2Error words a go-yaml v2 error as "line N: message" lines.
func yamlv2Error(err error) string {
	msg := unittest.ShowTypeNames(err.Error())
	if rest, ok := strings.CutPrefix(msg, "yaml: unmarshal errors:"); ok {
		var parts []string
		for _, l := range strings.Split(rest, "\n") {
			if l = strings.TrimSpace(l); l != "" {
				parts = append(parts, l)
			}
		}
		return strings.Join(parts, "\n")
	}
	return strings.TrimPrefix(msg, "yaml: ")
}

func yamlv3Error(err error) string {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		return strings.Join(te.Errors, "\n")
	}
	return strings.TrimPrefix(err.Error(), "yaml: ")
}
