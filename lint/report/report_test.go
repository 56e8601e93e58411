package report_test

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"os"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/require"

	"github.com/gotk-rules/gotk-rules/lint"
	"github.com/gotk-rules/gotk-rules/lint/report"
)

var findings = []lint.Finding{
	{File: "rules/a.yml", Line: 8, Column: 15, Check: "flux/deleted-status", Severity: lint.Error, Message: `no series has status="Deleted"; <b>&</b>`},
	{File: "rules/a b.yml", Line: 3, Column: 1, Check: "alert/for-missing", Severity: lint.Warning, Message: "line one\nline two: 100%, a,b"},
	{File: "/abs/path/c.yml", Line: 1, Column: 2, Check: "promql/needless-regex", Severity: lint.Info, Message: "info"},
	{File: "<stdin>", Line: 2, Column: 3, Check: "lint/unused-suppression", Severity: lint.Warning, Message: "unused"},
}

var metas = []lint.Meta{
	{Name: "alert/for-missing", Severity: lint.Warning, Summary: "for"},
	{Name: "flux/deleted-status", Severity: lint.Error, Summary: "deleted"},
	{Name: "lint/unused-suppression", Severity: lint.Warning, Summary: "unused"},
	{Name: "promql/needless-regex", Severity: lint.Info, Summary: "regex"},
	{Name: "promql/regex-anchors", Severity: lint.Info, Summary: "anchors"},
}

func TestSARIFValidates(t *testing.T) {
	f, err := os.Open("../testdata/sarif/sarif-2.1.0-rtm.5.json")
	require.NoError(t, err)
	defer f.Close()
	schemaDoc, err := jsonschema.UnmarshalJSON(f)
	require.NoError(t, err)
	c := jsonschema.NewCompiler()
	require.NoError(t, c.AddResource("sarif.json", schemaDoc))
	schema, err := c.Compile("sarif.json")
	require.NoError(t, err)

	// The schema does catch what code scanning would refuse.
	bad, err := jsonschema.UnmarshalJSON(strings.NewReader(`{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"x"}},"results":[{"level":"fatal","message":{"text":"m"}}]}]}`))
	require.NoError(t, err)
	require.Error(t, schema.Validate(bad))

	for name, fs := range map[string][]lint.Finding{"findings": findings, "none": nil} {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			require.NoError(t, report.SARIF(&buf, fs, report.Options{
				Checks: metas, DocURL: "https://example.com/docs/checks/",
				Severity: func(name string) (lint.Severity, bool) {
					if name == "promql/regex-anchors" {
						return 0, false
					}
					return lint.Warning, true
				},
			}))
			inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(buf.Bytes()))
			require.NoError(t, err)
			require.NoError(t, schema.Validate(inst), buf.String())

			// What code scanning reads.
			var log struct {
				Version string `json:"version"`
				Runs    []struct {
					Tool struct {
						Driver struct {
							Rules []struct {
								ID      string `json:"id"`
								HelpURI string `json:"helpUri"`
								Default struct {
									Enabled bool   `json:"enabled"`
									Level   string `json:"level"`
								} `json:"defaultConfiguration"`
							} `json:"rules"`
						} `json:"driver"`
					} `json:"tool"`
					Results []struct {
						RuleID    string `json:"ruleId"`
						RuleIndex int    `json:"ruleIndex"`
						Level     string `json:"level"`
						Locations []struct {
							Physical struct {
								Artifact struct {
									URI string `json:"uri"`
								} `json:"artifactLocation"`
								Region struct {
									StartLine   int `json:"startLine"`
									StartColumn int `json:"startColumn"`
								} `json:"region"`
							} `json:"physicalLocation"`
						} `json:"locations"`
					} `json:"results"`
				} `json:"runs"`
			}
			require.NoError(t, json.Unmarshal(buf.Bytes(), &log))
			require.Equal(t, "2.1.0", log.Version)
			run := log.Runs[0]
			require.Len(t, run.Tool.Driver.Rules, len(metas))
			require.Equal(t, "https://example.com/docs/checks/alert-for-missing.md", run.Tool.Driver.Rules[0].HelpURI)
			require.False(t, run.Tool.Driver.Rules[4].Default.Enabled)
			require.Len(t, run.Results, len(fs))
			for i, r := range run.Results {
				require.Equal(t, fs[i].Check, run.Tool.Driver.Rules[r.RuleIndex].ID)
				require.Equal(t, fs[i].Line, r.Locations[0].Physical.Region.StartLine)
			}
			if len(fs) > 0 {
				require.Equal(t, "error", run.Results[0].Level)
				require.Equal(t, "note", run.Results[2].Level)
				require.Equal(t, "rules/a%20b.yml", run.Results[1].Locations[0].Physical.Artifact.URI)
				require.Equal(t, "file:///abs/path/c.yml", run.Results[2].Locations[0].Physical.Artifact.URI)
			}
		})
	}
}

func TestJSONShape(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, report.JSON(&buf, findings[:1]))
	require.JSONEq(t, `{"findings":[{"file":"rules/a.yml","line":8,"column":15,"check":"flux/deleted-status","severity":"error","message":"no series has status=\"Deleted\"; <b>&</b>"}]}`, buf.String())
	buf.Reset()
	require.NoError(t, report.JSON(&buf, nil))
	require.JSONEq(t, `{"findings":[]}`, buf.String())
}

func TestGitHubEscaping(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, report.GitHub(&buf, findings))
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	require.Equal(t, []string{
		`::error file=rules/a.yml,line=8,col=15,title=flux/deleted-status::no series has status="Deleted"; <b>&</b>`,
		`::warning file=rules/a b.yml,line=3,col=1,title=alert/for-missing::line one%0Aline two: 100%25, a,b`,
		`::notice file=/abs/path/c.yml,line=1,col=2,title=promql/needless-regex::info`,
		`::warning file=<stdin>,line=2,col=3,title=lint/unused-suppression::unused`,
	}, lines)
}

func TestCheckstyleIsXML(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, report.Checkstyle(&buf, findings, report.Options{Files: []string{"clean.yml", "rules/a.yml"}}))
	var doc struct {
		Files []struct {
			Name   string `xml:"name,attr"`
			Errors []struct {
				Line     int    `xml:"line,attr"`
				Severity string `xml:"severity,attr"`
				Message  string `xml:"message,attr"`
				Source   string `xml:"source,attr"`
			} `xml:"error"`
		} `xml:"file"`
	}
	require.NoError(t, xml.Unmarshal(buf.Bytes(), &doc))
	require.Len(t, doc.Files, 5)
	require.Equal(t, "clean.yml", doc.Files[0].Name)
	require.Empty(t, doc.Files[0].Errors)
	require.Equal(t, findings[0].Message, doc.Files[1].Errors[0].Message)
	require.Equal(t, "gotk-rules.flux/deleted-status", doc.Files[1].Errors[0].Source)
	require.Equal(t, "info", doc.Files[3].Errors[0].Severity)
}

func TestTextExcerpt(t *testing.T) {
	lines := map[string][]string{
		"a.yml": {"groups:", "\texpr: up\t== 0", "    expr: " + strings.Repeat("x", 300) + " == 0"},
	}
	get := func(file string, n int) string { return lines[file][n-1] }
	fs := []lint.Finding{
		{File: "a.yml", Line: 2, Column: 11, Check: "c/tab", Severity: lint.Warning, Message: "tab"},
		{File: "a.yml", Line: 3, Column: 312, Check: "c/long", Severity: lint.Error, Message: "long"},
		{File: "a.yml", Line: 1, Column: 99, Check: "c/past-end", Severity: lint.Info, Message: "past"},
	}
	var buf bytes.Buffer
	require.NoError(t, report.Text(&buf, fs, report.Options{Lines: get}))
	out := strings.Split(buf.String(), "\n")
	require.Equal(t, "a.yml:2:11: warning: tab [c/tab]", out[0])
	require.Equal(t, "2 | \texpr: up\t== 0", out[1])
	require.Equal(t, "  | \t        \t^", out[2])
	require.Equal(t, "a.yml:3:312: error: long [c/long]", out[3])
	require.True(t, strings.HasPrefix(out[4], "3 | ..."))
	require.True(t, strings.HasSuffix(out[4], "x == 0"))
	caret := strings.Index(out[5], "^")
	require.Equal(t, "=", string([]rune(out[4])[caret]), "the caret is under the column")
	require.Equal(t, "1 | groups:", out[7])
	require.Equal(t, "  |        ^", out[8], "a column past the end is just after it")

	buf.Reset()
	require.NoError(t, report.Text(&buf, fs[:1], report.Options{Lines: get, Color: true}))
	require.Contains(t, buf.String(), "\x1b[")
}

func TestWriteUnknownFormat(t *testing.T) {
	require.ErrorContains(t, report.Write(&bytes.Buffer{}, "yaml", nil, report.Options{}), `unknown format "yaml"`)
}
