package rulefile_test

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/stretchr/testify/require"

	"github.com/gotk-rules/gotk-rules/rulefile"
)

func newLoader(ignoreUnknownFields bool) *rulefile.Loader {
	return rulefile.NewLoader(parser.NewParser(parser.Options{}), ignoreUnknownFields)
}

func load(t *testing.T, path string) *rulefile.File {
	t.Helper()
	f, err := newLoader(false).LoadFile(path)
	require.NoError(t, err)
	require.Equal(t, path, f.Path)
	return f
}

// loadErrors loads a file that must not load and returns its problems.
func loadErrors(t *testing.T, path string, ignoreUnknownFields bool) rulefile.ErrorList {
	t.Helper()
	f, err := newLoader(ignoreUnknownFields).LoadFile(path)
	require.Error(t, err)
	require.Nil(t, f)
	var list rulefile.ErrorList
	require.True(t, errors.As(err, &list), "error is a %T, want rulefile.ErrorList", err)
	require.NotEmpty(t, list)
	for _, e := range list {
		require.Equal(t, path, e.File)
	}
	return list
}

// groupNames lists the names of a file's groups.
func groupNames(f *rulefile.File) []string {
	var out []string
	for _, g := range f.Groups {
		out = append(out, g.Name)
	}
	return out
}

// lineOf is the 1-based line of the first line of path containing s, so
// expected positions follow the test data when it is edited.
func lineOf(t *testing.T, path, s string, nth int) int {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	seen := 0
	for i, l := range strings.Split(string(b), "\n") {
		if strings.Contains(l, s) {
			if seen == nth {
				return i + 1
			}
			seen++
		}
	}
	t.Fatalf("%s: no line %d containing %q", path, nth, s)
	return 0
}

func TestLoadPlain(t *testing.T) {
	const path = "testdata/plain.yml"
	f := load(t, path)
	require.Equal(t, []string{"recording", "alerting"}, groupNames(f))

	rec := f.Groups[0]
	require.Equal(t, model.Duration(30*time.Second), rec.Interval)
	require.Equal(t, rulefile.Position{Line: 3, Column: 3}, rec.Pos)
	require.Len(t, rec.RuleGroup.Rules, 1)
	require.Equal(t, "job:up:sum", rec.RuleGroup.Rules[0].Record)
	require.Equal(t, "sum by (job) (up)", rec.RuleGroup.Rules[0].Expr)
	require.Equal(t, []rulefile.RulePos{{Pos: rulefile.Position{Line: 6, Column: 5}, Expr: rulefile.Position{Line: 7, Column: 11}, Keys: map[string]rulefile.Position{}}}, rec.Rules)

	al := f.Groups[1]
	require.Equal(t, rulefile.Position{Line: 8, Column: 3}, al.Pos)
	require.Len(t, al.RuleGroup.Rules, 2)
	r := al.RuleGroup.Rules[0]
	require.Equal(t, "InstanceDown", r.Alert)
	require.Equal(t, model.Duration(5*time.Minute), r.For)
	require.Equal(t, map[string]string{"severity": "page"}, r.Labels)
	require.Equal(t, "Instance {{ $labels.instance }} down", r.Annotations["summary"])
	require.Len(t, al.Rules, 2)
	require.Equal(t, rulefile.Position{Line: 10, Column: 5}, al.Rules[0].Pos)
	require.Equal(t, rulefile.Position{Line: 11, Column: 11}, al.Rules[0].Expr)
	require.Equal(t, map[string]rulefile.Position{
		"labels.severity":     {Line: 14, Column: 7},
		"annotations.summary": {Line: 16, Column: 7},
		"annotations.runbook": {Line: 17, Column: 7},
	}, al.Rules[0].Keys)
	require.Equal(t, rulefile.Position{Line: 18, Column: 5}, al.Rules[1].Pos)

	// RuleGroups is Prometheus' own representation of the same groups.
	rgs := f.RuleGroups()
	require.Len(t, rgs.Groups, 2)
	require.Equal(t, rec.RuleGroup, rgs.Groups[0])
	require.Equal(t, al.RuleGroup, rgs.Groups[1])
}

func TestLoadMultiDocument(t *testing.T) {
	const path = "testdata/multidoc.yml"
	f := load(t, path)
	require.Equal(t, []string{"first", "second"}, groupNames(f))
	require.Equal(t, 0, f.Groups[0].Document)
	require.Equal(t, 1, f.Groups[1].Document)
	// Positions in the second document are lines of the whole file.
	require.Equal(t, lineOf(t, path, "name: second", 0), f.Groups[1].Pos.Line)
	require.Equal(t, lineOf(t, path, "expr: sum(b)", 0), f.Groups[1].Rules[0].Expr.Line)
	require.Equal(t, "sum(b)", f.Groups[1].RuleGroup.Rules[0].Expr)
}

func TestLoadPrometheusRule(t *testing.T) {
	const path = "testdata/prometheusrule.yml"
	f := load(t, path)
	// metadata.labels.groups is not spec.groups.
	require.Equal(t, []string{"flux", "flux-records"}, groupNames(f))

	flux := f.Groups[0]
	require.Equal(t, rulefile.Position{Line: lineOf(t, path, "- name: flux", 0), Column: 5}, flux.Pos)
	require.Len(t, flux.Rules, 1)
	require.Equal(t, rulefile.Position{Line: lineOf(t, path, "- alert: ReconciliationFailure", 0), Column: 7}, flux.Rules[0].Pos)
	require.Equal(t, rulefile.Position{Line: lineOf(t, path, "expr: |", 0), Column: 13}, flux.Rules[0].Expr)
	require.Equal(t, rulefile.Position{Line: lineOf(t, path, "severity: page", 0), Column: 9}, flux.Rules[0].Keys["labels.severity"])
	r := flux.RuleGroup.Rules[0]
	require.Equal(t, "ReconciliationFailure", r.Alert)
	require.Equal(t, model.Duration(10*time.Minute), r.For)
	require.Contains(t, r.Expr, `max(gotk_reconcile_condition{status="False",type="Ready"})`)

	rec := f.Groups[1]
	require.Equal(t, lineOf(t, path, "- name: flux-records", 0), rec.Pos.Line)
	require.Equal(t, lineOf(t, path, "expr: count(gotk_reconcile_condition)", 0), rec.Rules[0].Expr.Line)
	require.Equal(t, "gotk:reconcile:count", rec.RuleGroup.Rules[0].Record)
}

func TestLoadPrometheusRuleDocuments(t *testing.T) {
	const path = "testdata/prometheusrules.yml"
	f := load(t, path)
	require.Equal(t, []string{"one", "two"}, groupNames(f))
	require.Equal(t, []int{0, 1}, []int{f.Groups[0].Document, f.Groups[1].Document})
	require.Equal(t, lineOf(t, path, "- name: two", 0), f.Groups[1].Pos.Line)
	require.Equal(t, lineOf(t, path, "expr: sum(two)", 0), f.Groups[1].Rules[0].Expr.Line)
}

func TestLoadKubernetesList(t *testing.T) {
	// A kind: List of PrometheusRule objects (kubectl get -o yaml) loads
	// every item's groups, each with its own position.
	f := load(t, "testdata/list.yml")
	require.Len(t, f.Groups, 2)
	require.Equal(t, "one", f.Groups[0].Name)
	require.Equal(t, rulefile.Position{Line: 10, Column: 7}, f.Groups[0].Pos)
	require.Equal(t, 13, f.Groups[0].Rules[0].Expr.Line)
	require.Equal(t, "two", f.Groups[1].Name)
	require.Equal(t, rulefile.Position{Line: 20, Column: 7}, f.Groups[1].Pos)
	require.Equal(t, 23, f.Groups[1].Rules[0].Expr.Line)

	// An item that is not a PrometheusRule is refused at its position.
	_, errs := newLoader(false).ParseContent("x.yml", []byte("kind: List\napiVersion: v1\nitems:\n- kind: ConfigMap\n  apiVersion: v1\n"))
	require.Contains(t, errs.Error(), `x.yml:4:3: not a rule: list item of kind "ConfigMap" (want PrometheusRule)`)
}

func TestLoadNotRules(t *testing.T) {
	errs := loadErrors(t, "testdata/configmap.yml", false)
	require.Equal(t, rulefile.ErrorList{{File: "testdata/configmap.yml", Line: 1, Column: 13,
		Msg: `not a rule file: Kubernetes object of kind "ConfigMap" (want PrometheusRule)`}}, errs)

	f := func(content, wantMsg string) {
		t.Helper()
		_, errs := newLoader(false).ParseContent("x.yml", []byte(content))
		require.NotEmpty(t, errs)
		require.Contains(t, errs.Error(), wantMsg)
	}
	f("- a\n- b\n", "x.yml:1:1: not a rule file")
	f("just text\n", "x.yml:1:1: not a rule file")
	f("kind: PrometheusRule\napiVersion: monitoring.coreos.com/v1\n", "x.yml:1:7: PrometheusRule has no spec mapping")
	f("groups: [\n", "x.yml:")
}

func TestLoadEmpty(t *testing.T) {
	f := func(content string) {
		t.Helper()
		file, errs := newLoader(false).ParseContent("x.yml", []byte(content))
		require.Empty(t, errs)
		require.Empty(t, file.Groups)
	}
	f("")
	f("# only a comment\n")
	f("---\n---\n")
	f("null\n")
	f("apiVersion: monitoring.coreos.com/v1\nkind: PrometheusRule\nspec: {}\n")
}

func TestLoadErrorsAllReported(t *testing.T) {
	const path = "testdata/errors.yml"
	errs := loadErrors(t, path, false)
	want := []struct {
		line, col int
		msg       string
	}{
		{lineOf(t, path, "expr: sum(up) by (job", 0), 11, `group "broken", rule 1, "BadExpr": could not parse expression: 1:16: parse error: unclosed left parenthesis`},
		{lineOf(t, path, "summary: '{{ $labels.job '", 0), 7, `group "broken", rule 2, "BadTemplate": annotation "summary": template: `},
		{lineOf(t, path, "record: job:up:sum", 0), 13, `group "broken", rule 3, "job:up:sum": invalid field 'for' in recording rule`},
		{lineOf(t, path, "- alert: NoExpr", 0), 5, `group "broken-too", rule 1, "NoExpr": field 'expr' must be set in rule`},
	}
	require.Len(t, errs, len(want), "%v", errs)
	lines := strings.Split(errs.Error(), "\n")
	require.Len(t, lines, len(want))
	pos := regexp.MustCompile(`^testdata/errors\.yml:\d+:\d+: `)
	for i, w := range want {
		require.Equal(t, w.line, errs[i].Line, "error %d: %v", i, errs[i])
		require.Equal(t, w.col, errs[i].Column, "error %d: %v", i, errs[i])
		require.True(t, strings.HasPrefix(errs[i].Msg, w.msg), "error %d: %q", i, errs[i].Msg)
		require.Regexp(t, pos, lines[i])
	}
	require.Len(t, errs.Errors(), len(want))
	require.Equal(t, errs[0], errs.Errors()[0])
}

func TestLoadBadDuration(t *testing.T) {
	// rulefmt decodes twice and gives no position: reported once, at the value.
	errs := loadErrors(t, "testdata/bad_duration.yml", false)
	require.Equal(t, rulefile.ErrorList{{File: "testdata/bad_duration.yml", Line: 8, Column: 10,
		Msg: `unknown unit "x" in duration "10x"`}}, errs)
}

func TestLoadDuplicateGroups(t *testing.T) {
	f := func(path string, want ...string) {
		t.Helper()
		errs := loadErrors(t, path, false)
		require.Equal(t, want, strings.Split(errs.Error(), "\n"))
	}
	// In one document: rulefmt's check, placed at the repeat.
	f("testdata/duplicate_groups.yml",
		`testdata/duplicate_groups.yml:6:3: groupname: "same" is repeated in the same file`)
	f("testdata/duplicate_groups_many.yml",
		`testdata/duplicate_groups_many.yml:8:3: groupname: "same" is repeated in the same file`,
		`testdata/duplicate_groups_many.yml:12:5: groupname: "same" is repeated in the same file`,
		`testdata/duplicate_groups_many.yml:14:3: Groupname must not be empty`)
	// Across documents: the loader's own check.
	f("testdata/duplicate_groups_docs.yml",
		`testdata/duplicate_groups_docs.yml:8:3: group "same" is repeated in the same file (first at line 2)`)
}

func TestLoadUnknownFields(t *testing.T) {
	const path = "testdata/unknown_field.yml"
	errs := loadErrors(t, path, false)
	// The key's column; the decoder's problems are one, saying how many more.
	require.Equal(t, rulefile.ErrorList{
		{File: path, Line: 3, Column: 3, Msg: "yaml: field owner not found in type rulefmt.RuleGroup (and 1 more error)"},
	}, errs)

	f, err := newLoader(true).LoadFile(path)
	require.NoError(t, err)
	require.Equal(t, []string{"extra"}, groupNames(f))
	require.Equal(t, "sum(a)", f.Groups[0].RuleGroup.Rules[0].Expr)
}

func TestLoadMissingFile(t *testing.T) {
	errs := loadErrors(t, "testdata/missing.yml", false)
	require.Equal(t, rulefile.ErrorList{{File: "testdata/missing.yml", Msg: "open: no such file or directory"}}, errs)
}

func TestLoaderCacheAndPreload(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "rules.yml")
	require.NoError(t, os.WriteFile(path, []byte("groups:\n- name: before\n  rules: []\n"), 0o644))
	l := newLoader(false)
	f1, err := l.LoadFile(path)
	require.NoError(t, err)
	require.Equal(t, []string{"before"}, groupNames(f1))
	// Loaded once: a change on disk is not seen by the same loader.
	require.NoError(t, os.WriteFile(path, []byte("groups:\n- name: after\n  rules: []\n"), 0o644))
	f2, err := l.LoadFile(path)
	require.NoError(t, err)
	require.Same(t, f1, f2)

	// Preloaded content stands for a file that does not exist.
	l.Preload("embedded/rules.yml", []byte("groups:\n- name: embedded\n  rules:\n  - record: a\n    expr: b\n"))
	f3, err := l.LoadFile("embedded/rules.yml")
	require.NoError(t, err)
	require.Equal(t, []string{"embedded"}, groupNames(f3))

	// Load is the rules.GroupLoader view of the same.
	rgs, errs := l.Load("embedded/rules.yml", false, model.UTF8Validation)
	require.Empty(t, errs)
	require.Equal(t, "embedded", rgs.Groups[0].Name)
	_, errs = l.Load("testdata/errors.yml", false, model.UTF8Validation)
	require.Len(t, errs, 4)
	_, errs = l.Load("testdata/missing.yml", false, model.UTF8Validation)
	require.Len(t, errs, 1)
	expr, err := l.Parse("sum(up)")
	require.NoError(t, err)
	require.Equal(t, "sum(up)", expr.String())
}

func TestLoaderConcurrent(t *testing.T) {
	l := newLoader(false)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, p := range []string{"testdata/plain.yml", "testdata/prometheusrule.yml", "testdata/errors.yml"} {
				_, _ = l.LoadFile(p)
			}
		}()
	}
	wg.Wait()
	f, err := l.LoadFile("testdata/plain.yml")
	require.NoError(t, err)
	require.Len(t, f.Groups, 2)
}

func TestParseBytes(t *testing.T) {
	p := parser.NewParser(parser.Options{})
	f, err := rulefile.ParseBytes(p, "mem.yml", []byte("\xef\xbb\xbfgroups:\n- name: bom\n  rules: []\n"), false)
	require.NoError(t, err)
	require.Equal(t, []string{"bom"}, groupNames(f))

	_, err = rulefile.ParseBytes(p, "mem.yml", []byte("groups:\n- name: x\n  rules:\n  - record: a\n    expr: mad_over_time(b[5m])\n"), false)
	require.ErrorContains(t, err, `mem.yml:5:11: group "x", rule 1, "a": could not parse expression`)
	// The parser given decides which functions exist.
	_, err = rulefile.ParseBytes(parser.NewParser(parser.Options{EnableExperimentalFunctions: true}), "mem.yml",
		[]byte("groups:\n- name: x\n  rules:\n  - record: a\n    expr: mad_over_time(b[5m])\n"), false)
	require.NoError(t, err)
}

func TestErrorFormat(t *testing.T) {
	f := func(e rulefile.Error, want string) {
		t.Helper()
		require.Equal(t, want, e.Error())
	}
	f(rulefile.Error{File: "a.yml", Msg: "m"}, "a.yml: m")
	f(rulefile.Error{File: "a.yml", Line: 3, Msg: "m"}, "a.yml:3: m")
	f(rulefile.Error{File: "a.yml", Line: 3, Column: 7, Msg: "m"}, "a.yml:3:7: m")
	f(rulefile.Error{File: "a.yml", Column: 7, Msg: "m"}, "a.yml: m")
	require.Equal(t, "a.yml:1: x\nb.yml:2:3: y", rulefile.ErrorList{{File: "a.yml", Line: 1, Msg: "x"}, {File: "b.yml", Line: 2, Column: 3, Msg: "y"}}.Error())
}

// TestRuleProblemsInPositionOrder: rulefmt reports a rule's label and
// annotation problems in map order; the loader gives them in the order of
// their positions, the same at every run.
func TestRuleProblemsInPositionOrder(t *testing.T) {
	src := []byte(`groups:
- name: g
  rules:
  - alert: A
    expr: up == 0
    labels:
      a: "{{ if }}"
      b: "{{ end }}"
    annotations:
      c: "{{ . "
      d: "{{ nosuch }}"
      e: "{{ range }}"
`)
	var first []string
	for range 20 {
		_, errs := newLoader(false).ParseContent("r.yml", src)
		require.Len(t, errs, 5)
		var got []string
		for _, e := range errs {
			got = append(got, e.Error())
		}
		require.True(t, sortedByLine(errs), "%q", got)
		if first == nil {
			first = got
		}
		require.Equal(t, first, got)
	}
}

func sortedByLine(errs rulefile.ErrorList) bool {
	for i := 1; i < len(errs); i++ {
		if errs[i].Line < errs[i-1].Line {
			return false
		}
	}
	return true
}
