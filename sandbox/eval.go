package sandbox

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/rules"

	"github.com/gotk-rules/gotk-rules/coverage"
	"github.com/gotk-rules/gotk-rules/evaluator"
	"github.com/gotk-rules/gotk-rules/rulefile"
	"github.com/gotk-rules/gotk-rules/scenario"
	"github.com/gotk-rules/gotk-rules/timeline"
)

// Limits bound what one request may cost, and how many run at once.
//
// Every API request runs under a deadline (Timeout, or VerifyTimeout for
// verify) that also ends when its client goes away; its work stops within
// one rule query, and the answer comes by the deadline plus a fraction of
// a second. At most MaxConcurrent requests run at once, verify included;
// more are answered 429 with Retry-After. The memory the sandbox may take
// is therefore about MaxConcurrent times what one request may take, which
// the other limits bound: input samples and series, evaluations, samples
// per query and time.
type Limits struct {
	// MaxBody is the largest request body, in bytes.
	MaxBody int64
	// Timeout bounds one evaluation (and one export), from the request's
	// arrival to its answer.
	Timeout time.Duration
	// MaxConcurrent bounds the API requests running at once; more are
	// refused with 429 Too Many Requests and Retry-After.
	MaxConcurrent int
	// MaxSamples and MaxSeries bound the input; MaxEvals the evaluations.
	MaxSamples uint64
	MaxSeries  int
	MaxEvals   int64
	// MaxQueries bounds the PromQL queries of one evaluation, those of
	// templates' `query` calls included.
	MaxQueries int64
	// VerifyRuns is how many random lives verify replays per era and
	// scrape setup (a request may ask for fewer, or up to 5 times more).
	VerifyRuns    int
	VerifyTimeout time.Duration
	// MaxVerifyEvals bounds the evaluations of one verification, every
	// replay of a life and of a counterexample being shrunk counted
	// (budget.ReplayEvaluations).
	MaxVerifyEvals int64
}

// DefaultLimits are the sandbox's budgets unless flags say otherwise.
var DefaultLimits = Limits{
	MaxBody:       1 << 20,
	Timeout:       10 * time.Second,
	MaxSamples:    500_000,
	MaxSeries:     5_000,
	MaxEvals:      50_000,
	MaxQueries:    500_000,
	VerifyRuns:    20,
	VerifyTimeout: 60 * time.Second,
	MaxConcurrent: 4,
	// 5 times the default runs (the most a request may ask) of 2h lives
	// every minute, in 8 eras and scrape setups, are 96,800 evaluations.
	MaxVerifyEvals: 1_000_000,
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits
	if l.MaxBody <= 0 {
		l.MaxBody = d.MaxBody
	}
	if l.Timeout <= 0 {
		l.Timeout = d.Timeout
	}
	if l.MaxSamples == 0 {
		l.MaxSamples = d.MaxSamples
	}
	if l.MaxSeries <= 0 {
		l.MaxSeries = d.MaxSeries
	}
	if l.MaxEvals <= 0 {
		l.MaxEvals = d.MaxEvals
	}
	if l.MaxQueries <= 0 {
		l.MaxQueries = d.MaxQueries
	}
	if l.VerifyRuns <= 0 {
		l.VerifyRuns = d.VerifyRuns
	}
	if l.VerifyTimeout <= 0 {
		l.VerifyTimeout = d.VerifyTimeout
	}
	if l.MaxConcurrent <= 0 {
		l.MaxConcurrent = d.MaxConcurrent
	}
	if l.MaxVerifyEvals <= 0 {
		l.MaxVerifyEvals = d.MaxVerifyEvals
	}
	return l
}

// Request is what the page sends: the two editors' contents.
type Request struct {
	Rules string `json:"rules"`
	Input string `json:"input"`
	// Group picks the test group of a promtool test file (default 0).
	Group int `json:"group"`
	// Width is the chart's width in pixels (default 1200).
	Width int `json:"width"`
}

// Problem is an error or lint finding at a place in one editor; Editor is
// empty when it belongs to neither.
type Problem struct {
	Editor   string `json:"editor"`
	Line     int    `json:"line"`
	Column   int    `json:"column"`
	Severity string `json:"severity"` // error, warning or info
	Check    string `json:"check,omitempty"`
	Message  string `json:"message"`
}

// Check is an assertion of the input: a scenario expectation or a promtool
// alert_rule_test / promql_expr_test, and whether it held.
type Check struct {
	Line     int      `json:"line"`
	Kind     string   `json:"kind"`
	Name     string   `json:"name"`
	Passed   bool     `json:"passed"`
	Message  string   `json:"message,omitempty"`
	Expected []string `json:"expected,omitempty"`
	Got      []string `json:"got,omitempty"`
}

// Stats say what an evaluation cost.
type Stats struct {
	Series    int   `json:"series"`
	Samples   int   `json:"samples"`
	Evals     int   `json:"evals"`
	Queries   int64 `json:"queries"`
	ElapsedMS int64 `json:"elapsed_ms"`
}

// Response is the outcome of an evaluation. It always says something:
// a view when the replay ran, problems where it did not.
type Response struct {
	OK         bool           `json:"ok"`
	Kind       string         `json:"kind,omitempty"`
	View       *timeline.View `json:"view,omitempty"`
	SVG        string         `json:"svg,omitempty"`
	Problems   []Problem      `json:"problems"`
	Lint       []Problem      `json:"lint"`
	LintStatus string         `json:"lint_status"`
	Checks     []Check        `json:"checks"`
	Notes      []string       `json:"notes"`
	Groups     []string       `json:"groups,omitempty"`
	Group      int            `json:"group"`
	Stats      Stats          `json:"stats"`
	// Coverage is the rules editor's rules' coverage by the checks
	// (docs/coverage.md), when there are checks.
	Coverage []coverage.Rule `json:"coverage,omitempty"`
}

// evaluation is a replay of the editors' contents, ready to show or export.
type evaluation struct {
	in     *input
	loader *rulefile.Loader
	rules  *rulefile.File
	tl     *evaluator.Timeline
	// firing holds the firing alerts at the evaluations where they
	// changed, the one before each change, the first and the last.
	firing     map[time.Duration][]scenario.Firing
	alertNames []string
	queries    int64
	// coverage is the rules' coverage by the checks, once they ran.
	coverage []coverage.Rule
}

// maxWidth is the widest chart drawn, in pixels.
const maxWidth = 4000

// errStopped says the evaluation ran out of time or was cancelled.
var errStopped = errors.New("stopped")

// Evaluate replays the rules on the input and describes the outcome.
func (s *Server) Evaluate(ctx context.Context, req Request) *Response {
	start := time.Now()
	res := &Response{Problems: []Problem{}, Lint: []Problem{}, Checks: []Check{}, Notes: []string{}, Group: req.Group}
	res.Lint, res.LintStatus = s.lint(req.Rules)
	ev, problems := s.evaluate(ctx, req)
	res.Problems = append(res.Problems, problems...)
	if ev != nil {
		res.Kind = ev.in.kind
		res.Notes = append(res.Notes, ev.in.notes...)
		res.Groups = ev.in.groupNames
		res.Group = ev.in.groupIndex
	}
	if ev == nil || ev.tl == nil {
		res.Stats.ElapsedMS = time.Since(start).Milliseconds()
		return res
	}
	res.OK = true
	if ev.in.kind == KindScenario {
		res.View = timeline.FromScenario(ev.in.sc, ev.tl, ev.in.series)
		rep := &scenario.Replay{Scenario: ev.in.sc, Timeline: ev.tl}
		for i, e := range ev.in.sc.Expect {
			ok, msg := rep.Check(e)
			res.Checks = append(res.Checks, Check{Line: ev.in.sc.ExpectationLine(i), Kind: "expect", Name: e.Alert + " for " + e.Object + " " + e.When(), Passed: ok, Message: msg})
		}
		if len(ev.in.sc.Expect) > 0 {
			ev.coverage = s.scenarioCoverage(ctx, req, ev)
		}
	} else {
		res.View = promtoolView(ev)
		res.Checks = append(res.Checks, s.promtoolChecks(ctx, req, ev)...)
	}
	res.Coverage = ev.coverage
	var svg bytes.Buffer
	_ = timeline.WriteSVG(&svg, res.View, timeline.SVGOptions{Width: min(req.Width, maxWidth)})
	res.SVG = svg.String()
	res.Stats = Stats{Series: len(ev.in.series), Evals: int(ev.in.end/ev.in.evalInterval) + 1, Queries: ev.queries}
	for _, ser := range ev.in.series {
		res.Stats.Samples += len(ser.Samples)
	}
	if len(ev.alertNames) == 0 {
		res.Notes = append(res.Notes, "the rules have no alerting rule")
	}
	res.Stats.ElapsedMS = time.Since(start).Milliseconds()
	return res
}

func promtoolView(ev *evaluation) *timeline.View {
	v := timeline.FromSeries(ev.tl, ev.in.series, ev.in.start)
	v.Title = "promtool input"
	if ev.in.form == formFile {
		v.Title = ev.in.groupNames[ev.in.groupIndex]
	}
	v.Subtitle = fmt.Sprintf("interval %s, evaluation_interval %s", model.Duration(ev.in.groupInterval), model.Duration(ev.in.evalInterval))
	if ev.in.start.Unix() != 0 {
		v.Subtitle += ", start " + ev.in.start.UTC().Format(time.RFC3339)
	}
	return v
}

// evaluate reads both editors and replays; problems say what stopped it.
func (s *Server) evaluate(ctx context.Context, req Request) (*evaluation, []Problem) {
	lim := s.limits
	eng := s.engine()
	loader := rulefile.NewLoader(eng.Parser(), false)
	loader.Preload(RulesFile, []byte(req.Rules))
	var problems []Problem
	rf, err := loader.LoadFile(RulesFile)
	if err != nil {
		problems = append(problems, ruleProblems(err)...)
	}
	in, inProblems := parseInput([]byte(req.Input), req.Group, lim)
	problems = append(problems, inProblems...)
	if len(problems) > 0 {
		if in != nil {
			return &evaluation{in: in}, problems
		}
		return nil, problems
	}
	ev := &evaluation{in: in, loader: loader, rules: rf}
	for _, g := range rf.Groups {
		for _, r := range g.RuleGroup.Rules {
			if r.Alert != "" && !contains(ev.alertNames, r.Alert) {
				ev.alertNames = append(ev.alertNames, r.Alert)
			}
		}
	}
	sort.Strings(ev.alertNames)
	ctx, cancel := context.WithTimeout(ctx, lim.Timeout)
	defer cancel()
	err = errStopped // reading the input may have taken the time
	if ctx.Err() == nil {
		err = ev.replay(ctx, eng, lim)
	}
	if err != nil {
		ev.tl = nil
		if errors.Is(err, errStopped) || ctx.Err() != nil {
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return ev, []Problem{{Severity: "error", Message: fmt.Sprintf("the evaluation took longer than the sandbox's limit of %s (gotk-rules serve --timeout)", lim.Timeout)}}
			}
			return ev, []Problem{{Severity: "error", Message: "the evaluation was cancelled"}}
		}
		return ev, evalProblems(err, rf)
	}
	return ev, nil
}

// replay runs the rules over the input, with every query bounded by the
// context and counted.
func (ev *evaluation) replay(ctx context.Context, eng *evaluator.Engine, lim Limits) error {
	in := ev.in
	// The bounded query function evaluates as the session would.
	qe := eng.QueryEngine(in.evalInterval)
	defer func() { _ = qe.Close() }()
	var queries atomic.Int64
	var inner rules.QueryFunc
	bounded := func(qctx context.Context, q string, t time.Time) (promql.Vector, error) {
		if n := queries.Add(1); n > lim.MaxQueries {
			return nil, fmt.Errorf("more than %d queries in one evaluation, the sandbox's limit", lim.MaxQueries)
		}
		if ctx.Err() != nil {
			return nil, errStopped
		}
		qctx, cancel := context.WithCancel(qctx)
		defer cancel()
		stop := context.AfterFunc(ctx, cancel)
		defer stop()
		return inner(qctx, q, t)
	}
	sess, err := eng.NewSession(evaluator.SessionOptions{
		EvalInterval:   in.evalInterval,
		GroupInterval:  in.groupInterval,
		ExternalLabels: in.extLabels,
		ExternalURL:    in.extURL,
		Loader:         ev.loader,
		QueryFunc:      bounded,
	})
	if err != nil {
		return err
	}
	defer func() { _ = sess.Close() }()
	inner = rules.EngineQueryFunc(qe, sess.Storage())
	if errs := sess.LoadRules([]string{RulesFile}, nil); errs != nil {
		return errors.Join(errs...)
	}
	for _, ser := range in.series {
		// Compacting a series costs as much as a few evaluations.
		if ctx.Err() != nil {
			return errStopped
		}
		sess.AddSeries(ser)
	}

	ev.firing = map[time.Duration][]scenario.Firing{}
	var prevKey string
	var prev []scenario.Firing
	prevAt := time.Duration(-1)
	last := in.end.Truncate(in.evalInterval)
	observe := func(ts time.Time) error {
		if ctx.Err() != nil {
			return errStopped
		}
		at := ts.Sub(in.start)
		now := scenario.FiringNow(sess)
		key := firingKey(now)
		if at == 0 || at >= last || key != prevKey {
			if prevAt >= 0 && key != prevKey {
				ev.firing[prevAt] = prev
			}
			ev.firing[at] = now
		}
		prevKey, prev, prevAt = key, now, at
		return nil
	}
	tl, err := sess.ReplayFunc(ctx, in.start, in.start.Add(in.end), observe)
	ev.queries = queries.Load()
	if err != nil {
		if ctx.Err() != nil {
			return errStopped
		}
		return err
	}
	ev.tl = tl
	return nil
}

func firingKey(fs []scenario.Firing) string {
	keys := make([]string, len(fs))
	for i, f := range fs {
		keys[i] = f.Labels.String() + f.Annotations.String()
	}
	sort.Strings(keys)
	return strings.Join(keys, "\x00")
}

// ruleProblems places the rule file's load errors in the rules editor.
func ruleProblems(err error) []Problem {
	var list rulefile.ErrorList
	if errors.As(err, &list) {
		out := make([]Problem, 0, len(list))
		for _, e := range list {
			out = append(out, Problem{Editor: EditorRules, Line: max(e.Line, 1), Column: max(e.Column, 1), Severity: "error", Message: e.Msg})
		}
		return out
	}
	return []Problem{{Editor: EditorRules, Line: 1, Column: 1, Severity: "error", Message: err.Error()}}
}

// evalProblems places rule evaluation errors at their rule's expression.
func evalProblems(err error, rf *rulefile.File) []Problem {
	var errs []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	} else {
		errs = []error{err}
	}
	var out []Problem
	for _, e := range errs {
		p := Problem{Severity: "error", Message: e.Error()}
		var re evaluator.RuleError
		if errors.As(e, &re) {
			p.Editor, p.Line, p.Column = EditorRules, 1, 1
			p.Message = fmt.Sprintf("rule %q failed at %s: %v", re.Rule, model.Duration(re.Time.Sub(time.Unix(0, 0))), re.Err)
			for _, g := range rf.Groups {
				if g.Name != re.Group {
					continue
				}
				for i, r := range g.RuleGroup.Rules {
					if (r.Alert == re.Rule || r.Record == re.Rule) && i < len(g.Rules) {
						pos := g.Rules[i].Expr
						if pos.Line == 0 {
							pos = g.Rules[i].Pos
						}
						p.Line, p.Column = max(pos.Line, 1), max(pos.Column, 1)
					}
				}
			}
		}
		out = append(out, p)
	}
	if len(out) == 0 {
		// A joined error of no errors still failed: say so.
		out = append(out, Problem{Severity: "error", Message: cmp.Or(err.Error(), "failed without saying why (please report it)")})
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
