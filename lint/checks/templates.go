package checks

import (
	"strings"
	"text/template/parse"

	"github.com/gotk-rules/gotk-rules/lint"
)

// ruleTemplate is a template of a rule with its references.
type ruleTemplate struct {
	lint.Template
	Refs []templateRef
}

// ruleTemplates returns the rule's templates and what they reference,
// parsed once per rule.
func ruleTemplates(rule *lint.Rule) []ruleTemplate {
	return rule.Memo("templates", func() any {
		var out []ruleTemplate
		for _, t := range rule.Templates() {
			rt := ruleTemplate{Template: t}
			if strings.Contains(t.Value, "{{") {
				// Rules often share templates: parse each text once per file.
				rt.Refs = rule.Group.File.Memo("template\x00"+t.Value, func() any { return templateRefs(t.Value) }).([]templateRef)
			}
			out = append(out, rt)
		}
		return out
	}).([]ruleTemplate)
}

// The variables Prometheus defines before every alert template
// (model/rulefmt and rules/alerting.go).
const templateDefs = "{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}{{$externalURL := .ExternalURL}}{{$value := .Value}}"

// templateRef is a use of the alert's labels or value in a template.
type templateRef struct {
	Label string // the label read, for $labels.NAME, .Labels.NAME, index $labels "NAME"
	Value bool   // $value or .Value
	Off   int    // byte offset in the template text
}

// templateRefs returns the label and value references of a template, or nil
// when it does not parse (promtool/template reports that).
func templateRefs(text string) []templateRef {
	t := parse.New("t")
	t.Mode = parse.SkipFuncCheck
	trees := map[string]*parse.Tree{}
	if _, err := t.Parse(templateDefs+text, "{{", "}}", trees); err != nil {
		return nil
	}
	var refs []templateRef
	add := func(r templateRef, pos parse.Pos) {
		r.Off = int(pos) - len(templateDefs)
		if r.Off >= 0 {
			refs = append(refs, r)
		}
	}
	var walk func(n parse.Node, top bool)
	walk = func(n parse.Node, top bool) {
		switch x := n.(type) {
		case nil:
		case *parse.ListNode:
			if x == nil {
				return
			}
			for _, c := range x.Nodes {
				walk(c, top)
			}
		case *parse.ActionNode:
			walk(x.Pipe, top)
		case *parse.PipeNode:
			if x == nil {
				return
			}
			for _, c := range x.Cmds {
				walk(c, top)
			}
		case *parse.CommandNode:
			if len(x.Args) >= 3 {
				if id, ok := x.Args[0].(*parse.IdentifierNode); ok && id.Ident == "index" {
					if s, ok := x.Args[2].(*parse.StringNode); ok && isLabelsMap(x.Args[1], top) {
						add(templateRef{Label: s.Text}, x.Args[1].Position())
					}
				}
			}
			for _, a := range x.Args {
				walk(a, top)
			}
		case *parse.VariableNode:
			switch {
			case x.Ident[0] == "$labels" && len(x.Ident) > 1:
				add(templateRef{Label: x.Ident[1]}, x.Pos)
			case x.Ident[0] == "$value":
				add(templateRef{Value: true}, x.Pos)
			}
		case *parse.FieldNode:
			if !top {
				return
			}
			switch {
			case x.Ident[0] == "Labels" && len(x.Ident) > 1:
				add(templateRef{Label: x.Ident[1]}, x.Pos)
			case x.Ident[0] == "Value":
				add(templateRef{Value: true}, x.Pos)
			}
		case *parse.ChainNode:
			walk(x.Node, top)
		case *parse.IfNode:
			walk(x.Pipe, top)
			walk(x.List, top)
			walk(x.ElseList, top)
		case *parse.WithNode:
			walk(x.Pipe, top)
			walk(x.List, false) // dot is something else inside
			walk(x.ElseList, top)
		case *parse.RangeNode:
			walk(x.Pipe, top)
			walk(x.List, false)
			walk(x.ElseList, top)
		case *parse.TemplateNode:
			walk(x.Pipe, top)
		}
	}
	for _, tree := range trees {
		if tree.Root != nil {
			walk(tree.Root, true)
		}
	}
	return refs
}

func isLabelsMap(n parse.Node, top bool) bool {
	switch x := n.(type) {
	case *parse.VariableNode:
		return len(x.Ident) == 1 && x.Ident[0] == "$labels"
	case *parse.FieldNode:
		return top && len(x.Ident) == 1 && x.Ident[0] == "Labels"
	}
	return false
}
