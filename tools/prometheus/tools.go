//go:build tools

// Package tools pins the Prometheus 3 server (cmd/prometheus of the pinned
// github.com/prometheus/prometheus module) that `make test-integration`
// backtests through and measures staleness on, beside Debian's Prometheus
// 2.x. `make bin/prometheus3` builds it, without the web UI's assets (the
// builtinassets tag is not set).
package tools

import _ "github.com/prometheus/prometheus/cmd/prometheus"
