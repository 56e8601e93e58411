// Package rulefile loads Prometheus rule files and Kubernetes PrometheusRule
// objects, keeping the file, line and column of every group and rule.
//
// A file may hold several YAML documents; each is either a Prometheus rule
// file (`groups:`) or a PrometheusRule object (`spec.groups`). Validation is
// Prometheus' own (model/rulefmt), so a plain rule file is accepted or refused
// exactly as Prometheus and promtool would, but every problem of a file is
// reported, each as file:line:col: message.
package rulefile

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
	"go.yaml.in/yaml/v3"

	"github.com/gotk-rules/gotk-rules/guard"
	"github.com/gotk-rules/gotk-rules/internal/boundedio"
	"github.com/gotk-rules/gotk-rules/internal/yamlpos"
)

// Position is a 1-based line and column in a file.
type Position struct {
	Line   int
	Column int
}

// File is one loaded rule file.
type File struct {
	Path   string
	Groups []Group
}

// Group is a rule group with its position.
type Group struct {
	rulefmt.RuleGroup
	Pos Position
	// Document is the 0-based index of the YAML document holding the group.
	Document int
	// Rules holds the positions of RuleGroup.Rules, index by index.
	Rules []RulePos
}

// RulePos locates a rule and its parts.
type RulePos struct {
	Pos  Position
	Expr Position
	// Keys maps "labels.NAME" and "annotations.NAME" to their key positions.
	Keys map[string]Position
}

// RuleGroups returns the file's groups in Prometheus' own representation.
func (f *File) RuleGroups() *rulefmt.RuleGroups {
	rgs := &rulefmt.RuleGroups{Groups: make([]rulefmt.RuleGroup, len(f.Groups))}
	for i, g := range f.Groups {
		rgs.Groups[i] = g.RuleGroup
	}
	return rgs
}

// Loader reads rule files. It caches what it loaded by path, so a file named
// by many tests is parsed once, even when they ask at once: the first
// parses, the others wait for its result. A Loader is safe for concurrent
// use.
type Loader struct {
	// Input bounds each file read (boundedio.ReadFile); the zero value
	// holds the defaults. Set it before the first load.
	Input boundedio.Limits
	// EveryProblem keeps each distinct YAML decoder problem of a file (a
	// linter lists them all); by default they are folded into the first,
	// which says how many more there are, so that a command's bad input is
	// one line. Set it before the first load.
	EveryProblem bool

	parser              parser.Parser
	ignoreUnknownFields bool

	mu    sync.Mutex
	cache map[string]*loaded
}

// loaded is a file's entry in the cache: file and errs are set when done
// is closed, by the one load that parses it.
type loaded struct {
	done chan struct{}
	file *File
	errs ErrorList
}

// NewLoader returns a loader that parses expressions with p. With
// ignoreUnknownFields, fields Prometheus does not know are accepted.
func NewLoader(p parser.Parser, ignoreUnknownFields bool) *Loader {
	return &Loader{parser: p, ignoreUnknownFields: ignoreUnknownFields, cache: map[string]*loaded{}}
}

// LoadFile reads and validates one file. The error, when not nil, is an
// ErrorList with every problem found.
func (l *Loader) LoadFile(path string) (*File, error) {
	for {
		l.mu.Lock()
		c, ok := l.cache[path]
		if !ok {
			c = &loaded{done: make(chan struct{})}
			l.cache[path] = c
		}
		l.mu.Unlock()
		if !ok {
			l.fill(path, c)
		} else if <-c.done; !l.cached(path, c) {
			continue // its parse panicked, and was dropped: parse again
		}
		if len(c.errs) > 0 {
			return nil, c.errs
		}
		return c.file, nil
	}
}

// fill parses the file at path into c. Should the parse panic, c leaves
// the cache before the panic goes on, so that the loads waiting for it
// parse the file themselves (and each reports the panic where it would).
func (l *Loader) fill(path string, c *loaded) {
	defer func() {
		if p := recover(); p != nil {
			l.mu.Lock()
			delete(l.cache, path)
			l.mu.Unlock()
			close(c.done)
			panic(p)
		}
	}()
	b, err := boundedio.ReadFile(path, l.Input)
	m, bad := yamlpos.CheckText(b) // what the decoder reports without a position
	switch {
	case err != nil:
		c.errs = ErrorList{{File: path, Msg: readError(err)}}
	case bad:
		c.errs = ErrorList{{File: path, Line: m.Line, Column: m.Column, Msg: m.Msg}}
	default:
		c.file, c.errs = l.ParseContent(path, b)
	}
	close(c.done)
}

// cached reports whether c is still path's entry (a parse that panicked
// leaves the cache).
func (l *Loader) cached(path string, c *loaded) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.cache[path] == c
}

// Preload parses content as the file at path, so later loads of path use it
// instead of reading the file system (for embedded files).
func (l *Loader) Preload(path string, content []byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.cache[path]; ok {
		return
	}
	f, errs := l.ParseContent(path, content)
	c := &loaded{done: make(chan struct{}), file: f, errs: errs}
	close(c.done)
	l.cache[path] = c
}

// readError words an os error without repeating the path.
func readError(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Op + ": " + pe.Err.Error()
	}
	return err.Error()
}

// Load implements rules.GroupLoader, so Prometheus' rule manager builds its
// groups from files this loader read. The ignoreUnknownFields and scheme
// arguments are fixed when the loader is made.
func (l *Loader) Load(identifier string, _ bool, _ model.ValidationScheme) (*rulefmt.RuleGroups, []error) {
	f, err := l.LoadFile(identifier)
	if err != nil {
		var list ErrorList
		if errors.As(err, &list) {
			return nil, list.Errors()
		}
		return nil, []error{err}
	}
	return f.RuleGroups(), nil
}

// Parse implements rules.GroupLoader.
func (l *Loader) Parse(query string) (parser.Expr, error) {
	return l.parser.ParseExpr(query)
}

// disableQuickParse sends every file to rulefmt.Parse, for the tests that
// compare the two paths.
var disableQuickParse = false

var (
	docSeparator = regexp.MustCompile(`^(---|\.\.\.)(\s|$)`)
	discardLog   = slog.New(slog.NewTextHandler(io.Discard, nil))
)

// ParseContent validates the content of one file named path.
func (l *Loader) ParseContent(path string, content []byte) (*File, ErrorList) {
	lines := strings.Split(string(content), "\n")
	f := &File{Path: path}
	var errs ErrorList
	seen := map[string]Position{}

	doc := 0
	start := 0
	flush := func(end int) {
		defer func() { doc++ }()
		if !hasContent(lines[start:end]) {
			return
		}
		groups, derrs := l.parseDocument(path, lines, start, end, doc)
		errs = append(errs, derrs...)
		for _, g := range groups {
			if prev, dup := seen[g.Name]; dup && g.Name != "" {
				errs = append(errs, Error{File: path, Line: g.Pos.Line, Column: g.Pos.Column,
					Msg: fmt.Sprintf("group %q is repeated in the same file (first at line %d)", g.Name, prev.Line)})
				continue
			}
			seen[g.Name] = g.Pos
			f.Groups = append(f.Groups, g)
		}
	}
	for i, line := range lines {
		if docSeparator.MatchString(line) {
			flush(i)
			start = i + 1
		}
	}
	flush(len(lines))
	if len(errs) > 0 {
		return nil, errs
	}
	return f, nil
}

func hasContent(lines []string) bool {
	for _, l := range lines {
		t := strings.TrimSpace(l)
		if t != "" && !strings.HasPrefix(t, "#") {
			return true
		}
	}
	return false
}

// masked returns the file's text with every line outside [start, end)
// blanked, so positions in the result are positions in the file.
func masked(lines []string, start, end int) []string {
	out := make([]string, len(lines))
	copy(out[start:end], lines[start:end])
	return out
}

// parseDocument validates the YAML document in lines [start, end).
func (l *Loader) parseDocument(path string, lines []string, start, end, doc int) ([]Group, ErrorList) {
	text := masked(lines, start, end)
	var root yaml.Node
	src := []byte(strings.Join(text, "\n"))
	if err := yaml.Unmarshal(src, &root); err != nil {
		return nil, foldDecoder(fromMessage(path, src, err.Error()), l.EveryProblem)
	}
	if len(root.Content) == 0 || root.Content[0].Kind != yaml.MappingNode {
		if len(root.Content) > 0 && root.Content[0].Tag == "!!null" {
			return nil, nil
		}
		n := &root
		if len(root.Content) > 0 {
			n = root.Content[0]
		}
		return nil, ErrorList{{File: path, Line: n.Line, Column: n.Column,
			Msg: "not a rule file: expected a mapping with 'groups' or a PrometheusRule object"}}
	}
	top := root.Content[0]
	kind := lookup(top, "kind")
	switch {
	case kind != nil && kind.Value == "PrometheusRule":
		return l.parsePrometheusRule(path, lines, top, end, doc, &root)
	case kind != nil && strings.HasSuffix(kind.Value, "List") && lookup(top, "items") != nil:
		// A Kubernetes List (kubectl get -o yaml) of PrometheusRule objects.
		items := lookup(top, "items")
		if items.Kind != yaml.SequenceNode {
			return nil, ErrorList{{File: path, Line: items.Line, Column: items.Column, Msg: "items must be a list"}}
		}
		var out []Group
		var errs ErrorList
		for i, item := range items.Content {
			itemEnd := end
			if i+1 < len(items.Content) {
				itemEnd = items.Content[i+1].Line - 1
			}
			if k := lookup(item, "kind"); k == nil || k.Value != "PrometheusRule" {
				errs = append(errs, Error{File: path, Line: item.Line, Column: item.Column,
					Msg: fmt.Sprintf("not a rule: list item of kind %q (want PrometheusRule)", valueOf(k))})
				continue
			}
			gs, es := l.parsePrometheusRule(path, lines, item, itemEnd, doc, &root)
			out, errs = append(out, gs...), append(errs, es...)
		}
		return out, errs
	case lookup(top, "apiVersion") != nil:
		apiVersion := lookup(top, "apiVersion")
		return nil, ErrorList{{File: path, Line: apiVersion.Line, Column: apiVersion.Column,
			Msg: fmt.Sprintf("not a rule file: Kubernetes object of kind %q (want PrometheusRule)", valueOf(kind))}}
	}
	return l.parseGroups(path, text, lookup(top, "groups"), doc, &root, &root)
}

// parsePrometheusRule validates the spec.groups of a PrometheusRule object
// whose text ends at line end.
func (l *Loader) parsePrometheusRule(path string, lines []string, obj *yaml.Node, end, doc int, root *yaml.Node) ([]Group, ErrorList) {
	kind := lookup(obj, "kind")
	spec := lookup(obj, "spec")
	if spec == nil || spec.Kind != yaml.MappingNode {
		return nil, ErrorList{{File: path, Line: kind.Line, Column: kind.Column, Msg: "PrometheusRule has no spec mapping"}}
	}
	groupsKey, groupsVal := lookupKey(spec, "groups")
	if groupsVal == nil {
		return nil, nil // A PrometheusRule without groups holds no rules.
	}
	text, err := groupsOnly(path, lines, obj, spec, groupsKey, groupsVal, end)
	if err != nil {
		return nil, ErrorList{*err}
	}
	return l.parseGroups(path, text, groupsVal, doc, root, nil)
}

// parseGroups validates text holding a top-level `groups:` with Prometheus'
// own parser; groupsVal is that sequence's node in the file, for positions.
// tree is text's YAML tree when root is it, nil when text was rewritten.
func (l *Loader) parseGroups(path string, text []string, groupsVal *yaml.Node, doc int, root, tree *yaml.Node) ([]Group, ErrorList) {
	src := []byte(strings.Join(text, "\n"))
	var (
		rgs   *rulefmt.RuleGroups
		rerrs []error
		ok    bool
	)
	if !disableQuickParse {
		if tree == nil {
			tree = new(yaml.Node)
			if yaml.Unmarshal(src, tree) != nil {
				tree = nil
			}
		}
		rgs, ok = quickParse(tree, l.ignoreUnknownFields, l.parser)
	}
	if !ok {
		rgs, rerrs = rulefmt.Parse(src, l.ignoreUnknownFields, model.UTF8Validation, l.parser, discardLog)
	}
	positions := groupPositions(groupsVal)
	if len(rerrs) > 0 {
		return nil, l.positioned(path, src, rerrs, rgs, positions, root)
	}
	out := make([]Group, len(rgs.Groups))
	var errs ErrorList
	for i, g := range rgs.Groups {
		out[i] = Group{RuleGroup: g, Document: doc}
		if i < len(positions) {
			out[i].Pos = positions[i].pos
			out[i].Rules = positions[i].rules
		}
		errs = append(errs, l.checkTemplates(path, out[i])...)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return out, nil
}

// groupsOnly rewrites a PrometheusRule document so that only its spec.groups
// remain, as a top-level `groups:` key on the same lines.
func groupsOnly(path string, lines []string, top, spec, key, val *yaml.Node, end int) ([]string, *Error) {
	line := lines[key.Line-1]
	indent := len(line) - len(strings.TrimLeft(line, " \t"))
	if key.Column-1 != indent {
		return nil, &Error{File: path, Line: key.Line, Column: key.Column, Msg: "spec.groups must be written in block style"}
	}
	last := end
	for _, m := range []*yaml.Node{spec, top} {
		for i := 0; i+1 < len(m.Content); i += 2 {
			if k := m.Content[i]; k.Line > key.Line && k.Line-1 < last {
				last = k.Line - 1
			}
		}
	}
	text := masked(lines, key.Line-1, last)
	text[key.Line-1] = line[indent:]
	// Prometheus operator and Thanos accept this group field; Prometheus does not.
	if val.Kind == yaml.SequenceNode {
		for _, g := range val.Content {
			if k, v := lookupKey(g, "partial_response_strategy"); k != nil && v.Line == k.Line {
				text[k.Line-1] = ""
			}
		}
	}
	return text, nil
}

type groupPos struct {
	pos   Position
	rules []RulePos
}

// groupPositions walks a `groups` sequence node for positions.
func groupPositions(groups *yaml.Node) []groupPos {
	if groups == nil || groups.Kind != yaml.SequenceNode {
		return nil
	}
	out := make([]groupPos, len(groups.Content))
	for i, g := range groups.Content {
		out[i].pos = Position{g.Line, g.Column}
		rules := lookup(g, "rules")
		if rules == nil || rules.Kind != yaml.SequenceNode {
			continue
		}
		for _, r := range rules.Content {
			rp := RulePos{Pos: Position{r.Line, r.Column}, Keys: map[string]Position{}}
			if e := lookup(r, "expr"); e != nil {
				rp.Expr = Position{e.Line, e.Column}
			}
			for _, section := range []string{"labels", "annotations"} {
				if m := lookup(r, section); m != nil && m.Kind == yaml.MappingNode {
					for j := 0; j+1 < len(m.Content); j += 2 {
						rp.Keys[section+"."+m.Content[j].Value] = Position{m.Content[j].Line, m.Content[j].Column}
					}
				}
			}
			out[i].rules = append(out[i].rules, rp)
		}
	}
	return out
}

var keyedMsg = regexp.MustCompile(`^(label|annotation) "([^"]*)": `)

// positioned converts rulefmt's errors to Errors, placing those rulefmt
// leaves without a position at the rule, label or annotation they concern,
// and durations refused by their type at their value.
// rulefmt decodes a file twice, so the same error may come twice: it is
// reported once.
func (l *Loader) positioned(path string, src []byte, errs []error, rgs *rulefmt.RuleGroups, pos []groupPos, root *yaml.Node) ErrorList {
	var out ErrorList
	var ruleOf []ruleKey // out[i]'s rule, for rulefmt's errors
	seen := map[Error]bool{}
	groupErrs := map[string]int{}
	for _, err := range errs {
		es := fromMessage(path, src, err.Error())
		if pe, ok := errors.AsType[*guard.PosError](err); ok && len(es) == 1 {
			es[0].Limit = pe
		}
		var re *rulefmt.Error
		if len(es) == 1 && es[0].Line == 0 && errors.As(err, &re) && rgs != nil {
			for gi, g := range rgs.Groups {
				if g.Name != re.Group || gi >= len(pos) || re.Rule-1 >= len(pos[gi].rules) || re.Rule < 1 {
					continue
				}
				rp := pos[gi].rules[re.Rule-1]
				p := rp.Pos
				inner := re.Err.Error()
				if m := keyedMsg.FindStringSubmatch(inner); m != nil {
					if kp, ok := rp.Keys[m[1]+"s."+m[2]]; ok {
						p = kp
					}
				}
				es[0].Line, es[0].Column = p.Line, p.Column
				break
			}
		}
		if len(es) == 1 && es[0].Line == 0 && re == nil {
			if p, ok := groupErrorPos(es[0].Msg, rgs, pos, groupErrs); ok {
				es[0].Line, es[0].Column = p.Line, p.Column
			} else if n := refusedDuration(root, es[0].Msg); n != nil {
				es[0].Line, es[0].Column = n.Line, n.Column
			}
		}
		var rk ruleKey
		if re != nil {
			rk = ruleKey{re.Group, re.Rule}
		}
		for _, e := range es {
			k := e
			k.Limit = nil // the same limit, hit in each decoding
			if !seen[k] {
				seen[k] = true
				out = append(out, e)
				ruleOf = append(ruleOf, rk)
			}
		}
	}
	sortRuleProblems(out, ruleOf)
	return foldDecoder(out, l.EveryProblem)
}

// ruleKey names a rule by its group and 1-based index; the zero value is
// no rule.
type ruleKey struct {
	group string
	rule  int
}

// sortRuleProblems puts each rule's problems in the order of their
// positions. rulefmt reports a rule's label and annotation problems in
// map order, which changes from run to run; the problems of different
// rules, and those of no rule, keep their order.
func sortRuleProblems(out ErrorList, ruleOf []ruleKey) {
	for i := 0; i < len(out); {
		j := i + 1
		for j < len(out) && ruleOf[i].rule != 0 && ruleOf[j] == ruleOf[i] {
			j++
		}
		slices.SortStableFunc(out[i:j], func(a, b Error) int {
			return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Column, b.Column), strings.Compare(a.Msg, b.Msg))
		})
		i = j
	}
}

// groupMsg matches the group errors rulefmt reports at 0:0.
var groupMsg = regexp.MustCompile(`^(?:groupname: "(.*)" is repeated in the same file|Groupname must not be empty)$`)

// groupErrorPos places a repeated or empty group name error at the group it
// concerns: the n-th such error for a name is at the n-th repeat of it.
func groupErrorPos(msg string, rgs *rulefmt.RuleGroups, pos []groupPos, count map[string]int) (Position, bool) {
	m := groupMsg.FindStringSubmatch(msg)
	if m == nil || rgs == nil {
		return Position{}, false
	}
	name := m[1]
	count[msg]++
	want := count[msg] // the first group of a name is not a repeat
	if name == "" {
		want-- // every empty name is an error
	}
	seen := 0
	for gi, g := range rgs.Groups {
		if g.Name != name || gi >= len(pos) {
			continue
		}
		if seen == want {
			return pos[gi].pos, true
		}
		seen++
	}
	return Position{}, false
}

// refusedDuration returns the first duration value below n that
// model.ParseDuration refuses with msg: rulefmt reports no position for it.
func refusedDuration(n *yaml.Node, msg string) *yaml.Node {
	if n == nil {
		return nil
	}
	for i, c := range n.Content {
		if n.Kind == yaml.MappingNode {
			if i%2 == 0 {
				continue // a key
			}
			if c.Kind == yaml.ScalarNode {
				switch n.Content[i-1].Value {
				case "for", "keep_firing_for", "interval", "query_offset":
					if _, err := model.ParseDuration(c.Value); err != nil && err.Error() == msg {
						return c
					}
				}
				continue
			}
		}
		if found := refusedDuration(c, msg); found != nil {
			return found
		}
	}
	return nil
}

// lookup returns the value of key in mapping node m, or nil.
func lookup(m *yaml.Node, key string) *yaml.Node {
	_, v := lookupKey(m, key)
	return v
}

func lookupKey(m *yaml.Node, key string) (*yaml.Node, *yaml.Node) {
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

func valueOf(n *yaml.Node) string {
	if n == nil {
		return ""
	}
	return n.Value
}

// ParseBytes is a convenience for loading rules held in memory.
func ParseBytes(p parser.Parser, name string, content []byte, ignoreUnknownFields bool) (*File, error) {
	f, errs := NewLoader(p, ignoreUnknownFields).ParseContent(name, bytes.TrimPrefix(content, []byte("\xef\xbb\xbf")))
	if len(errs) > 0 {
		return nil, errs
	}
	return f, nil
}
