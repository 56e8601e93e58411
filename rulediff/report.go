package rulediff

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/gotk-rules/gotk-rules/verify"
)

// JSON shapes (docs/diff.md documents them).

type jsonReport struct {
	Old      string        `json:"old"`
	New      string        `json:"new"`
	Changed  bool          `json:"changed"`
	Summary  jsonSummary   `json:"summary"`
	Inputs   []jsonInput   `json:"inputs"`
	Verdicts []jsonVerdict `json:"verdicts,omitempty"`
}

type jsonSummary struct {
	Inputs          int `json:"inputs"`
	InputsChanged   int `json:"inputs_changed"`
	AlertsChanged   int `json:"alerts_changed"`
	VerdictsChanged int `json:"verdicts_changed"`
}

type jsonInput struct {
	Kind    InputKind   `json:"kind"`
	Name    string      `json:"name"`
	Start   time.Time   `json:"start"`
	End     time.Time   `json:"end"`
	Step    string      `json:"step"`
	Changed bool        `json:"changed"`
	Alerts  []jsonAlert `json:"alerts"`
}

type jsonAlert struct {
	Alert  string       `json:"alert"`
	Old    jsonStats    `json:"old"`
	New    jsonStats    `json:"new"`
	Series []jsonSeries `json:"series"`
}

type jsonStats struct {
	LabelSets               int      `json:"label_sets"`
	Firings                 int      `json:"firings"`
	FiringsPerDay           float64  `json:"firings_per_day"`
	FiringSeconds           float64  `json:"firing_seconds"`
	PendingToFiringSeconds  *float64 `json:"pending_to_firing_seconds"`
	ToResolveSeconds        *float64 `json:"to_resolve_seconds"`
	FailuresCaught          *int     `json:"failures_caught,omitempty"`
	FailureToFiringSeconds  *float64 `json:"failure_to_firing_seconds,omitempty"`
	FailureEndToResolvedSec *float64 `json:"failure_end_to_resolved_seconds,omitempty"`
}

type jsonSeries struct {
	Labels labels.Labels `json:"labels"`
	Status Status        `json:"status"`
	Gained []jsonSpan    `json:"gained"`
	Lost   []jsonSpan    `json:"lost"`
}

type jsonSpan struct {
	Start       time.Time `json:"start"`
	End         time.Time `json:"end"`
	StartOffset string    `json:"start_offset"`
	EndOffset   string    `json:"end_offset"`
	Open        bool      `json:"open"`
}

type jsonVerdict struct {
	Alert   string           `json:"alert"`
	Era     string           `json:"era"`
	Scrape  string           `json:"scrape"`
	Changed bool             `json:"changed"`
	Old     *jsonVerdictSide `json:"old"`
	New     *jsonVerdictSide `json:"new"`
}

type jsonVerdictSide struct {
	Verdict        string `json:"verdict"`
	RealFailures   int    `json:"real_failures"`
	AlertsFired    int    `json:"alerts_fired"`
	FalsePositives int    `json:"false_positives"`
	FalseNegatives int    `json:"false_negatives"`
}

func secs(d time.Duration) float64 { return d.Seconds() }

func optSecs(d time.Duration, n int) *float64 {
	if n == 0 {
		return nil
	}
	s := d.Seconds()
	return &s
}

func toJSONStats(st Stats, failures bool) jsonStats {
	js := jsonStats{
		LabelSets: st.LabelSets, Firings: st.Firings, FiringsPerDay: math.Round(st.PerDay*1000) / 1000,
		FiringSeconds:          secs(st.FiringTime),
		PendingToFiringSeconds: optSecs(st.PendingToFiring, st.PendingToFiringCount),
		ToResolveSeconds:       optSecs(st.ToResolve, st.ToResolveCount),
	}
	if failures {
		n := st.FailuresCaught
		js.FailuresCaught = &n
		js.FailureToFiringSeconds = optSecs(st.FailureToFiring, st.FailuresCaught)
		js.FailureEndToResolvedSec = optSecs(st.FailureEndToResolved, st.FailureEndToResolvedCount)
	}
	return js
}

func verdictSide(r *verify.Result) *jsonVerdictSide {
	if r == nil {
		return nil
	}
	return &jsonVerdictSide{Verdict: r.Verdict, RealFailures: r.RealFailures, AlertsFired: r.AlertsFired, FalsePositives: r.FalsePositives, FalseNegatives: r.FalseNegatives}
}

// WriteJSON writes the report as JSON (docs/diff.md).
func (r *Report) WriteJSON(w io.Writer) error {
	out := jsonReport{Old: r.Old, New: r.New, Changed: r.Changed(), Inputs: []jsonInput{}}
	out.Summary.Inputs = len(r.Inputs)
	out.Summary.InputsChanged = r.ChangedInputs()
	for i := range r.Inputs {
		d := &r.Inputs[i]
		ji := jsonInput{Kind: d.Kind, Name: d.Name, Start: d.Start.UTC(), End: d.End.UTC(), Step: model.Duration(d.Step).String(), Changed: d.Changed(), Alerts: []jsonAlert{}}
		failures := d.Kind == KindScenario || d.Kind == KindRandom
		for _, a := range d.Alerts {
			out.Summary.AlertsChanged++
			ja := jsonAlert{Alert: a.Alert, Old: toJSONStats(a.Old, failures), New: toJSONStats(a.New, failures)}
			for _, s := range a.Series {
				ja.Series = append(ja.Series, jsonSeries{Labels: s.Labels, Status: s.Status, Gained: jsonSpans(d, s.Gained), Lost: jsonSpans(d, s.Lost)})
			}
			ji.Alerts = append(ji.Alerts, ja)
		}
		out.Inputs = append(out.Inputs, ji)
	}
	for _, v := range r.Verdicts {
		if v.Changed() {
			out.Summary.VerdictsChanged++
		}
		out.Verdicts = append(out.Verdicts, jsonVerdict{Alert: v.Alert, Era: v.Era, Scrape: v.Scrape, Changed: v.Changed(), Old: verdictSide(v.Old), New: verdictSide(v.New)})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

func jsonSpans(d *InputDiff, spans []Span) []jsonSpan {
	out := []jsonSpan{}
	for _, s := range spans {
		out = append(out, jsonSpan{Start: s.Start.UTC(), End: s.End.UTC(), StartOffset: offset(s.Start.Sub(d.Start)), EndOffset: offset(s.End.Sub(d.Start)), Open: s.Open})
	}
	return out
}

// offset words a duration as Prometheus does (1h30m), "0s" for none.
func offset(d time.Duration) string {
	if d < 0 {
		return "-" + model.Duration(-d).String()
	}
	return model.Duration(d).String()
}

// spanText words a span: offsets from the input's start, or wall-clock
// times for a server's history; an open span ends at "end".
func spanText(d *InputDiff, s Span) string {
	var from, to string
	if d.Absolute {
		from, to = s.Start.UTC().Format(time.RFC3339), s.End.UTC().Format(time.RFC3339)
	} else {
		from, to = offset(s.Start.Sub(d.Start)), offset(s.End.Sub(d.Start))
	}
	if s.Open {
		to = "end"
	}
	return from + "–" + to
}

func spansText(d *InputDiff, spans []Span) string {
	parts := make([]string, len(spans))
	for i, s := range spans {
		parts[i] = spanText(d, s)
	}
	return strings.Join(parts, ", ")
}

// labelsText words an alert's labels without its alertname.
func labelsText(l labels.Labels) string {
	b := labels.NewBuilder(l)
	b.Del(labels.AlertName)
	return b.Labels().String()
}

// rangeText words an input's time range.
func rangeText(d *InputDiff) string {
	if d.Absolute {
		return fmt.Sprintf("%s to %s every %s", d.Start.UTC().Format(time.RFC3339), d.End.UTC().Format(time.RFC3339), model.Duration(d.Step))
	}
	return fmt.Sprintf("0s to %s every %s", offset(d.End.Sub(d.Start)), model.Duration(d.Step))
}

// durText words a median, "-" when nothing was measured.
func durText(d time.Duration, n int) string {
	if n == 0 {
		return "-"
	}
	return offset(d)
}

// statPairs are the statistics of an alert shown before and after.
func statPairs(a *AlertDiff, failures bool) [][3]string {
	o, n := a.Old, a.New
	rows := [][3]string{
		{"firings", fmt.Sprint(o.Firings), fmt.Sprint(n.Firings)},
		{"per day", fmt.Sprintf("%.1f", o.PerDay), fmt.Sprintf("%.1f", n.PerDay)},
		{"firing time", offset(o.FiringTime), offset(n.FiringTime)},
		{"pending to firing", durText(o.PendingToFiring, o.PendingToFiringCount), durText(n.PendingToFiring, n.PendingToFiringCount)},
		{"firing to resolved", durText(o.ToResolve, o.ToResolveCount), durText(n.ToResolve, n.ToResolveCount)},
	}
	if failures {
		rows = append(rows,
			[3]string{"failures caught", fmt.Sprint(o.FailuresCaught), fmt.Sprint(n.FailuresCaught)},
			[3]string{"failure to firing", durText(o.FailureToFiring, o.FailuresCaught), durText(n.FailureToFiring, n.FailuresCaught)},
			[3]string{"failure end to resolved", durText(o.FailureEndToResolved, o.FailureEndToResolvedCount), durText(n.FailureEndToResolved, n.FailureEndToResolvedCount)},
		)
	}
	return rows
}

// WriteText writes the report for a terminal: per changed input, per
// alert, the statistics that changed and each label set's firing gained
// and lost; then the verdicts that changed.
func (r *Report) WriteText(w io.Writer) error {
	ew := &errWriter{w: w}
	if !r.Changed() {
		ew.printf("no change: %s and %s fire alike on %d input%s\n", r.Old, r.New, len(r.Inputs), plural(len(r.Inputs)))
		return ew.err
	}
	ew.printf("%s -> %s: behaviour changed on %d of %d input%s\n", r.Old, r.New, r.ChangedInputs(), len(r.Inputs), plural(len(r.Inputs)))
	for i := range r.Inputs {
		d := &r.Inputs[i]
		if !d.Changed() {
			continue
		}
		ew.printf("\n%s %s (%s)\n", d.Kind, d.Name, rangeText(d))
		failures := d.Kind == KindScenario || d.Kind == KindRandom
		for k := range d.Alerts {
			a := &d.Alerts[k]
			var changed []string
			for _, p := range statPairs(a, failures) {
				if p[1] != p[2] {
					changed = append(changed, fmt.Sprintf("%s %s -> %s", p[0], p[1], p[2]))
				}
			}
			ew.printf("  %s: %s\n", a.Alert, strings.Join(changed, ", "))
			for _, s := range a.Series {
				ew.printf("    %-7s %s\n", s.Status, labelsText(s.Labels))
				if len(s.Gained) > 0 {
					ew.printf("      gained firing %s\n", spansText(d, s.Gained))
				}
				if len(s.Lost) > 0 {
					ew.printf("      lost firing   %s\n", spansText(d, s.Lost))
				}
			}
		}
	}
	if n := unchangedVerdicts(r.Verdicts); n < len(r.Verdicts) {
		ew.printf("\nverify verdicts that changed (%s):\n", randomText(r.Random))
		ew.printf("  %-28s %-8s %-10s %-24s %s\n", "alert", "era", "scrape", "old", "new")
		for _, v := range r.Verdicts {
			if v.Changed() {
				ew.printf("  %-28s %-8s %-10s %-24s %s\n", v.Alert, v.Era, v.Scrape, verdictText(v.Old), verdictText(v.New))
			}
		}
	}
	return ew.err
}

func unchangedVerdicts(vs []VerdictChange) int {
	n := 0
	for _, v := range vs {
		if !v.Changed() {
			n++
		}
	}
	return n
}

func randomText(o *RandomOptions) string {
	if o == nil {
		return "random lives"
	}
	return fmt.Sprintf("%d random lives per era and scrape setup, seed %d", o.Runs, o.Seed)
}

// verdictText words one side's verify result: verdict, alerts fired, false positives
// and negatives.
func verdictText(r *verify.Result) string {
	if r == nil {
		return "(no such alert)"
	}
	return fmt.Sprintf("%s fired %d FP %d FN %d", r.Verdict, r.AlertsFired, r.FalsePositives, r.FalseNegatives)
}

// WriteMarkdown writes the report as Markdown for a pull-request comment:
// per changed input, a table of the label sets whose firing changed with
// the intervals gained and lost, and a table of each changed alert's
// statistics before and after.
func (r *Report) WriteMarkdown(w io.Writer) error {
	ew := &errWriter{w: w}
	ew.printf("### Alert-behaviour diff\n\n")
	if !r.Changed() {
		ew.printf("No change: `%s` and `%s` fire alike on %d input%s.\n", mdCode(r.Old), mdCode(r.New), len(r.Inputs), plural(len(r.Inputs)))
		return ew.err
	}
	ew.printf("`%s` → `%s`: behaviour changed on **%d** of %d input%s.\n", mdCode(r.Old), mdCode(r.New), r.ChangedInputs(), len(r.Inputs), plural(len(r.Inputs)))
	for i := range r.Inputs {
		d := &r.Inputs[i]
		if !d.Changed() {
			continue
		}
		ew.printf("\n#### %s `%s`\n\n%s\n\n", d.Kind, mdCode(d.Name), rangeText(d))
		ew.printf("| Alert | Labels | Change | Firing gained | Firing lost |\n|---|---|---|---|---|\n")
		for _, a := range d.Alerts {
			for _, s := range a.Series {
				ew.printf("| %s | `%s` | %s | %s | %s |\n", mdCell(a.Alert), mdCode(labelsText(s.Labels)), s.Status, mdCell(spansText(d, s.Gained)), mdCell(spansText(d, s.Lost)))
			}
		}
		failures := d.Kind == KindScenario || d.Kind == KindRandom
		var header []string
		for _, p := range statPairs(&d.Alerts[0], failures) {
			header = append(header, p[0])
		}
		ew.printf("\n| Alert (old → new) | %s |\n|---|%s\n", strings.Join(header, " | "), strings.Repeat("---|", len(header)))
		for k := range d.Alerts {
			a := &d.Alerts[k]
			var cells []string
			for _, p := range statPairs(a, failures) {
				if p[1] == p[2] {
					cells = append(cells, p[1])
				} else {
					cells = append(cells, "**"+p[1]+" → "+p[2]+"**")
				}
			}
			ew.printf("| %s | %s |\n", mdCell(a.Alert), strings.Join(cells, " | "))
		}
	}
	if n := unchangedVerdicts(r.Verdicts); n < len(r.Verdicts) {
		ew.printf("\n#### verify verdicts that changed\n\n%s\n\n| Alert | Era | Scrape | Old | New |\n|---|---|---|---|---|\n", randomText(r.Random))
		for _, v := range r.Verdicts {
			if v.Changed() {
				ew.printf("| %s | %s | %s | %s | %s |\n", mdCell(v.Alert), v.Era, v.Scrape, verdictText(v.Old), verdictText(v.New))
			}
		}
	}
	return ew.err
}

// mdCell escapes text for a Markdown table cell.
func mdCell(s string) string {
	s = strings.NewReplacer("|", `\|`, "\n", " ", "\r", " ", "<", "&lt;", ">", "&gt;").Replace(s)
	return s
}

// mdCode escapes text for a code span in a table cell: pipes are escaped
// (GitHub reads the table first), backticks and newlines replaced.
func mdCode(s string) string {
	return strings.NewReplacer("|", `\|`, "`", "'", "\n", " ", "\r", " ").Replace(s)
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// errWriter keeps the first write error.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) printf(format string, args ...any) {
	if e.err == nil {
		_, e.err = fmt.Fprintf(e.w, format, args...)
	}
}
