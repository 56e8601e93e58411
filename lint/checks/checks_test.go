package checks_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gotk-rules/gotk-rules/evaluator"
	"github.com/gotk-rules/gotk-rules/lint"
	"github.com/gotk-rules/gotk-rules/lint/checks"
)

// fixtures holds one or more files per check, named after it
// (area-name*.yml). A line must be reported by exactly the checks its
// "# want: a/b, c/d" comment names; lines without one by none. A file
// NAME.config.yaml beside NAME.yml configures its run.
const fixtures = "../testdata/checks"

var wantRE = regexp.MustCompile(`#\s*want:\s*(.+)$`)

func newLinter(t testing.TB, cfg *lint.Config) *lint.Linter {
	t.Helper()
	l, err := lint.New(lint.Options{
		Parser: evaluator.NewEngine(evaluator.Options{}).Parser(),
		Config: cfg,
		Checks: checks.All(),
	})
	require.NoError(t, err)
	return l
}

// wanted reads the "# want:" annotations of a fixture as "line check" keys.
func wanted(content string) []string {
	var out []string
	for i, line := range strings.Split(content, "\n") {
		m := wantRE.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		for _, c := range strings.FieldsFunc(m[1], func(r rune) bool { return r == ',' || r == ' ' }) {
			out = append(out, fmt.Sprintf("%d %s", i+1, c))
		}
	}
	return dedupe(out)
}

func dedupe(s []string) []string {
	sort.Strings(s)
	out := s[:0]
	for i, x := range s {
		if i == 0 || x != s[i-1] {
			out = append(out, x)
		}
	}
	return out
}

func TestFixtures(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(fixtures, "*.yml"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	covered := map[string]bool{}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			content, err := os.ReadFile(file)
			require.NoError(t, err)
			var cfg *lint.Config
			if c := strings.TrimSuffix(file, ".yml") + ".config.yaml"; fileExists(c) {
				cfg, err = lint.LoadConfig(c)
				require.NoError(t, err)
			}
			findings := newLinter(t, cfg).Lint(file, content)
			var got []string
			for _, f := range findings {
				got = append(got, fmt.Sprintf("%d %s", f.Line, f.Check))
				require.Equal(t, file, f.File)
				require.Positive(t, f.Column)
				require.NotEmpty(t, f.Message)
			}
			want := wanted(string(content))
			require.Equal(t, want, dedupe(got), "findings:\n%s", describe(findings))
			for _, w := range want {
				covered[strings.SplitN(w, " ", 2)[1]] = true
			}
		})
	}
	// Every check has a fixture that makes it report.
	for _, m := range newLinter(t, nil).Checks() {
		require.True(t, covered[m.Name], "no fixture reports %s", m.Name)
		base := strings.ReplaceAll(m.Name, "/", "-")
		require.FileExists(t, filepath.Join(fixtures, base+".yml"), "fixture of %s", m.Name)
	}
}

func describe(fs []lint.Finding) string {
	var b strings.Builder
	for _, f := range fs {
		fmt.Fprintf(&b, "  %d:%d %s %s\n", f.Line, f.Column, f.Check, f.Message)
	}
	return b.String()
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
