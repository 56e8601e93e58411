package verify

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gotk-rules/gotk-rules/evaluator"
	"github.com/gotk-rules/gotk-rules/rulefile"
	"github.com/gotk-rules/gotk-rules/scenario"
)

// options verifies the given rule file (a path, or YAML text written to a
// temporary file) over some eras and scrape setups.
func options(t *testing.T, rules string, runs int, eras []scenario.Era, scrapes []scenario.Scrape) Options {
	t.Helper()
	path := rules
	if _, err := os.Stat(rules); err != nil {
		path = filepath.Join(t.TempDir(), "rules.yml")
		require.NoError(t, os.WriteFile(path, []byte(rules), 0o600))
	}
	eng := evaluator.NewEngine(evaluator.Options{})
	return Options{
		Engine:    eng,
		Loader:    rulefile.NewLoader(eng.Parser(), false),
		RuleFiles: []string{path},
		Runs:      runs,
		Seed:      1,
		Eras:      eras,
		Scrapes:   scrapes,
	}
}

func only(t *testing.T, results []*Result) *Result {
	t.Helper()
	require.Len(t, results, 1)
	return results[0]
}

// The guide's rule joins on status="Deleted", which Flux 2.1 no longer
// exports: verify must see it never fire.
func TestFindsGuideRuleDeadOnFlux21(t *testing.T) {
	res, err := Run(context.Background(), options(t, "../rules/gitopstoolkit.yml", 30, []scenario.Era{scenario.EraV21}, []scenario.Scrape{scenario.ScrapeDirect}))
	require.NoError(t, err)
	r := only(t, res)
	require.Equal(t, VerdictWrong, r.Verdict)
	require.Zero(t, r.AlertsFired)
	require.Positive(t, r.RealFailures)
	require.Equal(t, r.RealFailures, r.FalseNegatives)
	require.NotNil(t, r.Counterexample)
	require.Contains(t, r.Counterexample.Description, "false negative")
}

// Without `for`, a rule pages on the first failed reconcile, however short.
func TestFindsRuleWithoutForPagingOnShortFailures(t *testing.T) {
	res, err := Run(context.Background(), options(t, `
groups:
- name: g
  rules:
  - alert: NoFor
    expr: gotk_reconcile_condition{type="Ready",status="False"} == 1
`, 30, []scenario.Era{scenario.EraV21}, []scenario.Scrape{scenario.ScrapeDirect}))
	require.NoError(t, err)
	r := only(t, res)
	require.Positive(t, r.FalsePositives)
	require.Contains(t, r.Counterexample.Description, "false positive")
	// The shrunk counterexample is a scenario that loads and still fails.
	sc, err := scenario.Parse("ce.yml", []byte(r.Counterexample.Scenario), scenario.Limits{})
	require.NoError(t, err)
	require.Len(t, sc.Objects, 1)
}

// Under a PodMonitor, `by (namespace, ...)` groups by the controller's
// namespace: same-named objects of different namespaces merge, and a deleted
// one (Deleted=1) masks a failing one. Verify must find lives where the
// PodMonitor setup is wrong while the same life scraped directly is right.
func TestFindsPodMonitorMerging(t *testing.T) {
	opts := options(t, "../rules/gitopstoolkit.yml", 1, nil, nil)
	opts.withDefaults()
	rs, err := loadRuleSet(opts)
	require.NoError(t, err)
	scopes := rs.scopes(scenario.EraV20)
	found := 0
	for run := 0; run < 150 && found == 0; run++ {
		life := Life(opts.Seed, run, opts)
		verdicts := map[scenario.Scrape]verdict{}
		for _, scrape := range scenario.Scrapes {
			sc := Life(opts.Seed, run, opts)
			sc.Era, sc.Scrape = scenario.EraV20, scrape
			v, err := judge(context.Background(), sc, opts, rs, scopes)
			require.NoError(t, err)
			verdicts[scrape] = v["ReconciliationFailure"]
		}
		direct, pm := verdicts[scenario.ScrapeDirect], verdicts[scenario.ScrapePodMonitor]
		if direct.fp+direct.fn == 0 && pm.fp+pm.fn > 0 {
			found++
			// The merge needs two objects of the same name.
			names := map[string]int{}
			for _, o := range life.Objects {
				names[o.Name+"/"+o.Kind]++
			}
			merged := false
			for _, n := range names {
				merged = merged || n > 1
			}
			require.True(t, merged, "run %d: podmonitor wrong without same-named objects: %s", run, pm.what)
		}
	}
	require.Positive(t, found, "no life showed the PodMonitor merge")

	// And the mechanism itself, on a hand-written life: team-a/apps fails,
	// team-b/apps is deleted; merged, F+2D=3 and the alert never fires.
	sc, err := scenario.Parse("mask.yml", []byte(`
scenario: mask
era: v2.0
scrape: podmonitor
duration: 40m
objects:
  - {kind: Kustomization, name: apps, namespace: team-a, events: [{at: 0s, reconcile: "False"}]}
  - {kind: Kustomization, name: apps, namespace: team-b, events: [{at: 0s, reconcile: "True"}, {at: 1m, delete: true}]}
`), scenario.Limits{})
	require.NoError(t, err)
	v, err := judge(context.Background(), sc, opts, rs, scopes)
	require.NoError(t, err)
	require.Equal(t, 1, v["ReconciliationFailure"].fn)
	sc.Scrape = scenario.ScrapeDirect
	v, err = judge(context.Background(), sc, opts, rs, scopes)
	require.NoError(t, err)
	require.Zero(t, v["ReconciliationFailure"].fn)
}

// gotk_resource_info{ready="False"} is a new series at every Ready change:
// with slow reconciles (Unknown while they run) a long `for` never completes.
func TestFindsResourceInfoForRestarts(t *testing.T) {
	res, err := Run(context.Background(), options(t, `
groups:
- name: g
  rules:
  - alert: KustomizationFailure
    expr: gotk_resource_info{ready="False"} > 0
    for: 15m
`, 60, []scenario.Era{scenario.EraKSM}, []scenario.Scrape{scenario.ScrapeDirect}))
	require.NoError(t, err)
	r := only(t, res)
	require.Positive(t, r.FalseNegatives)
	sc, err := scenario.Parse("ce.yml", []byte(r.Counterexample.Scenario), scenario.Limits{})
	require.NoError(t, err)
	slow := false
	for _, o := range sc.Objects {
		for _, e := range o.Events {
			slow = slow || e.Took > 0
		}
	}
	require.True(t, slow, "the counterexample should need a slow reconcile:\n%s", r.Counterexample.Scenario)
}

func TestShippedCorrectedRulesAreClean(t *testing.T) {
	for _, tc := range []struct {
		file string
		eras []scenario.Era
	}{
		{"../rules/flux-reconciliation.yml", []scenario.Era{scenario.EraV20, scenario.EraV21}},
		{"../rules/flux-resource-info.yml", []scenario.Era{scenario.EraKSM}},
		{"../rules/flux-operator.yml", []scenario.Era{scenario.EraOperator}},
	} {
		res, err := Run(context.Background(), options(t, tc.file, 20, tc.eras, nil))
		require.NoError(t, err)
		for _, r := range res {
			require.Equal(t, VerdictClean, r.Verdict, "%s %s %s: %+v", r.Alert, r.Era, r.Scrape, r.Counterexample)
			require.Positive(t, r.RealFailures)
			require.Positive(t, r.AlertsFired)
		}
	}
}

func TestNoDataWhenTheEraLacksTheMetric(t *testing.T) {
	res, err := Run(context.Background(), options(t, "../rules/flux-resource-info.yml", 5, []scenario.Era{scenario.EraV20}, []scenario.Scrape{scenario.ScrapeDirect}))
	require.NoError(t, err)
	r := only(t, res)
	require.Equal(t, VerdictNoData, r.Verdict)
	require.Equal(t, NoDataMetric, r.NoData)
	require.True(t, r.Clean())
}

func TestDeterministicForASeed(t *testing.T) {
	run := func() []*Result {
		res, err := Run(context.Background(), options(t, "../rules/gitopstoolkit.yml", 15, []scenario.Era{scenario.EraV20}, nil))
		require.NoError(t, err)
		return res
	}
	require.Equal(t, run(), run())
}

// A per-kind rule set is judged per kind: each alert's real failures and
// counterexamples are objects of its kind, and the scopes split the
// failures an unscoped alert with the same `for` is judged on.
func TestPerKindRulesAreJudgedPerKind(t *testing.T) {
	res, err := Run(context.Background(), options(t, `
groups:
- name: g
  rules:
  - alert: HelmReleaseFailure
    expr: gotk_resource_info{ready="False", customresource_kind="HelmRelease"} > 0
    for: 15m
  - alert: OtherFailure
    expr: gotk_resource_info{ready="False", customresource_kind!="HelmRelease"} > 0
    for: 15m
  - alert: AnyFailure
    expr: gotk_resource_info{ready="False"} > 0
    for: 15m
`, 80, []scenario.Era{scenario.EraKSM}, []scenario.Scrape{scenario.ScrapeDirect}))
	require.NoError(t, err)
	byAlert := map[string]*Result{}
	for _, r := range res {
		byAlert[r.Alert] = r
	}
	hr, other, any := byAlert["HelmReleaseFailure"], byAlert["OtherFailure"], byAlert["AnyFailure"]
	require.Equal(t, `{customresource_kind="HelmRelease"}`, hr.Scope)
	require.Equal(t, `{customresource_kind!="HelmRelease"}`, other.Scope)
	require.Equal(t, "all objects", any.Scope)
	require.Positive(t, hr.RealFailures)
	require.Positive(t, other.RealFailures)
	require.Equal(t, any.RealFailures, hr.RealFailures+other.RealFailures)
	require.Equal(t, any.FalseNegatives, hr.FalseNegatives+other.FalseNegatives)

	// Slow HelmRelease reconciles (Ready=Unknown while they run) restart
	// the `for` of a ready="False" series: the HelmRelease alert is wrong,
	// and its counterexample is about a HelmRelease.
	require.Equal(t, VerdictWrong, hr.Verdict)
	require.Contains(t, hr.Counterexample.Description, "false negative: HelmRelease/")
	sc, err := scenario.Parse("ce.yml", []byte(hr.Counterexample.Scenario), scenario.Limits{})
	require.NoError(t, err)
	for _, o := range sc.Objects {
		require.Equal(t, "HelmRelease", o.Kind, hr.Counterexample.Scenario)
	}
}

// --policy judges the rule set as one paging policy: a failure of a kind
// no alert watches is a false negative of the policy, and not of the
// alerts that do not watch it.
func TestPolicyCatchesUnwatchedKinds(t *testing.T) {
	opts := options(t, `
groups:
- name: g
  rules:
  - alert: KustomizationFailure
    expr: flux_resource_info{ready="False", kind="Kustomization"} > 0
    for: 10m
`, 60, []scenario.Era{scenario.EraOperator}, []scenario.Scrape{scenario.ScrapeDirect})
	opts.Policy = true
	res, err := Run(context.Background(), opts)
	require.NoError(t, err)
	require.Len(t, res, 2)
	alert, policy := res[0], res[1]
	require.Equal(t, "KustomizationFailure", alert.Alert)
	require.Equal(t, PolicyAlert, policy.Alert)
	require.Equal(t, "all objects", policy.Scope)
	require.Greater(t, policy.RealFailures, alert.RealFailures)
	require.Equal(t, VerdictWrong, policy.Verdict)
	require.Contains(t, policy.Counterexample.Description, "no alert of the rule set fired for it")
	require.NotContains(t, policy.Counterexample.Description, "Kustomization/")
}

// A rule set whose catch-all alert reads ALERTS to stay quiet while a
// per-kind alert is active is judged as one policy: the replay writes
// ALERTS, and nothing fires twice without a failure.
func TestPolicyWithALERTSDeduplication(t *testing.T) {
	opts := options(t, "../docs/rules-in-the-wild/per-kind-for-dedup.yml", 40, []scenario.Era{scenario.EraKSM}, []scenario.Scrape{scenario.ScrapeDirect})
	opts.Policy = true
	res, err := Run(context.Background(), opts)
	require.NoError(t, err)
	byAlert := map[string]*Result{}
	for _, r := range res {
		byAlert[r.Alert] = r
	}
	require.Equal(t, "all objects", byAlert["FluxResourceNotReady"].Scope)
	policy := byAlert[PolicyAlert]
	require.NotNil(t, policy)
	require.Positive(t, policy.RealFailures)
	require.Positive(t, policy.AlertsFired)
	require.Zero(t, policy.FalsePositives)
}

// The Flux Operator era judges flux_resource_info rules: without `for` the
// alert pages on short failures.
func TestOperatorEraRuleWithoutFor(t *testing.T) {
	res, err := Run(context.Background(), options(t, `
groups:
- name: g
  rules:
  - alert: NotReady
    expr: flux_resource_info{ready="False"} > 0
`, 40, []scenario.Era{scenario.EraOperator}, []scenario.Scrape{scenario.ScrapeDirect}))
	require.NoError(t, err)
	r := only(t, res)
	require.NotEqual(t, VerdictNoData, r.Verdict)
	require.Positive(t, r.RealFailures)
	require.Positive(t, r.FalsePositives)
	require.Contains(t, r.Counterexample.Description, "false positive")
}

// An alert whose selectors cannot match any object of the era (kind is not
// a label of gotk_resource_info) is no-data, saying why.
func TestNoDataWhenTheScopeIsEmpty(t *testing.T) {
	res, err := Run(context.Background(), options(t, `
groups:
- name: g
  rules:
  - alert: WrongLabel
    expr: gotk_resource_info{ready="False", kind="HelmRelease"} > 0
    for: 10m
`, 5, []scenario.Era{scenario.EraKSM}, []scenario.Scrape{scenario.ScrapeDirect}))
	require.NoError(t, err)
	r := only(t, res)
	require.Equal(t, VerdictNoData, r.Verdict)
	require.Equal(t, NoDataScope, r.NoData)
	require.Zero(t, r.RealFailures)
}

// The shipped corrected rules cover every kind in every era: as one paging
// policy they are clean everywhere.
func TestShippedRulesAreACleanPolicy(t *testing.T) {
	opts := options(t, "../rules/flux-reconciliation.yml", 30, nil, nil)
	opts.RuleFiles = []string{"../rules/flux-reconciliation.yml", "../rules/flux-resource-info.yml", "../rules/flux-operator.yml"}
	opts.Policy = true
	res, err := Run(context.Background(), opts)
	require.NoError(t, err)
	policies := 0
	for _, r := range res {
		if r.Alert != PolicyAlert {
			continue
		}
		policies++
		require.Equal(t, VerdictClean, r.Verdict, "%s %s: %+v", r.Era, r.Scrape, r.Counterexample)
		require.Positive(t, r.RealFailures)
	}
	require.Equal(t, len(scenario.Eras)*len(scenario.Scrapes), policies)
}
