package cli_test

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gotk-rules/gotk-rules/cli"
)

// coverRule is a rule of --cover-out's JSON.
type coverRule struct {
	File            string `json:"file"`
	Line            int    `json:"line"`
	Group           string `json:"group"`
	Name            string `json:"name"`
	Type            string `json:"type"`
	Evaluated       bool   `json:"evaluated"`
	ReturnedSamples bool   `json:"returned_samples"`
	Pending         bool   `json:"pending"`
	Firing          bool   `json:"firing"`
	Resolved        bool   `json:"resolved"`
	Asserted        bool   `json:"asserted"`
	Covered         bool   `json:"covered"`
}

// coverJSON is --cover-out's JSON.
type coverJSON struct {
	Rules   []coverRule `json:"rules"`
	Summary struct {
		Rules   int     `json:"rules"`
		Covered int     `json:"covered"`
		Percent float64 `json:"percent"`
		Files   []struct {
			Name    string  `json:"name"`
			Percent float64 `json:"percent"`
		} `json:"files"`
	} `json:"summary"`
}

var coverFiles = []string{"testdata/cover/cover_test.yml", "testdata/cover/failing.scenario.yml", "testdata/cover/unreached_test.yml"}

// coverOut runs test with --cover-out and returns the run and the file.
func coverOut(t *testing.T, args ...string) (result, coverJSON) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "cover.json")
	r := run(t, append([]string{"test", "--cover-out", out}, args...)...)
	var doc coverJSON
	b, err := os.ReadFile(out)
	require.NoError(t, err, r)
	require.NoError(t, json.Unmarshal(b, &doc))
	return r, doc
}

func findRule(t *testing.T, doc coverJSON, name string) coverRule {
	t.Helper()
	for _, r := range doc.Rules {
		if r.Name == name {
			return r
		}
	}
	t.Fatalf("no rule %s in %+v", name, doc.Rules)
	return coverRule{}
}

// coverGolden compares got with testdata/cover/NAME, or rewrites it with
// -update.
func coverGolden(t *testing.T, name, got string) {
	t.Helper()
	got = normalize(got)
	path := filepath.Join("testdata", "cover", name)
	if *update {
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test -update to create it")
	require.Equal(t, string(want), got, "%s differs; run go test -update to accept the change", path)
}

func TestCoverText(t *testing.T) {
	t.Parallel()
	r := run(t, append([]string{"test", "--cover"}, coverFiles...)...)
	require.Equal(t, cli.ExitOK, r.code, r)
	require.Empty(t, r.stderr)
	coverGolden(t, "summary.golden", r.stdout)
}

func TestCoverRules(t *testing.T) {
	t.Parallel()
	r, doc := coverOut(t, coverFiles...)
	require.Equal(t, cli.ExitOK, r.code, r)
	require.NotContains(t, r.stdout, "coverage:", "--cover-out alone prints no summary")
	tests := []struct {
		name string
		want coverRule
	}{
		// A rule file a test names, no test group reaching it.
		{"NobodyTestsThis", coverRule{File: "testdata/cover/unreached.yml", Line: 4, Group: "unreached", Type: "alert"}},
		// Fires and resolves, asserted only with exp_alerts: []: not covered.
		{"AbsenceOnly", coverRule{File: "testdata/cover/rules.yml", Line: 17, Group: "alerts", Type: "alert",
			Evaluated: true, ReturnedSamples: true, Firing: true, Resolved: true}},
		{"InstanceDown", coverRule{File: "testdata/cover/rules.yml", Line: 12, Group: "alerts", Type: "alert",
			Evaluated: true, ReturnedSamples: true, Pending: true, Firing: true, Resolved: true, Asserted: true, Covered: true}},
		{"job:up:sum", coverRule{File: "testdata/cover/rules.yml", Line: 4, Group: "recording", Type: "record",
			Evaluated: true, ReturnedSamples: true, Asserted: true, Covered: true}},
		{"job:missing:sum", coverRule{File: "testdata/cover/rules.yml", Line: 6, Group: "recording", Type: "record", Evaluated: true}},
		// A scenario's expectation asserts it.
		{"ReconciliationFailure", coverRule{File: "testdata/cover/flux.yml", Line: 4, Group: "flux", Type: "alert",
			Evaluated: true, ReturnedSamples: true, Pending: true, Firing: true, Resolved: true, Asserted: true, Covered: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.want.Name = tt.name
			require.Equal(t, tt.want, findRule(t, doc, tt.name))
		})
	}
	require.Equal(t, 11, doc.Summary.Rules)
	require.Equal(t, 4, doc.Summary.Covered)
	require.Equal(t, 36.3, doc.Summary.Percent)
}

// The fast path and --exact give the same coverage.
func TestCoverFastAndExact(t *testing.T) {
	t.Parallel()
	fast, fastDoc := coverOut(t, append([]string{"--cover"}, coverFiles...)...)
	exact, exactDoc := coverOut(t, append([]string{"--cover", "--exact"}, coverFiles...)...)
	require.Equal(t, cli.ExitOK, fast.code, fast)
	require.Equal(t, cli.ExitOK, exact.code, exact)
	require.Equal(t, fastDoc, exactDoc)
	summary := func(s string) string { return s[strings.Index(s, "coverage:"):] }
	require.Equal(t, summary(fast.stdout), summary(exact.stdout))
}

func TestCoverMin(t *testing.T) {
	t.Parallel()
	tests := []struct {
		min  string
		code int
	}{
		{"36", cli.ExitOK},
		{"36.3", cli.ExitOK},
		{"36.4", cli.ExitFailed}, // 4 of 11 is 36.36%
		{"100", cli.ExitFailed},
		{"0", cli.ExitOK},
	}
	for _, tt := range tests {
		t.Run(tt.min, func(t *testing.T) {
			r := run(t, append([]string{"test", "--cover-min", tt.min}, coverFiles...)...)
			require.Equal(t, tt.code, r.code, r)
			if tt.code == cli.ExitFailed {
				require.Equal(t, "gotk-rules: coverage 36.3% of rules (4 of 11) is below --cover-min "+tt.min+"%\n", r.stderr)
			}
		})
	}
}

func TestCoverCobertura(t *testing.T) {
	t.Parallel()
	out := filepath.Join(t.TempDir(), "cover.xml")
	r := run(t, append([]string{"test", "--cover-out", out, "--cover-format", "cobertura"}, coverFiles...)...)
	require.Equal(t, cli.ExitOK, r.code, r)
	b, err := os.ReadFile(out)
	require.NoError(t, err)
	var doc struct {
		LinesValid   int `xml:"lines-valid,attr"`
		LinesCovered int `xml:"lines-covered,attr"`
		Packages     []struct {
			Name    string `xml:"name,attr"`
			Classes []struct {
				Name  string `xml:"name,attr"`
				Lines []struct {
					Number int `xml:"number,attr"`
					Hits   int `xml:"hits,attr"`
				} `xml:"lines>line"`
			} `xml:"classes>class"`
		} `xml:"packages>package"`
	}
	require.NoError(t, xml.Unmarshal(b, &doc))
	require.Equal(t, 11, doc.LinesValid)
	require.Equal(t, 4, doc.LinesCovered)
	lines := map[string][]int{}
	hits := map[string]int{}
	for _, p := range doc.Packages {
		for _, c := range p.Classes {
			for _, l := range c.Lines {
				lines[p.Name] = append(lines[p.Name], l.Number)
				hits[fmt.Sprintf("%s:%s:%d", p.Name, c.Name, l.Number)] = l.Hits
			}
		}
	}
	require.Equal(t, map[string][]int{
		"testdata/cover/rules.yml":     {4, 6, 8, 12, 17, 21, 24, 27},
		"testdata/cover/flux.yml":      {4, 9},
		"testdata/cover/unreached.yml": {4},
	}, lines)
	require.Equal(t, 6, hits["testdata/cover/rules.yml:recording:4"], "a covered rule's hits are its evaluations")
	require.Equal(t, 0, hits["testdata/cover/rules.yml:alerts:17"], "a rule not covered has no hits")
}

func TestCoverJSONFormat(t *testing.T) {
	t.Parallel()
	r := run(t, append([]string{"test", "--cover", "--format", "json"}, coverFiles...)...)
	require.Equal(t, cli.ExitOK, r.code, r)
	var doc struct {
		Files    []json.RawMessage `json:"files"`
		Summary  map[string]int    `json:"summary"`
		Coverage *coverJSON        `json:"coverage"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &doc))
	require.Len(t, doc.Files, 3)
	require.Equal(t, 2, doc.Summary["Passed"])
	require.NotNil(t, doc.Coverage)
	require.Len(t, doc.Coverage.Rules, 11)
	require.Equal(t, 4, doc.Coverage.Summary.Covered)

	// Without --cover, the JSON is as before.
	r = run(t, append([]string{"test", "--format", "json"}, coverFiles...)...)
	require.NotContains(t, r.stdout, `"coverage"`)
}

// A promtool test file from Prometheus' own test data, unchanged.
func TestCoverPromtoolFile(t *testing.T) {
	t.Parallel()
	r, doc := coverOut(t, "--cover", "testdata/cover/promtool/unittest.yml")
	require.Equal(t, cli.ExitOK, r.code, r)
	require.Contains(t, r.stdout, "coverage: 80.0% of rules (4 of 5 covered)\n")
	require.Contains(t, r.stdout, "testdata/cover/promtool/rules.yml:27: record suquery_interval_test (group rules): no promql_expr_test reads its series\n")
	require.True(t, findRule(t, doc, "AlwaysFiring").Covered)
	require.True(t, findRule(t, doc, "job:test:count_over_time1m").Covered)
}

func TestCoverBadFlags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--cover-format", "xml", "--cover-out", "x.xml"}, `--cover-format "xml": want json or cobertura`},
		{[]string{"--cover-format", "cobertura"}, "--cover-format cobertura: needs --cover-out FILE"},
		{[]string{"--cover-min", "abc"}, `--cover-min "abc": want a percentage from 0 to 100`},
		{[]string{"--cover-min", "101"}, `--cover-min "101": want a percentage from 0 to 100`},
		{[]string{"--cover-min", "-1"}, `--cover-min "-1": want a percentage from 0 to 100`},
		{[]string{"--cover-min", "NaN"}, `--cover-min "NaN": want a percentage from 0 to 100`},
		{[]string{"--cover-out", "testdata/cover/rules.yml"}, "the same file as the input"},
		{[]string{"--cover-out", "testdata/cover"}, "is a directory"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			r := run(t, append(append([]string{"test"}, tt.args...), "testdata/cover/cover_test.yml")...)
			require.Equal(t, cli.ExitBadInput, r.code, r)
			require.Contains(t, r.stderr, tt.want)
			require.Equal(t, 1, strings.Count(r.stderr, "\n"), r.stderr)
			require.Empty(t, r.stdout)
		})
	}
}
