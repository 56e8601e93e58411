package unittest

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
)

// WriteText prints results for people: a line per group, then for each
// failed group its errors and its failed assertions with their file:line,
// expected and got (or a diff of them), and a summary line.
func WriteText(w io.Writer, res *Result, diff bool) error {
	for _, f := range res.Files {
		fmt.Fprintf(w, "%s\n", f.File)
		if f.Error != "" {
			fmt.Fprintf(w, "  ERROR  %s\n", indentLines(f.Error, "         "))
			continue
		}
		writeWarnings(w, "  ", f.File, f.Warnings)
		if len(f.Groups) == 0 {
			fmt.Fprintf(w, "  (no test group selected)\n")
		}
		for _, g := range f.Groups {
			status := "PASS "
			switch {
			case g.BadInput:
				status = "ERROR"
			case !g.Passed:
				status = "FAIL "
			}
			fmt.Fprintf(w, "  %s  %s (%s)\n", status, g.Name, g.Duration.Round(time.Millisecond))
			if !g.Passed {
				writeFailures(w, f.File, g, diff)
			}
			writeWarnings(w, "      ", f.File, g.Warnings)
		}
	}
	c := res.Counts()
	fmt.Fprintf(w, "\n%d files, %d groups: %d passed, %d failed", c.Files, c.Groups, c.Passed, c.Failed+c.BadInput)
	if c.BadInput > 0 {
		fmt.Fprintf(w, " (%d with bad input)", c.BadInput)
	}
	if n := res.Warnings(); n > 0 {
		fmt.Fprintf(w, ", %d warnings", n)
		if res.strict {
			fmt.Fprintf(w, " (failures with --strict)")
		}
	}
	_, err := fmt.Fprintln(w)
	return err
}

// writeWarnings prints warnings as promtool prints its own ("WARNING: "
// and its words), each after its place in the test file and before its check.
func writeWarnings(w io.Writer, indent, file string, ws []Warning) {
	for _, x := range ws {
		fmt.Fprintf(w, "%sWARNING: %s\n", indent, x.String(file))
	}
}

// writeFailures prints a failed group's own errors, then each failed
// assertion: where it is, what was expected and what came.
func writeFailures(w io.Writer, file string, g *GroupResult, diff bool) {
	for _, e := range g.other {
		fmt.Fprintf(w, "      %s\n", indentLines(strings.TrimSpace(e), "      "))
	}
	for _, a := range g.Assertions {
		if a.Passed || !a.Checked {
			continue
		}
		what := "expr " + strconv.Quote(a.Expr)
		if a.Kind != "expr" {
			what = "alert " + a.Alertname
		}
		fmt.Fprintf(w, "      %s:%d: %s at %s: %s\n", file, a.Line, what, a.EvalTime, a.Error)
		if a.Expected == nil && a.Got == nil {
			continue
		}
		exp, got := objectLines(a.Expected), objectLines(a.Got)
		if diff {
			fmt.Fprintf(w, "        - expected, + got:\n")
			for _, l := range lineDiff(exp, got) {
				fmt.Fprintf(w, "        %s\n", l)
			}
			continue
		}
		writeObjects(w, "expected:", exp)
		writeObjects(w, "got:     ", got)
	}
}

func writeObjects(w io.Writer, title string, lines []string) {
	if len(lines) == 0 {
		fmt.Fprintf(w, "        %s (nothing)\n", title)
		return
	}
	for i, l := range lines {
		if i > 0 {
			title = strings.Repeat(" ", len(title))
		}
		fmt.Fprintf(w, "        %s %s\n", title, l)
	}
}

// objectLines renders alerts or samples one per line, for diffing.
func objectLines(objs []Object) []string {
	out := make([]string, 0, len(objs))
	for _, o := range objs {
		out = append(out, o.String())
	}
	return out
}

// String words an alert or a sample on one line, as the reports and the
// sandbox show it: its labels, then its histogram or value, then its
// annotations, names sorted, values quoted.
func (o Object) String() string {
	var b strings.Builder
	b.WriteString(mapString(o.Labels))
	if o.Histogram != "" {
		b.WriteString(" " + o.Histogram)
	} else if o.Value != nil {
		b.WriteString(" " + strconv.FormatFloat(float64(*o.Value), 'g', -1, 64))
	}
	if len(o.Annotations) > 0 {
		b.WriteString(" annotations" + mapString(o.Annotations))
	}
	return b.String()
}

func mapString(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + strconv.Quote(m[k])
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// lineDiff returns a minimal line diff: " " kept, "-" only in a, "+" only in b.
func lineDiff(a, b []string) []string {
	n, m := len(a), len(b)
	lcs := make([][]int, n+1)
	for i := range lcs {
		lcs[i] = make([]int, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var out []string
	i, j := 0, 0
	for i < n || j < m {
		switch {
		case i < n && j < m && a[i] == b[j]:
			out = append(out, "  "+a[i])
			i++
			j++
		case i < n && (j == m || lcs[i+1][j] >= lcs[i][j+1]):
			out = append(out, "- "+a[i])
			i++
		default:
			out = append(out, "+ "+b[j])
			j++
		}
	}
	if len(out) == 0 {
		out = append(out, "  (nothing)")
	}
	return out
}

// Float is a sample value that encodes NaN and infinities as JSON strings.
type Float float64

// MarshalJSON writes finite values as numbers, others as "NaN", "+Inf", "-Inf".
func (f Float) MarshalJSON() ([]byte, error) {
	v := float64(f)
	switch {
	case math.IsNaN(v):
		return []byte(`"NaN"`), nil
	case math.IsInf(v, 1):
		return []byte(`"+Inf"`), nil
	case math.IsInf(v, -1):
		return []byte(`"-Inf"`), nil
	}
	return json.Marshal(v)
}

// WriteJSON prints results for machines.
func WriteJSON(w io.Writer, res *Result) error {
	c := res.Counts()
	out := struct {
		*Result
		Summary Counts `json:"summary"`
	}{res, c}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// WriteJUnit writes promtool's JUnit XML: a testsuite per file, a testcase
// per group, a failure per error; a file that cannot run is an aborted suite.
// Warnings, which promtool prints on stderr, are in a system-out element:
// the suite's for the file's own, the test case's for a group's.
func WriteJUnit(w io.Writer, res *Result, now time.Time) error {
	j := &junitSuites{}
	for _, f := range res.Files {
		ts := &junitSuite{Name: f.File, Timestamp: now.Format("2006-01-02T15:04:05"), SystemOut: junitWarnings(f.File, f.Warnings)}
		j.Suites = append(j.Suites, ts)
		if f.Error != "" {
			ts.ErrorCount++
			ts.Cases = append(ts.Cases, &junitCase{Name: "unknown", Error: f.Error})
			ts.TestCount++
			continue
		}
		for _, g := range f.Groups {
			tc := &junitCase{Name: g.Name, Failures: g.Errors, SystemOut: junitWarnings(f.File, g.Warnings)}
			ts.Cases = append(ts.Cases, tc)
			ts.TestCount++
			ts.FailureCount += len(g.Errors)
		}
	}
	return xml.NewEncoder(w).Encode(j)
}

// junitSuites and the types below are promtool's JUnit XML
// (util/junitxml), with a system-out element for warnings.
type junitSuites struct {
	XMLName xml.Name      `xml:"testsuites"`
	Suites  []*junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name         string       `xml:"name,attr"`
	TestCount    int          `xml:"tests,attr"`
	FailureCount int          `xml:"failures,attr"`
	ErrorCount   int          `xml:"errors,attr"`
	SkippedCount int          `xml:"skipped,attr"`
	Timestamp    string       `xml:"timestamp,attr"`
	Cases        []*junitCase `xml:"testcase"`
	SystemOut    string       `xml:"system-out,omitempty"`
}

type junitCase struct {
	Name      string   `xml:"name,attr"`
	Failures  []string `xml:"failure,omitempty"`
	Error     string   `xml:"error,omitempty"`
	SystemOut string   `xml:"system-out,omitempty"`
}

// junitWarnings words warnings for a system-out element, a line each.
func junitWarnings(file string, ws []Warning) string {
	var b strings.Builder
	for _, x := range ws {
		b.WriteString("WARNING: " + x.String(file) + "\n")
	}
	return b.String()
}
