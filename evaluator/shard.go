package evaluator

import (
	"slices"
	"strings"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/gotk-rules/gotk-rules/promqlx"
)

// Sharding range queries.
//
// Prometheus' range evaluation costs more per series the more series a
// query holds: each step looks every output series up in a map by its
// labels' hash and walks every input series, so big queries spend their
// time waiting for memory. Cut into shards of about a thousand input series
// each, the same work runs 3x faster at 10,000 Flux objects.
//
// A query may be cut so only where no series it outputs depends on input
// series of two shards. That holds when the input is split by the values of
// a set of labels K that every step of the expression keeps together:
//   - max by (G) (x) groups series by G: K must be within G;
//   - sum without (W) (x) groups by all labels but W: K must avoid W;
//   - a on (L) b matches series by L: K must be within L; ignoring (I)
//     (the default, with I empty) matches by all labels but I;
//   - label_replace and label_join overwrite their destination: K must
//     avoid it; histogram_quantile groups buckets by all labels but le;
//   - functions of one series at a time keep K as it is;
//   - K never holds __name__, __type__ or __unit__, which functions and
//     operators drop.
// Every series then carries the K values of the input it came from, so
// shards output disjoint series, and their union is the whole result, in
// the same order once sorted by labels as a range query sorts it.
// Anything that makes a series from nothing (vector(), absent(), scalar()
// of a selector, a scalar operand that reads series), depends on the order
// of series (limitk, topk on ties), or is not listed is never sharded.

// shardKey is a set of label names K: the listed names, or, when all is
// set, every label name but the listed ones.
type shardKey struct {
	all   bool
	names []string // sorted, distinct
}

// intersect narrows k to the labels also in o.
func (k shardKey) intersect(o shardKey) shardKey {
	switch {
	case k.all && o.all:
		return shardKey{all: true, names: union(k.names, o.names)}
	case k.all:
		return shardKey{names: minus(o.names, k.names)}
	case o.all:
		return shardKey{names: minus(k.names, o.names)}
	}
	var in []string
	for _, n := range k.names {
		if slices.Contains(o.names, n) {
			in = append(in, n)
		}
	}
	return shardKey{names: in}
}

func union(a, b []string) []string {
	out := slices.Concat(a, b)
	slices.Sort(out)
	return slices.Compact(out)
}

func minus(a, b []string) []string {
	var out []string
	for _, n := range a {
		if !slices.Contains(b, n) {
			out = append(out, n)
		}
	}
	return out
}

func keyOf(all bool, names []string) shardKey {
	ns := slices.Clone(names)
	slices.Sort(ns)
	return shardKey{all: all, names: slices.Compact(ns)}
}

// empty reports whether k holds no label: the query cannot be cut.
func (k shardKey) empty() bool { return !k.all && len(k.names) == 0 }

// String identifies the key, for caching the split it makes.
func (k shardKey) String() string {
	if k.all {
		return "all but " + strings.Join(k.names, ",")
	}
	return strings.Join(k.names, ",")
}

// hash hashes lset's values of the key's labels.
func (k shardKey) hash(lset labels.Labels) uint64 {
	var h uint64
	if k.all {
		h, _ = lset.HashWithoutLabels(nil, k.names...)
	} else {
		h, _ = lset.HashForLabels(nil, k.names...)
	}
	return h
}

// shardKeyOf returns the labels by whose values expr's input may be split,
// and false when it may not be split.
func shardKeyOf(expr parser.Expr) (shardKey, bool) {
	if expr.Type() != parser.ValueTypeVector {
		return shardKey{}, false // a scalar would come once per shard
	}
	// Operators and functions drop the metric name, type and unit.
	k := keyOf(true, []string{labels.MetricName, "__type__", "__unit__"})
	if !narrowShardKey(expr, &k) || k.empty() {
		return shardKey{}, false
	}
	return k, true
}

// narrowShardKey narrows k to what expr keeps together, and returns false
// when expr cannot be split at all.
func narrowShardKey(expr parser.Expr, k *shardKey) bool {
	if expr.Type() == parser.ValueTypeScalar || expr.Type() == parser.ValueTypeString {
		// The same in every shard only if it reads no series.
		return !promqlx.HasSelector(expr)
	}
	switch n := expr.(type) {
	case *parser.VectorSelector:
		return true
	case *parser.MatrixSelector:
		return narrowShardKey(n.VectorSelector, k)
	case *parser.SubqueryExpr:
		return narrowShardKey(n.Expr, k)
	case *parser.ParenExpr:
		return narrowShardKey(n.Expr, k)
	case *parser.UnaryExpr:
		return narrowShardKey(n.Expr, k)
	case *parser.AggregateExpr:
		switch n.Op {
		case parser.SUM, parser.MIN, parser.MAX, parser.AVG, parser.COUNT, parser.GROUP, parser.STDDEV, parser.STDVAR, parser.QUANTILE:
		default:
			return false // topk, bottomk, limitk, limit_ratio: order matters; count_values adds a label
		}
		if n.Param != nil && !narrowShardKey(n.Param, k) {
			return false
		}
		*k = k.intersect(keyOf(n.Without, n.Grouping))
		return narrowShardKey(n.Expr, k)
	case *parser.BinaryExpr:
		if n.VectorMatching != nil && n.LHS.Type() == parser.ValueTypeVector && n.RHS.Type() == parser.ValueTypeVector {
			vm := n.VectorMatching
			if vm.FillValues.LHS != nil || vm.FillValues.RHS != nil {
				return false
			}
			*k = k.intersect(keyOf(!vm.On, vm.MatchingLabels))
		}
		return narrowShardKey(n.LHS, k) && narrowShardKey(n.RHS, k)
	case *parser.Call:
		return narrowCall(n, k)
	}
	return false
}

// perSeriesFunctions map each series to at most one series with the same
// labels (__name__ aside): any split suits them.
var perSeriesFunctions = map[string]bool{}

func init() {
	for _, f := range strings.Fields(`abs acos acosh asin asinh atan atanh ceil changes clamp clamp_max clamp_min
		cos cosh deg delta deriv exp floor histogram_avg histogram_count histogram_stddev histogram_stdvar
		histogram_sum idelta increase irate ln log10 log2 predict_linear rad rate resets round sgn sin sinh
		sort sort_desc sort_by_label sort_by_label_desc sqrt tan tanh timestamp double_exponential_smoothing
		holt_winters avg_over_time count_over_time last_over_time max_over_time min_over_time
		present_over_time quantile_over_time stddev_over_time stdvar_over_time sum_over_time mad_over_time
		first_over_time ts_of_max_over_time ts_of_min_over_time ts_of_last_over_time ts_of_first_over_time
		day_of_month day_of_week day_of_year days_in_month hour minute month year`) {
		perSeriesFunctions[f] = true
	}
}

func narrowCall(n *parser.Call, k *shardKey) bool {
	name := n.Func.Name
	switch {
	case perSeriesFunctions[name]:
		if len(n.Args) == 0 {
			return false // hour() and the like make a series of time()
		}
	case name == "label_replace" || name == "label_join":
		dst, ok := stringArg(n.Args, 1)
		if !ok {
			return false
		}
		*k = k.intersect(keyOf(true, []string{dst}))
	case name == "histogram_quantile" || name == "histogram_fraction":
		*k = k.intersect(keyOf(true, []string{labels.BucketLabel}))
	default:
		return false
	}
	for _, a := range n.Args {
		if !narrowShardKey(a, k) {
			return false
		}
	}
	return true
}

// stringArg is the i-th argument when it is a string literal.
func stringArg(args parser.Expressions, i int) (string, bool) {
	if i >= len(args) {
		return "", false
	}
	e := args[i]
	for {
		p, ok := e.(*parser.ParenExpr)
		if !ok {
			break
		}
		e = p.Expr
	}
	s, ok := e.(*parser.StringLiteral)
	if !ok {
		return "", false
	}
	return s.Val, true
}
