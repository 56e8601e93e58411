//go:build race

package lint_test

// raceEnabled: the race detector makes linting ten times slower, so the big
// generated files are smaller under it.
const raceEnabled = true
