// Package fluxruntime checks gotk-rules' scenario generator for Flux 2.0
// metrics (scenario.EraV20) against the code that exports them:
// github.com/fluxcd/pkg/runtime v0.41.0, the metrics recorder of the Flux 2.0
// controllers. Its test (exporter_test.go) drives the real metrics.Recorder
// through random Flux object lives, as the controllers of that release call
// it, scrapes it as Prometheus would and requires the generator's series,
// scrape by scrape. It is a module of its own because that runtime's
// dependencies clash with the main module's; `make test-exporters` runs it.
package fluxruntime
