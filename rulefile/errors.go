package rulefile

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/gotk-rules/gotk-rules/guard"
	"github.com/gotk-rules/gotk-rules/internal/yamlpos"
)

// Error is one problem found in a file, with its position when known.
// Line and Column are 1-based; zero means unknown.
type Error struct {
	File   string
	Line   int
	Column int
	Msg    string
	// Limit is the guard limit the problem is, when it is one: Msg holds
	// its message, and callers word how to raise it (budget.Explain).
	Limit *guard.PosError
}

// Error formats the problem as file:line:col: message.
func (e Error) Error() string {
	return yamlpos.Message{Line: e.Line, Column: e.Column, Msg: e.Msg}.In(e.File)
}

// Unwrap returns the guard limit the problem is, or nil.
func (e Error) Unwrap() error {
	if e.Limit == nil {
		return nil
	}
	return e.Limit
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

// rulefmtPos is how rulefmt starts node errors: "line:col: ", sometimes twice.
var rulefmtPos = regexp.MustCompile(`^(\d+):(\d+): (?:\d+:\d+: )?`)

// fromMessage turns a loader's message, which may list several problems
// and start each with a position, into Errors.
func fromMessage(file, msg string) []Error {
	var out []Error
	for _, m := range yamlpos.Messages(msg) {
		switch p := rulefmtPos.FindStringSubmatch(m.Msg); {
		case m.Line > 0:
			out = append(out, Error{File: file, Line: m.Line, Column: m.Column, Msg: "yaml: " + m.Msg})
		case p != nil:
			line, _ := strconv.Atoi(p[1])
			col, _ := strconv.Atoi(p[2])
			out = append(out, Error{File: file, Line: line, Column: col, Msg: m.Msg[len(p[0]):]})
		default:
			out = append(out, Error{File: file, Msg: m.Msg})
		}
	}
	return out
}
