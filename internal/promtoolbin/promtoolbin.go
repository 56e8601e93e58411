// Package promtoolbin finds the reference promtool that `make promtool`
// builds into bin/, for the tests that cross-check gotk-rules with it.
package promtoolbin

import (
	"os"
	"path/filepath"
	"testing"
)

// Path returns the promtool to use: $GOTK_PROMTOOL, else bin/promtool at
// the root of the module the working directory is in. ok is false when
// it does not exist.
func Path() (string, bool) {
	path := os.Getenv("GOTK_PROMTOOL")
	if path == "" {
		path = filepath.Join(moduleRoot(), "bin", "promtool")
	}
	if _, err := os.Stat(path); err != nil {
		return path, false
	}
	return path, true
}

// Require returns the promtool to use, or skips t when there is none;
// with GOTK_REQUIRE_PROMTOOL set (CI builds it), it fails t instead.
func Require(t testing.TB) string {
	t.Helper()
	path, ok := Path()
	if !ok {
		if os.Getenv("GOTK_REQUIRE_PROMTOOL") != "" {
			t.Fatalf("promtool not found at %s (GOTK_REQUIRE_PROMTOOL is set; make promtool builds it)", path)
		}
		t.Skipf("promtool not found at %s (make promtool builds it)", path)
	}
	return path
}

// moduleRoot is the nearest directory up from the working directory that
// holds a go.mod, or the working directory.
func moduleRoot() string {
	wd, err := os.Getwd()
	if err != nil {
		return "."
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		if filepath.Dir(dir) == dir {
			return wd
		}
	}
}
