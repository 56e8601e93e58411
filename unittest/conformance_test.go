package unittest_test

import (
	"bufio"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gotk-rules/gotk-rules/evaluator"
	"github.com/gotk-rules/gotk-rules/unittest"
)

// conformanceDir finds ../shared/conformance beside the repository. When it
// is missing the test is skipped, unless GOTK_REQUIRE_CONFORMANCE is set (CI).
func conformanceDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("GOTK_CONFORMANCE_DIR")
	if dir == "" {
		dir = filepath.Join("..", "..", "shared", "conformance")
	}
	if _, err := os.Stat(filepath.Join(dir, "expected-verdicts.tsv")); err != nil {
		if os.Getenv("GOTK_REQUIRE_CONFORMANCE") != "" {
			t.Fatalf("conformance corpus not found at %s: %v", dir, err)
		}
		t.Skipf("conformance corpus not found at %s (set GOTK_CONFORMANCE_DIR)", dir)
	}
	return dir
}

type verdict struct {
	dir, file string
	exit      int
	failed    []string
}

func readVerdicts(t *testing.T, path string) []verdict {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	var out []verdict
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") || strings.TrimSpace(line) == "" {
			continue
		}
		cols := strings.Split(line, "\t")
		require.GreaterOrEqual(t, len(cols), 3, "bad line %q", line)
		exit, err := strconv.Atoi(cols[2])
		require.NoError(t, err)
		v := verdict{dir: cols[0], file: cols[1], exit: exit}
		if len(cols) > 3 && cols[3] != "" {
			v.failed = strings.Split(cols[3], "|")
		}
		out = append(out, v)
	}
	require.NoError(t, sc.Err())
	return out
}

// failedGroups names the groups that failed, as promtool's JUnit does; a
// file that could not run at all is promtool's aborted "unknown" case.
func failedGroups(fr *unittest.FileResult) []string {
	if fr.Error != "" {
		return []string{"unknown"}
	}
	var out []string
	for _, g := range fr.Groups {
		if !g.Passed {
			out = append(out, g.Name)
		}
	}
	sort.Strings(out)
	return out
}

// TestConformance runs every public promtool suite in ../shared/conformance
// and requires promtool's verdict for each file: the same exit code (2 for
// bad input where promtool says 1) and the same failed groups. It does so
// with the fast path (the default) and with exact step-by-step evaluation.
func TestConformance(t *testing.T) {
	dir := conformanceDir(t)
	verdicts := readVerdicts(t, filepath.Join(dir, "expected-verdicts.tsv"))
	require.Len(t, verdicts, 224)
	for _, exact := range []bool{false, true} {
		name := "fast"
		if exact {
			name = "exact"
		}
		t.Run(name, func(t *testing.T) { checkConformance(t, dir, verdicts, exact) })
	}
}

func checkConformance(t *testing.T, dir string, verdicts []verdict, exact bool) {
	runner, err := unittest.NewRunner(unittest.Options{Engine: evaluator.NewEngine(evaluator.Options{}), Exact: exact})
	require.NoError(t, err)
	files := make([]string, len(verdicts))
	for i, v := range verdicts {
		files[i] = filepath.Join(dir, v.dir, v.file)
	}
	res := runner.Run(files...)
	require.Len(t, res.Files, len(verdicts))

	for i, v := range verdicts {
		fr := res.Files[i]
		t.Run(v.dir+"/"+v.file, func(t *testing.T) {
			got := (&unittest.Result{Files: []*unittest.FileResult{fr}}).ExitCode()
			switch v.exit {
			case 0:
				require.Equal(t, 0, got, "promtool passes this file; errors: %v %v", fr.Error, groupErrors(fr))
			default:
				require.Contains(t, []int{1, 2}, got, "promtool fails this file")
			}
			want := append([]string(nil), v.failed...)
			sort.Strings(want)
			require.Equal(t, want, failedGroups(fr), "failed groups differ; errors: %v %v", fr.Error, groupErrors(fr))
		})
	}
}

func groupErrors(fr *unittest.FileResult) map[string][]string {
	out := map[string][]string{}
	for _, g := range fr.Groups {
		if len(g.Errors) > 0 {
			out[g.Name] = g.Errors
		}
	}
	return out
}
