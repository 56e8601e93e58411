package evaluator_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/stretchr/testify/require"

	"github.com/gotk-rules/gotk-rules/evaluator"
	"github.com/gotk-rules/gotk-rules/internal/randomrules"
)

// TestCopyExprIsAFreshParse: the range engine's parser hands out copies of
// the trees it parsed once; a copy must be what parsing again gives, and
// what the engine does to a copy (planning wraps nodes in place) must leave
// the kept tree as parsed.
func TestCopyExprIsAFreshParse(t *testing.T) {
	p := evaluator.NewEngine(evaluator.Options{}).Parser()
	exprs := append([]string{
		`max by (object_namespace, kind, name) (label_replace(label_replace(max_over_time(timestamp(gotk_reconcile_condition{type="Ready",status="False"} == 1)[15m:15s]), "object_namespace", "$1", "namespace", "(.*)"), "object_namespace", "$1", "exported_namespace", "(.+)")) > on (object_namespace, kind, name) group_left (x) (0 * max by (object_namespace, kind, name) (y) or z) unless on (a) w`,
		`topk(3, rate(x_total{job=~"a|b"}[5m] offset 1m)) / ignoring (le) group_right sum without (instance) (y)`,
		`-x > bool 2 and quantile_over_time(0.9, x[10m:30s] offset 2m)`,
		`count_values("v", x) or vector(time()) or absent(nope)`,
	}, randomrules.Exprs...)
	for _, qs := range exprs {
		kept, err := p.ParseExpr(qs)
		require.NoError(t, err, qs)
		c, ok := evaluator.CopyExpr(kept)
		if !ok {
			continue // parsed afresh each time: nothing to compare
		}
		fresh, err := p.ParseExpr(qs)
		require.NoError(t, err)
		require.True(t, sameTree(reflect.ValueOf(fresh), reflect.ValueOf(c)), "copy of %s", qs)
		_, err = promql.PreprocessExpr(c, time.Unix(0, 0), time.Unix(3600, 0), time.Minute)
		require.NoError(t, err)
		require.True(t, sameTree(reflect.ValueOf(fresh), reflect.ValueOf(kept)), "planning a copy changed the kept tree of %s", qs)
	}
	// The rule expressions of the shipped rules are all copied.
	_, ok := evaluator.CopyExpr(must(p.ParseExpr(exprs[0])))
	require.True(t, ok)
}

// sameTree compares two parse trees field by field; label matchers, whose
// compiled regular expressions hold functions, compare by their text.
func sameTree(a, b reflect.Value) bool {
	if a.Type() != b.Type() {
		return false
	}
	if a.Type() == reflect.TypeFor[*labels.Matcher]() {
		if a.IsNil() || b.IsNil() {
			return a.IsNil() == b.IsNil()
		}
		return a.Interface().(*labels.Matcher).String() == b.Interface().(*labels.Matcher).String()
	}
	switch a.Kind() {
	case reflect.Pointer, reflect.Interface:
		if a.IsNil() || b.IsNil() {
			return a.IsNil() == b.IsNil()
		}
		if a.Kind() == reflect.Pointer && a.Pointer() == b.Pointer() {
			return true
		}
		return sameTree(a.Elem(), b.Elem())
	case reflect.Struct:
		for i := range a.NumField() {
			if !sameTree(a.Field(i), b.Field(i)) {
				return false
			}
		}
		return true
	case reflect.Slice:
		if a.IsNil() != b.IsNil() || a.Len() != b.Len() {
			return false
		}
		for i := range a.Len() {
			if !sameTree(a.Index(i), b.Index(i)) {
				return false
			}
		}
		return true
	case reflect.Map, reflect.Func, reflect.Chan:
		return a.IsNil() && b.IsNil()
	}
	return a.Equal(b)
}

func must(e parser.Expr, err error) parser.Expr {
	if err != nil {
		panic(err)
	}
	return e
}
