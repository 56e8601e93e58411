package sandbox

import (
	"embed"
	"io/fs"
	"sort"
)

// assets are the page's files, embedded: the page works offline and loads
// nothing from elsewhere.
//
//go:embed assets
var assets embed.FS

// assetFS is assets/ as the root.
func assetFS() fs.FS {
	sub, err := fs.Sub(assets, "assets")
	if err != nil {
		panic(err) // the directory is embedded: cannot happen
	}
	return sub
}

func mustAsset(name string) string {
	b, err := fs.ReadFile(assets, "assets/"+name)
	if err != nil {
		panic(err) // embedded: cannot happen
	}
	return string(b)
}

// timelineCSS is the picture's stylesheet, shared by the page and the files.
func timelineCSS() string { return mustAsset("timeline.css") }

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
