package verify

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestForEachStopsWhenContextEnds: forEach calls f once for every index
// while its context lasts; once it has ended, no f starts, however many
// indexes are left (Run cut short must not tick through a million runs
// it skips before it says why). With several workers the context ends
// when every worker is inside a call: the calls are exactly those.
func TestForEachStopsWhenContextEnds(t *testing.T) {
	tests := []struct {
		name    string
		n       int
		workers int
		// cancelAt ends the context inside the call of this index (-1:
		// never, -2: before the start).
		cancelAt int
		want     int // calls
	}{
		{name: "runs all", n: 1000, workers: 4, cancelAt: -1, want: 1000},
		{name: "more workers than indexes", n: 3, workers: 8, cancelAt: -1, want: 3},
		{name: "default workers", n: 100, workers: 0, cancelAt: -1, want: 100},
		{name: "one worker cut short", n: 100_000, workers: 1, cancelAt: 2, want: 3},
		{name: "four workers cut short", n: 100_000, workers: 4, cancelAt: 0, want: 4},
		{name: "ended before the start", n: 100_000, workers: 4, cancelAt: -2, want: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tt.cancelAt == -2 {
				cancel()
			}
			var calls atomic.Int64
			seen := make([]atomic.Int32, tt.n)
			// With several workers, the context ends when every worker
			// is in its first call, which it leaves once it has ended.
			wave := tt.workers > 1 && tt.cancelAt >= 0
			var started sync.WaitGroup
			if wave {
				started.Add(tt.workers)
			}
			forEach(ctx, tt.n, tt.workers, func(i int) {
				calls.Add(1)
				seen[i].Add(1)
				if wave && i < tt.workers {
					started.Done()
					if i == tt.cancelAt {
						started.Wait()
						cancel()
					}
					<-ctx.Done()
					return
				}
				if i == tt.cancelAt {
					cancel()
				}
			})
			require.EqualValues(t, tt.want, calls.Load())
			twice := 0
			for i := range seen {
				if seen[i].Load() > 1 {
					twice++
				}
			}
			require.Zero(t, twice, "indexes called more than once")
		})
	}
}
