package checks

import (
	"github.com/gotk-rules/gotk-rules/lint"
	"github.com/gotk-rules/gotk-rules/rulefile"
)

// promtoolRule reports the rest of what Prometheus refuses in a rule file:
// bad durations, label and annotation names or values, rules with both or
// neither of record and alert, fields a recording rule cannot have, empty
// or repeated group names.
type promtoolRule struct{}

func (promtoolRule) Meta() lint.Meta {
	return lint.Meta{Name: classRule, Severity: lint.Error,
		Summary: "a group or rule breaks Prometheus' rules: duration, label or annotation name, record/alert, fields of recording rules, group names (promtool check rules fails)"}
}

func (promtoolRule) CheckFile(f *lint.File, r *lint.Reporter) {
	loadErrors(f, classRule, func(e rulefile.Error) {
		r.Report(errorPos(f, e), "%s", e.Msg)
	})
}
