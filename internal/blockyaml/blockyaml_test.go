package blockyaml

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/gotk-rules/gotk-rules/internal/testcorpus"
)

// cases are texts Parse reads (ok) or declines; every one is also checked
// against yaml.v3 (TestParseMatchesYAMLv3) and seeds FuzzParse.
var cases = []struct {
	name string
	text string
	ok   bool
}{
	{"mapping", "a: 1\nb: two\n", true},
	{"nested", "a:\n  b: 1\n  c:\n    - x\n    - y\n", true},
	{"indentless sequence", "rule_files:\n- a.yml\n- b.yml\nevaluation_interval: 1m\n", true},
	{"entries with mappings", "tests:\n  - name: a\n    interval: 1m\n  - name: b\n", true},
	{"indentless in compact", "- input_series:\n  - series: a\n    values: 1\n  name: x\n", true},
	{"quoted", "a: \"x\\\"y\\n\\u00e9\"\nb: 'it''s'\n\"c d\": 1\n'e' : 2\n", true},
	{"comments and blanks", "# top\n\na: 1 # one\n  # indented comment\nb: # none\nc: \"x\" # q\n", true},
	{"nulls", "a:\nb: ~\nc:\n-\n- x\n", true},
	{"empty flow", "a: []\nb: {}\nc: [ ]\n", false},
	{"empty flow ok", "a: []\nb: {}  # c\n", true},
	{"document start", "--- # doc\na: 1\n", true},
	{"indented root", "  a: 1\n  b: 2\n", true},
	{"unicode column", "é: \"ü\"\nkey: ö\n", true},
	{"plain with colon and hash", "a: http://x#y\nb: a-b : c\n", false},
	{"plain with colon", "a: http://x#y\nb: x:y\n", true},
	{"flow sequence", "a: [1, 2]\n", false},
	{"literal", "a: |\n  x\n   y\n\n  z\nb: 1\n", true},
	{"folded", "a: >-\n  one\n  two\n\n  three\n    more\n  four\n\n\nb: 1\n", true},
	{"keep", "a: |+\n  x\n\n\nb: |-\n  y\n", true},
	{"indent indicator", "a: |2\n    x\n  y\nb: >1-\n  z\n", true},
	{"block in entry", "- >\n  a\n  b\n- |\n  # not a comment\n  c\n", true},
	{"block with comment after", "a: | # c\n  x\n# top comment\nb: 1\n", true},
	{"empty block", "a: |\nb: >\n", true},
	{"leading blank lines", "a: |\n\n  \n  x\n", true},
	{"leading blank line too deep", "a: |\n\n   \n  x\n", false},
	{"block at eof", "a: >\n  x", true},
	{"bad block indent", "a: |0\n  x\n", false},
	{"block then deeper key", "a:\n  b: |\n      x\n    c: 1\n", false},
	{"anchor", "a: &x 1\nb: *x\n", false},
	{"tag", "a: !!str 1\n", false},
	{"multi-line plain", "a: x\n  y\n", false},
	{"multi-line quoted", "a: \"x\n  y\"\n", false},
	{"second document", "a: 1\n---\nb: 2\n", false},
	{"document end", "a: 1\n...\n", false},
	{"directive", "%YAML 1.1\n---\na: 1\n", false},
	{"tab", "a:\t1\n", false},
	{"crlf", "a: 1\r\n", false},
	{"complex key", "? a\n: 1\n", false},
	{"entry in value", "a: - x\n", false},
	{"nested entry", "- - x\n", false},
	{"bad indent", "a:\n  b: 1\n c: 2\n", false},
	{"scalar root", "just text\n", false},
	{"empty", "# nothing\n", false},
	{"hash after quote", "a: \"x\"#y\n", false},
	{"mapping in value", "a: b: c\n", false},
	{"line separator", "a: x\u2028y\n", false},
	{"escape line fold", "a: \"x\\\n  y\"\n", false},
}

func TestParseCases(t *testing.T) {
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n, ok := Parse([]byte(c.text))
			require.Equal(t, c.ok, ok)
			if ok {
				requireSameAsV3(t, []byte(c.text), n)
			}
		})
	}
}

// TestParseMatchesYAMLv3 reads every YAML file of the repository and of
// the conformance corpus: each that Parse accepts must give yaml.v3's tree.
func TestParseMatchesYAMLv3(t *testing.T) {
	files := testcorpus.YAMLFiles("../..")
	require.NotEmpty(t, files)
	accepted := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		if n, ok := Parse(b); ok {
			accepted++
			t.Run(f, func(t *testing.T) { requireSameAsV3(t, b, n) })
		}
	}
	t.Logf("%d of %d files read", accepted, len(files))
	assert.Greater(t, accepted, len(files)/2, "most files are in the block shape")
}

func FuzzParse(f *testing.F) {
	for _, c := range cases {
		f.Add(c.text)
	}
	f.Fuzz(func(t *testing.T, text string) {
		n, ok := Parse([]byte(text))
		if ok {
			requireSameAsV3(t, []byte(text), n)
		}
	})
}

// requireSameAsV3 fails unless yaml.v3 reads b without error to the tree n.
func requireSameAsV3(t *testing.T, b []byte, n *Node) {
	t.Helper()
	var doc yaml.Node
	require.NoError(t, yaml.Unmarshal(b, &doc), "yaml.v3 refuses a text Parse read")
	require.Len(t, doc.Content, 1)
	var diffs []string
	compare(doc.Content[0], n, "$", &diffs)
	require.Empty(t, diffs, "text:\n%s", b)
}

func compare(want *yaml.Node, got *Node, path string, diffs *[]string) {
	if len(*diffs) > 5 {
		return
	}
	style := func(s yaml.Style) yaml.Style { return s &^ (yaml.TaggedStyle | yaml.FlowStyle) }
	if want.Kind != got.Kind || want.Line != int(got.Line) || want.Column != int(got.Column) || want.Value != got.Value ||
		(want.Kind == yaml.ScalarNode && style(want.Style) != style(got.Style)) ||
		(want.Kind != yaml.ScalarNode && want.Style != got.Style) || len(want.Content) != len(got.Content) {
		*diffs = append(*diffs, fmt.Sprintf("%s: yaml.v3 kind %d style %d %q at %d:%d with %d children; Parse kind %d style %d %q at %d:%d with %d children",
			path, want.Kind, want.Style, want.Value, want.Line, want.Column, len(want.Content),
			got.Kind, got.Style, got.Value, got.Line, got.Column, len(got.Content)))
		return
	}
	for i := range want.Content {
		compare(want.Content[i], got.Content[i], fmt.Sprintf("%s[%d]", path, i), diffs)
	}
}

// TestParseDeclinesEarly: a text declined at its first lines is not split
// whole (a hostile file of millions of lines costs nothing to decline).
func TestParseDeclinesEarly(t *testing.T) {
	b := []byte(strings.Repeat("a\n", 1<<20))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, ok := Parse(b)
	runtime.ReadMemStats(&after)
	require.False(t, ok)
	assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(64<<10), "bytes allocated to decline")
}
