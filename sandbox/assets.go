package sandbox

import (
	"embed"
	"errors"
	"io/fs"

	"github.com/gotk-rules/gotk-rules/timeline"
)

// assets are the page's own files, embedded: the page works offline and
// loads nothing from elsewhere. The timeline picture's script and
// stylesheet are the timeline package's (see assetFS).
//
//go:embed assets
var assets embed.FS

// assetFS is what the page loads under /assets/: assets/ as the root, over
// the timeline package's timeline.js and timeline.css.
func assetFS() fs.FS {
	sub, err := fs.Sub(assets, "assets")
	if err != nil {
		panic(err) // the directory is embedded: cannot happen
	}
	return overlayFS{sub, timeline.Assets()}
}

// overlayFS opens a name in top, or in under when top has no such file.
type overlayFS struct{ top, under fs.FS }

// Open implements fs.FS.
func (o overlayFS) Open(name string) (fs.File, error) {
	f, err := o.top.Open(name)
	if errors.Is(err, fs.ErrNotExist) {
		return o.under.Open(name)
	}
	return f, err
}

func mustAsset(name string) string {
	b, err := fs.ReadFile(assets, "assets/"+name)
	if err != nil {
		panic(err) // embedded: cannot happen
	}
	return string(b)
}
