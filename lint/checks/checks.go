// Package checks holds the gotk-rules lint checks, one per file. Each is a
// small type with a Meta (name "area/name", default severity, summary) and a
// CheckFile, CheckGroup or CheckRule method; All lists them.
//
// Areas: promtool (what promtool check rules reports), alert, template,
// promql, group and rule (offline semantic checks), flux (Flux's metrics).
package checks

import (
	"strings"

	"github.com/gotk-rules/gotk-rules/lint"
	"github.com/gotk-rules/gotk-rules/promqlx"
)

// All returns every check.
func All() []lint.Check {
	return []lint.Check{
		promtoolYAML{},
		promtoolPromQL{},
		promtoolTemplate{},
		promtoolRule{},
		promtoolDuplicateRule{},

		alertNoComparison{},
		alertForMissing{},
		alertFragileAggregation{},
		templateDroppedLabel{},
		templateValueInLabel{},
		promqlNeedlessRegex{},
		promqlRegexAnchors{},
		promqlRateOnGauge{},
		promqlShortRateRange{},
		promqlImpossibleMatch{},
		groupLongInterval{},
		groupRecordOrder{},
		ruleDuplicate{},

		fluxRemovedMetric{},
		fluxDeletedStatus{},
		fluxConditionType{},
		fluxConditionStatus{},
		fluxNamespaceLabel{},
		fluxReadyForReset{},
		fluxWrongLabel{},
		fluxLabelValue{},
	}
}

// counterSuffixes end the names of counters and of histogram and summary
// series, by Prometheus' naming conventions.
var counterSuffixes = []string{"_total", "_count", "_sum", "_bucket"}

func hasCounterSuffix(name string) bool {
	for _, s := range counterSuffixes {
		if strings.HasSuffix(name, s) {
			return true
		}
	}
	return false
}

// truncate shortens s for a message.
func truncate(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) <= n {
		return s
	}
	return s[:n-3] + "..."
}

// fires says what an empty expression means for a rule.
func fires(isAlert bool) string {
	if isAlert {
		return "the alert never fires"
	}
	return "the recording rule records nothing"
}

// selectorsNamed returns the selectors of metrics in names.
func selectorsNamed(sels []promqlx.Selector, names ...string) []promqlx.Selector {
	var out []promqlx.Selector
	for _, s := range sels {
		n := promqlx.MetricName(s.VectorSelector)
		for _, want := range names {
			if n == want {
				out = append(out, s)
				break
			}
		}
	}
	return out
}
