package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/prometheus/common/model"
	"github.com/spf13/cobra"

	"github.com/gotk-rules/gotk-rules/backtest"
	"github.com/gotk-rules/gotk-rules/budget"
	"github.com/gotk-rules/gotk-rules/internal/progress"
	"github.com/gotk-rules/gotk-rules/rulefile"
	"github.com/gotk-rules/gotk-rules/scenario"
	"github.com/gotk-rules/gotk-rules/timeline"
)

type backtestFlags struct {
	url             string
	rules           []string
	from, to, step  string
	format          string
	output          string
	pictures        pictureFlags // --svg, --html: the alert timelines as a picture
	headers         []string
	bearerTokenFile string
	tls             backtest.TLSOptions
	timeout         string
	retries         int
	concurrency     int
	maxPoints       int
	maxEvals        int
	compare         bool
	ignoreLabels    []string
	tolerance       string
	limits          backtest.ResponseLimits
	allowPartial    bool
	dedup           bool
	replicaLabels   []string
	maxSplitDepth   int
	shards          int
	shardWorkers    int
	resume          string
	flapThreshold   int
	dedupSet        bool // --dedup given, true or false
}

func newBacktestCommand(g *globals) *cobra.Command {
	var f backtestFlags
	cmd := &cobra.Command{
		Use:   "backtest --url URL [--rules FILE...] [--from -7d] [--to now] [--step 1m]",
		Short: "Replay alerting rules over a Prometheus server's history (Prometheus, Thanos, Mimir) and show when they would have fired",
		Long: `Replay alerting rules over the history a server that speaks the Prometheus
query API holds (Prometheus, Thanos Query, Mimir), without copying the data.

Each rule's expression runs on the server as query_range requests, in chunks
of at most --max-points evaluations (servers refuse more than 11,000 points
per series); the for / keep_firing_for state machine, labels and templates
run locally in Prometheus' own rules package, as the rule manager would at
each --step. The result is when each alert (rule and label set) was pending
and firing, with counts per UTC day and, where the server has them, the
differences with its own ALERTS series.

Every rule query goes to the server: a rule that reads a recorded series or
ALERTS reads the server's (recording rules run too, but their results stay
local, where no query reads them), and template queries are instant queries.
Staleness, the lookback window and PromQL features are the server's. The
server evaluated its own rules at other instants, so its ALERTS may change
an evaluation later: differences lasting at most --tolerance are counted,
not listed.

--from and --to are RFC 3339 times (2026-01-02T15:04:05Z), "now", or
durations before now (-7d, -36h, now-2w). --from is aligned down to a
multiple of --step; every rule group is evaluated at every step.

Requests carry --header (repeatable, "Name: value", such as
"X-Scope-OrgID: tenant" for Mimir) and --bearer-token-file; at most
--concurrency are in flight; a request answered 429 or 5xx, or cut off, is
retried --retries times with exponential backoff; --timeout bounds each.

A query the server refuses as too large (422, "too many samples", a
limit on samples, series or chunks) is split in two halves of its time
range, recursively, at most --max-split-depth times.

Partial answers fail the run: a warning in an answer (Thanos' "No
StoreAPIs matched for this query", a store that failed; anything but
PromQL's own "PromQL warning:"/"PromQL info:" annotations) is an error
naming the query and its range, exit 1. Queries carry
partial_response=false (Thanos honours it, others ignore it).
--allow-partial accepts such answers and lists the ranges affected in the
report. Against Thanos, --dedup and --replica-label NAME (repeatable) are
sent as dedup=true and replicaLabels[]=NAME; an alert carrying a label
that looks like a replica label (replica, prometheus_replica,
__replica__, rule_replica, or a --replica-label) is reported.

Long histories are cut in time shards (--shards; by default one per 1,440
evaluations, a day at 1m) replayed --shard-concurrency at a time; each
shard starts early by the rules' longest for plus keep_firing_for, so
that an alert's state at a shard boundary is the unsharded one. With
--resume FILE, the shards done are written to FILE after each one, and a
rerun with the same FILE skips them (a FILE of another backtest is
refused). A progress bar with the time left shows on a terminal.

The report ends with the alerts' fatigue: per rule and label set, firings
per day, time firing, median time to resolve, flapping (more than
--flap-threshold firings resolved on one UTC day), and the 10 noisiest
label sets; --html writes it under the timeline picture too.

Exit codes: 0 done; 1 the server failed along the way (5xx or 429 after the
retries, a timeout, a query it refused or failed, a malformed response, a
partial answer without --allow-partial);
2 bad input (flags, rule files, times) or a server that cannot be used as
given (unreachable, TLS, 401/403, 404, not a Prometheus API). Nothing is
printed or written unless the backtest completes.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			f.dedupSet = cmd.Flags().Changed("dedup")
			return runBacktest(cmd.Context(), g, &f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.url, "url", "", "base URL of the Prometheus query API (http://prometheus:9090, https://thanos-query, http://mimir/prometheus)")
	fl.StringArrayVar(&f.rules, "rules", nil, "rule files, directories or globs (repeatable; default: the shipped rules)")
	fl.StringVar(&f.from, "from", "-7d", "first evaluation: RFC 3339, now, or a duration before now (-7d)")
	fl.StringVar(&f.to, "to", "now", "last evaluation: RFC 3339, now, or a duration before now")
	fl.StringVar(&f.step, "step", "1m", "time between evaluations (the rules' evaluation interval)")
	fl.StringVar(&f.format, "format", "text", "output format: text or json")
	fl.StringVarP(&f.output, "output", "o", "", "write the result to this file instead of stdout (whole or not at all)")
	fl.StringArrayVar(&f.headers, "header", nil, `HTTP header sent with every request, "Name: value" (repeatable)`)
	fl.StringVar(&f.bearerTokenFile, "bearer-token-file", "", "send the token in this file as \"Authorization: Bearer TOKEN\"")
	fl.StringVar(&f.tls.CAFile, "tls-ca-file", "", "CA certificates (PEM) to verify the server with")
	fl.StringVar(&f.tls.CertFile, "tls-cert-file", "", "client certificate (PEM), with --tls-key-file")
	fl.StringVar(&f.tls.KeyFile, "tls-key-file", "", "client key (PEM), with --tls-cert-file")
	fl.BoolVar(&f.tls.InsecureSkipVerify, "tls-insecure-skip-verify", false, "do not verify the server's certificate")
	fl.StringVar(&f.tls.ServerName, "tls-server-name", "", "server name to verify the certificate against (default: the URL's host)")
	fl.StringVar(&f.timeout, "timeout", "2m", "most time one HTTP request may take (also the query timeout asked of the server)")
	fl.IntVar(&f.retries, "retries", backtest.DefaultRetries, "retries of a request answered 429 or 5xx or cut off, with exponential backoff (0: none)")
	fl.IntVar(&f.concurrency, "concurrency", backtest.DefaultConcurrency, "most requests in flight at once")
	fl.IntVar(&f.maxPoints, "max-points", backtest.DefaultMaxPoints, "most evaluations one query_range asks for (servers refuse more than 11,000)")
	fl.IntVar(&f.maxEvals, "max-evals", backtest.DefaultMaxEvals, "most evaluations of the backtest")
	fl.BoolVar(&f.compare, "compare-alerts", true, "compare with the server's own ALERTS series, where it has them")
	fl.StringArrayVar(&f.ignoreLabels, "ignore-label", nil, "label left out when comparing with ALERTS, such as an external label Thanos adds (repeatable)")
	fl.StringVar(&f.tolerance, "tolerance", "", "differences with ALERTS lasting at most this long are counted, not listed (default: one --step; 0s: list all)")
	fl.Int64Var(&f.limits.Bytes, "max-response-bytes", budget.DefaultResponseBytes, "largest response body the server may send, in bytes, after decompression")
	fl.IntVar(&f.limits.Series, "max-response-series", budget.DefaultResponseSeries, "most series one query's response may hold")
	fl.Int64Var(&f.limits.Samples, "max-response-samples", budget.DefaultResponseSamples, "most samples one query's response may hold")
	fl.BoolVar(&f.allowPartial, "allow-partial", false, "accept answers the server says are partial (a warning), listing the ranges affected, instead of failing")
	fl.BoolVar(&f.dedup, "dedup", false, "ask Thanos Query to deduplicate replicas (sends dedup=true; --dedup=false sends dedup=false)")
	fl.StringArrayVar(&f.replicaLabels, "replica-label", nil, "replica label Thanos Query deduplicates on (sends replicaLabels[]=NAME; repeatable)")
	fl.IntVar(&f.maxSplitDepth, "max-split-depth", backtest.DefaultMaxSplitDepth, "most times a range query the server refuses as too large is halved (0: never)")
	fl.IntVar(&f.shards, "shards", 0, "time shards the evaluations are cut in (0: one per 1,440 evaluations)")
	fl.IntVar(&f.shardWorkers, "shard-concurrency", backtest.DefaultShardConcurrency, "most shards replayed at once")
	fl.StringVar(&f.resume, "resume", "", "checkpoint file: shards done are written to it and skipped when rerun with it")
	fl.IntVar(&f.flapThreshold, "flap-threshold", backtest.DefaultFlapThreshold, "an alert that fires and resolves more than this many times on one UTC day is flapping")
	f.pictures.register(cmd)
	return cmd
}

// promDuration reads a duration as Prometheus writes them (1m, 1h30m, 7d).
func promDuration(flag, s string) (time.Duration, error) {
	d, err := model.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("--%s %q: want a duration such as 30s, 1m, 1h30m or 7d", flag, s)
	}
	return time.Duration(d), nil
}

func runBacktest(ctx context.Context, g *globals, f *backtestFlags) error {
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	opts, copts, err := f.options(g, time.Now())
	if err != nil {
		return badInput(err)
	}
	client, err := backtest.NewClient(copts)
	if err != nil {
		return badInput(err)
	}
	opts.Client = client
	counter := &progress.Counter{}
	opts.Progress = counter
	bt, err := backtest.New(opts)
	if err != nil {
		return badInput(err)
	}
	defer bt.Close()
	bar := startETABar(g.stderr, progress.IsTerminal(g.stderr), counter)
	res, err := bt.Run(ctx)
	bar.stop()
	if err != nil {
		if ctx.Err() != nil && f.resume != "" {
			return &exitError{code: ExitFailed, err: fmt.Errorf("backtest interrupted: %w (the shards done are in %s: rerun with --resume %s to go on)", ctx.Err(), f.resume, f.resume)}
		}
		return backtestError(ctx, err)
	}
	for _, rl := range res.Replicas {
		fmt.Fprintf(g.stderr, "warning: %s\n", rl)
	}
	if len(res.Partial) > 0 {
		fmt.Fprintf(g.stderr, "warning: the server answered %d queries partially (--allow-partial): the report lists the ranges affected\n", len(res.Partial))
	}
	if err := f.writePictures(res); err != nil {
		return badInput(err)
	}
	var buf bytes.Buffer
	if f.format == "json" {
		err = res.WriteJSON(&buf)
	} else {
		err = res.WriteText(&buf)
	}
	if err != nil {
		return err
	}
	if f.output == "" {
		_, err = g.stdout.Write(buf.Bytes())
		return err
	}
	if err := writeFile(f.output, func(w io.Writer) error { _, err := w.Write(buf.Bytes()); return err }); err != nil {
		return badInput(fmt.Errorf("--output: %w", err))
	}
	return nil
}

// writePictures writes --svg (the timeline) and --html (the timeline, the
// partial answers, replica labels and fatigue report).
func (f *backtestFlags) writePictures(res *backtest.Result) error {
	if f.pictures.svg != "" {
		svgOnly := f.pictures
		svgOnly.html = ""
		if err := svgOnly.writeView(timeline.FromTimeline(res.Timeline)); err != nil {
			return err
		}
	}
	if f.pictures.html != "" {
		if err := writeFile(f.pictures.html, func(w io.Writer) error { return res.WriteHTML(w, f.pictures.width) }); err != nil {
			return fmt.Errorf("--html: %w", err)
		}
	}
	return nil
}

// etaBar draws the backtest's progress with the time left on a terminal,
// from the second second on.
type etaBar struct {
	done chan struct{}
	wg   sync.WaitGroup
}

func startETABar(w io.Writer, show bool, c *progress.Counter) *etaBar {
	b := &etaBar{done: make(chan struct{})}
	if !show {
		return b
	}
	start := time.Now()
	wait := progress.Delay
	if v, err := time.ParseDuration(os.Getenv("GOTK_PROGRESS_DELAY")); err == nil {
		wait = v
	}
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		drawn := false
		defer func() {
			if drawn {
				fmt.Fprint(w, "\r\033[K")
			}
		}()
		select {
		case <-b.done:
			return
		case <-time.After(wait):
		}
		tick := time.NewTicker(progress.Interval)
		defer tick.Stop()
		for {
			drawn = true
			fmt.Fprint(w, "\r"+etaLine(c, time.Since(start))+"\033[K")
			select {
			case <-b.done:
				return
			case <-tick.C:
			}
		}
	}()
	return b
}

func (b *etaBar) stop() {
	close(b.done)
	b.wg.Wait()
}

// etaLine is the progress line and, once some work is done, the time left
// at the pace so far.
func etaLine(c *progress.Counter, elapsed time.Duration) string {
	line := progress.Line(c, "evaluations", elapsed)
	done, total := c.Get()
	if done > 0 && total > done {
		left := time.Duration(float64(elapsed) * float64(total-done) / float64(done))
		line += ", about " + left.Round(time.Second).String() + " left"
	}
	return line
}

// backtestError gives a server error its exit code: 2 when the server cannot
// be used as given, 1 when it failed along the way.
func backtestError(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return &exitError{code: ExitFailed, err: fmt.Errorf("backtest interrupted: %w", ctx.Err())}
	}
	var e *backtest.Error
	if errors.As(err, &e) && !e.Usable() {
		return badInput(err)
	}
	if _, ok := errors.AsType[*backtest.InputError](err); ok {
		return badInput(err)
	}
	// A response over a budget: raise the flag, as for any budget.
	if _, ok := errors.AsType[*budget.ExceededError](err); ok {
		return badInput(err)
	}
	return &exitError{code: ExitFailed, err: err}
}

// options turns the flags into the backtest's and the client's options.
func (f *backtestFlags) options(g *globals, now time.Time) (backtest.Options, backtest.ClientOptions, error) {
	var opts backtest.Options
	var copts backtest.ClientOptions
	if f.format != "text" && f.format != "json" {
		return opts, copts, fmt.Errorf("--format %q: want text or json", f.format)
	}
	if f.url == "" {
		return opts, copts, errors.New("--url: name the Prometheus API to query (such as http://localhost:9090)")
	}
	from, err := backtest.ParseTime(f.from, now)
	if err != nil {
		return opts, copts, fmt.Errorf("--from %w", err)
	}
	to, err := backtest.ParseTime(f.to, now)
	if err != nil {
		return opts, copts, fmt.Errorf("--to %w", err)
	}
	step, err := promDuration("step", f.step)
	if err != nil {
		return opts, copts, err
	}
	if step < time.Second {
		return opts, copts, fmt.Errorf("--step %s: want at least 1s", f.step)
	}
	timeout, err := promDuration("timeout", f.timeout)
	if err != nil {
		return opts, copts, err
	}
	if timeout <= 0 {
		return opts, copts, fmt.Errorf("--timeout %s: want more than 0", f.timeout)
	}
	var tolerance time.Duration
	if f.tolerance != "" {
		if tolerance, err = promDuration("tolerance", f.tolerance); err != nil {
			return opts, copts, err
		}
		if tolerance == 0 {
			tolerance = -1 // list every difference
		}
	}
	if f.retries < 0 {
		return opts, copts, fmt.Errorf("--retries %d: want 0 or more", f.retries)
	}
	if f.concurrency < 1 {
		return opts, copts, fmt.Errorf("--concurrency %d: want 1 or more", f.concurrency)
	}
	if f.maxPoints < 1 {
		return opts, copts, fmt.Errorf("--max-points %d: want 1 or more", f.maxPoints)
	}
	if f.maxEvals < 1 {
		return opts, copts, fmt.Errorf("--max-evals %d: want 1 or more", f.maxEvals)
	}
	switch {
	case f.maxSplitDepth < 0 || f.maxSplitDepth > 20:
		return opts, copts, fmt.Errorf("--max-split-depth %d: want 0 to 20", f.maxSplitDepth)
	case f.shards < 0:
		return opts, copts, fmt.Errorf("--shards %d: want 0 (automatic) or more", f.shards)
	case f.shardWorkers < 1:
		return opts, copts, fmt.Errorf("--shard-concurrency %d: want 1 or more", f.shardWorkers)
	case f.flapThreshold < 1:
		return opts, copts, fmt.Errorf("--flap-threshold %d: want 1 or more", f.flapThreshold)
	}
	for _, l := range f.replicaLabels {
		if l == "" || !utf8.ValidString(l) {
			return opts, copts, fmt.Errorf("--replica-label %q: not a label name", l)
		}
	}
	switch {
	case f.limits.Bytes < 1:
		return opts, copts, fmt.Errorf("--max-response-bytes %d: want 1 or more", f.limits.Bytes)
	case f.limits.Series < 1:
		return opts, copts, fmt.Errorf("--max-response-series %d: want 1 or more", f.limits.Series)
	case f.limits.Samples < 1:
		return opts, copts, fmt.Errorf("--max-response-samples %d: want 1 or more", f.limits.Samples)
	}
	if err := f.pictures.check(); err != nil {
		return opts, copts, err
	}
	headers := http.Header{}
	for _, h := range f.headers {
		name, value, err := backtest.ParseHeader(h)
		if err != nil {
			return opts, copts, err
		}
		headers.Add(name, value)
	}
	var token string
	if f.bearerTokenFile != "" {
		if token, err = backtest.ReadBearerTokenWithin(f.bearerTokenFile, g.input); err != nil {
			return opts, copts, err
		}
	}
	tlsCfg, err := f.tls.ConfigWithin(g.input)
	if err != nil {
		return opts, copts, err
	}
	copts = backtest.ClientOptions{
		URL: f.url, Headers: headers, BearerToken: token, TLS: tlsCfg, Timeout: timeout,
		Retries: f.retries, Concurrency: f.concurrency, Limits: f.limits, ReplicaLabels: f.replicaLabels,
	}
	if f.dedupSet {
		copts.Dedup = fmt.Sprint(f.dedup)
	}
	if f.retries == 0 {
		copts.Retries = -1
	}
	eng := g.engine()
	loader := rulefile.NewLoader(eng.Parser(), false)
	loader.Input = g.input
	// An empty scenario: --rules, else the shipped rules.
	files, err := ruleFilesFor(&scenario.Scenario{}, f.rules, loader)
	if err != nil {
		return opts, copts, err
	}
	opts = backtest.Options{
		Engine: eng, Loader: loader, RuleFiles: files, From: from, To: to, Step: step,
		MaxPoints: f.maxPoints, MaxEvals: f.maxEvals, CompareAlerts: f.compare,
		IgnoreLabels: f.ignoreLabels, Tolerance: tolerance,
		AllowPartial: f.allowPartial, MaxSplitDepth: f.maxSplitDepth, Shards: f.shards, ShardConcurrency: f.shardWorkers,
		Resume: f.resume, ReplicaLabels: f.replicaLabels, FlapThreshold: f.flapThreshold,
	}
	if f.maxSplitDepth == 0 {
		opts.MaxSplitDepth = -1 // never
	}
	return opts, copts, nil
}

// genOpenMetrics is `gen SCENARIO --format openmetrics [--start TIME]`: the
// scenario's series as OpenMetrics text for `promtool tsdb
// create-blocks-from openmetrics`, shifted to start at --start.
func genOpenMetrics(g *globals, f *scenarioFlags, path, out, start string) error {
	if f.format != "openmetrics" {
		return badInput(fmt.Errorf("--start: only with --format openmetrics"))
	}
	if err := f.check(); err != nil {
		return badInput(err)
	}
	sc, err := scenario.LoadFile(path, scenario.Limits{MaxSeries: f.maxSeries, MaxSamples: f.maxSamples, Input: g.input})
	if err != nil {
		return badInput(err)
	}
	at := scenario.Epoch
	if start != "" {
		if at, err = backtest.ParseTime(start, time.Now()); err != nil {
			return badInput(fmt.Errorf("--start %w", err))
		}
	}
	shift := at.Sub(scenario.Epoch).Truncate(time.Millisecond)
	var st scenario.OpenMetricsStats
	write := func(w io.Writer) error {
		var err error
		st, err = scenario.WriteOpenMetrics(w, sc.Generate(), shift)
		return err
	}
	if out == "" {
		// Whole or nothing on stdout too: the text is built first.
		var buf bytes.Buffer
		if err := write(&buf); err != nil {
			return badInput(err)
		}
		if _, err := g.stdout.Write(buf.Bytes()); err != nil {
			return err
		}
	} else if err := writeFile(out, write); err != nil {
		return badInput(err)
	}
	if st.StaleMarkers > 0 {
		fmt.Fprintf(g.stderr, "warning: %s: %d staleness markers left out (OpenMetrics cannot express them): a series that disappears leaves a gap, and queries still see its last sample for the lookback window\n", path, st.StaleMarkers)
	}
	return nil
}
