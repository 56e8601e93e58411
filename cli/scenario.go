package cli

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/spf13/cobra"

	gotkrules "github.com/gotk-rules/gotk-rules"
	"github.com/gotk-rules/gotk-rules/budget"
	"github.com/gotk-rules/gotk-rules/evaluator"
	"github.com/gotk-rules/gotk-rules/internal/boundedio"
	"github.com/gotk-rules/gotk-rules/rulefile"
	"github.com/gotk-rules/gotk-rules/scenario"
	"github.com/gotk-rules/gotk-rules/timeline"
)

// scenarioFlags are the flags of commands that replay a scenario.
type scenarioFlags struct {
	rules      []string
	format     string
	maxSeries  int
	maxSamples uint64
	maxEvals   int64
}

func (f *scenarioFlags) register(cmd *cobra.Command, formats string) {
	cmd.Flags().StringArrayVar(&f.rules, "rules", nil, "rule files to replay (repeatable; default: the scenario's rule_files, else the shipped rules)")
	cmd.Flags().StringVar(&f.format, "format", "text", "output format: "+formats)
	cmd.Flags().IntVar(&f.maxSeries, "max-series", budget.DefaultInputSeries, "most series a scenario may generate")
	cmd.Flags().Uint64Var(&f.maxSamples, "max-samples", budget.DefaultInputSamples, "most samples a scenario may generate")
	cmd.Flags().Int64Var(&f.maxEvals, "max-evals", budget.DefaultReplayEvaluations, "most evaluations a replay may take (its duration over its evaluation_interval, plus one)")
}

// loadScenario reads a scenario and the rules to replay it with.
func (f *scenarioFlags) loadScenario(g *globals, path string) (*scenario.Scenario, *evaluator.Engine, []string, *rulefile.Loader, error) {
	if err := f.check(); err != nil {
		return nil, nil, nil, nil, badInput(err)
	}
	if err := precheckObjects(path, f.maxSeries, g.input); err != nil {
		return nil, nil, nil, nil, badInput(err)
	}
	sc, err := scenario.LoadFile(path, scenario.Limits{MaxSeries: f.maxSeries, MaxSamples: f.maxSamples, Input: g.input})
	if err != nil {
		return nil, nil, nil, nil, badInput(err)
	}
	eng := g.engine()
	loader := rulefile.NewLoader(eng.Parser(), false)
	loader.Input = g.input
	files, err := ruleFilesFor(sc, f.rules, loader)
	if err != nil {
		return nil, nil, nil, nil, badInput(err)
	}
	return sc, eng, files, loader, nil
}

// ruleFilesFor picks the rules: --rules, else the scenario's, else the
// shipped ones (preloaded from the binary).
func ruleFilesFor(sc *scenario.Scenario, flagRules []string, loader *rulefile.Loader) ([]string, error) {
	if len(flagRules) > 0 {
		files, err := rulefile.Expand(flagRules)
		if err == nil && len(files) == 0 {
			err = fmt.Errorf("--rules %s: no rule file (*.yml, *.yaml) in it", strings.Join(flagRules, ", "))
		}
		return files, err
	}
	if len(sc.RuleFiles) > 0 {
		return sc.ResolveRuleFiles()
	}
	shipped, err := fs.Glob(gotkrules.Shipped, "rules/*.yml")
	if err != nil {
		return nil, err
	}
	for _, p := range shipped {
		b, err := fs.ReadFile(gotkrules.Shipped, p)
		if err != nil {
			return nil, err
		}
		loader.Preload(p, b)
	}
	return shipped, nil
}

func newReplayCommand(g *globals) *cobra.Command {
	var f scenarioFlags
	var width int
	var pictures pictureFlags // --svg, --html
	cmd := &cobra.Command{
		Use:   "replay SCENARIO",
		Short: "Replay a scenario through rules and show each alert's timeline under each object's",
		Long: `Replay a scenario file through alerting rules and print, per object, its
state over time and, aligned under it, every alert that names it: inactive,
pending or firing. --format json gives the intervals.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if f.format != "text" && f.format != "json" {
				return badInput(fmt.Errorf("--format %q: want text or json", f.format))
			}
			if width < minTextWidth || width > maxTextWidth {
				return badInput(fmt.Errorf("--width %d: want %d to %d", width, minTextWidth, maxTextWidth))
			}
			if err := pictures.check(); err != nil {
				return badInput(err)
			}
			sc, eng, files, loader, err := f.loadScenario(g, args[0])
			if err != nil {
				return err
			}
			counter, bar := g.progress("evaluations")
			rep, err := scenario.Run(cmd.Context(), sc, scenario.RunOptions{Engine: eng, RuleFiles: files, Loader: loader, Progress: counter, MaxEvals: f.maxEvals})
			bar.Stop()
			if err != nil {
				return interruptedOr(cmd.Context(), err, badInput)
			}
			if err := pictures.write(rep); err != nil {
				return err
			}
			if f.format == "json" {
				return rep.WriteJSON(g.stdout)
			}
			return rep.WriteText(g.stdout, width)
		},
	}
	f.register(cmd, "text or json")
	cmd.Flags().IntVar(&width, "width", 80, "columns of the text timeline")
	pictures.register(cmd)
	return cmd
}

func newGenCommand(g *globals) *cobra.Command {
	var f scenarioFlags
	var out, start string
	cmd := &cobra.Command{
		Use:   "gen SCENARIO",
		Short: "Write a scenario's series, as a promtool unit test file that checks the replay",
		Long: `Generate the series a scenario's monitoring setup stores and write them as a
promtool "test rules" file: input_series every scrape interval, and at every
evaluation an alert_rule_test with the firing alerts gotk-rules' replay
found. Running promtool test rules on it cross-checks gotk-rules.

--format openmetrics writes the series as OpenMetrics text instead, from
--start on, for promtool tsdb create-blocks-from openmetrics (a Prometheus to
backtest against); staleness markers are left out, with a warning.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			// --format openmetrics: series to backfill a Prometheus with (cli/backtest.go).
			if f.format == "openmetrics" || start != "" {
				return genOpenMetrics(g, &f, args[0], out, start)
			}
			if f.format != "promtool" {
				return badInput(fmt.Errorf("--format %q: want promtool or openmetrics", f.format))
			}
			sc, eng, files, loader, err := f.loadScenario(g, args[0])
			if err != nil {
				return err
			}
			counter, bar := g.progress("evaluations")
			rep, err := scenario.Run(cmd.Context(), sc, scenario.RunOptions{Engine: eng, RuleFiles: files, Loader: loader, CaptureFiring: true, Progress: counter, MaxEvals: f.maxEvals})
			bar.Stop()
			if err != nil {
				return interruptedOr(cmd.Context(), err, badInput)
			}
			ss := scenario.Notation(sc.Generate(), time.Duration(sc.ScrapeInterval), time.Duration(sc.Duration))
			write := func(w io.Writer, base string) error {
				return rep.WritePromtool(w, relativeTo(base, files), ss)
			}
			if out == "" {
				return write(g.stdout, ".")
			}
			return writeFile(out, func(w io.Writer) error { return write(w, filepath.Dir(out)) })
		},
	}
	f.register(cmd, "promtool or openmetrics")
	cmd.Flags().Lookup("format").DefValue = "promtool"
	_ = cmd.Flags().Set("format", "promtool")
	cmd.Flags().StringVarP(&out, "output", "o", "", "write to this file instead of stdout (rule_files are made relative to it)")
	cmd.Flags().StringVar(&start, "start", "", "openmetrics: time the scenario starts at (RFC 3339, now, or -36h; default the Unix epoch)")
	cmd.AddCommand(newGenFleetCommand(g))
	return cmd
}

// interruptedOr returns err as a failure (exit 1) saying the run was
// interrupted when ctx ended (SIGINT, SIGTERM), else as wrap words it.
func interruptedOr(ctx context.Context, err error, wrap func(error) error) error {
	if ctx.Err() != nil {
		return &exitError{code: ExitFailed, err: fmt.Errorf("interrupted: %w", err)}
	}
	return wrap(err)
}

// relativeTo rewrites paths relative to dir, where they exist on disk.
func relativeTo(dir string, files []string) []string {
	out := make([]string, len(files))
	for i, f := range files {
		out[i] = f
		if _, err := os.Stat(f); err != nil {
			continue // embedded: keep the name
		}
		absF, err1 := filepath.Abs(f)
		absD, err2 := filepath.Abs(dir)
		if err1 != nil || err2 != nil {
			continue
		}
		if rel, err := filepath.Rel(absD, absF); err == nil {
			out[i] = rel
		}
	}
	return out
}

func newGenFleetCommand(g *globals) *cobra.Command {
	var (
		objects int
		hours   float64
		seed    int64
		format  string
		out     string
		rules   []string
	)
	cmd := &cobra.Command{
		Use:   "fleet",
		Short: "Write a fleet of Flux objects with random failures and deletions, for fleet-scale replays and benchmarks",
		Long: `Generate a fleet of --objects Flux objects (Flux 2.0 metrics, scraped every
minute) living random lives for --hours: failures, slow reconciles,
suspensions, deletions. --format promtool writes a promtool test file whose
single alert_rule_test at the end holds the alerts gotk-rules' replay found
(so promtool and gotk-rules can be timed on the same work and cross-check
each other); --format scenario writes the scenario file.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if objects <= 0 || objects > 1_000_000 {
				return badInput(fmt.Errorf("--objects %d: want 1 to 1000000", objects))
			}
			if !(hours > 0 && hours <= 24*31) { // NaN too
				return badInput(fmt.Errorf("--hours %g: want more than 0, at most 744", hours))
			}
			dur := time.Duration(hours * float64(time.Hour)).Truncate(time.Minute)
			sc := scenario.Fleet(objects, dur, seed)
			sc.File = "gen fleet"
			switch format {
			case "scenario":
				return writeOut(g, out, func(w io.Writer) error { return sc.WriteYAML(w) })
			case "promtool":
			default:
				return badInput(fmt.Errorf("--format %q: want promtool or scenario", format))
			}
			if len(rules) == 0 {
				return badInput(fmt.Errorf("--rules: name the rule files the test file loads (e.g. rules/gitopstoolkit.yml)"))
			}
			eng := g.engine()
			loader := rulefile.NewLoader(eng.Parser(), false)
			loader.Input = g.input
			files, err := rulefile.Expand(rules)
			if err != nil {
				return badInput(err)
			}
			// Generated compactly (a fleet's raw samples take gigabytes),
			// written as text, replayed from the same memory.
			generated := sc.GenerateCompact()
			ss := scenario.CompactNotation(generated, time.Duration(sc.ScrapeInterval), dur)
			inputs := make([]evaluator.Input, len(generated))
			for i, g := range generated {
				inputs[i] = evaluator.CompactInput(g)
			}
			counter, bar := g.progress("evaluations")
			rep, err := scenario.Run(cmd.Context(), sc, scenario.RunOptions{Engine: eng, RuleFiles: files, Loader: loader, CaptureFiring: true, CaptureAt: []time.Duration{dur}, Progress: counter, Inputs: inputs})
			bar.Stop()
			if err != nil {
				return interruptedOr(cmd.Context(), err, badInput)
			}
			base := "."
			if out != "" {
				base = filepath.Dir(out)
			}
			return writeOut(g, out, func(w io.Writer) error { return rep.WritePromtool(w, relativeTo(base, files), ss) })
		},
	}
	fl := cmd.Flags()
	fl.IntVar(&objects, "objects", 200, "objects in the fleet")
	fl.Float64Var(&hours, "hours", 24, "hours the fleet lives")
	fl.Int64Var(&seed, "seed", 1, "random seed")
	fl.StringVar(&format, "format", "promtool", "promtool or scenario")
	fl.StringVarP(&out, "output", "o", "", "write to this file instead of stdout")
	fl.StringArrayVar(&rules, "rules", nil, "rule files the promtool test file loads (repeatable)")
	return cmd
}

// writeOut writes to the file named, whole or not at all, or to stdout.
func writeOut(g *globals, path string, write func(io.Writer) error) error {
	if path == "" {
		return write(g.stdout)
	}
	return writeFile(path, write)
}

// pictureFlags are replay's and backtest's --svg and --html: the timeline
// picture as files.
type pictureFlags struct {
	svg, html string
	width     int
}

func (p *pictureFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&p.svg, "svg", "", "also write the timeline picture (series, objects, pending and firing bands) to this SVG file")
	cmd.Flags().StringVar(&p.html, "html", "", "also write the timeline picture, with a time cursor, to this self-contained HTML file")
	cmd.Flags().IntVar(&p.width, "picture-width", 1200, "width of the --svg and --html picture, in pixels")
}

// write writes the pictures asked for, of a scenario replay.
func (p *pictureFlags) write(rep *scenario.Replay) error {
	if p.svg == "" && p.html == "" {
		return nil
	}
	return p.writeView(timeline.FromReplay(rep))
}

// writeView writes the pictures asked for, of a view.
func (p *pictureFlags) writeView(v *timeline.View) error {
	if p.svg == "" && p.html == "" {
		return nil
	}
	if p.svg != "" {
		if err := writeFile(p.svg, func(w io.Writer) error {
			return timeline.WriteSVG(w, v, timeline.SVGOptions{Width: p.width, Standalone: true})
		}); err != nil {
			return fmt.Errorf("--svg: %w", err)
		}
	}
	if p.html != "" {
		if err := writeFile(p.html, func(w io.Writer) error {
			return timeline.WriteHTML(w, v, timeline.HTMLOptions{Width: p.width})
		}); err != nil {
			return fmt.Errorf("--html: %w", err)
		}
	}
	return nil
}

// minSeriesPerObject is the fewest series one object of a scenario
// generates (its six Flux 2.0 series, before histograms, events and
// cluster copies add more): a lower bound of what loading will count.
const minSeriesPerObject = 6

// precheckObjects refuses, before the scenario is parsed, one whose block
// list of objects alone is over --max-series: parsing a scenario of
// hundreds of thousands of objects takes gigabytes before the series
// budget, counted after parsing, could refuse it. The file is scanned line
// by line (only a regular one, within the input budget); the count is a
// lower bound (list items at the indentation of the first under the
// top-level objects key, at least minSeriesPerObject series each), so a
// scenario it lets through is checked exactly when loaded.
func precheckObjects(path string, maxSeries int, limits boundedio.Limits) error {
	if st, err := os.Stat(path); err != nil || !st.Mode().IsRegular() {
		return nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	limit := limits.Bytes
	if limit <= 0 {
		limit = budget.DefaultInputBytes
	}
	sc := bufio.NewScanner(io.LimitReader(f, limit))
	sc.Buffer(nil, int(min(limit, 1<<30)))
	var (
		keyLine, objects int
		indent           = -1
	)
	for n := 1; sc.Scan(); n++ {
		line := sc.Bytes()
		if keyLine == 0 {
			if objectsKey.Match(line) {
				keyLine = n
			}
			continue
		}
		trimmed := bytes.TrimLeft(line, " ")
		if len(trimmed) == 0 || trimmed[0] == '#' {
			continue
		}
		at := len(line) - len(trimmed)
		if at == 0 && trimmed[0] != '-' {
			break // the next top-level key, or a document marker
		}
		if !bytes.HasPrefix(trimmed, []byte("- ")) && !bytes.Equal(trimmed, []byte("-")) {
			continue
		}
		if indent < 0 {
			indent = at
		}
		if at == indent {
			objects++
		}
	}
	if series := objects * minSeriesPerObject; keyLine > 0 && maxSeries > 0 && series > maxSeries {
		return fmt.Errorf("%s:%d:1: %w", path, keyLine, &budget.ExceededError{Budget: budget.InputSeries, Limit: uint64(maxSeries), Asked: uint64(series),
			Subject: fmt.Sprintf("the scenario has %d %s, at least %d series", objects, plural(objects, "object", "objects"), series)})
	}
	return nil
}

// objectsKey matches the line of a top-level objects key whose value is a
// block list.
var objectsKey = regexp.MustCompile(`^objects\s*:\s*(#.*)?$`)
