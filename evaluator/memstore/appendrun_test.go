package memstore

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/stretchr/testify/require"
)

// TestAppendRunIsAppends builds random series twice, sample by sample and
// run by run: the series must be the same, runs and all.
func TestAppendRunIsAppends(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	values := []float64{0, 1, 2, math.NaN(), math.Float64frombits(0x7ff0000000000002)}
	for range 3000 {
		lset := labels.FromStrings("__name__", "m")
		one, bulk := NewBuilder(lset), NewBuilder(lset)
		t0 := int64(r.IntN(1000)) - 500
		for range r.IntN(12) {
			dt := []int64{1, 60, 60, 60, 15}[r.IntN(5)]
			n := []int{0, 1, 2, 3, 4, 5, 6, 7, 50}[r.IntN(9)]
			v := values[r.IntN(len(values))]
			require.NoError(t, bulk.AppendRun(t0, dt, n, v))
			for k := range n {
				require.NoError(t, one.Append(t0+int64(k)*dt, v))
			}
			t0 += int64(n)*dt + []int64{0, 0, 0, 60, 1}[r.IntN(5)]
			if n == 0 {
				t0++
			}
		}
		a, b := one.Series(), bulk.Series()
		require.Equal(t, len(a.runs), len(b.runs))
		for i := range a.runs {
			ra, rb := a.runs[i], b.runs[i]
			require.Equal(t, math.Float64bits(ra.v), math.Float64bits(rb.v))
			ra.v, rb.v = 0, 0
			require.Equal(t, ra, rb)
		}
		require.Equal(t, len(a.vals), len(b.vals))
		for i := range a.vals {
			require.Equal(t, math.Float64bits(a.vals[i]), math.Float64bits(b.vals[i]))
		}
	}
}

func TestAppendRunRefuses(t *testing.T) {
	b := NewBuilder(labels.FromStrings("__name__", "m"))
	require.NoError(t, b.AppendRun(0, 60, 3, 1))
	require.Error(t, b.AppendRun(120, 60, 2, 1), "not after the last sample")
	require.Error(t, b.AppendRun(500, 0, 2, 1), "no step")
}
