//go:build tools

// Package tools pins promtool, the reference implementation gotk-rules is
// benchmarked and cross-checked against. `make promtool` builds it.
package tools

import _ "github.com/prometheus/prometheus/cmd/promtool"
