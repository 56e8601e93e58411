package unittest_test

import (
	"bufio"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/rules"
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
// with the fast path (the default) and with exact step-by-step evaluation,
// and then requires the two paths to agree at every evaluation of every
// group: each rule's error, and each alert's labels, annotations, state,
// value and times.
func TestConformance(t *testing.T) {
	dir := conformanceDir(t)
	verdicts := readVerdicts(t, filepath.Join(dir, "expected-verdicts.tsv"))
	require.Len(t, verdicts, 224)
	results := map[bool]*unittest.Result{}
	steps := map[bool]*stepRecorder{}
	for _, exact := range []bool{false, true} {
		name := "fast"
		if exact {
			name = "exact"
		}
		steps[exact] = &stepRecorder{steps: map[groupKey][]stepDigest{}}
		t.Run(name, func(t *testing.T) { results[exact] = checkConformance(t, dir, verdicts, exact, steps[exact]) })
	}
	t.Run("fast matches exact", func(t *testing.T) {
		if results[false] == nil || results[true] == nil {
			t.Skip("needs both the fast and the exact subtests")
		}
		checkSameSteps(t, steps[true], steps[false])
		for i, fr := range results[false].Files {
			exactFile := results[true].Files[i]
			require.Equal(t, exactFile.Error, fr.Error, fr.File)
			require.Len(t, fr.Groups, len(exactFile.Groups), fr.File)
			for j, g := range fr.Groups {
				require.Equal(t, exactFile.Groups[j].Errors, g.Errors, "%s: group %s", fr.File, g.Name)
			}
		}
	})
}

func checkConformance(t *testing.T, dir string, verdicts []verdict, exact bool, rec *stepRecorder) *unittest.Result {
	runner, err := unittest.NewRunner(unittest.Options{Engine: evaluator.NewEngine(evaluator.Options{}), Exact: exact, AfterEval: rec.afterEval})
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
	return res
}

// stepRecorder keeps, for every test group, a digest of its rules' state
// after each evaluation.
type stepRecorder struct {
	mu    sync.Mutex
	steps map[groupKey][]stepDigest
}

type groupKey struct {
	file  string
	group int
}

type stepDigest struct {
	t   time.Time
	sum uint64
}

func (r *stepRecorder) afterEval(file string, group int, ts time.Time, sess *evaluator.Session) {
	h := fnv.New64a()
	_, _ = io.WriteString(h, ruleState(sess))
	r.mu.Lock()
	defer r.mu.Unlock()
	k := groupKey{file, group}
	r.steps[k] = append(r.steps[k], stepDigest{ts, h.Sum64()})
}

// ruleState writes every rule's last error and every alerting rule's
// active alerts, in a fixed order.
func ruleState(sess *evaluator.Session) string {
	var b strings.Builder
	for _, g := range sess.Groups() {
		for _, r := range g.Rules() {
			fmt.Fprintf(&b, "%s/%s: %v\n", g.Name(), r.Name(), r.LastError())
			ar, ok := r.(evaluator.AlertRule)
			if !ok {
				continue
			}
			alerts := ar.ActiveAlerts()
			slices.SortFunc(alerts, func(x, y *rules.Alert) int { return labels.Compare(x.Labels, y.Labels) })
			for _, a := range alerts {
				fmt.Fprintf(&b, "  %s %s %s value=%s active=%d fired=%d keep=%d\n", a.Labels, a.Annotations, a.State,
					strconv.FormatFloat(a.Value, 'g', -1, 64), a.ActiveAt.UnixMilli(), a.FiredAt.UnixMilli(), a.KeepFiringSince.UnixMilli())
			}
		}
	}
	return b.String()
}

// checkSameSteps requires the same groups, evaluated at the same times to
// the same state.
func checkSameSteps(t *testing.T, want, got *stepRecorder) {
	t.Helper()
	require.Equal(t, len(want.steps), len(got.steps), "groups evaluated")
	total := 0
	for k, w := range want.steps {
		g, ok := got.steps[k]
		require.True(t, ok, "%s: group %d evaluated by one path only", k.file, k.group)
		for i := range min(len(w), len(g)) {
			require.Equal(t, w[i].t, g[i].t, "%s: group %d: evaluation %d", k.file, k.group, i)
			require.Equal(t, w[i].sum, g[i].sum, "%s: group %d: rule state differs after the evaluation at %s (compare with --exact)", k.file, k.group, w[i].t)
		}
		require.Len(t, g, len(w), "%s: group %d: evaluations", k.file, k.group)
		total += len(w)
	}
	t.Logf("%d groups, %d evaluations: same rule state on both paths", len(want.steps), total)
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
