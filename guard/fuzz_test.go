package guard_test

import (
	"strings"
	"testing"
	"time"

	"github.com/gotk-rules/gotk-rules/guard"
)

// FuzzCheckExpr checks that whatever CheckExpr lets through, the upstream
// parser parses quickly and CheckAST checks without failing, and that
// neither panics.
func FuzzCheckExpr(f *testing.F) {
	for _, s := range []string{
		"x", `sum by (a) (rate(x{b="c"}[5m]))`, "max_over_time(x[100y:1ms])",
		"((((x))))", "a or b or c", `label_join(x, "a", "", "a", "a")`,
		`x{a="((("} # ((`, "max_over_time(x[1m*2:])", "-(-(-x))", "`raw\\`",
		"x offset -1m @ start()", `"unterminated`, "abs(", "))))",
	} {
		f.Add(s)
	}
	l := guard.Limits{MaxExprBytes: 4096, MaxDepth: 64, MaxOperators: 64, MaxSteps: 100_000, MaxLabelGrowth: 16}
	f.Fuzz(func(t *testing.T, src string) {
		if err := l.CheckExpr(src); err != nil {
			return
		}
		start := time.Now()
		expr, err := upstream.ParseExpr(src)
		if d := time.Since(start); d > time.Second {
			t.Fatalf("parsing %q took %s after CheckExpr passed", src, d)
		}
		if err != nil {
			return
		}
		_ = l.CheckAST(expr, src, guard.Eval{SubqueryStep: time.Minute})
	})
}

// FuzzTemplateGuard checks that a template expanded within small limits
// ends quickly, within its output bound, without panicking.
func FuzzTemplateGuard(f *testing.F) {
	for _, s := range []string{
		"{{ .Value }}", "{{ range 300000000 }}{{ end }}", `{{ "ab" | reReplaceAll "" "xxxx" | reReplaceAll "" "xxxx" }}`,
		`{{ define "a" }}{{ template "a" . }}{{ end }}{{ template "a" . }}`, `{{ printf "%09999999d" 1 }}`,
		"{{ range $i, $v := .Labels }}{{ $i }}{{ end }}", "{{ if }}", "{{ humanize .Value }}",
		"{{ range 10 }}{{ range 10 }}{{ toUpper \"x\" }}{{ end }}{{ end }}",
	} {
		f.Add(s)
	}
	l := guard.Limits{TemplateMaxSteps: 10_000, TemplateMaxBytes: 10_000, TemplateTimeout: time.Second}
	f.Fuzz(func(t *testing.T, text string) {
		if strings.Contains(text, "query") {
			return // no query function in this test
		}
		start := time.Now()
		_ = l.CheckTemplate(text)
		out, _ := expand(t, l, text)
		if len(out) > 10_000 {
			t.Fatalf("%q: output of %d bytes", text, len(out))
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("%q took %s", text, d)
		}
	})
}
