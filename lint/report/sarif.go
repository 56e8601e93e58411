package report

import (
	"encoding/json"
	"io"
	"strings"

	"github.com/gotk-rules/gotk-rules/lint"
)

// The SARIF 2.1.0 log, as much of it as gotk-rules fills in.
type (
	sarifLog struct {
		Schema  string     `json:"$schema"`
		Version string     `json:"version"`
		Runs    []sarifRun `json:"runs"`
	}
	sarifRun struct {
		Tool       sarifTool     `json:"tool"`
		ColumnKind string        `json:"columnKind"`
		Results    []sarifResult `json:"results"`
	}
	sarifTool struct {
		Driver sarifDriver `json:"driver"`
	}
	sarifDriver struct {
		Name           string      `json:"name"`
		InformationURI string      `json:"informationUri"`
		Rules          []sarifRule `json:"rules"`
	}
	sarifRule struct {
		ID                   string             `json:"id"`
		ShortDescription     sarifText          `json:"shortDescription"`
		HelpURI              string             `json:"helpUri,omitempty"`
		DefaultConfiguration sarifConfiguration `json:"defaultConfiguration"`
	}
	sarifConfiguration struct {
		Enabled bool   `json:"enabled"`
		Level   string `json:"level"`
	}
	sarifText struct {
		Text string `json:"text"`
	}
	sarifResult struct {
		RuleID    string          `json:"ruleId"`
		RuleIndex int             `json:"ruleIndex"`
		Level     string          `json:"level"`
		Message   sarifText       `json:"message"`
		Locations []sarifLocation `json:"locations"`
	}
	sarifLocation struct {
		PhysicalLocation sarifPhysical `json:"physicalLocation"`
	}
	sarifPhysical struct {
		ArtifactLocation sarifArtifact `json:"artifactLocation"`
		Region           sarifRegion   `json:"region"`
	}
	sarifArtifact struct {
		URI string `json:"uri"`
	}
	sarifRegion struct {
		StartLine   int `json:"startLine"`
		StartColumn int `json:"startColumn"`
	}
)

// SARIFSchema is the schema URI the log names.
const SARIFSchema = "https://json.schemastore.org/sarif-2.1.0.json"

func sarifLevel(s lint.Severity) string {
	switch s {
	case lint.Error:
		return "error"
	case lint.Warning:
		return "warning"
	}
	return "note"
}

// SARIF writes a SARIF 2.1.0 log with one run: every check as a rule (with
// its documentation link and configured level), every finding as a result.
func SARIF(w io.Writer, findings []lint.Finding, o Options) error {
	run := sarifRun{
		Tool: sarifTool{Driver: sarifDriver{
			Name:           "gotk-rules",
			InformationURI: "https://github.com/gotk-rules/gotk-rules",
			Rules:          []sarifRule{},
		}},
		ColumnKind: "unicodeCodePoints",
		Results:    []sarifResult{},
	}
	index := map[string]int{}
	addRule := func(m lint.Meta) int {
		if i, ok := index[m.Name]; ok {
			return i
		}
		sev, on := m.Severity, true
		if o.Severity != nil {
			if s, enabled := o.Severity(m.Name); enabled {
				sev = s
			} else {
				on = false
			}
		}
		r := sarifRule{
			ID:                   m.Name,
			ShortDescription:     sarifText{Text: m.Summary},
			DefaultConfiguration: sarifConfiguration{Enabled: on, Level: sarifLevel(sev)},
		}
		if o.DocURL != "" {
			r.HelpURI = o.DocURL + strings.ReplaceAll(m.Name, "/", "-") + ".md"
		}
		index[m.Name] = len(run.Tool.Driver.Rules)
		run.Tool.Driver.Rules = append(run.Tool.Driver.Rules, r)
		return index[m.Name]
	}
	for _, m := range o.Checks {
		addRule(m)
	}
	for _, f := range findings {
		i := addRule(lint.Meta{Name: f.Check, Severity: f.Severity, Summary: f.Check})
		run.Results = append(run.Results, sarifResult{
			RuleID: f.Check, RuleIndex: i, Level: sarifLevel(f.Severity),
			Message: sarifText{Text: f.Message},
			Locations: []sarifLocation{{PhysicalLocation: sarifPhysical{
				ArtifactLocation: sarifArtifact{URI: fileURI(f.File)},
				Region:           sarifRegion{StartLine: max(f.Line, 1), StartColumn: max(f.Column, 1)},
			}}},
		})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(sarifLog{Schema: SARIFSchema, Version: "2.1.0", Runs: []sarifRun{run}})
}
