package cli

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sync"
	"time"

	"github.com/spf13/cobra"

	gotkrules "github.com/gotk-rules/gotk-rules"
	"github.com/gotk-rules/gotk-rules/budget"
	"github.com/gotk-rules/gotk-rules/internal/progress"
	"github.com/gotk-rules/gotk-rules/unittest"
)

type testFlags struct {
	run                 []string
	junit               string
	format              string
	diff                bool
	debug               bool
	ignoreUnknownFields bool
	maxSamples          uint64
	maxSeries           int
	maxEvals            int64
	parallel            int
	parallelSet         bool // --parallel was given: 0 is then refused
	exact               bool
	strict              bool
	cover               coverFlags
}

func newTestCommand(g *globals) *cobra.Command {
	var f testFlags
	cmd := &cobra.Command{
		Use:   "test [FILE...]",
		Short: "Run promtool rule unit test files (with no file: the shipped tests)",
		Long: `Run promtool "test rules" files unchanged: rule_files relative to the test
file, evaluation_interval, group_eval_order, input_series in expanding
notation, alert_rule_test, promql_expr_test, external labels and URL,
fuzzy_compare and start_timestamp.

With no FILE, runs the tests shipped in the binary against the shipped rules.

Warnings (a rule_files pattern matching nothing, as promtool; vacuous
assertions) are printed and do not change the exit code, unless --strict.

Exit codes: 0 all passed, 1 a test failed (or a warning with --strict),
2 bad input.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			f.parallelSet = cmd.Flags().Changed("parallel")
			return runTest(cmd.Context(), g, &f, args)
		},
	}
	fl := cmd.Flags()
	fl.StringArrayVar(&f.run, "run", nil, "only run test groups whose name matches this regular expression (repeatable)")
	fl.StringVar(&f.junit, "junit", "", "write JUnit XML results to this file")
	fl.StringVar(&f.format, "format", "text", "output format: text or json")
	fl.BoolVar(&f.diff, "diff", false, "show failed assertions as a diff of expected and got")
	fl.BoolVar(&f.debug, "debug", false, "dump every series of each group to stderr when it ends")
	fl.BoolVar(&f.ignoreUnknownFields, "ignore-unknown-fields", false, "accept fields Prometheus does not know in test and rule files")
	fl.Uint64Var(&f.maxSamples, "max-samples", budget.DefaultInputSamples, "most input samples one test group may expand to")
	fl.IntVar(&f.maxSeries, "max-series", budget.DefaultInputSeries, "most input series one test group may have")
	fl.Int64Var(&f.maxEvals, "max-evals", budget.DefaultGroupEvaluations, "most rule evaluations one test group may take")
	fl.BoolVar(&f.strict, "strict", false, "fail on every warning (where promtool only warns, and vacuous assertions; docs/warnings.md): exit 1")
	fl.BoolVar(&f.exact, "exact", false, "evaluate every rule step by step as promtool does, without the range-query fast path (same results, slower)")
	fl.IntVar(&f.parallel, "parallel", 0, "test groups run at once (default: number of CPUs)")
	f.cover.register(fl)
	return cmd
}

func runTest(ctx context.Context, g *globals, f *testFlags, args []string) error {
	if f.format != "text" && f.format != "json" {
		return badInput(fmt.Errorf("--format %q: want text or json", f.format))
	}
	if err := checkTestFlags(f); err != nil {
		return badInput(err)
	}
	if err := f.cover.check(); err != nil {
		return badInput(err)
	}
	opts := unittest.Options{
		Engine:              g.engine(),
		Run:                 f.run,
		IgnoreUnknownFields: f.ignoreUnknownFields,
		MaxSamples:          f.maxSamples,
		MaxSeries:           f.maxSeries,
		MaxEvals:            f.maxEvals,
		Hint:                budgetHint,
		Parallel:            f.parallel,
		Exact:               f.exact,
		Strict:              f.strict,
		Input:               g.input,
	}
	if f.debug {
		// Groups run in parallel and each writes its dump.
		opts.Debug = &lockedWriter{w: g.stderr}
	}
	files := args
	if len(files) == 0 {
		var err error
		files, err = fs.Glob(gotkrules.Shipped, gotkrules.ShippedTests)
		scenarios, serr := fs.Glob(gotkrules.Shipped, gotkrules.ShippedScenarios)
		files = append(files, scenarios...)
		if err != nil || serr != nil || len(files) == 0 {
			return badInput(fmt.Errorf("no shipped tests found in the binary"))
		}
		opts.FS = gotkrules.Shipped
	} else {
		warnEmptyRuleDirs(g.stderr, files, g.input)
	}
	var bar *progress.Bar
	opts.Progress, bar = g.progress("evaluations")
	defer bar.Stop()
	col := f.cover.hook(&opts)
	runner, err := unittest.NewRunner(opts)
	if err != nil {
		return badInput(err)
	}
	res := runner.RunContext(ctx, files...)
	bar.Stop()
	if err := ctx.Err(); err != nil {
		return &exitError{code: ExitFailed, err: fmt.Errorf("interrupted: %w", err)}
	}
	cov, err := f.cover.report(ctx, col, res, opts)
	if err != nil {
		return err
	}

	if f.junit != "" {
		if err := writeFile(f.junit, func(w io.Writer) error { return unittest.WriteJUnit(w, res, time.Now()) }); err != nil {
			return badInput(fmt.Errorf("--junit: %w", err))
		}
	}
	switch f.format {
	case "json":
		err = f.cover.writeTestJSON(g.stdout, res, cov)
	default:
		// A file's bad input goes to stderr, not into the report.
		err = unittest.WriteText(g.stdout, res.WithoutBadInput(), f.diff)
		if err == nil {
			err = f.cover.writeSummary(g.stdout, cov)
		}
	}
	if err != nil {
		return err
	}
	for _, l := range res.BadInputLines() {
		fmt.Fprintln(g.stderr, l)
	}
	if err := f.cover.checkMin(cov, res.ExitCode()); err != nil {
		return err
	}
	if code := res.ExitCode(); code != unittest.ExitPassed {
		return &exitError{code: code}
	}
	return nil
}

// writeFile writes a whole file, or nothing when write fails.
func writeFile(path string, write func(io.Writer) error) error {
	tmp, err := os.CreateTemp(dirOf(path), ".gotk-rules-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := write(tmp); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

func dirOf(path string) string {
	for i := len(path) - 1; i >= 0; i-- {
		if os.IsPathSeparator(path[i]) {
			return path[:i+1]
		}
	}
	return "."
}

// lockedWriter serializes writes to w.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
