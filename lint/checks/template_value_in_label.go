package checks

import (
	"github.com/gotk-rules/gotk-rules/lint"
)

// templateValueInLabel reports $value in an alert's labels: the labels
// identify the alert, so every new value is a new alert.
type templateValueInLabel struct{}

func (templateValueInLabel) Meta() lint.Meta {
	return lint.Meta{Name: "template/value-in-label", Severity: lint.Error,
		Summary: "an alert label uses $value, so every change of value makes a new alert: it resolves, `for` starts over and notifications repeat"}
}

func (templateValueInLabel) CheckRule(rule *lint.Rule, r *lint.Reporter) {
	if !rule.IsAlert() {
		return
	}
	f := rule.Group.File
	for _, t := range ruleTemplates(rule) {
		if t.Section != "labels" {
			continue
		}
		for _, ref := range t.Refs {
			if !ref.Value {
				continue
			}
			what := "the alert fires again under new labels each time the value changes and never lasts long enough for `for` to pass"
			if rule.For == 0 {
				what = "each new value resolves the alert and fires a new one, so notifications repeat"
			}
			r.Report(t.Pos(f, ref.Off), "label %q uses $value: labels identify an alert, so %s; move it to an annotation", t.Name, what)
			break
		}
	}
}
