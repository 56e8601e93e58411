package lint

import (
	"bytes"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/promql/parser/posrange"
	"go.yaml.in/yaml/v3"

	"github.com/gotk-rules/gotk-rules/lint/source"
	"github.com/gotk-rules/gotk-rules/promqlx"
	"github.com/gotk-rules/gotk-rules/rulefile"
)

// Settings are the facts about the user's setup that checks depend on.
type Settings struct {
	// EvaluationInterval is Prometheus' global evaluation_interval, the
	// interval of groups that set none (default 1m).
	EvaluationInterval time.Duration
	// FluxNamespaceLabel is the label that holds a Flux object's namespace on
	// the controllers' metrics: "exported_namespace" when they are scraped by
	// a PodMonitor or a pod scrape without honor_labels (Flux's documented
	// setup, the default), "namespace" with honor_labels.
	FluxNamespaceLabel string
}

// File is one rule file being linted.
type File struct {
	Path string
	// LoadErrors is every problem promtool check rules would report, as
	// rulefile words and places them. When not empty, Groups is nil.
	LoadErrors rulefile.ErrorList
	Groups     []*Group
	Settings   Settings
	Parser     parser.Parser

	// Loaded is the file as rulefile loaded it, nil when it did not.
	Loaded *rulefile.File
	// Records maps a recorded metric name to the rules producing it.
	Records map[string][]*Rule

	memo sync.Map

	content []byte
	srcOnce sync.Once
	src     *source.File
}

// Source returns the file's lines and YAML nodes, parsed on first use: a
// file with nothing to report never needs them.
func (f *File) Source() *source.File {
	f.srcOnce.Do(func() { f.src = source.Parse(f.Path, f.content) })
	return f.src
}

// Memo returns fn's result, computed once per file and key (a rule check
// may call it from several goroutines).
func (f *File) Memo(key string, fn func() any) any {
	if v, ok := f.memo.Load(key); ok {
		return v
	}
	v, _ := f.memo.LoadOrStore(key, fn())
	return v
}

// Group is a rule group of a loaded file.
type Group struct {
	File     *File
	Index    int
	Name     string
	Interval time.Duration // as written; 0 when not set
	Labels   map[string]string
	Pos      source.Pos
	Rules    []*Rule
}

// Node returns the group's YAML mapping, or nil.
func (g *Group) Node() *yaml.Node { return g.File.Source().NodeAt(g.Pos, yaml.MappingNode) }

// EvalInterval is how often the group is evaluated.
func (g *Group) EvalInterval() time.Duration {
	if g.Interval > 0 {
		return g.Interval
	}
	return g.File.Settings.EvaluationInterval
}

// ValuePos returns the position of the value of key in the group's mapping,
// or the group's position.
func (g *Group) ValuePos(key string) source.Pos {
	if _, v := lookup(g.Node(), key); v != nil {
		return source.Pos{Line: v.Line, Column: v.Column}
	}
	return g.Pos
}

// Rule is a rule of a loaded file.
type Rule struct {
	rulefmt.Rule
	Group *Group
	Index int
	Pos   source.Pos
	// AST is the parsed expression.
	AST parser.Expr
	// keys are the positions of the label and annotation keys, as
	// "labels.NAME" and "annotations.NAME".
	keys map[string]rulefile.Position
	node *yaml.Node

	// What several checks compute from the rule, computed once. A rule's
	// checks run on one goroutine, so these need no lock.
	selectors []promqlx.Selector
	effects   map[parser.Node]promqlx.Effect
	labels    *promqlx.Labels
	memo      map[string]any
}

// Memo returns fn's result, computed once per rule and key.
func (r *Rule) Memo(key string, fn func() any) any {
	if v, ok := r.memo[key]; ok {
		return v
	}
	if r.memo == nil {
		r.memo = make(map[string]any, 1)
	}
	v := fn()
	r.memo[key] = v
	return v
}

// Selectors returns the vector selectors of the expression.
func (r *Rule) Selectors() []promqlx.Selector {
	if r.selectors == nil {
		r.selectors = promqlx.Selectors(r.AST)
		if r.selectors == nil {
			r.selectors = []promqlx.Selector{}
		}
	}
	return r.selectors
}

// Effects returns what the emptiness of each part of the expression does
// to the whole.
func (r *Rule) Effects() map[parser.Node]promqlx.Effect {
	if r.effects == nil {
		r.effects = promqlx.Effects(r.AST)
	}
	return r.effects
}

// OutputLabels returns the labels the expression's result can carry.
func (r *Rule) OutputLabels() promqlx.Labels {
	if r.labels == nil {
		l := promqlx.OutputLabels(r.AST)
		r.labels = &l
	}
	return *r.labels
}

// Name is the alert or record name.
func (r *Rule) Name() string {
	if r.Alert != "" {
		return r.Alert
	}
	return r.Record
}

// IsAlert reports whether the rule is an alerting rule.
func (r *Rule) IsAlert() bool { return r.Alert != "" }

// Kind is "alert" or "record".
func (r *Rule) Kind() string {
	if r.IsAlert() {
		return "alert"
	}
	return "record"
}

// Node returns the rule's YAML mapping, or nil.
func (r *Rule) Node() *yaml.Node {
	if r.node == nil {
		r.node = r.Group.File.Source().NodeAt(r.Pos, yaml.MappingNode)
	}
	return r.node
}

// Key returns the key and value nodes of key in the rule's mapping.
func (r *Rule) Key(key string) (k, v *yaml.Node) { return lookup(r.Node(), key) }

// KeyPos returns the position of key, or the rule's position.
func (r *Rule) KeyPos(key string) source.Pos {
	if k, _ := r.Key(key); k != nil {
		return source.Pos{Line: k.Line, Column: k.Column}
	}
	return r.Pos
}

// ValuePos returns the position of key's value, or of the rule.
func (r *Rule) ValuePos(key string) source.Pos {
	if _, v := r.Key(key); v != nil {
		return source.Pos{Line: v.Line, Column: v.Column}
	}
	return r.Pos
}

// ExprPos returns the file position of byte offset off of the expression.
func (r *Rule) ExprPos(off posrange.Pos) source.Pos {
	_, v := r.Key("expr")
	if v == nil || v.Kind != yaml.ScalarNode {
		return r.Pos
	}
	return r.Group.File.Source().Scalar(v).Pos(int(off))
}

// Template is a label or annotation value of a rule.
type Template struct {
	Section string // "labels" or "annotations"
	Name    string
	Value   string
	rule    *Rule
}

// Templates returns the rule's labels and annotations in file order.
func (r *Rule) Templates() []Template {
	var out []Template
	for _, section := range []string{"labels", "annotations"} {
		m := r.Labels
		if section == "annotations" {
			m = r.Annotations
		}
		start := len(out)
		for name, value := range m {
			out = append(out, Template{Section: section, Name: name, Value: value, rule: r})
		}
		part := out[start:]
		sort.Slice(part, func(i, j int) bool {
			a, b := r.keys[section+"."+part[i].Name], r.keys[section+"."+part[j].Name]
			if a.Line != b.Line {
				return a.Line < b.Line
			}
			if a.Column != b.Column {
				return a.Column < b.Column
			}
			return part[i].Name < part[j].Name
		})
	}
	return out
}

// Pos returns the file position of byte offset off of the template's value.
func (t Template) Pos(f *File, off int) source.Pos {
	_, m := t.rule.Key(t.Section)
	if _, v := lookup(m, t.Name); v != nil && v.Kind == yaml.ScalarNode {
		return f.Source().Scalar(v).Pos(off)
	}
	if p, ok := t.rule.keys[t.Section+"."+t.Name]; ok {
		return source.Pos{Line: p.Line, Column: p.Column}
	}
	return t.rule.Pos
}

// Recorders returns the recording rules of the file producing metric name.
func (f *File) Recorders(name string) []*Rule { return f.Records[name] }

func lookup(m *yaml.Node, key string) (k, v *yaml.Node) {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil, nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i], m.Content[i+1]
		}
	}
	return nil, nil
}

// groupNodes is a group's YAML: the group mapping and its rule mappings.
type groupNodes struct {
	group *yaml.Node
	rules []*yaml.Node
}

// yamlGroups walks a document for its rule groups, as rulefile does: a
// top-level groups list, or spec.groups of a PrometheusRule.
func yamlGroups(root *yaml.Node) []groupNodes {
	if root == nil || root.Kind != yaml.MappingNode {
		return nil
	}
	_, groups := lookup(root, "groups")
	if _, kind := lookup(root, "kind"); kind != nil && kind.Value == "PrometheusRule" {
		_, spec := lookup(root, "spec")
		_, groups = lookup(spec, "groups")
	}
	if groups == nil || groups.Kind != yaml.SequenceNode {
		return nil
	}
	var out []groupNodes
	for _, g := range groups.Content {
		gn := groupNodes{group: g}
		if _, rules := lookup(g, "rules"); rules != nil && rules.Kind == yaml.SequenceNode {
			gn.rules = rules.Content
		}
		out = append(out, gn)
	}
	return out
}

var (
	topAPIVersion  = regexp.MustCompile(`^apiVersion\s*:`)
	topTestKey     = regexp.MustCompile(`^(tests|rule_files)\s*:`)
	topKind        = regexp.MustCompile(`^kind\s*:\s*["']?([A-Za-z0-9]+)`)
	docSeparatorRE = regexp.MustCompile(`^(---|\.\.\.)(\s|$)`)
)

// skipOtherObjects blanks the lines of documents that are Kubernetes objects
// other than PrometheusRule (a top-level apiVersion and a kind that is not
// PrometheusRule) or promtool unit test files (a top-level tests or
// rule_files), keeping every other line where it was, so a directory of
// manifests, or of rules and their tests, can be linted as it is.
func skipOtherObjects(content []byte) []byte {
	if !bytes.Contains(content, []byte("apiVersion")) && !bytes.Contains(content, []byte("tests")) && !bytes.Contains(content, []byte("rule_files")) {
		return content
	}
	lines := strings.Split(string(content), "\n")
	changed := false
	start := 0
	flush := func(end int) {
		api, other, test := false, false, false
		for _, l := range lines[start:end] {
			if topAPIVersion.MatchString(l) {
				api = true
			}
			if m := topKind.FindStringSubmatch(l); m != nil && m[1] != "PrometheusRule" {
				other = true
			}
			if topTestKey.MatchString(l) {
				test = true
			}
		}
		if api && other || test {
			for i := start; i < end; i++ {
				lines[i] = ""
			}
			changed = true
		}
	}
	for i, l := range lines {
		if docSeparatorRE.MatchString(l) {
			flush(i)
			start = i + 1
		}
	}
	flush(len(lines))
	if !changed {
		return content
	}
	return []byte(strings.Join(lines, "\n"))
}
