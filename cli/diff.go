package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"time"

	"github.com/spf13/cobra"

	gotkrules "github.com/gotk-rules/gotk-rules"
	"github.com/gotk-rules/gotk-rules/backtest"
	"github.com/gotk-rules/gotk-rules/budget"
	"github.com/gotk-rules/gotk-rules/evaluator"
	"github.com/gotk-rules/gotk-rules/internal/boundedio"
	"github.com/gotk-rules/gotk-rules/rulediff"
	"github.com/gotk-rules/gotk-rules/scenario"
	"github.com/gotk-rules/gotk-rules/verify"
)

type diffFlags struct {
	tests, scenarios []string
	random           int
	seed             int64
	randomDuration   time.Duration
	format           string
	repo             string
	maxSeries        int
	maxSamples       uint64
	maxEvals         int64
	// --url and the flags that reach the server, as backtest's.
	bt diffServerFlags
}

// diffServerFlags are the backtest flags diff takes for --url (its own
// copy: backtest's command has more, about its output).
type diffServerFlags struct {
	url             string
	from, to, step  string
	headers         []string
	bearerTokenFile string
	tls             backtest.TLSOptions
	timeout         string
	retries         int
	concurrency     int
	maxPoints       int
}

func newDiffCommand(g *globals) *cobra.Command {
	var f diffFlags
	cmd := &cobra.Command{
		Use:   "diff OLD NEW",
		Short: "Show what a rule change does to alerting: firing intervals gained and lost on the same inputs",
		Long: `Replay two versions of alerting rules over the same inputs and report, per
alert name and label set, the firing intervals gained and lost, label sets
that start or stop firing, firings per day, time from pending to firing and
from firing to resolved, and, on scenarios, time from an object's failure to
the alert firing and from the failure's end to the alert resolving.

OLD and NEW are each a rule file, a directory of rule files, or
git:REV:path (a file or directory as the git revision REV holds it, read
with git in --repo), such as git:main:rules/ against rules/.

Inputs (any mix; default: the shipped scenarios):
  --tests FILE      the input_series of every group of a promtool test file
  --scenario FILE   a scenario's generated series (as replay)
  --random N        verify's random lives: N per era and scrape setup, from
                    --seed (the lives verify --runs N --seed S judges), and
                    verify's verdicts before and after
  --url URL         a Prometheus server's history, as backtest reads it
                    (--from, --to, --step and backtest's connection flags)

Only firing is compared: a change that leaves every alert firing at the same
evaluations (a pending-only change, an annotation) is no change.

Exit codes: 0 nothing changed, 1 alerting behaviour changed, 2 bad input.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDiff(cmd.Context(), g, &f, args[0], args[1])
		},
	}
	fl := cmd.Flags()
	fl.StringArrayVar(&f.tests, "tests", nil, "promtool test file whose input series to replay (repeatable)")
	fl.StringArrayVar(&f.scenarios, "scenario", nil, "scenario file to replay (repeatable)")
	fl.IntVar(&f.random, "random", 0, "replay this many of verify's random lives per era and scrape setup, and compare verify's verdicts")
	fl.Int64Var(&f.seed, "seed", 1, "random seed of --random (same seed, same lives)")
	fl.DurationVar(&f.randomDuration, "random-duration", 2*time.Hour, "length of each random life")
	fl.StringVar(&f.format, "format", "text", "output format: text, json or markdown")
	fl.StringVar(&f.repo, "repo", "", "directory git runs in for git:REV:path (default: the working directory)")
	fl.IntVar(&f.maxSeries, "max-series", budget.DefaultInputSeries, "most series a scenario or test group may have")
	fl.Uint64Var(&f.maxSamples, "max-samples", budget.DefaultInputSamples, "most samples a scenario or test group may have")
	fl.Int64Var(&f.maxEvals, "max-evals", budget.DefaultReplayEvaluations, "most evaluations one replay may take (each side of each input; --url: the backtest's)")
	// The server's history, as backtest's flags.
	b := &f.bt
	fl.StringVar(&b.url, "url", "", "base URL of a Prometheus query API whose history to replay (as backtest)")
	fl.StringVar(&b.from, "from", "-7d", "--url: first evaluation: RFC 3339, now, or a duration before now (-7d)")
	fl.StringVar(&b.to, "to", "now", "--url: last evaluation: RFC 3339, now, or a duration before now")
	fl.StringVar(&b.step, "step", "1m", "--url: time between evaluations")
	fl.StringArrayVar(&b.headers, "header", nil, `--url: HTTP header sent with every request, "Name: value" (repeatable)`)
	fl.StringVar(&b.bearerTokenFile, "bearer-token-file", "", `--url: send the token in this file as "Authorization: Bearer TOKEN"`)
	fl.StringVar(&b.tls.CAFile, "tls-ca-file", "", "--url: CA certificates (PEM) to verify the server with")
	fl.StringVar(&b.tls.CertFile, "tls-cert-file", "", "--url: client certificate (PEM), with --tls-key-file")
	fl.StringVar(&b.tls.KeyFile, "tls-key-file", "", "--url: client key (PEM), with --tls-cert-file")
	fl.BoolVar(&b.tls.InsecureSkipVerify, "tls-insecure-skip-verify", false, "--url: do not verify the server's certificate")
	fl.StringVar(&b.timeout, "timeout", "2m", "--url: most time one HTTP request may take")
	fl.IntVar(&b.retries, "retries", backtest.DefaultRetries, "--url: retries of a request answered 429 or 5xx or cut off")
	fl.IntVar(&b.concurrency, "concurrency", backtest.DefaultConcurrency, "--url: most requests in flight at once")
	fl.IntVar(&b.maxPoints, "max-points", backtest.DefaultMaxPoints, "--url: most evaluations one query_range asks for")
	return cmd
}

func runDiff(ctx context.Context, g *globals, f *diffFlags, oldSpec, newSpec string) error {
	if ctx == nil {
		ctx = context.Background()
	}
	switch f.format {
	case "text", "json", "markdown":
	default:
		return badInput(fmt.Errorf("--format %q: want text, json or markdown", f.format))
	}
	switch {
	case f.random < 0 || f.random > 100_000:
		return badInput(fmt.Errorf("--random %d: want 0 to 100000", f.random))
	case f.randomDuration < 10*time.Minute || f.randomDuration > 7*24*time.Hour:
		return badInput(fmt.Errorf("--random-duration %s: want 10m to 168h", f.randomDuration))
	case f.maxEvals < 1:
		return badInput(fmt.Errorf("--max-evals %d: want at least 1", f.maxEvals))
	case f.maxSeries < 1:
		return badInput(fmt.Errorf("--max-series %d: want at least 1", f.maxSeries))
	case f.maxSamples < 1:
		return badInput(fmt.Errorf("--max-samples %d: want at least 1", f.maxSamples))
	}
	eng := g.engine()
	lopts := rulediff.LoadOptions{Engine: eng, Input: g.input, GitDir: f.repo}
	old, err := rulediff.LoadRuleSet(ctx, oldSpec, lopts)
	if err != nil {
		return badInput(err)
	}
	cur, err := rulediff.LoadRuleSet(ctx, newSpec, lopts)
	if err != nil {
		return badInput(err)
	}
	inputs, err := f.inputs(g, eng)
	if err != nil {
		return badInput(err)
	}
	counter, bar := g.progress("replays")
	counter.AddTotal(int64(2 * len(inputs)))
	for i := range inputs {
		replay := inputs[i].Replay
		inputs[i].Replay = func(ctx context.Context, rs *rulediff.RuleSet) (*evaluator.Timeline, error) {
			defer counter.Add(1)
			return replay(ctx, rs)
		}
	}
	rep, err := rulediff.Run(ctx, old, cur, inputs, 0)
	if err == nil && f.random > 0 {
		ro := f.randomOptions()
		rep.Random = &ro
		rep.Verdicts, err = rulediff.VerdictsOf(ctx, verify.Options{Engine: eng, Runs: f.random, Seed: f.seed, Duration: f.randomDuration}, old, cur)
	}
	bar.Stop()
	if err != nil {
		return diffError(ctx, err)
	}
	var buf bytes.Buffer
	switch f.format {
	case "json":
		err = rep.WriteJSON(&buf)
	case "markdown":
		err = rep.WriteMarkdown(&buf)
	default:
		err = rep.WriteText(&buf)
	}
	if err != nil {
		return err
	}
	if _, err := g.stdout.Write(buf.Bytes()); err != nil {
		return err
	}
	if rep.Changed() {
		return &exitError{code: ExitFailed}
	}
	return nil
}

// diffError gives a replay's error its exit code: a server that failed
// along the way or an interrupted run is 1, the rest bad input.
func diffError(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return &exitError{code: ExitFailed, err: fmt.Errorf("interrupted: %w", err)}
	}
	if _, ok := errors.AsType[*backtest.Error](err); ok {
		return backtestError(ctx, err)
	}
	return badInput(err)
}

func (f *diffFlags) randomOptions() rulediff.RandomOptions {
	return rulediff.RandomOptions{Runs: f.random, Seed: f.seed, Duration: f.randomDuration, MaxEvals: f.maxEvals}
}

// inputs gathers the inputs the flags name, or the shipped scenarios.
func (f *diffFlags) inputs(g *globals, eng *evaluator.Engine) ([]rulediff.Input, error) {
	var out []rulediff.Input
	lim := scenario.Limits{MaxSeries: f.maxSeries, MaxSamples: f.maxSamples, Input: g.input}
	for _, path := range f.tests {
		b, err := readInput(path, g.input)
		if err != nil {
			return nil, err
		}
		ins, err := rulediff.TestFileInputs(path, b, eng, rulediff.TestLimits{MaxSeries: f.maxSeries, MaxSamples: f.maxSamples, MaxEvals: f.maxEvals})
		if err != nil {
			return nil, err
		}
		out = append(out, ins...)
	}
	for _, path := range f.scenarios {
		if err := precheckObjects(path, f.maxSeries, g.input); err != nil {
			return nil, err
		}
		sc, err := scenario.LoadFile(path, lim)
		if err != nil {
			return nil, err
		}
		out = append(out, rulediff.ScenarioInput(rulediff.KindScenario, path, sc, eng, f.maxEvals))
	}
	if f.random > 0 {
		// verify's own budget, checked before any life is replayed.
		life := verify.Life(f.seed, 0, verify.Options{Duration: f.randomDuration})
		if n := int64(f.random*len(scenario.Eras)*len(scenario.Scrapes)) * scenario.Evaluations(life); n > budget.DefaultVerifyEvaluations {
			return nil, fmt.Errorf("--random %d: %d lives of %s in %d eras and scrape setups take %d evaluations per rule set, over the limit of %d (lower --random or --random-duration)",
				f.random, f.random, f.randomDuration, len(scenario.Eras)*len(scenario.Scrapes), n, budget.DefaultVerifyEvaluations)
		}
		out = append(out, rulediff.RandomInputs(eng, f.randomOptions())...)
	}
	if f.bt.url != "" {
		in, err := f.urlInput(g, eng)
		if err != nil {
			return nil, err
		}
		out = append(out, in)
	}
	if len(f.tests)+len(f.scenarios) == 0 && f.random == 0 && f.bt.url == "" {
		paths, err := fs.Glob(gotkrules.Shipped, gotkrules.ShippedScenarios)
		if err != nil || len(paths) == 0 {
			return nil, fmt.Errorf("no shipped scenarios found in the binary")
		}
		for _, p := range paths {
			b, err := boundedio.ReadFS(gotkrules.Shipped, p, g.input)
			if err != nil {
				return nil, err
			}
			sc, err := scenario.Parse(p, b, lim)
			if err != nil {
				return nil, err
			}
			out = append(out, rulediff.ScenarioInput(rulediff.KindScenario, p, sc, eng, f.maxEvals))
		}
	}
	return out, nil
}

// readInput reads a file within the input limits, its errors naming it.
func readInput(path string, lim boundedio.Limits) ([]byte, error) {
	b, err := boundedio.ReadFile(path, lim)
	if err != nil {
		if pe, ok := errors.AsType[*fs.PathError](err); ok {
			return nil, fmt.Errorf("%s: %s: %w", path, pe.Op, pe.Err)
		}
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return b, nil
}

// urlInput is the server's history, with backtest's options from the
// flags (its rules are each side's; unset options are backtest's
// defaults).
func (f *diffFlags) urlInput(g *globals, eng *evaluator.Engine) (rulediff.Input, error) {
	b := &f.bt
	now := time.Now()
	from, err := backtest.ParseTime(b.from, now)
	if err != nil {
		return rulediff.Input{}, fmt.Errorf("--from %w", err)
	}
	to, err := backtest.ParseTime(b.to, now)
	if err != nil {
		return rulediff.Input{}, fmt.Errorf("--to %w", err)
	}
	step, err := promDuration("step", b.step)
	if err != nil {
		return rulediff.Input{}, err
	}
	timeout, err := promDuration("timeout", b.timeout)
	if err != nil {
		return rulediff.Input{}, err
	}
	switch {
	case step < time.Second:
		return rulediff.Input{}, fmt.Errorf("--step %s: want at least 1s", b.step)
	case timeout <= 0:
		return rulediff.Input{}, fmt.Errorf("--timeout %s: want more than 0", b.timeout)
	case b.retries < 0:
		return rulediff.Input{}, fmt.Errorf("--retries %d: want 0 or more", b.retries)
	case b.concurrency < 1:
		return rulediff.Input{}, fmt.Errorf("--concurrency %d: want 1 or more", b.concurrency)
	case b.maxPoints < 1:
		return rulediff.Input{}, fmt.Errorf("--max-points %d: want 1 or more", b.maxPoints)
	}
	headers := http.Header{}
	for _, h := range b.headers {
		name, value, err := backtest.ParseHeader(h)
		if err != nil {
			return rulediff.Input{}, err
		}
		headers.Add(name, value)
	}
	var token string
	if b.bearerTokenFile != "" {
		if token, err = backtest.ReadBearerTokenWithin(b.bearerTokenFile, g.input); err != nil {
			return rulediff.Input{}, err
		}
	}
	tlsCfg, err := b.tls.ConfigWithin(g.input)
	if err != nil {
		return rulediff.Input{}, err
	}
	copts := backtest.ClientOptions{URL: b.url, Headers: headers, BearerToken: token, TLS: tlsCfg, Timeout: timeout, Retries: b.retries, Concurrency: b.concurrency}
	if b.retries == 0 {
		copts.Retries = -1
	}
	client, err := backtest.NewClient(copts)
	if err != nil {
		return rulediff.Input{}, err
	}
	opts := backtest.Options{Client: client, Engine: eng, From: from, To: to, Step: step, MaxPoints: b.maxPoints, MaxEvals: backtest.DefaultMaxEvals}
	if f.maxEvals != budget.DefaultReplayEvaluations {
		opts.MaxEvals = int(min(f.maxEvals, 1<<31-1))
	}
	return rulediff.URLInput(opts), nil
}
