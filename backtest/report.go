package backtest

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/gotk-rules/gotk-rules/evaluator"
)

// JSONInterval is a pending or firing interval. End is the first evaluation
// at which it no longer held, absent when it still held at the last one.
type JSONInterval struct {
	Start string `json:"start"`
	End   string `json:"end,omitempty"`
}

// JSONAlert is one alert (a rule and a label set) and its intervals.
type JSONAlert struct {
	Alert   string            `json:"alert"`
	Labels  map[string]string `json:"labels"`
	Pending []JSONInterval    `json:"pending"`
	Firing  []JSONInterval    `json:"firing"`
}

// JSONDifference is a stretch where the backtest and the server's ALERTS differ.
type JSONDifference struct {
	Labels map[string]string `json:"labels"`
	Start  string            `json:"start"`
	End    string            `json:"end,omitempty"`
	Local  evaluator.State   `json:"backtest"`
	Server evaluator.State   `json:"server"`
}

// JSONServerAlerts is the comparison of one rule with the server's ALERTS.
type JSONServerAlerts struct {
	Alert       string           `json:"alert"`
	Found       bool             `json:"found"`
	LabelSets   int              `json:"label_sets"`
	Differences []JSONDifference `json:"differences"`
	Ignored     int              `json:"ignored"`
}

// JSONReport is what --format json prints.
type JSONReport struct {
	Alerts      []JSONAlert        `json:"alerts"`
	PerDay      []DayCount         `json:"per_day"`
	ServerDiff  []JSONServerAlerts `json:"server_alerts_diff,omitempty"`
	URL         string             `json:"url"`
	From        string             `json:"from"`
	To          string             `json:"to"`
	Step        string             `json:"step"`
	Evaluations int                `json:"evaluations"`
	Rules       []string           `json:"rules"`
	Warnings    []string           `json:"warnings"`
	// Partial are the answers the server said were partial (with
	// --allow-partial), by query and range.
	Partial []JSONPartial `json:"partial_responses"`
	// ReplicaLabels are the alerts' labels that look like replica labels.
	ReplicaLabels []ReplicaLabel `json:"replica_labels"`
	Fatigue       Fatigue        `json:"fatigue"`
	Shards        int            `json:"shards"`
	Resumed       int            `json:"shards_resumed"`
	Queries       JSONQueries    `json:"queries"`
}

// JSONPartial is a query the server answered partially.
type JSONPartial struct {
	Query   string `json:"query"`
	Start   string `json:"start"`
	End     string `json:"end"`
	Warning string `json:"warning"`
}

// JSONQueries counts the requests made.
type JSONQueries struct {
	Range    int   `json:"query_range"`
	Instant  int   `json:"query"`
	Requests int64 `json:"http_requests"`
	Retries  int64 `json:"retries"`
	// Splits counts the range queries halved because the server refused
	// them as too large.
	Splits int `json:"splits"`
}

func rfc(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func endString(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return rfc(t)
}

// JSON builds the report --format json prints.
func (r *Result) JSON() JSONReport {
	out := JSONReport{
		Alerts: []JSONAlert{}, PerDay: r.PerDay, URL: r.URL, From: rfc(r.From), To: rfc(r.To),
		Step: model.Duration(r.Step).String(), Evaluations: r.Evals, Rules: r.Rules, Warnings: r.Warnings,
		Queries: JSONQueries{Range: r.RangeQueries, Instant: r.InstantQueries, Requests: r.Stats.Requests, Retries: r.Stats.Retries, Splits: r.Splits},
		Partial: []JSONPartial{}, ReplicaLabels: r.Replicas, Fatigue: r.Fatigue, Shards: r.Shards, Resumed: r.Resumed,
	}
	for _, p := range r.Partial {
		out.Partial = append(out.Partial, JSONPartial{Query: p.Query, Start: rfc(p.Start), End: rfc(p.End), Warning: p.Warning})
	}
	if out.ReplicaLabels == nil {
		out.ReplicaLabels = []ReplicaLabel{}
	}
	if out.PerDay == nil {
		out.PerDay = []DayCount{}
	}
	if out.Warnings == nil {
		out.Warnings = []string{}
	}
	for _, a := range r.Timeline.Alerts {
		ja := JSONAlert{Alert: a.Alert, Labels: a.Labels.Map(), Pending: []JSONInterval{}, Firing: []JSONInterval{}}
		for _, iv := range a.Intervals {
			ji := JSONInterval{Start: rfc(iv.Start), End: endString(iv.End)}
			if iv.State == evaluator.Firing {
				ja.Firing = append(ja.Firing, ji)
			} else {
				ja.Pending = append(ja.Pending, ji)
			}
		}
		out.Alerts = append(out.Alerts, ja)
	}
	for _, sa := range r.Server {
		js := JSONServerAlerts{Alert: sa.Alert, Found: sa.Found, LabelSets: sa.LabelSets, Ignored: sa.Ignored, Differences: []JSONDifference{}}
		for _, d := range sa.Differences {
			js.Differences = append(js.Differences, JSONDifference{Labels: d.Labels.Map(), Start: rfc(d.Start), End: endString(d.End), Local: d.Local, Server: d.Server})
		}
		out.ServerDiff = append(out.ServerDiff, js)
	}
	return out
}

// WriteJSON prints the result as JSON.
func (r *Result) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r.JSON())
}

// alertName shows an alert as name{labels}, alertname apart.
func alertName(name string, l labels.Labels) string {
	return name + labels.NewBuilder(l).Del(labels.AlertName).Labels().String()
}

func human(d time.Duration) string { return model.Duration(d).String() }

// WriteText prints the result for people.
func (r *Result) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "backtest of %d alerting rule%s against %s\n", len(r.Rules), plural(len(r.Rules)), r.URL)
	fmt.Fprintf(&b, "%s to %s every %s: %d evaluations, %d query_range and %d instant queries, %d HTTP requests (%d retried)\n",
		rfc(r.From), rfc(r.To), human(r.Step), r.Evals, r.RangeQueries, r.InstantQueries, r.Stats.Requests, r.Stats.Retries)
	if r.Shards > 1 || r.Resumed > 0 || r.Splits > 0 {
		fmt.Fprintf(&b, "%d time shard%s (%d resumed from the checkpoint); %d range quer%s halved as too large for the server\n",
			r.Shards, plural(r.Shards), r.Resumed, r.Splits, pluralY(r.Splits))
	}
	if len(r.Partial) > 0 {
		fmt.Fprintf(&b, "\nPARTIAL: the server answered %d quer%s partially (--allow-partial); the alerts in these ranges may be missing or wrong:\n", len(r.Partial), pluralY(len(r.Partial)))
		for _, p := range r.Partial {
			fmt.Fprintf(&b, "  %s\n", p)
		}
	}
	for _, rl := range r.Replicas {
		fmt.Fprintf(&b, "\nwarning: %s\n", rl)
	}

	active := map[string]bool{}
	for _, a := range r.Timeline.Alerts {
		active[a.Alert] = true
		fmt.Fprintf(&b, "\n%s\n", alertName(a.Alert, a.Labels))
		tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		for _, iv := range a.Intervals {
			if iv.End.IsZero() {
				fmt.Fprintf(tw, "  %s\t%s\t..\t(still at the end)\t%s+\n", iv.State, rfc(iv.Start), human(r.To.Sub(iv.Start)))
				continue
			}
			fmt.Fprintf(tw, "  %s\t%s\t..\t%s\t%s\n", iv.State, rfc(iv.Start), rfc(iv.End), human(iv.End.Sub(iv.Start)))
		}
		tw.Flush()
	}
	var quiet []string
	for _, name := range r.Rules {
		if !active[name] {
			quiet = append(quiet, name)
		}
	}
	if len(quiet) > 0 {
		fmt.Fprintf(&b, "\nnever pending or firing: %s\n", strings.Join(quiet, ", "))
	}

	if len(r.PerDay) > 0 {
		fmt.Fprintf(&b, "\nper day (UTC; days without alerts are not listed)\n")
		tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		fmt.Fprintf(tw, "  day\talert\tlabel sets\tpending\tfiring\tfiring for\n")
		for _, d := range r.PerDay {
			fmt.Fprintf(tw, "  %s\t%s\t%d\t%d\t%d\t%s\n", d.Day, d.Alert, d.LabelSets, d.Pending, d.Firing, human(time.Duration(d.FiringSeconds)*time.Second))
		}
		tw.Flush()
	}

	writeFatigueText(&b, r.Fatigue)

	if r.Server != nil {
		fmt.Fprintf(&b, "\nthe server's own ALERTS\n")
		var absent []string
		for _, sa := range r.Server {
			if !sa.Found {
				absent = append(absent, sa.Alert)
			}
		}
		if len(absent) > 0 {
			fmt.Fprintf(&b, "  none for %s in this range (not loaded there, or never active): nothing to compare\n", strings.Join(absent, ", "))
		}
		for _, sa := range r.Server {
			switch {
			case !sa.Found:
			case len(sa.Differences) == 0:
				fmt.Fprintf(&b, "  %s: same as the backtest (%d label set%s%s)\n", sa.Alert, sa.LabelSets, plural(sa.LabelSets), ignored(sa.Ignored, r.Tolerance))
			default:
				fmt.Fprintf(&b, "  %s: %d difference%s (%d label set%s on the server%s)\n", sa.Alert, len(sa.Differences), plural(len(sa.Differences)), sa.LabelSets, plural(sa.LabelSets), ignored(sa.Ignored, r.Tolerance))
				tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
				for _, d := range sa.Differences {
					end := "(still at the end)"
					if !d.End.IsZero() {
						end = rfc(d.End)
					}
					fmt.Fprintf(tw, "    %s\t%s\t..\t%s\tbacktest %s, server %s\n", alertName(sa.Alert, d.Labels), rfc(d.Start), end, d.Local, d.Server)
				}
				tw.Flush()
			}
		}
	}
	for _, wmsg := range r.Warnings {
		fmt.Fprintf(&b, "\nserver warning: %s", wmsg)
	}
	if len(r.Warnings) > 0 {
		b.WriteString("\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func ignored(n int, tolerance time.Duration) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf("; %d difference%s lasting at most %s ignored", n, plural(n), human(tolerance))
}

func pluralY(n int) string {
	if n == 1 {
		return "y"
	}
	return "ies"
}

// writeFatigueText prints the fatigue report: per rule, then the noisiest
// label sets.
func writeFatigueText(b *strings.Builder, f Fatigue) {
	if len(f.Rules) == 0 {
		return
	}
	fmt.Fprintf(b, "\nfatigue over %s days (flapping: more than %d firings resolved on one UTC day)\n", trimFloat(f.Days), f.FlapThreshold)
	tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  alert\tlabel sets\tfirings\tper day\tfiring for\tmedian to resolve\tflapping label sets\n")
	for _, rf := range f.Rules {
		fmt.Fprintf(tw, "  %s\t%d\t%d\t%s\t%s\t%s\t%d\n", rf.Alert, rf.LabelSets, rf.Firings, trimFloat(rf.FiringsPerDay),
			human(time.Duration(rf.FiringSeconds)*time.Second), medianString(rf.MedianResolveSeconds), rf.Flapping)
	}
	tw.Flush()
	if len(f.Noisiest) == 0 {
		return
	}
	fmt.Fprintf(b, "\nnoisiest label sets (most firings)\n")
	tw = tabwriter.NewWriter(b, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  alert\tfirings\tper day\tfiring for\tmedian to resolve\tmost resolved in a day\tflapping\n")
	for _, a := range f.Noisiest {
		flap := "no"
		if a.Flapping {
			flap = fmt.Sprintf("yes, %d day%s", a.FlappingDays, plural(a.FlappingDays))
		}
		fmt.Fprintf(tw, "  %s\t%d\t%s\t%s\t%s\t%d\t%s\n", alertName(a.Alert, labels.FromMap(a.Labels)), a.Firings, trimFloat(a.FiringsPerDay),
			human(time.Duration(a.FiringSeconds)*time.Second), medianString(a.MedianResolveSeconds), a.MaxPerDay, flap)
	}
	tw.Flush()
}

func medianString(s *int64) string {
	if s == nil {
		return "-"
	}
	return human(time.Duration(*s) * time.Second)
}

func trimFloat(x float64) string {
	return strconv.FormatFloat(x, 'f', -1, 64)
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
