package parallel

import (
	"context"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// gauge counts the calls in flight and remembers the most seen at once.
type gauge struct{ cur, peak atomic.Int64 }

func (g *gauge) enter() {
	c := g.cur.Add(1)
	for {
		p := g.peak.Load()
		if c <= p || g.peak.CompareAndSwap(p, c) {
			return
		}
	}
}

func (g *gauge) leave() { g.cur.Add(-1) }

// barrier lets n callers through once all n have arrived, or after a
// timeout (so a pool that runs fewer at once fails instead of hanging).
type barrier struct {
	n       int
	mu      sync.Mutex
	arrived int
	open    chan struct{}
}

func newBarrier(n int) *barrier { return &barrier{n: n, open: make(chan struct{})} }

// wait reports whether all n callers were in at once.
func (b *barrier) wait() bool {
	b.mu.Lock()
	b.arrived++
	if b.arrived == b.n {
		close(b.open)
	}
	b.mu.Unlock()
	select {
	case <-b.open:
		return true
	case <-time.After(5 * time.Second):
		return false
	}
}

func TestFor(t *testing.T) {
	procs := runtime.GOMAXPROCS(0)
	tests := []struct {
		name       string
		n, workers int
		// wantPeak is the concurrency the pool must reach (all of its
		// workers at once); 0 skips the check.
		wantPeak int
		maxPeak  int
	}{
		{name: "empty", n: 0, workers: 4, maxPeak: 0},
		{name: "negative n", n: -3, workers: 4, maxPeak: 0},
		{name: "one item", n: 1, workers: 4, wantPeak: 1, maxPeak: 1},
		{name: "one worker", n: 50, workers: 1, maxPeak: 1},
		{name: "fewer items than workers", n: 3, workers: 8, wantPeak: 3, maxPeak: 3},
		{name: "as many workers as items", n: 16, workers: 16, wantPeak: 16, maxPeak: 16},
		{name: "more items than workers", n: 1000, workers: 4, wantPeak: 4, maxPeak: 4},
		{name: "default workers", n: 200, workers: 0, maxPeak: procs},
		{name: "negative workers", n: 200, workers: -1, maxPeak: procs},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := make([]atomic.Int64, max(tt.n, 0))
			var g gauge
			var b *barrier
			if tt.wantPeak > 0 {
				b = newBarrier(tt.wantPeak)
			}
			var first atomic.Int64
			For(tt.n, tt.workers, func(i int) {
				g.enter()
				defer g.leave()
				calls[i].Add(1)
				// The first wantPeak calls meet at the barrier: they can
				// only all arrive if that many run at once.
				if b != nil && first.Add(1) <= int64(tt.wantPeak) {
					assert.True(t, b.wait(), "fewer than %d calls ran at once", tt.wantPeak)
				}
			})
			for i := range calls {
				require.EqualValues(t, 1, calls[i].Load(), "calls of f(%d)", i)
			}
			require.LessOrEqual(t, g.peak.Load(), int64(tt.maxPeak))
			require.Zero(t, g.cur.Load(), "For returned before every call did")
		})
	}
}

func TestForOneWorkerRunsInOrderOnCaller(t *testing.T) {
	var got []int
	For(5, 1, func(i int) { got = append(got, i) }) // no lock: same goroutine
	require.Equal(t, []int{0, 1, 2, 3, 4}, got)
}

func TestChunks(t *testing.T) {
	procs := runtime.GOMAXPROCS(0)
	tests := []struct {
		name       string
		n, workers int
		wantChunks int
	}{
		{name: "empty", n: 0, workers: 4, wantChunks: 0},
		{name: "negative n", n: -1, workers: 4, wantChunks: 0},
		{name: "one item", n: 1, workers: 4, wantChunks: 1},
		{name: "one worker", n: 10, workers: 1, wantChunks: 1},
		{name: "fewer items than workers", n: 3, workers: 8, wantChunks: 3},
		{name: "even split", n: 12, workers: 4, wantChunks: 4},
		{name: "uneven split", n: 10, workers: 4, wantChunks: 4},
		{name: "ceil split would leave a worker idle", n: 9, workers: 4, wantChunks: 4},
		{name: "big", n: 1001, workers: 7, wantChunks: 7},
		{name: "default workers", n: 1000, workers: 0, wantChunks: min(procs, 1000)},
		{name: "negative workers", n: 1000, workers: -2, wantChunks: min(procs, 1000)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			type span struct{ lo, hi int }
			var mu sync.Mutex
			var spans []span
			b := newBarrier(max(tt.wantChunks, 1))
			Chunks(tt.n, tt.workers, func(lo, hi int) {
				mu.Lock()
				spans = append(spans, span{lo, hi})
				mu.Unlock()
				// Every range has its own goroutine: all meet at the barrier
				// (assert, not require: this may not be the test goroutine).
				assert.True(t, b.wait(), "ranges did not all run at once")
			})
			require.Len(t, spans, tt.wantChunks)
			sort.Slice(spans, func(i, j int) bool { return spans[i].lo < spans[j].lo })
			next := 0
			short, long := tt.n, 0
			for _, s := range spans {
				require.Equal(t, next, s.lo, "ranges must be contiguous")
				require.Less(t, s.lo, s.hi, "ranges must not be empty")
				short, long = min(short, s.hi-s.lo), max(long, s.hi-s.lo)
				next = s.hi
			}
			if len(spans) > 0 {
				require.Equal(t, tt.n, next, "ranges must cover [0,n)")
				require.LessOrEqual(t, long-short, 1, "ranges must be balanced")
			}
		})
	}
}

func TestChunksSingleRangeRunsOnCaller(t *testing.T) {
	var got [][2]int
	Chunks(7, 1, func(lo, hi int) { got = append(got, [2]int{lo, hi}) }) // no lock: same goroutine
	require.Equal(t, [][2]int{{0, 7}}, got)
}

// TestForContextStopsWhenContextEnds: ForContext calls f once for every
// index while its context lasts; once it has ended, no f starts, however
// many indexes are left (a verification cut short must not tick through a
// million runs it skips before it says why). With several workers the
// context ends when every worker is inside a call: the calls are exactly
// those.
func TestForContextStopsWhenContextEnds(t *testing.T) {
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
			ForContext(ctx, tt.n, tt.workers, func(i int) {
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
