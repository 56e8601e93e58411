package unittest

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"flag"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite golden files")

// golden compares got with testdata/NAME, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, got, 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test -update to create it")
	require.Equal(t, string(want), string(got), "%s differs; run go test -update to accept the change", path)
}

func fp(f float64) *Float { v := Float(f); return &v }

// reportResult runs the report test files: a file with passed, failed and
// bad-input groups, a file with no group and a file that cannot run.
// Durations are zeroed so the reports are the same on every run.
func reportResult(t *testing.T) *Result {
	t.Helper()
	r, err := NewRunner(Options{Parallel: 2})
	require.NoError(t, err)
	res := r.Run("testdata/report/report_test.yml", "testdata/report/empty_test.yml", "testdata/report/unknown_fields_test.yml")
	for _, f := range res.Files {
		for _, g := range f.Groups {
			require.NotZero(t, g.Duration, "%s: duration", g.Name)
			g.Duration = 0
		}
	}
	return res
}

func TestWriteText(t *testing.T) {
	var b bytes.Buffer
	require.NoError(t, WriteText(&b, reportResult(t), false))
	golden(t, "report/text.golden", b.Bytes())
}

func TestWriteTextDiff(t *testing.T) {
	var b bytes.Buffer
	require.NoError(t, WriteText(&b, reportResult(t), true))
	golden(t, "report/diff.golden", b.Bytes())
}

func TestWriteJSON(t *testing.T) {
	var b bytes.Buffer
	require.NoError(t, WriteJSON(&b, reportResult(t)))
	golden(t, "report/json.golden", b.Bytes())

	// It is JSON, with NaN and infinities as strings and the summary counts.
	var out struct {
		Files []struct {
			File   string
			Error  string
			Groups []struct {
				Name       string
				Passed     bool
				BadInput   bool `json:"bad_input"`
				Errors     []string
				Assertions []struct {
					Kind     string
					Line     int
					Passed   bool
					Checked  bool
					Expected []struct {
						Labels    map[string]string
						Value     any
						Histogram string
					}
					Got []struct {
						Labels    map[string]string
						Value     any
						Histogram string
					}
				}
			}
		}
		Summary Counts
	}
	require.NoError(t, json.Unmarshal(b.Bytes(), &out))
	require.Equal(t, Counts{Files: 3, Groups: 5, Passed: 1, Failed: 2, BadInput: 2}, out.Summary)
	require.Len(t, out.Files, 3)
	require.Empty(t, out.Files[1].Groups)
	require.Contains(t, out.Files[2].Error, "unknown_fields_test.yml:4:3: field colour not found")
	groups := out.Files[0].Groups
	require.Len(t, groups, 4)
	require.Equal(t, []bool{true, false, false, false}, []bool{groups[0].Passed, groups[1].Passed, groups[2].Passed, groups[3].Passed})
	require.True(t, groups[3].BadInput)
	require.Len(t, groups[1].Assertions, 2)
	require.True(t, groups[1].Assertions[0].Passed)
	require.False(t, groups[1].Assertions[1].Passed)
	require.Equal(t, 21, groups[1].Assertions[1].Line)
	exprs := groups[2].Assertions
	require.Len(t, exprs, 3)
	require.Equal(t, "NaN", exprs[0].Got[0].Value)
	require.Equal(t, 2.0, exprs[0].Expected[0].Value)
	require.Equal(t, "{{count:4 sum:5 buckets:[1 2 2]}}", exprs[1].Expected[0].Histogram)
	require.Nil(t, exprs[1].Expected[0].Value)
	require.Equal(t, "+Inf", exprs[2].Got[0].Value)
	require.True(t, exprs[2].Passed)
}

func TestWriteJUnit(t *testing.T) {
	var b bytes.Buffer
	require.NoError(t, WriteJUnit(&b, reportResult(t), time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)))
	golden(t, "report/junit.golden", b.Bytes())

	var doc struct {
		Suites []struct {
			Name     string `xml:"name,attr"`
			Tests    int    `xml:"tests,attr"`
			Failures int    `xml:"failures,attr"`
			Errors   int    `xml:"errors,attr"`
			Time     string `xml:"timestamp,attr"`
			Cases    []struct {
				Name     string   `xml:"name,attr"`
				Failures []string `xml:"failure"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	require.NoError(t, xml.Unmarshal(b.Bytes(), &doc))
	require.Len(t, doc.Suites, 3)
	s := doc.Suites[0]
	require.Equal(t, "testdata/report/report_test.yml", s.Name)
	require.Equal(t, "2026-01-02T03:04:05", s.Time)
	// promtool's junitxml counts failure elements, not failed cases.
	require.Equal(t, [3]int{4, 4, 0}, [3]int{s.Tests, s.Failures, s.Errors})
	require.Len(t, s.Cases, 4)
	require.Equal(t, []string{"passes", "alert fails", "unnamed#2", "bad input"},
		[]string{s.Cases[0].Name, s.Cases[1].Name, s.Cases[2].Name, s.Cases[3].Name})
	require.Empty(t, s.Cases[0].Failures)
	require.Len(t, s.Cases[1].Failures, 1)
	require.Contains(t, s.Cases[1].Failures[0], "alertname: InstanceDown, time: 3m")
	require.Len(t, s.Cases[2].Failures, 2) // one per failed expression
	require.Contains(t, s.Cases[3].Failures[0], `unexpected "x"`)
	require.Equal(t, [2]int{0, 0}, [2]int{doc.Suites[1].Tests, doc.Suites[1].Errors})
	// A file that could not run is an aborted suite: an error, no real case.
	require.Equal(t, "testdata/report/unknown_fields_test.yml", doc.Suites[2].Name)
	require.Equal(t, 1, doc.Suites[2].Errors)
}

func TestCountsAndExitCode(t *testing.T) {
	f := func(want int, groups ...*GroupResult) {
		t.Helper()
		r := &Result{Files: []*FileResult{{File: "x", Groups: groups}}}
		require.Equal(t, want, r.ExitCode())
	}
	pass := &GroupResult{Passed: true}
	fail := &GroupResult{}
	bad := &GroupResult{BadInput: true}
	f(ExitPassed)
	f(ExitPassed, pass, pass)
	f(ExitFailed, pass, fail)
	f(ExitBadInput, fail, bad, pass)
	r := &Result{Files: []*FileResult{{File: "x", Error: "e"}, {File: "y", Groups: []*GroupResult{pass, fail}}}}
	require.Equal(t, Counts{Files: 2, Groups: 3, Passed: 1, Failed: 1, BadInput: 1}, r.Counts())
	require.Equal(t, ExitBadInput, r.ExitCode())
	require.Equal(t, ExitPassed, (&Result{}).ExitCode())
}

func TestLineDiff(t *testing.T) {
	f := func(a, b []string, want ...string) {
		t.Helper()
		require.Equal(t, want, lineDiff(a, b))
	}
	f(nil, nil, "  (nothing)")
	f([]string{"a"}, []string{"a"}, "  a")
	f([]string{"a"}, nil, "- a")
	f(nil, []string{"b"}, "+ b")
	f([]string{"a", "b", "c"}, []string{"a", "c"}, "  a", "- b", "  c")
	f([]string{"a", "c"}, []string{"a", "b", "c"}, "  a", "+ b", "  c")
	f([]string{"a", "b", "d"}, []string{"a", "c", "d", "e"}, "  a", "- b", "+ c", "  d", "+ e")
	f([]string{"x", "y"}, []string{"y", "x"}, "- x", "  y", "+ x")
}

func TestObjectLines(t *testing.T) {
	require.Equal(t, []string{
		`{a="1", b="x\"y"} 1.5`,
		`{} NaN`,
		`{h="1"} {{count:1}}`,
		`{alertname="A"} annotations{summary="s"}`,
		`{}`,
	}, objectLines([]Object{
		{Labels: map[string]string{"b": `x"y`, "a": "1"}, Value: fp(1.5)},
		{Labels: map[string]string{}, Value: fp(math.NaN())},
		{Labels: map[string]string{"h": "1"}, Histogram: "{{count:1}}", Value: fp(3)},
		{Labels: map[string]string{"alertname": "A"}, Annotations: map[string]string{"summary": "s"}},
		{},
	}))
}

func TestFloatJSON(t *testing.T) {
	f := func(v float64, want string) {
		t.Helper()
		b, err := json.Marshal(Float(v))
		require.NoError(t, err)
		require.Equal(t, want, string(b))
	}
	f(1, "1")
	f(-0.25, "-0.25")
	f(1e21, "1e+21")
	f(math.NaN(), `"NaN"`)
	f(math.Inf(1), `"+Inf"`)
	f(math.Inf(-1), `"-Inf"`)
}
