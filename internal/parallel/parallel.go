// Package parallel runs the index loops of the tool's worker pools on
// several goroutines: For hands out single indexes (ForContext until a
// context ends), Chunks contiguous ranges. All return only when every call
// has returned, so the callers write results into slots of a slice indexed
// by i (or lo) and read them in order afterwards, which keeps their output
// independent of scheduling.
package parallel

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
)

// workersFor returns how many goroutines to use for n items: workers, or
// GOMAXPROCS when workers <= 0, and never more than n.
func workersFor(n, workers int) int {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	return max(1, min(workers, n))
}

// For runs f(i) for every i in [0,n) on at most workers goroutines
// (workers <= 0: GOMAXPROCS) and returns when all calls have returned.
// Indexes are handed out in increasing order as goroutines become free. With
// a single worker the calls run in order on the calling goroutine.
func For(n, workers int, f func(i int)) {
	if n <= 0 {
		return
	}
	w := workersFor(n, workers)
	if w == 1 {
		for i := range n {
			f(i)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range w {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				f(i)
			}
		})
	}
	wg.Wait()
}

// ForContext is For until ctx ends: from then on no call starts, and it
// returns once the calls under way have (the caller says why, from ctx).
// What is left is skipped at once, not handed out index by index to calls
// that return at once: a loop of a million indexes cut short must not
// tick through them all (seconds under the race detector).
func ForContext(ctx context.Context, n, workers int, f func(i int)) {
	if n <= 0 {
		return
	}
	w := workersFor(n, workers)
	var next atomic.Int64
	For(w, w, func(int) {
		for ctx.Err() == nil {
			i := int(next.Add(1) - 1)
			if i >= n {
				return
			}
			f(i)
		}
	})
}

// Chunks splits [0,n) into at most workers contiguous ranges and runs
// f(lo, hi) for each on its own goroutine, returning when all have returned.
// workers <= 0 means GOMAXPROCS. The ranges are non-empty, in increasing
// order, and differ in length by at most one. A single range (n <= 1 or one
// worker) runs on the calling goroutine.
func Chunks(n, workers int, f func(lo, hi int)) {
	if n <= 0 {
		return
	}
	k := workersFor(n, workers)
	if k == 1 {
		f(0, n)
		return
	}
	var wg sync.WaitGroup
	for c := range k {
		lo, hi := c*n/k, (c+1)*n/k
		wg.Go(func() { f(lo, hi) })
	}
	wg.Wait()
}
