package lint_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gotk-rules/gotk-rules/lint"
	"github.com/gotk-rules/gotk-rules/lint/checks"
	"github.com/gotk-rules/gotk-rules/lint/linttest"
)

// The generated 5,000-rule file loads and lints clean: every rule is valid
// and none is a false positive. BenchmarkLint5000 times the same file
// (go test -bench Lint5000 ./lint/); the target is well under a second.
func TestLint5000(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, linttest.Generate(&buf, 5000))
	path := filepath.Join(t.TempDir(), "rules-5000.yml")
	require.NoError(t, os.WriteFile(path, buf.Bytes(), 0o644))
	content, err := os.ReadFile(path)
	require.NoError(t, err)

	l := newLinter(t, nil)
	require.Empty(t, l.Lint(path, content))

	// The file does exercise the checks: a broken copy is reported.
	broken := bytes.Replace(content, []byte(`up{job="svc-2"} == 0`), []byte(`up{job=~"svc-2"} == 0`), 1)
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
