package verify

import (
	"testing"

	"github.com/prometheus/prometheus/promql/parser"
	"github.com/stretchr/testify/require"

	"github.com/gotk-rules/gotk-rules/evaluator"
	"github.com/gotk-rules/gotk-rules/scenario"
)

func TestScopeDerivation(t *testing.T) {
	p := evaluator.NewEngine(evaluator.Options{Features: evaluator.Features{BinopFillModifiers: true}}).Parser()
	hr := scenario.Object{Kind: "HelmRelease", Name: "podinfo", Namespace: "team-a"}
	ks := scenario.Object{Kind: "Kustomization", Name: "apps", Namespace: "team-b"}
	git := scenario.Object{Kind: "GitRepository", Name: "apps", Namespace: "team-a"}
	objects := []scenario.Object{hr, ks, git}
	recorded := map[string]string{
		"flux:failing:ksm":   `gotk_resource_info{ready="False", customresource_kind="Kustomization"}`,
		"flux:failing:loop":  `flux:failing:loop`,
		"flux:failing:other": `up == 0`,
	}
	for _, tc := range []struct {
		name   string
		era    scenario.Era
		scrape scenario.Scrape
		expr   string
		// scope is the expected String(); in lists the objects in scope.
		scope   string
		in      []string
		derived bool
		// empty: no object of any name could be in scope.
		empty bool
	}{
		{
			name: "per-kind ksm alert", era: scenario.EraKSM, scrape: scenario.ScrapeDirect,
			expr:  `gotk_resource_info{ready="False", customresource_kind="HelmRelease"} > 0`,
			scope: `{customresource_kind="HelmRelease"}`, in: []string{"HelmRelease"}, derived: true,
		},
		{
			name: "kind regex of sources", era: scenario.EraKSM, scrape: scenario.ScrapePodMonitor,
			expr:  `gotk_resource_info{ready="False", customresource_kind=~"GitRepository|HelmRepository|Bucket|OCIRepository"} > 0`,
			scope: `{customresource_kind=~"GitRepository|HelmRepository|Bucket|OCIRepository"}`, in: []string{"GitRepository"}, derived: true,
		},
		{
			name: "no identity matcher: all objects", era: scenario.EraKSM, scrape: scenario.ScrapeDirect,
			expr:  `gotk_resource_info{ready="False"} > 0`,
			scope: `all objects`, in: []string{"HelmRelease", "Kustomization", "GitRepository"}, derived: true,
		},
		{
			name: "namespace scoped, direct scrape of the controllers", era: scenario.EraV21, scrape: scenario.ScrapeDirect,
			expr:  `max by (namespace, name, kind) (gotk_reconcile_condition{type="Ready", status="False", namespace="team-a"}) == 1`,
			scope: `{namespace="team-a"}`, in: []string{"HelmRelease", "GitRepository"}, derived: true,
		},
		{
			name: "namespace matcher under a PodMonitor names the controllers' namespace", era: scenario.EraV21, scrape: scenario.ScrapePodMonitor,
			expr:  `gotk_reconcile_condition{type="Ready", status="False", namespace="team-a"} == 1`,
			scope: `{namespace="team-a"}`, in: nil, derived: true, empty: true,
		},
		{
			name: "exported_namespace under a PodMonitor", era: scenario.EraV20, scrape: scenario.ScrapePodMonitor,
			expr:  `gotk_reconcile_condition{type="Ready", status="False", exported_namespace!="team-a"} == 1`,
			scope: `{exported_namespace!="team-a"}`, in: []string{"Kustomization"}, derived: true,
		},
		{
			name: "and narrows to both sides", era: scenario.EraKSM, scrape: scenario.ScrapeDirect,
			expr:  `gotk_resource_info{ready="False"} and gotk_resource_info{customresource_kind="Kustomization"}`,
			scope: `{customresource_kind="Kustomization"}`, in: []string{"Kustomization"}, derived: true,
		},
		{
			name: "the other side of on(name) says nothing of the kind", era: scenario.EraKSM, scrape: scenario.ScrapeDirect,
			expr:  `gotk_resource_info{ready="False", customresource_kind="Kustomization"} and on (name) gotk_resource_info{customresource_kind="GitRepository", name="apps"}`,
			scope: `{customresource_kind="Kustomization", name="apps"}`, in: []string{"Kustomization"}, derived: true,
		},
		{
			name: "or joins", era: scenario.EraKSM, scrape: scenario.ScrapeDirect,
			expr:  `gotk_resource_info{ready="False", customresource_kind="HelmRelease"} or gotk_resource_info{ready="False", customresource_kind="GitRepository"}`,
			scope: `{customresource_kind="HelmRelease"} or {customresource_kind="GitRepository"}`, in: []string{"HelmRelease", "GitRepository"}, derived: true,
		},
		{
			name: "a term another makes redundant is dropped", era: scenario.EraKSM, scrape: scenario.ScrapeDirect,
			expr:  `gotk_resource_info{customresource_kind="HelmRelease", name="x"} or (gotk_resource_info{customresource_kind="HelmRelease"} > on (customresource_kind, name) gotk_resource_info{customresource_kind="HelmRelease"})`,
			scope: `{customresource_kind="HelmRelease"}`, in: []string{"HelmRelease"}, derived: true,
		},
		{
			name: "unless ALERTS de-duplication keeps the left side", era: scenario.EraKSM, scrape: scenario.ScrapeDirect,
			expr:  `gotk_resource_info{ready="False", customresource_kind="HelmRelease"} unless on (name, exported_namespace) ALERTS{alertname="FluxKustomizationFailure"}`,
			scope: `{customresource_kind="HelmRelease"}`, in: []string{"HelmRelease"}, derived: true,
		},
		{
			name: "and on() with a non-Flux metric does not narrow", era: scenario.EraKSM, scrape: scenario.ScrapeDirect,
			expr:  `gotk_resource_info{ready="False", customresource_kind="HelmRelease"} and on () (hour() > 8)`,
			scope: `{customresource_kind="HelmRelease"}`, in: []string{"HelmRelease"}, derived: true,
		},
		{
			name: "absent cannot be scoped", era: scenario.EraKSM, scrape: scenario.ScrapeDirect,
			expr:  `absent(gotk_resource_info{customresource_kind="HelmRelease"})`,
			scope: `all objects (not derived: absent() fires for no object)`, in: []string{"HelmRelease", "Kustomization", "GitRepository"},
		},
		{
			name: "a metric of another era selects nothing", era: scenario.EraKSM, scrape: scenario.ScrapeDirect,
			expr:  `gotk_reconcile_condition{status="False"} == 1`,
			scope: `no object`, derived: true, empty: true,
		},
		{
			name: "kind label on the ksm metric matches nothing", era: scenario.EraKSM, scrape: scenario.ScrapeDirect,
			expr:  `gotk_resource_info{ready="False", kind="HelmRelease"} > 0`,
			scope: `{kind="HelmRelease"}`, derived: true, empty: true,
		},
		{
			name: "a kind no Flux object has", era: scenario.EraV21, scrape: scenario.ScrapeDirect,
			expr:  `gotk_reconcile_condition{kind="Helmrelease", status="False"} == 1`,
			scope: `{kind="Helmrelease"}`, derived: true, empty: true,
		},
		{
			name: "operator metric uses kind", era: scenario.EraOperator, scrape: scenario.ScrapeDirect,
			expr:  `flux_resource_info{ready="False", kind="HelmRelease"} > 0`,
			scope: `{kind="HelmRelease"}`, in: []string{"HelmRelease"}, derived: true,
		},
		{
			name: "through a recording rule", era: scenario.EraKSM, scrape: scenario.ScrapeDirect,
			expr:  `flux:failing:ksm{name="apps"} > 0`,
			scope: `{customresource_kind="Kustomization", name="apps"}`, in: []string{"Kustomization"}, derived: true,
		},
		{
			name: "a recording rule of a non-Flux metric", era: scenario.EraKSM, scrape: scenario.ScrapeDirect,
			expr:  `flux:failing:other > 0`,
			scope: `all objects (not derived: up is not a Flux metric)`, in: []string{"HelmRelease", "Kustomization", "GitRepository"},
		},
		{
			name: "a recording rule that reads itself", era: scenario.EraKSM, scrape: scenario.ScrapeDirect,
			expr:  `flux:failing:loop > 0`,
			scope: `all objects (not derived: flux:failing:loop is recorded from itself)`, in: []string{"HelmRelease", "Kustomization", "GitRepository"},
		},
		{
			name: "fill values need only one side", era: scenario.EraKSM, scrape: scenario.ScrapeDirect,
			expr:  `gotk_resource_info{customresource_kind="HelmRelease"} + on (name) fill (0) gotk_resource_info{customresource_kind="Kustomization"}`,
			scope: `{customresource_kind="HelmRelease"} or {customresource_kind="Kustomization"}`, in: []string{"HelmRelease", "Kustomization"}, derived: true,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := &scopeDeriver{era: tc.era, recorded: map[string][]parser.Expr{}, visiting: map[string]bool{}}
			for name, text := range recorded {
				e, err := p.ParseExpr(text)
				require.NoError(t, err)
				d.recorded[name] = []parser.Expr{e}
			}
			expr, err := p.ParseExpr(tc.expr)
			require.NoError(t, err)
			s := d.derive(expr)
			require.Equal(t, tc.scope, s.String())
			require.Equal(t, tc.derived, s.Derived())
			sc := &scenario.Scenario{Era: tc.era, Scrape: tc.scrape}
			sc.Normalize()
			var in []string
			for i := range objects {
				if s.Includes(sc, &objects[i]) {
					in = append(in, objects[i].Kind)
				}
			}
			require.Equal(t, tc.in, in)
			require.Equal(t, tc.empty, s.Empty(sc), "Empty")
		})
	}
}
