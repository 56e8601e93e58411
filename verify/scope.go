package verify

import (
	"fmt"
	"slices"
	"strings"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/gotk-rules/gotk-rules/scenario"
)

// identityLabels are the label names that say which Flux object a series is
// about, in one era or another: its kind (kind, or kube-state-metrics'
// customresource_kind), its name, and its namespace (namespace when the
// controllers are scraped directly; exported_namespace under a PodMonitor,
// and always for kube-state-metrics and the Flux Operator).
var identityLabels = []string{"kind", "customresource_kind", "name", "namespace", "exported_namespace"}

// Scope is the set of Flux objects an alert can watch, derived from the
// static label matchers of its selectors on the labels that identify an
// object. It is a union of terms, each a conjunction of matchers; an object
// is in scope when every matcher of some term matches the labels its series
// carry in the era and scrape setup at hand.
//
// A scope is an over-approximation: where the expression does not allow a
// sound derivation (absent(), a metric that is not Flux's, a label rewritten
// before it is compared), it widens to all objects and says why.
type Scope struct {
	terms [][]*labels.Matcher
	// notDerived says why the scope could not be derived, when it could not
	// (the scope is then all objects).
	notDerived string
}

// NoObject is how an empty scope is said.
const NoObject = "no object"

// allObjects is the scope without constraint.
func allObjects() Scope { return Scope{terms: [][]*labels.Matcher{nil}} }

// unknownScope is all objects, because of why.
func unknownScope(why string) Scope { return Scope{terms: [][]*labels.Matcher{nil}, notDerived: why} }

// Derived reports whether the scope was derived from the expression (false:
// it is all objects because the expression does not say).
func (s Scope) Derived() bool { return s.notDerived == "" }

// Empty reports whether no object can be in scope in the scenario's era and
// scrape setup: every term reads a metric the era does not expose, matches
// no Flux kind, or needs a label the era's series do not carry (kind on
// kube-state-metrics' series, customresource_kind on the controllers').
func (s Scope) Empty(sc *scenario.Scenario) bool {
	probe := scenario.Object{}
	id := objectIdentity(sc, &probe)
	fixed := map[string]bool{}
	if sc.Scrape == scenario.ScrapePodMonitor {
		fixed["namespace"] = true // the exporter's own, whatever the object
	}
	for _, term := range s.terms {
		if satisfiable(term, id, fixed) {
			return false
		}
	}
	return true
}

// satisfiable reports whether some object could match every matcher of a
// term: a matcher on a label the era's series lack must match "", one on a
// label the scrape fixes must match its value, one on a kind must match a
// Flux kind; names and namespaces are anyone's.
func satisfiable(term []*labels.Matcher, id map[string]string, fixed map[string]bool) bool {
	for _, m := range term {
		if v, carried := id[m.Name]; !carried || fixed[m.Name] {
			if !m.Matches(v) {
				return false
			}
			continue
		}
		if (m.Name == "kind" || m.Name == "customresource_kind") && !slices.ContainsFunc(scenario.Kinds(), m.Matches) {
			return false
		}
	}
	return true
}

// Includes reports whether the object is in scope, in the scenario's era and
// scrape setup.
func (s Scope) Includes(sc *scenario.Scenario, o *scenario.Object) bool {
	id := objectIdentity(sc, o)
	for _, term := range s.terms {
		if termMatches(term, id) {
			return true
		}
	}
	return false
}

func termMatches(term []*labels.Matcher, id map[string]string) bool {
	for _, m := range term {
		if !m.Matches(id[m.Name]) {
			return false
		}
	}
	return true
}

// String says the scope as PromQL-like matchers: `all objects`, `no object`,
// or terms such as {customresource_kind="HelmRelease"} joined by " or ".
func (s Scope) String() string {
	if len(s.terms) == 0 {
		return NoObject
	}
	var parts []string
	for _, term := range s.terms {
		if len(term) == 0 {
			if s.notDerived != "" {
				return "all objects (not derived: " + s.notDerived + ")"
			}
			return "all objects"
		}
		ms := make([]string, len(term))
		for i, m := range term {
			ms[i] = m.String()
		}
		parts = append(parts, "{"+strings.Join(ms, ", ")+"}")
	}
	return strings.Join(parts, " or ")
}

// objectIdentity is what the identity labels of an object's series hold in
// the scenario's era and scrape setup; a label the series do not carry is
// empty, as Prometheus matches it.
func objectIdentity(sc *scenario.Scenario, o *scenario.Object) map[string]string {
	id := map[string]string{"name": o.Name}
	switch sc.Era {
	case scenario.EraKSM:
		id["customresource_kind"] = o.Kind
		id["exported_namespace"] = o.Namespace
		if sc.Scrape == scenario.ScrapePodMonitor {
			id["namespace"] = "monitoring" // kube-state-metrics' own
		}
	case scenario.EraOperator:
		id["kind"] = o.Kind
		id["exported_namespace"] = o.Namespace
		if sc.Scrape == scenario.ScrapePodMonitor {
			id["namespace"] = sc.ControllerNamespace
		}
	default:
		id["kind"] = o.Kind
		if sc.Scrape == scenario.ScrapePodMonitor {
			id["namespace"] = sc.ControllerNamespace
			id["exported_namespace"] = o.Namespace
		} else {
			id["namespace"] = o.Namespace
		}
	}
	return id
}

// union is the scope of `a or b`: an object either side watches.
func union(a, b Scope) Scope {
	if !a.Derived() {
		return a
	}
	if !b.Derived() {
		return b
	}
	return Scope{terms: simplify(append(slices.Clone(a.terms), b.terms...))}
}

// intersect is the scope of an operation whose result needs both sides:
// an object both watch. A side whose scope is not derived does not narrow
// the other (it was widened to all objects).
func intersect(a, b Scope) Scope {
	switch {
	case !a.Derived() && !b.Derived():
		return a
	case !a.Derived():
		return b
	case !b.Derived():
		return a
	}
	terms := [][]*labels.Matcher{}
	for _, x := range a.terms {
		for _, y := range b.terms {
			terms = append(terms, append(slices.Clip(x), y...))
		}
	}
	return Scope{terms: simplify(terms)}
}

// simplify writes each term's matchers once, sorted, and drops the terms
// another term makes redundant (one with the same matchers and more).
func simplify(terms [][]*labels.Matcher) [][]*labels.Matcher {
	keys := make([][]string, len(terms))
	for i, term := range terms {
		term = slices.Clone(term) // terms may share memory with other scopes
		slices.SortStableFunc(term, func(x, y *labels.Matcher) int { return strings.Compare(x.String(), y.String()) })
		term = slices.CompactFunc(term, func(x, y *labels.Matcher) bool { return x.String() == y.String() })
		terms[i] = term
		for _, m := range term {
			keys[i] = append(keys[i], m.String())
		}
	}
	subset := func(a, b []string) bool { // every matcher of a is in b
		for _, k := range a {
			if _, ok := slices.BinarySearch(b, k); !ok {
				return false
			}
		}
		return true
	}
	out := [][]*labels.Matcher{}
	for i, term := range terms {
		redundant := false
		for j := range terms {
			if j == i || !subset(keys[j], keys[i]) {
				continue
			}
			// Of two equal terms the first stays.
			if len(keys[j]) < len(keys[i]) || j < i {
				redundant = true
				break
			}
		}
		if !redundant {
			out = append(out, term)
		}
	}
	return out
}

// restrict keeps, of each term, only the matchers on labels a vector
// matching compares: the other side of `on (name)` says nothing about the
// kind of the series the result is made of.
func restrict(s Scope, vm *parser.VectorMatching) Scope {
	if vm == nil || !s.Derived() {
		return s
	}
	compared := func(name string) bool {
		return slices.Contains(vm.MatchingLabels, name) == vm.On
	}
	out := Scope{terms: make([][]*labels.Matcher, len(s.terms))}
	for i, term := range s.terms {
		for _, m := range term {
			if compared(m.Name) {
				out.terms[i] = append(out.terms[i], m)
			}
		}
	}
	return out
}

// scopeDeriver derives scopes of expressions in one era: it knows the era's
// Flux metrics and the rule set's recording rules.
type scopeDeriver struct {
	era scenario.Era
	// recorded maps a recorded metric name to the expressions recording it.
	recorded map[string][]parser.Expr
	visiting map[string]bool
}

// derive returns the scope of an expression.
func (d *scopeDeriver) derive(e parser.Expr) Scope {
	switch n := e.(type) {
	case *parser.VectorSelector:
		return d.selector(n)
	case *parser.MatrixSelector:
		return d.derive(n.VectorSelector)
	case *parser.SubqueryExpr:
		return d.derive(n.Expr)
	case *parser.ParenExpr:
		return d.derive(n.Expr)
	case *parser.UnaryExpr:
		return d.derive(n.Expr)
	case *parser.StepInvariantExpr:
		return d.derive(n.Expr)
	case *parser.NumberLiteral, *parser.StringLiteral:
		return allObjects()
	case *parser.AggregateExpr:
		return d.derive(n.Expr)
	case *parser.Call:
		return d.call(n)
	case *parser.BinaryExpr:
		return d.binary(n)
	}
	return unknownScope(fmt.Sprintf("%T", e))
}

func (d *scopeDeriver) call(c *parser.Call) Scope {
	switch c.Func.Name {
	case "absent", "absent_over_time":
		return unknownScope(c.Func.Name + "() fires for no object")
	case "vector", "time", "timestamp", "pi", "day_of_month", "day_of_week", "day_of_year", "days_in_month", "hour", "minute", "month", "year":
		if len(c.Args) == 0 || c.Func.Name == "vector" {
			return unknownScope(c.Func.Name + "() is about no object")
		}
	}
	s := allObjects()
	first := true
	for i, a := range c.Args {
		if t := c.Func.ArgTypes; i < len(t) && t[i] != parser.ValueTypeVector && t[i] != parser.ValueTypeMatrix {
			continue
		}
		if first {
			s, first = d.derive(a), false
			continue
		}
		s = union(s, d.derive(a))
	}
	return s
}

func (d *scopeDeriver) binary(b *parser.BinaryExpr) Scope {
	lhsVec := b.LHS.Type() == parser.ValueTypeVector
	rhsVec := b.RHS.Type() == parser.ValueTypeVector
	switch {
	case !lhsVec && !rhsVec:
		return allObjects()
	case !rhsVec:
		return d.derive(b.LHS)
	case !lhsVec:
		return d.derive(b.RHS)
	}
	l, r := d.derive(b.LHS), d.derive(b.RHS)
	vm := b.VectorMatching
	switch b.Op {
	case parser.LOR:
		return union(l, r)
	case parser.LUNLESS:
		return l
	}
	if vm != nil && (vm.FillValues.LHS != nil || vm.FillValues.RHS != nil) {
		// A fill value stands in for a missing side: the result needs
		// only the other one.
		return union(l, r)
	}
	if vm != nil && vm.Card == parser.CardOneToMany {
		// group_right: the result's series are the right side's.
		return intersect(r, restrict(l, vm))
	}
	return intersect(l, restrict(r, vm))
}

// selector is the scope of one selector: its matchers on identity labels
// when it reads a Flux metric of the era, nothing when it reads one of
// another era, the recording rule's scope when it reads a recorded series.
func (d *scopeDeriver) selector(vs *parser.VectorSelector) Scope {
	name := vs.Name
	if name == "" {
		for _, m := range vs.LabelMatchers {
			if m.Name == labels.MetricName && m.Type == labels.MatchEqual {
				name = m.Value
			}
		}
	}
	var term []*labels.Matcher
	for _, m := range vs.LabelMatchers {
		if slices.Contains(identityLabels, m.Name) {
			term = append(term, m)
		}
	}
	own := Scope{terms: [][]*labels.Matcher{term}}
	switch {
	case name == "":
		return unknownScope("a selector without a metric name")
	case slices.Contains(eraMetrics[d.era], name):
		return own
	case isFluxMetric(name):
		return Scope{terms: [][]*labels.Matcher{}}
	}
	exprs, ok := d.recorded[name]
	if !ok {
		return unknownScope(name + " is not a Flux metric")
	}
	if d.visiting[name] {
		return unknownScope(name + " is recorded from itself")
	}
	d.visiting[name] = true
	defer delete(d.visiting, name)
	var s Scope
	for i, e := range exprs {
		if i == 0 {
			s = d.derive(e)
		} else {
			s = union(s, d.derive(e))
		}
	}
	if !s.Derived() {
		// The recorded series are not known to be about Flux objects.
		return s
	}
	return intersect(s, own)
}

// isFluxMetric reports whether a metric name is one some era exposes.
func isFluxMetric(name string) bool {
	for _, ms := range eraMetrics {
		if slices.Contains(ms, name) {
			return true
		}
	}
	return false
}
