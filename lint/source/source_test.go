package source_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/gotk-rules/gotk-rules/lint/source"
)

// exprNode returns the value node of the first "expr" key in the file.
func exprNode(t *testing.T, f *source.File) *yaml.Node {
	t.Helper()
	var found *yaml.Node
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		if found != nil || n == nil {
			return
		}
		if n.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == "expr" {
					found = n.Content[i+1]
					return
				}
			}
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	for _, d := range f.Docs {
		walk(d.Root)
	}
	require.NotNil(t, found, "no expr in the document")
	return found
}

func TestScalarPositions(t *testing.T) {
	// Each case names a token of the value and where it is in the file.
	cases := []struct {
		name  string
		yaml  string
		token string
		want  source.Pos
	}{
		{"plain", "expr: sum(rate(x[5m])) > 1\n", "rate", source.Pos{1, 11}},
		{"plain after spaces", "expr:    up == 0\n", "==", source.Pos{1, 13}},
		{"plain multi-line", "expr: sum(\n  rate(x[5m])\n  ) > 1\n", "rate", source.Pos{2, 3}},
		{"plain multi-line third", "expr: sum(\n  rate(x[5m])\n  ) > 1\n", ">", source.Pos{3, 5}},
		{"single-quoted", "expr: 'up{job=\"a\"} == 0'\n", "==", source.Pos{1, 20}},
		{"single-quoted doubled quote", "expr: 'x{a=''b''} == 0'\n", "==", source.Pos{1, 19}},
		{"double-quoted escapes", "expr: \"up{job=\\\"a\\\"} == 0\"\n", "==", source.Pos{1, 22}},
		{"double-quoted unicode escape", "expr: \"x{a=\\u0022b\\u0022} == 0\"\n", "==", source.Pos{1, 27}},
		{"double-quoted continuation", "expr: \"sum(x) \\\n    > 1\"\n", ">", source.Pos{2, 5}},
		{"double-quoted folded", "expr: \"sum(x)\n  > 1\"\n", ">", source.Pos{2, 3}},
		{"literal", "expr: |\n  sum(x)\n    > on(a) y\n", "on", source.Pos{3, 7}},
		{"literal keep", "expr: |+\n  a\n\n  b\n", "b", source.Pos{4, 3}},
		{"literal with indicator", "- expr: |2\n      sum(x)\n    /\n      y\n", "/", source.Pos{3, 5}},
		{"literal indicator more-indented first", "- expr: |2\n      sum(x)\n    /\n      y\n", "sum", source.Pos{2, 7}},
		{"folded", "expr: >\n  sum(x)\n  > 1\n", ">", source.Pos{3, 3}},
		{"folded blank line", "expr: >-\n  a\n\n  b and c\n", "and", source.Pos{4, 5}},
		{"nested indentation", "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: |\n          up\n            == 0\n", "==", source.Pos{7, 13}},
		{"unicode before", "expr: x{a=\"é\"} == 1\n", "==", source.Pos{1, 16}},
		{"comment after plain", "expr: up == 0 # comment\n", "0", source.Pos{1, 13}},
		{"flow mapping", "{expr: up == 0, for: 5m}\n", "==", source.Pos{1, 11}},
		{"crlf", "expr: |\r\n  a\r\n  or b\r\n", "or", source.Pos{3, 3}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := source.Parse("f.yml", []byte(tc.yaml))
			n := exprNode(t, f)
			off := strings.Index(n.Value, tc.token)
			require.GreaterOrEqual(t, off, 0, "token %q not in %q", tc.token, n.Value)
			s := f.Scalar(n)
			require.True(t, s.Exact(), "value %q", n.Value)
			require.Equal(t, tc.want, s.Pos(off))
		})
	}
}

// Every non-blank byte of a value must map to the same character in the
// file, in every style.
func TestScalarEveryByte(t *testing.T) {
	docs := []string{
		"expr: max(x{a=\"b\"}) by (c) + on(c) (y) * 2 == 1\n",
		"expr: 'max(x{a=\"b\"})\n\n   by (c) > 0'\n",
		"expr: |\n  max(x{a=\"b\"})\n    by (c)\n\n  > 0\n",
		"expr: >\n  max(x{a=\"b\"})\n    by (c)\n\n  > 0\n",
		"expr: \"max(x{a='b'})\n\n   by (c) > 0\"\n",
		"a:\n  - expr: |-\n      # a PromQL comment\n      x\n        unless y\n",
	}
	for _, doc := range docs {
		f := source.Parse("f.yml", []byte(doc))
		n := exprNode(t, f)
		s := f.Scalar(n)
		require.True(t, s.Exact(), doc)
		for i := 0; i < len(n.Value); i++ {
			c := n.Value[i]
			if c == ' ' || c == '\n' {
				continue
			}
			p := s.Pos(i)
			line := f.Line(p.Line)
			b := f.ByteOf(p.Line, p.Column)
			require.Less(t, b, len(line), "offset %d of %q", i, doc)
			require.Equal(t, string(c), string(line[b]), "offset %d of %q at %v", i, doc, p)
		}
	}
}

func TestScalarEndAndFallback(t *testing.T) {
	f := source.Parse("f.yml", []byte("expr: 'test +'\n"))
	n := exprNode(t, f)
	// The end of the value is just after its last character: the closing quote.
	require.Equal(t, source.Pos{1, 14}, f.Scalar(n).Pos(len(n.Value)))

	// A node whose value is not where it says falls back to its start.
	bogus := &yaml.Node{Kind: yaml.ScalarNode, Value: "other", Line: 1, Column: 7}
	s := f.Scalar(bogus)
	require.False(t, s.Exact())
	require.Equal(t, source.Pos{1, 7}, s.Pos(3))
}

func TestDocuments(t *testing.T) {
	f := source.Parse("f.yml", []byte("a: 1\n---\nb: [\n---\n# only a comment\n---\nc: 3\n"))
	require.Len(t, f.Docs, 4)
	require.NotNil(t, f.Docs[0].Root)
	require.Error(t, f.Docs[1].Err)
	require.Nil(t, f.Docs[2].Root)
	require.NoError(t, f.Docs[2].Err)
	c := f.Docs[3].Root
	require.Equal(t, 7, c.Line, "positions are file positions")
	require.Equal(t, c, f.NodeAt(source.Pos{7, 1}, yaml.MappingNode))
	require.Equal(t, &f.Docs[3], f.DocAt(7))
	require.Equal(t, source.Pos{5, 1}, f.FirstNonSpace(5))
}
