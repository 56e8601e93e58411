//go:build !race

package racemode

// Enabled reports whether the binary was built with the race detector.
const Enabled = false
