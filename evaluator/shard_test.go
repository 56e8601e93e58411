package evaluator

import (
	"testing"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/stretchr/testify/require"
)

func TestShardKeyOf(t *testing.T) {
	p := parser.NewParser(parser.Options{EnableExperimentalFunctions: true})
	f := func(expr, want string) {
		t.Helper()
		e, err := p.ParseExpr(expr)
		require.NoError(t, err, expr)
		k, ok := shardKeyOf(e)
		if want == "" {
			require.False(t, ok, "%s: got key %q", expr, k)
			return
		}
		require.True(t, ok, expr)
		require.Equal(t, want, k.String(), expr)
	}
	// Per-series expressions split by whole series.
	f(`up == 0`, "all but __name__,__type__,__unit__")
	f(`rate(x[5m]) > 0.1`, "all but __name__,__type__,__unit__")
	f(`max_over_time(up[10m:1m]) < 1`, "all but __name__,__type__,__unit__")
	f(`-clamp_max(x, 4) >= time() - 3`, "all but __name__,__type__,__unit__")
	// The guide's rule splits by its grouping labels.
	f(`max(gotk_reconcile_condition{status="False",type="Ready"}) by (namespace, name, kind) + on(namespace, name, kind) (max(gotk_reconcile_condition{status="Deleted"}) by (namespace, name, kind)) * 2 == 1`, "kind,name,namespace")
	f(`sum by (job, instance) (x) > on (job) group_left sum by (job) (y)`, "job")
	f(`sum without (instance) (x) / ignoring (code) y`, "all but __name__,__type__,__unit__,code,instance")
	f(`x and on (a, b) y or on (b) z`, "b")
	f(`label_replace(x, "dst", "$1", "src", "(.*)") > 0`, "all but __name__,__type__,__unit__,dst")
	f(`histogram_quantile(0.9, sum by (le, job) (rate(b[5m])))`, "job")
	f(`quantile by (job) (0.9, x)`, "job")
	f(`sort_by_label(x, "a") > 1`, "all but __name__,__type__,__unit__")
	// Nothing to split by.
	f(`sum(x) > 0`, "")
	f(`x * on () group_left y`, "")
	f(`max by (team) (label_replace(x, "team", "$1", "ns", "(.*)"))`, "")
	f(`histogram_quantile(0.9, sum by (le) (rate(b[5m])))`, "")
	// Series made from nothing, or an order that matters.
	f(`absent(up)`, "")
	f(`up or vector(1)`, "")
	f(`hour() > 3`, "")
	f(`topk by (job) (1, x)`, "")
	f(`limitk by (job) (1, x)`, "")
	f(`count_values by (job) ("v", x)`, "")
	// A scalar operand that reads series differs between shards.
	f(`x > scalar(y)`, "")
	f(`quantile by (job) (scalar(q), x)`, "")
	// Scalars would come once per shard.
	f(`time()`, "")
	f(`1`, "")
}

func TestShardKeyHash(t *testing.T) {
	a := labels.FromStrings("__name__", "x", "job", "a", "pod", "1")
	b := labels.FromStrings("__name__", "y", "job", "a", "pod", "2")
	byJob := keyOf(false, []string{"job"})
	require.Equal(t, byJob.hash(a), byJob.hash(b))
	allButName := keyOf(true, []string{labels.MetricName})
	require.NotEqual(t, allButName.hash(a), allButName.hash(b))
	require.Equal(t, allButName.hash(a), allButName.hash(labels.FromStrings("__name__", "z", "job", "a", "pod", "1")))
}
