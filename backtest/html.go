package backtest

import (
	"bytes"
	"fmt"
	"html"
	"io"
	"strings"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/gotk-rules/gotk-rules/timeline"
)

// WriteHTML writes the backtest's page: the timeline picture and table of
// the timeline package, titled with the backtest, followed by the partial
// answers accepted, the replica labels found and the fatigue report. It
// loads nothing.
func (r *Result) WriteHTML(w io.Writer, width int) error {
	v := timeline.FromTimeline(r.Timeline)
	v.Title = "backtest against " + r.URL
	v.Subtitle = fmt.Sprintf("%s to %s every %s: %d evaluations of %d alerting rule%s", rfc(r.From), rfc(r.To), human(r.Step), r.Evals, len(r.Rules), plural(len(r.Rules)))
	var page bytes.Buffer
	if err := timeline.WriteHTML(&page, v, timeline.HTMLOptions{Width: width}); err != nil {
		return err
	}
	s := page.String()
	// The sections go before the page's footer (the last one).
	at := strings.LastIndex(s, "<footer>")
	if at < 0 {
		at = strings.LastIndex(s, "</body>")
	}
	if at < 0 {
		return fmt.Errorf("the timeline page has no footer or body end to write the backtest's sections before")
	}
	_, err := io.WriteString(w, s[:at]+r.htmlSections()+s[at:])
	return err
}

// htmlSections are the backtest's own parts of the page.
func (r *Result) htmlSections() string {
	esc := html.EscapeString
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	if len(r.Partial) > 0 {
		p("<section id=\"partial\">\n<h2 class=\"firing\">Partial answers (--allow-partial)</h2>\n")
		p("<p>The server said these answers were partial: the alerts in these ranges may be missing or wrong.</p>\n")
		p("<table>\n<thead><tr><th>query</th><th>from</th><th>to</th><th>warning</th></tr></thead>\n<tbody>\n")
		for _, pr := range r.Partial {
			p("<tr><td><code>%s</code></td><td>%s</td><td>%s</td><td>%s</td></tr>\n", esc(clip(pr.Query, 120)), rfc(pr.Start), rfc(pr.End), esc(pr.Warning))
		}
		p("</tbody>\n</table>\n</section>\n")
	}
	if len(r.Replicas) > 0 {
		p("<section id=\"replicas\">\n<h2>Replica labels</h2>\n<ul>\n")
		for _, rl := range r.Replicas {
			p("<li>%s</li>\n", esc(rl.String()))
		}
		p("</ul>\n</section>\n")
	}
	f := r.Fatigue
	p("<section id=\"fatigue\">\n<h2>Fatigue</h2>\n")
	p("<p>Over %s days; flapping: more than %d firings resolved on one UTC day.</p>\n", trimFloat(f.Days), f.FlapThreshold)
	p("<table>\n<thead><tr><th>alert</th><th>label sets</th><th>firings</th><th>per day</th><th>firing for</th><th>median to resolve</th><th>flapping label sets</th></tr></thead>\n<tbody>\n")
	if len(f.Rules) == 0 {
		p("<tr><td colspan=\"7\">no alert was pending or firing</td></tr>\n")
	}
	for _, rf := range f.Rules {
		p("<tr><td>%s</td><td>%d</td><td>%d</td><td>%s</td><td>%s</td><td>%s</td><td>%d</td></tr>\n", esc(rf.Alert), rf.LabelSets, rf.Firings,
			trimFloat(rf.FiringsPerDay), human(time.Duration(rf.FiringSeconds)*time.Second), medianString(rf.MedianResolveSeconds), rf.Flapping)
	}
	p("</tbody>\n</table>\n")
	if len(f.Noisiest) > 0 {
		p("<h3>The %d noisiest label sets</h3>\n", len(f.Noisiest))
		p("<table>\n<thead><tr><th>alert</th><th>firings</th><th>per day</th><th>firing for</th><th>median to resolve</th><th>most resolved in a day</th><th>flapping days</th></tr></thead>\n<tbody>\n")
		for _, a := range f.Noisiest {
			class := ""
			if a.Flapping {
				class = " class=\"firing\""
			}
			p("<tr><td><code>%s</code></td><td>%d</td><td>%s</td><td>%s</td><td>%s</td><td>%d</td><td%s>%d</td></tr>\n",
				esc(alertName(a.Alert, labels.FromMap(a.Labels))), a.Firings, trimFloat(a.FiringsPerDay),
				human(time.Duration(a.FiringSeconds)*time.Second), medianString(a.MedianResolveSeconds), a.MaxPerDay, class, a.FlappingDays)
		}
		p("</tbody>\n</table>\n")
	}
	p("</section>\n")
	return b.String()
}
