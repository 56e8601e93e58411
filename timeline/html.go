package timeline

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"strconv"
	"strings"
)

// htmlCSS dresses the HTML file around the picture.
const htmlCSS = `
:root { color-scheme: light dark; }
body { margin: 0; padding: 20px 24px; background: #f4f5f5; color: #24292e;
  font: 13px/1.45 Inter, "Helvetica Neue", Arial, "Liberation Sans", "DejaVu Sans", sans-serif; }
@media (prefers-color-scheme: dark) { body { background: #111217; color: #ccccdc; } }
:root[data-theme="light"] body { background: #f4f5f5; color: #24292e; }
:root[data-theme="dark"] body { background: #111217; color: #ccccdc; }
header { display: flex; align-items: baseline; gap: 16px; }
h1 { font-size: 18px; margin: 0 0 4px; font-weight: 600; }
header p { margin: 0; opacity: .75; }
header button { margin-left: auto; }
button { font: inherit; padding: 4px 10px; border-radius: 2px; border: 1px solid #8e8e9e66; background: transparent; color: inherit; cursor: pointer; }
figure { margin: 16px 0; overflow-x: auto; border: 1px solid #8e8e9e44; border-radius: 2px; }
figure svg { display: block; }
svg:focus { outline: 2px solid #3d71d9; outline-offset: -2px; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid #8e8e9e33; vertical-align: top; }
th { font-weight: 600; opacity: .8; }
code { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 12px; }
.firing { color: #e0226e; font-weight: 600; } .pending { color: #e08a00; font-weight: 600; }
footer { margin-top: 16px; opacity: .6; font-size: 12px; }
`

// HTMLOptions configure WriteHTML.
type HTMLOptions struct {
	// Width of the picture in pixels (default 1200).
	Width int
}

// WriteHTML writes a self-contained page: the picture with its time
// cursor, and a table of the alerts' intervals. It loads nothing.
func WriteHTML(w io.Writer, v *View, o HTMLOptions) error {
	var svg bytes.Buffer
	if err := WriteSVG(&svg, v, SVGOptions{Width: o.Width}); err != nil {
		return err
	}
	data, err := json.Marshal(v) // escapes <, > and &: safe inside <script>
	if err != nil {
		return err
	}
	esc := html.EscapeString
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	p("<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
	p("<title>%s — gotk-rules replay</title>\n<style>%s\n%s</style>\n</head>\n<body>\n", esc(v.Title), htmlCSS, timelineCSS())
	p("<header><div><h1>%s</h1><p>%s</p></div><button type=\"button\" id=\"theme\" title=\"Switch between the system's, dark and light colours\">Theme: auto</button></header>\n", esc(v.Title), esc(v.Subtitle))
	p("<figure>\n%s</figure>\n", svg.String())
	p("<p>Move the pointer over the picture (or focus it and use the arrow keys) to read each series' value and each alert's state at that time.</p>\n")
	p("<table>\n<thead><tr><th>alert</th><th>labels</th><th>pending</th><th>firing</th></tr></thead>\n<tbody>\n")
	if len(v.Alerts) == 0 {
		p("<tr><td colspan=\"4\">no alert was pending or firing</td></tr>\n")
	}
	for _, a := range v.Alerts {
		var pending, firing []string
		for _, s := range a.Spans {
			iv := durString(s.StartMS) + "–" + durString(s.EndMS)
			if s.State == "firing" {
				firing = append(firing, iv)
			} else {
				pending = append(pending, iv)
			}
		}
		p("<tr><td>%s</td><td><code>%s</code></td><td class=\"pending\">%s</td><td class=\"firing\">%s</td></tr>\n",
			esc(a.Alert), esc(mapString(a.Labels)), esc(strings.Join(pending, ", ")), esc(strings.Join(firing, ", ")))
	}
	p("</tbody>\n</table>\n<footer>Written by gotk-rules replay.</footer>\n")
	p("<script type=\"application/json\" id=\"view\">%s</script>\n", data)
	p("<script>\n%s\n</script>\n", timelineJS())
	b.WriteString(`<script>
(function () {
  var view = JSON.parse(document.getElementById("view").textContent);
  GotkTimeline.attach(document.querySelector("figure svg"), view);
  var modes = ["auto", "dark", "light"], i = 0, btn = document.getElementById("theme");
  btn.addEventListener("click", function () {
    i = (i + 1) % modes.length;
    if (modes[i] === "auto") delete document.documentElement.dataset.theme; else document.documentElement.dataset.theme = modes[i];
    btn.textContent = "Theme: " + modes[i];
  });
})();
</script>
</body>
</html>
`)
	_, err = io.WriteString(w, b.String())
	return err
}

// mapString writes labels as {name="value", ...}, sorted by name.
func mapString(m map[string]string) string {
	parts := make([]string, 0, len(m))
	for _, k := range sortedKeys(m) {
		parts = append(parts, k+"="+strconv.Quote(m[k]))
	}
	return "{" + strings.Join(parts, ", ") + "}"
}
