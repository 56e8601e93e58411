package racemode_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gotk-rules/gotk-rules/internal/racemode"
)

func TestCases(t *testing.T) {
	for _, tc := range []struct {
		n, raceN, race, plain int
	}{
		{300, 40, 40, 300},
		{10, 40, 10, 10},
		{0, 5, 0, 0},
	} {
		want := tc.plain
		if racemode.Enabled {
			want = tc.race
		}
		require.Equal(t, want, racemode.Cases(tc.n, tc.raceN), "Cases(%d, %d)", tc.n, tc.raceN)
	}
}
