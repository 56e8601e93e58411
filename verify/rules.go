package verify

import (
	"fmt"
	"slices"
	"sort"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/gotk-rules/gotk-rules/scenario"
)

// eraMetrics are the metric names each era's monitoring setup exposes.
var eraMetrics = map[scenario.Era][]string{
	scenario.EraV20:      {scenario.MetricCondition, scenario.MetricSuspend, scenario.MetricDuration + "_bucket", scenario.MetricDuration + "_sum", scenario.MetricDuration + "_count"},
	scenario.EraV21:      {scenario.MetricCondition, scenario.MetricSuspend, scenario.MetricDuration + "_bucket", scenario.MetricDuration + "_sum", scenario.MetricDuration + "_count"},
	scenario.EraKSM:      {scenario.MetricInfo},
	scenario.EraOperator: {scenario.MetricOperatorInfo},
}

// ruleSet is what verify needs to know of the rules before replaying them:
// the alerts, the metrics each reads and the expressions their scopes come
// from.
type ruleSet struct {
	// alerts are the alerting rules' names, sorted.
	alerts []string
	// reads are, per alert, the metric names it reads, through the
	// recording rules it reads.
	reads map[string]map[string]bool
	// exprs are, per alert, its rules' expressions (rules may share a name).
	exprs map[string][]parser.Expr
	// recorded are, per recorded metric, the expressions recording it.
	recorded map[string][]parser.Expr
}

// loadRuleSet reads the rule files once.
func loadRuleSet(opts Options) (*ruleSet, error) {
	rs := &ruleSet{reads: map[string]map[string]bool{}, exprs: map[string][]parser.Expr{}, recorded: map[string][]parser.Expr{}}
	recordedReads := map[string][]string{}
	alertReads := map[string][]string{}
	for _, f := range opts.RuleFiles {
		rf, err := opts.Loader.LoadFile(f)
		if err != nil {
			return nil, err
		}
		for _, g := range rf.Groups {
			for _, r := range g.RuleGroup.Rules {
				expr, err := opts.Engine.Parser().ParseExpr(r.Expr)
				if err != nil {
					return nil, fmt.Errorf("%s: group %q: %w", f, g.RuleGroup.Name, err)
				}
				names := metricNames(expr)
				if r.Record != "" {
					recordedReads[r.Record] = append(recordedReads[r.Record], names...)
					rs.recorded[r.Record] = append(rs.recorded[r.Record], expr)
				} else {
					alertReads[r.Alert] = append(alertReads[r.Alert], names...)
					rs.exprs[r.Alert] = append(rs.exprs[r.Alert], expr)
				}
			}
		}
	}
	if len(alertReads) == 0 {
		return nil, fmt.Errorf("no alerting rule in %v", opts.RuleFiles)
	}
	for a, names := range alertReads {
		seen := map[string]bool{}
		var visit func(string)
		visit = func(n string) {
			if seen[n] {
				return
			}
			seen[n] = true
			for _, m := range recordedReads[n] {
				visit(m)
			}
		}
		for _, n := range names {
			visit(n)
		}
		rs.reads[a] = seen
		rs.alerts = append(rs.alerts, a)
	}
	sort.Strings(rs.alerts)
	return rs, nil
}

// metricNames lists the metric names an expression's selectors name.
func metricNames(expr parser.Expr) []string {
	var names []string
	parser.Inspect(expr, func(n parser.Node, _ []parser.Node) error {
		if vs, ok := n.(*parser.VectorSelector); ok {
			for _, m := range vs.LabelMatchers {
				if m.Name == labels.MetricName && m.Type == labels.MatchEqual {
					names = append(names, m.Value)
				}
			}
		}
		return nil
	})
	return names
}

// exposes reports whether an alert (or, for PolicyAlert, any alert) reads a
// metric the era exposes: if none does, it can never fire there.
func (rs *ruleSet) exposes(era scenario.Era, alert string) bool {
	for a, reads := range rs.reads {
		if alert != PolicyAlert && a != alert {
			continue
		}
		if slices.ContainsFunc(eraMetrics[era], func(m string) bool { return reads[m] }) {
			return true
		}
	}
	return false
}

// scopes derives every alert's scope in an era: the union of the scopes of
// the rules of that name.
func (rs *ruleSet) scopes(era scenario.Era) map[string]Scope {
	d := &scopeDeriver{era: era, recorded: rs.recorded, visiting: map[string]bool{}}
	out := map[string]Scope{}
	for _, a := range rs.alerts {
		for i, e := range rs.exprs[a] {
			if i == 0 {
				out[a] = d.derive(e)
			} else {
				out[a] = union(out[a], d.derive(e))
			}
		}
	}
	return out
}
