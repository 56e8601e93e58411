package checks

import (
	"strings"

	"github.com/prometheus/prometheus/promql/parser"

	"github.com/gotk-rules/gotk-rules/lint"
	"github.com/gotk-rules/gotk-rules/promqlx"
)

// promqlRateOnGauge reports rate, irate and increase over a metric that is a
// gauge by its name, or the output of a recording rule that is not a counter.
type promqlRateOnGauge struct{}

func (promqlRateOnGauge) Meta() lint.Meta {
	return lint.Meta{Name: "promql/rate-on-gauge", Severity: lint.Warning,
		Summary: "rate, irate or increase is applied to a metric named like a gauge, or to a recording rule's gauge output"}
}

// counterFunctions treat their input as a counter.
var counterFunctions = map[string]bool{"rate": true, "irate": true, "increase": true}

// gaugeNames are gauges by name.
var gaugeNames = map[string]bool{
	"up": true, "scrape_duration_seconds": true, "scrape_samples_scraped": true,
	"scrape_samples_post_metric_relabeling": true, "scrape_series_added": true,
	"gotk_reconcile_condition": true, "gotk_suspend_status": true,
	"gotk_resource_info": true, "flux_resource_info": true,
}

// gaugeSuffixes end gauge names by Prometheus' naming conventions.
var gaugeSuffixes = []string{
	"_info", "_ratio", "_percent", "_percentage", "_celsius", "_temperature",
	"_timestamp", "_timestamp_seconds", "_start_time_seconds", "_boot_time_seconds",
}

// gaugeReason says why a metric is a gauge, or "".
func gaugeReason(f *lint.File, name string) string {
	if rules := f.Recorders(name); len(rules) > 0 {
		for _, r := range rules {
			if fn := rangeFunction(r.AST); fn != "" {
				return "it is recorded at line " + itoa(r.Pos.Line) + " from " + fn + "(), a per-second or windowed value, not a counter"
			}
		}
		return ""
	}
	if hasCounterSuffix(name) || strings.Contains(name, ":") {
		return ""
	}
	if gaugeNames[name] {
		return "it is a gauge"
	}
	for _, s := range gaugeSuffixes {
		if strings.HasSuffix(name, s) {
			return "its name ends in " + s + ", a gauge's"
		}
	}
	if strings.HasPrefix(name, "kube_") {
		return "kube-state-metrics exposes gauges, and counters end in _total"
	}
	return ""
}

// rangeFunction returns a function of e whose result is not a counter
// (rate, a *_over_time, histogram_quantile...), or "".
func rangeFunction(e parser.Expr) string {
	found := ""
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		if c, ok := n.(*parser.Call); ok && found == "" {
			switch name := c.Func.Name; {
			case counterFunctions[name], name == "delta", name == "idelta", name == "deriv",
				name == "predict_linear", name == "histogram_quantile", strings.HasSuffix(name, "_over_time"):
				found = name
			}
		}
		return nil
	})
	return found
}

func (promqlRateOnGauge) CheckRule(rule *lint.Rule, r *lint.Reporter) {
	f := rule.Group.File
	parser.Inspect(rule.AST, func(n parser.Node, path []parser.Node) error {
		c, ok := n.(*parser.Call)
		if !ok || !counterFunctions[c.Func.Name] || len(c.Args) != 1 {
			return nil
		}
		m, ok := c.Args[0].(*parser.MatrixSelector)
		if !ok {
			return nil
		}
		vs, ok := m.VectorSelector.(*parser.VectorSelector)
		if !ok {
			return nil
		}
		for _, p := range path {
			if pc, ok := p.(*parser.Call); ok && strings.HasPrefix(pc.Func.Name, "histogram_") {
				return nil // a native histogram: rate is right
			}
		}
		name := promqlx.MetricName(vs)
		why := gaugeReason(f, name)
		if why == "" {
			return nil
		}
		r.Report(rule.ExprPos(vs.PosRange.Start),
			"%s() over %s, but %s: %s assumes a counter that only goes up and takes every decrease for a reset, so the result is wrong; use deriv() or delta() for a gauge, or apply %s to the counter it comes from",
			c.Func.Name, name, why, c.Func.Name, c.Func.Name)
		return nil
	})
}
