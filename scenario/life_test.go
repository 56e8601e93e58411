package scenario

import (
	"crypto/sha256"
	"fmt"
	"math/rand"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/gotk-rules/gotk-rules/internal/racemode"
)

// lives makes n lives from seed, as verify does (one rng per life).
func lives(seed int64, n int, opts LifeOptions) []*Scenario {
	out := make([]*Scenario, n)
	for i := range out {
		out[i] = RandomLife(rand.New(rand.NewSource(seed*1_000_003+int64(i))), opts)
	}
	return out
}

func TestRandomLifeDeterministic(t *testing.T) {
	a, err := yaml.Marshal(lives(7, 50, LifeOptions{SecondTargets: true}))
	require.NoError(t, err)
	b, err := yaml.Marshal(lives(7, 50, LifeOptions{SecondTargets: true}))
	require.NoError(t, err)
	require.Equal(t, string(a), string(b))
	c, err := yaml.Marshal(lives(8, 50, LifeOptions{SecondTargets: true}))
	require.NoError(t, err)
	require.NotEqual(t, string(a), string(c), "another seed gives other lives")
}

// TestRandomLifeValid: every life passes the scenario validation, in every
// era, and survives a round trip through the file format.
func TestRandomLifeValid(t *testing.T) {
	// Under -race, 30 lives an option set (a life is made on one
	// goroutine); the plain run of test-unit (Makefile) checks all 300.
	n := racemode.Cases(300, 30)
	for _, opts := range []LifeOptions{
		{},
		{SecondTargets: true, MaxObjects: 6},
		{Duration: 30 * time.Minute, Era: EraOperator, Scrape: ScrapePodMonitor},
	} {
		for i, sc := range lives(1, n, opts) {
			require.NoError(t, sc.Validate(Limits{}), "life %d", i)
			require.LessOrEqual(t, len(sc.Objects), min(max(opts.MaxObjects, 4), 6))
			require.GreaterOrEqual(t, len(sc.Objects), 1)
			for _, era := range Eras {
				sc.Era = era
				require.NoError(t, sc.Validate(Limits{}), "life %d era %s", i, era)
			}
			b, err := yaml.Marshal(sc)
			require.NoError(t, err)
			_, err = Parse("life.yml", b, Limits{})
			require.NoError(t, err, "life %d:\n%s", i, b)
		}
	}
}

// TestRandomLifeCoverage: the lives cover every kind users alert on, the
// situations that matter to rules, and the cluster events of verify.
func TestRandomLifeCoverage(t *testing.T) {
	kinds := map[string]int{}
	var sameName, deleted, suspended, slow, dependency, reasons, restarts, gaps, seconds, failing int
	for _, sc := range lives(3, 600, LifeOptions{SecondTargets: true}) {
		names := map[string]map[string]bool{}
		for _, o := range sc.Objects {
			kinds[o.Kind]++
			key := o.Kind + "/" + o.Name
			if names[key] == nil {
				names[key] = map[string]bool{}
			}
			names[key][o.Namespace] = true
			if len(names[key]) > 1 {
				sameName++
			}
			for _, e := range o.Events {
				switch {
				case e.Delete:
					deleted++
				case e.Suspend:
					suspended++
				case e.Took > 0:
					slow++
					require.True(t, Behaviours[o.Kind].ShowsProgress, "%s reconciles are instant", o.Kind)
				}
				if e.Reason == ReasonDependencyNotReady && o.Kind != "ImagePolicy" {
					dependency++
				} else if e.Reason != "" {
					reasons++
				}
				if e.Reconcile == "False" {
					failing++
					require.False(t, Behaviours[o.Kind].NeverFails, "%s never fails", o.Kind)
				}
			}
		}
		for _, c := range sc.Cluster {
			switch {
			case c.ControllerRestart:
				restarts++
			case c.ScrapeGap > 0:
				gaps++
			case c.SecondTarget > 0:
				seconds++
			}
		}
	}
	var got []string
	for k := range kinds {
		got = append(got, k)
	}
	sort.Strings(got)
	require.Equal(t, Kinds(), got, "every kind appears")
	for name, n := range map[string]int{"same name in two namespaces": sameName, "deletions": deleted, "suspensions": suspended,
		"slow reconciles": slow, "dependency waits": dependency, "other reasons": reasons, "restarts": restarts,
		"scrape gaps": gaps, "second targets": seconds, "failures": failing} {
		require.Positive(t, n, name)
	}
	require.Greater(t, kinds["Kustomization"], kinds["GitRepository"], "Kustomization is drawn more often")
}

// TestRandomLifeRetryCadence: a failing Kustomization retries at a fixed
// interval, other kinds back off up to MaxRetryDelay.
func TestRandomLifeRetryCadence(t *testing.T) {
	var fixed, backoff bool
	for i := int64(0); i < 400 && !(fixed && backoff); i++ {
		rng := rand.New(rand.NewSource(i))
		kind := []string{"Kustomization", "GitRepository"}[i%2]
		evs := kindEvents(rng, kind, 6*time.Hour)
		var gaps []time.Duration
		for j := 1; j < len(evs); j++ {
			p, e := evs[j-1], evs[j]
			if p.Reconcile == "False" && e.Reconcile == "False" && p.Reason != ReasonDependencyNotReady {
				gaps = append(gaps, time.Duration(e.At-p.At-p.Took))
			} else {
				gaps = gaps[:0]
			}
			if len(gaps) >= 6 {
				break
			}
		}
		if len(gaps) < 6 {
			continue
		}
		if kind == "Kustomization" {
			require.Equal(t, gaps[0], gaps[5], "fixed retry interval: %v", gaps)
			fixed = true
		} else {
			require.Equal(t, []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute, MaxRetryDelay, MaxRetryDelay}, gaps[:6])
			backoff = true
		}
	}
	require.True(t, fixed && backoff, "found long failures of both kinds")
}

// TestFleetUnchanged pins Fleet's output (a hash of its YAML, taken
// before RandomLife existed): it is benchmarked, and its lives must stay
// the same.
func TestFleetUnchanged(t *testing.T) {
	b, err := yaml.Marshal(Fleet(20, 2*time.Hour, 42))
	require.NoError(t, err)
	require.Equal(t, "4a7e3e3305c4a6193ecbdf0cc01d6ef97fd2ac438665204529ec03e7197ea03f", fmt.Sprintf("%x", sha256.Sum256(b)))
}
