package scenario

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"

	"github.com/gotk-rules/gotk-rules/budget"
)

// parse reads a scenario from text, failing the test on error.
func parse(t *testing.T, text string) *Scenario {
	t.Helper()
	sc, err := Parse("test.yml", []byte(text), Limits{})
	require.NoError(t, err)
	return sc
}

func TestLoadDefaults(t *testing.T) {
	sc := parse(t, `
duration: 10m
objects:
  - {kind: Kustomization, name: apps, namespace: team-a}
`)
	require.Equal(t, EraV20, sc.Era)
	require.Equal(t, ScrapeDirect, sc.Scrape)
	require.Equal(t, model.Duration(30*time.Second), sc.ScrapeInterval)
	require.Equal(t, model.Duration(time.Minute), sc.EvaluationInterval)
	require.Equal(t, "flux-system", sc.ControllerNamespace)
	require.Equal(t, model.Duration(30*time.Second), sc.Options.RestartDelay)
	require.False(t, sc.Options.DurationHistograms)
	require.Equal(t, "test.yml", sc.File)
	require.Equal(t, time.Duration(0), d(sc.Objects[0].Created))
}

func TestIsScenario(t *testing.T) {
	for _, tc := range []struct {
		text string
		want bool
	}{
		{"duration: 1h\nobjects: []\n", true},
		{"objects:\n", true},
		{"rule_files: [a.yml]\ntests: []\n", false},
		{"- not a map\n", false},
		{"objects: [\n", false},
	} {
		require.Equal(t, tc.want, IsScenario([]byte(tc.text)), tc.text)
	}
}

// TestBadInput: every problem is an error positioned at file:line:col of the
// part at fault; budgets name the flag that raises them.
func TestBadInput(t *testing.T) {
	for _, tc := range []struct {
		file string
		lim  Limits
		want []string // each line of the error after the file name, in order
	}{
		{file: "unknown-era.yml", want: []string{
			`:2:6: unknown era "v2.5" (want v2.0, v2.1, ksm or operator)`}},
		{file: "unknown-scrape.yml", want: []string{
			`:3:9: unknown scrape "servicemonitor" (want direct or podmonitor)`}},
		{file: "unknown-kind.yml", want: []string{
			`:7:11: unknown kind "Deployment" (want one of Alert, Bucket, GitRepository, HelmChart, HelmRelease, HelmRepository, ImagePolicy, ImageRepository, ImageUpdateAutomation, Kustomization, OCIRepository, Provider, Receiver)`}},
		{file: "out-of-order.yml", want: []string{
			`:9:14: event at 5m overlaps or precedes the one before (busy until 10m): events must be in time order`}},
		{file: "overlapping-reconcile.yml", want: []string{
			`:10:14: event at 7m overlaps or precedes the one before (busy until 8m): events must be in time order`}},
		{file: "event-after-delete.yml", want: []string{
			`:10:9: event after the object was deleted`}},
		{file: "event-past-end.yml", want: []string{
			`:8:14: event ends at 33m, after the scenario (30m)`}},
		{file: "bad-reason.yml", want: []string{
			`:9:46: reason "health check failed" is not a condition reason (a letter, then letters, digits, _, : or ,)`,
			`:10:41: reason goes with reconcile`}},
		{file: "cluster-out-of-order.yml", want: []string{
			`:11:10: cluster events must be in time order`}},
		{file: "bad-expectations.yml", want: []string{
			`:11:24: no object "team-a/nothing" (write Kind/namespace/name)`,
			`:12:24: "team-a/apps" names several objects: write Kind/namespace/name`,
			`:13:5: expectation needs exactly one of at, from/to, never, fires_within, resolves_within`,
			`:13:5: state is inactive, pending or firing, not ""`,
			`:14:66: state is inactive, pending or firing, not "resolved"`,
			`:15:57: from and to go together, from before to`,
			`:16:58: never is pending or firing, not "inactive"`}},
		{file: "budget.yml", want: []string{
			`:1:1: the scenario asks for about 145152024 samples, over the limit of 50000000`}},
		{file: "budget.yml", lim: Limits{MaxSeries: 5, MaxSamples: 1 << 40}, want: []string{
			`:1:1: the scenario asks for 24 series, over the limit of 5`}},
		{file: "budget.yml", lim: Limits{MaxSeries: 5}, want: []string{
			`:1:1: the scenario asks for 24 series, over the limit of 5`,
			`:1:1: the scenario asks for about 145152024 samples, over the limit of 50000000`}},
		// Refused by the YAML decoder: placed at the value.
		{file: "../schema/invalid/fractional-duration.yml", want: []string{
			`:1:11: unknown unit "." in duration "1.5h"`}},
		{file: "../schema/invalid/units-out-of-order.yml", want: []string{
			`:7:14: not a valid duration string: "30s1m"`}},
		{file: "yaml-syntax.yml", want: []string{
			`:3:1: field scrape_timeout not found in type scenario.Scenario`}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			path := filepath.Join("testdata", "bad", tc.file)
			_, err := LoadFile(path, tc.lim)
			require.Error(t, err)
			lines := strings.Split(err.Error(), "\n")
			require.Len(t, lines, len(tc.want), err.Error())
			for i, w := range tc.want {
				require.Equal(t, path+w, lines[i])
			}
		})
	}
}

// TestBadInputPositions: the bad-input cases the issue names each carry
// file:line:col and, for budgets, the limit.
func TestBadInputPositions(t *testing.T) {
	for _, tc := range []struct{ name, text, want string }{
		{"unknown kind", `
duration: 10m
objects:
  - {kind: Kustomisation, name: a, namespace: b}
`, `x.yml:4:12: unknown kind "Kustomisation"`},
		{"unknown era", "era: 2.0\nduration: 10m\nobjects: []\n", `x.yml:1:6: unknown era "2.0"`},
		{"unknown scrape", "scrape: servicemonitor\nduration: 10m\nobjects: []\n", `x.yml:1:9: unknown scrape`},
		{"events out of order", `
duration: 10m
objects:
  - kind: Kustomization
    name: a
    namespace: b
    events:
      - {at: 5m, reconcile: "True"}
      - {at: 4m, reconcile: "True"}
`, "x.yml:9:14: event at 4m overlaps or precedes the one before (busy until 5m)"},
		{"event before creation", `
duration: 10m
objects:
  - kind: Kustomization
    name: a
    namespace: b
    created: 5m
    events:
      - {at: 4m, reconcile: "True"}
`, "x.yml:9:14: event at 4m overlaps or precedes the one before (busy until 5m)"},
		{"took overlaps the next event", `
duration: 10m
objects:
  - kind: Kustomization
    name: a
    namespace: b
    events:
      - {at: 1m, reconcile: "True", took: 2m}
      - {at: 2m, reconcile: "True"}
`, "x.yml:9:14: event at 2m overlaps or precedes the one before (busy until 3m)"},
		{"event after delete", `
duration: 10m
objects:
  - kind: Kustomization
    name: a
    namespace: b
    events:
      - {at: 1m, delete: true}
      - {at: 2m, resume: true}
`, "x.yml:9:9: event after the object was deleted"},
		{"created after the end", `
duration: 10m
objects:
  - {kind: Kustomization, name: a, namespace: b, created: 11m}
`, "x.yml:4:59: created 11m is outside the scenario (0 to 10m)"},
		{"duplicate object", `
duration: 10m
objects:
  - {kind: Kustomization, name: a, namespace: b}
  - {kind: Kustomization, name: a, namespace: b}
`, "x.yml:5:5: object Kustomization/b/a is already described (objects[0])"},
		{"cluster event after the end", `
duration: 10m
objects: []
cluster:
  - {at: 11m, controller_restart: true}
`, "x.yml:5:10: cluster event at 11m is outside the scenario (0 to 10m)"},
		{"series budget", `
duration: 10m
objects:
  - {kind: Kustomization, name: a, namespace: b}
`, "x.yml:2:1: the scenario asks for 6 series, over the limit of 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("x.yml", []byte(tc.text), Limits{MaxSeries: 1})
			require.Error(t, err)
			require.Contains(t, err.Error(), tc.want)
			require.Regexp(t, `^x\.yml:\d+:\d+: `, err.Error())
		})
	}
}

func TestFindObject(t *testing.T) {
	sc := parse(t, `
duration: 10m
objects:
  - {kind: Kustomization, name: apps, namespace: team-a}
  - {kind: HelmRelease, name: apps, namespace: team-a}
  - {kind: HelmRelease, name: web, namespace: team-a}
`)
	o, err := sc.FindObject("HelmRelease/team-a/apps")
	require.NoError(t, err)
	require.Equal(t, "HelmRelease", o.Kind)
	o, err = sc.FindObject("team-a/web")
	require.NoError(t, err)
	require.Equal(t, "HelmRelease/team-a/web", o.ID())
	_, err = sc.FindObject("team-a/apps")
	require.EqualError(t, err, `"team-a/apps" names several objects: write Kind/namespace/name`)
	_, err = sc.FindObject("team-b/apps")
	require.EqualError(t, err, `no object "team-b/apps" (write Kind/namespace/name)`)
}

func TestExpectationWhen(t *testing.T) {
	at, from, to := model.Duration(5*time.Minute), model.Duration(time.Minute), model.Duration(2*time.Minute)
	for _, tc := range []struct {
		e    Expectation
		want string
	}{
		{Expectation{At: &at}, "5m"},
		{Expectation{From: &from, To: &to}, "1m..2m"},
		{Expectation{Never: "firing"}, "never firing"},
		{Expectation{FiresWithin: at}, "fires within 5m"},
		{Expectation{ResolvesWithin: at}, "resolves within 5m"},
		{Expectation{}, ""},
	} {
		require.Equal(t, tc.want, tc.e.When())
	}
}

// A scenario over a budget is refused with the budget's error, which says
// which budget, its limit and what was asked, and names no flag: the caller
// says how to raise it.
func TestBudgetExceeded(t *testing.T) {
	t.Parallel()
	path := filepath.Join("testdata", "bad", "budget.yml")
	cases := []struct {
		name string
		lim  Limits
		want []budget.ExceededError // in the error's order
	}{
		{name: "samples", want: []budget.ExceededError{
			{Budget: budget.InputSamples, Limit: budget.DefaultInputSamples, Asked: 145152024, Subject: "the scenario asks for about 145152024 samples"}}},
		{name: "series", lim: Limits{MaxSeries: 5, MaxSamples: 1 << 40}, want: []budget.ExceededError{
			{Budget: budget.InputSeries, Limit: 5, Asked: 24, Subject: "the scenario asks for 24 series"}}},
		{name: "both", lim: Limits{MaxSeries: 5}, want: []budget.ExceededError{
			{Budget: budget.InputSeries, Limit: 5, Asked: 24, Subject: "the scenario asks for 24 series"},
			{Budget: budget.InputSamples, Limit: budget.DefaultInputSamples, Asked: 145152024, Subject: "the scenario asks for about 145152024 samples"}}},
		{name: "within", lim: Limits{MaxSeries: 24, MaxSamples: 145152024}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			_, err := LoadFile(path, c.lim)
			if c.want == nil {
				require.NoError(t, err)
				return
			}
			joined, ok := err.(interface{ Unwrap() []error })
			require.True(t, ok, "%v", err)
			var got []budget.ExceededError
			for _, e := range joined.Unwrap() {
				var ee *budget.ExceededError
				require.ErrorAs(t, e, &ee)
				got = append(got, *ee)
			}
			require.Equal(t, c.want, got)
			require.NotContains(t, err.Error(), "--")
		})
	}
}
