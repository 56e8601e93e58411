// Package yamlpos finds where things are in a YAML document, for error
// messages that name file:line:col.
package yamlpos

import (
	"go.yaml.in/yaml/v3"

	"github.com/gotk-rules/gotk-rules/internal/blockyaml"
)

// Doc is a parsed YAML document; the zero value knows no positions.
type Doc struct {
	root *blockyaml.Node
}

// Parse reads the first document of b. Unparsable input gives an empty Doc.
// Text in the block shape (package blockyaml) is read by that package's
// fast reader, which gives the same nodes at the same positions; other
// text by yaml.v3.
func Parse(b []byte) Doc {
	if root, ok := blockyaml.Parse(b); ok {
		return Doc{root: root}
	}
	var n yaml.Node
	if err := yaml.Unmarshal(b, &n); err != nil || len(n.Content) == 0 {
		return Doc{}
	}
	return Doc{root: positions(n.Content[0])}
}

// FromBlock is the Doc of a document blockyaml.Parse read.
func FromBlock(root *blockyaml.Node) Doc { return Doc{root: root} }

// positions copies what At reads of a yaml.v3 tree.
func positions(n *yaml.Node) *blockyaml.Node {
	out := &blockyaml.Node{Kind: n.Kind, Style: n.Style, Line: int32(n.Line), Column: int32(n.Column), Value: n.Value}
	if len(n.Content) > 0 {
		out.Content = make([]*blockyaml.Node, len(n.Content))
		for i, c := range n.Content {
			out.Content[i] = positions(c)
		}
	}
	return out
}

// At walks a path of mapping keys (strings) and sequence indexes (ints) and
// returns the line and column of the node reached, or of the deepest node
// found on the way (0, 0 for an empty Doc).
func (d Doc) At(path ...any) (int, int) {
	n := d.root
	if n == nil {
		return 0, 0
	}
	for _, step := range path {
		next := child(n, step)
		if next == nil {
			break
		}
		n = next
	}
	return int(n.Line), int(n.Column)
}

func child(n *blockyaml.Node, step any) *blockyaml.Node {
	switch s := step.(type) {
	case string:
		if n.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == s {
					return n.Content[i+1]
				}
			}
		}
	case int:
		if n.Kind == yaml.SequenceNode && s >= 0 && s < len(n.Content) {
			return n.Content[s]
		}
	}
	return nil
}

// FindValue returns the position of the first scalar mapping value in b,
// in file order, for which match(key, value) is true.
func FindValue(b []byte, match func(key, value string) bool) (int, int, bool) {
	var doc yaml.Node
	if yaml.Unmarshal(b, &doc) != nil {
		return 0, 0, false
	}
	if n := findValue(&doc, match); n != nil {
		return n.Line, n.Column, true
	}
	return 0, 0, false
}

func findValue(n *yaml.Node, match func(key, value string) bool) *yaml.Node {
	for i, c := range n.Content {
		if n.Kind == yaml.MappingNode && i%2 == 1 && c.Kind == yaml.ScalarNode && match(n.Content[i-1].Value, c.Value) {
			return c
		}
		if f := findValue(c, match); f != nil {
			return f
		}
	}
	return nil
}
