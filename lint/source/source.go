// Package source holds the text and YAML nodes of one rule file and maps a
// byte offset inside a YAML scalar (a PromQL expression, a template) back to
// the line and column of the file where that byte was written, whatever the
// scalar's style: plain, single- or double-quoted, literal (|) or folded (>),
// on one line or many, with or without an indentation indicator.
package source

import (
	"regexp"
	"strings"
	"sync"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// Pos is a 1-based line and column; the column counts characters (runes),
// as YAML parsers and editors do.
type Pos struct {
	Line   int
	Column int
}

// File is one file's lines and YAML documents. Once parsed it is safe for
// concurrent use.
type File struct {
	Name  string
	Lines []string // without line terminators
	Docs  []Doc

	nodes   map[Pos][]*yaml.Node
	mu      sync.Mutex
	scalars map[*yaml.Node]*Scalar
}

// Doc is one YAML document of a file.
type Doc struct {
	Start, End int        // 1-based lines of the document, End inclusive
	Root       *yaml.Node // the document's content node; nil when empty or not YAML
	Err        error      // the YAML error, if the document does not parse
}

// docSeparator is the document separator rulefile splits documents on.
var docSeparator = regexp.MustCompile(`^(---|\.\.\.)(\s|$)`)

// Parse splits content into lines and parses each YAML document on its own,
// so a broken document leaves the others usable. Node positions are file
// positions.
func Parse(name string, content []byte) *File {
	text := strings.TrimPrefix(string(content), "\ufeff")
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimSuffix(l, "\r")
	}
	f := &File{Name: name, Lines: lines, nodes: map[Pos][]*yaml.Node{}, scalars: map[*yaml.Node]*Scalar{}}
	start := 0
	for i, line := range lines {
		if docSeparator.MatchString(line) {
			f.addDoc(start, i)
			start = i + 1
		}
	}
	f.addDoc(start, len(lines))
	return f
}

// addDoc parses lines [start, end) (0-based) as one document.
func (f *File) addDoc(start, end int) {
	d := Doc{Start: start + 1, End: end}
	blank := true
	for _, l := range f.Lines[start:end] {
		if t := strings.TrimSpace(l); t != "" && !strings.HasPrefix(t, "#") {
			blank = false
			break
		}
	}
	if !blank {
		// Blank lines before the document keep its node positions file positions.
		text := strings.Repeat("\n", start) + strings.Join(f.Lines[start:end], "\n")
		var root yaml.Node
		if err := yaml.Unmarshal([]byte(text), &root); err != nil {
			d.Err = err
		} else if len(root.Content) > 0 {
			d.Root = root.Content[0]
			f.index(d.Root)
		}
	}
	f.Docs = append(f.Docs, d)
}

func (f *File) index(n *yaml.Node) {
	p := Pos{n.Line, n.Column}
	f.nodes[p] = append(f.nodes[p], n)
	for _, c := range n.Content {
		f.index(c)
	}
}

// Line returns line n (1-based), or "" when there is none.
func (f *File) Line(n int) string {
	if n < 1 || n > len(f.Lines) {
		return ""
	}
	return f.Lines[n-1]
}

// NodeAt returns the node of the given kind that starts at p, or nil.
func (f *File) NodeAt(p Pos, kind yaml.Kind) *yaml.Node {
	for _, n := range f.nodes[p] {
		if n.Kind == kind {
			return n
		}
	}
	return nil
}

// DocAt returns the document holding line n, or nil.
func (f *File) DocAt(n int) *Doc {
	for i := range f.Docs {
		if d := &f.Docs[i]; n >= d.Start && n <= d.End {
			return d
		}
	}
	return nil
}

// FirstNonSpace returns the position of the first non-blank character of
// line n, or column 1.
func (f *File) FirstNonSpace(n int) Pos {
	l := f.Line(n)
	t := strings.TrimLeft(l, " \t")
	return Pos{n, utf8.RuneCountInString(l[:len(l)-len(t)]) + 1}
}

// ColumnOf returns the character column (1-based) of byte index b of line n.
func (f *File) ColumnOf(n, b int) int {
	l := f.Line(n)
	if b > len(l) {
		return utf8.RuneCountInString(l) + 1 + (b - len(l))
	}
	return utf8.RuneCountInString(l[:b]) + 1
}

// ByteOf returns the byte index in line n of character column c (1-based).
func (f *File) ByteOf(n, c int) int {
	l := f.Line(n)
	i := 0
	for col := 1; col < c; col++ {
		if i >= len(l) {
			return i + (c - col)
		}
		_, w := utf8.DecodeRuneInString(l[i:])
		i += w
	}
	return i
}

// Scalar returns the position map of a scalar node of this file.
func (f *File) Scalar(n *yaml.Node) *Scalar {
	f.mu.Lock()
	defer f.mu.Unlock()
	if s, ok := f.scalars[n]; ok {
		return s
	}
	s := &Scalar{f: f, n: n}
	f.scalars[n] = s
	return s
}
