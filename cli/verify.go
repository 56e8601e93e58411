package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/gotk-rules/gotk-rules/budget"
	"github.com/gotk-rules/gotk-rules/internal/progress"
	"github.com/gotk-rules/gotk-rules/rulefile"
	"github.com/gotk-rules/gotk-rules/scenario"
	"github.com/gotk-rules/gotk-rules/verify"
)

type verifyFlags struct {
	rules            []string
	era, scrape      string
	runs             int
	seed             int64
	format           string
	excludeSuspended bool
	minFailure       time.Duration
	duration         time.Duration
	secondTargets    bool
	counterexamples  string
	policy           bool
	maxEvals         int64
}

func newVerifyCommand(g *globals) *cobra.Command {
	var f verifyFlags
	cmd := &cobra.Command{
		Use:   "verify --rules FILE...",
		Short: "Prove, or disprove, that alerts fire on real Flux failures only, on random object lives",
		Long: `Generate random Flux object lives (reconciles that fail and recover, slow
reconciles, suspensions, deletions, controller restarts, scrape gaps), replay
them through the rules for each era and scrape setup, and compare every
alert with the ground truth.

A failure episode runs from a reconcile that ends Ready=False to the next
that ends Ready=True, or the deletion; Unknown while reconciling does not end
it. An episode longer than max(for, --min-failure) plus the tolerance (one
scrape plus one evaluation interval) must make the alert fire for its object
(else: false negative). A firing alert must name an object that has been
failing for --min-failure, give or take the tolerance (else: false positive).

Each alert is judged over the objects it can watch: its scope, derived from
the static matchers of its selectors on the labels that name an object
(kind or customresource_kind, name, namespace or exported_namespace). With
--policy the rule set is also judged as one paging policy: every real
failure of every object must be caught by some alert of the set.

Exit codes: 0 every result clean, 1 a false positive or negative, 2 bad input.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runVerify(cmd.Context(), g, &f) },
	}
	fl := cmd.Flags()
	fl.StringArrayVar(&f.rules, "rules", nil, "rule files to verify (repeatable; default: the shipped rules)")
	fl.StringVar(&f.era, "era", "all", eraChoices())
	fl.StringVar(&f.scrape, "scrape", "all", "direct, podmonitor or all")
	fl.IntVar(&f.runs, "runs", 200, "random lives per era and scrape setup")
	fl.Int64Var(&f.seed, "seed", 1, "random seed (same seed, same lives, same result)")
	fl.StringVar(&f.format, "format", "text", "output format: text or json")
	fl.BoolVar(&f.excludeSuspended, "exclude-suspended", false, "time spent suspended is not failure time")
	fl.DurationVar(&f.minFailure, "min-failure", 5*time.Minute, "failures shorter than this are transient and must not page")
	fl.DurationVar(&f.duration, "duration", 2*time.Hour, "length of each random life")
	fl.BoolVar(&f.secondTargets, "second-targets", false, "also model second scrape targets exporting stale values")
	fl.StringVar(&f.counterexamples, "counterexamples", "", "write each counterexample as a scenario file in this directory")
	fl.BoolVar(&f.policy, "policy", false, "also judge the whole rule set as one paging policy (results with alert \"(policy)\")")
	fl.Int64Var(&f.maxEvals, "max-evals", budget.DefaultVerifyEvaluations, "most evaluations the whole verification may take, every replay of a life and of a counterexample being shrunk counted")
	return cmd
}

func runVerify(ctx context.Context, g *globals, f *verifyFlags) error {
	if f.format != "text" && f.format != "json" {
		return badInput(fmt.Errorf("--format %q: want text or json", f.format))
	}
	opts := verify.Options{Runs: f.runs, Seed: f.seed, ExcludeSuspended: f.excludeSuspended, MinFailure: f.minFailure, Duration: f.duration, SecondTargets: f.secondTargets, Policy: f.policy, MaxEvals: f.maxEvals}
	switch {
	case f.era == "all":
	case slices.Contains(scenario.Eras, scenario.Era(f.era)):
		opts.Eras = []scenario.Era{scenario.Era(f.era)}
	default:
		return badInput(fmt.Errorf("--era %q: want %s", f.era, eraChoices()))
	}
	switch f.scrape {
	case "all":
	case string(scenario.ScrapeDirect), string(scenario.ScrapePodMonitor):
		opts.Scrapes = []scenario.Scrape{scenario.Scrape(f.scrape)}
	default:
		return badInput(fmt.Errorf("--scrape %q: want direct, podmonitor or all", f.scrape))
	}
	if f.runs <= 0 || f.runs > 1_000_000 {
		return badInput(fmt.Errorf("--runs %d: want 1 to 1000000", f.runs))
	}
	if f.duration < 10*time.Minute || f.duration > 7*24*time.Hour {
		return badInput(fmt.Errorf("--duration %s: want 10m to 168h", f.duration))
	}
	if f.minFailure < 0 || f.minFailure > f.duration {
		return badInput(fmt.Errorf("--min-failure %s: want 0 to --duration (%s)", f.minFailure, f.duration))
	}
	if f.maxEvals < 1 {
		return badInput(fmt.Errorf("--max-evals %d: want at least 1", f.maxEvals))
	}
	opts.Engine = g.engine()
	opts.Loader = rulefile.NewLoader(opts.Engine.Parser(), false)
	opts.Loader.Input = g.input
	files, err := ruleFilesFor(&scenario.Scenario{}, f.rules, opts.Loader)
	if err != nil {
		return badInput(err)
	}
	for _, rf := range files {
		if _, err := opts.Loader.LoadFile(rf); err != nil {
			return badInput(err)
		}
	}
	opts.RuleFiles = files
	if err := checkCounterexamplesDir(f.counterexamples, append(slices.Clone(f.rules), files...)); err != nil {
		return badInput(err)
	}
	var bar *progress.Bar
	opts.Progress, bar = g.progress("runs")
	results, err := verify.Run(ctx, opts)
	bar.Stop()
	if err != nil {
		return interruptedOr(ctx, err, badInput)
	}
	if f.counterexamples != "" {
		if err := writeCounterexamples(f.counterexamples, results); err != nil {
			return err
		}
	}
	if f.format == "json" {
		enc := json.NewEncoder(g.stdout)
		enc.SetIndent("", "  ")
		err = enc.Encode(struct {
			Results []*verify.Result `json:"results"`
		}{results})
	} else {
		err = writeVerifyText(g.stdout, results)
	}
	if err != nil {
		return err
	}
	for _, r := range results {
		if !r.Clean() {
			return &exitError{code: ExitFailed}
		}
	}
	return nil
}

// checkCounterexamplesDir refuses, before the runs, a --counterexamples
// that cannot be the directory the counterexamples are written to: an
// existing file that is no directory, or one of the inputs (a rule file, or
// a directory of rule files, where the scenario files would be read as
// rules).
func checkCounterexamplesDir(dir string, inputs []string) error {
	if dir == "" {
		return nil
	}
	for _, in := range inputs {
		if sameFile(dir, in) {
			return fmt.Errorf("--counterexamples %s: the same as the input %s; want a directory of its own", dir, in)
		}
	}
	if st, err := os.Stat(dir); err == nil && !st.IsDir() {
		return fmt.Errorf("--counterexamples %s: not a directory", dir)
	}
	return nil
}

func writeCounterexamples(dir string, results []*verify.Result) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("--counterexamples: %w", err)
	}
	for _, r := range results {
		if r.Counterexample == nil {
			continue
		}
		name := strings.NewReplacer("/", "-", " ", "-").Replace(fmt.Sprintf("%s-%s-%s.scenario.yml", r.Alert, r.Era, r.Scrape))
		p := filepath.Join(dir, name)
		if err := writeFile(p, func(w io.Writer) error { _, err := io.WriteString(w, r.Counterexample.Scenario); return err }); err != nil {
			return err
		}
		r.Counterexample.File = p
	}
	return nil
}

// eraChoices lists the values --era takes.
func eraChoices() string {
	var names []string
	for _, e := range scenario.Eras {
		names = append(names, string(e))
	}
	return strings.Join(names, ", ") + " or all"
}

// writeVerifyText prints the verdict table, the scope each alert was
// judged over, then each counterexample.
func writeVerifyText(w io.Writer, results []*verify.Result) error {
	fmt.Fprintf(w, "%-28s %-8s %-10s %6s %8s %7s %6s %6s  %s\n", "alert", "era", "scrape", "runs", "failures", "fired", "FP", "FN", "verdict")
	for _, r := range results {
		verdict := r.Verdict
		switch r.Verdict {
		case verify.VerdictWrong:
			verdict = "WRONG"
		case verify.VerdictNoData:
			verdict = "no data: " + r.NoData
		}
		fmt.Fprintf(w, "%-28s %-8s %-10s %6d %8d %7d %6d %6d  %s\n", clipName(r.Alert, 28), r.Era, r.Scrape, r.Runs, r.RealFailures, r.AlertsFired, r.FalsePositives, r.FalseNegatives, verdict)
	}
	writeScopes(w, results)
	for _, r := range results {
		if r.Counterexample == nil || r.Verdict != verify.VerdictWrong {
			continue
		}
		fmt.Fprintf(w, "\n%s, era %s, scrape %s: %s\n", r.Alert, r.Era, r.Scrape, r.Counterexample.Description)
		if r.Counterexample.File != "" {
			fmt.Fprintf(w, "  counterexample written to %s (gotk-rules replay %s)\n", r.Counterexample.File, r.Counterexample.File)
		} else {
			fmt.Fprintf(w, "  smallest counterexample (save it and run gotk-rules replay on it):\n%s", indent(r.Counterexample.Scenario, "    "))
		}
	}
	return nil
}

func clipName(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-1] + "…"
}

func indent(s, prefix string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = prefix + l
	}
	return strings.Join(lines, "\n") + "\n"
}

// writeScopes says, per alert, the objects it was judged over: once when
// every era agrees, else per era; eras whose metrics the alert does not
// read are left out (the table says so).
func writeScopes(w io.Writer, results []*verify.Result) {
	type eraScope struct{ era, scope string }
	var alerts []string
	perAlert := map[string][]eraScope{}
	for _, r := range results {
		if r.Alert == verify.PolicyAlert || r.NoData == verify.NoDataMetric {
			continue
		}
		if _, ok := perAlert[r.Alert]; !ok {
			alerts = append(alerts, r.Alert)
		}
		if l := perAlert[r.Alert]; len(l) == 0 || l[len(l)-1].era != string(r.Era) {
			perAlert[r.Alert] = append(l, eraScope{string(r.Era), r.Scope})
		}
	}
	if len(alerts) == 0 {
		return
	}
	fmt.Fprintln(w, "\nscope (the objects each alert is judged over):")
	for _, a := range alerts {
		l := perAlert[a]
		same := true
		for _, es := range l[1:] {
			same = same && es.scope == l[0].scope
		}
		if same {
			fmt.Fprintf(w, "  %s: %s\n", a, l[0].scope)
			continue
		}
		fmt.Fprintf(w, "  %s:\n", a)
		for _, es := range l {
			fmt.Fprintf(w, "    %-8s %s\n", es.era, es.scope)
		}
	}
}
