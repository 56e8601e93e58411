// Package lint is the gotk-rules linter: it loads rule files with positions,
// runs checks on each file, group and rule, applies the configuration and
// the in-file suppressions, and returns findings at file:line:col.
//
// A check is a small type with a name "area/name", a default severity and one
// of the methods CheckFile, CheckGroup or CheckRule. The checks themselves
// live in lint/checks, one per file; the output formats in lint/report.
package lint

import (
	"cmp"
	"fmt"
	"strings"

	"github.com/gotk-rules/gotk-rules/lint/source"
)

// Severity grades a finding.
type Severity int

// The severities, in increasing order.
const (
	Info Severity = iota + 1
	Warning
	Error
)

// Severities lists the severity names, lowest first.
var Severities = []string{"info", "warning", "error"}

func (s Severity) String() string {
	if s >= Info && s <= Error {
		return Severities[s-1]
	}
	return fmt.Sprintf("severity(%d)", int(s))
}

// ParseSeverity reads "info", "warning" or "error".
func ParseSeverity(s string) (Severity, error) {
	for i, n := range Severities {
		if strings.EqualFold(s, n) {
			return Severity(i + 1), nil
		}
	}
	return 0, fmt.Errorf("unknown severity %q (want %s)", s, strings.Join(Severities, ", "))
}

// MarshalText writes the severity's name.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Finding is one problem at one place.
type Finding struct {
	File     string
	Line     int
	Column   int
	Check    string
	Severity Severity
	Message  string
}

// Meta describes a check.
type Meta struct {
	Name     string   // "area/name"
	Severity Severity // default severity
	Summary  string   // what the check finds, one sentence
}

// DocPath is the check's documentation page, relative to the repository.
func (m Meta) DocPath() string {
	return "docs/checks/" + strings.ReplaceAll(m.Name, "/", "-") + ".md"
}

// Check is anything with a Meta that also implements FileCheck, GroupCheck
// or RuleCheck.
type Check interface {
	Meta() Meta
}

// FileCheck runs once per file, even one that did not load.
type FileCheck interface {
	Check
	CheckFile(f *File, r *Reporter)
}

// GroupCheck runs on every group of a file that loaded.
type GroupCheck interface {
	Check
	CheckGroup(g *Group, r *Reporter)
}

// RuleCheck runs on every rule of a file that loaded.
type RuleCheck interface {
	Check
	CheckRule(rule *Rule, r *Reporter)
}

// Reporter records the findings of one check on one file.
type Reporter struct {
	file     *File
	check    string
	severity Severity
	out      *[]Finding
}

// Report records a finding at p; a position without a line is the file's
// first line.
func (r *Reporter) Report(p source.Pos, format string, args ...any) {
	if p.Line <= 0 {
		p = source.Pos{Line: 1, Column: 1}
	}
	if p.Column <= 0 {
		p.Column = 1
	}
	*r.out = append(*r.out, Finding{
		File: r.file.Path, Line: p.Line, Column: p.Column,
		Check: r.check, Severity: r.severity, Message: fmt.Sprintf(format, args...),
	})
}

// Compare orders findings by file, line, column, check and message.
func Compare(a, b Finding) int {
	return cmp.Or(
		cmp.Compare(a.File, b.File),
		cmp.Compare(a.Line, b.Line),
		cmp.Compare(a.Column, b.Column),
		cmp.Compare(a.Check, b.Check),
		cmp.Compare(a.Message, b.Message),
	)
}
