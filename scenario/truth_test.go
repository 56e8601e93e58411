package scenario

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/stretchr/testify/require"
)

// episodesOf is one object's episodes as start..end strings, "+" marking
// an episode still open at the end of the scenario.
func episodesOf(t *testing.T, events string, excludeSuspended bool) []string {
	t.Helper()
	sc := parse(t, `
duration: 1h
objects:
  - kind: Kustomization
    name: apps
    namespace: team-a
    events:
`+events)
	out := []string{}
	for _, ep := range sc.Episodes(excludeSuspended) {
		require.Equal(t, 0, ep.Object)
		s := modelDur(ep.Start) + ".." + modelDur(ep.End)
		if ep.Open {
			s += "+"
		}
		out = append(out, s)
	}
	return out
}

func TestEpisodes(t *testing.T) {
	for _, tc := range []struct {
		name    string
		events  []string
		want    []string // without exclusion
		exclude []string // with suspended time excluded
	}{
		{
			name:    "healthy: no episode",
			events:  []string{`{at: 0s, reconcile: "True"}`, `{at: 10m, reconcile: "True"}`},
			want:    []string{},
			exclude: []string{},
		},
		{
			name:    "False..True",
			events:  []string{`{at: 0s, reconcile: "True"}`, `{at: 5m, reconcile: "False"}`, `{at: 10m, reconcile: "False"}`, `{at: 20m, reconcile: "True"}`},
			want:    []string{"5m..20m"},
			exclude: []string{"5m..20m"},
		},
		{
			name:    "an episode starts and ends when the reconciles end",
			events:  []string{`{at: 5m, reconcile: "False", took: 2m}`, `{at: 20m, reconcile: "True", took: 3m}`},
			want:    []string{"7m..23m"},
			exclude: []string{"7m..23m"},
		},
		{
			name: "Unknown does not end it: neither a slow reconcile nor one that ends Unknown",
			events: []string{`{at: 5m, reconcile: "False"}`, `{at: 10m, reconcile: "False", took: 4m}`,
				`{at: 15m, reconcile: "Unknown"}`, `{at: 20m, reconcile: "False"}`, `{at: 30m, reconcile: "True"}`},
			want:    []string{"5m..30m"},
			exclude: []string{"5m..30m"},
		},
		{
			name:    "Unknown alone is not a failure",
			events:  []string{`{at: 5m, reconcile: "Unknown"}`, `{at: 10m, reconcile: "Unknown", took: 30m}`},
			want:    []string{},
			exclude: []string{},
		},
		{
			name:    "two episodes",
			events:  []string{`{at: 5m, reconcile: "False"}`, `{at: 10m, reconcile: "True"}`, `{at: 20m, reconcile: "False"}`, `{at: 25m, reconcile: "True"}`},
			want:    []string{"5m..10m", "20m..25m"},
			exclude: []string{"5m..10m", "20m..25m"},
		},
		{
			name:    "deletion ends it",
			events:  []string{`{at: 5m, reconcile: "False"}`, `{at: 12m, delete: true}`},
			want:    []string{"5m..12m"},
			exclude: []string{"5m..12m"},
		},
		{
			name:    "never ending: open at the end of the scenario",
			events:  []string{`{at: 0s, reconcile: "True"}`, `{at: 50m, reconcile: "False"}`},
			want:    []string{"50m..1h+"},
			exclude: []string{"50m..1h+"},
		},
		{
			name:    "suspended while failing: counted, or cut out",
			events:  []string{`{at: 5m, reconcile: "False"}`, `{at: 10m, suspend: true}`, `{at: 20m, resume: true}`, `{at: 30m, reconcile: "True"}`},
			want:    []string{"5m..30m"},
			exclude: []string{"5m..10m", "20m..30m"},
		},
		{
			name:    "suspended to the end",
			events:  []string{`{at: 5m, reconcile: "False"}`, `{at: 10m, suspend: true}`},
			want:    []string{"5m..1h+"},
			exclude: []string{"5m..10m"},
		},
		{
			name:    "suspended, then deleted",
			events:  []string{`{at: 5m, reconcile: "False"}`, `{at: 10m, suspend: true}`, `{at: 40m, delete: true}`},
			want:    []string{"5m..40m"},
			exclude: []string{"5m..10m"},
		},
		{
			name:    "fails while suspended: counted from the resumption when excluded",
			events:  []string{`{at: 0s, reconcile: "True"}`, `{at: 5m, suspend: true}`, `{at: 8m, reconcile: "False"}`, `{at: 15m, resume: true}`, `{at: 25m, reconcile: "True"}`},
			want:    []string{"8m..25m"},
			exclude: []string{"15m..25m"},
		},
		{
			name:    "suspended and resumed while healthy: nothing",
			events:  []string{`{at: 0s, reconcile: "True"}`, `{at: 5m, suspend: true}`, `{at: 15m, resume: true}`},
			want:    []string{},
			exclude: []string{},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			events := "      - " + strings.Join(tc.events, "\n      - ") + "\n"
			require.Equal(t, tc.want, episodesOf(t, events, false), "suspension counted")
			require.Equal(t, tc.exclude, episodesOf(t, events, true), "suspension excluded")
		})
	}
}

func TestEpisodesOrder(t *testing.T) {
	sc := parse(t, `
duration: 1h
objects:
  - kind: Kustomization
    name: a
    namespace: n
    events: [{at: 30m, reconcile: "False"}, {at: 40m, reconcile: "True"}]
  - kind: Kustomization
    name: b
    namespace: n
    events: [{at: 5m, reconcile: "False"}, {at: 10m, reconcile: "True"}, {at: 20m, reconcile: "False"}]
`)
	require.Equal(t, []Episode{
		{Object: 0, Start: 30 * time.Minute, End: 40 * time.Minute},
		{Object: 1, Start: 5 * time.Minute, End: 10 * time.Minute},
		{Object: 1, Start: 20 * time.Minute, End: time.Hour, Open: true},
	}, sc.Episodes(false))
}

func TestStateAt(t *testing.T) {
	sc := parse(t, `
duration: 1h
objects:
  - kind: Kustomization
    name: a
    namespace: n
    created: 5m
    events:
      - {at: 10m, reconcile: "False", took: 5m}
      - {at: 20m, suspend: true}
      - {at: 30m, resume: true}
      - {at: 40m, delete: true}
`)
	o := &sc.Objects[0]
	for _, tc := range []struct {
		at   time.Duration
		want ObjectState
	}{
		{0, ObjectState{}},
		{5 * time.Minute, ObjectState{Alive: true}},
		{10 * time.Minute, ObjectState{Alive: true, Ready: "Unknown"}},
		{14 * time.Minute, ObjectState{Alive: true, Ready: "Unknown"}},
		{15 * time.Minute, ObjectState{Alive: true, Ready: "False"}},
		{20 * time.Minute, ObjectState{Alive: true, Ready: "False", Suspended: true}},
		{30 * time.Minute, ObjectState{Alive: true, Ready: "False"}},
		{40 * time.Minute, ObjectState{}},
	} {
		require.Equal(t, tc.want, o.StateAt(tc.at), "at %s", tc.at)
	}
}

func TestMatches(t *testing.T) {
	objects := `
duration: 1h
objects:
  - {kind: Kustomization, name: apps, namespace: team-a}
`
	direct := parse(t, objects)
	podmonitor := parse(t, "scrape: podmonitor\n"+objects)
	ksmPodmonitor := parse(t, "era: ksm\nscrape: podmonitor\n"+objects)
	for _, tc := range []struct {
		name string
		sc   *Scenario
		kv   []string
		want bool
	}{
		{"name, kind, namespace", direct, []string{"name", "apps", "kind", "Kustomization", "namespace", "team-a"}, true},
		{"name only", direct, []string{"name", "apps"}, true},
		{"no name", direct, []string{"kind", "Kustomization", "namespace", "team-a"}, false},
		{"other name", direct, []string{"name", "infra", "namespace", "team-a"}, false},
		{"other kind", direct, []string{"name", "apps", "kind", "HelmRelease"}, false},
		{"customresource_kind", direct, []string{"name", "apps", "customresource_kind", "Kustomization"}, true},
		{"other customresource_kind", direct, []string{"name", "apps", "customresource_kind", "HelmRelease"}, false},
		{"other namespace", direct, []string{"name", "apps", "namespace", "team-b"}, false},
		{"exported_namespace", direct, []string{"name", "apps", "exported_namespace", "team-a", "namespace", "monitoring"}, true},
		{"other exported_namespace wins over namespace", direct, []string{"name", "apps", "exported_namespace", "team-b", "namespace", "team-a"}, false},
		{"object_namespace", direct, []string{"name", "apps", "object_namespace", "team-a"}, true},
		{"other object_namespace", direct, []string{"name", "apps", "object_namespace", "team-b", "namespace", "team-a"}, false},
		{"direct: the controller namespace is another namespace", direct, []string{"name", "apps", "namespace", "flux-system"}, false},
		{"podmonitor: the controller namespace says nothing", podmonitor, []string{"name", "apps", "namespace", "flux-system"}, true},
		{"podmonitor: another namespace", podmonitor, []string{"name", "apps", "namespace", "team-b"}, false},
		{"podmonitor: the object's namespace", podmonitor, []string{"name", "apps", "namespace", "team-a"}, true},
		{"ksm podmonitor: kube-state-metrics' namespace says nothing", ksmPodmonitor, []string{"name", "apps", "namespace", "monitoring"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lset := labels.FromStrings(append([]string{labels.AlertName, "A"}, tc.kv...)...)
			require.Equal(t, tc.want, tc.sc.Matches(lset, &tc.sc.Objects[0]))
		})
	}
}
