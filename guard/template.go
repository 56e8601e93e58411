package guard

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"text/template"
	"text/template/parse"
	"time"
	"unsafe"

	promtemplate "github.com/prometheus/prometheus/template"

	"github.com/gotk-rules/gotk-rules/budget"
)

// Go's text/template has no bound on steps, output or time: a template can
// loop for ever ({{range 300000000}}), or grow a string geometrically with
// nested reReplaceAll or printf calls. ExpandTemplate runs it with every
// function call, loop iteration and template call counted as a step (the
// functions are wrapped, and the parsed tree gets a step action at the
// start of every loop body and defined template), output and function
// results bounded, and the time checked at each step.

// stepFunc is the function the step actions call.
const stepFunc = "__gotk_guard_step"

// TemplateFuncs returns the functions of a Prometheus template expander,
// which it does not export: those its Expand runs templates with.
func TemplateFuncs(te *promtemplate.Expander) template.FuncMap {
	v := reflect.ValueOf(te).Elem().FieldByName("funcMap")
	if !v.IsValid() || v.Type() != reflect.TypeFor[template.FuncMap]() {
		return nil
	}
	return *(*template.FuncMap)(unsafe.Pointer(v.UnsafeAddr()))
}

// ExpandTemplate expands text, named name, over data with funcs (such as
// TemplateFuncs'), as Prometheus' Expander.Expand does (missing keys are
// zero values; its errors say "error parsing template" and "error
// executing template"), but within l's template limits: going over one
// returns an error wrapping a *budget.ExceededError (IsLimit). ctx ending
// stops the expansion at its next step.
func (l Limits) ExpandTemplate(ctx context.Context, name, text string, data any, funcs template.FuncMap) (string, error) {
	return parseTemplate(name, text, funcs).expand(ctx, l, data, funcs)
}

// Templates keeps templates parsed by Expand for later expansions of the
// same name and text: an alert's annotations are expanded again whenever
// its value changes, and parsing them each time (with the functions'
// table) cost more than running them. Every expansion through one
// Templates must pass functions of the same names and types (such as
// TemplateFuncs' of Prometheus' expanders). Safe for concurrent use.
type Templates struct {
	mu   sync.Mutex
	idle map[templateKey][]*parsedTemplate
	// kept counts the idle templates, at most maxKeptTemplates.
	kept int
}

type templateKey struct{ name, text string }

// maxKeptTemplates bounds the parsed templates a Templates keeps.
const maxKeptTemplates = 4096

// NewTemplates returns an empty cache of parsed templates.
func NewTemplates() *Templates {
	return &Templates{idle: map[templateKey][]*parsedTemplate{}}
}

// Expand is l.ExpandTemplate(ctx, name, text, data, funcs), with the same
// result and errors, parsing text only when no earlier expansion through
// ts left its parsed template free.
func (ts *Templates) Expand(ctx context.Context, l Limits, name, text string, data any, funcs template.FuncMap) (string, error) {
	k := templateKey{name, text}
	var p *parsedTemplate
	ts.mu.Lock()
	if list := ts.idle[k]; len(list) > 0 {
		p = list[len(list)-1]
		ts.idle[k] = list[:len(list)-1]
		ts.kept--
	}
	ts.mu.Unlock()
	if p == nil || p.funcs != len(funcs) {
		p = parseTemplate(name, text, funcs)
	}
	out, err := p.expand(ctx, l, data, funcs)
	ts.mu.Lock()
	if ts.kept < maxKeptTemplates {
		ts.idle[k] = append(ts.idle[k], p)
		ts.kept++
	}
	ts.mu.Unlock()
	return out, err
}

// parsedTemplate is a template parsed, and its trees instrumented, once.
// Its functions dispatch to those of the expansion running it (cur), so
// that one parse serves expansions with other functions (an expander's
// query function is bound to its evaluation time) and other limits.
type parsedTemplate struct {
	name string
	tmpl *template.Template
	// err is the parse's error, as the expansion returns it.
	err error
	// funcs is how many functions it was parsed with.
	funcs int
	cur   expansion
}

// expansion is what the functions of a running template call.
type expansion struct {
	g     *tmplGuard
	funcs template.FuncMap
}

// parseTemplate parses text with functions of the names and types of
// funcs, and the guard's: each counted as a step and its result checked
// for size by the running expansion's guard.
func parseTemplate(name, text string, funcs template.FuncMap) (p *parsedTemplate) {
	p = &parsedTemplate{name: name, funcs: len(funcs)}
	defer func() {
		// Funcs panics on a value that is not a function, as Prometheus'
		// Expand would; the expansion returns it.
		if r := recover(); r != nil {
			p.tmpl = nil
			if err, ok := r.(error); ok {
				p.err = err
			} else {
				p.err = fmt.Errorf("panic expanding template %v: %v", name, r)
			}
		}
	}()
	tmpl := template.New(name).Funcs(p.dispatchers(funcs)).Option("missingkey=zero")
	tmpl, err := tmpl.Parse(text)
	if err != nil {
		p.err = fmt.Errorf("error parsing template %v: %w", name, err)
		return p
	}
	for _, t := range tmpl.Templates() {
		if t.Tree != nil && t.Root != nil {
			instrument(t.Root)
			t.Root.Nodes = append([]parse.Node{stepNode(t.Root.Pos)}, t.Root.Nodes...)
		}
	}
	p.tmpl = tmpl
	return p
}

// expand runs the template over data with funcs, within l. A
// parsedTemplate runs one expansion at a time.
func (p *parsedTemplate) expand(ctx context.Context, l Limits, data any, funcs template.FuncMap) (result string, resultErr error) {
	if p.err != nil {
		return "", p.err
	}
	l = l.WithDefaults()
	g := &tmplGuard{l: l, ctx: ctx, start: time.Now(), name: p.name}
	p.cur = expansion{g: g, funcs: funcs}
	defer func() {
		p.cur = expansion{}
		if r := recover(); r != nil {
			var ok bool
			if resultErr, ok = r.(error); !ok {
				resultErr = fmt.Errorf("panic expanding template %v: %v", p.name, r)
			}
		}
		if g.err != nil {
			result, resultErr = "", g.err
		}
	}()
	w := &limitedWriter{g: g}
	if err := p.tmpl.Execute(w, data); err != nil {
		if g.err != nil {
			return "", g.err
		}
		return "", fmt.Errorf("error executing template %v: %w", p.name, err)
	}
	return w.buf.String(), nil
}

// tmplGuard counts one expansion's steps and output.
type tmplGuard struct {
	l     Limits
	ctx   context.Context
	start time.Time
	name  string
	steps int64
	// err is the first limit hit; the expansion stops with it.
	err error
}

// fail records the first limit hit and returns it.
func (g *tmplGuard) fail(b budget.Name, limit, asked uint64, subject string) error {
	if g.err == nil {
		g.err = fmt.Errorf("template %s: %w", g.name, &budget.ExceededError{Budget: b, Limit: limit, Asked: asked, Subject: subject})
	}
	return g.err
}

// step counts a step and checks the limits of steps and time.
func (g *tmplGuard) step() error {
	if g.err != nil {
		return g.err
	}
	g.steps++
	if g.steps > g.l.TemplateMaxSteps {
		return g.fail(budget.TemplateSteps, uint64(g.l.TemplateMaxSteps), uint64(g.steps),
			fmt.Sprintf("expansion taking more than %d template steps", g.l.TemplateMaxSteps))
	}
	if g.steps%64 == 0 {
		if d := time.Since(g.start); d > g.l.TemplateTimeout {
			return g.fail(budget.TemplateTime, uint64(g.l.TemplateTimeout.Milliseconds()), uint64(d.Milliseconds()),
				fmt.Sprintf("expansion taking %d ms of template time", d.Milliseconds()))
		}
		if g.ctx != nil && g.ctx.Err() != nil {
			if g.err == nil {
				g.err = fmt.Errorf("template %s stopped: %w", g.name, g.ctx.Err())
			}
			return g.err
		}
	}
	return nil
}

// size checks a string a function returns or is about to build.
func (g *tmplGuard) size(what string, n uint64) error {
	if n > uint64(g.l.TemplateMaxBytes) {
		return g.fail(budget.TemplateBytes, uint64(g.l.TemplateMaxBytes), n,
			fmt.Sprintf("%s of %d bytes, more than the template output bytes", what, n))
	}
	return nil
}

// dispatchers returns functions of the names and types of funcs, and the
// builtins that build strings, each calling the running expansion's
// function of its name (p.cur) counted as a step and checked for size. A
// function that has no error result panics with the limit's error, which
// text/template turns into an execution error.
func (p *parsedTemplate) dispatchers(funcs template.FuncMap) template.FuncMap {
	out := template.FuncMap{
		stepFunc: func() (string, error) { return "", p.cur.g.step() },
		"printf": func(format string, args ...any) (string, error) {
			g := p.cur.g
			if err := g.step(); err != nil {
				return "", err
			}
			if err := g.size("printf width or precision", maxNumber(format)); err != nil {
				return "", err
			}
			return g.checked("printf result", fmt.Sprintf(format, args...))
		},
		"print": func(args ...any) (string, error) {
			g := p.cur.g
			if err := g.step(); err != nil {
				return "", err
			}
			return g.checked("print result", fmt.Sprint(args...))
		},
		"println": func(args ...any) (string, error) {
			g := p.cur.g
			if err := g.step(); err != nil {
				return "", err
			}
			return g.checked("println result", fmt.Sprintln(args...))
		},
	}
	for name, f := range funcs {
		fv := reflect.ValueOf(f)
		if fv.Kind() != reflect.Func {
			out[name] = f
			continue
		}
		ft := fv.Type()
		pre := precheck(name)
		out[name] = reflect.MakeFunc(ft, func(args []reflect.Value) []reflect.Value {
			g := p.cur.g
			if err := g.step(); err != nil {
				panic(err)
			}
			if pre != nil {
				if err := pre(g, args); err != nil {
					panic(err)
				}
			}
			fv := reflect.ValueOf(p.cur.funcs[name])
			if fv.Kind() != reflect.Func || fv.Type() != ft {
				panic(fmt.Errorf("template function %s changed between expansions", name))
			}
			var res []reflect.Value
			if ft.IsVariadic() {
				res = fv.CallSlice(args)
			} else {
				res = fv.Call(args)
			}
			for _, r := range res {
				if r.Kind() == reflect.String {
					if err := g.size(name+" result", uint64(r.Len())); err != nil {
						panic(err)
					}
				}
			}
			return res
		}).Interface()
	}
	return out
}

// checked returns s, or the limit's error when it is too long.
func (g *tmplGuard) checked(what, s string) (string, error) {
	if err := g.size(what, uint64(len(s))); err != nil {
		return "", err
	}
	return s, nil
}

// precheck returns a check of a function's arguments made before it runs,
// for the functions whose result can be much longer than their arguments.
func precheck(name string) func(*tmplGuard, []reflect.Value) error {
	if name != "reReplaceAll" {
		return nil
	}
	return func(g *tmplGuard, args []reflect.Value) error {
		if len(args) != 3 || args[1].Kind() != reflect.String || args[2].Kind() != reflect.String {
			return nil
		}
		// Matches do not overlap: at most len(text)+1 of them, whose
		// lengths add up to at most len(text), each replaced by repl with
		// each $ reference expanded to at most the match.
		repl, text := uint64(args[1].Len()), uint64(args[2].Len())
		refs := uint64(strings.Count(args[1].String(), "$"))
		bound := text + (text+1)*repl + refs*text
		return g.size("reReplaceAll result (at most)", bound)
	}
}

// maxNumber returns the largest run of digits in s (a printf width or
// precision), saturating.
func maxNumber(s string) uint64 {
	var best, n uint64
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= '0' && c <= '9' {
			n = min(n*10+uint64(c-'0'), 1<<62)
			best = max(best, n)
		} else {
			n = 0
		}
	}
	return best
}

// instrument puts a step action at the start of every loop body under n.
func instrument(n parse.Node) {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return
		}
		for _, c := range n.Nodes {
			instrument(c)
		}
	case *parse.RangeNode:
		if n.List != nil {
			instrument(n.List)
			n.List.Nodes = append([]parse.Node{stepNode(n.Position())}, n.List.Nodes...)
		}
		if n.ElseList != nil {
			instrument(n.ElseList)
		}
	case *parse.IfNode:
		instrument(n.List)
		if n.ElseList != nil {
			instrument(n.ElseList)
		}
	case *parse.WithNode:
		instrument(n.List)
		if n.ElseList != nil {
			instrument(n.ElseList)
		}
	}
}

// stepNode is the action {{__gotk_guard_step}}, which prints nothing.
func stepNode(pos parse.Pos) *parse.ActionNode {
	id := parse.NewIdentifier(stepFunc).SetPos(pos)
	cmd := &parse.CommandNode{NodeType: parse.NodeCommand, Pos: pos, Args: []parse.Node{id}}
	pipe := &parse.PipeNode{NodeType: parse.NodePipe, Pos: pos, Cmds: []*parse.CommandNode{cmd}}
	return &parse.ActionNode{NodeType: parse.NodeAction, Pos: pos, Pipe: pipe}
}

// limitedWriter keeps the output, up to the limit.
type limitedWriter struct {
	g   *tmplGuard
	buf bytes.Buffer
}

func (w *limitedWriter) Write(p []byte) (int, error) {
	if n := uint64(w.buf.Len() + len(p)); n > uint64(w.g.l.TemplateMaxBytes) {
		return 0, w.g.size("output", n)
	}
	return w.buf.Write(p)
}

// IsTemplateLimit reports whether err is a template limit hit.
func IsTemplateLimit(err error) bool {
	ee, ok := errors.AsType[*budget.ExceededError](err)
	return ok && (ee.Budget == budget.TemplateSteps || ee.Budget == budget.TemplateBytes || ee.Budget == budget.TemplateTime)
}

// CheckTemplate checks a template's text before it runs: loops over
// integer literals ({{ range 300000000 }}), nested ones multiplied, must
// take at most the template steps. It returns nil for a template that
// does not parse: its expansion reports that, as Prometheus does.
func (l Limits) CheckTemplate(text string) error {
	if !strings.Contains(text, "range") {
		return nil
	}
	l = l.WithDefaults()
	t := parse.New("t")
	t.Mode = parse.SkipFuncCheck
	trees := map[string]*parse.Tree{}
	if _, err := t.Parse(text, "", "", trees); err != nil {
		return nil
	}
	var first *PosError
	var walk func(n parse.Node, steps float64)
	walk = func(n parse.Node, steps float64) {
		switch n := n.(type) {
		case *parse.ListNode:
			if n != nil {
				for _, c := range n.Nodes {
					walk(c, steps)
				}
			}
		case *parse.IfNode:
			walk(n.List, steps)
			walk(n.ElseList, steps)
		case *parse.WithNode:
			walk(n.List, steps)
			walk(n.ElseList, steps)
		case *parse.RangeNode:
			inner := steps
			if p := n.Pipe; p != nil && len(p.Cmds) == 1 && len(p.Cmds[0].Args) == 1 {
				if num, ok := p.Cmds[0].Args[0].(*parse.NumberNode); ok && num.IsInt && num.Int64 > 0 {
					inner = steps * float64(num.Int64)
				}
			}
			if inner > float64(l.TemplateMaxSteps) && first == nil {
				first = exceeded(text, int(n.Position()), budget.TemplateSteps, uint64(l.TemplateMaxSteps), saturate(inner),
					fmt.Sprintf("range loops taking %d template steps", saturate(inner)))
			}
			walk(n.List, inner)
			walk(n.ElseList, steps)
		}
	}
	for _, tr := range trees {
		walk(tr.Root, 1)
	}
	if first != nil {
		return first
	}
	return nil
}
