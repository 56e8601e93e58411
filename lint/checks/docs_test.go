package checks_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const docs = "../../docs/checks"

// example returns the first yaml code block after heading in a page.
func example(t *testing.T, page, heading string) string {
	t.Helper()
	i := strings.Index(page, "\n"+heading+"\n")
	require.GreaterOrEqual(t, i, 0, "no %q section", heading)
	rest := page[i:]
	start := strings.Index(rest, "```yaml\n")
	require.GreaterOrEqual(t, start, 0, "no yaml block under %q", heading)
	rest = rest[start+len("```yaml\n"):]
	end := strings.Index(rest, "```")
	require.GreaterOrEqual(t, end, 0)
	return rest[:end]
}

// Every check has a page whose bad example makes it report and whose good
// example lints clean; the index lists every check.
func TestDocExamples(t *testing.T) {
	l := newLinter(t, nil)
	index, err := os.ReadFile(filepath.Join(docs, "README.md"))
	require.NoError(t, err)
	for _, m := range l.Checks() {
		t.Run(m.Name, func(t *testing.T) {
			file := filepath.Join("../..", m.DocPath())
			b, err := os.ReadFile(file)
			require.NoError(t, err, "every check needs a page")
			page := string(b)
			require.True(t, strings.HasPrefix(page, "# "+m.Name+"\n"), "page title")
			require.Contains(t, page, "**Default severity:** "+m.Severity.String())
			require.Contains(t, string(index), "[`"+m.Name+"`]")

			bad := l.Lint("bad.yml", []byte(example(t, page, "## Bad")))
			var names []string
			for _, f := range bad {
				names = append(names, f.Check)
			}
			require.Contains(t, names, m.Name, "the bad example must be reported:\n%s", describe(bad))

			good := l.Lint("good.yml", []byte(example(t, page, "## Good")))
			require.Empty(t, good, "the good example must lint clean:\n%s", describe(good))
		})
	}
}
