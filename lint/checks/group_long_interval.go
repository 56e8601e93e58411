package checks

import (
	"time"

	"github.com/prometheus/common/model"

	"github.com/gotk-rules/gotk-rules/lint"
)

// groupLongInterval reports group intervals over Prometheus' 5m lookback.
type groupLongInterval struct{}

func (groupLongInterval) Meta() lint.Meta {
	return lint.Meta{Name: "group/long-interval", Severity: lint.Warning,
		Summary: "a group's interval is longer than the 5m lookback, so the series its rules write go stale between evaluations"}
}

// lookback is Prometheus' default lookback delta.
const lookback = 5 * time.Minute

func (groupLongInterval) CheckGroup(g *lint.Group, r *lint.Reporter) {
	if g.Interval <= lookback {
		return
	}
	r.Report(g.ValuePos("interval"),
		"group %q is evaluated every %s, longer than the 5m lookback: what its rules write (recorded series, ALERTS) is found by queries only for 5m after each evaluation, so dashboards and rules reading it see gaps and alerts on it resolve and fire again; keep the interval at 5m or less, or read the outputs with last_over_time(...[%s])",
		g.Name, model.Duration(g.Interval), model.Duration(g.Interval))
}
