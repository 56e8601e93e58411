package checks

import (
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/gotk-rules/gotk-rules/lint"
	"github.com/gotk-rules/gotk-rules/lint/source"
	"github.com/gotk-rules/gotk-rules/rulefile"
)

// The four promtool/* checks split what rulefile (Prometheus' own rulefmt
// validation) refuses, by kind; this file holds what they share.

const (
	classYAML     = "promtool/yaml"
	classPromQL   = "promtool/promql"
	classTemplate = "promtool/template"
	classRule     = "promtool/rule"
)

var (
	rulePrefix  = regexp.MustCompile(`^group "(?:[^"\\]|\\.)*", rule \d+, "(?:[^"\\]|\\.)*": `)
	templateMsg = regexp.MustCompile(`^(?:label|annotation) "(?:[^"\\]|\\.)*": template: `)
)

// classify tells which promtool check reports a load error.
func classify(msg string) string {
	inner := rulePrefix.ReplaceAllString(msg, "")
	switch {
	case strings.HasPrefix(msg, "yaml:"),
		strings.HasPrefix(msg, "not a rule file"),
		strings.HasPrefix(msg, "PrometheusRule has no spec"),
		strings.HasPrefix(msg, "spec.groups must be"),
		strings.HasPrefix(msg, "read:"), strings.HasPrefix(msg, "open:"):
		return classYAML
	case strings.HasPrefix(inner, "could not parse expression:"):
		return classPromQL
	case templateMsg.MatchString(inner):
		return classTemplate
	}
	return classRule
}

// loadErrors calls fn with each load error of the given class.
func loadErrors(f *lint.File, class string, fn func(e rulefile.Error)) {
	for _, e := range f.LoadErrors {
		if classify(e.Msg) == class {
			fn(e)
		}
	}
}

// errorPos is where a load error is: its own position, with the column
// found on the line when rulefile gave none.
func errorPos(f *lint.File, e rulefile.Error) source.Pos {
	if e.Line <= 0 {
		return source.Pos{Line: 1, Column: 1}
	}
	if e.Column > 0 {
		return source.Pos{Line: e.Line, Column: e.Column}
	}
	return f.Source().FirstNonSpace(e.Line)
}

// parentOf returns the mapping holding key node k and k's value, or nils.
func parentOf(f *lint.File, k *yaml.Node) (*yaml.Node, *yaml.Node) {
	var found, val *yaml.Node
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		if n == nil || found != nil {
			return
		}
		if n.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i] == k {
					found, val = n, n.Content[i+1]
					return
				}
			}
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	if d := f.Source().DocAt(k.Line); d != nil {
		walk(d.Root)
	}
	return found, val
}
