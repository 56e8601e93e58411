package lint

import (
	"bytes"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/gotk-rules/gotk-rules/lint/source"
)

// UnusedSuppression is the check that reports suppressions that suppress
// nothing, or name no check.
var UnusedSuppression = Meta{
	Name:     "lint/unused-suppression",
	Severity: Warning,
	Summary:  "a `# gotk-rules: disable=...` comment that suppresses nothing, or names no check",
}

// directive matches a suppression comment; group 1 is the list of checks.
var directive = regexp.MustCompile(`(?:^|\s)#\s*gotk-rules:\s*disable=([\w*./-]+(?:\s*,\s*[\w*./-]+)*)`)

var patternRE = regexp.MustCompile(`[\w*./-]+`)

// suppression is one check pattern of one comment and the lines it covers.
type suppression struct {
	pos        source.Pos // of the pattern in the comment
	pattern    string
	start, end int // lines covered, inclusive
	scope      string
	used       bool
}

// span is a group or rule: its lines and where it starts.
type span struct {
	start, end int
	kind       string // "rule", "group" or "document"
}

// spans returns the rules, groups and documents of a file, innermost last
// within each kind.
func spans(src *source.File) (rules, groups, docs []span) {
	for _, d := range src.Docs {
		docs = append(docs, span{d.Start, d.End, "document"})
		gs := yamlGroups(d.Root)
		for gi, g := range gs {
			gEnd := d.End
			if gi+1 < len(gs) {
				gEnd = gs[gi+1].group.Line - 1
			}
			groups = append(groups, span{g.group.Line, gEnd, "group"})
			for ri, r := range g.rules {
				rEnd := gEnd
				if ri+1 < len(g.rules) {
					rEnd = g.rules[ri+1].Line - 1
				}
				rules = append(rules, span{r.Line, rEnd, "rule"})
			}
		}
	}
	return rules, groups, docs
}

// parseSuppressions finds the suppression comments of a file and the lines
// each covers: a comment on a rule's lines, or in the comment lines right
// above it, covers the rule; likewise for a group; a comment before the
// file's first content covers the file; any other comment covers its
// document.
func parseSuppressions(f *File) []*suppression {
	if !bytes.Contains(f.content, []byte("gotk-rules:")) {
		return nil
	}
	src := f.Source()
	var out []*suppression
	var rules, groups, docs []span
	first := 0 // first content line
	for i, l := range src.Lines {
		if t := strings.TrimSpace(l); t != "" && !strings.HasPrefix(t, "#") && !docSeparator(t) {
			first = i + 1
			break
		}
	}
	indexed := false
	for i, line := range src.Lines {
		if !strings.Contains(line, "gotk-rules:") {
			continue
		}
		m := directive.FindStringSubmatchIndex(line)
		if m == nil {
			continue
		}
		if !indexed {
			rules, groups, docs = spans(src)
			indexed = true
		}
		n := i + 1
		start, end, scope := scopeOf(src, n, first, rules, groups, docs)
		list := line[m[2]:m[3]]
		for _, p := range patternRE.FindAllStringIndex(list, -1) {
			out = append(out, &suppression{
				pos:     source.Pos{Line: n, Column: src.ColumnOf(n, m[2]+p[0])},
				pattern: list[p[0]:p[1]],
				start:   start, end: end, scope: scope,
			})
		}
	}
	return out
}

func docSeparator(t string) bool {
	return t == "---" || t == "..." || strings.HasPrefix(t, "--- ") || strings.HasPrefix(t, "... ")
}

func scopeOf(src *source.File, n, first int, rules, groups, docs []span) (int, int, string) {
	if first == 0 || n < first {
		return 1, len(src.Lines), "file"
	}
	line := strings.TrimSpace(src.Line(n))
	if strings.HasPrefix(line, "#") {
		// A comment block right above a rule or group covers it.
		next := n + 1
		for next <= len(src.Lines) && strings.HasPrefix(strings.TrimSpace(src.Line(next)), "#") {
			next++
		}
		for _, set := range [][]span{rules, groups} {
			for _, s := range set {
				if s.start == next {
					return n, s.end, s.kind
				}
			}
		}
	}
	for _, set := range [][]span{rules, groups, docs} {
		for _, s := range set {
			if n >= s.start && n <= s.end {
				return s.start, s.end, s.kind
			}
		}
	}
	return 1, len(src.Lines), "file"
}

// suppress drops the findings a suppression covers and marks it used.
func suppress(findings []Finding, sups []*suppression) []Finding {
	if len(sups) == 0 {
		return findings
	}
	out := findings[:0]
	for _, f := range findings {
		hidden := false
		for _, s := range sups {
			if f.Line >= s.start && f.Line <= s.end && MatchName(s.pattern, f.Check) {
				s.used = true
				hidden = true
			}
		}
		if !hidden {
			out = append(out, f)
		}
	}
	return out
}

// unusedSuppressions reports the suppressions that hid nothing although the
// checks they name ran, and those that name no check.
func (l *Linter) unusedSuppressions(f *File, sups []*suppression, ran func(check string) bool) []Finding {
	var out []Finding
	for _, s := range sups {
		if s.used {
			continue
		}
		names, err := Match(s.pattern, l.metas)
		msg := ""
		switch {
		case err != nil:
			msg = fmt.Sprintf("%q names no check: this suppression does nothing (gotk-rules lint --list-checks lists them)", s.pattern)
		default:
			active := false
			for _, n := range names {
				if ran(n) {
					active = true
				}
			}
			if !active {
				continue
			}
			msg = fmt.Sprintf("suppression of %s covers this %s but nothing in it is reported: remove it", s.pattern, s.scope)
		}
		out = append(out, Finding{File: f.Path, Line: s.pos.Line, Column: s.pos.Column,
			Check: UnusedSuppression.Name, Message: msg})
	}
	sort.Slice(out, func(i, j int) bool { return Compare(out[i], out[j]) < 0 })
	return out
}
