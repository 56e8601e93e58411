package bench

import (
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

var genDir = flag.String("gen", "", "write the generated workloads to this folder (for profiling them by hand)")

// TestGenerate checks the generated workloads are deterministic and of the
// announced sizes; with -gen DIR it also leaves them in DIR.
func TestGenerate(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	sa, err := Generate(a)
	require.NoError(t, err)
	sb, err := Generate(b)
	require.NoError(t, err)
	require.Equal(t, sa, sb)
	require.Equal(t, readTree(t, a), readTree(t, b), "same bytes on every run")

	require.Len(t, sa, 3)
	large, err := os.ReadFile(filepath.Join(a, "large", "rules.yml"))
	require.NoError(t, err)
	require.Equal(t, 500, countPrefix(string(large), "      - record: ")+countPrefix(string(large), "      - alert: "))
	test, err := os.ReadFile(filepath.Join(a, "large", "large_test.yml"))
	require.NoError(t, err)
	require.Equal(t, 150, countPrefix(string(test), "  - name: "))
	require.Len(t, sa[1].Files, 100)
	exprs, err := os.ReadFile(filepath.Join(a, "exprs", "exprs_test.yml"))
	require.NoError(t, err)
	require.Equal(t, 1500, countPrefix(string(exprs), "      - expr: "))

	if *genDir != "" {
		_, err := Generate(*genDir)
		require.NoError(t, err)
	}
}

func countPrefix(s, prefix string) int {
	n := 0
	for len(s) > 0 {
		line := s
		if i := strings.IndexByte(s, '\n'); i >= 0 {
			line, s = s[:i], s[i+1:]
		} else {
			s = ""
		}
		if len(line) >= len(prefix) && line[:len(prefix)] == prefix {
			n++
		}
	}
	return n
}

// readTree returns every file under dir by relative path.
func readTree(t *testing.T, dir string) map[string]string {
	out := map[string]string{}
	require.NoError(t, filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		rel, _ := filepath.Rel(dir, path)
		out[rel] = string(b)
		return err
	}))
	return out
}
