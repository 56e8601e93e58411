// Package gotkrules holds what the gotk-rules binary ships: the rule files in
// rules/ and their unit tests and scenarios in testdata/series/.
package gotkrules

import "embed"

// Shipped is the rules/ and testdata/series/ trees, embedded so that
// `gotk-rules test` with no file runs the shipped tests anywhere.
//
//go:embed rules testdata/series
var Shipped embed.FS

// ShippedTests is the glob of the shipped promtool test files within Shipped.
const ShippedTests = "testdata/series/*_test.yml"

// ShippedScenarios is the glob of the shipped scenario files within Shipped.
const ShippedScenarios = "testdata/series/*.scenario.yml"
