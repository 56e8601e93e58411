package timeline

import (
	"embed"
	"io/fs"
	"sort"
)

// files are the picture's script and stylesheet, embedded: the SVG, the
// HTML file and the sandbox page load nothing from elsewhere.
//
//go:embed assets/timeline.css assets/timeline.js
var files embed.FS

// Assets returns the picture's stylesheet (timeline.css) and time-cursor
// script (timeline.js) at the root of a file system, for a page that
// shows the SVG to serve. The script defines GotkTimeline.attach(svg, view),
// view being the View as JSON.
func Assets() fs.FS {
	sub, err := fs.Sub(files, "assets")
	if err != nil {
		panic(err) // the directory is embedded: cannot happen
	}
	return sub
}

// mustAsset returns an embedded file's contents.
func mustAsset(name string) string {
	b, err := fs.ReadFile(files, "assets/"+name)
	if err != nil {
		panic(err) // embedded: cannot happen
	}
	return string(b)
}

// timelineCSS is the picture's stylesheet, shared by the page and the files.
func timelineCSS() string { return mustAsset("timeline.css") }

// timelineJS is the time cursor's script.
func timelineJS() string { return mustAsset("timeline.js") }

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
