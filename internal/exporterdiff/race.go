//go:build race

package exporterdiff

// Race reports whether the binary was built with the race detector.
const Race = true
