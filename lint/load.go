package lint

import (
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/gotk-rules/gotk-rules/lint/source"
	"github.com/gotk-rules/gotk-rules/rulefile"
)

// load reads content into the model checks work on: rulefile loads and
// validates it as promtool would, source keeps its lines and YAML nodes.
func (l *Linter) load(path string, content []byte) *File {
	src := source.Parse(path, content)
	text := skipOtherObjects(content)
	f := &File{Path: path, Src: src, Settings: l.settings, Parser: l.parser}
	loaded, errs := l.loadChunked(path, src, text)
	if loaded == nil && errs == nil {
		loaded, errs = l.loader.ParseContent(path, text)
	}
	if len(errs) > 0 {
		f.LoadErrors = errs
		return f
	}
	f.Loaded = loaded
	f.Records = map[string][]*Rule{}
	for gi, g := range loaded.Groups {
		grp := &Group{
			File: f, Index: gi, Name: g.Name, Interval: time.Duration(g.Interval), Labels: g.Labels,
			Pos:  source.Pos{Line: g.Pos.Line, Column: g.Pos.Column},
			Node: src.NodeAt(source.Pos{Line: g.Pos.Line, Column: g.Pos.Column}, yaml.MappingNode),
		}
		for ri, r := range g.RuleGroup.Rules {
			rule := &Rule{Rule: r, Group: grp, Index: ri}
			if ri < len(g.Rules) {
				p := g.Rules[ri].Pos
				rule.Pos = source.Pos{Line: p.Line, Column: p.Column}
				rule.Node = src.NodeAt(rule.Pos, yaml.MappingNode)
			}
			if rule.Pos.Line == 0 {
				rule.Pos = grp.Pos
			}
			grp.Rules = append(grp.Rules, rule)
			if r.Record != "" {
				f.Records[r.Record] = append(f.Records[r.Record], rule)
			}
		}
		f.Groups = append(f.Groups, grp)
	}
	l.parseExprs(f)
	return f
}

// parseExprs parses every rule's expression, on all CPUs for a big file.
func (l *Linter) parseExprs(f *File) {
	var rules []*Rule
	for _, g := range f.Groups {
		rules = append(rules, g.Rules...)
	}
	errs := make([]error, len(rules))
	parse := func(lo, hi int) {
		for i := lo; i < hi; i++ {
			rules[i].AST, errs[i] = l.parser.ParseExpr(rules[i].Expr)
		}
	}
	workers := runtime.GOMAXPROCS(0)
	if len(rules) < parallelRules || workers < 2 {
		parse(0, len(rules))
	} else {
		var wg sync.WaitGroup
		size := (len(rules) + workers - 1) / workers
		for w := range workers {
			lo, hi := min(w*size, len(rules)), min((w+1)*size, len(rules))
			wg.Go(func() { parse(lo, hi) })
		}
		wg.Wait()
	}
	for i, err := range errs {
		if err != nil { // rulefmt parsed it with the same parser: cannot happen
			r := rules[i]
			f.LoadErrors = append(f.LoadErrors, rulefile.Error{File: f.Path, Line: r.Pos.Line, Column: r.Pos.Column, Msg: err.Error()})
		}
	}
	if len(f.LoadErrors) > 0 {
		f.Groups = nil
	}
}

var groupItemStart = regexp.MustCompile(`^\s*-\s+$`)

// loadChunked loads a big plain rule file as several files of a share of
// its groups each, on all CPUs: every other line is kept in place, so
// positions do not change. Prometheus validates each group on its own, but
// for group names repeated across the file; so a file with any error, or
// with a repeated group name, returns nil, nil and is loaded whole, which
// words and places every error exactly as promtool. Files that are not big,
// plain and well-formed YAML also return nil, nil.
func (l *Linter) loadChunked(path string, src *source.File, text []byte) (*rulefile.File, rulefile.ErrorList) {
	workers := runtime.GOMAXPROCS(0)
	if workers < 2 {
		return nil, nil
	}
	var doc *source.Doc
	for i := range src.Docs {
		d := &src.Docs[i]
		if d.Err != nil {
			return nil, nil
		}
		if d.Root != nil {
			if doc != nil {
				return nil, nil // several documents
			}
			doc = d
		}
	}
	if doc == nil || doc.Root.Kind != yaml.MappingNode {
		return nil, nil
	}
	if _, kind := lookup(doc.Root, "kind"); kind != nil {
		return nil, nil
	}
	_, groups := lookup(doc.Root, "groups")
	if groups == nil || groups.Kind != yaml.SequenceNode || groups.Style&yaml.FlowStyle != 0 || len(groups.Content) < 2 {
		return nil, nil
	}
	// Each group's lines: from its "- " line to the line before the next.
	type span struct{ start, end, rules int }
	spans := make([]span, len(groups.Content))
	total := 0
	for i, g := range groups.Content {
		line := src.Line(g.Line)
		if !groupItemStart.MatchString(line[:src.ByteOf(g.Line, g.Column)]) {
			return nil, nil
		}
		end := doc.End
		if i+1 < len(groups.Content) {
			end = groups.Content[i+1].Line - 1
		}
		n := 0
		if _, rules := lookup(g, "rules"); rules != nil {
			n = len(rules.Content)
		}
		spans[i] = span{g.Line, end, n}
		total += n
	}
	if total < parallelRules {
		return nil, nil
	}
	lines := strings.Split(string(text), "\n")
	if len(lines) < doc.End {
		return nil, nil
	}
	// Contiguous runs of groups with about the same number of rules each.
	var chunks [][]span
	per := (total + workers - 1) / workers
	var cur []span
	n := 0
	for _, s := range spans {
		cur = append(cur, s)
		n += s.rules
		if n >= per && len(chunks) < workers-1 {
			chunks = append(chunks, cur)
			cur, n = nil, 0
		}
	}
	if len(cur) > 0 {
		chunks = append(chunks, cur)
	}
	inGroup := make([]bool, len(lines))
	for _, s := range spans {
		for i := s.start - 1; i < s.end; i++ {
			inGroup[i] = true
		}
	}
	files := make([]*rulefile.File, len(chunks))
	failed := make([]bool, len(chunks))
	var wg sync.WaitGroup
	for ci, chunk := range chunks {
		wg.Go(func() {
			own := make([]bool, len(lines))
			for _, s := range chunk {
				for i := s.start - 1; i < s.end; i++ {
					own[i] = true
				}
			}
			masked := make([]string, len(lines))
			for i, line := range lines {
				if !inGroup[i] || own[i] {
					masked[i] = line
				}
			}
			f, errs := l.loader.ParseContent(path, []byte(strings.Join(masked, "\n")))
			files[ci], failed[ci] = f, len(errs) > 0
		})
	}
	wg.Wait()
	if slices.Contains(failed, true) {
		return nil, nil
	}
	out := &rulefile.File{Path: path}
	seen := map[string]bool{}
	for _, f := range files {
		for _, g := range f.Groups {
			if seen[g.Name] {
				return nil, nil
			}
			seen[g.Name] = true
			out.Groups = append(out.Groups, g)
		}
	}
	return out, nil
}
