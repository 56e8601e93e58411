package mutate

import (
	"slices"
	"strings"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
)

// matcherOperator negates a label matcher (= and !=, =~ and !~), widens a
// regular expression to .*, narrows it (one alternative dropped, or a .*
// or .+ removed) and drops a matcher.
var matcherOperator = Operator{
	Name: "matcher",
	Doc:  "label matchers: negated (= and !=, =~ and !~), regex widened to .* or narrowed (an alternative or a .*/.+ dropped), a matcher dropped",
	expr: matcherChanges,
}

var negated = map[labels.MatchType]labels.MatchType{
	labels.MatchEqual:     labels.MatchNotEqual,
	labels.MatchNotEqual:  labels.MatchEqual,
	labels.MatchRegexp:    labels.MatchNotRegexp,
	labels.MatchNotRegexp: labels.MatchRegexp,
}

func matcherChanges(n parser.Node, x *exprCtx) []change {
	vs, ok := n.(*parser.VectorSelector)
	if !ok {
		return nil
	}
	start, end := int(vs.PosRange.Start), int(vs.PosRange.End)
	var out []change
	for i, m := range vs.LabelMatchers {
		if m.Name == labels.MetricName && m.Type == labels.MatchEqual && vs.Name != "" {
			continue // the metric name
		}
		pos := start
		if start >= 0 && end <= len(x.src) && start < end {
			if j := strings.Index(x.src[start:end], m.Name); j >= 0 {
				pos = start + j
			}
		}
		replace := func(t labels.MatchType, v string, hint string) {
			nm, err := labels.NewMatcher(t, m.Name, v)
			if err != nil {
				return
			}
			out = append(out, change{original: m.String(), mutated: nm.String(), pos: pos, hint: hint,
				apply: func(n parser.Node) { n.(*parser.VectorSelector).LabelMatchers[i] = nm }})
		}
		replace(negated[m.Type], m.Value, "no test has input series both with and without "+m.String()+" and asserts which of them count")
		if m.Type == labels.MatchRegexp {
			if m.Value != ".*" {
				replace(labels.MatchRegexp, ".*", "no input series has a "+m.Name+" value outside "+m.Value+": add one and assert it is ignored")
			}
			if narrow, ok := narrowRegexp(m.Value); ok {
				replace(labels.MatchRegexp, narrow, "no input series has a "+m.Name+" value matched by "+m.Value+" but not by "+narrow+": add one and assert it counts")
			}
		}
		rest := slices.Delete(slices.Clone(vs.LabelMatchers), i, i+1)
		if slices.ContainsFunc(rest, func(r *labels.Matcher) bool { return !r.Matches("") }) {
			out = append(out, change{original: m.String(), mutated: "", pos: pos,
				hint:  "no input series differs from a selected one only in label " + m.Name + ": add one (with " + m.Name + " not matching " + m.Value + ") and assert it is ignored",
				apply: func(n parser.Node) { n.(*parser.VectorSelector).LabelMatchers = rest }})
		}
	}
	return out
}

// narrowRegexp narrows a regular expression: its last top-level
// alternative dropped, else its first .* or .+ removed.
func narrowRegexp(re string) (string, bool) {
	depth, last := 0, -1
	for i := 0; i < len(re); i++ {
		switch re[i] {
		case '\\':
			i++
		case '(', '[':
			depth++
		case ')', ']':
			depth--
		case '|':
			if depth == 0 {
				last = i
			}
		}
	}
	if last >= 0 {
		return re[:last], true
	}
	for _, wild := range []string{".*", ".+"} {
		if i := strings.Index(re, wild); i >= 0 && re != wild {
			return re[:i] + re[i+2:], true
		}
	}
	return "", false
}
