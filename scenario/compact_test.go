package scenario_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gotk-rules/gotk-rules/scenario"
)

// TestCompactNotationMatches: the compact series of every shipped scenario
// and of a fleet write the same promtool notation as the raw ones, and
// hold the same samples.
func TestCompactNotationMatches(t *testing.T) {
	var scs []*scenario.Scenario
	for _, file := range glob(t, "../testdata/series/*.scenario.yml") {
		sc, err := scenario.LoadFile(file, scenario.Limits{})
		require.NoError(t, err)
		scs = append(scs, sc)
	}
	scs = append(scs, scenario.Fleet(40, 3*time.Hour, 5))
	for _, sc := range scs {
		step, end := time.Duration(sc.ScrapeInterval), time.Duration(sc.Duration)
		raw, compact := sc.Generate(), sc.GenerateCompact()
		require.Len(t, compact, len(raw), sc.File)
		for i := range raw {
			require.Equal(t, raw[i].Labels, compact[i].Labels(), sc.File)
			require.Equal(t, len(raw[i].Samples), compact[i].Len(), sc.File)
		}
		require.Equal(t, scenario.Notation(raw, step, end), scenario.CompactNotation(compact, step, end), sc.File)
	}
}
