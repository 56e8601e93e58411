package rulefile

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Error is one problem found in a file, with its position when known.
// Line and Column are 1-based; zero means unknown.
type Error struct {
	File   string
	Line   int
	Column int
	Msg    string
}

// Error formats the problem as file:line:col: message.
func (e Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
		if e.Column > 0 {
			fmt.Fprintf(&b, ":%d", e.Column)
		}
	}
	b.WriteString(": ")
	b.WriteString(e.Msg)
	return b.String()
}

// ErrorList holds every problem found in one or more files.
type ErrorList []Error

// Error joins the problems, one per line.
func (l ErrorList) Error() string {
	parts := make([]string, len(l))
	for i, e := range l {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "\n")
}

// Errors returns the problems as plain errors, in order.
func (l ErrorList) Errors() []error {
	out := make([]error, len(l))
	for i, e := range l {
		out[i] = e
	}
	return out
}

var (
	// rulefmt prefixes node errors with "line:col: " and sometimes a second "line:col: ".
	rulefmtPos = regexp.MustCompile(`^(\d+):(\d+): (?:\d+:\d+: )?`)
	// yaml.v3 reports "yaml: line N: msg", "line N: msg" or "line N, column C: msg".
	yamlPos = regexp.MustCompile(`^(?:yaml: )?line (\d+)(?:, column (\d+))?: `)
)

// fromMessage turns a message that may start with a position into an Error.
// lineOffset is added to line numbers that come from a re-based document.
func fromMessage(file, msg string, lineOffset int) []Error {
	msg = strings.TrimSpace(msg)
	if strings.HasPrefix(msg, "yaml: unmarshal errors:") {
		var out []Error
		for _, l := range strings.Split(msg, "\n")[1:] {
			if l = strings.TrimSpace(l); l != "" {
				out = append(out, fromMessage(file, l, lineOffset)...)
			}
		}
		return out
	}
	if m := rulefmtPos.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		col, _ := strconv.Atoi(m[2])
		return []Error{{File: file, Line: line + lineOffset, Column: col, Msg: msg[len(m[0]):]}}
	}
	if m := yamlPos.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		col, _ := strconv.Atoi(m[2])
		return []Error{{File: file, Line: line + lineOffset, Column: col, Msg: "yaml: " + msg[len(m[0]):]}}
	}
	return []Error{{File: file, Msg: msg}}
}
