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

// fromMessage turns a loader's message about the source src, which may
// list several problems and start each with a position, into Errors. A
// problem with a line but no column gets one from src (yamlpos.Columns);
// callers fold the decoder's problems of a file into one (foldDecoder).
func fromMessage(file string, src []byte, msg string) []Error {
	var out []Error
	for _, m := range yamlpos.Columns(src, yamlpos.Messages(msg)) {
		switch p := rulefmtPos.FindStringSubmatch(m.Msg); {
		case m.Line > 0:
			out = append(out, Error{File: file, Line: m.Line, Column: m.Column, Msg: "yaml: " + m.Msg})
		case p != nil:
			line, _ := strconv.Atoi(p[1])
			col, _ := strconv.Atoi(p[2])
			out = append(out, Error{File: file, Line: line, Column: col, Msg: m.Msg[len(p[0]):]})
		case strings.HasPrefix(m.Msg, "yaml: "):
			// The decoder could not read the file at all (an encoding
			// error): the file's start is the place to look.
			out = append(out, Error{File: file, Line: 1, Column: 1, Msg: m.Msg})
		default:
			out = append(out, Error{File: file, Msg: m.Msg})
		}
	}
	return out
}

// fromDecoder reports whether e is a problem the YAML decoder placed.
func fromDecoder(e Error) bool {
	return e.Line > 0 && e.Limit == nil && strings.HasPrefix(e.Msg, "yaml: ")
}

// foldDecoder folds the YAML decoder's problems in l into the first of
// them, which says how many more there were (yamlpos.Fold): an unknown
// field repeated by aliases, or met by each of rulefmt's decodings, is one
// problem. The other problems are kept as they are.
// With every, only repeats of one problem at one place are dropped, and
// each distinct problem is kept (Loader.EveryProblem).
func foldDecoder(l []Error, every bool) []Error {
	if every {
		type key struct {
			line, col int
			msg       string
		}
		seen := map[key]bool{}
		var out []Error
		for _, e := range l {
			if fromDecoder(e) {
				k := key{e.Line, e.Column, e.Msg}
				if seen[k] {
					continue
				}
				seen[k] = true
			}
			out = append(out, e)
		}
		return out
	}
	var ms []yamlpos.Message
	first := -1
	for i, e := range l {
		if fromDecoder(e) {
			if first < 0 {
				first = i
			}
			ms = append(ms, yamlpos.Message{Line: e.Line, Column: e.Column, Msg: e.Msg})
		}
	}
	if len(ms) <= 1 {
		return l
	}
	f := yamlpos.Fold(ms)[0]
	var out []Error
	for i, e := range l {
		switch {
		case i == first:
			e.Line, e.Column, e.Msg = f.Line, f.Column, f.Msg
			out = append(out, e)
		case !fromDecoder(e):
			out = append(out, e)
		}
	}
	return out
}
