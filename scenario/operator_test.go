package scenario

import (
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"
)

// op is a directly scraped flux_resource_info series: the object's uid,
// kind, name and exported_namespace, then kv.
func op(kind, ns, name string, kv ...string) string {
	o := &Object{Kind: kind, Name: name, Namespace: ns}
	return lm(MetricOperatorInfo, append([]string{"uid", objectUID(o), "kind", kind, "name", name, "exported_namespace", ns}, kv...)...)
}

// TestGenerateOperator checks flux_resource_info as the Flux Operator
// exports it (flux-operator internal/reporter/metrics.go,
// reconcilers.go): rewritten whole at each report, one scrape a minute.
func TestGenerateOperator(t *testing.T) {
	const ks, hr = "Kustomization", "HelmRelease"
	ksExtra := func(name string, kv ...string) []string {
		return append([]string{"path", "./" + name, "source_name", name}, kv...)
	}
	rev := "main@sha1:" + sha16(ks, "team-a", "apps")
	for _, tc := range []struct {
		name string
		text string
		want map[string]string
	}{
		{
			name: "default 5m report: changes show at the next report, every ready change is a new series",
			text: `
era: operator
scrape_interval: 1m
duration: 12m
objects:
  - kind: Kustomization
    name: apps
    namespace: team-a
    events:
      - {at: 1m, reconcile: "True"}
      - {at: 7m, reconcile: "False"}
`,
			want: map[string]string{
				// No Ready condition yet: ready defaults to Unknown, no
				// reason and no revision (empty labels do not exist).
				op(ks, "team-a", "apps", append(ksExtra("apps"), "ready", "Unknown", "suspended", "False")...):                                                    "1x4 stale",
				op(ks, "team-a", "apps", append(ksExtra("apps"), "ready", "True", "reason", "ReconciliationSucceeded", "revision", rev, "suspended", "False")...): "_x5 1x4 stale",
				op(ks, "team-a", "apps", append(ksExtra("apps"), "ready", "False", "reason", "ReconciliationFailed", "revision", rev, "suspended", "False")...):   "_x10 1x2",
			},
		},
		{
			name: "created and deleted objects appear and vanish at reports",
			text: `
era: operator
scrape_interval: 1m
duration: 9m
options: {report_interval: 2m}
objects:
  - kind: Kustomization
    name: apps
    namespace: team-a
    created: 3m
    events:
      - {at: 3m, reconcile: "True"}
      - {at: 7m, delete: true}
`,
			want: map[string]string{
				op(ks, "team-a", "apps", append(ksExtra("apps"), "ready", "True", "reason", "ReconciliationSucceeded", "revision", rev, "suspended", "False")...): "_x4 1x3 stale",
			},
		},
		{
			name: "suspension is the suspended label, True/False, at reports",
			text: `
era: operator
scrape_interval: 1m
duration: 7m
options: {report_interval: 2m}
objects:
  - kind: Kustomization
    name: apps
    namespace: team-a
    events:
      - {at: 0s, reconcile: "True"}
      - {at: 1m, suspend: true}
      - {at: 5m, resume: true}
`,
			want: map[string]string{
				op(ks, "team-a", "apps", append(ksExtra("apps"), "ready", "True", "reason", "ReconciliationSucceeded", "revision", rev, "suspended", "False")...): "1x1 stale _x3 1x1",
				op(ks, "team-a", "apps", append(ksExtra("apps"), "ready", "True", "reason", "ReconciliationSucceeded", "revision", rev, "suspended", "True")...):  "_x2 1x3 stale",
			},
		},
		{
			name: "a reason change is a new series; a reconcile in progress is Unknown/Progressing",
			text: `
era: operator
scrape_interval: 1m
duration: 6m
options: {report_interval: 2m}
objects:
  - kind: Kustomization
    name: apps
    namespace: team-a
    events:
      - {at: 0s, reconcile: "False", reason: HealthCheckFailed}
      - {at: 2m, reconcile: "False"}
      - {at: 3m, reconcile: "False", took: 2m}
`,
			want: map[string]string{
				op(ks, "team-a", "apps", append(ksExtra("apps"), "ready", "False", "reason", "HealthCheckFailed", "revision", rev, "suspended", "False")...):    "1x1 stale",
				op(ks, "team-a", "apps", append(ksExtra("apps"), "ready", "False", "reason", "ReconciliationFailed", "revision", rev, "suspended", "False")...): "_x2 1x1 stale _ 1",
				op(ks, "team-a", "apps", append(ksExtra("apps"), "ready", "Unknown", "reason", "Progressing", "revision", rev, "suspended", "False")...):        "_x4 1x1 stale",
			},
		},
		{
			name: "the example of docs/scenarios.md",
			text: `
era: operator
scrape_interval: 1m
duration: 7m
options: {report_interval: 2m}
objects:
  - kind: Kustomization
    name: apps
    namespace: team-a
    events:
      - {at: 0s, reconcile: "True"}
      - {at: 2m, reconcile: "False", reason: HealthCheckFailed}
      - {at: 3m, reconcile: "False"}
      - {at: 5m, reconcile: "False", took: 2m}
`,
			want: map[string]string{
				op(ks, "team-a", "apps", append(ksExtra("apps"), "ready", "True", "reason", "ReconciliationSucceeded", "revision", rev, "suspended", "False")...): "1x1 stale",
				op(ks, "team-a", "apps", append(ksExtra("apps"), "ready", "False", "reason", "HealthCheckFailed", "revision", rev, "suspended", "False")...):      "_x2 1x1 stale",
				op(ks, "team-a", "apps", append(ksExtra("apps"), "ready", "False", "reason", "ReconciliationFailed", "revision", rev, "suspended", "False")...):   "_x4 1x1 stale",
				op(ks, "team-a", "apps", append(ksExtra("apps"), "ready", "Unknown", "reason", "Progressing", "revision", rev, "suspended", "False")...):          "_x6 1x1",
			},
		},
		{
			name: "HelmRelease: install then upgrade reasons, revision from the first attempt",
			text: `
era: operator
scrape_interval: 1m
duration: 9m
options: {report_interval: 1m}
objects:
  - kind: HelmRelease
    name: podinfo
    namespace: team-b
    events:
      - {at: 1m, reconcile: "False"}
      - {at: 3m, reconcile: "True"}
      - {at: 5m, reconcile: "False"}
      - {at: 7m, reconcile: "True"}
      - {at: 8m, reconcile: "True"}
`,
			want: map[string]string{
				op(hr, "team-b", "podinfo", "ready", "Unknown", "source_name", "podinfo", "suspended", "False"):                                                 "1 stale",
				op(hr, "team-b", "podinfo", "ready", "False", "reason", "InstallFailed", "revision", "1.0.0", "source_name", "podinfo", "suspended", "False"):   "_ 1x1 stale",
				op(hr, "team-b", "podinfo", "ready", "True", "reason", "InstallSucceeded", "revision", "1.0.0", "source_name", "podinfo", "suspended", "False"): "_x3 1x1 stale",
				op(hr, "team-b", "podinfo", "ready", "False", "reason", "UpgradeFailed", "revision", "1.0.0", "source_name", "podinfo", "suspended", "False"):   "_x5 1x1 stale",
				op(hr, "team-b", "podinfo", "ready", "True", "reason", "UpgradeSucceeded", "revision", "1.0.0", "source_name", "podinfo", "suspended", "False"): "_x7 1x2",
			},
		},
		{
			name: "Alert and Provider are forced ready True; sources get their revision only once Ready",
			text: `
era: operator
scrape_interval: 1m
duration: 2m
options: {report_interval: 1m}
objects:
  - kind: Alert
    name: slack
    namespace: team-b
    events:
      - {at: 0s, reconcile: "False"}
  - kind: Provider
    name: slack
    namespace: team-b
  - kind: GitRepository
    name: apps
    namespace: team-a
    events:
      - {at: 0s, reconcile: "False"}
      - {at: 1m, reconcile: "True"}
`,
			want: map[string]string{
				op("Alert", "team-b", "slack", "ready", "True", "suspended", "False"):                                                                                                                                                           "1x2",
				op("Provider", "team-b", "slack", "ready", "True", "suspended", "False"):                                                                                                                                                        "1x2",
				op("GitRepository", "team-a", "apps", "ready", "False", "reason", "GitOperationFailed", "ref", "main", "suspended", "False", "url", "https://github.com/example/apps"):                                                          "1 stale",
				op("GitRepository", "team-a", "apps", "ready", "True", "reason", "Succeeded", "ref", "main", "revision", "main@sha1:"+sha16("GitRepository", "team-a", "apps"), "suspended", "False", "url", "https://github.com/example/apps"): "_ 1x1",
			},
		},
		{
			name: "podmonitor: the operator's namespace, pod and job; exported_namespace stays",
			text: `
era: operator
scrape: podmonitor
scrape_interval: 1m
duration: 2m
objects:
  - kind: Kustomization
    name: apps
    namespace: team-a
    events:
      - {at: 0s, reconcile: "True"}
`,
			want: map[string]string{
				op(ks, "team-a", "apps", append(ksExtra("apps"), "ready", "True", "reason", "ReconciliationSucceeded", "revision", rev, "suspended", "False",
					"namespace", "flux-system", "pod", "flux-operator-0", "instance", "10.0.60.1:8080", "job", "flux-system/flux-operator", "container", "manager")...): "1x2",
			},
		},
		{
			name: "controller restarts do not touch the operator; a second target is the old pod's frozen copy",
			text: `
era: operator
scrape_interval: 1m
duration: 6m
options: {report_interval: 1m}
objects:
  - kind: Kustomization
    name: apps
    namespace: team-a
    events:
      - {at: 0s, reconcile: "True"}
      - {at: 3m, reconcile: "False"}
cluster:
  - {at: 1m, controller_restart: true}
  - {at: 2m, second_target: 2m}
`,
			want: map[string]string{
				op(ks, "team-a", "apps", append(ksExtra("apps"), "ready", "True", "reason", "ReconciliationSucceeded", "revision", rev, "suspended", "False")...):                              "1x2 stale",
				op(ks, "team-a", "apps", append(ksExtra("apps"), "ready", "False", "reason", "ReconciliationFailed", "revision", rev, "suspended", "False")...):                                "_x3 1x3",
				op(ks, "team-a", "apps", append(ksExtra("apps"), "instance", "second-target", "ready", "True", "reason", "ReconciliationSucceeded", "revision", rev, "suspended", "False")...): "_x2 1x1 stale",
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, notation(t, parse(t, tc.text)))
		})
	}
}

// sha16 is the fake commit of an object's revision.
func sha16(kind, ns, name string) string {
	o := &Object{Kind: kind, Name: name, Namespace: ns}
	return operatorExtra(o, true)["revision"][len(operatorExtra(o, true)["revision"])-16:]
}

func TestExportLag(t *testing.T) {
	for _, tc := range []struct {
		era    Era
		report time.Duration
		want   time.Duration
	}{
		{EraOperator, 0, 5 * time.Minute},
		{EraOperator, 2 * time.Minute, 2 * time.Minute},
		{EraV20, 0, 0},
		{EraV21, 2 * time.Minute, 0},
		{EraKSM, 0, 0},
	} {
		sc := &Scenario{Era: tc.era, Options: ScenarioOptions{ReportInterval: model.Duration(tc.report)}}
		require.Equal(t, tc.want, sc.ExportLag(), "%s report %s", tc.era, tc.report)
	}
}

func TestObjectUID(t *testing.T) {
	a := objectUID(&Object{Kind: "Kustomization", Name: "apps", Namespace: "team-a"})
	b := objectUID(&Object{Kind: "Kustomization", Name: "apps", Namespace: "team-b"})
	require.Regexp(t, `^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`, a)
	require.NotEqual(t, a, b)
	require.Equal(t, a, objectUID(&Object{Kind: "Kustomization", Name: "apps", Namespace: "team-a"}))
}

func TestValidReason(t *testing.T) {
	for r, want := range map[string]bool{
		"HealthCheckFailed": true, "Reconciliation_Failed": true, "a:b,c": true, "x": true,
		"": false, "1Failed": false, "Failed,": false, "Has space": false, "Dash-ed": false,
	} {
		require.Equal(t, want, validReason(r), r)
	}
}

func TestExportedStateAt(t *testing.T) {
	o := Object{Kind: "Kustomization", Name: "apps", Namespace: "team-a", Events: []Event{
		{At: model.Duration(2 * time.Minute), Reconcile: "False"},
		{At: model.Duration(6 * time.Minute), Reconcile: "True"},
		{At: model.Duration(9 * time.Minute), Reconcile: "True", Took: model.Duration(2 * time.Minute)},
	}}
	for _, tc := range []struct {
		era  Era
		at   time.Duration
		want ObjectState
	}{
		{EraOperator, 4 * time.Minute, ObjectState{Alive: true}},                    // report at 0: no condition yet
		{EraOperator, 7 * time.Minute, ObjectState{Alive: true, Ready: "False"}},    // report at 5m
		{EraOperator, 12 * time.Minute, ObjectState{Alive: true, Ready: "Unknown"}}, // report at 10m, mid-reconcile: the True of 6m..9m is never exported
		{EraOperator, 15 * time.Minute, ObjectState{Alive: true, Ready: "True"}},
		{EraKSM, 7 * time.Minute, ObjectState{Alive: true, Ready: "True"}},
	} {
		sc := &Scenario{Era: tc.era, Objects: []Object{o}}
		require.Equal(t, tc.want, sc.ExportedStateAt(&sc.Objects[0], tc.at), "%s at %s", tc.era, tc.at)
	}
}
