package source

import (
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// Scalar maps byte offsets of a scalar node's value to file positions.
type Scalar struct {
	f    *File
	n    *yaml.Node
	once sync.Once
	ok   bool
	at   []lineByte // at[i] is where value byte i was written; at[len] just after the last
}

type lineByte struct{ line, b int } // 0-based line, byte index in it

// Exact reports whether every byte of the value was located in the file.
// When not, Pos returns the node's own position for every offset.
func (s *Scalar) Exact() bool {
	s.once.Do(s.build)
	return s.ok
}

// Start is the node's position: the first character of a plain scalar, the
// opening quote of a quoted one, the | or > of a block scalar.
func (s *Scalar) Start() Pos { return Pos{s.n.Line, s.n.Column} }

// Pos returns the file position of byte offset off of the value; an offset
// at or past the end is the position just after the value's last character.
func (s *Scalar) Pos(off int) Pos {
	s.once.Do(s.build)
	if !s.ok {
		return s.Start()
	}
	if off < 0 {
		off = 0
	}
	if off > len(s.n.Value) {
		off = len(s.n.Value)
	}
	lb := s.at[off]
	return Pos{lb.line + 1, s.f.ColumnOf(lb.line+1, lb.b)}
}

// build aligns the value with the source text: bytes that were written as
// is match one to one; whitespace folded into a space or a line break,
// escapes, doubled single quotes and indentation are accounted for. Anything
// else means the value was not where the node says, and positions fall back
// to the node's start.
func (s *Scalar) build() {
	n := s.n
	v := n.Value
	lines := s.f.Lines
	li := n.Line - 1
	if li < 0 || li >= len(lines) {
		return
	}
	bi := s.f.ByteOf(n.Line, n.Column)
	double := n.Style&yaml.DoubleQuotedStyle != 0
	single := n.Style&yaml.SingleQuotedStyle != 0
	switch {
	case n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0:
		li, bi = li+1, 0 // content starts on the line after the header
	case double || single:
		bi++ // after the opening quote
	}
	at := make([]lineByte, len(v)+1)
	i := 0
	for i < len(v) {
		if li >= len(lines) {
			return
		}
		line := lines[li]
		if bi >= len(line) { // the line break
			if v[i] == '\n' || v[i] == ' ' {
				at[i] = lineByte{li, bi}
				i++
			}
			li, bi = li+1, 0
			continue
		}
		c := line[bi]
		switch {
		case c == v[i] && !(double && c == '\\') && !(single && c == '\''):
			at[i] = lineByte{li, bi}
			i++
			bi++
		case double && c == '\\':
			if bi+1 >= len(line) { // escaped line break: the next line continues
				li, bi = li+1, 0
				for li < len(lines) && bi < len(lines[li]) && isBlank(lines[li][bi]) {
					bi++
				}
				continue
			}
			dec, width, ok := unescape(line[bi:])
			if !ok || !strings.HasPrefix(v[i:], dec) {
				return
			}
			for k := range len(dec) {
				at[i+k] = lineByte{li, bi}
			}
			i += len(dec)
			bi += width
		case single && c == '\'':
			if v[i] != '\'' || bi+1 >= len(line) || line[bi+1] != '\'' {
				return
			}
			at[i] = lineByte{li, bi}
			i++
			bi += 2
		case isBlank(c):
			bi++ // indentation, or blanks folded away
		case v[i] == ' ' || v[i] == '\n' || v[i] == '\t':
			at[i] = lineByte{li, bi} // a blank the source folded in
			i++
		default:
			return
		}
	}
	if len(v) > 0 {
		last := at[len(v)-1]
		w := 1
		if last.b < len(lines[last.line]) {
			_, w = utf8.DecodeRuneInString(lines[last.line][last.b:])
		}
		at[len(v)] = lineByte{last.line, last.b + w}
	} else {
		at[0] = lineByte{li, bi}
	}
	s.at = at
	s.ok = true
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' }

// unescape decodes the YAML double-quoted escape at the start of s.
func unescape(s string) (dec string, width int, ok bool) {
	if len(s) < 2 || s[0] != '\\' {
		return "", 0, false
	}
	simple := map[byte]string{
		'0': "\x00", 'a': "\a", 'b': "\b", 't': "\t", '\t': "\t", 'n': "\n", 'v': "\v", 'f': "\f",
		'r': "\r", 'e': "\x1b", ' ': " ", '"': "\"", '/': "/", '\\': "\\", 'N': "\u0085",
		'_': "\u00a0", 'L': "\u2028", 'P': "\u2029",
	}
	if d, found := simple[s[1]]; found {
		return d, 2, true
	}
	digits := map[byte]int{'x': 2, 'u': 4, 'U': 8}[s[1]]
	if digits == 0 || len(s) < 2+digits {
		return "", 0, false
	}
	code, err := strconv.ParseUint(s[2:2+digits], 16, 32)
	if err != nil {
		return "", 0, false
	}
	return string(rune(code)), 2 + digits, true
}
