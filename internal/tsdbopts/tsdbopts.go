// Package tsdbopts holds the options of the TSDB a session evaluates on,
// which the tests that compare other stores with it use too.
package tsdbopts

import (
	"time"

	"github.com/prometheus/prometheus/tsdb"
	"github.com/prometheus/prometheus/tsdb/chunks"
)

// Session returns the options of a session's storage. As promtool's test
// storage: one long head block, no out-of-order window, so appends behave
// as in a live Prometheus. The head's chunk range is longer than any
// replay, so that a rule result is never refused as too old. The
// write-ahead log and exemplar storage are off: nothing is ever recovered
// or queried there. The caller disables compactions once it is open.
func Session() *tsdb.Options {
	to := tsdb.DefaultOptions()
	to.MinBlockDuration = 1000 * 365 * 24 * int64(time.Hour/time.Millisecond)
	to.MaxBlockDuration = to.MinBlockDuration
	to.RetentionDuration = 0
	to.OutOfOrderTimeWindow = 0
	to.WALSegmentSize = -1
	// A session holds few series and runs on one goroutine: small
	// structures make opening and closing one cheap.
	to.StripeSize = 256
	to.NoLockfile = true
	to.HeadChunksWriteBufferSize = chunks.MinWriteBufferSize
	to.HeadChunksWriteQueueSize = 0
	return to
}
