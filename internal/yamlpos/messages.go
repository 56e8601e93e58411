package yamlpos

import (
	"bytes"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Message is one problem a YAML decoder reported, with the position it
// gave; Line and Column are 1-based, zero when not given.
type Message struct {
	Line, Column int
	// Msg is the text after the position; a problem without a position
	// keeps its message whole.
	Msg string
}

// position is how go-yaml and Prometheus' loaders start a message: "line
// N: ", "line N:C: " or "line N, column C: ", after an optional "yaml: ".
var position = regexp.MustCompile(`^(?:yaml: )?line (\d+)(?::(\d+)|, column (\d+))?: `)

// Messages splits a YAML error message into its problems: go-yaml's
// "yaml: unmarshal errors:" lists one per line.
func Messages(msg string) []Message {
	msg = strings.TrimSpace(msg)
	lines := []string{msg}
	if rest, ok := strings.CutPrefix(msg, "yaml: unmarshal errors:"); ok {
		lines = strings.Split(rest, "\n")
	}
	var out []Message
	for _, l := range lines {
		if l = strings.TrimSpace(l); l == "" {
			continue
		}
		m := position.FindStringSubmatch(l)
		if m == nil {
			out = append(out, Message{Msg: l})
			continue
		}
		line, _ := strconv.Atoi(m[1])
		col, _ := strconv.Atoi(m[2] + m[3]) // at most one is set
		out = append(out, Message{Line: line, Column: col, Msg: l[len(m[0]):]})
	}
	return out
}

// In formats the problem as file:line:col: message, leaving out what is
// unknown.
func (m Message) In(file string) string {
	var b strings.Builder
	b.WriteString(file)
	if m.Line > 0 {
		b.WriteString(":" + strconv.Itoa(m.Line))
		if m.Column > 0 {
			b.WriteString(":" + strconv.Itoa(m.Column))
		}
	}
	return b.String() + ": " + m.Msg
}

// unknownField is go-yaml's message for a mapping key the target type does
// not have; it gives the key's line only.
var unknownField = regexp.MustCompile(`^field (.+) not found in type \S+$`)

// Place completes the positions of problems a decoder reported about the
// source b, so each can be worded file:line:col: a problem with a line but
// no column gets, when it is an unknown field, the column of that key on
// its line, and otherwise the column of the line's first non-blank
// character; a problem without a line is placed at the first non-blank
// character of the first line. The result is then folded (see Fold).
func Place(b []byte, ms []Message) []Message {
	ms = Columns(b, ms)
	for i := range ms {
		if ms[i].Line <= 0 {
			ms[i].Line, ms[i].Column = 1, firstNonBlank(lineText(b, 1))
		}
	}
	return Fold(ms)
}

// Columns gives each problem that has a line but no column a column in
// the source b, as Place does, and leaves the others as they are.
func Columns(b []byte, ms []Message) []Message {
	out := make([]Message, len(ms))
	for i, m := range ms {
		if m.Line > 0 && m.Column <= 0 {
			text := lineText(b, m.Line)
			m.Column = firstNonBlank(text)
			if f := unknownField.FindStringSubmatch(m.Msg); f != nil {
				if c, ok := keyColumn(text, f[1]); ok {
					m.Column = c
				}
			}
		}
		out[i] = m
	}
	return out
}

// Fold drops repeated problems (the same message at the same position, as
// aliases expanded many times give) and, when more than one is left,
// keeps the first only, its message saying how many more there were: a
// file's bad input is one line.
func Fold(ms []Message) []Message {
	seen := make(map[Message]bool, len(ms))
	var out []Message
	for _, m := range ms {
		if !seen[m] {
			seen[m] = true
			out = append(out, m)
		}
	}
	if len(out) <= 1 {
		return out
	}
	first := out[0]
	if n := len(out) - 1; n == 1 {
		first.Msg += " (and 1 more error)"
	} else {
		first.Msg += " (and " + strconv.Itoa(n) + " more errors)"
	}
	return []Message{first}
}

// lineText returns the text of b's 1-based line n without its line break,
// or "" when b has fewer lines.
func lineText(b []byte, n int) string {
	for ; n > 1; n-- {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			return ""
		}
		b = b[i+1:]
	}
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		b = b[:i]
	}
	return strings.TrimSuffix(string(b), "\r")
}

// firstNonBlank returns the 1-based column (in characters) of the first
// character of text that is not a space or a tab, or 1 when there is none.
func firstNonBlank(text string) int {
	i := strings.IndexFunc(text, func(r rune) bool { return r != ' ' && r != '\t' })
	if i < 0 {
		return 1
	}
	return utf8.RuneCountInString(text[:i]) + 1
}

// keyColumn finds key written as a mapping key on a line: the name, plain
// or quoted, followed by a colon.
func keyColumn(text, key string) (int, bool) {
	for _, k := range []string{key, `"` + key + `"`, "'" + key + "'"} {
		for from := 0; ; {
			i := strings.Index(text[from:], k)
			if i < 0 {
				break
			}
			i += from
			rest := strings.TrimLeft(text[i+len(k):], " \t")
			before := strings.TrimRight(text[:i], " \t")
			starts := before == "" || strings.ContainsAny(before[len(before)-1:], "{,-?")
			if starts && strings.HasPrefix(rest, ":") {
				return utf8.RuneCountInString(text[:i]) + 1, true
			}
			from = i + len(k)
		}
	}
	return 0, false
}
