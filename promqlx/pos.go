package promqlx

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/promql/parser/posrange"
)

// MatcherPos returns the offset in query where matcher m of vs was written:
// its label name. An implicit matcher (the metric name before the braces)
// is at the selector's start.
func MatcherPos(query string, vs *parser.VectorSelector, m *labels.Matcher) posrange.Pos {
	start, end := int(vs.PosRange.Start), int(vs.PosRange.End)
	if start < 0 || end > len(query) || start > end {
		return vs.PosRange.Start
	}
	text := query[start:end]
	brace := strings.IndexByte(text, '{')
	if brace < 0 {
		return vs.PosRange.Start
	}
	name := regexp.QuoteMeta(m.Name)
	re := regexp.MustCompile(`(?:^|[{,\s])("` + name + `"|` + name + `)\s*` + regexp.QuoteMeta(m.Type.String()) + `\s*["'` + "`]")
	loc := re.FindStringSubmatchIndex(text[brace:])
	if loc == nil {
		return vs.PosRange.Start
	}
	return posrange.Pos(start + brace + loc[2])
}

// MatcherValuePos returns the offset of the first character of a matcher's
// quoted value (the quote), or the matcher's position.
func MatcherValuePos(query string, vs *parser.VectorSelector, m *labels.Matcher) posrange.Pos {
	p := int(MatcherPos(query, vs, m))
	if p >= len(query) {
		return posrange.Pos(p)
	}
	if i := strings.IndexAny(query[p:], "\"'`"); i >= 0 && p+i < int(vs.PosRange.End) {
		return posrange.Pos(p + i)
	}
	return posrange.Pos(p)
}

// OperatorPos returns the offset of a binary operation's operator.
func OperatorPos(query string, b *parser.BinaryExpr) posrange.Pos {
	lhsEnd := int(b.LHS.PositionRange().End)
	rhsStart := int(b.RHS.PositionRange().Start)
	if lhsEnd < 0 || rhsStart > len(query) || lhsEnd >= rhsStart {
		return b.PositionRange().Start
	}
	gap := query[lhsEnd:rhsStart]
	for i := 0; i < len(gap); i++ {
		switch gap[i] {
		case ' ', '\t', '\n', '\r', ')':
			continue
		case '#': // a comment runs to the end of the line
			if j := strings.IndexByte(gap[i:], '\n'); j >= 0 {
				i += j
				continue
			}
			return posrange.Pos(lhsEnd)
		}
		return posrange.Pos(lhsEnd + i)
	}
	return posrange.Pos(lhsEnd)
}

var modifierRE = regexp.MustCompile(`(?i)\b(on|ignoring|group_left|group_right)\s*\(`)

// ModifierPos returns the offset of a binary operation's on(...), ignoring(...)
// or, with group, its group_left/group_right keyword; the operator's when
// there is none.
func ModifierPos(query string, b *parser.BinaryExpr, group bool) posrange.Pos {
	op := int(OperatorPos(query, b))
	rhsStart := int(b.RHS.PositionRange().Start)
	if op >= rhsStart || rhsStart > len(query) {
		return posrange.Pos(op)
	}
	gap := query[op:rhsStart]
	for _, loc := range modifierRE.FindAllStringSubmatchIndex(gap, -1) {
		kw := strings.ToLower(gap[loc[2]:loc[3]])
		if group == strings.HasPrefix(kw, "group_") {
			return posrange.Pos(op + loc[2])
		}
	}
	return posrange.Pos(op)
}

// GroupingPos returns the offsets of an aggregation's by/without keyword
// and of label name in its list (the keyword's when not listed); ok is false
// when the aggregation has no grouping clause.
func GroupingPos(query string, a *parser.AggregateExpr, name string) (kw, label posrange.Pos, ok bool) {
	start, end := int(a.PosRange.Start), int(a.PosRange.End)
	if start < 0 || end > len(query) || start >= end {
		return a.PosRange.Start, a.PosRange.Start, false
	}
	text := query[start:end]
	i := len(a.Op.String())
	if i > len(text) {
		return a.PosRange.Start, a.PosRange.Start, false
	}
	i += blanks(text[i:])
	if !groupingKW.MatchString(text[i:]) {
		// sum(...) by (...): the clause follows the body's closing parenthesis.
		if i >= len(text) || text[i] != '(' {
			return a.PosRange.Start, a.PosRange.Start, false
		}
		close := matchParen(text, i)
		if close < 0 {
			return a.PosRange.Start, a.PosRange.Start, false
		}
		i = close + 1
		i += blanks(text[i:])
	}
	loc := groupingKW.FindStringIndex(text[i:])
	if loc == nil || loc[0] != 0 {
		return a.PosRange.Start, a.PosRange.Start, false
	}
	kw = posrange.Pos(start + i)
	open := i + loc[1] - 1
	close := matchParen(text, open)
	if close < 0 {
		return kw, kw, true
	}
	re := regexp.MustCompile(`[(,]\s*("?` + regexp.QuoteMeta(name) + `"?)\s*[,)]`)
	if m := re.FindStringSubmatchIndex(text[open : close+1]); m != nil {
		return kw, posrange.Pos(start + open + m[2]), true
	}
	return kw, kw, true
}

var groupingKW = regexp.MustCompile(`(?i)^(by|without)\s*\(`)

func blanks(s string) int {
	i := 0
	for i < len(s) {
		switch s[i] {
		case ' ', '\t', '\n', '\r':
			i++
			continue
		case '#':
			if j := strings.IndexByte(s[i:], '\n'); j >= 0 {
				i += j
				continue
			}
			return len(s)
		}
		break
	}
	return i
}

// matchParen returns the index of the parenthesis closing the one at open,
// skipping strings and comments, or -1.
func matchParen(s string, open int) int {
	depth := 0
	for i := open; i < len(s); i++ {
		switch c := s[i]; c {
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				return i
			}
		case '"', '\'', '`':
			for i++; i < len(s) && s[i] != c; i++ {
				if s[i] == '\\' && c != '`' {
					i++
				}
			}
		case '#':
			for i < len(s) && s[i] != '\n' {
				i++
			}
		}
	}
	return -1
}

// RangePos returns the offset of a matrix selector's range, the "[".
func RangePos(query string, m *parser.MatrixSelector) posrange.Pos {
	vsEnd := int(m.VectorSelector.PositionRange().End)
	end := int(m.EndPos)
	if vsEnd < 0 || end > len(query) || vsEnd >= end {
		return m.PositionRange().Start
	}
	if i := strings.IndexByte(query[vsEnd:end], '['); i >= 0 {
		return posrange.Pos(vsEnd + i)
	}
	return posrange.Pos(vsEnd)
}

// Quote renders a label value as PromQL writes it.
func Quote(v string) string { return strconv.Quote(v) }
