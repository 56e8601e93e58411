package checks

import (
	"regexp/syntax"
	"strings"

	"github.com/prometheus/prometheus/model/labels"
)

// isRegexMatcher reports whether a matcher takes a regular expression.
func isRegexMatcher(m *labels.Matcher) bool {
	return m.Type == labels.MatchRegexp || m.Type == labels.MatchNotRegexp
}

// stripAnchors removes a leading ^ and a trailing unescaped $ from each
// top-level alternative: Prometheus anchors every regex matcher as a whole,
// so they change nothing.
func stripAnchors(v string) (string, bool) {
	var alts []string
	depth, start := 0, 0
	for i := 0; i < len(v); i++ {
		switch v[i] {
		case '\\':
			i++
		case '(', '[':
			depth++
		case ')', ']':
			depth--
		case '|':
			if depth == 0 {
				alts = append(alts, v[start:i])
				start = i + 1
			}
		}
	}
	alts = append(alts, v[start:])
	stripped := false
	for i, a := range alts {
		if strings.HasPrefix(a, "^") {
			a, stripped = a[1:], true
		}
		if strings.HasSuffix(a, "$") && !escapedAt(a, len(a)-1) {
			a, stripped = a[:len(a)-1], true
		}
		alts[i] = a
	}
	return strings.Join(alts, "|"), stripped
}

// escapedAt reports whether the byte at i follows an odd run of backslashes.
func escapedAt(s string, i int) bool {
	n := 0
	for j := i - 1; j >= 0 && s[j] == '\\'; j-- {
		n++
	}
	return n%2 == 1
}

// regexKind classifies a regex (anchors removed): a literal string, one that
// matches everything, or a real regex.
type regexKind int

const (
	realRegex regexKind = iota
	literalRegex
	matchAllRegex
)

func classifyRegex(v string) (regexKind, string) {
	re, err := syntax.Parse(v, syntax.Perl)
	if err != nil {
		return realRegex, ""
	}
	re = re.Simplify()
	switch re.Op {
	case syntax.OpLiteral:
		if re.Flags&syntax.FoldCase == 0 {
			return literalRegex, string(re.Rune)
		}
	case syntax.OpEmptyMatch:
		return literalRegex, ""
	case syntax.OpStar:
		if len(re.Sub) == 1 && (re.Sub[0].Op == syntax.OpAnyCharNotNL || re.Sub[0].Op == syntax.OpAnyChar) {
			return matchAllRegex, ""
		}
	}
	return realRegex, ""
}
