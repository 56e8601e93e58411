package lint

import (
	"bytes"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gotk-rules/gotk-rules/evaluator"
	"github.com/gotk-rules/gotk-rules/lint/linttest"
	"github.com/gotk-rules/gotk-rules/rulefile"
)

// A big file loaded in chunks on several CPUs is the file loaded whole;
// anything unusual falls back to loading it whole.
func TestLoadChunked(t *testing.T) {
	if runtime.GOMAXPROCS(0) < 2 {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	}
	l, err := New(Options{Parser: evaluator.NewEngine(evaluator.Options{}).Parser()})
	require.NoError(t, err)
	var buf bytes.Buffer
	require.NoError(t, linttest.Generate(&buf, 250))
	big := buf.Bytes()

	for name, variant := range map[string]string{
		"generated": string(big),
		// Groups at column 1, comments and blank lines between them.
		"unindented": strings.ReplaceAll(string(big), "\n  ", "\n"),
		"comments":   strings.ReplaceAll(string(big), "\n  - name: group-", "\n\n  # a group\n  - name: group-"),
	} {
		v := []byte(variant)
		whole, errs := l.loader.ParseContent("f.yml", v)
		require.Empty(t, errs, name)
		chunked, errs := l.loadChunked("f.yml", v)
		require.Empty(t, errs, name)
		require.NotNil(t, chunked, "%s: a big plain file is loaded in chunks", name)
		require.Equal(t, whole, chunked, name)
	}

	for name, content := range map[string]string{
		"small":                "groups:\n  - name: a\n    rules:\n      - record: r\n        expr: up\n",
		"an error":             strings.Replace(string(big), "== 0", "== ", 1),
		"a repeated group":     strings.Replace(string(big), "name: group-3\n", "name: group-0\n", 1),
		"a PrometheusRule":     "apiVersion: monitoring.coreos.com/v1\nkind: PrometheusRule\nspec:\n" + indent(string(big)),
		"two documents":        string(big) + "---\ngroups: []\n",
		"not a mapping":        "- a\n- b\n",
		"flow groups":          "groups: [{name: a, rules: []}, {name: b, rules: []}]\n",
		"dash on its own line": "groups:\n  -\n    name: a\n    rules: []\n  -\n    name: b\n    rules: []\n",
		"a key after groups":   string(big) + "other: 1\n",
		"a key before groups":  "other: 1\n" + string(big),
	} {
		c := []byte(content)
		f, errs := l.loadChunked("f.yml", c)
		require.True(t, f == nil && errs == nil, "%s: loaded in chunks", name)
	}

	// The file falls back to a whole load, with promtool's errors.
	bad := []byte(strings.Replace(string(big), "name: group-3\n", "name: group-0\n", 1))
	fs := (&Linter{loader: rulefile.NewLoader(l.parser, false), parser: l.parser, settings: l.settings}).load("f.yml", bad)
	require.Len(t, fs.LoadErrors, 1)
	require.Contains(t, fs.LoadErrors[0].Msg, `groupname: "group-0" is repeated in the same file`)
}

func indent(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = "  " + l
		}
	}
	return strings.Join(lines, "\n")
}
