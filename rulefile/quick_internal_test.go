package rulefile

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/template"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/gotk-rules/gotk-rules/internal/racemode"
	"github.com/gotk-rules/gotk-rules/internal/testcorpus"
)

// corpusFiles is testcorpus.YAMLFiles, every file in make test's plain run
// (FULL_TESTS) and about a hundred under -race, where reading 1,400 files
// twice costs a minute.
func corpusFiles() []string {
	files := testcorpus.YAMLFiles("..")
	step := max(1, len(files)/racemode.Cases(len(files), 100))
	var out []string
	for i := 0; i < len(files); i += step {
		out = append(out, files[i])
	}
	return out
}

// checkQuick asserts quickParse's contract on src: when it accepts, rulefmt
// accepts too, with the same groups. It returns whether quickParse accepted.
func checkQuick(t *testing.T, name string, src []byte, ignoreUnknown bool) bool {
	t.Helper()
	var root yaml.Node
	if yaml.Unmarshal(src, &root) != nil {
		return false
	}
	p := parser.NewParser(parser.Options{})
	got, ok := quickParse(&root, ignoreUnknown, p)
	if !ok {
		return false
	}
	want, errs := rulefmt.Parse(src, ignoreUnknown, model.UTF8Validation, p, discardLog)
	require.Empty(t, errs, "%s: quickParse accepted what rulefmt refuses", name)
	require.Equal(t, want, got, "%s: quickParse read other groups than rulefmt", name)
	return true
}

// manyLabels is n label lines, the one at index repeat (if any) naming the
// label before it again.
func manyLabels(n, repeat int) string {
	var b strings.Builder
	for i := range n {
		name := i
		if i == repeat {
			name = i - 1
		}
		fmt.Fprintf(&b, "      l%d: v\n", name)
	}
	return b.String()
}

func TestQuickParseCases(t *testing.T) {
	const rule = "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up == 0\n"
	for _, tc := range []struct {
		name, src     string
		ignoreUnknown bool
		quick         bool // whether quickParse takes it
	}{
		{name: "plain", src: rule, quick: true},
		{name: "every field", quick: true, src: `groups:
- name: "g"
  interval: 30s
  query_offset: 1m
  limit: 10
  labels: {team: a}
  rules:
  - record: job:up:sum
    expr: sum by (job) (up)
    labels:
      level: "1"
  - alert: A
    expr: up == 0
    for: 5m
    keep_firing_for: 0s
    labels: {severity: page, n: 2, b: true, f: 1.5}
    annotations:
      summary: '{{ $labels.job }} is down: {{ $value | humanize }}'
      description: |
        {{ range query "up" }}{{ .Labels.instance }}{{ end }}
`},
		{name: "empty maps and lists", quick: true, src: "groups:\n- name: g\n  labels: {}\n  rules:\n  - alert: A\n    expr: up\n    labels: {}\n    annotations: {}\n- name: h\n  rules: []\n"},
		{name: "no groups", quick: true, src: "groups: []\n"},
		{name: "no rules", quick: true, src: "groups:\n- name: g\n"},
		{name: "for 0", quick: true, src: "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up\n    for: 0\n"},
		{name: "quoted keys", quick: true, src: "\"groups\":\n- 'name': g\n  rules:\n  - \"alert\": A\n    expr: up\n"},
		{name: "numeric name", quick: true, src: "groups:\n- name: 1\n  rules:\n  - alert: 0x10\n    expr: up\n"},

		{name: "unknown top key", src: "x: 1\n" + rule},
		{name: "unknown top key ignored", src: "x: 1\n" + rule, ignoreUnknown: true, quick: true},
		{name: "unknown rule key", src: rule + "    bogus: 1\n"},
		{name: "unknown rule key ignored", src: rule + "    bogus: 1\n", ignoreUnknown: true, quick: true},
		{name: "repeated key", src: rule + "    expr: down\n"},
		{name: "many labels", quick: true, src: rule + "    labels:\n" + manyLabels(40, -1)},
		{name: "many labels, one repeated early", src: rule + "    labels:\n" + manyLabels(40, 3)},
		{name: "many labels, one repeated late", src: rule + "    labels:\n" + manyLabels(40, 30)},
		{name: "null labels", src: rule + "    labels:\n"},
		{name: "null label value", src: rule + "    labels:\n      a:\n"},
		{name: "null for", src: rule + "    for: ~\n"},
		{name: "anchor", quick: true, src: "groups:\n- name: g\n  rules:\n  - &a\n    alert: A\n    expr: &e up\n"},
		{name: "alias", src: "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: &e up\n  - alert: B\n    expr: *e\n"},
		{name: "alias outside groups", ignoreUnknown: true, quick: true, src: "x: &r {alert: A, expr: up}\ny: *r\n" + rule},
		{name: "merge key", src: "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up\n    labels:\n      <<: {a: b}\n"},
		{name: "tag", src: "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: !!str up\n"},
		{name: "octal limit", src: "groups:\n- name: g\n  limit: 010\n  rules: []\n"},
		{name: "bad duration", src: "groups:\n- name: g\n  interval: 5x\n  rules: []\n"},
		{name: "bad expression", src: "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up ==\n"},
		{name: "record and alert", src: "groups:\n- name: g\n  rules:\n  - alert: A\n    record: r\n    expr: up\n"},
		{name: "neither", src: "groups:\n- name: g\n  rules:\n  - expr: up\n"},
		{name: "braces in record", src: "groups:\n- name: g\n  rules:\n  - record: 'r{a=\"b\"}'\n    expr: up\n"},
		{name: "for in record", src: "groups:\n- name: g\n  rules:\n  - record: r\n    expr: up\n    for: 1m\n"},
		{name: "annotations in record", src: "groups:\n- name: g\n  rules:\n  - record: r\n    expr: up\n    annotations: {a: b}\n"},
		{name: "metric name label", src: rule + "    labels: {__name__: x}\n"},
		{name: "empty group name", src: "groups:\n- name: ''\n  rules: []\n"},
		{name: "repeated group", src: "groups:\n- name: g\n- name: g\n"},
		{name: "unknown template function", src: rule + "    annotations: {a: '{{ nosuch 1 }}'}\n"},
		{name: "bad template", src: rule + "    annotations: {a: '{{ if }}'}\n"},
		{name: "template undefined variable", src: rule + "    labels: {a: '{{ $nope }}'}\n"},
		{name: "groups not a list", src: "groups: {}\n"},
		{name: "groups null", src: "groups:\n"},
		{name: "empty file", src: ""},
		{name: "not a mapping", src: "- a\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.quick, checkQuick(t, tc.name, []byte(tc.src), tc.ignoreUnknown))
		})
	}
}

// TestQuickParseMatchesRulefmt runs quickParse and rulefmt.Parse on every
// YAML file of the repository and the conformance corpus: whatever
// quickParse accepts, rulefmt accepts as the same groups; and quickParse
// takes most of the rule files rulefmt accepts.
func TestQuickParseMatchesRulefmt(t *testing.T) {
	p := parser.NewParser(parser.Options{})
	accepted, quick := 0, 0
	for _, path := range corpusFiles() {
		src, err := os.ReadFile(path)
		require.NoError(t, err)
		for _, ignore := range []bool{false, true} {
			if checkQuick(t, path, src, ignore) {
				quick++
			}
			if rgs, errs := rulefmt.Parse(src, ignore, model.UTF8Validation, p, discardLog); len(errs) == 0 && rgs != nil && len(rgs.Groups) > 0 {
				accepted++
			}
		}
	}
	t.Logf("quickParse took %d of the %d (file, unknown-fields) pairs rulefmt accepts with groups", quick, accepted)
	require.Greater(t, accepted, 0)
	require.GreaterOrEqual(t, quick*10, accepted*8, "quickParse declines too many of the files rulefmt accepts")
}

// TestLoaderSameWithoutQuickParse loads every YAML file of the corpus with
// and without the quick path: the same groups, positions and errors.
func TestLoaderSameWithoutQuickParse(t *testing.T) {
	p := parser.NewParser(parser.Options{})
	for _, path := range corpusFiles() {
		src, err := os.ReadFile(path)
		require.NoError(t, err)
		fast, fastErrs := NewLoader(p, false).ParseContent(path, src)
		disableQuickParse = true
		slow, slowErrs := NewLoader(p, false).ParseContent(path, src)
		disableQuickParse = false
		// rulefmt lists a rule's label and annotation problems in map order.
		require.ElementsMatch(t, slowErrs, fastErrs, path)
		require.Equal(t, slow, fast, path)
	}
}

// TestTemplateFuncs checks the function names templates are parsed with:
// the expander's own are there (read by reflection, which must still find
// them), and each name is one rulefmt's check accepts.
func TestTemplateFuncs(t *testing.T) {
	names := templateFuncs()
	for _, want := range []string{"humanize", "query", "first", "label", "printf", "and"} {
		require.Contains(t, names, want)
	}
	for name := range names {
		e := template.NewTemplateExpander(context.Background(), "{{ "+name+" }}", "t", nil, 0, nil, nil, nil)
		require.NoError(t, e.ParseTest(), name)
	}
	require.False(t, templateParses("A", "{{ nosuchfunction }}"))
}

func FuzzQuickParse(f *testing.F) {
	for _, glob := range []string{"testdata/*.yml", "../rules/*.yml", "../testdata/*/*.yml"} {
		files, _ := filepath.Glob(glob)
		for _, path := range files {
			if b, err := os.ReadFile(path); err == nil {
				f.Add(b, false)
			}
		}
	}
	f.Fuzz(func(t *testing.T, src []byte, ignoreUnknown bool) {
		if len(src) > 1<<16 {
			return
		}
		checkQuick(t, "input", src, ignoreUnknown)
	})
}
