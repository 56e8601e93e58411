package report_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gotk-rules/gotk-rules/lint"
	"github.com/gotk-rules/gotk-rules/lint/report"
)

// The -update flag rewrites golden files; it is shared with the other tests
// of the package when they define it.
func init() {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite golden files")
	}
}

func updating() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// ccIssue is what GitLab's Code Quality widget reads of an issue; every
// field here is required by GitLab.
type ccIssue struct {
	Description string `json:"description"`
	CheckName   string `json:"check_name"`
	Fingerprint string `json:"fingerprint"`
	Severity    string `json:"severity"`
	Location    struct {
		Path      string `json:"path"`
		Positions struct {
			Begin struct {
				Line   int `json:"line"`
				Column int `json:"column"`
			} `json:"begin"`
		} `json:"positions"`
	} `json:"location"`
}

func TestCodeClimateGolden(t *testing.T) {
	// Two identical findings in one file: distinct fingerprints.
	fs := append(append([]lint.Finding{}, findings...),
		lint.Finding{File: "./rules/a.yml", Line: 20, Column: 15, Check: "flux/deleted-status", Severity: lint.Error, Message: `no series has status="Deleted"; <b>&</b>`})
	var buf bytes.Buffer
	require.NoError(t, report.Write(&buf, "codeclimate", fs, report.Options{}))
	golden := filepath.Join("testdata", "codeclimate.golden.json")
	if updating() {
		require.NoError(t, os.WriteFile(golden, buf.Bytes(), 0o644))
	}
	want, err := os.ReadFile(golden)
	require.NoError(t, err)
	require.Equal(t, string(want), buf.String(), "run go test ./lint/report -run TestCodeClimateGolden -update to accept")

	var issues []ccIssue
	require.NoError(t, json.Unmarshal(buf.Bytes(), &issues))
	require.Len(t, issues, len(fs))
	prints := map[string]bool{}
	for i, is := range issues {
		require.Equal(t, fs[i].Check, is.CheckName)
		require.Equal(t, fs[i].Message, is.Description)
		require.Equal(t, fs[i].Line, is.Location.Positions.Begin.Line)
		require.Equal(t, fs[i].Column, is.Location.Positions.Begin.Column)
		require.Contains(t, []string{"info", "minor", "major", "critical", "blocker"}, is.Severity)
		require.NotEmpty(t, is.Fingerprint)
		require.False(t, prints[is.Fingerprint], "fingerprint %s twice", is.Fingerprint)
		prints[is.Fingerprint] = true
	}
	require.Equal(t, "major", issues[0].Severity)
	require.Equal(t, "minor", issues[1].Severity)
	require.Equal(t, "info", issues[2].Severity)
	require.Equal(t, "rules/a.yml", issues[4].Location.Path)
}

func TestCodeClimateFingerprintIgnoresLine(t *testing.T) {
	fingerprintAt := func(line int) string {
		var buf bytes.Buffer
		f := findings[0]
		f.Line = line
		require.NoError(t, report.CodeClimate(&buf, []lint.Finding{f}))
		var issues []ccIssue
		require.NoError(t, json.Unmarshal(buf.Bytes(), &issues))
		return issues[0].Fingerprint
	}
	require.Equal(t, fingerprintAt(8), fingerprintAt(30), "a finding moved by an edit above it keeps its fingerprint")

	var buf bytes.Buffer
	require.NoError(t, report.CodeClimate(&buf, nil))
	require.Equal(t, "[]\n", buf.String(), "no finding: an empty array, which GitLab accepts")
}
