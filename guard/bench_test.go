package guard_test

import (
	"testing"
	"time"

	"github.com/gotk-rules/gotk-rules/guard"
)

const benchExpr = `sum by (namespace, name) (gotk_reconcile_condition{type="Ready", status="False"} == 1) * on (namespace, name) group_left(kind) max_over_time(gotk_resource_info[30m:1m]) > 0`

// BenchmarkParse and BenchmarkGuardedParse compare the upstream parser
// with the guarded one every query goes through.
func BenchmarkParse(b *testing.B) {
	for b.Loop() {
		if _, err := upstream.ParseExpr(benchExpr); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGuardedParse(b *testing.B) {
	p := guard.NewParser(upstream, guard.Default(), guard.Eval{SubqueryStep: time.Minute})
	for b.Loop() {
		if _, err := p.ParseExpr(benchExpr); err != nil {
			b.Fatal(err)
		}
	}
}
