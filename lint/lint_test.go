package lint_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gotk-rules/gotk-rules/evaluator"
	"github.com/gotk-rules/gotk-rules/lint"
	"github.com/gotk-rules/gotk-rules/lint/checks"
)

var parser = evaluator.NewEngine(evaluator.Options{}).Parser()

func newLinter(t *testing.T, cfg *lint.Config, cs ...lint.Check) *lint.Linter {
	t.Helper()
	if cs == nil {
		cs = checks.All()
	}
	l, err := lint.New(lint.Options{Parser: parser, Config: cfg, Checks: cs})
	require.NoError(t, err)
	return l
}

func config(t *testing.T, text string) *lint.Config {
	t.Helper()
	c, err := lint.ParseConfig("test.yaml", []byte(text))
	require.NoError(t, err)
	return c
}

// keys renders findings as "line:col check severity".
func keys(fs []lint.Finding) []string {
	out := []string{}
	for _, f := range fs {
		out = append(out, fmt.Sprintf("%d:%d %s %s", f.Line, f.Column, f.Check, f.Severity))
	}
	return out
}

// everyRule is a test check reporting every rule at its position.
type everyRule struct{}

func (everyRule) Meta() lint.Meta {
	return lint.Meta{Name: "test/every-rule", Severity: lint.Warning, Summary: "every rule"}
}

func (everyRule) CheckRule(r *lint.Rule, rep *lint.Reporter) { rep.Report(r.Pos, "rule %s", r.Name()) }

// everyGroup reports every group.
type everyGroup struct{}

func (everyGroup) Meta() lint.Meta {
	return lint.Meta{Name: "test/every-group", Severity: lint.Info, Summary: "every group"}
}

func (everyGroup) CheckGroup(g *lint.Group, rep *lint.Reporter) {
	rep.Report(g.Pos, "group %s", g.Name)
}

// panics crashes on every rule.
type panics struct{}

func (panics) Meta() lint.Meta {
	return lint.Meta{Name: "test/panics", Severity: lint.Error, Summary: "crashes"}
}

func (panics) CheckRule(*lint.Rule, *lint.Reporter) { panic("boom") }

const twoGroups = `# top comment
groups:
  - name: a
    rules:
      - record: r1
        expr: up
      - record: r2
        expr: up
  - name: b
    rules:
      - record: r3
        expr: up
`

func TestSuppressionScopes(t *testing.T) {
	cases := []struct {
		name string
		edit func(lines []string) []string
		want []string
	}{
		{"none", nil, []string{"3:5 test/every-group info", "5:9 test/every-rule warning", "7:9 test/every-rule warning", "9:5 test/every-group info", "11:9 test/every-rule warning"}},
		{"file", func(l []string) []string {
			return append([]string{"# gotk-rules: disable=test/every-rule"}, l...)
		}, []string{"4:5 test/every-group info", "10:5 test/every-group info"}},
		{"file, wildcard and list", func(l []string) []string {
			return append([]string{"# gotk-rules: disable=test/*"}, l...)
		}, []string{}},
		{"rule, above", func(l []string) []string {
			return insert(l, 6, "      # gotk-rules: disable=test/every-rule")
		}, []string{"3:5 test/every-group info", "5:9 test/every-rule warning", "10:5 test/every-group info", "12:9 test/every-rule warning"}},
		{"rule, trailing on a later line", func(l []string) []string {
			l[7] += "  # gotk-rules: disable=test/every-rule, test/every-group"
			return l
		}, []string{"3:5 test/every-group info", "5:9 test/every-rule warning", "9:5 test/every-group info", "11:9 test/every-rule warning",
			"8:58 lint/unused-suppression warning"}},
		{"group, above", func(l []string) []string {
			return insert(l, 2, "  # gotk-rules: disable=test/every-rule,test/every-group")
		}, []string{"10:5 test/every-group info", "12:9 test/every-rule warning"}},
		{"group, on its lines", func(l []string) []string {
			l[3] += " # gotk-rules: disable=test/every-rule"
			return l
		}, []string{"3:5 test/every-group info", "9:5 test/every-group info", "11:9 test/every-rule warning"}},
		{"unused and unknown", func(l []string) []string {
			l[5] += " # gotk-rules: disable=test/every-rule,no/such"
			l[11] += " # gotk-rules: disable=test/panics"
			return l
		}, []string{"3:5 test/every-group info", "6:56 lint/unused-suppression warning", "7:9 test/every-rule warning", "9:5 test/every-group info",
			"11:9 test/every-rule warning", "12:40 lint/unused-suppression warning"}},
		{"unused suppression suppressed", func(l []string) []string {
			l[11] += " # gotk-rules: disable=test/panics,lint/unused-suppression"
			return append([]string{}, l...)
		}, []string{"3:5 test/every-group info", "5:9 test/every-rule warning", "7:9 test/every-rule warning", "9:5 test/every-group info", "11:9 test/every-rule warning"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			lines := strings.Split(twoGroups, "\n")
			if tc.edit != nil {
				lines = tc.edit(lines)
			}
			// test/panics is on only where a case needs a check that runs and reports nothing.
			l := newLinter(t, config(t, "checks: {disable: [test/panics]}\n"), everyRule{}, everyGroup{}, panics{})
			if tc.name == "unused and unknown" {
				l = newLinter(t, nil, everyRule{}, everyGroup{}, quiet{})
			}
			got := keys(l.Lint("f.yml", []byte(strings.Join(lines, "\n"))))
			require.ElementsMatch(t, tc.want, got)
		})
	}
}

// quiet runs and reports nothing, under the name test/panics.
type quiet struct{}

func (quiet) Meta() lint.Meta {
	return lint.Meta{Name: "test/panics", Severity: lint.Error, Summary: "quiet"}
}

func (quiet) CheckRule(*lint.Rule, *lint.Reporter) {}

func insert(lines []string, at int, s string) []string {
	out := append([]string{}, lines[:at]...)
	out = append(out, s)
	return append(out, lines[at:]...)
}

func TestSuppressionOfDisabledCheckIsNotReported(t *testing.T) {
	src := "groups:\n  - name: a\n    rules:\n      - record: r\n        expr: up # gotk-rules: disable=test/every-rule\n"
	l := newLinter(t, config(t, "checks: {disable: [test/every-rule]}\n"), everyRule{})
	require.Empty(t, l.Lint("f.yml", []byte(src)))
}

func TestPanickingCheck(t *testing.T) {
	l := newLinter(t, nil, panics{})
	fs := l.Lint("f.yml", []byte(twoGroups))
	require.Len(t, fs, 1)
	require.Equal(t, "test/panics", fs[0].Check)
	require.Contains(t, fs[0].Message, "internal error in this check")
}

func TestConfig(t *testing.T) {
	c := config(t, `
evaluation_interval: 30s
checks:
  disable: ["flux/*", promql/regex-anchors]
  enable: [flux/deleted-status]
  severity:
    "promql/*": error
    promql/needless-regex: warning
    alert/for-missing: info
flux:
  namespace_label: namespace
`)
	l := newLinter(t, c)
	require.Equal(t, lint.Settings{EvaluationInterval: 30 * time.Second, FluxNamespaceLabel: "namespace"}, l.Settings())
	for name, want := range map[string]string{
		"flux/removed-metric": "off", "flux/deleted-status": "error", "promql/regex-anchors": "off",
		"promql/needless-regex": "warning", "promql/rate-on-gauge": "error", "alert/for-missing": "info",
		"alert/no-comparison": "warning", "lint/unused-suppression": "warning",
	} {
		sev, on := l.Enabled(name)
		got := sev.String()
		if !on {
			got = "off"
		}
		require.Equal(t, want, got, name)
	}

	def := newLinter(t, nil)
	require.Equal(t, lint.Settings{EvaluationInterval: time.Minute, FluxNamespaceLabel: "exported_namespace"}, def.Settings())
	require.Len(t, def.Checks(), len(checks.All())+1)
}

func TestConfigErrors(t *testing.T) {
	for text, msg := range map[string]string{
		"checks: {disable: [no/such]}\n":            `checks.disable: no check is named "no/such"`,
		"checks: {enable: [flux/nope]}\n":           `checks.enable: no check is named "flux/nope"`,
		"checks: {severity: {flux/*: fatal}}\n":     `unknown severity "fatal"`,
		"checks: {severity: {nope/*: info}}\n":      `no check is named "nope/*"`,
		"flux: {namespace_label: ns}\n":             `flux.namespace_label "ns"`,
		"unknown: 1\n":                              `field unknown not found`,
		"evaluation_interval: 1x\n":                 `unknown unit "x"`,
		"checks: {disable: promql/regex-anchors}\n": `cannot unmarshal`,
	} {
		c, err := lint.ParseConfig("cfg.yaml", []byte(text))
		if err == nil {
			_, err = lint.New(lint.Options{Parser: parser, Config: c, Checks: checks.All()})
		}
		require.Error(t, err, text)
		require.Contains(t, err.Error(), msg, text)
		if !strings.Contains(err.Error(), "checks.") && !strings.Contains(err.Error(), "severity") {
			require.Contains(t, err.Error(), "cfg.yaml", text)
		}
	}
	_, err := lint.New(lint.Options{Parser: parser, Checks: []lint.Check{everyRule{}, everyRule{}}})
	require.ErrorContains(t, err, "two checks are named test/every-rule")
}

func TestSeverityOverrideApplies(t *testing.T) {
	l := newLinter(t, config(t, "checks: {severity: {test/every-rule: error}}\n"), everyRule{})
	fs := l.Lint("f.yml", []byte(twoGroups))
	require.Len(t, fs, 3)
	for _, f := range fs {
		require.Equal(t, lint.Error, f.Severity)
	}
}

func TestLoadErrorsStopSemanticChecks(t *testing.T) {
	src := "# gotk-rules: disable=test/every-rule\ngroups:\n  - name: a\n    rules:\n      - record: r\n        expr: up +\n"
	l := newLinter(t, nil, append(checks.All(), everyRule{})...)
	got := keys(l.Lint("f.yml", []byte(src)))
	// Only the parse error: no rule check ran, and the suppression of one is
	// not reported as unused.
	require.Equal(t, []string{"6:19 promtool/promql error"}, got)
}

func TestKubernetesDocuments(t *testing.T) {
	src := `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 1
---
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata:
  name: rules
spec:
  groups:
    - name: g
      rules:
        - alert: Down
          expr: up{job=~"web"} == 0
          for: 5m
---
groups:
  - name: plain
    rules:
      - record: r
        expr: sum(rate(x[1m]))
`
	got := keys(newLinter(t, nil).Lint("f.yml", []byte(src)))
	require.Equal(t, []string{"17:20 promql/needless-regex info", "24:25 promql/short-rate-range warning"}, got)
}

func TestLintAllKeepsOrder(t *testing.T) {
	l := newLinter(t, nil, everyRule{})
	var in []lint.Input
	for i := range 20 {
		in = append(in, lint.Input{Path: fmt.Sprintf("f%02d.yml", i), Content: []byte(twoGroups)})
	}
	out := l.LintAll(in)
	require.Len(t, out, 20)
	for i, fs := range out {
		require.Len(t, fs, 3)
		require.Equal(t, in[i].Path, fs[0].File)
	}
}

func TestSeverity(t *testing.T) {
	for i, n := range lint.Severities {
		s, err := lint.ParseSeverity(strings.ToUpper(n))
		require.NoError(t, err)
		require.Equal(t, lint.Severity(i+1), s)
		require.Equal(t, n, s.String())
	}
	_, err := lint.ParseSeverity("fatal")
	require.Error(t, err)
	require.Equal(t, "docs/checks/flux-deleted-status.md", lint.Meta{Name: "flux/deleted-status"}.DocPath())
}
