package report

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/gotk-rules/gotk-rules/lint"
)

// The Code Climate issue, as much of it as GitLab's Code Quality report
// reads (https://docs.gitlab.com/ci/testing/code_quality/#code-quality-report-format).
type (
	ccIssue struct {
		Type        string     `json:"type"`
		CheckName   string     `json:"check_name"`
		Description string     `json:"description"`
		Categories  []string   `json:"categories"`
		Severity    string     `json:"severity"`
		Fingerprint string     `json:"fingerprint"`
		Location    ccLocation `json:"location"`
	}
	ccLocation struct {
		Path      string      `json:"path"`
		Positions ccPositions `json:"positions"`
	}
	ccPositions struct {
		Begin ccPosition `json:"begin"`
	}
	ccPosition struct {
		Line   int `json:"line"`
		Column int `json:"column"`
	}
)

// codeClimateSeverity maps a severity to one of GitLab's (info, minor,
// major, critical, blocker), as ESLint's and other linters' GitLab reports
// do: an error is major, a warning minor.
func codeClimateSeverity(s lint.Severity) string {
	switch s {
	case lint.Error:
		return "major"
	case lint.Warning:
		return "minor"
	}
	return "info"
}

// CodeClimate writes a GitLab Code Quality report: a JSON array with one
// Code Climate issue per finding (check_name is the check, location the
// file, line and column). The fingerprint hashes the file, check, message
// and how many identical findings came before in that file, not the line, so
// a finding keeps its fingerprint when lines above it move and GitLab does
// not report it as new in a merge request.
func CodeClimate(w io.Writer, findings []lint.Finding) error {
	issues := []ccIssue{}
	seen := map[string]int{}
	for _, f := range findings {
		path := ccPath(f.File)
		key := strings.Join([]string{path, f.Check, f.Message}, "\x00")
		n := seen[key]
		seen[key]++
		sum := sha256.Sum256([]byte(fmt.Sprintf("%s\x00%d", key, n)))
		category := "Bug Risk"
		if f.Severity == lint.Info {
			category = "Style"
		}
		issues = append(issues, ccIssue{
			Type:        "issue",
			CheckName:   f.Check,
			Description: f.Message,
			Categories:  []string{category},
			Severity:    codeClimateSeverity(f.Severity),
			Fingerprint: hex.EncodeToString(sum[:16]),
			Location: ccLocation{
				Path:      path,
				Positions: ccPositions{Begin: ccPosition{Line: max(f.Line, 1), Column: max(f.Column, 1)}},
			},
		})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(issues)
}

// ccPath is a finding's file as GitLab wants it: relative to the repository
// root, with forward slashes.
func ccPath(p string) string {
	p = filepath.ToSlash(p)
	return strings.TrimPrefix(p, "./")
}
