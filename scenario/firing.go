package scenario

import (
	"maps"
	"slices"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/rules"

	"github.com/gotk-rules/gotk-rules/evaluator"
	"github.com/gotk-rules/gotk-rules/unittest/testfile"
)

// FiringNow returns the alerts of every alerting rule of sess firing now,
// with their labels and annotations copied, sorted by labels (rules keep
// their alerts in maps).
func FiringNow(sess *evaluator.Session) []Firing {
	var now []Firing
	for _, ar := range sess.AlertingRules() {
		for _, a := range ar.ActiveAlerts() {
			if a.State == rules.StateFiring {
				now = append(now, Firing{Labels: a.Labels.Copy(), Annotations: a.Annotations.Copy()})
			}
		}
	}
	sortFiring(now)
	return now
}

func sortFiring(fs []Firing) {
	slices.SortStableFunc(fs, func(a, b Firing) int { return labels.Compare(a.Labels, b.Labels) })
}

// FiringLog holds, per evaluation offset, the alerts firing then.
type FiringLog map[time.Duration][]Firing

// Times returns the offsets the log holds, in order.
func (l FiringLog) Times() []time.Duration {
	return slices.Sorted(maps.Keys(l))
}

// Named returns the alerts named alert firing at offset t, sorted by labels.
func (l FiringLog) Named(t time.Duration, alert string) []Firing {
	var out []Firing
	for _, f := range l[t] {
		if f.Labels.Get(labels.AlertName) == alert {
			out = append(out, f)
		}
	}
	sortFiring(out)
	return out
}

// AlertTests returns the promtool alert_rule_test entries that pin the log:
// at every offset, in order, one per alert name in names (in that order)
// with the alerts of that name firing then; none when names is empty.
func (l FiringLog) AlertTests(names []string) []testfile.AlertTestCase {
	if len(names) == 0 {
		return nil
	}
	var out []testfile.AlertTestCase
	for _, t := range l.Times() {
		for _, name := range names {
			tc := testfile.AlertTestCase{EvalTime: model.Duration(t), Alertname: name, ExpAlerts: []testfile.ExpAlert{}}
			for _, f := range l.Named(t, name) {
				exp := testfile.ExpAlert{ExpLabels: f.Labels.Map()}
				delete(exp.ExpLabels, labels.AlertName) // promtool adds it
				if f.Annotations.Len() > 0 {
					exp.ExpAnnotations = f.Annotations.Map()
				}
				tc.ExpAlerts = append(tc.ExpAlerts, exp)
			}
			out = append(out, tc)
		}
	}
	return out
}

// InputSeries returns series as promtool input_series.
func InputSeries(ss []Series) []testfile.InputSeries {
	out := make([]testfile.InputSeries, len(ss))
	for i, s := range ss {
		out[i] = testfile.InputSeries{Series: s.Metric, Values: s.Values}
	}
	return out
}
