package scenario

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"
)

// TestSuspendedAtMatchesStateAt requires suspendedAt to answer as
// StateAt(t).Suspended on random objects, events in time order or not.
func TestSuspendedAtMatchesStateAt(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for run := range 500 {
		o := &Object{Created: model.Duration(time.Duration(rng.IntN(5)) * time.Minute)}
		at := time.Duration(0)
		for range rng.IntN(12) {
			if rng.IntN(8) == 0 {
				at -= time.Minute // now and then out of order
			} else {
				at += time.Duration(rng.IntN(3)) * time.Minute // ties too
			}
			var e Event
			switch rng.IntN(5) {
			case 0:
				e.Suspend = true
			case 1:
				e.Resume = true
			case 2:
				e.Delete = true
			default:
				e.Reconcile = "True"
			}
			e.At = model.Duration(at)
			o.Events = append(o.Events, e)
		}
		suspended := suspendedAt(o)
		for t0 := -time.Minute; t0 <= at+2*time.Minute; t0 += 30 * time.Second {
			require.Equal(t, o.StateAt(t0).Suspended, suspended(t0), "run %d at %s: %+v", run, t0, o)
		}
	}
}
