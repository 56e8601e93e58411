package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"time"

	"github.com/spf13/pflag"

	"github.com/gotk-rules/gotk-rules/coverage"
	"github.com/gotk-rules/gotk-rules/scenario"
	"github.com/gotk-rules/gotk-rules/unittest"
)

// coverFlags are test's coverage flags (docs/coverage.md).
type coverFlags struct {
	cover  bool
	out    string
	format string
	min    string // a percentage, parsed by check; empty: none
	minPct float64
	minSet bool
}

// register adds the coverage flags to test's.
func (c *coverFlags) register(fl *pflag.FlagSet) {
	fl.BoolVar(&c.cover, "cover", false, "print the rules' behavioural coverage after the results (docs/coverage.md)")
	fl.StringVar(&c.out, "cover-out", "", "write the rules' coverage to this file (see --cover-format)")
	fl.StringVar(&c.format, "cover-format", "", "format of --cover-out: json (the default) or cobertura")
	fl.StringVar(&c.min, "cover-min", "", "fail (exit 1) when less than this percentage of the rules is covered")
}

// check refuses bad coverage flag values.
func (c *coverFlags) check() error {
	switch {
	case c.format != "" && c.format != "json" && c.format != "cobertura":
		return fmt.Errorf("--cover-format %q: want json or cobertura", c.format)
	case c.format != "" && c.out == "":
		return fmt.Errorf("--cover-format %s: needs --cover-out FILE", c.format)
	}
	if c.min != "" {
		v, err := strconv.ParseFloat(c.min, 64)
		if err != nil || math.IsNaN(v) || v < 0 || v > 100 {
			return fmt.Errorf("--cover-min %q: want a percentage from 0 to 100", c.min)
		}
		c.minPct, c.minSet = v, true
	}
	return nil
}

// enabled says whether the run measures coverage.
func (c *coverFlags) enabled() bool { return c.cover || c.out != "" || c.minSet }

// hook makes the run observe the rules for coverage, when asked: it
// returns the collector, nil when coverage is off.
func (c *coverFlags) hook(opts *unittest.Options) *coverage.Collector {
	if !c.enabled() {
		return nil
	}
	col := coverage.NewCollector()
	opts.AfterEval = col.AfterEval
	return col
}

// report builds the coverage report of a run, nil when coverage is off,
// and writes --cover-out.
func (c *coverFlags) report(ctx context.Context, col *coverage.Collector, res *unittest.Result, opts unittest.Options) (*coverage.Report, error) {
	if col == nil {
		return nil, nil
	}
	rep, err := col.Report(ctx, res, coverage.Options{
		Engine: opts.Engine, FS: opts.FS, Input: opts.Input, Exact: opts.Exact,
		IgnoreUnknownFields: opts.IgnoreUnknownFields,
		Scenario:            scenario.Limits{MaxSeries: opts.MaxSeries, MaxSamples: opts.MaxSamples},
	})
	if err != nil {
		if ctx.Err() != nil {
			return nil, &exitError{code: ExitFailed, err: fmt.Errorf("interrupted: %w", ctx.Err())}
		}
		return nil, badInput(err)
	}
	if c.out != "" {
		write := func(w io.Writer) error { return coverage.WriteJSON(w, rep) }
		if c.format == "cobertura" {
			write = func(w io.Writer) error { return coverage.WriteCobertura(w, rep, time.Now()) }
		}
		if err := writeFile(c.out, write); err != nil {
			return nil, badInput(fmt.Errorf("--cover-out: %w", err))
		}
	}
	return rep, nil
}

// writeSummary prints the text summary after the results, with --cover.
func (c *coverFlags) writeSummary(w io.Writer, rep *coverage.Report) error {
	if rep == nil || !c.cover {
		return nil
	}
	return coverage.WriteText(w, rep)
}

// writeTestJSON writes test's JSON results, with a coverage object when
// --cover asks for it.
func (c *coverFlags) writeTestJSON(w io.Writer, res *unittest.Result, rep *coverage.Report) error {
	if rep == nil || !c.cover {
		return unittest.WriteJSON(w, res)
	}
	out := struct {
		*unittest.Result
		Summary  unittest.Counts  `json:"summary"`
		Coverage *coverage.Report `json:"coverage"`
	}{res, res.Counts(), rep}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// checkMin fails the run when coverage is below --cover-min: exit 1, or
// the run's own code when it is worse (bad input).
func (c *coverFlags) checkMin(rep *coverage.Report, code int) error {
	if rep == nil || !c.minSet || !rep.Summary.Below(c.minPct) {
		return nil
	}
	return &exitError{code: max(code, ExitFailed), err: fmt.Errorf("coverage %.1f%% of rules (%d of %d) is below --cover-min %s%%",
		rep.Summary.Percent, rep.Summary.Covered, rep.Summary.Rules, strconv.FormatFloat(c.minPct, 'f', -1, 64))}
}
