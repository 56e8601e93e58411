package scenario

import (
	"fmt"
	"hash/fnv"
	"time"

	"github.com/prometheus/prometheus/model/labels"
)

// MetricOperatorInfo is the Flux Operator's per-object metric
// (controlplaneio-fluxcd/flux-operator internal/reporter/metrics.go).
const MetricOperatorInfo = "flux_resource_info"

// Ready reasons the controllers set, from fluxcd/pkg apis/meta and the
// controllers' API packages (docs/flux-metrics.md, "Ready reasons").
const (
	ReasonProgressing          = "Progressing"             // meta.ProgressingReason
	ReasonSucceeded            = "Succeeded"               // meta.SucceededReason
	ReasonReconciliationOK     = "ReconciliationSucceeded" // meta.ReconciliationSucceededReason
	ReasonReconciliationFailed = "ReconciliationFailed"    // meta.ReconciliationFailedReason
	ReasonDependencyNotReady   = "DependencyNotReady"      // meta.DependencyNotReadyReason
	ReasonHealthCheckFailed    = "HealthCheckFailed"       // meta.HealthCheckFailedReason
	ReasonInstallSucceeded     = "InstallSucceeded"        // helm-controller api/v2
	ReasonUpgradeSucceeded     = "UpgradeSucceeded"        // helm-controller api/v2
	ReasonInstallFailed        = "InstallFailed"           // helm-controller api/v2
	ReasonUpgradeFailed        = "UpgradeFailed"           // helm-controller api/v2
)

// failedReasons is the reason each kind's controller sets on Ready=False
// for its most common failure (the default of a reconcile ending False).
// HelmRelease is decided by its history (defaultReason).
var failedReasons = map[string]string{
	"Kustomization":         ReasonReconciliationFailed,
	"GitRepository":         "GitOperationFailed",    // source-controller api/v1 gitrepository_types.go
	"OCIRepository":         "OCIArtifactPullFailed", // source-controller api/v1 ocirepository_types.go
	"Bucket":                "BucketOperationFailed", // source-controller api/v1 bucket_types.go
	"HelmRepository":        "IndexationFailed",      // source-controller api/v1 helmrepository_types.go
	"HelmChart":             "ChartPullFailed",       // source-controller api/v1 helmchart_types.go
	"ImageRepository":       "ReadOperationFailed",   // image-reflector-controller imagerepository_controller.go (scan failed)
	"ImagePolicy":           ReasonReconciliationFailed,
	"ImageUpdateAutomation": "GitOperationFailed", // image-automation-controller api/v1
	"Receiver":              ReasonReconciliationFailed,
}

// defaultReason is the Ready reason a reconcile of kind ends with when the
// scenario names none. For a HelmRelease, installed says whether an earlier
// reconcile succeeded and upgraded whether the release has been upgraded
// since: helm-controller reports InstallSucceeded/InstallFailed until the
// release is installed, a release recovering from a failure is upgraded,
// and a reconcile with nothing to do keeps the last action's reason
// (helm-controller docs/spec/v2/helmreleases.md, Ready condition).
func defaultReason(kind, ready string, installed, upgraded bool) string {
	switch ready {
	case "Unknown":
		return ReasonProgressing
	case "True":
		switch kind {
		case "Kustomization":
			return ReasonReconciliationOK
		case "HelmRelease":
			if upgraded {
				return ReasonUpgradeSucceeded
			}
			return ReasonInstallSucceeded
		case "Alert", "Provider":
			return "" // static objects, no conditions since notification-controller v1.2
		}
		return ReasonSucceeded
	case "False":
		if kind == "HelmRelease" {
			if installed {
				return ReasonUpgradeFailed
			}
			return ReasonInstallFailed
		}
		if r, ok := failedReasons[kind]; ok {
			return r
		}
		return ReasonReconciliationFailed
	}
	return ""
}

// operatorState is what the Flux Operator reads from an object at a report.
type operatorState struct {
	ObjectState
	Reason string
	// Revision says whether the object has a revision in its status:
	// sources after their first successful reconcile (status.artifact),
	// Kustomization and HelmRelease after their first reconcile
	// (status.lastAttemptedRevision); Receiver has its webhook path then.
	Revision bool
}

// operatorStateAt is the object's state at t as the operator reads it.
func (o *Object) operatorStateAt(t time.Duration) operatorState {
	st := operatorState{ObjectState: o.StateAt(t)}
	if !st.Alive {
		return st
	}
	installed, failedSince, upgraded := false, false, false
	for _, e := range o.Events {
		if d(e.At) > t {
			break
		}
		if e.Reconcile == "" {
			continue
		}
		if t < d(e.At+e.Took) {
			st.Reason = ReasonProgressing
			break
		}
		if e.Reconcile == "True" && installed && failedSince {
			upgraded = true
		}
		st.Reason = e.Reason
		if st.Reason == "" {
			st.Reason = defaultReason(o.Kind, e.Reconcile, installed, upgraded)
		}
		switch e.Reconcile {
		case "True":
			installed, failedSince = true, false
			st.Revision = true
		case "False":
			failedSince = true
			if o.Kind == "Kustomization" || o.Kind == "HelmRelease" {
				st.Revision = true
			}
		}
	}
	if o.Kind == "Alert" || o.Kind == "Provider" {
		st.Reason = ""
	}
	return st
}

// reportAt is the time of the last report at or before t: reports run at
// 0, the report interval, twice it, and so on.
func (s *Scenario) reportAt(t time.Duration) time.Duration {
	iv := s.reportInterval()
	return t / iv * iv
}

// operatorReport returns flux_resource_info as the report at rt wrote it,
// built once per report.
func (sim *simulation) operatorReport(rt time.Duration) []labels.Labels {
	if sim.opReportAt == rt && sim.opReport != nil {
		return sim.opReport
	}
	out := sim.opReport[:0]
	for i := range sim.s.Objects {
		o := &sim.s.Objects[i]
		st := o.operatorStateAt(rt)
		if !st.Alive {
			continue
		}
		out = append(out, sim.operatorTarget(operatorLabels(o, st)))
	}
	if out == nil {
		out = []labels.Labels{}
	}
	sim.opReport, sim.opReportAt = out, rt
	return out
}

// operatorLabels are flux_resource_info's labels for an object in a state
// (flux-operator internal/reporter/metrics.go fluxLabelsToValues): every
// label is set, but Prometheus drops labels with empty values, so an empty
// reason or revision is no label at all.
func operatorLabels(o *Object, st operatorState) map[string]string {
	ready := st.Ready
	if ready == "" {
		ready = "Unknown" // no Ready condition yet
	}
	if o.Kind == "Alert" || o.Kind == "Provider" {
		ready = "True" // forced by the operator
	}
	suspended := "False"
	if st.Suspended {
		suspended = "True"
	}
	m := map[string]string{
		labels.MetricName:    MetricOperatorInfo,
		"uid":                objectUID(o),
		"kind":               o.Kind,
		"name":               o.Name,
		"exported_namespace": o.Namespace,
		"ready":              ready,
		"suspended":          suspended,
	}
	if st.Reason != "" {
		m["reason"] = st.Reason
	}
	for k, v := range operatorExtra(o, st.Revision) {
		if v != "" {
			m[k] = v
		}
	}
	return m
}

// operatorExtra are the per-kind labels (url, ref, source_name, path,
// revision) with the values a typical object of the kind has. They are
// fixed for an object: the scenario does not model new revisions.
func operatorExtra(o *Object, revision bool) map[string]string {
	m := map[string]string{}
	rev := func(v string) {
		if revision {
			m["revision"] = v
		}
	}
	sha := fmt.Sprintf("%016x", hash64(o.ID()))
	switch o.Kind {
	case "Kustomization":
		m["source_name"] = o.Name
		m["path"] = "./" + o.Name
		rev("main@sha1:" + sha)
	case "HelmRelease":
		m["source_name"] = o.Name
		rev("1.0.0")
	case "GitRepository":
		m["url"] = "https://github.com/example/" + o.Name
		m["ref"] = "main"
		rev("main@sha1:" + sha)
	case "OCIRepository":
		m["url"] = "oci://ghcr.io/example/" + o.Name
		m["ref"] = "latest"
		rev("latest@sha256:" + sha)
	case "Bucket":
		m["url"] = "s3.example.com"
		m["ref"] = o.Name
		rev("sha256:" + sha)
	case "HelmRepository":
		m["url"] = "https://charts.example.com/" + o.Name
		rev("sha256:" + sha)
	case "HelmChart":
		m["source_name"] = o.Name
		rev("1.0.0")
	case "Receiver":
		if revision {
			m["url"] = "/hook/" + sha
		}
	case "ImageRepository":
		m["url"] = "ghcr.io/example/" + o.Name
	case "ImagePolicy":
		m["source_name"] = o.Name
	case "ImageUpdateAutomation":
		m["source_name"] = o.Name
	}
	return m
}

// objectUID is a stable, UUID-shaped uid for an object.
func objectUID(o *Object) string {
	h := hash64(o.ID())
	g := hash64(o.ID() + "/uid")
	return fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", uint32(h>>32), uint16(h>>16), uint16(h), uint16(g>>48), g&0xffffffffffff)
}

func hash64(s string) uint64 {
	f := fnv.New64a()
	_, _ = f.Write([]byte(s))
	return f.Sum64()
}

// operatorTarget labels a flux_resource_info series as the scrape stores
// it. The operator runs in the controller namespace; its own
// exported_namespace label is kept as is.
func (sim *simulation) operatorTarget(m map[string]string) labels.Labels {
	if sim.s.Scrape == ScrapePodMonitor {
		m["namespace"] = sim.s.ControllerNamespace
		m["pod"] = "flux-operator-0"
		m["instance"] = "10.0.60.1:8080"
		m["job"] = sim.s.ControllerNamespace + "/flux-operator"
		m["container"] = "manager"
	}
	return labels.FromMap(m)
}

// ExportedStateAt is the object's state as the era's exporter last wrote
// it at t: for era operator the state at the last report (at or before
// t), the object's own state otherwise. A report taken while a
// Kustomization or HelmRelease reconciles shows Ready=Unknown for a whole
// report interval, and a state that starts and ends between two reports is
// never exported: judging era operator against StateAt alone charges the
// rules with what the metric could not show.
func (s *Scenario) ExportedStateAt(o *Object, t time.Duration) ObjectState {
	if s.Era == EraOperator {
		return o.StateAt(s.reportAt(t))
	}
	return o.StateAt(t)
}
