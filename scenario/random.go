package scenario

import (
	"fmt"
	"math/rand"
	"time"

	"github.com/prometheus/common/model"
)

// RandomEvents makes one object's random life over dur: reconciles at a
// steady interval, failing in stretches, some slow (Unknown while they run),
// perhaps a suspension and a deletion.
func RandomEvents(rng *rand.Rand, dur time.Duration) []Event {
	interval := []time.Duration{time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute}[rng.Intn(4)]
	slow := rng.Intn(3) == 0
	failing := rng.Intn(4) == 0
	deleteAt := time.Duration(-1)
	if rng.Intn(3) == 0 {
		deleteAt = dur/2 + time.Duration(rng.Int63n(int64(dur/2)))
		deleteAt = deleteAt.Truncate(30 * time.Second)
	}
	suspendAt, resumeAt := time.Duration(-1), time.Duration(-1)
	if rng.Intn(8) == 0 {
		suspendAt = time.Duration(10+rng.Intn(int(dur/time.Minute)/2)) * time.Minute
		resumeAt = suspendAt + time.Duration(5+rng.Intn(30))*time.Minute
	}
	var evs []Event
	t := time.Duration(rng.Intn(3)) * time.Minute
	for t < dur {
		if deleteAt >= 0 && t >= deleteAt {
			break
		}
		if suspendAt >= 0 && t >= suspendAt {
			evs = append(evs, Event{At: model.Duration(t), Suspend: true})
			t = max(t, resumeAt)
			if t >= dur || (deleteAt >= 0 && t >= deleteAt) {
				break
			}
			evs = append(evs, Event{At: model.Duration(t), Resume: true})
			suspendAt = -1
			t += 30 * time.Second
			continue
		}
		// Failures come and go in stretches.
		if rng.Intn(6) == 0 {
			failing = !failing
		}
		result := "True"
		if failing {
			result = "False"
		}
		var took time.Duration
		if slow {
			took = time.Duration(1+rng.Intn(6)) * 30 * time.Second
			took = min(took, interval-30*time.Second)
		}
		if t+took >= dur || (deleteAt >= 0 && t+took >= deleteAt) {
			break
		}
		evs = append(evs, Event{At: model.Duration(t), Reconcile: result, Took: model.Duration(took)})
		t += interval
	}
	if deleteAt >= 0 && deleteAt < dur {
		last := time.Duration(0)
		if n := len(evs); n > 0 {
			last = time.Duration(evs[n-1].At + evs[n-1].Took)
		}
		evs = append(evs, Event{At: model.Duration(max(deleteAt, last)), Delete: true})
	}
	return evs
}

// Fleet makes a fleet of objects living random lives for a duration, on
// Flux 2.0 metrics scraped every minute: the workload of fleet-scale
// replays and benchmarks. Object names are unique; the lives depend only on
// the seed.
func Fleet(objects int, dur time.Duration, seed int64) *Scenario {
	rng := rand.New(rand.NewSource(seed))
	kinds := []string{"Kustomization", "HelmRelease", "GitRepository", "HelmChart", "OCIRepository"}
	sc := &Scenario{
		Name:               fmt.Sprintf("fleet of %d objects over %s (seed %d)", objects, model.Duration(dur), seed),
		Era:                EraV20,
		Scrape:             ScrapeDirect,
		ScrapeInterval:     model.Duration(time.Minute),
		EvaluationInterval: model.Duration(time.Minute),
		Duration:           model.Duration(dur),
	}
	for i := 0; i < objects; i++ {
		sc.Objects = append(sc.Objects, Object{
			Kind:      kinds[i%len(kinds)],
			Name:      fmt.Sprintf("app-%05d", i),
			Namespace: fmt.Sprintf("team-%02d", i%20),
			Events:    RandomEvents(rng, dur),
		})
	}
	sc.withDefaults()
	return sc
}
