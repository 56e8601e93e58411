package checks

import (
	"fmt"
	"strings"

	"github.com/gotk-rules/gotk-rules/lint"
)

// templateDroppedLabel reports templates reading a label the alert's
// expression does not keep: it renders as an empty string.
type templateDroppedLabel struct{}

func (templateDroppedLabel) Meta() lint.Meta {
	return lint.Meta{Name: "template/dropped-label", Severity: lint.Warning,
		Summary: "a template reads $labels.NAME but the expression's result cannot carry NAME (aggregated away, not matched on), so it renders empty"}
}

func (templateDroppedLabel) CheckRule(rule *lint.Rule, r *lint.Reporter) {
	if !rule.IsAlert() {
		return
	}
	out := rule.OutputLabels()
	if !out.Fixed && len(out.Names) == 0 {
		return
	}
	f := rule.Group.File
	for _, t := range ruleTemplates(rule) {
		for _, ref := range t.Refs {
			if ref.Label == "" || !out.Lacks(ref.Label) {
				continue
			}
			why := fmt.Sprintf("the expression drops it (%s)", out.By)
			if out.Fixed {
				why = fmt.Sprintf("the expression's result has no labels (after %s)", out.By)
				if l := out.List(); len(l) > 0 {
					why = fmt.Sprintf("the expression's result only has %s (after %s)", strings.Join(l, ", "), out.By)
				}
			}
			hint := fmt.Sprintf("keep it in the expression (add %s to by(...)), or use a label the result has", ref.Label)
			if _, own := rule.Labels[ref.Label]; own {
				hint = fmt.Sprintf("%s is one of the rule's own labels, which templates do not see: write its value into the text", ref.Label)
			} else if _, own := rule.Group.Labels[ref.Label]; own {
				hint = fmt.Sprintf("%s is one of the group's labels, which templates do not see: write its value into the text", ref.Label)
			}
			r.Report(t.Pos(f, ref.Off), "%s %q reads $labels.%s, which is always empty: %s; %s",
				strings.TrimSuffix(t.Section, "s"), t.Name, ref.Label, why, hint)
		}
	}
}
