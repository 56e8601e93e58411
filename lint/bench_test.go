package lint_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gotk-rules/gotk-rules/lint"
	"github.com/gotk-rules/gotk-rules/lint/checks"
	"github.com/gotk-rules/gotk-rules/lint/linttest"
)

// The generated 5,000-rule file loads and lints clean: every rule is valid
// and none is a false positive. BenchmarkLint5000 times the same file
// (go test -bench Lint5000 ./lint/); the target is well under a second.
// Under the race detector the file has 1,000 rules.
func TestLint5000(t *testing.T) {
	n := 5000
	if raceEnabled || testing.Short() {
		n = 1000
	}
	var buf bytes.Buffer
	require.NoError(t, linttest.Generate(&buf, n))
	path := filepath.Join(t.TempDir(), "rules-5000.yml")
	require.NoError(t, os.WriteFile(path, buf.Bytes(), 0o644))
	content, err := os.ReadFile(path)
	require.NoError(t, err)

	l := newLinter(t, nil)
	require.Empty(t, l.Lint(path, content))

	// The file does exercise the checks: a broken copy is reported.
	buf.Reset()
	require.NoError(t, linttest.Generate(&buf, 300))
	broken := bytes.Replace(buf.Bytes(), []byte(`up{job="svc-2"} == 0`), []byte(`up{job=~"svc-2"} == 0`), 1)
	fs := l.Lint(path, broken)
	require.Len(t, fs, 1)
	require.Equal(t, "promql/needless-regex", fs[0].Check)
	require.Equal(t, bytes.Count(broken[:bytes.Index(broken, []byte(`job=~"svc-2"`))], []byte("\n"))+1, fs[0].Line)
}

func BenchmarkLint5000(b *testing.B) {
	var buf bytes.Buffer
	require.NoError(b, linttest.Generate(&buf, 5000))
	content := buf.Bytes()
	l := newLinterB(b)
	b.SetBytes(int64(len(content)))
	b.ResetTimer()
	for b.Loop() {
		if fs := l.Lint("rules-5000.yml", content); len(fs) != 0 {
			b.Fatalf("findings: %v", fs[0])
		}
	}
}

func newLinterB(b *testing.B) *lint.Linter {
	l, err := lint.New(lint.Options{Parser: parser, Checks: checks.All()})
	require.NoError(b, err)
	return l
}

// BenchmarkLintVsPromtool times `promtool check rules` and `gotk-rules lint`
// on the same generated 5,000-rule file, alternately, in one run (make
// bench: GOTK_BENCH_PROMTOOL and GOTK_BENCH_GOTK name the binaries).
func BenchmarkLintVsPromtool(b *testing.B) {
	promtool, gotk := os.Getenv("GOTK_BENCH_PROMTOOL"), os.Getenv("GOTK_BENCH_GOTK")
	if promtool == "" || gotk == "" {
		b.Skip("run with make bench (GOTK_BENCH_PROMTOOL and GOTK_BENCH_GOTK unset)")
	}
	var buf bytes.Buffer
	require.NoError(b, linttest.Generate(&buf, 5000))
	path := filepath.Join(b.TempDir(), "rules-5000.yml")
	require.NoError(b, os.WriteFile(path, buf.Bytes(), 0o644))
	timeIt := func(argv ...string) time.Duration {
		start := time.Now()
		out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput()
		require.NoError(b, err, "%v: %s", argv, out)
		return time.Since(start)
	}
	var pt, gt []time.Duration
	for range b.N {
		pt = append(pt, timeIt(promtool, "check", "rules", path))
		gt = append(gt, timeIt(gotk, "lint", path))
	}
	p, g := medianDuration(pt), medianDuration(gt)
	b.ReportMetric(p.Seconds(), "promtool-s")
	b.ReportMetric(g.Seconds(), "gotk-lint-s")
	b.ReportMetric(p.Seconds()/g.Seconds(), "speedup")
	fmt.Printf("\n| check rules on 5,000 rules | promtool %.2f s | gotk-rules lint %.2f s | %.1fx |\n", p.Seconds(), g.Seconds(), p.Seconds()/g.Seconds())
}

func medianDuration(ds []time.Duration) time.Duration {
	slices.Sort(ds)
	return ds[len(ds)/2]
}
