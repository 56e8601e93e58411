package rulediff

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	yamlv2 "go.yaml.in/yaml/v2"

	"github.com/gotk-rules/gotk-rules/backtest"
	"github.com/gotk-rules/gotk-rules/budget"
	"github.com/gotk-rules/gotk-rules/evaluator"
	"github.com/gotk-rules/gotk-rules/internal/yamlpos"
	"github.com/gotk-rules/gotk-rules/scenario"
	"github.com/gotk-rules/gotk-rules/series"
	"github.com/gotk-rules/gotk-rules/unittest"
	"github.com/gotk-rules/gotk-rules/verify"
)

// InputKind says where an input's series come from.
type InputKind string

// Kinds of input.
const (
	// KindTest is one test group's input_series of a promtool test file.
	KindTest InputKind = "test"
	// KindScenario is a scenario file's generated series.
	KindScenario InputKind = "scenario"
	// KindRandom is one of verify's random lives, in one era and scrape setup.
	KindRandom InputKind = "random"
	// KindURL is a Prometheus server's history, as backtest reads it.
	KindURL InputKind = "url"
)

// Input is one set of series both rule sets are replayed over.
type Input struct {
	Kind InputKind
	// Name says which input: a file and group, a scenario, a life, a URL.
	Name string
	// Absolute: the input's times are wall-clock times; else offsets from
	// its start are shown.
	Absolute bool
	// Scenario, when the input is generated from one, gives the failure
	// episodes time to fire is measured from.
	Scenario *scenario.Scenario
	// Replay replays the input through a rule set. It is called once per
	// rule set, maybe concurrently.
	Replay func(ctx context.Context, rs *RuleSet) (*evaluator.Timeline, error)
}

// ScenarioInput is a scenario replayed as `gotk-rules replay` does (the
// scenario's own rule_files are not used: each side's rules are). A
// replay of more than maxEvals evaluations (zero: the default) is refused.
func ScenarioInput(kind InputKind, name string, sc *scenario.Scenario, eng *evaluator.Engine, maxEvals int64) Input {
	return Input{Kind: kind, Name: name, Scenario: sc,
		Replay: func(ctx context.Context, rs *RuleSet) (*evaluator.Timeline, error) {
			rep, err := scenario.Run(ctx, sc, scenario.RunOptions{Engine: eng, RuleFiles: rs.Files, Loader: rs.Loader, SkipAnnotations: true, MaxEvals: maxEvals})
			if err != nil {
				return nil, err
			}
			return rep.Timeline, nil
		}}
}

// RandomOptions choose verify's random lives (verify.Life): the same seed
// gives the same lives, in every era and scrape setup.
type RandomOptions struct {
	Runs int
	Seed int64
	// Duration of each life (default 2h, as verify's).
	Duration      time.Duration
	SecondTargets bool
	Eras          []scenario.Era
	Scrapes       []scenario.Scrape
	// MaxEvals bounds each life's replay (zero: the default).
	MaxEvals int64
}

func (o RandomOptions) withDefaults() RandomOptions {
	if o.Duration == 0 {
		o.Duration = 2 * time.Hour
	}
	if len(o.Eras) == 0 {
		o.Eras = scenario.Eras
	}
	if len(o.Scrapes) == 0 {
		o.Scrapes = scenario.Scrapes
	}
	return o
}

// RandomInputs are verify's random lives, run by run, in every era and
// scrape setup asked for: the lives `gotk-rules verify --runs N --seed S`
// judges.
func RandomInputs(eng *evaluator.Engine, o RandomOptions) []Input {
	o = o.withDefaults()
	vo := verify.Options{Duration: o.Duration, SecondTargets: o.SecondTargets}
	var out []Input
	for _, era := range o.Eras {
		for _, scrape := range o.Scrapes {
			for run := range o.Runs {
				sc := verify.Life(o.Seed, run, vo)
				sc.Era, sc.Scrape = era, scrape
				name := fmt.Sprintf("seed %d run %d, era %s, scrape %s", o.Seed, run, era, scrape)
				out = append(out, ScenarioInput(KindRandom, name, sc, eng, o.MaxEvals))
			}
		}
	}
	return out
}

// TestLimits bound a test file's inputs.
type TestLimits struct {
	// MaxSeries and MaxSamples bound each group's input series
	// (unittest.InputLimits).
	MaxSeries  int
	MaxSamples uint64
	// MaxEvals bounds each group's replay (zero: budget.DefaultReplayEvaluations).
	MaxEvals int64
}

// TestFileInputs are the test groups of a promtool test file, one input
// each: its input_series, read as promtool reads them, replayed from the
// group's start_timestamp every evaluation_interval up to its last
// eval_time or the end of its longest series, whichever is later. The
// file's rule_files and assertions are not used. Errors are one line,
// file:line:col: message; a budget exceeded is a *budget.ExceededError
// in the chain.
func TestFileInputs(path string, b []byte, eng *evaluator.Engine, lim TestLimits) ([]Input, error) {
	if m, ok := yamlpos.CheckText(b); ok {
		return nil, errors.New(m.In(path))
	}
	var tf unittest.TestFile
	if err := yamlv2.UnmarshalStrict(b, &tf); err != nil {
		ms := yamlpos.Messages(err.Error())
		if len(ms) == 0 {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		m := ms[0]
		if m.Line == 0 {
			// A duration model.Duration refused: at the first value
			// that gives the same error.
			m.Msg = strings.TrimPrefix(m.Msg, "yaml: ")
			m.Line, m.Column, _ = yamlpos.FindValue(b, func(_, value string) bool {
				_, err := model.ParseDuration(value)
				return err != nil && err.Error() == m.Msg
			})
		}
		return nil, errors.New(yamlpos.Place(b, []yamlpos.Message{m})[0].In(path))
	}
	pos := yamlpos.Parse(b)
	at := func(p ...any) string {
		line, col := pos.At(p...)
		return fmt.Sprintf("%s:%d:%d", path, max(line, 1), max(col, 1))
	}
	evalIvl := time.Duration(tf.EvaluationInterval)
	if evalIvl == 0 {
		evalIvl = time.Minute
	}
	if evalIvl < 0 {
		return nil, fmt.Errorf("%s: evaluation_interval must be positive", at("evaluation_interval"))
	}
	if len(tf.Tests) == 0 {
		return nil, fmt.Errorf("%s: no test group (tests:) to take input series from", at())
	}
	maxEvals := lim.MaxEvals
	if maxEvals <= 0 {
		maxEvals = budget.DefaultReplayEvaluations
	}
	var out []Input
	for i, tg := range tf.Tests {
		groupIvl := time.Duration(tg.Interval)
		if groupIvl == 0 {
			groupIvl = evalIvl
		}
		if groupIvl < 0 {
			return nil, fmt.Errorf("%s: interval must be positive", at("tests", i, "interval"))
		}
		if err := unittest.CheckInputLimits(tg.InputSeries, unittest.InputLimits{MaxSeries: lim.MaxSeries, MaxSamples: lim.MaxSamples}); err != nil {
			var errs unittest.InputErrors
			if errors.As(err, &errs) && len(errs) > 0 {
				err = errs[0].Err
			}
			return nil, fmt.Errorf("%s: %w", at("tests", i, "input_series"), err)
		}
		start := scenario.Epoch
		if !tg.StartTimestamp.IsZero() {
			start = tg.StartTimestamp.Time.UTC()
		}
		list, err := unittest.ReadInputSeries(tg.InputSeries, unittest.InputOptions{Start: start, Step: groupIvl},
			func(s series.Series, values int) series.Series { return s })
		if err != nil {
			var errs unittest.InputErrors
			if errors.As(err, &errs) && len(errs) > 0 && errs[0].Index >= 0 {
				return nil, fmt.Errorf("%s: %v", at("tests", i, "input_series", errs[0].Index, errs[0].Field), errs[0])
			}
			return nil, fmt.Errorf("%s: %v", at("tests", i, "input_series"), err)
		}
		var end time.Duration
		for _, a := range tg.AlertRuleTests {
			end = max(end, time.Duration(a.EvalTime))
		}
		for _, e := range tg.PromqlExprTests {
			end = max(end, time.Duration(e.EvalTime))
		}
		for _, s := range list {
			if n := len(s.Samples); n > 0 {
				end = max(end, time.Duration(s.Samples[n-1].T-start.UnixMilli())*time.Millisecond)
			}
		}
		if steps := int64(end/evalIvl) + 1; steps > maxEvals {
			err := &budget.ExceededError{Budget: budget.ReplayEvaluations, Limit: uint64(maxEvals), Asked: uint64(steps),
				Subject: fmt.Sprintf("replaying to %s every %s takes %d evaluations", model.Duration(end), model.Duration(evalIvl), steps)}
			return nil, fmt.Errorf("%s: %w", at("tests", i), err)
		}
		name := fmt.Sprintf("%s, tests[%d]", path, i)
		if tg.TestGroupName != "" {
			name = fmt.Sprintf("%s, group %q", path, tg.TestGroupName)
		}
		out = append(out, Input{Kind: KindTest, Name: name,
			Replay: func(ctx context.Context, rs *RuleSet) (*evaluator.Timeline, error) {
				sess, err := eng.NewSession(evaluator.SessionOptions{
					EvalInterval:    evalIvl,
					GroupInterval:   groupIvl,
					ExternalLabels:  tg.ExternalLabels,
					ExternalURL:     tg.ExternalURL,
					Loader:          rs.Loader,
					SkipAnnotations: true,
				})
				if err != nil {
					return nil, err
				}
				defer sess.Close()
				ins := make([]evaluator.Input, len(list))
				for k, s := range list {
					ins[k] = evaluator.NewInput(s)
				}
				sess.AddInputs(ins...)
				// group_eval_order names the test file's groups, not
				// necessarily either side's: rule file order is used.
				if errs := sess.LoadRules(rs.Files, nil); errs != nil {
					return nil, firstProblem(errors.Join(errs...))
				}
				return sess.Replay(ctx, start, start.Add(end))
			}})
	}
	return out, nil
}

// URLInput is a Prometheus server's history, replayed as `gotk-rules
// backtest` does: opts are the backtest's, but for its rules (each side's)
// and the comparison with ALERTS (not made). Errors are backtest's:
// *backtest.InputError, *backtest.Error.
func URLInput(opts backtest.Options) Input {
	opts.CompareAlerts = false
	return Input{Kind: KindURL, Name: opts.Client.URL(), Absolute: true,
		Replay: func(ctx context.Context, rs *RuleSet) (*evaluator.Timeline, error) {
			o := opts
			o.Loader, o.RuleFiles = rs.Loader, rs.Files
			bt, err := backtest.New(o)
			if err != nil {
				return nil, err
			}
			defer bt.Close()
			res, err := bt.Run(ctx)
			if err != nil {
				return nil, err
			}
			return res.Timeline, nil
		}}
}
