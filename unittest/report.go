package unittest

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/prometheus/util/junitxml"
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
		}
	}
	c := res.Counts()
	fmt.Fprintf(w, "\n%d files, %d groups: %d passed, %d failed", c.Files, c.Groups, c.Passed, c.Failed+c.BadInput)
	if c.BadInput > 0 {
		fmt.Fprintf(w, " (%d with bad input)", c.BadInput)
	}
	_, err := fmt.Fprintln(w)
	return err
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
func WriteJUnit(w io.Writer, res *Result, now time.Time) error {
	j := &junitxml.JUnitXML{}
	for _, f := range res.Files {
		ts := j.Suite(f.File)
		ts.Settime(now.Format("2006-01-02T15:04:05"))
		if f.Error != "" {
			ts.Abort(fmt.Errorf("%s", f.Error))
			continue
		}
		for _, g := range f.Groups {
			tc := ts.Case(g.Name)
			for _, e := range g.Errors {
				tc.Fail(e)
			}
		}
	}
	return j.WriteXML(w)
}
