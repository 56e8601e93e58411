package rulefile

import (
	"context"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"text/template/parse"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/template"
	"go.yaml.in/yaml/v3"

	"github.com/gotk-rules/gotk-rules/internal/parallel"
)

// quickParse is rulefmt.Parse for the files it accepts, from the YAML tree
// of src already read: the file's groups, and true. It declines (nil,
// false) whatever it does not read exactly as rulefmt would, and every file
// rulefmt would refuse, so that rulefmt.Parse, run then, says what is
// wrong in its own words. rulefmt reads a file twice with yaml.v3 and checks
// each alerting rule's templates with a template expander built for each
// of them; this reads the tree once and parses templates against a set of
// function names built once, a third of rulefmt's time on a usual file.
//
// What it reads: a mapping with the key groups (other keys only with
// ignoreUnknownFields), whose groups and rules are block or flow mappings
// of the fields rulefmt knows, with scalar values yaml.v3 reads as rulefmt's
// types. It declines aliases, explicit tags, merge keys, repeated
// keys and null values.
func quickParse(root *yaml.Node, ignoreUnknownFields bool, p parser.Parser) (*rulefmt.RuleGroups, bool) {
	if root == nil || root.Kind != yaml.DocumentNode || len(root.Content) != 1 || !plainNode(root) {
		return nil, false
	}
	q := quickDecoder{ignoreUnknown: ignoreUnknownFields}
	var groupsNode *yaml.Node
	ok := q.fields(root.Content[0], func(key string, v *yaml.Node) bool {
		if key != "groups" {
			return false
		}
		groupsNode = v
		return true
	})
	if !ok || groupsNode == nil || groupsNode.Kind != yaml.SequenceNode || !plainNode(groupsNode) {
		return nil, false
	}
	rgs := &rulefmt.RuleGroups{Groups: make([]rulefmt.RuleGroup, len(groupsNode.Content))}
	for i, g := range groupsNode.Content {
		if !q.group(g, &rgs.Groups[i]) {
			return nil, false
		}
	}
	if !quickValid(rgs, p) {
		return nil, false
	}
	return rgs, true
}

// quickDecoder decodes yaml.v3 nodes into rulefmt's types as yaml.v3's
// decoder would (with KnownFields unless ignoreUnknown), or reports false.
type quickDecoder struct {
	ignoreUnknown bool
}

// plainNode reports whether n is a node whose decoding depends on its
// content alone: not an alias, no explicit tag. (An anchor changes nothing
// in the node it names.)
func plainNode(n *yaml.Node) bool {
	return n.Kind != yaml.AliasNode && n.Style&yaml.TaggedStyle == 0
}

// fields calls f with each key and value of mapping m, in order. A key
// that is not a plain string, or is repeated, declines; so does a key f
// does not take, unless unknown fields are ignored (yaml.v3 skips them,
// whatever their value). The value is f's to check.
func (q quickDecoder) fields(m *yaml.Node, f func(key string, v *yaml.Node) bool) bool {
	if m.Kind != yaml.MappingNode || !plainNode(m) || len(m.Content)%2 != 0 {
		return false
	}
	var seen map[string]struct{} // a large mapping's keys so far
	if len(m.Content) > 2*fewKeys {
		seen = make(map[string]struct{}, len(m.Content)/2)
	}
	for i := 0; i < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		if !stringKey(k) || repeated(m, i, seen) {
			return false // a repeated key: yaml.v3's "already defined"
		}
		if !f(k.Value, v) && !q.ignoreUnknown {
			return false
		}
	}
	return true
}

// repeated reports whether mapping m's key at i repeats an earlier key:
// compared pairwise in a mapping of a few keys, through seen (which it
// adds the key to) in a larger one.
func repeated(m *yaml.Node, i int, seen map[string]struct{}) bool {
	k := m.Content[i].Value
	if seen != nil {
		_, dup := seen[k]
		seen[k] = struct{}{}
		return dup
	}
	for j := 0; j < i; j += 2 {
		if m.Content[j].Value == k {
			return true
		}
	}
	return false
}

// fewKeys is the number of keys up to which a mapping's keys are compared
// pairwise; past it, through a set.
const fewKeys = 16

// stringKey reports whether k is a key yaml.v3 reads as the string k.Value.
func stringKey(k *yaml.Node) bool {
	return k.Kind == yaml.ScalarNode && plainNode(k) && k.Tag == "!!str"
}

// str is a scalar decoded into a string field: its text, as yaml.v3 sets
// any scalar but a null or binary one.
func str(n *yaml.Node, out *string) bool {
	if n.Kind != yaml.ScalarNode || !plainNode(n) || n.Tag == "!!null" || n.Tag == "!!binary" {
		return false
	}
	*out = n.Value
	return true
}

// duration is a scalar decoded into a model.Duration, through its
// UnmarshalYAML.
func duration(n *yaml.Node, out *model.Duration) bool {
	var s string
	if !str(n, &s) {
		return false
	}
	d, err := model.ParseDuration(s)
	if err != nil {
		return false
	}
	*out = d
	return true
}

// integer is a plain decimal integer scalar decoded into an int.
func integer(n *yaml.Node, out *int) bool {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!int" || n.Style != 0 {
		return false
	}
	v, err := strconv.Atoi(n.Value)
	if err != nil || strconv.Itoa(v) != n.Value {
		return false // not as written in decimal: 010, +5, -0, 0x10, 1_000
	}
	*out = v
	return true
}

// stringMap is a mapping decoded into a map[string]string: never nil, as
// yaml.v3 makes the map even for {}.
func stringMap(n *yaml.Node, out *map[string]string) bool {
	m := make(map[string]string, len(n.Content)/2)
	ok := quickDecoder{}.fields(n, func(key string, v *yaml.Node) bool {
		var s string
		if !str(v, &s) {
			return false
		}
		m[key] = s
		return true
	})
	*out = m
	return ok
}

func (q quickDecoder) group(n *yaml.Node, g *rulefmt.RuleGroup) bool {
	ok := true
	known := q.fields(n, func(key string, v *yaml.Node) bool {
		switch key {
		case "name":
			ok = ok && str(v, &g.Name)
		case "interval":
			ok = ok && duration(v, &g.Interval)
		case "query_offset":
			d := new(model.Duration)
			ok = ok && duration(v, d)
			g.QueryOffset = d
		case "limit":
			ok = ok && integer(v, &g.Limit)
		case "labels":
			ok = ok && stringMap(v, &g.Labels)
		case "rules":
			if v.Kind != yaml.SequenceNode || !plainNode(v) {
				ok = false
				break
			}
			g.Rules = make([]rulefmt.Rule, len(v.Content))
			for i, r := range v.Content {
				if !plainNode(r) || !q.rule(r, &g.Rules[i]) {
					ok = false
					break
				}
			}
		default:
			return false
		}
		return true
	})
	return known && ok
}

func (q quickDecoder) rule(n *yaml.Node, r *rulefmt.Rule) bool {
	ok := true
	known := q.fields(n, func(key string, v *yaml.Node) bool {
		switch key {
		case "record":
			ok = ok && str(v, &r.Record)
		case "alert":
			ok = ok && str(v, &r.Alert)
		case "expr":
			ok = ok && str(v, &r.Expr)
		case "for":
			ok = ok && duration(v, &r.For)
		case "keep_firing_for":
			ok = ok && duration(v, &r.KeepFiringFor)
		case "labels":
			ok = ok && stringMap(v, &r.Labels)
		case "annotations":
			ok = ok && stringMap(v, &r.Annotations)
		default:
			return false
		}
		return true
	})
	return known && ok
}

// quickValid reports whether rulefmt's RuleGroups.Validate finds nothing
// wrong with rgs under UTF-8 name validation, checking the same things with
// the same functions.
func quickValid(rgs *rulefmt.RuleGroups, p parser.Parser) bool {
	names := make(map[string]struct{}, len(rgs.Groups))
	var all []*rulefmt.Rule
	for gi := range rgs.Groups {
		g := &rgs.Groups[gi]
		if _, dup := names[g.Name]; dup || g.Name == "" || !validLabels(g.Labels) {
			return false
		}
		names[g.Name] = struct{}{}
		for i := range g.Rules {
			all = append(all, &g.Rules[i])
		}
	}
	// Parsing expressions and templates is nearly all of the time, and a
	// file is loaded before its groups can run: on every core.
	var bad atomic.Bool
	workers := 1
	if len(all) >= parallelRules {
		workers = 0
	}
	parallel.For(len(all), workers, func(i int) {
		if !bad.Load() && !validRule(all[i], p) {
			bad.Store(true)
		}
	})
	return !bad.Load()
}

// parallelRules is the number of rules from which a file's rules are
// checked on every core.
const parallelRules = 16

func validLabels(m map[string]string) bool {
	for k, v := range m {
		if !model.UTF8Validation.IsValidLabelName(k) || k == model.MetricNameLabel || !model.LabelValue(v).IsValid() {
			return false
		}
	}
	return true
}

func validRule(r *rulefmt.Rule, p parser.Parser) bool {
	if (r.Record == "") == (r.Alert == "") || r.Expr == "" || !validLabels(r.Labels) {
		return false
	}
	if r.Record != "" && (len(r.Annotations) > 0 || r.For != 0 || r.KeepFiringFor != 0 ||
		!model.UTF8Validation.IsValidMetricName(r.Record) || strings.ContainsAny(r.Record, "{}")) {
		return false
	}
	for k := range r.Annotations {
		if !model.UTF8Validation.IsValidLabelName(k) {
			return false
		}
	}
	if _, err := p.ParseExpr(r.Expr); err != nil {
		return false
	}
	if r.Alert != "" {
		for _, m := range []map[string]string{r.Labels, r.Annotations} {
			for _, text := range m {
				if !templateParses(r.Alert, text) {
					return false
				}
			}
		}
	}
	return true
}

// templateDefs is what rulefmt puts before each template it checks.
const templateDefs = "{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}{{$externalURL := .ExternalURL}}{{$value := .Value}}"

// templateBuiltins are text/template's own functions (its unexported
// builtins), which it adds to every template's parse.
var templateBuiltins = []string{
	"and", "call", "html", "index", "slice", "js", "len", "not", "or",
	"print", "printf", "println", "urlquery", "eq", "ge", "gt", "le", "lt", "ne",
}

// templateFuncs returns the function names a template of an alerting rule
// may call when rulefmt checks it: those of Prometheus' template expander
// (read from one, so that they follow the pinned Prometheus) and
// text/template's builtins. A name missing here only sends a file to
// rulefmt; a name too many would accept a template it refuses, and the
// tests check that each is a function text/template accepts.
var templateFuncs = sync.OnceValue(func() map[string]any {
	names := map[string]any{}
	for _, name := range templateBuiltins {
		names[name] = true
	}
	e := template.NewTemplateExpander(context.Background(), "", "", nil, 0, nil, nil, nil)
	if fm := reflect.ValueOf(e).Elem().FieldByName("funcMap"); fm.IsValid() && fm.Kind() == reflect.Map {
		for _, k := range fm.MapKeys() {
			if k.Kind() == reflect.String && !fm.MapIndex(k).IsNil() {
				names[k.String()] = true
			}
		}
	}
	return names
})

// templateParses reports whether rulefmt's template check accepts text in
// alerting rule alert: text/template's parse of the same text with the
// same function names, without building an expander and its function
// values for each.
func templateParses(alert, text string) bool {
	_, err := parse.Parse("__alert_"+alert, templateDefs+text, "", "", templateFuncs())
	return err == nil
}
