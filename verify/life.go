package verify

import (
	"fmt"
	"math/rand"

	"github.com/gotk-rules/gotk-rules/scenario"
)

// Life makes the random life of run number run (scenario.RandomLife): a few
// objects of the kinds Flux users alert on, in a few namespaces, that
// reconcile, fail and recover as their controllers do, with long
// reconciles, suspensions and deletions, and controller restarts, scrape
// gaps and (with Options.SecondTargets) second scrape targets around them.
// The same seed and run give the same life.
func Life(seed int64, run int, opts Options) *scenario.Scenario {
	rng := rand.New(rand.NewSource(seed*1_000_003 + int64(run)))
	sc := scenario.RandomLife(rng, scenario.LifeOptions{Duration: opts.Duration, SecondTargets: opts.SecondTargets})
	sc.Name = fmt.Sprintf("verify seed %d run %d", seed, run)
	return sc
}
