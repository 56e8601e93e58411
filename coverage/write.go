package coverage

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// WriteText writes the summary as `go test -cover` does: the total, each
// file and each group's percentage, then every rule not covered with what
// it misses.
func WriteText(w io.Writer, rep *Report) error {
	s := rep.Summary
	var b strings.Builder
	if s.Rules == 0 {
		b.WriteString("coverage: [no rules]\n")
		_, err := io.WriteString(w, b.String())
		return err
	}
	fmt.Fprintf(&b, "coverage: %.1f%% of rules (%d of %d covered)\n", s.Percent, s.Covered, s.Rules)
	type row struct {
		name string
		p    Part
	}
	var rows []row
	width := 0
	for _, f := range s.Files {
		rows = append(rows, row{"  " + f.Name, f})
		for _, g := range f.Groups {
			rows = append(rows, row{"    group " + g.Name, g})
		}
	}
	for _, r := range rows {
		width = max(width, len(r.name))
	}
	for _, r := range rows {
		fmt.Fprintf(&b, "%-*s  %5.1f%%  (%d/%d)\n", width, r.name, r.p.Percent, r.p.Covered, r.p.Rules)
	}
	first := true
	for i := range rep.Rules {
		r := &rep.Rules[i]
		if r.Covered {
			continue
		}
		if first {
			b.WriteString("not covered:\n")
			first = false
		}
		fmt.Fprintf(&b, "  %s:%d: %s %s (group %s): %s\n", r.File, r.Line, r.Type, r.Name, r.Group, strings.Join(r.Missing(), "; "))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteJSON writes the report as JSON (docs/coverage.md).
func WriteJSON(w io.Writer, rep *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}

// WriteCobertura writes the report as Cobertura XML for CI coverage
// dashboards: a package per rule file, a class per group, a line per rule
// whose hits are its evaluations when it is covered, 0 when not.
func WriteCobertura(w io.Writer, rep *Report, now time.Time) error {
	s := rep.Summary
	doc := cobertura{
		LineRate: rate(s.Covered, s.Rules), LinesCovered: s.Covered, LinesValid: s.Rules,
		BranchRate: "0", Complexity: "0", Version: "gotk-rules", Timestamp: now.Unix(), Sources: []string{"."},
	}
	i := 0
	for _, f := range s.Files {
		pkg := coberturaPackage{Name: f.Name, LineRate: rate(f.Covered, f.Rules), BranchRate: "0", Complexity: "0"}
		for _, g := range f.Groups {
			cls := coberturaClass{Name: g.Name, Filename: f.Name, LineRate: rate(g.Covered, g.Rules), BranchRate: "0", Complexity: "0", Methods: &struct{}{}}
			for n := 0; n < g.Rules; n++ {
				r := &rep.Rules[i]
				i++
				hits := int64(0)
				if r.Covered {
					hits = r.Evaluations
				}
				cls.Lines = append(cls.Lines, coberturaLine{Number: r.Line, Hits: hits})
			}
			pkg.Classes = append(pkg.Classes, cls)
		}
		doc.Packages = append(doc.Packages, pkg)
	}
	if _, err := io.WriteString(w, xml.Header+`<!DOCTYPE coverage SYSTEM "http://cobertura.sourceforge.net/xml/coverage-04.dtd">`+"\n"); err != nil {
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

// rate is covered out of n as Cobertura's line-rate, 1 when n is 0.
func rate(covered, n int) string {
	if n == 0 {
		return "1"
	}
	return strconv.FormatFloat(float64(covered)/float64(n), 'f', 4, 64)
}

// cobertura and the types below are Cobertura's XML (coverage-04.dtd).
type cobertura struct {
	XMLName         xml.Name           `xml:"coverage"`
	LineRate        string             `xml:"line-rate,attr"`
	BranchRate      string             `xml:"branch-rate,attr"`
	LinesCovered    int                `xml:"lines-covered,attr"`
	LinesValid      int                `xml:"lines-valid,attr"`
	BranchesCovered int                `xml:"branches-covered,attr"`
	BranchesValid   int                `xml:"branches-valid,attr"`
	Complexity      string             `xml:"complexity,attr"`
	Version         string             `xml:"version,attr"`
	Timestamp       int64              `xml:"timestamp,attr"`
	Sources         []string           `xml:"sources>source"`
	Packages        []coberturaPackage `xml:"packages>package"`
}

type coberturaPackage struct {
	Name       string           `xml:"name,attr"`
	LineRate   string           `xml:"line-rate,attr"`
	BranchRate string           `xml:"branch-rate,attr"`
	Complexity string           `xml:"complexity,attr"`
	Classes    []coberturaClass `xml:"classes>class"`
}

type coberturaClass struct {
	Name       string          `xml:"name,attr"`
	Filename   string          `xml:"filename,attr"`
	LineRate   string          `xml:"line-rate,attr"`
	BranchRate string          `xml:"branch-rate,attr"`
	Complexity string          `xml:"complexity,attr"`
	Methods    *struct{}       `xml:"methods"`
	Lines      []coberturaLine `xml:"lines>line"`
}

type coberturaLine struct {
	Number int   `xml:"number,attr"`
	Hits   int64 `xml:"hits,attr"`
}
