// Package scenario describes the lives of Flux objects (reconciles, long
// reconciles, suspension, deletion) and of the cluster around them
// (controller restarts, scrape gaps, a second scrape target), and turns them
// into the series a monitoring setup would have stored, era by era, as
// docs/flux-metrics.md documents them.
package scenario

import (
	"fmt"
	"sort"
	"time"

	"github.com/prometheus/common/model"
)

// Era is a generation of Flux metrics.
type Era string

// The eras gotk-rules models.
const (
	// EraV20 is Flux <= 2.0: four gotk_reconcile_condition status series
	// (True, False, Unknown, Deleted), kept after deletion until the
	// controller restarts, plus gotk_suspend_status and durations.
	EraV20 Era = "v2.0"
	// EraV21 is Flux 2.1 to 2.4: three status series, all of an object's
	// series deleted with it.
	EraV21 Era = "v2.1"
	// EraKSM is kube-state-metrics' gotk_resource_info (Flux >= 2.1, the
	// only one from 2.5 on).
	EraKSM Era = "ksm"
	// EraOperator is the Flux Operator's flux_resource_info: one series per
	// object, refreshed only when the operator recomputes its FluxReport
	// (every 5 minutes by default), so changes show up late.
	EraOperator Era = "operator"
)

// Eras lists every era, oldest first.
var Eras = []Era{EraV20, EraV21, EraKSM, EraOperator}

// Scrape is how Prometheus scrapes the metrics.
type Scrape string

// The scrape setups gotk-rules models.
const (
	// ScrapeDirect keeps labels as the exporter writes them.
	ScrapeDirect Scrape = "direct"
	// ScrapePodMonitor is a prometheus-operator PodMonitor with
	// honor_labels false: namespace becomes the exporter pod's namespace,
	// the object's namespace moves to exported_namespace, and pod,
	// instance and job are added.
	ScrapePodMonitor Scrape = "podmonitor"
)

// Scrapes lists every scrape setup.
var Scrapes = []Scrape{ScrapeDirect, ScrapePodMonitor}

// Scenario is a scenario file.
type Scenario struct {
	Name               string         `yaml:"scenario" json:"scenario"`
	Era                Era            `yaml:"era" json:"era"`
	Scrape             Scrape         `yaml:"scrape" json:"scrape"`
	ScrapeInterval     model.Duration `yaml:"scrape_interval,omitempty" json:"scrape_interval,omitempty"`
	EvaluationInterval model.Duration `yaml:"evaluation_interval,omitempty" json:"evaluation_interval,omitempty"`
	Duration           model.Duration `yaml:"duration" json:"duration"`
	// ControllerNamespace is where the Flux controllers (and, for the ksm
	// era, kube-state-metrics) run (default flux-system).
	ControllerNamespace string `yaml:"controller_namespace,omitempty" json:"controller_namespace,omitempty"`
	// RuleFiles are the rules the scenario's expectations are about,
	// relative to the scenario file (default: the shipped rules).
	RuleFiles []string        `yaml:"rule_files,omitempty" json:"rule_files,omitempty"`
	Objects   []Object        `yaml:"objects" json:"objects"`
	Cluster   []ClusterEvent  `yaml:"cluster,omitempty" json:"cluster,omitempty"`
	Expect    []Expectation   `yaml:"expect,omitempty" json:"expect,omitempty"`
	Options   ScenarioOptions `yaml:"options,omitempty" json:"options,omitempty"`

	// File is where the scenario was read from; pos holds positions.
	File string    `yaml:"-" json:"-"`
	pos  positions `yaml:"-" json:"-"`
}

// ScenarioOptions tune the monitoring setup.
type ScenarioOptions struct {
	// DurationHistograms also generates gotk_reconcile_duration_seconds.
	DurationHistograms bool `yaml:"duration_histograms,omitempty" json:"duration_histograms,omitempty"`
	// RestartDelay is how long after a controller restart objects are
	// reconciled (and their series written) again (default 30s).
	RestartDelay model.Duration `yaml:"restart_delay,omitempty" json:"restart_delay,omitempty"`
	// ReportInterval is how often the Flux Operator recomputes its report
	// and so flux_resource_info (era operator; default 5m, the operator's
	// --reporting-interval).
	ReportInterval model.Duration `yaml:"report_interval,omitempty" json:"report_interval,omitempty"`
}

// Object is one Flux object and what happens to it.
type Object struct {
	Kind      string `yaml:"kind" json:"kind"`
	Name      string `yaml:"name" json:"name"`
	Namespace string `yaml:"namespace" json:"namespace"`
	// Created is when the object appears (default 0).
	Created model.Duration `yaml:"created,omitempty" json:"created,omitempty"`
	// NoFinalizer models kinds whose deletion the controller never saw
	// (notification-controller before v0.26): Flux 2.0 never marks them
	// Deleted.
	NoFinalizer bool    `yaml:"no_finalizer,omitempty" json:"no_finalizer,omitempty"`
	Events      []Event `yaml:"events" json:"events"`
}

// ID names an object as Kind/namespace/name.
func (o Object) ID() string { return o.Kind + "/" + o.Namespace + "/" + o.Name }

// Event is one thing that happens to an object at a time. Exactly one of
// Reconcile, Suspend, Resume and Delete is set.
type Event struct {
	At model.Duration `yaml:"at" json:"at"`
	// Reconcile is the Ready status a reconcile ends with: True, False or
	// Unknown. With Took, the reconcile starts at At and ends at At+Took;
	// meanwhile the object's Ready condition is Unknown.
	Reconcile string         `yaml:"reconcile,omitempty" json:"reconcile,omitempty"`
	Took      model.Duration `yaml:"took,omitempty" json:"took,omitempty"`
	// Reason is the Ready condition's reason the reconcile ends with
	// (default: what the kind's controller sets for that status). Only
	// era operator exports it.
	Reason  string `yaml:"reason,omitempty" json:"reason,omitempty"`
	Suspend bool   `yaml:"suspend,omitempty" json:"suspend,omitempty"`
	Resume  bool   `yaml:"resume,omitempty" json:"resume,omitempty"`
	Delete  bool   `yaml:"delete,omitempty" json:"delete,omitempty"`
}

// ClusterEvent is something that happens to the monitoring around the objects.
type ClusterEvent struct {
	At model.Duration `yaml:"at" json:"at"`
	// ControllerRestart restarts every Flux controller: their series vanish
	// and come back when each living object is reconciled again.
	ControllerRestart bool `yaml:"controller_restart,omitempty" json:"controller_restart,omitempty"`
	// ScrapeGap is how long Prometheus scrapes nothing (no samples, no
	// staleness markers).
	ScrapeGap model.Duration `yaml:"scrape_gap,omitempty" json:"scrape_gap,omitempty"`
	// SecondTarget is how long a second scrape target (an old controller
	// pod during a rollout) keeps exporting the series as they were at At.
	SecondTarget model.Duration `yaml:"second_target,omitempty" json:"second_target,omitempty"`
}

// Defaults of a scenario.
const (
	DefaultScrapeInterval      = 30 * time.Second
	DefaultEvaluationInterval  = time.Minute
	DefaultControllerNamespace = "flux-system"
	DefaultRestartDelay        = 30 * time.Second
	// DefaultReportInterval is the Flux Operator's default
	// --reporting-interval (controlplaneio-fluxcd/flux-operator
	// cmd/operator/main.go).
	DefaultReportInterval = 5 * time.Minute
)

// ExportLag is how late this era's metrics may show a change of an object:
// the report interval for era operator (flux_resource_info is rewritten
// only when the report is recomputed), 0 for the others.
func (s *Scenario) ExportLag() time.Duration {
	if s.Era == EraOperator {
		return s.reportInterval()
	}
	return 0
}

// reportInterval is options.report_interval or its default.
func (s *Scenario) reportInterval() time.Duration {
	if s.Options.ReportInterval > 0 {
		return d(s.Options.ReportInterval)
	}
	return DefaultReportInterval
}

// Normalize fills in the defaults, as loading a file does.
func (s *Scenario) Normalize() { s.withDefaults() }

// withDefaults fills in the defaults.
func (s *Scenario) withDefaults() {
	if s.ScrapeInterval == 0 {
		s.ScrapeInterval = model.Duration(DefaultScrapeInterval)
	}
	if s.EvaluationInterval == 0 {
		s.EvaluationInterval = model.Duration(DefaultEvaluationInterval)
	}
	if s.ControllerNamespace == "" {
		s.ControllerNamespace = DefaultControllerNamespace
	}
	if s.Options.RestartDelay == 0 {
		s.Options.RestartDelay = model.Duration(DefaultRestartDelay)
	}
	if s.Era == "" {
		s.Era = EraV20
	}
	if s.Scrape == "" {
		s.Scrape = ScrapeDirect
	}
}

// kinds maps each Flux kind to its controller and API group/version (the
// versions kube-state-metrics' Flux configuration uses).
var kinds = map[string]struct {
	controller, group, version string
	suspend                    bool // records gotk_suspend_status
	ready                      bool // has a Ready condition in ksm
}{
	"GitRepository":         {"source-controller", "source.toolkit.fluxcd.io", "v1", true, true},
	"HelmRepository":        {"source-controller", "source.toolkit.fluxcd.io", "v1", true, true},
	"HelmChart":             {"source-controller", "source.toolkit.fluxcd.io", "v1", true, true},
	"Bucket":                {"source-controller", "source.toolkit.fluxcd.io", "v1", true, true},
	"OCIRepository":         {"source-controller", "source.toolkit.fluxcd.io", "v1", true, true},
	"Kustomization":         {"kustomize-controller", "kustomize.toolkit.fluxcd.io", "v1", true, true},
	"HelmRelease":           {"helm-controller", "helm.toolkit.fluxcd.io", "v2", true, true},
	"Alert":                 {"notification-controller", "notification.toolkit.fluxcd.io", "v1beta3", true, false},
	"Provider":              {"notification-controller", "notification.toolkit.fluxcd.io", "v1beta3", true, false},
	"Receiver":              {"notification-controller", "notification.toolkit.fluxcd.io", "v1", true, true},
	"ImageRepository":       {"image-reflector-controller", "image.toolkit.fluxcd.io", "v1", true, true},
	"ImagePolicy":           {"image-reflector-controller", "image.toolkit.fluxcd.io", "v1", false, true},
	"ImageUpdateAutomation": {"image-automation-controller", "image.toolkit.fluxcd.io", "v1", true, true},
}

// Kinds lists the Flux kinds a scenario may use, sorted.
func Kinds() []string {
	out := make([]string, 0, len(kinds))
	for k := range kinds {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// d converts a model.Duration.
func d(v model.Duration) time.Duration { return time.Duration(v) }

// String describes an event, for timelines.
func (e Event) String() string {
	switch {
	case e.Reconcile != "" && e.Took > 0:
		return fmt.Sprintf("reconcile %s%s (took %s)", e.Reconcile, e.reasonSuffix(), e.Took)
	case e.Reconcile != "":
		return "reconcile " + e.Reconcile + e.reasonSuffix()
	case e.Suspend:
		return "suspend"
	case e.Resume:
		return "resume"
	case e.Delete:
		return "delete"
	}
	return "nothing"
}

// reasonSuffix is " reason R" when the event names a reason.
func (e Event) reasonSuffix() string {
	if e.Reason == "" {
		return ""
	}
	return " reason " + e.Reason
}

// modelDur prints a duration as Prometheus does (1h30m, 90s).
func modelDur(t time.Duration) string { return model.Duration(t).String() }
