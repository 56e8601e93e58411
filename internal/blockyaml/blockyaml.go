// Package blockyaml reads the plain shape most hand-written and generated
// YAML files have (block mappings and sequences of one-line scalars and of
// literal or folded block scalars) several times faster than a full YAML
// parser, and declines everything else.
//
// Parse returns the same tree, with the same positions, as
// go.yaml.in/yaml/v3 would (Node holds yaml.Node's Kind, Style, Value,
// Line, Column and Content, in a third of its size), or false when the
// text uses anything outside that shape: flow collections other than an
// empty [] or {}, plain or quoted scalars over several lines, anchors,
// aliases, tags, directives, complex keys, more than one document, tabs,
// carriage returns, or a character a YAML reader treats specially. A
// caller that gets false parses with a full YAML library; the shape is
// chosen so that the libraries agree on every text Parse accepts (see the
// package's differential tests and fuzzer).
package blockyaml

import (
	"bytes"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// Node is one node of a document: a mapping (Content holds keys and values
// in turn), a sequence, or a scalar (Value; Style tells a quoted one). Line
// and Column are 1-based, columns counted in characters, as yaml.v3 counts.
type Node struct {
	Kind    yaml.Kind
	Style   yaml.Style
	Line    int32
	Column  int32
	Value   string
	Content []*Node
}

// Parse reads b's one document. It returns false, and no tree, when b is
// outside the shape the package reads (see the package comment), or holds
// no node at all.
func Parse(b []byte) (*Node, bool) {
	if !plainText(b) {
		return nil, false
	}
	p := &parser{src: b}
	if p.advance(); !p.has {
		return nil, false
	}
	root, ok := p.block(-1)
	if !ok || p.has || p.bad {
		return nil, false
	}
	return root, true
}

// line is one line holding a node: neither blank nor only a comment.
type line struct {
	num    int // 1-based
	start  int // offset of the line's first byte in src
	indent int // leading spaces
	end    int // offset past the line's last byte (before '\n')
}

type parser struct {
	src []byte
	// The line cursor: cur is the next line not read yet, when has.
	cur  line
	has  bool
	bad  bool // a line outside the shape was met
	pos  int  // offset of the first byte not split into lines yet
	num  int  // lines split so far
	seen bool // a line holding a node was met
	// started: the document start marker was met.
	started bool
	nodes   []Node
}

// node hands out nodes from blocks, for fewer allocations.
func (p *parser) node() *Node {
	if len(p.nodes) == 0 {
		p.nodes = make([]Node, 256)
	}
	n := &p.nodes[0]
	p.nodes = p.nodes[1:]
	return n
}

// plainText reports whether b has only characters that YAML readers take
// for themselves: printable characters, spaces and '\n'. A tab, a carriage
// return, a byte order mark, the Unicode line breaks (NEL, LS, PS) and
// characters a YAML reader refuses all send the text to a full parser.
func plainText(b []byte) bool {
	for i := 0; i < len(b); {
		c := b[i]
		if c < utf8.RuneSelf {
			if (c < 0x20 && c != '\n') || c == 0x7f {
				return false
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(b[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			return false
		case r < 0xa0: // C1 controls, NEL among them
			return false
		case r == 0x2028 || r == 0x2029 || r == 0xfeff:
			return false
		case r >= 0xd800 && r <= 0xdfff, r == 0xfffe, r == 0xffff:
			return false
		}
		i += size
	}
	return true
}

// advance moves the cursor to the next line that holds a node, splitting
// the text as it goes (a text declined early is never split whole).
// Comment lines and blank lines are skipped; a document start marker is
// allowed before the first node, alone; any other marker or directive
// declines the text (bad).
func (p *parser) advance() {
	b := p.src
	p.has = false
	for p.pos < len(b) {
		start := p.pos
		p.num++
		end := bytes.IndexByte(b[start:], '\n')
		if end < 0 {
			end = len(b)
		} else {
			end += start
		}
		p.pos = end + 1
		indent := 0
		for start+indent < end && b[start+indent] == ' ' {
			indent++
		}
		content := b[start+indent : end]
		switch {
		case len(content) == 0 || content[0] == '#':
		case indent == 0 && content[0] == '%':
			p.bad = true // a directive
			return
		case indent == 0 && (bytes.HasPrefix(content, []byte("---")) || bytes.HasPrefix(content, []byte("..."))) &&
			(len(content) == 3 || content[3] == ' '):
			if p.seen || p.started || content[0] == '.' || !onlyCommentAfter(content[3:]) {
				p.bad = true
				return
			}
			p.started = true
		default:
			p.cur = line{num: p.num, start: start, indent: indent, end: end}
			p.has, p.seen = true, true
			return
		}
	}
}

// column is the 1-based column of src[off], counted in characters as YAML
// readers count, on line l.
func (p *parser) column(l line, off int) int32 {
	return int32(utf8.RuneCount(p.src[l.start:off]) + 1)
}

// isEntry reports whether the text at off starts a sequence entry ("-"
// then a space or the end of the line).
func (p *parser) isEntry(off, end int) bool {
	return p.src[off] == '-' && (off+1 == end || p.src[off+1] == ' ')
}

// block reads the block node whose first line is the next one, which must
// be indented more than parent.
func (p *parser) block(parent int) (*Node, bool) {
	if !p.has {
		return nil, false
	}
	l := p.cur
	if l.indent <= parent {
		return nil, false
	}
	off := l.start + l.indent
	if p.isEntry(off, l.end) {
		return p.sequence(l.indent)
	}
	return p.mapping(l.indent, off)
}

// sequence reads the entries at indent, starting at the next line.
func (p *parser) sequence(indent int) (*Node, bool) {
	seq := p.node()
	seq.Kind = yaml.SequenceNode
	for p.has {
		l := p.cur
		if l.indent < indent {
			break
		}
		off := l.start + l.indent
		if l.indent > indent || !p.isEntry(off, l.end) {
			if l.indent == indent {
				break // a key of the mapping holding an indentless sequence
			}
			return nil, false
		}
		if len(seq.Content) == 0 {
			seq.Line, seq.Column = int32(l.num), p.column(l, off)
		}
		item, ok := p.entry(l, off, indent)
		if !ok {
			return nil, false
		}
		seq.Content = append(seq.Content, item)
	}
	return seq, true
}

// entry reads the sequence entry whose "-" is at off on line l.
func (p *parser) entry(l line, off, indent int) (*Node, bool) {
	at := off + 1
	for at < l.end && p.src[at] == ' ' {
		at++
	}
	if at == l.end || p.src[at] == '#' {
		// The entry's node starts on a later line, or it is empty.
		if at < l.end && at == off+1 {
			return nil, false
		}
		p.advance()
		if p.has && p.cur.indent > indent {
			return p.block(indent)
		}
		return p.empty(l, off+1), true
	}
	if p.isEntry(at, l.end) {
		return nil, false // "- - x": a sequence in an entry's line
	}
	if _, colon, ok := p.key(l, at); ok && colon > 0 {
		// "- key: value": a mapping whose keys are at this column (only
		// spaces and the "-" before it: bytes are columns).
		return p.mapping(at-l.start, at)
	}
	return p.scalarValue(l, at, indent)
}

// mapping reads the keys at indent; the first key is at off on the next
// line (for a mapping in a sequence entry, after the "- ").
func (p *parser) mapping(indent, off int) (*Node, bool) {
	m := p.node()
	m.Kind = yaml.MappingNode
	first := true
	for p.has {
		l := p.cur
		if !first {
			if l.indent < indent {
				break
			}
			if l.indent > indent {
				return nil, false
			}
			off = l.start + l.indent
			if p.isEntry(off, l.end) {
				return nil, false
			}
		}
		k, colon, ok := p.key(l, off)
		if !ok || colon < 0 {
			return nil, false
		}
		if first {
			m.Line, m.Column = k.Line, k.Column
			first = false
		}
		v, ok := p.value(l, colon, indent)
		if !ok {
			return nil, false
		}
		m.Content = append(m.Content, k, v)
	}
	return m, true
}

// value reads a mapping value: after the colon at colon on line l, or on
// the lines below.
func (p *parser) value(l line, colon, indent int) (*Node, bool) {
	at := colon + 1
	for at < l.end && p.src[at] == ' ' {
		at++
	}
	if at == l.end || p.src[at] == '#' {
		if at < l.end && at == colon+1 {
			return nil, false // "key:#": not a comment
		}
		p.advance()
		if p.has {
			nl := p.cur
			if nl.indent > indent {
				return p.block(indent)
			}
			if nl.indent == indent && p.isEntry(nl.start+nl.indent, nl.end) {
				return p.sequence(indent) // an indentless sequence
			}
		}
		return p.empty(l, colon+1), true
	}
	if p.isEntry(at, l.end) {
		return nil, false // "key: - x"
	}
	return p.scalarValue(l, at, indent)
}

// scalarValue reads the scalar at off on line l, a value or an entry of a
// block at indent, and moves past its lines.
func (p *parser) scalarValue(l line, off, indent int) (*Node, bool) {
	var n *Node
	var ok bool
	if c := p.src[off]; c == '|' || c == '>' {
		var end int
		if n, end, ok = p.blockScalar(l, off, indent); !ok {
			return nil, false
		}
		for p.has && p.cur.start < end {
			p.advance()
		}
	} else {
		if n, ok = p.inline(l, off); !ok {
			return nil, false
		}
		p.advance()
	}
	if p.has && p.cur.indent > indent {
		return nil, false // a scalar continued on the next line
	}
	return n, true
}

// blockScalar reads the literal (|) or folded (>) scalar whose header is at
// off on line l, in a block at indent, as the YAML readers' scanner does
// (libyaml's yaml_parser_scan_block_scalar, step by step). end is the
// offset of the line that ends it.
func (p *parser) blockScalar(l line, off, indent int) (n *Node, end int, ok bool) {
	b := p.src
	literal := b[off] == '|'
	i := off + 1
	chomp, increment := 0, 0
	readChomp := func() {
		if i < l.end && (b[i] == '+' || b[i] == '-') {
			chomp = 1
			if b[i] == '-' {
				chomp = -1
			}
			i++
		}
	}
	readIncrement := func() bool {
		if i < l.end && b[i] >= '0' && b[i] <= '9' {
			if b[i] == '0' {
				return false // the readers refuse an indentation of 0
			}
			increment = int(b[i] - '0')
			i++
		}
		return true
	}
	if i < l.end && (b[i] == '+' || b[i] == '-') {
		readChomp()
		if !readIncrement() {
			return nil, 0, false
		}
	} else {
		if !readIncrement() {
			return nil, 0, false
		}
		readChomp()
	}
	if i < l.end && !onlyCommentAfter(b[i:l.end]) {
		return nil, 0, false
	}
	blockIndent := 0
	if increment > 0 {
		blockIndent = indent + increment
	}
	pos := min(l.end+1, len(b))
	var value, leadingBreak []byte
	pos, trailing := scalarBreaks(b, pos, &blockIndent, indent)
	leadingBlank := false
	for pos < len(b) && pos-lineStart(b, pos) == blockIndent {
		trailingBlank := b[pos] == ' '
		if !literal && len(leadingBreak) > 0 && !leadingBlank && !trailingBlank {
			if len(trailing) == 0 {
				value = append(value, ' ')
			}
			leadingBreak = leadingBreak[:0]
		} else {
			value = append(value, leadingBreak...)
			leadingBreak = leadingBreak[:0]
		}
		value = append(value, trailing...)
		leadingBlank = b[pos] == ' '
		e := bytes.IndexByte(b[pos:], '\n')
		if e < 0 {
			e = len(b)
		} else {
			e += pos
		}
		value = append(value, b[pos:e]...)
		pos = e
		if pos < len(b) {
			leadingBreak = append(leadingBreak, '\n')
			pos++
		}
		pos, trailing = scalarBreaks(b, pos, &blockIndent, indent)
	}
	if chomp != -1 {
		value = append(value, leadingBreak...)
	}
	if chomp == 1 {
		value = append(value, trailing...)
	}
	n = p.scalar(l, off, string(value))
	n.Style = yaml.LiteralStyle
	if !literal {
		n.Style = yaml.FoldedStyle
	}
	if pos == len(b) {
		return n, pos, true
	}
	return n, lineStart(b, pos), true
}

// scalarBreaks skips the indentation and the empty lines at pos, the start
// of a line in a block scalar, as libyaml's
// yaml_parser_scan_block_scalar_breaks: at most *blockIndent spaces of
// each line, and sets *blockIndent from them when it is still 0. It
// returns where it stopped and the line breaks it skipped.
func scalarBreaks(b []byte, pos int, blockIndent *int, indent int) (int, []byte) {
	var breaks []byte
	maxIndent := 0
	for {
		col := pos - lineStart(b, pos)
		for (*blockIndent == 0 || col < *blockIndent) && pos < len(b) && b[pos] == ' ' {
			pos++
			col++
		}
		maxIndent = max(maxIndent, col)
		if pos >= len(b) || b[pos] != '\n' {
			break
		}
		breaks = append(breaks, '\n')
		pos++
	}
	if *blockIndent == 0 {
		*blockIndent = max(maxIndent, indent+1, 1)
	}
	return pos, breaks
}

// lineStart is the offset of the start of the line holding b[pos].
func lineStart(b []byte, pos int) int {
	return bytes.LastIndexByte(b[:pos], '\n') + 1
}

// empty is the null scalar YAML readers put where a value is missing,
// placed just after the indicator that ends at off.
func (p *parser) empty(l line, off int) *Node {
	n := p.node()
	n.Kind = yaml.ScalarNode
	n.Line, n.Column = int32(l.num), p.column(l, off)
	return n
}

// key reads a mapping key at off on line l: a quoted or plain scalar, then
// a colon followed by a space or the end of the line. colon is the colon's
// offset, or -1 when the text at off is not a key.
func (p *parser) key(l line, off int) (*Node, int, bool) {
	n, colon, ok := p.keyAt(l, off)
	// YAML readers take a key for one only within 1024 characters of its
	// colon; bytes are counted here, which can only decline more.
	if ok && colon >= 0 && colon-off > 1000 {
		return nil, -1, false
	}
	return n, colon, ok
}

func (p *parser) keyAt(l line, off int) (*Node, int, bool) {
	b := p.src
	switch b[off] {
	case '"', '\'':
		n, after, ok := p.quoted(l, off)
		if !ok {
			return nil, -1, false
		}
		if after < l.end && b[after] == ':' && (after+1 == l.end || b[after+1] == ' ') {
			return n, after, true
		}
		return nil, -1, true
	}
	if !plainStart(b, off, l.end) {
		return nil, -1, false
	}
	for i := off; i < l.end; i++ {
		switch b[i] {
		case ':':
			if i+1 == l.end || b[i+1] == ' ' {
				end := i
				for end > off && b[end-1] == ' ' {
					end--
				}
				return p.scalar(l, off, string(b[off:end])), i, true
			}
		case '#':
			if b[i-1] == ' ' {
				return nil, -1, true // a comment before any colon
			}
		}
	}
	return nil, -1, true
}

// inline reads a one-line value at off on line l: a quoted or plain
// scalar, or an empty flow collection.
func (p *parser) inline(l line, off int) (*Node, bool) {
	b := p.src
	switch b[off] {
	case '"', '\'':
		n, after, ok := p.quoted(l, off)
		if !ok || (after < l.end && b[after] != '#') {
			return nil, false
		}
		return n, true
	case '[', '{':
		if off+1 < l.end && b[off+1] == b[off]+2 && onlyCommentAfter(b[off+2:l.end]) {
			n := p.node()
			n.Kind = yaml.SequenceNode
			if b[off] == '{' {
				n.Kind = yaml.MappingNode
			}
			n.Style = yaml.FlowStyle
			n.Line, n.Column = int32(l.num), p.column(l, off)
			return n, true
		}
		return nil, false
	}
	if !plainStart(b, off, l.end) {
		return nil, false
	}
	end := l.end
	for i := off; i < l.end; i++ {
		switch b[i] {
		case ':':
			if i+1 == l.end || b[i+1] == ' ' {
				return nil, false // a mapping in a value's place
			}
		case '#':
			if b[i-1] == ' ' {
				end = i
				i = l.end
			}
		}
	}
	for end > off && b[end-1] == ' ' {
		end--
	}
	return p.scalar(l, off, string(b[off:end])), true
}

// onlyCommentAfter reports whether s, following a node on its line, is
// spaces, then nothing or a comment after at least one space.
func onlyCommentAfter(s []byte) bool {
	i := 0
	for i < len(s) && s[i] == ' ' {
		i++
	}
	return i == len(s) || (i > 0 && s[i] == '#')
}

// plainStart reports whether a plain scalar may start at off: not with an
// indicator, except "-" not followed by a space.
func plainStart(b []byte, off, end int) bool {
	switch b[off] {
	case '-':
		return off+1 < end && b[off+1] != ' '
	case '?', ':', ',', '[', ']', '{', '}', '#', '&', '*', '!', '|', '>', '\'', '"', '%', '@', '`':
		return false
	}
	return true
}

func (p *parser) scalar(l line, off int, value string) *Node {
	n := p.node()
	n.Kind = yaml.ScalarNode
	n.Value = value
	n.Line, n.Column = int32(l.num), p.column(l, off)
	return n
}

// quoted reads a quoted scalar that ends on its line, and returns the
// offset after its closing quote, spaces skipped.
func (p *parser) quoted(l line, off int) (*Node, int, bool) {
	b := p.src
	q := b[off]
	special := `"\\`
	if q == '\'' {
		special = "'"
	}
	// The text is copied in runs between escapes; most scalars have none.
	var value []byte
	escaped := false
	run := off + 1
	i := run
	for {
		j := bytes.IndexAny(b[i:l.end], special)
		if j < 0 {
			return nil, 0, false // continued on the next line
		}
		i += j
		if b[i] == q && (q == '"' || i+1 >= l.end || b[i+1] != '\'') {
			break
		}
		value = append(value, b[run:i]...)
		escaped = true
		if q == '\'' {
			value = append(value, '\'')
			i += 2
		} else {
			var ok bool
			if value, i, ok = unescape(value, b, i, l.end); !ok {
				return nil, 0, false
			}
			i++
		}
		run = i
	}
	var s string
	if escaped {
		s = string(append(value, b[run:i]...))
	} else {
		s = string(b[off+1 : i])
	}
	n := p.scalar(l, off, s)
	n.Style = yaml.DoubleQuotedStyle
	if q == '\'' {
		n.Style = yaml.SingleQuotedStyle
	}
	after := i + 1
	for after < l.end && b[after] == ' ' {
		after++
	}
	if after < l.end && after == i+1 && b[after] == '#' {
		return nil, 0, false
	}
	return n, after, true
}

// unescape appends the character that the escape at b[i] ('\\') stands for
// and returns the offset of the escape's last byte. It declines escapes of
// line breaks and of characters YAML readers refuse.
func unescape(value, b []byte, i, end int) ([]byte, int, bool) {
	if i+1 >= end {
		return nil, 0, false
	}
	var r rune
	digits := 0
	switch b[i+1] {
	case '0':
		r = 0
	case 'a':
		r = '\a'
	case 'b':
		r = '\b'
	case 't':
		r = '\t'
	case 'n':
		r = '\n'
	case 'v':
		r = '\v'
	case 'f':
		r = '\f'
	case 'r':
		r = '\r'
	case 'e':
		r = 0x1b
	case ' ':
		r = ' '
	case '"':
		r = '"'
	case '\'':
		r = '\''
	case '\\':
		r = '\\'
	case 'N':
		r = 0x85
	case '_':
		r = 0xa0
	case 'L':
		r = 0x2028
	case 'P':
		r = 0x2029
	case 'x':
		digits = 2
	case 'u':
		digits = 4
	case 'U':
		digits = 8
	default:
		return nil, 0, false
	}
	if digits == 0 {
		return utf8.AppendRune(value, r), i + 1, true
	}
	if i+1+digits >= end {
		return nil, 0, false
	}
	for _, c := range b[i+2 : i+2+digits] {
		var d rune
		switch {
		case c >= '0' && c <= '9':
			d = rune(c - '0')
		case c >= 'a' && c <= 'f':
			d = rune(c-'a') + 10
		case c >= 'A' && c <= 'F':
			d = rune(c-'A') + 10
		default:
			return nil, 0, false
		}
		r = r<<4 | d
	}
	if (r >= 0xd800 && r <= 0xdfff) || r > 0x10ffff {
		return nil, 0, false
	}
	return utf8.AppendRune(value, r), i + 1 + digits, true
}
