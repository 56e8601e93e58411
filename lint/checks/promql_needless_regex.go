package checks

import (
	"github.com/prometheus/prometheus/model/labels"

	"github.com/gotk-rules/gotk-rules/lint"
	"github.com/gotk-rules/gotk-rules/lint/source"
	"github.com/gotk-rules/gotk-rules/promqlx"
)

// promqlNeedlessRegex reports regex matchers that match a fixed string, or
// everything.
type promqlNeedlessRegex struct{}

func (promqlNeedlessRegex) Meta() lint.Meta {
	return lint.Meta{Name: "promql/needless-regex", Severity: lint.Info,
		Summary: `a regex matcher matches one fixed string (use = or !=) or everything (=~".*": remove it)`}
}

func (promqlNeedlessRegex) CheckRule(rule *lint.Rule, r *lint.Reporter) {
	for _, s := range rule.Selectors() {
		for _, m := range s.LabelMatchers {
			if !isRegexMatcher(m) {
				continue
			}
			v, anchored := stripAnchors(m.Value)
			kind, lit := classifyRegex(v)
			at := func() source.Pos { return rule.ExprPos(promqlx.MatcherPos(rule.Expr, s.VectorSelector, m)) }
			switch kind {
			case literalRegex:
				op := labels.MatchEqual
				if m.Type == labels.MatchNotRegexp {
					op = labels.MatchNotEqual
				}
				note := ""
				if anchored {
					note = " (Prometheus anchors regex matchers, so ^ and $ add nothing)"
				}
				r.Report(at(), "%s matches one fixed string%s: write %s%s%s, which says so and is cheaper",
					m, note, m.Name, op, promqlx.Quote(lit))
			case matchAllRegex:
				if m.Type == labels.MatchRegexp {
					r.Report(at(), "%s matches every value, and series without the label too: it selects nothing out; remove it", m)
				}
			}
		}
	}
}
