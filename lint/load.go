package lint

import (
	"bytes"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/gotk-rules/gotk-rules/internal/parallel"
	"github.com/gotk-rules/gotk-rules/lint/source"
	"github.com/gotk-rules/gotk-rules/rulefile"
)

// load reads content into the model checks work on: rulefile loads and
// validates it as promtool would; its lines and YAML nodes (File.Source)
// are parsed only if a check needs them.
func (l *Linter) load(path string, content []byte) *File {
	text := skipOtherObjects(content)
	f := &File{Path: path, Settings: l.settings, Parser: l.parser, content: content}
	loaded, errs := l.loadChunked(path, text)
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
			Pos: source.Pos{Line: g.Pos.Line, Column: g.Pos.Column},
		}
		for ri, r := range g.RuleGroup.Rules {
			rule := &Rule{Rule: r, Group: grp, Index: ri, Pos: grp.Pos}
			if ri < len(g.Rules) {
				p := g.Rules[ri].Pos
				rule.Pos = source.Pos{Line: p.Line, Column: p.Column}
				rule.keys = g.Rules[ri].Keys
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
	parallel.Chunks(len(rules), ruleWorkers(len(rules)), parse)
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

var (
	topGroups     = regexp.MustCompile(`^groups\s*:\s*(#.*)?$`)
	topKey        = regexp.MustCompile(`^[^\s#-]`)
	groupItem     = regexp.MustCompile(`^(\s*)-(\s|$)`)
	groupItemName = regexp.MustCompile(`^\s*-\s+\S`)
	ruleItem      = regexp.MustCompile(`^\s*-\s+(alert|record)\s*:`)
)

// chunkSpan is a group's lines (1-based, inclusive) and its number of rules.
type chunkSpan struct{ start, end, rules int }

// groupSpans finds the groups of a plain one-document rule file in its text:
// the items of the top-level groups list, each starting on a "- key: ..."
// line. ok is false for anything else (several documents, a
// PrometheusRule, flow style, a "-" alone on its line...).
func groupSpans(lines []string) (spans []chunkSpan, ok bool) {
	groupsAt := -1
	for i, l := range lines {
		if docSeparatorRE.MatchString(l) {
			return nil, false
		}
		if !topKey.MatchString(l) {
			continue
		}
		if topGroups.MatchString(l) && groupsAt < 0 {
			groupsAt = i
		} else if groupsAt < 0 || strings.HasPrefix(l, "kind") || strings.HasPrefix(l, "apiVersion") {
			return nil, false
		}
	}
	if groupsAt < 0 {
		return nil, false
	}
	indent := -1
	for i := groupsAt + 1; i < len(lines); i++ {
		l := lines[i]
		t := strings.TrimSpace(l)
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		ind := len(l) - len(strings.TrimLeft(l, " "))
		if indent < 0 {
			m := groupItem.FindStringSubmatch(l)
			if m == nil {
				return nil, false
			}
			indent = len(m[1])
		}
		switch {
		case ind < indent || (ind == indent && !strings.HasPrefix(t, "-")):
			if len(spans) > 0 { // the end of the list
				spans[len(spans)-1].end = i
			}
			return spans, len(spans) >= 2 && i == len(lines) // nothing may follow the list
		case ind == indent:
			if !groupItemName.MatchString(l) {
				return nil, false
			}
			if len(spans) > 0 {
				spans[len(spans)-1].end = i
			}
			spans = append(spans, chunkSpan{start: i + 1})
		case ruleItem.MatchString(l) && len(spans) > 0:
			spans[len(spans)-1].rules++
		}
	}
	if len(spans) > 0 {
		spans[len(spans)-1].end = len(lines)
	}
	return spans, len(spans) >= 2
}

// loadChunked loads a big plain rule file as several files of a share of
// its groups each, on all CPUs: every other line is kept in place, so
// positions do not change. Prometheus validates each group on its own, but
// for group names repeated across the file; so a file with any error, or
// with a repeated group name, returns nil, nil and is loaded whole, which
// words and places every error exactly as promtool. Files that are not big
// and plain return nil, nil too.
func (l *Linter) loadChunked(path string, text []byte) (*rulefile.File, rulefile.ErrorList) {
	workers := runtime.GOMAXPROCS(0)
	if workers < 2 || bytes.Count(text, []byte("\n")) < parallelRules {
		return nil, nil
	}
	lines := strings.Split(string(text), "\n")
	spans, ok := groupSpans(lines)
	if !ok {
		return nil, nil
	}
	total := 0
	for _, s := range spans {
		total += s.rules
	}
	if total < parallelRules {
		return nil, nil
	}
	// Contiguous runs of groups with about the same number of rules each.
	var chunks [][]chunkSpan
	per := (total + workers - 1) / workers
	var cur []chunkSpan
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
	// One goroutine per chunk: there are at most GOMAXPROCS of them.
	parallel.For(len(chunks), len(chunks), func(ci int) {
		own := make([]bool, len(lines))
		for _, s := range chunks[ci] {
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
	// The groups found in the text must be those YAML found.
	if len(out.Groups) != len(spans) {
		return nil, nil
	}
	for i, g := range out.Groups {
		if g.Pos.Line != spans[i].start {
			return nil, nil
		}
	}
	return out, nil
}
