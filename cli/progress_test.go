package cli_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestProgressBarOnTerminal runs the binary under script(1), which gives it
// a terminal: the bar shows on stderr, then its line is cleared, and the
// results follow. (Without a terminal, the golden files show no bar.)
func TestProgressBarOnTerminal(t *testing.T) {
	script, err := exec.LookPath("script")
	if err != nil || testing.Short() {
		t.Skip("needs script(1) from util-linux")
	}
	// make test builds the binary once (GOTK_TEST_BINARY), for the
	// packages that run it.
	bin := os.Getenv("GOTK_TEST_BINARY")
	if bin == "" {
		bin = filepath.Join(t.TempDir(), "gotk-rules")
		build := exec.Command("go", "build", "-o", bin, "./cmd/gotk-rules")
		build.Dir = ".."
		out, err := build.CombinedOutput()
		require.NoError(t, err, string(out))
	}

	cmd := exec.Command(script, "-qec", bin+" test ../testdata/series/gitopstoolkit_test.yml", "/dev/null")
	cmd.Env = append(os.Environ(), "GOTK_PROGRESS_DELAY=0s")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, string(out))
	s := string(out)
	require.Contains(t, s, " evaluations ")
	require.Contains(t, s, "\r\x1b[K")
	require.Contains(t, s, "PASS")
	// The bar is gone before the results are printed.
	require.Less(t, strings.LastIndex(s, "\r\x1b[K"), strings.Index(s, "PASS"))
}
