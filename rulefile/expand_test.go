package rulefile_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gotk-rules/gotk-rules/rulefile"
)

func TestExpand(t *testing.T) {
	f := func(args []string, want ...string) {
		t.Helper()
		got, err := rulefile.Expand(args)
		require.NoError(t, err)
		require.Equal(t, want, got)
	}
	// A directory: every *.yml and *.yaml below it (any case), sorted.
	f([]string{"testdata/expand"},
		"testdata/expand/a.yml",
		"testdata/expand/b.yaml",
		"testdata/expand/sub/c.yml",
		"testdata/expand/sub/deeper/d.YAML")
	f([]string{"testdata/expand/sub/"},
		"testdata/expand/sub/c.yml",
		"testdata/expand/sub/deeper/d.YAML")
	// A glob: what it matches, whatever the extension.
	f([]string{"testdata/expand/*.y*ml"}, "testdata/expand/a.yml", "testdata/expand/b.yaml")
	f([]string{"testdata/expand/*/*.json"}, "testdata/expand/sub/e.json")
	// A file is taken as it is, in argument order.
	f([]string{"testdata/plain.yml", "testdata/expand/notes.txt"}, "testdata/plain.yml", "testdata/expand/notes.txt")
	f([]string{"testdata/plain.yml", "testdata/expand/sub/deeper"}, "testdata/plain.yml", "testdata/expand/sub/deeper/d.YAML")
	f(nil)
}

func TestExpandErrors(t *testing.T) {
	f := func(args []string, want string) {
		t.Helper()
		got, err := rulefile.Expand(args)
		require.Nil(t, got)
		require.EqualError(t, err, want)
	}
	f([]string{"testdata/expand/*.nothing"}, "testdata/expand/*.nothing: pattern matches no file")
	f([]string{"testdata/plain.yml", "testdata/missing.yml"}, "testdata/missing.yml: stat: no such file or directory")
	f([]string{"testdata/[a"}, "testdata/[a: bad pattern: syntax error in pattern")
}

func TestIsYAML(t *testing.T) {
	for p, want := range map[string]bool{
		"a.yml": true, "a.yaml": true, "dir/A.YML": true, "a.Yaml": true,
		"a.json": false, "a.yml.bak": false, "yml": false, "a": false,
	} {
		require.Equal(t, want, rulefile.IsYAML(p), p)
	}
}
