// Package cli holds the gotk-rules commands, thin layers over the library
// packages: flags, exit codes and output. cmd/gotk-rules only calls Run;
// tests call Main.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/gotk-rules/gotk-rules/budget"
	"github.com/gotk-rules/gotk-rules/evaluator"
	"github.com/gotk-rules/gotk-rules/guard"
	"github.com/gotk-rules/gotk-rules/internal/boundedio"
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
	// input bounds every input file and standard input (--max-input-bytes,
	// --input-timeout).
	input boundedio.Limits
	// outputsChecked is set once checkOutputs passed: only then may the
	// heap profile be written.
	outputsChecked bool
	stdout         io.Writer
	stderr         io.Writer

	// limitSettings are --limit's NAME=VALUE settings, and limits what
	// they set (guard.Parse).
	limitSettings []string
	limits        guard.Limits
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
	return evaluator.NewEngine(evaluator.Options{Features: f, MaxQuerySamples: g.queryMaxSamples, Limits: g.limits})
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
	root.PersistentFlags().StringArrayVar(&g.limitSettings, "limit", nil,
		"raise or lower a limit on expressions and templates, as NAME=VALUE (repeatable): "+strings.Join(guard.Keys(), ", "))
	root.PersistentFlags().StringVar(&g.cpuProfile, "cpuprofile", "", "write a CPU profile to this file")
	root.PersistentFlags().StringVar(&g.memProfile, "memprofile", "", "write a heap profile to this file when done")
	root.PersistentFlags().Int64Var(&g.input.Bytes, "max-input-bytes", budget.DefaultInputBytes,
		"largest input file (test, rule, lint, scenario, configuration, token or CA file, or standard input), in bytes")
	root.PersistentFlags().DurationVar(&g.input.Wait, "input-timeout", boundedio.DefaultWait,
		"longest wait for an input that is a named pipe (devices and sockets are refused)")
	root.PersistentPreRunE = func(cmd *cobra.Command, args []string) error {
		if g.queryMaxSamples < 1 {
			return badInput(fmt.Errorf("--query-max-samples %d: want at least 1", g.queryMaxSamples))
		}
		var err error
		if g.limits, err = guard.Parse(g.limitSettings); err != nil {
			return badInput(fmt.Errorf("--limit: %w", err))
		}
		if g.input.Bytes < 1 {
			return badInput(fmt.Errorf("--max-input-bytes %d: want at least 1", g.input.Bytes))
		}
		if g.input.Wait <= 0 {
			return badInput(fmt.Errorf("--input-timeout %s: want more than 0", g.input.Wait))
		}
		// Before anything is opened for writing: no output may be an input.
		if err := checkOutputs(cmd, args, g.input); err != nil {
			return badInput(err)
		}
		g.outputsChecked = true
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
	root.AddCommand(newMutateCommand(g))
	root.AddCommand(newDiffCommand(g))
	addVersion(root, g)
	return root, g
}

// Main runs the command line and returns the process exit code. It changes
// nothing process-wide: Run, the process' entry point, tunes the runtime
// and handles signals first.
func Main(args []string, stdout, stderr io.Writer) int {
	return MainContext(context.Background(), args, stdout, stderr)
}

// MainContext is Main with commands stopping their work when ctx ends
// (cobra's cmd.Context()): Run cancels it on SIGINT and SIGTERM.
func MainContext(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root, g := newRoot(stdout, stderr)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
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
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return MainContext(ctx, os.Args[1:], os.Stdout, os.Stderr)
}

// firstGCPercent is GOGC until the first collection: the Go runtime's
// first heap goal is 4 MiB × GOGC/100.
const firstGCPercent = 800

// gcSentinel is garbage from its allocation on; its finalizer runs after
// the first collection. (It holds a pointer: the tiny allocator batches
// small pointer-free objects, whose finalizers may never run.)
type gcSentinel struct{ _ *int }

// tuneProcess sets what is process-wide, once, for the gotk-rules binary;
// libraries and tests calling Main leave their process as it is.
func tuneProcess() {
	// Rule evaluation allocates many short-lived objects; collecting less
	// often trades some memory for less CPU. 200, not more: at 400 the
	// peak RSS passed promtool's on suites of many small groups (about
	// 125 MiB against 122 on bench's "many" workload; 81 MiB at 200, for
	// 0 to 7% more CPU). GOGC still overrides.
	// The first collection, though, waits for 32 MiB of heap instead of
	// 8: most runs (a test file or two, a lint) allocate less than that
	// and finish without one, which saved 3 ms of a 20 ms run (a cycle
	// stops both cores' work). The first cycle sets 200.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(firstGCPercent)
		runtime.SetFinalizer(&gcSentinel{}, func(*gcSentinel) { debug.SetGCPercent(200) })
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
