package mutate

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"strings"
)

// WriteText writes one line per survivor, error and timeout
// (FILE:LINE:COL: status: operator: original -> mutated in RULE, and the
// suggestion or error), then the score line.
func WriteText(w io.Writer, r *Report) error {
	var b strings.Builder
	for _, m := range r.Mutants {
		if m.Status == Killed {
			continue
		}
		fmt.Fprintf(&b, "%s:%d:%d: %s: %s: %s -> %s in %s", m.File, m.Line, m.Column, m.Status, m.Operator, shown(m.Original), shown(m.Mutated), m.Rule)
		switch {
		case m.Suggestion != "":
			b.WriteString(": " + m.Suggestion)
		case m.Error != "":
			b.WriteString(": " + oneLine(m.Error))
		}
		b.WriteByte('\n')
	}
	b.WriteString(ScoreLine(r) + "\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// ScoreLine words the score and the counts: "mutation score: 75.0% (3
// killed, 1 survived, 0 errors, 0 timeouts; 4 mutants)".
func ScoreLine(r *Report) string {
	score := "n/a"
	if r.Score != nil {
		score = fmt.Sprintf("%.1f%%", *r.Score)
	}
	return fmt.Sprintf("mutation score: %s (%d killed, %d survived, %d errors, %d timeouts; %d mutants)",
		score, r.Count(Killed), r.Count(Survived), r.Count(Error), r.Count(Timeout), len(r.Mutants))
}

// shown writes a mutant's text for a one-line report: quoted, "(none)"
// when empty.
func shown(s string) string {
	if s == "" {
		return "(none)"
	}
	return "`" + oneLine(s) + "`"
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// WriteJSON writes the report as {"mutants":[...],"score":...}, the score
// in percent rounded to two decimals (null when nothing was scored).
func WriteJSON(w io.Writer, r *Report) error {
	out := *r
	if r.Score != nil {
		s := math.Round(*r.Score*100) / 100
		out.Score = &s
	}
	if out.Mutants == nil {
		out.Mutants = []Result{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

type junitSuites struct {
	XMLName xml.Name     `xml:"testsuites"`
	Suites  []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Errors   int         `xml:"errors,attr"`
	Skipped  int         `xml:"skipped,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Failure   *junitMessage `xml:"failure,omitempty"`
	Skipped   *junitMessage `xml:"skipped,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitMessage struct {
	Message string `xml:"message,attr"`
	Text    string `xml:",chardata"`
}

// WriteJUnit writes one test case per mutant, in one suite per rule file:
// a survivor is a failure, an error or a timeout is skipped (neither
// counts in the score), a killed mutant passes and names its killers.
func WriteJUnit(w io.Writer, r *Report) error {
	var suites junitSuites
	index := map[string]int{}
	for _, m := range r.Mutants {
		i, ok := index[m.File]
		if !ok {
			i = len(suites.Suites)
			index[m.File] = i
			suites.Suites = append(suites.Suites, junitSuite{Name: "mutants of " + m.File})
		}
		s := &suites.Suites[i]
		c := junitCase{Classname: m.Rule,
			Name: fmt.Sprintf("%s:%d:%d %s: %s -> %s", m.File, m.Line, m.Column, m.Operator, shown(m.Original), shown(m.Mutated))}
		switch m.Status {
		case Survived:
			c.Failure = &junitMessage{Message: "survived", Text: m.Suggestion}
			s.Failures++
		case Error, Timeout:
			c.Skipped = &junitMessage{Message: string(m.Status) + ": " + oneLine(m.Error)}
			s.Skipped++
		case Killed:
			c.SystemOut = "killed by " + strings.Join(m.KilledBy, ", ")
		}
		s.Tests++
		s.Cases = append(s.Cases, c)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(suites); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}
