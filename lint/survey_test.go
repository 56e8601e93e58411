package lint_test

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/gotk-rules/gotk-rules/internal/promtoolbin"
	"github.com/gotk-rules/gotk-rules/lint"
)

const conformance = "../../shared/conformance"

// corpusRuleFiles returns the rule files the conformance test files load,
// relative to the corpus, in order.
func corpusRuleFiles(t *testing.T) []string {
	t.Helper()
	tsv, err := os.ReadFile(filepath.Join(conformance, "expected-verdicts.tsv"))
	require.NoError(t, err)
	var out []string
	seen := map[string]bool{}
	for _, line := range strings.Split(string(tsv), "\n") {
		f := strings.Split(line, "\t")
		if len(f) < 2 || strings.HasPrefix(line, "#") {
			continue
		}
		test := filepath.Join(f[0], f[1])
		b, err := os.ReadFile(filepath.Join(conformance, test))
		require.NoError(t, err)
		var doc struct {
			RuleFiles []string `yaml:"rule_files"`
		}
		if yaml.Unmarshal(b, &doc) != nil {
			continue
		}
		for _, rf := range doc.RuleFiles {
			matches, _ := filepath.Glob(filepath.Join(conformance, filepath.Dir(test), rf))
			for _, m := range matches {
				rel, _ := filepath.Rel(conformance, m)
				if !seen[rel] {
					seen[rel] = true
					out = append(out, rel)
				}
			}
		}
	}
	return out
}

// TestSurvey lints every rule file of the conformance corpus, as
// docs/lint-survey.md reports: the counts per check are the survey's, and
// no check but the promtool ones reports an error there. With bin/promtool
// built, the files with promtool/* errors are exactly those promtool
// check rules refuses.
func TestSurvey(t *testing.T) {
	if _, err := os.Stat(conformance); err != nil {
		t.Skip("no conformance corpus beside the repository")
	}
	files := corpusRuleFiles(t)
	require.Len(t, files, 216)
	l := newLinter(t, nil)
	var inputs []lint.Input
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(conformance, f))
		require.NoError(t, err)
		inputs = append(inputs, lint.Input{Path: f, Content: b})
	}
	counts := map[string]int{}
	rejected := map[string]bool{}
	for _, fs := range l.LintAll(inputs) {
		for _, f := range fs {
			counts[f.Check]++
			if f.Severity == lint.Error {
				require.True(t, strings.HasPrefix(f.Check, "promtool/"), "error from %s on %s:%d", f.Check, f.File, f.Line)
				rejected[f.File] = true
			}
		}
	}
	require.Equal(t, map[string]int{
		"alert/for-missing":         7,
		"alert/fragile-aggregation": 1,
		"group/long-interval":       2,
		"promql/needless-regex":     8,
		"promql/regex-anchors":      4,
		"promql/short-rate-range":   12,
		"promtool/duplicate-rule":   29,
		"promtool/promql":           2,
		"promtool/yaml":             2,
	}, counts, "update docs/lint-survey.md with the new counts")
	require.Equal(t, map[string]bool{
		"prometheus-promtool-testdata/bad-rules-syntax.yml":       true,
		"prometheus-promtool-testdata/experimental-functions.yml": true,
		"prometheus-promtool-testdata/rules_extrafields.yml":      true,
	}, rejected)

	promtool, ok := promtoolbin.Path()
	if !ok {
		if os.Getenv("GOTK_REQUIRE_PROMTOOL") != "" {
			t.Fatalf("promtool not found at %s (GOTK_REQUIRE_PROMTOOL is set)", promtool)
		}
		t.Log("bin/promtool not built: not comparing with promtool")
		return
	}
	cmd := exec.Command(promtool, append([]string{"check", "rules", "--lint=none"}, files...)...)
	cmd.Dir = conformance
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	_ = cmd.Run() // exit 1: some files fail
	// promtool prints "Checking FILE" then SUCCESS on stdout, or FAILED on stderr.
	succeeded := map[string]bool{}
	var current string
	checking := regexp.MustCompile(`^Checking (.*)$`)
	sc := bufio.NewScanner(&stdout)
	for sc.Scan() {
		if m := checking.FindStringSubmatch(sc.Text()); m != nil {
			current = m[1]
		} else if strings.Contains(sc.Text(), "SUCCESS") {
			succeeded[current] = true
		}
	}
	var promtoolRejected []string
	for _, f := range files {
		if !succeeded[f] {
			promtoolRejected = append(promtoolRejected, f)
		}
	}
	var ours []string
	for f := range rejected {
		ours = append(ours, f)
	}
	sort.Strings(ours)
	require.Equal(t, promtoolRejected, ours, "promtool stderr:\n%s", stderr.String())
}

// The Flux rules quoted in shared/reference/flux-metrics.md, as
// docs/lint-survey.md reports them.
func TestSurveyFluxReferenceRules(t *testing.T) {
	b, err := os.ReadFile("testdata/survey/flux-reference-rules.yml")
	require.NoError(t, err)
	got := keys(newLinter(t, nil).Lint("flux-reference-rules.yml", b))
	require.Equal(t, []string{
		"8:15 flux/removed-metric warning",      // v1
		"13:50 flux/namespace-label warning",    // v1: summary shows the controller's namespace
		"17:16 promtool/duplicate-rule warning", // the three guide versions share a name here
		"18:19 flux/removed-metric warning",     // v2
		"18:78 flux/namespace-label warning",    // v2: by (namespace, ...)
		"18:159 flux/deleted-status error",      // v2: dead since Flux 2.1
		"27:16 promtool/duplicate-rule warning", //
		"28:19 flux/removed-metric warning",     // v4
		"28:177 flux/deleted-status error",      // v4: dead since Flux 2.1
		"39:19 flux/removed-metric warning",     // flux-mixin
		"39:78 flux/namespace-label warning",    // flux-mixin: by (namespace, ...)
		"44:54 template/dropped-label warning",  // flux-mixin: $labels.exported_namespace always empty
		"55:35 flux/ready-for-reset warning",    // awesome-prometheus-alerts, four times
		"62:35 flux/ready-for-reset warning",
		"65:35 flux/ready-for-reset warning",
		"68:35 flux/ready-for-reset warning",
	}, got)
}
