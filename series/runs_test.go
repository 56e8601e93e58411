package series

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/stretchr/testify/require"

	"github.com/gotk-rules/gotk-rules/internal/racemode"
)

// placed expands runs with PlaceRuns into samples.
func placed(t testing.TB, runs []Run, start time.Time, step time.Duration, until time.Time) ([]Sample, bool) {
	var out []Sample
	ok, err := PlaceRuns(runs, start, step, until, func(t0, dt int64, n int, v float64) error {
		for k := range n {
			out = append(out, Sample{T: t0 + int64(k)*dt, F: v})
		}
		return nil
	})
	require.NoError(t, err)
	return out, ok
}

// checkRuns requires ParseRuns to take the lines parseDescFast takes, and
// their runs to place as Expand places ParseDesc's values, float bits and all.
func checkRuns(t testing.TB, line string) {
	t.Helper()
	lset, runs, ok := ParseRuns(line)
	_, _, fast := parseDescFast(line)
	require.Equal(t, fast, ok, "%q", line)
	if !ok {
		return
	}
	dl, dv, err := ParseDesc(line)
	require.NoError(t, err)
	require.True(t, labels.Equal(dl, lset), "%q", line)
	starts := []time.Time{time.Unix(0, 0).UTC(), time.UnixMilli(-90_000), time.UnixMilli(1_700_000_000_123)}
	steps := []time.Duration{time.Minute, 15 * time.Second, time.Millisecond}
	for _, start := range starts {
		for _, step := range steps {
			for _, until := range []time.Time{{}, start, start.Add(3 * step), start.Add(-step), start.Add(1000 * step)} {
				want := Expand(dl, dv, start, step, until).Samples
				got, ok := placed(t, runs, start, step, until)
				require.True(t, ok)
				require.Len(t, got, len(want), "%q", line)
				for i := range want {
					// require only on a difference: its t.Helper walks the
					// stack, most of the test's time when called per sample.
					if want[i].T != got[i].T || math.Float64bits(want[i].F) != math.Float64bits(got[i].F) {
						require.Equal(t, want[i].T, got[i].T, "%q sample %d", line, i)
						require.Equal(t, math.Float64bits(want[i].F), math.Float64bits(got[i].F), "%q sample %d", line, i)
					}
				}
			}
		}
	}
}

func TestParseRuns(t *testing.T) {
	for _, tc := range fastDescCases {
		if tc.line == `m 1x9999999999` {
			_, _, ok := ParseRuns(tc.line)
			require.False(t, ok)
			continue
		}
		checkRuns(t, tc.line)
	}
	r := rand.New(rand.NewPCG(5, 6))
	// Under -race, 200 random lines (parsing runs on one goroutine); the
	// plain run of test-unit (Makefile) checks all 2000.
	for range racemode.Cases(2000, 200) {
		checkRuns(t, randomDesc(r))
	}
}

func TestPlaceRunsRefusesUnevenTimes(t *testing.T) {
	runs := []Run{{N: 3, V: 1}}
	for _, tc := range []struct {
		start time.Time
		step  time.Duration
	}{
		{time.Unix(0, 0), 0},
		{time.Unix(0, 0), -time.Minute},
		{time.Unix(0, 0), 1500 * time.Microsecond},
		{time.Unix(0, 500), time.Minute},
	} {
		_, ok := placed(t, runs, tc.start, tc.step, time.Time{})
		require.False(t, ok, "%v %v", tc.start, tc.step)
	}
}
