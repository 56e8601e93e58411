// Package report writes lint findings for people (text with the source line
// and a caret) and for machines: JSON, SARIF 2.1.0, GitHub workflow commands,
// Checkstyle XML and GitLab Code Quality (Code Climate) JSON.
package report

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gotk-rules/gotk-rules/lint"
)

// Formats lists the names Write accepts.
var Formats = []string{"text", "json", "sarif", "github", "checkstyle", "codeclimate"}

// Lines returns line n (1-based) of a file, or "" when unknown.
type Lines func(file string, n int) string

// Options are what some formats need besides the findings.
type Options struct {
	// Files are the files linted, in order (checkstyle lists each).
	Files []string
	// Checks describe every check (SARIF lists them as rules).
	Checks []lint.Meta
	// Severity gives a check's configured severity (SARIF's rule level).
	Severity func(check string) (lint.Severity, bool)
	// Lines gives source lines for the text format's excerpt.
	Lines Lines
	// Color writes the text format with ANSI colours.
	Color bool
	// DocURL is the base of the check documentation links (SARIF helpUri):
	// the page of check a/b is DocURL + "a-b.md".
	DocURL string
}

// Write writes findings in format.
func Write(w io.Writer, format string, findings []lint.Finding, o Options) error {
	switch format {
	case "text":
		return Text(w, findings, o)
	case "json":
		return JSON(w, findings)
	case "sarif":
		return SARIF(w, findings, o)
	case "github":
		return GitHub(w, findings)
	case "checkstyle":
		return Checkstyle(w, findings, o)
	case "codeclimate":
		return CodeClimate(w, findings)
	}
	return fmt.Errorf("unknown format %q (want %s)", format, strings.Join(Formats, ", "))
}

const (
	ansiReset  = "\x1b[0m"
	ansiBold   = "\x1b[1m"
	ansiDim    = "\x1b[2m"
	ansiRed    = "\x1b[31m"
	ansiYellow = "\x1b[33m"
	ansiCyan   = "\x1b[36m"
	ansiGreen  = "\x1b[32m"
)

// Text writes one finding per block: "file:line:col: severity: message
// [check]", then the source line and a caret under the column.
func Text(w io.Writer, findings []lint.Finding, o Options) error {
	paint := func(code, s string) string {
		if !o.Color {
			return s
		}
		return code + s + ansiReset
	}
	sevColor := map[lint.Severity]string{lint.Error: ansiRed + ansiBold, lint.Warning: ansiYellow + ansiBold, lint.Info: ansiCyan + ansiBold}
	var b strings.Builder
	for _, f := range findings {
		fmt.Fprintf(&b, "%s %s %s %s\n",
			paint(ansiBold, fmt.Sprintf("%s:%d:%d:", f.File, f.Line, f.Column)),
			paint(sevColor[f.Severity], f.Severity.String()+":"),
			f.Message,
			paint(ansiDim, "["+f.Check+"]"))
		if o.Lines == nil {
			continue
		}
		line := o.Lines(f.File, f.Line)
		if strings.TrimSpace(line) == "" {
			continue
		}
		text, caret := excerpt(line, f.Column)
		gutter := strconv.Itoa(f.Line)
		fmt.Fprintf(&b, "%s %s %s\n", paint(ansiDim, gutter), paint(ansiDim, "|"), text)
		fmt.Fprintf(&b, "%s %s %s\n", strings.Repeat(" ", len(gutter)), paint(ansiDim, "|"), paint(ansiGreen+ansiBold, caret+"^"))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// excerptWidth is the most characters of a line shown; longer lines are cut
// around the column.
const excerptWidth = 140

// excerpt returns the line (cut around column col when long) and the
// padding that puts a caret under col, keeping tabs so it lines up.
func excerpt(line string, col int) (string, string) {
	runes := []rune(line)
	idx := col - 1
	if idx > len(runes) {
		idx = len(runes)
	}
	if idx < 0 {
		idx = 0
	}
	prefix, suffix := "", ""
	if len(runes) > excerptWidth {
		start := max(0, idx-excerptWidth/2)
		end := min(len(runes), start+excerptWidth)
		if end == len(runes) {
			start = max(0, end-excerptWidth)
		}
		if start > 0 {
			prefix = "..."
		}
		if end < len(runes) {
			suffix = "..."
		}
		runes, idx = runes[start:end], idx-start
	}
	var pad strings.Builder
	pad.WriteString(strings.Repeat(" ", utf8.RuneCountInString(prefix)))
	for _, r := range runes[:idx] {
		if r == '\t' {
			pad.WriteByte('\t')
		} else {
			pad.WriteByte(' ')
		}
	}
	return prefix + string(runes) + suffix, pad.String()
}

type jsonFinding struct {
	File     string `json:"file"`
	Line     int    `json:"line"`
	Column   int    `json:"column"`
	Check    string `json:"check"`
	Severity string `json:"severity"`
	Message  string `json:"message"`
}

// JSON writes {"findings":[{"file","line","column","check","severity","message"}]}.
func JSON(w io.Writer, findings []lint.Finding) error {
	out := struct {
		Findings []jsonFinding `json:"findings"`
	}{Findings: []jsonFinding{}}
	for _, f := range findings {
		out.Findings = append(out.Findings, jsonFinding{f.File, f.Line, f.Column, f.Check, f.Severity.String(), f.Message})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(out)
}

// GitHub writes GitHub Actions workflow commands, one annotation per
// finding: ::error, ::warning or ::notice.
func GitHub(w io.Writer, findings []lint.Finding) error {
	var b strings.Builder
	for _, f := range findings {
		level := map[lint.Severity]string{lint.Error: "error", lint.Warning: "warning", lint.Info: "notice"}[f.Severity]
		fmt.Fprintf(&b, "::%s file=%s,line=%d,col=%d,title=%s::%s\n",
			level, ghProperty(filepath.ToSlash(f.File)), f.Line, f.Column, ghProperty(f.Check), ghData(f.Message))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func ghData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

func ghProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}

// Checkstyle writes Checkstyle XML: a <file> per linted file, an <error>
// per finding.
func Checkstyle(w io.Writer, findings []lint.Finding, o Options) error {
	type cError struct {
		Line     int    `xml:"line,attr"`
		Column   int    `xml:"column,attr"`
		Severity string `xml:"severity,attr"`
		Message  string `xml:"message,attr"`
		Source   string `xml:"source,attr"`
	}
	type cFile struct {
		Name   string   `xml:"name,attr"`
		Errors []cError `xml:"error"`
	}
	type checkstyle struct {
		XMLName xml.Name `xml:"checkstyle"`
		Version string   `xml:"version,attr"`
		Files   []*cFile `xml:"file"`
	}
	doc := checkstyle{Version: "4.3"}
	byName := map[string]*cFile{}
	add := func(name string) *cFile {
		if f, ok := byName[name]; ok {
			return f
		}
		f := &cFile{Name: name}
		byName[name] = f
		doc.Files = append(doc.Files, f)
		return f
	}
	for _, name := range o.Files {
		add(name)
	}
	for _, f := range findings {
		cf := add(f.File)
		cf.Errors = append(cf.Errors, cError{f.Line, f.Column, f.Severity.String(), f.Message, "gotk-rules." + f.Check})
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// fileURI turns a path into a SARIF artifact URI: relative paths stay
// relative (to the repository root, as code scanning wants).
func fileURI(p string) string {
	p = filepath.ToSlash(p)
	if filepath.IsAbs(p) || strings.HasPrefix(p, "/") {
		return (&url.URL{Scheme: "file", Path: p}).String()
	}
	return (&url.URL{Path: p}).EscapedPath()
}
