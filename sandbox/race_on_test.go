//go:build race

package sandbox

import "time"

// raceSlack is added to the time limits of tests: the race detector slows
// the work between two checks of its context tenfold.
const raceSlack = 4 * time.Second
