// Package racemode tells tests whether they run under the race detector, so
// that a differential test can compare a few random cases there and all of
// them in a plain run.
//
// The race detector makes each case several times dearer and finds a race
// on a few cases as well as on hundreds when every case drives the same
// code in the same goroutines. CI (Makefile, test-unit) therefore runs the
// packages whose differential tests use Cases twice: with -race, where Cases
// gives the few, and without, where it gives the full count, so that the
// differential's power is what the test states.
package racemode

// Cases is how many of a test's n random cases to compare: n, or, in a
// binary built with -race, raceN (at most n).
func Cases(n, raceN int) int {
	if Enabled {
		return min(n, raceN)
	}
	return n
}
