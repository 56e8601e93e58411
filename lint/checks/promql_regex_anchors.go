package checks

import (
	"github.com/gotk-rules/gotk-rules/lint"
	"github.com/gotk-rules/gotk-rules/promqlx"
)

// promqlRegexAnchors reports ^ and $ around regex matchers: Prometheus
// anchors every regex matcher already. A regex that is a plain string once
// unanchored is promql/needless-regex's.
type promqlRegexAnchors struct{}

func (promqlRegexAnchors) Meta() lint.Meta {
	return lint.Meta{Name: "promql/regex-anchors", Severity: lint.Info,
		Summary: "a regex matcher starts with ^ or ends with $, which Prometheus adds anyway"}
}

func (promqlRegexAnchors) CheckRule(rule *lint.Rule, r *lint.Reporter) {
	for _, s := range rule.Selectors() {
		for _, m := range s.LabelMatchers {
			if !isRegexMatcher(m) {
				continue
			}
			v, anchored := stripAnchors(m.Value)
			if !anchored {
				continue
			}
			if kind, _ := classifyRegex(v); kind != realRegex {
				continue // promql/needless-regex says more
			}
			r.Report(rule.ExprPos(promqlx.MatcherPos(rule.Expr, s.VectorSelector, m)),
				"Prometheus anchors every regex matcher (as ^(?:...)$), so the ^ and $ of %s change nothing: write %s%s%s",
				m, m.Name, m.Type, promqlx.Quote(v))
		}
	}
}
