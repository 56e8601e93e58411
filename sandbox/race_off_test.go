//go:build !race

package sandbox

import "time"

// raceSlack is added to the time limits of tests (see race_on_test.go).
const raceSlack time.Duration = 0
