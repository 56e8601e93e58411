// Package cli holds the gotk-rules commands, thin layers over the library
// packages: flags, exit codes and output. cmd/gotk-rules only calls Run;
// tests call Main.
package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"

	"github.com/spf13/cobra"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/gotk-rules/gotk-rules/budget"
	"github.com/gotk-rules/gotk-rules/evaluator"
	"github.com/gotk-rules/gotk-rules/internal/progress"
)

// Exit codes shared by every command.
const (
	ExitOK       = 0
	ExitFailed   = 1
	ExitBadInput = 2
)

// exitError carries an exit code out of a command.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit %d", e.code)
	}
	return e.err.Error()
}

// badInput wraps an error about the user's input: exit code 2.
func badInput(err error) error { return &exitError{code: ExitBadInput, err: err} }

// globals are the flags every command shares.
type globals struct {
	features        []string
	queryMaxSamples int
	cpuProfile      string
	memProfile      string
	cpuFile         *os.File
	stdout          io.Writer
	stderr          io.Writer
}

// progress starts a progress bar on stderr, shown only on a terminal and
// for runs longer than a second; stop it before printing results.
func (g *globals) progress(label string) (*progress.Counter, *progress.Bar) {
	c := &progress.Counter{}
	return c, progress.Start(g.stderr, progress.IsTerminal(g.stderr), label, c)
}

// engine builds the PromQL parser and engine settings from the global flags.
func (g *globals) engine() *evaluator.Engine {
	f, unknown := evaluator.ParseFeatures(g.features)
	for _, u := range unknown {
		fmt.Fprintf(g.stderr, "warning: unknown feature passed to --enable-feature: %s (known: %v)\n", u, evaluator.FeatureNames)
	}
	return evaluator.NewEngine(evaluator.Options{Features: f, MaxQuerySamples: g.queryMaxSamples})
}

// NewRootCommand builds the command tree writing to stdout and stderr.
func NewRootCommand(stdout, stderr io.Writer) *cobra.Command {
	root, _ := newRoot(stdout, stderr)
	return root
}

func newRoot(stdout, stderr io.Writer) (*cobra.Command, *globals) {
	g := &globals{stdout: stdout, stderr: stderr}
	root := &cobra.Command{
		Use:   "gotk-rules",
		Short: "Evaluate and test Prometheus alerting rules, with Flux's metrics in mind",
		Long: `gotk-rules runs Prometheus rule groups on an embedded PromQL engine.

It runs promtool unit test files unchanged (gotk-rules test), with the same
verdicts, and reports per group and assertion as text, JSON or JUnit.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.PersistentFlags().StringSliceVar(&g.features, "enable-feature", nil,
		"comma-separated PromQL features, as promtool's: promql-experimental-functions, promql-delayed-name-removal, promql-extended-range-selectors, promql-binop-fill-modifiers")
	root.PersistentFlags().IntVar(&g.queryMaxSamples, "query-max-samples", budget.DefaultQuerySamples,
		"most samples one query may load, as Prometheus' --query.max-samples (promtool's tests use 10000; raise it for fleets)")
	root.PersistentFlags().StringVar(&g.cpuProfile, "cpuprofile", "", "write a CPU profile to this file")
	root.PersistentFlags().StringVar(&g.memProfile, "memprofile", "", "write a heap profile to this file when done")
	root.PersistentPreRunE = func(*cobra.Command, []string) error {
		if g.queryMaxSamples < 1 {
			return badInput(fmt.Errorf("--query-max-samples %d: want at least 1", g.queryMaxSamples))
		}
		return g.startProfiles()
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return badInput(err) })
	root.AddCommand(newTestCommand(g))
	root.AddCommand(newLintCommand(g))
	root.AddCommand(newReplayCommand(g))
	root.AddCommand(newGenCommand(g))
	root.AddCommand(newVerifyCommand(g))
	root.AddCommand(newServeCommand(g))
	root.AddCommand(newBacktestCommand(g))
	return root, g
}

// Main runs the command line and returns the process exit code. It changes
// nothing process-wide: Run, the process' entry point, tunes the runtime
// first.
func Main(args []string, stdout, stderr io.Writer) int {
	root, g := newRoot(stdout, stderr)
	root.SetArgs(args)
	err := root.Execute()
	if perr := g.stopProfiles(); perr != nil && err == nil {
		err = perr
	}
	if err == nil {
		return ExitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintln(stderr, "gotk-rules:", budget.Explain(ee.err, budgetHint))
		}
		return ee.code
	}
	// Cobra's own errors are usage errors: unknown command or flag.
	fmt.Fprintln(stderr, "gotk-rules:", budget.Explain(err, budgetHint))
	return ExitBadInput
}

// Run is Main with the process' arguments and streams, in a process tuned
// for rule evaluation (tuneProcess).
func Run() int {
	tuneProcess()
	return Main(os.Args[1:], os.Stdout, os.Stderr)
}

// tuneProcess sets what is process-wide, once, for the gotk-rules binary;
// libraries and tests calling Main leave their process as it is.
func tuneProcess() {
	// Rule evaluation allocates many short-lived objects; collecting less
	// often trades some memory for much less CPU. GOGC still overrides.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	// ... but not past 2 GiB of heap: then the collector works harder
	// instead (GOMEMLIMIT still overrides).
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(2 << 30)
	}
	// Prometheus' rule manager opens a tracing span per rule evaluation.
	// With no tracer set, otel's global one still does work for each; a
	// no-op provider makes spans free.
	otel.SetTracerProvider(noop.NewTracerProvider())
}
