// Package mutate is mutation testing for Prometheus rules: it changes one
// rule of a rule file at a time (a threshold moved, a `for` shortened, a
// matcher dropped, ...) and runs the unit tests against each change. A
// change the tests notice is killed; one they do not notice survived, and
// is a test someone should write.
//
// Each operator family lives in its own file (op_*.go), as pint keeps one
// check per file. Expression operators change the PromQL syntax tree and
// write it back with String(); rule operators (for, keep_firing_for,
// labels, annotations) change one value. Either way only the rule's value
// is rewritten in the rule file's text: every other byte, and every line
// number, stays.
package mutate

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"

	"go.yaml.in/yaml/v3"

	"github.com/gotk-rules/gotk-rules/rulefile"
)

// Mutant is one change to one rule of a rule file.
type Mutant struct {
	// File is the rule file, as the test files resolve it.
	File string `json:"file"`
	// Line and Column place the change in File (1-based).
	Line   int `json:"line"`
	Column int `json:"column"`
	// Rule is the alert or record name of the rule changed.
	Rule string `json:"rule"`
	// Operator is the operator family that made the change (Operators).
	Operator string `json:"operator"`
	// Original and Mutated are the text changed, before and after.
	Original string `json:"original"`
	Mutated  string `json:"mutated"`
	// Content is the whole rule file with the change.
	Content []byte `json:"-"`
	// Invalid, when set, says why the mutant cannot be loaded (its
	// expression does not parse): it is reported as an error, not run.
	Invalid string `json:"-"`

	// hint words, for a survivor, which test would kill it.
	hint string
	// alert is true for a mutant of an alerting rule.
	alert bool
}

// Operator is one family of mutations.
type Operator struct {
	// Name is how --operators names the family.
	Name string
	// Doc says what the family changes.
	Doc string

	// expr, for an expression operator, lists the changes of one node
	// of a parsed expression (src is the expression's text).
	expr func(n parser.Node, x *exprCtx) []change
	// rule, for a rule operator, lists the changes of one rule.
	rule func(r *ruleSite) []Mutant
}

// exprCtx is what expression operators know besides the node: the
// expression's text, and label names the tests' input series have (to
// add one to a grouping).
type exprCtx struct {
	src    string
	labels []string
}

// change is one change of a node: apply does it, in place, on the node of
// a freshly parsed tree.
type change struct {
	original, mutated string
	// pos is the change's byte offset in the expression.
	pos   int
	apply func(n parser.Node)
	hint  string
}

// Operators lists every operator family, in the order mutants are made.
var Operators = []Operator{
	comparisonOperator,
	thresholdOperator,
	forOperator,
	keepFiringForOperator,
	aggregationOperator,
	matchingOperator,
	matcherOperator,
	setOperator,
	rangeOperator,
	offsetOperator,
	rateOperator,
	labelsOperator,
	annotationsOperator,
}

// OperatorNames returns the names of the operator families.
func OperatorNames() []string {
	names := make([]string, len(Operators))
	for i, o := range Operators {
		names[i] = o.Name
	}
	return names
}

// SelectOperators returns the families named, every family when names is
// empty; an unknown name is an error naming the known ones.
func SelectOperators(names []string) ([]Operator, error) {
	if len(names) == 0 {
		return Operators, nil
	}
	var out []Operator
	for _, n := range names {
		n = strings.TrimSpace(n)
		i := slices.IndexFunc(Operators, func(o Operator) bool { return o.Name == n })
		if i < 0 {
			return nil, fmt.Errorf("unknown operator %q (known: %s)", n, strings.Join(OperatorNames(), ", "))
		}
		if !slices.ContainsFunc(out, func(o Operator) bool { return o.Name == n }) {
			out = append(out, Operators[i])
		}
	}
	return out, nil
}

// ruleSite is one rule of a rule file, with what its operators need.
type ruleSite struct {
	file string
	src  *source
	rule rulefmt.Rule
	// node is the rule's YAML mapping.
	node *yaml.Node
	name string
	// labels are label names of the tests' input series, sorted.
	labels []string
}

// Generate returns the mutants of every rule of the rule file at path,
// whose text is content, made by ops, sorted by position. p parses
// expressions (the engine's, with its features). labels are label names of
// the tests' input series, to add to groupings; nil falls back to common
// ones (instance, job).
func Generate(p parser.Parser, path string, content []byte, ops []Operator, labels []string) ([]Mutant, error) {
	f, err := rulefile.ParseBytes(p, path, content, true)
	if err != nil {
		return nil, err
	}
	src, err := newSource(content)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var out []Mutant
	for _, g := range f.Groups {
		for i, rule := range g.RuleGroup.Rules {
			if i >= len(g.Rules) {
				break
			}
			node := src.maps[[2]int{g.Rules[i].Pos.Line, g.Rules[i].Pos.Column}]
			if node == nil {
				continue // not found in the text: left alone
			}
			site := &ruleSite{file: path, src: src, rule: rule, node: node, name: rule.Alert + rule.Record, labels: labels}
			for _, op := range ops {
				var ms []Mutant
				if op.expr != nil {
					ms = exprMutants(p, site, op)
				} else {
					ms = op.rule(site)
				}
				for j := range ms {
					ms[j].File, ms[j].Rule, ms[j].Operator, ms[j].alert = path, site.name, op.Name, rule.Alert != ""
				}
				out = append(out, ms...)
			}
		}
	}
	// A mutant its rule file refuses is an error, not run: what the
	// loader checks (rulefmt, templates, limits) is checked here.
	for i := range out {
		if out[i].Invalid != "" {
			continue
		}
		if _, err := rulefile.ParseBytes(p, path, out[i].Content, true); err != nil {
			out[i].Invalid = err.Error()
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Line != out[j].Line {
			return out[i].Line < out[j].Line
		}
		return out[i].Column < out[j].Column
	})
	return out, nil
}

// nodes returns the nodes of an expression tree in a fixed order.
func nodes(e parser.Expr) []parser.Node {
	var out []parser.Node
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		out = append(out, n)
		return nil
	})
	return out
}

// exprMutants returns the mutants op makes of a rule's expression: each
// change is made on a fresh parse of the expression, written back with
// String(), and kept when the text differs from the original's.
func exprMutants(p parser.Parser, site *ruleSite, op Operator) []Mutant {
	k, v := lookupKey(site.node, "expr")
	if k == nil {
		return nil
	}
	sp, err := site.src.valueSpan(k, v)
	if err != nil {
		return nil
	}
	text := site.rule.Expr
	root, err := p.ParseExpr(text)
	if err != nil {
		return nil
	}
	orig := root.String()
	x := &exprCtx{src: text, labels: site.labels}
	var out []Mutant
	for i, n := range nodes(root) {
		for j, c := range op.expr(n, x) {
			fresh, err := p.ParseExpr(text)
			if err != nil {
				continue
			}
			ns := nodes(fresh)
			if i >= len(ns) {
				continue
			}
			cs := op.expr(ns[i], x)
			if j >= len(cs) {
				continue
			}
			cs[j].apply(ns[i])
			mutated := fresh.String()
			if mutated == orig {
				continue // equivalent as text
			}
			line, col := site.src.exprPosition(v, sp, text, c.pos)
			m := Mutant{Line: line, Column: col, Original: c.original, Mutated: c.mutated, hint: c.hint,
				Content: site.src.replace(sp, mutated)}
			if _, err := p.ParseExpr(mutated); err != nil {
				m.Invalid = err.Error()
			}
			out = append(out, m)
		}
	}
	return dedupe(out)
}

// dedupe drops mutants whose rule file content another mutant already has.
func dedupe(ms []Mutant) []Mutant {
	seen := map[string]bool{}
	out := ms[:0]
	for _, m := range ms {
		if seen[string(m.Content)] {
			continue
		}
		seen[string(m.Content)] = true
		out = append(out, m)
	}
	return out
}

// exprPosition places the byte offset pos of the expression text in the
// file: exactly for a value on one line or in a block scalar, at the
// value's start otherwise.
func (s *source) exprPosition(v *yaml.Node, sp span, text string, pos int) (int, int) {
	if pos < 0 || pos > len(text) {
		return v.Line, v.Column
	}
	raw := s.text[sp.start:sp.end]
	switch {
	case v.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0:
		// Content starts on the line after the indicator, indented.
		before := text[:pos]
		nl := strings.Count(before, "\n")
		lineStart := strings.LastIndexByte(before, '\n') + 1
		line := s.lineAt(sp.start) + 1 + nl
		if line > len(s.lines) {
			return v.Line, v.Column
		}
		l := s.text[s.lines[line-1]:s.lineEnd(s.lines[line-1])]
		indent, _ := indentOf(l)
		return line, indent + 1 + runeCount(before[lineStart:])
	case !strings.ContainsRune(string(raw), '\n'):
		// On one line; escapes in a quoted value may shift the column.
		quoted := 0
		if v.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0 {
			quoted = 1
		}
		return v.Line, v.Column + quoted + runeCount(text[:pos])
	}
	return v.Line, v.Column
}

func runeCount(s string) int { return len([]rune(s)) }
