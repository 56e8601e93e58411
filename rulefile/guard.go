package rulefile

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"text/template/parse"

	"github.com/gotk-rules/gotk-rules/guard"
)

// checkTemplates refuses, up front, the queries written as literals in
// the label and annotation templates of g's alerting rules that the
// loader's parser refuses as over a guard limit (a subquery of too many
// steps, say): Prometheus would run them at each alert's expansion.
// Queries built at expansion time are refused then, by the engine's
// parser. With a guard.Parser, loops over integer literals that take more
// than its template steps are refused too (guard.Limits.CheckTemplate):
// they are refused whether the rule runs on Prometheus' own alerting rule
// (--exact) or the evaluator's, which bounds every expansion.
func (l *Loader) checkTemplates(path string, g Group) ErrorList {
	var errs ErrorList
	for ri, r := range g.RuleGroup.Rules {
		if r.Alert == "" {
			continue
		}
		check := func(section string, m map[string]string) {
			names := make([]string, 0, len(m))
			for name := range m {
				names = append(names, name)
			}
			sort.Strings(names)
			for _, name := range names {
				var pos Position
				if ri < len(g.Rules) {
					pos = g.Rules[ri].Keys[section+"."+name]
				}
				what := fmt.Sprintf("group %q, rule %q, %s %q", g.Name, r.Alert, strings.TrimSuffix(section, "s"), name)
				if gp, ok := l.parser.(*guard.Parser); ok {
					if err := gp.Limits.CheckTemplate(m[name]); err != nil {
						pe, _ := errors.AsType[*guard.PosError](err)
						errs = append(errs, Error{File: path, Line: pos.Line, Column: pos.Column, Limit: pe,
							Msg: fmt.Sprintf("%s: template %v", what, err)})
						continue
					}
				}
				for _, q := range templateQueries(m[name]) {
					_, err := l.parser.ParseExpr(q)
					pe, ok := errors.AsType[*guard.PosError](err)
					if !ok {
						continue // other errors are the expansion's, as in Prometheus
					}
					errs = append(errs, Error{File: path, Line: pos.Line, Column: pos.Column, Limit: pe,
						Msg: fmt.Sprintf("%s: query %q: %v", what, q, pe)})
				}
			}
		}
		check("labels", r.Labels)
		check("annotations", r.Annotations)
	}
	return errs
}

// templateQueries returns the string literals a template passes to query.
func templateQueries(text string) []string {
	if !strings.Contains(text, "query") {
		return nil
	}
	t := parse.New("t")
	t.Mode = parse.SkipFuncCheck
	trees := map[string]*parse.Tree{}
	if _, err := t.Parse(text, "", "", trees); err != nil {
		return nil
	}
	var out []string
	var walk func(parse.Node)
	walk = func(n parse.Node) {
		switch n := n.(type) {
		case *parse.ListNode:
			if n != nil {
				for _, c := range n.Nodes {
					walk(c)
				}
			}
		case *parse.ActionNode:
			walk(n.Pipe)
		case *parse.PipeNode:
			if n != nil {
				for _, c := range n.Cmds {
					walk(c)
				}
			}
		case *parse.CommandNode:
			for i, a := range n.Args {
				if id, ok := a.(*parse.IdentifierNode); ok && id.Ident == "query" && i+1 < len(n.Args) {
					if s, ok := n.Args[i+1].(*parse.StringNode); ok {
						out = append(out, s.Text)
					}
				}
				walk(a)
			}
		case *parse.IfNode:
			walk(n.Pipe)
			walk(n.List)
			walk(n.ElseList)
		case *parse.RangeNode:
			walk(n.Pipe)
			walk(n.List)
			walk(n.ElseList)
		case *parse.WithNode:
			walk(n.Pipe)
			walk(n.List)
			walk(n.ElseList)
		}
	}
	for _, t := range trees {
		walk(t.Root)
	}
	return out
}
