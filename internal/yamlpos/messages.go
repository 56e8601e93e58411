package yamlpos

import (
	"regexp"
	"strconv"
	"strings"
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
