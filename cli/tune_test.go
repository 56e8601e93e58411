package cli

import (
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// gogc reads the collector's current GOGC without changing it.
func gogc() int64 {
	s := []metrics.Sample{{Name: "/gc/gogc:percent"}}
	metrics.Read(s)
	return int64(s[0].Value.Uint64())
}

// TestTuneProcessFirstCollection: the binary's first collection waits for
// firstGCPercent's heap goal; the collection sets GOGC to 200 for the rest
// of the run.
func TestTuneProcessFirstCollection(t *testing.T) {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		t.Skip("GOGC or GOMEMLIMIT set: tuneProcess leaves the collector alone")
	}
	prevPercent := debug.SetGCPercent(100)
	prevLimit := debug.SetMemoryLimit(-1)
	t.Cleanup(func() {
		debug.SetGCPercent(prevPercent)
		debug.SetMemoryLimit(prevLimit)
	})
	tuneProcess()
	require.Equal(t, int64(firstGCPercent), gogc())
	require.Eventually(t, func() bool {
		runtime.GC() // the sentinel's finalizer runs after a collection
		return gogc() == 200
	}, 10*time.Second, 10*time.Millisecond)
	require.Equal(t, int64(2<<30), debug.SetMemoryLimit(-1))
}
