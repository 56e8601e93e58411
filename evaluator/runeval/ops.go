package runeval

import (
	"cmp"
	"math"
	"slices"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/schema"
	"github.com/prometheus/prometheus/util/kahansum"
)

// collector gathers result series by label set. Series with the same
// labels are joined when they never have a value at the same step (the
// engine merges them too); where they do, the engine fails ("vector cannot
// contain metrics with the same labelset"), so the collector says
// ErrUnsupported.
type collector struct {
	out    []Series
	byHash map[uint64][]int
}

func (c *collector) add(lset labels.Labels, spans []Span) error {
	if len(spans) == 0 {
		return nil
	}
	if c.byHash == nil {
		c.byHash = map[uint64][]int{}
	}
	h := lset.Hash()
	for _, i := range c.byHash[h] {
		if labels.Equal(c.out[i].Metric, lset) {
			joined, ok := join(c.out[i].Spans, spans)
			if !ok {
				return ErrUnsupported
			}
			c.out[i].Spans = joined
			return nil
		}
	}
	c.byHash[h] = append(c.byHash[h], len(c.out))
	c.out = append(c.out, Series{Metric: lset, Spans: spans})
	return nil
}

// join merges two span lists that must never cover the same step; false
// when they do.
func join(a, b []Span) ([]Span, bool) {
	out := make([]Span, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		var s Span
		if j >= len(b) || i < len(a) && a[i].From < b[j].From {
			s, i = a[i], i+1
		} else {
			s, j = b[j], j+1
		}
		if n := len(out); n > 0 && out[n-1].To > s.From {
			return nil, false
		}
		out = appendSpan(out, s)
	}
	return out, true
}

// groupingLabels are the labels of an aggregation's group, as the engine's
// generateGroupingLabels makes them from a member's labels.
func (ev *evaluator) groupingLabels(lset labels.Labels, without bool, grouping []string) labels.Labels {
	switch {
	case without:
		lb := ev.builder(lset)
		lb.Del(grouping...)
		lb.Del(labels.MetricName)
		return lb.Labels()
	case len(grouping) > 0:
		lb := ev.builder(lset)
		lb.Keep(grouping...)
		return lb.Labels()
	default:
		return labels.EmptyLabels()
	}
}

// aggregate evaluates sum, avg, min, max, count and group: at each step,
// over the members present, in input order, as the engine's aggregation.
func (ev *evaluator) aggregate(n *parser.AggregateExpr) ([]Series, error) {
	in, err := ev.eval(n.Expr)
	if err != nil {
		return nil, err
	}
	grouping := slices.Clone(n.Grouping) // the engine sorts its own copy in place
	slices.Sort(grouping)
	type group struct {
		metric  labels.Labels
		members []int
	}
	index := map[uint64]int{}
	var groups []group
	for i := range in {
		if err := ev.done(i); err != nil {
			return nil, err
		}
		var key uint64 // the engine's generateGroupingKey
		switch {
		case n.Without:
			key, ev.buf = in[i].Metric.HashWithoutLabels(ev.buf, grouping...)
		case len(grouping) > 0:
			key, ev.buf = in[i].Metric.HashForLabels(ev.buf, grouping...)
		}
		gi, ok := index[key]
		if !ok {
			gi = len(groups)
			index[key] = gi
			groups = append(groups, group{metric: ev.groupingLabels(in[i].Metric, n.Without, grouping)})
		}
		groups[gi].members = append(groups[gi].members, i)
	}
	out := make([]Series, 0, len(groups))
	var cuts []int
	var cursors []int
	for gi := range groups {
		if err := ev.done(gi); err != nil {
			return nil, err
		}
		g := &groups[gi]
		var spans []Span
		if len(g.members) == 1 {
			spans = make([]Span, 0, len(in[g.members[0]].Spans))
			for _, s := range in[g.members[0]].Spans {
				var a aggregator
				a.init(n.Op, s.V)
				spans = appendSpan(spans, Span{From: s.From, To: s.To, V: a.result(n.Op)})
			}
		} else {
			// Between two consecutive ends of the members' spans the same
			// members are present with the same values.
			cuts = cuts[:0]
			for _, m := range g.members {
				for _, s := range in[m].Spans {
					cuts = append(cuts, s.From, s.To)
				}
			}
			slices.Sort(cuts)
			cuts = slices.Compact(cuts)
			cursors = append(cursors[:0], make([]int, len(g.members))...)
			for ci := 0; ci+1 < len(cuts); ci++ {
				if ci%256 == 255 {
					// A large group costs steps times members here.
					if err := ev.ctx.Err(); err != nil {
						return nil, err
					}
				}
				lo := cuts[ci]
				var a aggregator
				seen := false
				for k, m := range g.members {
					ms := in[m].Spans
					for cursors[k] < len(ms) && ms[cursors[k]].To <= lo {
						cursors[k]++
					}
					if cursors[k] == len(ms) || ms[cursors[k]].From > lo {
						continue
					}
					if f := ms[cursors[k]].V; seen {
						a.add(n.Op, f)
					} else {
						a.init(n.Op, f)
						seen = true
					}
				}
				if seen {
					spans = appendSpan(spans, Span{From: lo, To: cuts[ci+1], V: a.result(n.Op)})
				}
			}
		}
		if len(spans) > 0 {
			out = append(out, Series{Metric: g.metric, Spans: spans})
		}
	}
	return out, nil
}

// aggregator is the engine's groupedAggregation, for floats.
type aggregator struct {
	value, mean, kahanC, count float64
	incremental                bool
}

func (a *aggregator) init(op parser.ItemType, f float64) {
	*a = aggregator{value: f, mean: f, count: 1}
	if op == parser.GROUP {
		a.value = 1
	}
}

func (a *aggregator) add(op parser.ItemType, f float64) {
	switch op {
	case parser.SUM:
		a.value, a.kahanC = kahansum.Inc(f, a.value, a.kahanC)
	case parser.AVG:
		// Direct mean while the sum does not overflow, then incremental.
		a.count++
		if !a.incremental {
			v, c := kahansum.Inc(f, a.value, a.kahanC)
			if !math.IsInf(v, 0) {
				a.value, a.kahanC = v, c
				return
			}
			a.incremental = true
			a.mean = a.value / (a.count - 1)
			a.kahanC /= a.count - 1
		}
		q := (a.count - 1) / a.count
		a.mean, a.kahanC = kahansum.Inc(f/a.count, q*a.mean, q*a.kahanC)
	case parser.MAX:
		if a.value < f || math.IsNaN(a.value) {
			a.value = f
		}
	case parser.MIN:
		if a.value > f || math.IsNaN(a.value) {
			a.value = f
		}
	case parser.COUNT:
		a.count++
	}
}

func (a *aggregator) result(op parser.ItemType) float64 {
	switch op {
	case parser.AVG:
		if a.incremental {
			return a.mean + a.kahanC
		}
		return a.value/a.count + a.kahanC/a.count
	case parser.COUNT:
		return a.count
	case parser.SUM:
		return a.value + a.kahanC
	}
	return a.value
}

// elemBinop is the engine's vectorElemBinop on two floats: the value and
// whether the sample is kept.
func elemBinop(op parser.ItemType, l, r float64) (float64, bool) {
	switch op {
	case parser.ADD:
		return l + r, true
	case parser.SUB:
		return l - r, true
	case parser.MUL:
		return l * r, true
	case parser.DIV:
		return l / r, true
	case parser.POW:
		return math.Pow(l, r), true
	case parser.MOD:
		return math.Mod(l, r), true
	case parser.ATAN2:
		return math.Atan2(l, r), true
	case parser.EQLC:
		return l, l == r
	case parser.NEQ:
		return l, l != r
	case parser.GTR:
		return l, l > r
	case parser.LSS:
		return l, l < r
	case parser.GTE:
		return l, l >= r
	case parser.LTE:
		return l, l <= r
	}
	return 0, false
}

// scalarBinop is the engine's operation on two scalars; false for an
// operator it does not take.
func scalarBinop(op parser.ItemType, l, r float64) (float64, bool) {
	if !floatOp(op) {
		return 0, false
	}
	v, keep := elemBinop(op, l, r)
	if op.IsComparisonOperator() {
		return btos(keep), true
	}
	return v, true
}

func btos(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// changesMetricSchema is the engine's: these operators drop the metric name,
// type and unit.
func changesMetricSchema(op parser.ItemType) bool {
	switch op {
	case parser.ADD, parser.SUB, parser.DIV, parser.MUL, parser.POW, parser.MOD, parser.ATAN2:
		return true
	}
	return false
}

// scalarBinop evaluates an operation between the vector expression vec and
// the scalar s (on the left when swap), as the engine's VectorscalarBinop.
func (ev *evaluator) scalarBinop(n *parser.BinaryExpr, vec parser.Expr, s float64, swap bool) ([]Series, error) {
	in, err := ev.eval(vec)
	if err != nil {
		return nil, err
	}
	return ev.mapValues(in, changesMetricSchema(n.Op) || n.ReturnBool, func(v float64) (float64, bool) {
		l, r := v, s
		if swap {
			l, r = r, l
		}
		f, keep := elemBinop(n.Op, l, r)
		if n.Op.IsComparisonOperator() && swap {
			f = r // the vector's value, even on the right
		}
		if n.ReturnBool {
			f, keep = btos(keep), true
		}
		return f, keep
	})
}

// mapValues applies f to every value of in, dropping those f does not
// keep, and the metric name, type and unit when drop. Series that become
// one are joined where they never meet (collector).
func (ev *evaluator) mapValues(in []Series, drop bool, f func(float64) (float64, bool)) ([]Series, error) {
	var c collector
	for i := range in {
		if err := ev.done(i); err != nil {
			return nil, err
		}
		spans := make([]Span, 0, len(in[i].Spans))
		for _, sp := range in[i].Spans {
			if v, keep := f(sp.V); keep {
				spans = appendSpan(spans, Span{From: sp.From, To: sp.To, V: v})
			}
		}
		metric := in[i].Metric
		if drop {
			metric = metric.DropReserved(schema.IsMetadataLabel)
		}
		if err := c.add(metric, spans); err != nil {
			return nil, err
		}
	}
	return c.out, nil
}

// signer returns the function of the engine's rangeEval that makes a
// series' join signature under matching.
func signer(m *parser.VectorMatching) func(labels.Labels) string {
	var buf []byte
	names := slices.Clone(m.MatchingLabels)
	if m.On {
		slices.Sort(names)
		return func(lset labels.Labels) string {
			buf = lset.BytesWithLabels(buf, names...)
			return string(buf)
		}
	}
	names = append([]string{labels.MetricName}, names...)
	slices.Sort(names)
	return func(lset labels.Labels) string {
		buf = lset.BytesWithoutLabels(buf, names...)
		return string(buf)
	}
}

// resultMetric is the engine's resultMetric for one-to-one matching.
func (ev *evaluator) resultMetric(lhs labels.Labels, op parser.ItemType, m *parser.VectorMatching, returnBool bool) labels.Labels {
	lb := ev.builder(lhs)
	if returnBool || changesMetricSchema(op) {
		schema.Metadata{}.SetToLabels(lb)
	}
	if m.On {
		lb.Keep(m.MatchingLabels...)
	} else {
		lb.Del(m.MatchingLabels...)
	}
	return lb.Labels()
}

// operands evaluates both sides of a binary operator, left first.
func (ev *evaluator) operands(n *parser.BinaryExpr) ([]Series, []Series, error) {
	lhs, err := ev.eval(n.LHS)
	if err != nil {
		return nil, nil, err
	}
	rhs, err := ev.eval(n.RHS)
	return lhs, rhs, err
}

// vectorBinop evaluates an arithmetic or comparison operator between two
// vectors matched one to one, as the engine's VectorBinop. Two series of
// one side with the same signature at the same step make the engine fail
// (or depend on which it meets first): ErrUnsupported.
func (ev *evaluator) vectorBinop(n *parser.BinaryExpr) ([]Series, error) {
	lhs, rhs, err := ev.operands(n)
	if err != nil {
		return nil, err
	}
	m := n.VectorMatching
	if m.Card != parser.CardOneToOne {
		return ev.groupBinop(n, lhs, rhs)
	}
	sig := signer(m)
	right := make(map[string][]Span, len(rhs))
	for i := range rhs {
		if err := ev.done(i); err != nil {
			return nil, err
		}
		if !joinInto(right, sig(rhs[i].Metric), rhs[i].Spans) {
			return nil, ErrUnsupported
		}
	}
	left := make(map[string][]Span, len(lhs)) // lhs presence by signature
	var c collector
	for i := range lhs {
		if err := ev.done(i); err != nil {
			return nil, err
		}
		k := sig(lhs[i].Metric)
		if !joinInto(left, k, lhs[i].Spans) {
			return nil, ErrUnsupported
		}
		r, ok := right[k]
		if !ok {
			continue
		}
		spans := pairSpans(lhs[i].Spans, r, n.Op, n.ReturnBool, false)
		if len(spans) == 0 {
			continue
		}
		if err := c.add(ev.resultMetric(lhs[i].Metric, n.Op, m, n.ReturnBool), spans); err != nil {
			return nil, err
		}
	}
	return c.out, nil
}

// pairSpans applies op at the steps where both a and b have a value, a's
// value on the left (b's when swap), keeping what the operator keeps (all,
// as 1 or 0, with bool).
func pairSpans(a, b []Span, op parser.ItemType, returnBool, swap bool) []Span {
	spans := make([]Span, 0, max(len(a), len(b)))
	for x, y := 0, 0; x < len(a) && y < len(b); {
		if lo, hi := max(a[x].From, b[y].From), min(a[x].To, b[y].To); lo < hi {
			l, r := a[x].V, b[y].V
			if swap {
				l, r = r, l
			}
			f, keep := elemBinop(op, l, r)
			if returnBool {
				f, keep = btos(keep), true
			}
			if keep {
				spans = appendSpan(spans, Span{From: lo, To: hi, V: f})
			}
		}
		if a[x].To < b[y].To {
			x++
		} else {
			y++
		}
	}
	return spans
}

// joinInto adds spans to m[k], which must not cover the same steps; false
// when they do.
func joinInto(m map[string][]Span, k string, spans []Span) bool {
	cur, ok := m[k]
	if !ok {
		m[k] = spans
		return true
	}
	joined, ok := join(cur, spans)
	m[k] = joined
	return ok
}

// groupBinop evaluates an arithmetic or comparison operator between two
// vectors matched many to one (group_left) or one to many (group_right), as
// the engine's VectorBinop: each series of the "many" side with the series
// of the "one" side of its signature, the labels of group_x taken from the
// latter. Two "one" series of a signature at one step, or two "many" series
// that would give the same labels, make the engine fail (or, filtered out,
// may): ErrUnsupported when they ever meet.
func (ev *evaluator) groupBinop(n *parser.BinaryExpr, lhs, rhs []Series) ([]Series, error) {
	m := n.VectorMatching
	many, one := lhs, rhs
	if m.Card == parser.CardOneToMany {
		many, one = rhs, lhs
	}
	sig := signer(m)
	ones := make(map[string][]int, len(one))
	present := make(map[string][]Span, len(one))
	for i := range one {
		if err := ev.done(i); err != nil {
			return nil, err
		}
		k := sig(one[i].Metric)
		if !joinInto(present, k, one[i].Spans) {
			return nil, ErrUnsupported
		}
		ones[k] = append(ones[k], i)
	}
	drop := n.ReturnBool || changesMetricSchema(n.Op)
	// The "many" series of a signature whose results could share labels:
	// the same labels but for those group_x sets (and the name, dropped).
	bases := map[string][]Span{}
	var c collector
	for i := range many {
		if err := ev.done(i); err != nil {
			return nil, err
		}
		k := sig(many[i].Metric)
		js, ok := ones[k]
		if !ok {
			continue
		}
		lb := ev.builder(many[i].Metric)
		if drop {
			schema.Metadata{}.SetToLabels(lb)
		}
		lb.Del(m.Include...)
		ev.buf = lb.Labels().Bytes(ev.buf)
		if !joinInto(bases, k+"\xff"+string(ev.buf), many[i].Spans) {
			return nil, ErrUnsupported
		}
		for _, j := range js {
			// The operands in the expression's order.
			spans := pairSpans(many[i].Spans, one[j].Spans, n.Op, n.ReturnBool, m.Card == parser.CardOneToMany)
			if len(spans) == 0 {
				continue
			}
			lb := ev.builder(many[i].Metric)
			if drop {
				schema.Metadata{}.SetToLabels(lb)
			}
			for _, ln := range m.Include {
				// Included labels come from the "one" side.
				if v := one[j].Metric.Get(ln); v != "" {
					lb.Set(ln, v)
				} else {
					lb.Del(ln)
				}
			}
			if err := c.add(lb.Labels(), spans); err != nil {
				return nil, err
			}
		}
	}
	return c.out, nil
}

// cover is the steps at which any of spans' series has a value, by
// signature: disjoint, in order.
func cover(ss []Series, sig func(labels.Labels) string) map[string][]Span {
	all := map[string][]Span{}
	for i := range ss {
		k := sig(ss[i].Metric)
		all[k] = append(all[k], ss[i].Spans...)
	}
	for k, spans := range all {
		slices.SortFunc(spans, func(a, b Span) int { return cmp.Compare(a.From, b.From) })
		out := spans[:0]
		for _, s := range spans {
			if n := len(out); n > 0 && out[n-1].To >= s.From {
				out[n-1].To = max(out[n-1].To, s.To)
				continue
			}
			out = append(out, Span{From: s.From, To: s.To})
		}
		all[k] = out
	}
	return all
}

// restrict returns the parts of spans inside the steps of c (or outside
// them, when !inside).
func restrict(spans, c []Span, inside bool) []Span {
	var out []Span
	y := 0
	for _, s := range spans {
		from := s.From
		for y < len(c) && c[y].To <= from {
			y++
		}
		for k := y; from < s.To; k++ {
			if k == len(c) || c[k].From >= s.To {
				if !inside {
					out = appendSpan(out, Span{From: from, To: s.To, V: s.V})
				}
				break
			}
			if c[k].From > from && !inside {
				out = appendSpan(out, Span{From: from, To: c[k].From, V: s.V})
			}
			lo, hi := max(from, c[k].From), min(s.To, c[k].To)
			if inside && lo < hi {
				out = appendSpan(out, Span{From: lo, To: hi, V: s.V})
			}
			from = max(from, hi)
		}
	}
	return out
}

// setOp evaluates and, or and unless, as the engine's VectorAnd, VectorOr
// and VectorUnless at each step.
func (ev *evaluator) setOp(n *parser.BinaryExpr) ([]Series, error) {
	lhs, rhs, err := ev.operands(n)
	if err != nil {
		return nil, err
	}
	sig := signer(n.VectorMatching)
	var c collector
	switch n.Op {
	case parser.LAND, parser.LUNLESS:
		rc := cover(rhs, sig)
		for i := range lhs {
			if err := c.add(lhs[i].Metric, restrict(lhs[i].Spans, rc[sig(lhs[i].Metric)], n.Op == parser.LAND)); err != nil {
				return nil, err
			}
		}
	case parser.LOR:
		lc := cover(lhs, sig)
		for i := range lhs {
			if err := c.add(lhs[i].Metric, lhs[i].Spans); err != nil {
				return nil, err
			}
		}
		for i := range rhs {
			if err := c.add(rhs[i].Metric, restrict(rhs[i].Spans, lc[sig(rhs[i].Metric)], false)); err != nil {
				return nil, err
			}
		}
	default:
		return nil, ErrUnsupported
	}
	return c.out, nil
}

// floatFunc returns what the function call n computes of each float, as
// the engine's simpleFloatFunc and clamp do, and false for any other call,
// or one whose arguments after the first are not number literals. It
// returns nil for a clamp whose maximum is below its minimum, which
// returns nothing.
func floatFunc(n *parser.Call) (func(float64) float64, bool) {
	if len(n.Args) == 0 || n.Args[0].Type() != parser.ValueTypeVector {
		return nil, false
	}
	args := make([]float64, len(n.Args)-1)
	for i, a := range n.Args[1:] {
		v, ok := Constant(a)
		if !ok {
			return nil, false
		}
		args[i] = v
	}
	one := map[string]func(float64) float64{
		"abs": math.Abs, "ceil": math.Ceil, "floor": math.Floor, "sqrt": math.Sqrt, "exp": math.Exp,
		"ln": math.Log, "log2": math.Log2, "log10": math.Log10,
		"sgn": func(v float64) float64 {
			switch {
			case v < 0:
				return -1
			case v > 0:
				return 1
			default:
				return v
			}
		},
	}
	clamp := func(lo, hi float64) (func(float64) float64, bool) {
		if hi < lo {
			return nil, true
		}
		return func(v float64) float64 { return math.Max(lo, math.Min(hi, v)) }, true
	}
	switch name := n.Func.Name; {
	case one[name] != nil && len(args) == 0:
		return one[name], true
	case name == "round" && len(args) <= 1:
		toNearest := 1.0
		if len(args) == 1 {
			toNearest = args[0]
		}
		inverse := 1.0 / toNearest // as the engine: fewer accuracy issues
		return func(f float64) float64 { return math.Floor(f*inverse+0.5) / inverse }, true
	case name == "clamp" && len(args) == 2:
		return clamp(args[0], args[1])
	case name == "clamp_min" && len(args) == 1:
		return clamp(args[0], math.Inf(+1))
	case name == "clamp_max" && len(args) == 1:
		return clamp(math.Inf(-1), args[0])
	}
	return nil, false
}

// call evaluates a function of one float (floatFunc): the metric name,
// type and unit dropped, which may make two series one (the engine then
// fails where they meet).
func (ev *evaluator) call(n *parser.Call) ([]Series, error) {
	f, ok := floatFunc(n)
	if !ok {
		return nil, ErrUnsupported
	}
	in, err := ev.eval(n.Args[0])
	if err != nil || f == nil {
		return nil, err
	}
	return ev.mapValues(in, true, func(v float64) (float64, bool) { return f(v), true })
}
