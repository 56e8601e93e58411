package mutate

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// source is a rule file's text with the YAML nodes of its rules, to
// rewrite one value in place: everything else stays byte-identical, and
// every line stays where it was.
type source struct {
	text  []byte
	lines []int // byte offset of each line's start
	// maps holds every mapping node of the file by its position.
	maps map[[2]int]*yaml.Node
}

// newSource parses text, every YAML document of it.
func newSource(text []byte) (*source, error) {
	s := &source{text: text, maps: map[[2]int]*yaml.Node{}}
	s.lines = append(s.lines, 0)
	for i, b := range text {
		if b == '\n' {
			s.lines = append(s.lines, i+1)
		}
	}
	dec := yaml.NewDecoder(bytes.NewReader(text))
	for {
		var doc yaml.Node
		if err := dec.Decode(&doc); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return nil, err
		}
		s.index(&doc)
	}
	return s, nil
}

func (s *source) index(n *yaml.Node) {
	if n.Kind == yaml.MappingNode {
		s.maps[[2]int{n.Line, n.Column}] = n
	}
	for _, c := range n.Content {
		s.index(c)
	}
}

// offset returns the byte offset of a 1-based line and column (in runes,
// as the YAML decoder counts them).
func (s *source) offset(line, col int) int {
	if line < 1 || line > len(s.lines) {
		return len(s.text)
	}
	off := s.lines[line-1]
	for c := 1; c < col && off < len(s.text) && s.text[off] != '\n'; c++ {
		_, size := utf8.DecodeRune(s.text[off:])
		off += size
	}
	return off
}

// lineEnd returns the byte offset of the end of the line holding off.
func (s *source) lineEnd(off int) int {
	if i := bytes.IndexByte(s.text[off:], '\n'); i >= 0 {
		return off + i
	}
	return len(s.text)
}

// lineAt returns the 1-based line holding the byte offset off.
func (s *source) lineAt(off int) int {
	lo, hi := 0, len(s.lines)-1
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if s.lines[mid] <= off {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return lo + 1
}

// indentOf returns the indentation of a line, and whether the line is
// blank or a comment only.
func indentOf(line []byte) (int, bool) {
	n := 0
	for n < len(line) && (line[n] == ' ' || line[n] == '\t') {
		n++
	}
	rest := bytes.TrimRight(line[n:], " \t\r")
	return n, len(rest) == 0 || rest[0] == '#'
}

// span is a byte range of the text.
type span struct{ start, end int }

// valueSpan returns the bytes of a block-style mapping's scalar value v
// whose key is k: from its first character to its last (a block scalar's
// indicator to its last content line; a quoted scalar's quotes
// included; a plain scalar's continuation lines included, a trailing
// comment not).
func (s *source) valueSpan(k, v *yaml.Node) (span, error) {
	if v.Kind != yaml.ScalarNode {
		return span{}, fmt.Errorf("line %d: not a scalar value", v.Line)
	}
	start := s.offset(v.Line, v.Column)
	keyIndent := k.Column - 1
	// more returns the end of the last line after the one holding from
	// that belongs to the value: indented more than the key, or blank.
	more := func(from int) int {
		end := s.lineEnd(from)
		for next := end + 1; next < len(s.text); {
			lineEnd := s.lineEnd(next)
			line := s.text[next:lineEnd]
			indent, blank := indentOf(line)
			if len(bytes.TrimSpace(line)) == 0 {
				next = lineEnd + 1
				continue
			}
			if indent <= keyIndent || (blank && v.Style&(yaml.LiteralStyle|yaml.FoldedStyle) == 0) {
				break
			}
			end = lineEnd
			next = lineEnd + 1
		}
		return end
	}
	switch {
	case v.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0:
		end := more(start)
		return span{start, trimRight(s.text, start, end)}, nil
	case v.Style&yaml.DoubleQuotedStyle != 0:
		for i := start + 1; i < len(s.text); i++ {
			switch s.text[i] {
			case '\\':
				i++
			case '"':
				return span{start, i + 1}, nil
			}
		}
	case v.Style&yaml.SingleQuotedStyle != 0:
		for i := start + 1; i < len(s.text); i++ {
			if s.text[i] == '\'' {
				if i+1 < len(s.text) && s.text[i+1] == '\'' {
					i++
					continue
				}
				return span{start, i + 1}, nil
			}
		}
	case v.Style&yaml.FlowStyle != 0:
		return span{}, fmt.Errorf("line %d: flow style is not rewritten", v.Line)
	default:
		// A plain scalar: to the end of its line, before a comment, and
		// on its continuation lines.
		end := plainEnd(s.text[start:s.lineEnd(start)]) + start
		if cont := more(start); cont > s.lineEnd(start) {
			end = plainEnd(s.text[:cont])
		}
		return span{start, end}, nil
	}
	return span{}, fmt.Errorf("line %d: unterminated quoted value", v.Line)
}

// plainEnd returns the end of a plain scalar's text on its last line: before
// " #" and trailing blanks.
func plainEnd(b []byte) int {
	lineStart := bytes.LastIndexByte(b, '\n') + 1
	end := len(b)
	if i := bytes.Index(b[lineStart:], []byte(" #")); i >= 0 {
		end = lineStart + i
	}
	return trimRight(b, lineStart, end)
}

func trimRight(b []byte, start, end int) int {
	for end > start && (b[end-1] == ' ' || b[end-1] == '\t' || b[end-1] == '\r') {
		end--
	}
	return end
}

// replace returns the text with sp replaced by a YAML scalar holding
// value on the first line of sp, and the other lines of sp left empty, so
// that no line moves.
func (s *source) replace(sp span, value string) []byte {
	lines := bytes.Count(s.text[sp.start:sp.end], []byte("\n"))
	return s.splice(sp, quote(value)+strings.Repeat("\n", lines))
}

// splice returns the text with sp replaced by repl.
func (s *source) splice(sp span, repl string) []byte {
	out := make([]byte, 0, len(s.text)+len(repl))
	out = append(out, s.text[:sp.start]...)
	out = append(out, repl...)
	return append(out, s.text[sp.end:]...)
}

// quote writes value as a YAML double-quoted scalar on one line: Go's
// escapes are YAML's.
func quote(value string) string {
	return strconv.Quote(value)
}

// entrySpan returns the bytes of a block mapping's entry, key k to the
// end of its value v, to remove it.
func (s *source) entrySpan(k, v *yaml.Node) (span, error) {
	vs, err := s.valueSpan(k, v)
	if err != nil {
		return span{}, err
	}
	return span{s.offset(k.Line, k.Column), vs.end}, nil
}

// remove returns the text with the mapping entry at sp replaced by a
// comment, its other lines left empty, so that no line moves.
func (s *source) remove(sp span) []byte {
	lines := bytes.Count(s.text[sp.start:sp.end], []byte("\n"))
	return s.splice(sp, "# removed by gotk-rules mutate"+strings.Repeat("\n", lines))
}

// lookupKey returns the key and value nodes of key in mapping m.
func lookupKey(m *yaml.Node, key string) (*yaml.Node, *yaml.Node) {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil, nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i], m.Content[i+1]
		}
	}
	return nil, nil
}

// newlines returns as many newlines as b holds.
func newlines(b []byte) string {
	return strings.Repeat("\n", bytes.Count(b, []byte("\n")))
}
