package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"time"

	"github.com/spf13/cobra"

	gotkrules "github.com/gotk-rules/gotk-rules"
	"github.com/gotk-rules/gotk-rules/budget"
	"github.com/gotk-rules/gotk-rules/mutate"
	"github.com/gotk-rules/gotk-rules/unittest"
)

// defaultMutantBudget is mutate's default --budget.
const defaultMutantBudget = 2000

type mutateFlags struct {
	format              string
	output              string
	operators           []string
	budget              int
	timeout             time.Duration
	parallel            int
	minScore            float64
	minScoreSet         bool
	parallelSet         bool // --parallel was given: 0 is then refused
	run                 []string
	ignoreUnknownFields bool
	maxSamples          uint64
	maxSeries           int
	maxEvals            int64
}

func newMutateCommand(g *globals) *cobra.Command {
	var f mutateFlags
	cmd := &cobra.Command{
		Use:   "mutate [TEST_FILE...]",
		Short: "Mutation testing: change each rule one way at a time and see whether the tests notice",
		Long: `Mutate each rule of the rule files the test files load, one change at a
time (a threshold moved, a for shortened, a matcher dropped, ...), and run
the test groups that load the changed file against each mutant. A mutant
the tests notice is killed (by the groups that failed); one they do not is
a survivor: a test someone should write, and the report says which where it
can. Test files are promtool test files, unchanged, and scenario files.
With no TEST_FILE, mutates the shipped rules under the shipped tests.

Score: killed / (killed + survived). A mutant that does not load is an
error, one whose tests outlast --timeout a timeout: neither counts.

Operators (--operators, comma-separated; default all):
` + operatorHelp() + `
Exit codes: 0 done (survivors do not fail the run), 1 the score is below
--min-score, 2 bad input (a file that does not load, an unknown operator,
or tests that fail before any mutation). See docs/mutate.md.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			f.minScoreSet = cmd.Flags().Changed("min-score")
			f.parallelSet = cmd.Flags().Changed("parallel")
			return runMutate(cmd.Context(), g, &f, args)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.format, "format", "text", "output format: text, json or junit")
	fl.StringVarP(&f.output, "output", "o", "", "write the report to this file instead of standard output")
	fl.StringSliceVar(&f.operators, "operators", nil, "operator families to use, comma-separated (default all): "+strings.Join(mutate.OperatorNames(), ", "))
	fl.IntVar(&f.budget, "budget", defaultMutantBudget, "most mutants run, in file and position order (0: no limit)")
	fl.DurationVar(&f.timeout, "timeout", time.Minute, "longest the tests of one mutant may take (0: no limit)")
	fl.IntVar(&f.parallel, "parallel", 0, "mutants run at once (default: number of CPUs)")
	fl.Float64Var(&f.minScore, "min-score", 0, "exit 1 when the mutation score, in percent, is below this")
	fl.StringArrayVar(&f.run, "run", nil, "only run test groups whose name matches this regular expression (repeatable)")
	fl.BoolVar(&f.ignoreUnknownFields, "ignore-unknown-fields", false, "accept fields Prometheus does not know in test and rule files")
	fl.Uint64Var(&f.maxSamples, "max-samples", budget.DefaultInputSamples, "most input samples one test group may expand to")
	fl.IntVar(&f.maxSeries, "max-series", budget.DefaultInputSeries, "most input series one test group may have")
	fl.Int64Var(&f.maxEvals, "max-evals", budget.DefaultGroupEvaluations, "most rule evaluations one test group may take")
	return cmd
}

// operatorHelp lists the operator families, one a line.
func operatorHelp() string {
	var b strings.Builder
	for _, o := range mutate.Operators {
		fmt.Fprintf(&b, "  %-16s %s\n", o.Name, o.Doc)
	}
	return b.String()
}

// check refuses mutate's flags out of range.
func (f *mutateFlags) check() error {
	switch {
	case f.format != "text" && f.format != "json" && f.format != "junit":
		return fmt.Errorf("--format %q: want text, json or junit", f.format)
	case f.budget < 0:
		return fmt.Errorf("--budget %d: want 0 (no limit) or more", f.budget)
	case f.timeout < 0:
		return fmt.Errorf("--timeout %s: want 0 (no limit) or more", f.timeout)
	case f.parallelSet && f.parallel < 1:
		return fmt.Errorf("--parallel %d: want at least 1 (leave it out for the number of CPUs)", f.parallel)
	case f.minScoreSet && (f.minScore < 0 || f.minScore > 100):
		return fmt.Errorf("--min-score %g: want a percentage, 0 to 100", f.minScore)
	case f.maxSamples < 1:
		return fmt.Errorf("--max-samples %d: want at least 1", f.maxSamples)
	case f.maxSeries < 1:
		return fmt.Errorf("--max-series %d: want at least 1", f.maxSeries)
	case f.maxEvals < 1:
		return fmt.Errorf("--max-evals %d: want at least 1", f.maxEvals)
	}
	return nil
}

func runMutate(ctx context.Context, g *globals, f *mutateFlags, args []string) error {
	if err := f.check(); err != nil {
		return badInput(err)
	}
	ops, err := mutate.SelectOperators(f.operators)
	if err != nil {
		return badInput(fmt.Errorf("--operators: %w", err))
	}
	opts := mutate.Options{
		Unit: unittest.Options{
			Engine:              g.engine(),
			Run:                 f.run,
			IgnoreUnknownFields: f.ignoreUnknownFields,
			MaxSamples:          f.maxSamples,
			MaxSeries:           f.maxSeries,
			MaxEvals:            f.maxEvals,
			Hint:                budgetHint,
			Input:               g.input,
		},
		Operators: ops,
		Budget:    f.budget,
		Timeout:   f.timeout,
		Parallel:  f.parallel,
	}
	files := args
	if len(files) == 0 {
		tests, err := fs.Glob(gotkrules.Shipped, gotkrules.ShippedTests)
		scenarios, serr := fs.Glob(gotkrules.Shipped, gotkrules.ShippedScenarios)
		files = append(tests, scenarios...)
		if err != nil || serr != nil || len(files) == 0 {
			return badInput(errors.New("no shipped tests found in the binary"))
		}
		opts.Unit.FS = gotkrules.Shipped
	}
	rep, err := mutate.Run(ctx, opts, files)
	if err != nil {
		if ctx.Err() != nil {
			return &exitError{code: ExitFailed, err: err}
		}
		return badInput(err)
	}
	if rep.Budget > 0 {
		fmt.Fprintf(g.stderr, "gotk-rules: ran %d of %d mutants: the mutant budget (--budget %d) was reached; raise it with --budget N, or 0 for no limit\n",
			len(rep.Mutants), rep.Generated, rep.Budget)
	}
	var buf bytes.Buffer
	switch f.format {
	case "json":
		err = mutate.WriteJSON(&buf, rep)
	case "junit":
		err = mutate.WriteJUnit(&buf, rep)
	default:
		err = mutate.WriteText(&buf, rep)
	}
	if err != nil {
		return err
	}
	if f.output != "" {
		if err := writeFile(f.output, func(w io.Writer) error { _, err := w.Write(buf.Bytes()); return err }); err != nil {
			return badInput(fmt.Errorf("--output: %w", err))
		}
		if f.format != "text" {
			fmt.Fprintln(g.stdout, mutate.ScoreLine(rep))
		}
	} else if _, err := g.stdout.Write(buf.Bytes()); err != nil {
		return err
	}
	if f.minScoreSet {
		switch {
		case rep.Score == nil:
			return &exitError{code: ExitFailed, err: fmt.Errorf("--min-score %g: no mutant was killed or survived, so there is no score", f.minScore)}
		case *rep.Score < f.minScore:
			return &exitError{code: ExitFailed, err: fmt.Errorf("mutation score %.1f%% is below --min-score %g", *rep.Score, f.minScore)}
		}
	}
	return nil
}
