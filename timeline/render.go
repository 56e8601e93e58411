package timeline

import (
	"bufio"
	"fmt"
	"html"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// SVGOptions configure WriteSVG.
type SVGOptions struct {
	// Width in pixels (default 1200, at least 480).
	Width int
	// Standalone makes a file of its own: a title and the stylesheet
	// inside. The page links the stylesheet and shows the title itself.
	Standalone bool
	// MaxLanes is the most series drawn (default 40); the rest are counted.
	MaxLanes int
}

// Layout, in pixels.
const (
	pad        = 12
	valueW     = 76
	sectionH   = 24
	groupH     = 18
	seriesH    = 21
	objectH    = 20
	alertH     = 30
	axisH      = 26
	charW      = 6.4 // a character of the 10.5px monospace labels, roughly
	minWidth   = 480
	defaultW   = 1200
	defaultMax = 40
)

// row is one drawn line of the picture.
type row struct {
	kind   string // "section", "group", "series", "more", "object", "alert", "empty"
	y, h   int
	i      int
	text   string
	legend [][2]string // class, text
}

var (
	objectLegend = [][2]string{{"tl-o-ready", "ready"}, {"tl-o-failing", "failing"}, {"tl-o-unknown", "unknown"}, {"tl-o-no-ready", "no Ready condition"}, {"tl-o-suspended", "suspended"}, {"tl-o-gone", "gone"}}
	alertLegend  = [][2]string{{"tl-inactive", "inactive"}, {"tl-pending", "pending"}, {"tl-firing", "firing"}}
)

// WriteSVG draws the view: the input series, the objects' true states (for
// scenarios) and every alert's pending and firing bands over one time axis.
// Unless o.Standalone, the picture is for a page that links timeline.css
// (see Assets).
func WriteSVG(w io.Writer, v *View, o SVGOptions) error {
	if o.Width == 0 {
		o.Width = defaultW
	}
	o.Width = max(o.Width, minWidth)
	if o.MaxLanes <= 0 {
		o.MaxLanes = defaultMax
	}
	W := o.Width
	labelW := min(max(int(float64(W)*0.33), 150), 360)
	x0 := float64(pad + labelW + 8)
	x1 := float64(W - pad - valueW)
	domain := float64(v.EndMS + v.StepMS)
	if domain <= 0 {
		domain = 1
	}
	xOf := func(t int64) float64 {
		return x0 + (x1-x0)*math.Min(math.Max(float64(t), 0), domain)/domain
	}

	// Lay the rows out.
	top := 8
	if o.Standalone {
		top = 52
	}
	var rows []row
	y := top
	add := func(r row) {
		r.y = y
		rows = append(rows, r)
		y += r.h
	}
	add(row{kind: "section", h: sectionH, text: fmt.Sprintf("Input series (%d)", len(v.Series))})
	if len(v.Series) == 0 {
		add(row{kind: "empty", h: seriesH, text: "no input series"})
	}
	lastGroup := -1
	for i, s := range v.Series {
		if i >= o.MaxLanes {
			add(row{kind: "more", h: groupH, text: fmt.Sprintf("+%d more series not drawn", len(v.Series)-o.MaxLanes)})
			break
		}
		if s.Group != lastGroup {
			lastGroup = s.Group
			add(row{kind: "group", h: groupH, i: s.Group})
		}
		add(row{kind: "series", h: seriesH, i: i})
	}
	if len(v.Objects) > 0 {
		add(row{kind: "section", h: sectionH, text: fmt.Sprintf("Objects (%d)", len(v.Objects)), legend: objectLegend})
		for i := range v.Objects {
			add(row{kind: "object", h: objectH, i: i})
		}
	}
	add(row{kind: "section", h: sectionH, text: fmt.Sprintf("Alerts (%d)", len(v.Alerts)), legend: alertLegend})
	if len(v.Alerts) == 0 {
		add(row{kind: "empty", h: alertH, text: "no alert was pending or firing"})
	}
	for i := range v.Alerts {
		add(row{kind: "alert", h: alertH, i: i})
	}
	plotTop := top + sectionH
	axisY := y + 4
	H := axisY + axisH

	bw := bufio.NewWriter(w)
	p := func(format string, args ...any) { fmt.Fprintf(bw, format, args...) }
	esc := html.EscapeString
	if o.Standalone {
		p(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	}
	p(`<svg xmlns="http://www.w3.org/2000/svg" class="tl" width="%d" height="%d" viewBox="0 0 %d %d" role="img" aria-label="%s"`, W, H, W, H, esc("timeline: "+v.Title))
	p(` data-x0="%.1f" data-x1="%.1f" data-top="%d" data-bottom="%d" data-domain="%d">`+"\n", x0, x1, plotTop, axisY, int64(domain))
	if o.Standalone {
		p("<style>/*<![CDATA[*/\n%s\n/*]]>*/</style>\n", timelineCSS())
	}
	p(`<rect class="tl-bg" x="0" y="0" width="%d" height="%d"/>`+"\n", W, H)
	if o.Standalone {
		p(`<text class="tl-title" x="%d" y="22">%s</text>`+"\n", pad, esc(v.Title))
		p(`<text class="tl-sub" x="%d" y="40">%s</text>`+"\n", pad, esc(v.Subtitle))
	}

	// Grid and axis.
	tick := tickStep(domain, x1-x0)
	for t := int64(0); float64(t) <= domain; t += tick {
		x := xOf(t)
		p(`<line class="tl-grid" x1="%.1f" x2="%.1f" y1="%d" y2="%d"/>`, x, x, plotTop, axisY)
		anchor := "middle"
		if t == 0 {
			anchor = "start"
		}
		p(`<text class="tl-tick" x="%.1f" y="%d" text-anchor="%s">%s</text>`+"\n", x, axisY+16, anchor, durString(t))
	}
	p(`<line class="tl-axis" x1="%.1f" x2="%.1f" y1="%d" y2="%d"/>`+"\n", x0, x1, axisY, axisY)

	// Marks behind the lanes' contents.
	for _, m := range v.Marks {
		if m.EndMS > m.StartMS {
			p(`<rect class="tl-markspan" x="%.1f" y="%d" width="%.1f" height="%d"><title>%s</title></rect>`+"\n", xOf(m.StartMS), plotTop, math.Max(xOf(m.EndMS)-xOf(m.StartMS), 1), axisY-plotTop, esc(m.Text))
		}
	}

	for _, r := range rows {
		switch r.kind {
		case "section":
			p(`<text class="tl-h" x="%d" y="%d">%s</text>`, pad, r.y+16, esc(r.text))
			lx := x0
			for _, l := range r.legend {
				p(`<rect class="%s" x="%.1f" y="%d" width="10" height="10" rx="1"/><text class="tl-muted" x="%.1f" y="%d">%s</text>`, l[0], lx, r.y+7, lx+14, r.y+16, esc(l[1]))
				lx += 14 + float64(len(l[1]))*6.2 + 14
			}
			p("\n")
		case "empty":
			p(`<text class="tl-empty" x="%.1f" y="%d">%s</text>`+"\n", x0, r.y+r.h/2+4, esc(r.text))
		case "more":
			p(`<text class="tl-muted" x="%d" y="%d">%s</text>`+"\n", pad, r.y+13, esc(r.text))
		case "group":
			g := v.Groups[r.i]
			name := clipText(g.Name, float64(labelW+int(x1-x0)))
			p(`<text x="%d" y="%d"><tspan class="tl-gname">%s</tspan>`, pad, r.y+13, esc(name))
			if g.Common != "" {
				rest := float64(labelW+int(x1-x0)) - float64(utf8.RuneCountInString(name)+1)*charW
				if c := clipText(g.Common, rest); c != "" {
					p(`<tspan class="tl-common"> %s</tspan>`, esc(c))
				}
			}
			p("</text>\n")
		case "series":
			writeSeriesLane(p, v, r, labelW, x0, x1, xOf)
		case "object":
			ob := v.Objects[r.i]
			p(`<g class="tl-row" data-k="o" data-i="%d">`, r.i)
			p(`<text class="tl-label" x="%d" y="%d">%s<title>%s</title></text>`, pad, r.y+14, esc(clipText(ob.ID, float64(labelW))), esc(ob.ID))
			for _, s := range ob.Spans {
				xa, xb := xOf(s.StartMS), xOf(s.EndMS)
				p(`<rect class="tl-o-%s" x="%.1f" y="%d" width="%.1f" height="%d"><title>%s %s – %s</title></rect>`, s.State, xa, r.y+4, math.Max(xb-xa, 0.5), r.h-8, s.State, durString(s.StartMS), durString(s.EndMS))
			}
			p(`<text class="tl-val" data-k="o" data-i="%d" x="%.1f" y="%d"></text></g>`+"\n", r.i, x1+8, r.y+14)
		case "alert":
			writeAlertLane(p, v, r, labelW, x0, x1, xOf)
		}
	}

	for _, m := range v.Marks {
		x := xOf(m.StartMS)
		p(`<g><title>%s</title><line class="tl-mark" x1="%.1f" x2="%.1f" y1="%d" y2="%d"/>`, esc(m.Text), x, x, plotTop, axisY)
		p(`<path class="tl-markflag" d="M%.1f %d l-5 -7 h10 z"/></g>`+"\n", x, plotTop)
	}
	p("</svg>\n")
	return bw.Flush()
}

func writeSeriesLane(p func(string, ...any), v *View, r row, labelW int, x0, x1 float64, xOf func(int64) float64) {
	s := v.Series[r.i]
	esc := html.EscapeString
	color := fmt.Sprintf("tl-c%d", r.i%10)
	top, bottom := float64(r.y+2), float64(r.y+r.h-2)
	p(`<g class="tl-row" data-k="s" data-i="%d">`, r.i)
	p(`<rect class="tl-lane" x="%.1f" y="%.1f" width="%.1f" height="%.1f"/>`, x0, top, x1-x0, bottom-top)
	p(`<text class="tl-label" x="%d" y="%d">%s<title>%s</title></text>`, pad+8, r.y+r.h/2+4, esc(clipText(s.Short, float64(labelW-8))), esc(s.Metric))
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, val := range s.V {
		lo, hi = math.Min(lo, val), math.Max(hi, val)
	}
	if len(s.V) > 0 {
		if lo == hi {
			lo, hi = math.Min(lo, 0), math.Max(hi, 0)
			if lo == hi {
				hi = lo + 1
			}
		}
		yOf := func(val float64) float64 {
			return bottom - 3 - (bottom-top-6)*(val-lo)/(hi-lo)
		}
		var line, area strings.Builder
		runStart := -1
		var lastY float64
		end := func(i int) {
			// The run ends after sample i: held one scrape, or until the
			// next sample when it is close.
			t := s.T[i] + s.GapMS*2/3
			if i+1 < len(s.T) && s.T[i+1]-s.T[i] <= s.GapMS {
				t = s.T[i+1]
			}
			if next := nextStale(s.Stale, s.T[i]); next >= 0 && next < t {
				t = next
			}
			t = min(t, v.EndMS+v.StepMS)
			fmt.Fprintf(&line, "H%.1f", xOf(t))
			fmt.Fprintf(&area, "H%.1fV%.1fZ", xOf(t), bottom)
		}
		for i := range s.T {
			yv := yOf(s.V[i])
			x := xOf(s.T[i])
			contiguous := runStart >= 0 && s.T[i]-s.T[i-1] <= s.GapMS && !staleBetween(s.Stale, s.T[i-1], s.T[i])
			if !contiguous {
				if runStart >= 0 {
					end(i - 1)
				}
				runStart = i
				fmt.Fprintf(&line, "M%.1f %.1f", x, yv)
				fmt.Fprintf(&area, "M%.1f %.1fV%.1f", x, bottom, yv)
				lastY = yv
				continue
			}
			if yv != lastY {
				fmt.Fprintf(&line, "H%.1fV%.1f", x, yv)
				fmt.Fprintf(&area, "H%.1fV%.1f", x, yv)
				lastY = yv
			}
		}
		if runStart >= 0 {
			end(len(s.T) - 1)
		}
		p(`<path class="tl-area %s" d="%s"/><path class="tl-line %s" d="%s"/>`, color, area.String(), color, line.String())
	}
	for _, t := range s.Stale {
		x := xOf(t)
		p(`<line class="tl-stale %s" x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f"><title>staleness marker at %s</title></line>`, color, x, x, bottom-7, bottom, durString(t))
	}
	summary := ""
	if len(s.V) > 0 {
		summary = formatValue(lo)
		if hi != lo && !(lo == 0 && hi == 1 && allBinary(s.V)) {
			summary += "–" + formatValue(hi)
		} else if lo == 0 && hi == 1 {
			summary = "0–1"
		}
	}
	p(`<text class="tl-val" data-k="s" data-i="%d" x="%.1f" y="%d">%s</text></g>`+"\n", r.i, x1+8, r.y+r.h/2+4, esc(summary))
}

func writeAlertLane(p func(string, ...any), v *View, r row, labelW int, x0, x1 float64, xOf func(int64) float64) {
	a := v.Alerts[r.i]
	esc := html.EscapeString
	top, h := float64(r.y+5), float64(r.h-10)
	p(`<g class="tl-row" data-k="a" data-i="%d"><title>%s</title>`, r.i, esc(alertTitle(a)))
	p(`<text class="tl-aname" x="%d" y="%d">%s</text>`, pad, r.y+13, esc(clipText(a.Alert, float64(labelW))))
	p(`<text class="tl-label tl-muted" x="%d" y="%d">%s</text>`, pad, r.y+25, esc(clipText(a.Short, float64(labelW))))
	p(`<rect class="tl-inactive" x="%.1f" y="%.1f" width="%.1f" height="%.1f"/>`, x0, top, x1-x0, h)
	firstFiring := int64(-1)
	for _, s := range a.Spans {
		xa, xb := xOf(s.StartMS), xOf(s.EndMS)
		p(`<rect class="tl-%s" data-start="%d" data-end="%d" x="%.1f" y="%.1f" width="%.1f" height="%.1f"><title>%s %s – %s</title></rect>`,
			s.State, s.StartMS, s.EndMS, xa, top, math.Max(xb-xa, 1), h, s.State, durString(s.StartMS), durString(s.EndMS))
		if s.State == "firing" && firstFiring < 0 {
			firstFiring = s.StartMS
		}
	}
	summary, class := "pending only", "tl-pending-t"
	if firstFiring >= 0 {
		summary, class = "fires "+durString(firstFiring), "tl-firing-t"
	}
	p(`<text class="tl-val %s" data-k="a" data-i="%d" x="%.1f" y="%d">%s</text></g>`+"\n", class, r.i, x1+8, r.y+19, esc(summary))
}

func alertTitle(a AlertView) string {
	var b strings.Builder
	b.WriteString(a.Alert)
	b.WriteString(" {")
	first := true
	for _, k := range sortedKeys(a.Labels) {
		if !first {
			b.WriteString(", ")
		}
		first = false
		b.WriteString(k + "=" + strconv.Quote(a.Labels[k]))
	}
	b.WriteString("}")
	for _, k := range sortedKeys(a.Annotations) {
		b.WriteString("\n" + k + ": " + a.Annotations[k])
	}
	return b.String()
}

func nextStale(stale []int64, after int64) int64 {
	for _, t := range stale {
		if t > after {
			return t
		}
	}
	return -1
}

func staleBetween(stale []int64, a, b int64) bool {
	for _, t := range stale {
		if t > a && t < b {
			return true
		}
	}
	return false
}

func allBinary(vs []float64) bool {
	for _, v := range vs {
		if v != 0 && v != 1 {
			return false
		}
	}
	return true
}

// formatValue prints a sample value briefly.
func formatValue(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return strconv.FormatFloat(v, 'g', 4, 64)
}

// clipText shortens s to about width pixels, with an ellipsis.
func clipText(s string, width float64) string {
	n := int(width / charW)
	if n <= 1 {
		return ""
	}
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// tickStep picks a round time step giving ticks at least 70 pixels apart.
func tickStep(domainMS, widthPx float64) int64 {
	steps := []int64{1, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800}
	most := math.Max(widthPx/70, 1)
	for _, s := range steps {
		if domainMS/float64(s*1000) <= most {
			return s * 1000
		}
	}
	return steps[len(steps)-1] * 1000 * int64(math.Ceil(domainMS/float64(steps[len(steps)-1]*1000)/most))
}
