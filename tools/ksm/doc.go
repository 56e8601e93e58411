// Package ksm tests the scenario generator's kube-state-metrics era
// (gotk_resource_info) against kube-state-metrics' own custom-resource-state
// code, configured as Flux documents it (fluxcd/flux2-monitoring-example).
// It is a module of its own: kube-state-metrics pins Kubernetes client
// libraries that the rest of gotk-rules does not use.
package ksm
