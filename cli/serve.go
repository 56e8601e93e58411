package cli

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/gotk-rules/gotk-rules/evaluator"
	"github.com/gotk-rules/gotk-rules/internal/boundedio"
	"github.com/gotk-rules/gotk-rules/sandbox"
)

type serveFlags struct {
	addr       string
	open       bool
	rules      string
	input      string
	noLint     bool
	limits     sandbox.Limits
	maxBodyKiB int64
}

func newServeCommand(g *globals) *cobra.Command {
	f := serveFlags{limits: sandbox.DefaultLimits}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Open the rule-authoring sandbox: edit a rule and its input, watch series, alerts, lint and verify",
		Long: `Serve the sandbox, a local web page (embedded in the binary; it loads nothing
from elsewhere) with an editor for a rule group and one for its input, a
scenario file or promtool input_series. On every edit it replays the rules and
draws the input series and, under them, each alert's pending and firing bands
with a time cursor; shows lint findings at their line and the input's
expectations or assertions; verifies the rules on random Flux lives per era and
scrape setup (a counterexample loads into the input editor with one click);
exports the rules with a promtool test file that gotk-rules test passes; and
encodes both editors in a shareable URL.

It listens on loopback (127.0.0.1:9095) unless --addr says otherwise, reads no
file but those --rules and --input name, and bounds every request: body size,
evaluation time, input samples and series, evaluations and queries.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runServe(cmd.Context(), g, &f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.addr, "addr", "127.0.0.1:9095", "address to listen on (host:port; a port of 0 picks a free one); a non-loopback address exposes the sandbox to the network")
	fl.BoolVar(&f.open, "open", false, "open the page in the default browser")
	fl.StringVar(&f.rules, "rules", "", "rule file to load into the rules editor (default: the shipped GitOpsToolkit rule)")
	fl.StringVar(&f.input, "input", "", "scenario or promtool test file to load into the input editor (default: a failing-then-deleted scenario)")
	fl.BoolVar(&f.noLint, "no-lint", false, "do not lint the rules")
	fl.DurationVar(&f.limits.Timeout, "timeout", f.limits.Timeout, "most time one evaluation or export may take")
	fl.Uint64Var(&f.limits.MaxSamples, "max-samples", f.limits.MaxSamples, "most input samples one request may have")
	fl.IntVar(&f.limits.MaxSeries, "max-series", f.limits.MaxSeries, "most input series one request may have")
	fl.Int64Var(&f.limits.MaxEvals, "max-evals", f.limits.MaxEvals, "most evaluation steps one request may take")
	fl.Int64Var(&f.limits.MaxQueries, "max-queries", f.limits.MaxQueries, "most PromQL queries (template query calls included) one evaluation may run")
	fl.Int64Var(&f.maxBodyKiB, "max-body", f.limits.MaxBody>>10, "largest request body, in KiB")
	fl.IntVar(&f.limits.VerifyRuns, "verify-runs", f.limits.VerifyRuns, "random lives verify replays per era and scrape setup")
	fl.DurationVar(&f.limits.VerifyTimeout, "verify-timeout", f.limits.VerifyTimeout, "most time one verification may take")
	fl.Int64Var(&f.limits.MaxVerifyEvals, "max-verify-evals", f.limits.MaxVerifyEvals, "most evaluations one verification may take, all its replays together")
	fl.IntVar(&f.limits.MaxConcurrent, "max-concurrent", f.limits.MaxConcurrent, "most requests evaluated at once (verify included); more are answered 429 with Retry-After. Peak memory is about this many times one request's budgets")
	return cmd
}

func runServe(ctx context.Context, g *globals, f *serveFlags) error {
	for _, c := range []struct {
		flag  string
		value string
		bad   bool
	}{
		{"--max-body", fmt.Sprint(f.maxBodyKiB), f.maxBodyKiB <= 0},
		{"--timeout", f.limits.Timeout.String(), f.limits.Timeout <= 0},
		{"--max-samples", fmt.Sprint(f.limits.MaxSamples), f.limits.MaxSamples == 0},
		{"--max-series", fmt.Sprint(f.limits.MaxSeries), f.limits.MaxSeries <= 0},
		{"--max-evals", fmt.Sprint(f.limits.MaxEvals), f.limits.MaxEvals <= 0},
		{"--max-queries", fmt.Sprint(f.limits.MaxQueries), f.limits.MaxQueries <= 0},
		{"--verify-runs", fmt.Sprint(f.limits.VerifyRuns), f.limits.VerifyRuns <= 0},
		{"--verify-timeout", f.limits.VerifyTimeout.String(), f.limits.VerifyTimeout <= 0},
		{"--max-verify-evals", fmt.Sprint(f.limits.MaxVerifyEvals), f.limits.MaxVerifyEvals <= 0},
		{"--max-concurrent", fmt.Sprint(f.limits.MaxConcurrent), f.limits.MaxConcurrent <= 0},
	} {
		if c.bad {
			return badInput(fmt.Errorf("%s %s: must be positive", c.flag, c.value))
		}
	}
	if f.maxBodyKiB > maxBodyKiB {
		return badInput(fmt.Errorf("--max-body %d: want at most %d (1 GiB)", f.maxBodyKiB, maxBodyKiB))
	}
	f.limits.MaxBody = f.maxBodyKiB << 10
	features, unknown := evaluator.ParseFeatures(g.features)
	for _, u := range unknown {
		fmt.Fprintf(g.stderr, "warning: unknown feature passed to --enable-feature: %s (known: %v)\n", u, evaluator.FeatureNames)
	}
	opts := sandbox.Options{Features: features, Limits: f.limits, NoLint: f.noLint}
	for _, p := range []struct {
		path       string
		text, name *string
	}{{f.rules, &opts.Rules, &opts.RulesName}, {f.input, &opts.Input, &opts.InputName}} {
		if p.path == "" {
			continue
		}
		b, err := boundedio.ReadFile(p.path, g.input)
		if err != nil {
			return badInput(err)
		}
		if int64(len(b)) > f.limits.MaxBody/2 {
			return badInput(fmt.Errorf("%s: %d bytes, more than half of --max-body (%d KiB): the page could not send it back", p.path, len(b), f.maxBodyKiB))
		}
		*p.text, *p.name = string(b), p.path
	}
	ln, err := net.Listen("tcp", f.addr)
	if err != nil {
		return badInput(fmt.Errorf("--addr %s: %w", f.addr, err))
	}
	host, _, _ := net.SplitHostPort(ln.Addr().String())
	loopback := net.ParseIP(host) != nil && net.ParseIP(host).IsLoopback()
	opts.LoopbackOnly = loopback
	url := "http://" + ln.Addr().String() + "/"
	if !loopback {
		fmt.Fprintf(g.stderr, "warning: listening on %s, not loopback: anyone who can reach this address can run evaluations\n", ln.Addr())
		if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
			_, port, _ := net.SplitHostPort(ln.Addr().String())
			url = "http://127.0.0.1:" + port + "/"
		}
	}
	fmt.Fprintf(g.stdout, "gotk-rules sandbox: %s (Ctrl+C stops it)\n", url)
	if f.open {
		if err := openBrowser(url); err != nil {
			fmt.Fprintf(g.stderr, "warning: could not open a browser: %v\n", err)
		}
	}
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	return sandbox.Serve(ctx, ln, sandbox.New(opts), opts.Limits)
}

// openBrowser asks the desktop to open url.
func openBrowser(url string) error {
	var cmd *exec.Cmd
	switch runtime.GOOS {
	case "darwin":
		cmd = exec.Command("open", url)
	case "windows":
		cmd = exec.Command("rundll32", "url.dll,FileProtocolHandler", url)
	default:
		cmd = exec.Command("xdg-open", url)
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	go func() { _ = cmd.Wait() }()
	return nil
}
