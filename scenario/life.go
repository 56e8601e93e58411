package scenario

import (
	"math/rand"
	"sort"
	"time"

	"github.com/prometheus/common/model"
)

// LifeOptions shape the random lives RandomLife makes.
type LifeOptions struct {
	// Duration of the life (default 2h).
	Duration time.Duration
	// Era and Scrape of the scenario (defaults v2.0, direct); the lives do
	// not depend on them, so one life can be replayed in every era.
	Era    Era
	Scrape Scrape
	// MaxObjects: a life has 1 to MaxObjects objects (default 4, at most 6).
	MaxObjects int
	// Kinds to draw from, with repeats as weights (default LifeKinds).
	Kinds []string
	// Names and Namespaces to draw from (defaults apps, infra and team-a,
	// team-b, flux-system): few, so that same-named objects in different
	// namespaces happen, which PodMonitor scraping merges under one
	// namespace; and flux-system, where Flux's own objects live, is also
	// the controllers' namespace that a PodMonitor writes into `namespace`.
	Names, Namespaces []string
	// SecondTargets lets a sixth of the lives have a second scrape target.
	SecondTargets bool
}

// LifeKinds are the kinds RandomLife draws by default, repeated by weight:
// the objects users alert on most (Kustomization, HelmRelease) most often.
var LifeKinds = []string{
	"Kustomization", "Kustomization", "Kustomization", "HelmRelease", "HelmRelease",
	"GitRepository", "OCIRepository", "HelmRepository", "HelmChart", "Bucket",
	"ImageRepository", "ImagePolicy", "ImageUpdateAutomation", "Receiver", "Alert", "Provider",
}

// Behaviour is how a kind's controller reconciles, as random lives model
// it. docs/flux-metrics.md ("Per-kind behaviour") gives the sources.
type Behaviour struct {
	// ShowsProgress: the object's Ready condition is Unknown in the API
	// while a reconcile runs (what kube-state-metrics and the Flux Operator
	// read). Other kinds patch their status only at the end of a
	// reconcile when nothing changed, so their reconciles are instant here.
	ShowsProgress bool
	// Took is how long a reconcile that changes something takes (min, max):
	// health checks, Helm install/upgrade with wait.
	Took [2]time.Duration
	// FailTook is how long a failing reconcile takes when it runs into its
	// timeout (health check or Helm wait): 0 when failures are quick.
	FailTook time.Duration
	// Retry is when a failing object is reconciled again: RetryFixed
	// (Kustomization spec.retryInterval) or RetryBackoff (the controller
	// returns an error and the work queue backs off exponentially).
	Retry RetryStyle
	// Reasons are the Ready=False reasons lives use (besides the default).
	Reasons []string
	// DependsOn: the object may wait for a dependency when created
	// (Ready=False, DependencyNotReady, retried every 30s).
	DependsOn bool
	// NeverFails: the object has no failing Ready condition to show.
	NeverFails bool
}

// RetryStyle is how a failing object is retried.
type RetryStyle int

// The retry styles.
const (
	// RetryFixed retries at spec.retryInterval (Kustomization).
	RetryFixed RetryStyle = iota
	// RetryBackoff retries with the controllers' exponential backoff
	// (fluxcd/pkg runtime/controller rate limiter, 750ms up to 15m);
	// modelled from 1m, doubling, up to 15m.
	RetryBackoff
)

// MaxRetryDelay is the controllers' default --max-retry-delay.
const MaxRetryDelay = 15 * time.Minute

// Behaviours holds each kind's Behaviour.
var Behaviours = map[string]Behaviour{
	"Kustomization": {ShowsProgress: true, Took: [2]time.Duration{30 * time.Second, 2 * time.Minute}, FailTook: 5 * time.Minute,
		Retry: RetryFixed, Reasons: []string{ReasonHealthCheckFailed, "BuildFailed", "ArtifactFailed"}, DependsOn: true},
	"HelmRelease": {ShowsProgress: true, Took: [2]time.Duration{30 * time.Second, 3 * time.Minute}, FailTook: 5 * time.Minute,
		Retry: RetryBackoff, Reasons: []string{"ArtifactFailed"}, DependsOn: true},
	"GitRepository":         {Retry: RetryBackoff, Reasons: []string{"AuthenticationFailed"}},
	"OCIRepository":         {Retry: RetryBackoff, Reasons: []string{"AuthenticationFailed"}},
	"HelmRepository":        {Retry: RetryBackoff, Reasons: []string{"AuthenticationFailed"}},
	"HelmChart":             {Retry: RetryBackoff},
	"Bucket":                {Retry: RetryBackoff, Reasons: []string{"AuthenticationFailed"}},
	"ImageRepository":       {Retry: RetryBackoff, Reasons: []string{"AuthenticationFailed"}},
	"ImagePolicy":           {Retry: RetryBackoff, Reasons: []string{ReasonDependencyNotReady}},
	"ImageUpdateAutomation": {Retry: RetryBackoff},
	"Receiver":              {Retry: RetryBackoff},
	"Alert":                 {Retry: RetryBackoff, NeverFails: true},
	"Provider":              {Retry: RetryBackoff, NeverFails: true},
}

// RandomLife makes a random life of a few Flux objects and of the
// monitoring around them: what verify replays in every era and scrape
// setup. Objects of the kinds users alert on reconcile at their interval,
// fail in stretches with their kind's reasons and retry cadence, some wait
// for a dependency, some reconcile slowly, a third are deleted in the
// second half, an eighth suspended; a fifth of the lives have a controller
// restart, a sixth a scrape gap, and with SecondTargets a sixth a second
// scrape target. The same rng state gives the same life.
func RandomLife(rng *rand.Rand, opts LifeOptions) *Scenario {
	opts = opts.withDefaults()
	dur := opts.Duration
	sc := &Scenario{
		Name:               "random life",
		Era:                opts.Era,
		Scrape:             opts.Scrape,
		Duration:           model.Duration(dur),
		ScrapeInterval:     model.Duration(30 * time.Second),
		EvaluationInterval: model.Duration(time.Minute),
	}
	seen := map[string]bool{}
	for n := 1 + rng.Intn(opts.MaxObjects); len(sc.Objects) < n; {
		o := Object{
			Kind:      opts.Kinds[rng.Intn(len(opts.Kinds))],
			Name:      opts.Names[rng.Intn(len(opts.Names))],
			Namespace: opts.Namespaces[rng.Intn(len(opts.Namespaces))],
		}
		if seen[o.ID()] {
			n--
			continue
		}
		seen[o.ID()] = true
		o.Events = kindEvents(rng, o.Kind, dur)
		sc.Objects = append(sc.Objects, o)
	}
	mins := int(dur / time.Minute)
	if rng.Intn(5) == 0 {
		sc.Cluster = append(sc.Cluster, ClusterEvent{At: randMinutes(rng, 10, mins-10), ControllerRestart: true})
	}
	if rng.Intn(6) == 0 {
		sc.Cluster = append(sc.Cluster, ClusterEvent{At: randMinutes(rng, 5, mins-10), ScrapeGap: model.Duration(time.Duration(1+rng.Intn(4)) * time.Minute)})
	}
	if opts.SecondTargets && rng.Intn(6) == 0 {
		sc.Cluster = append(sc.Cluster, ClusterEvent{At: randMinutes(rng, 5, mins-10), SecondTarget: model.Duration(time.Duration(1+rng.Intn(5)) * time.Minute)})
	}
	sort.SliceStable(sc.Cluster, func(i, j int) bool { return sc.Cluster[i].At < sc.Cluster[j].At })
	sc.withDefaults()
	return sc
}

func (o LifeOptions) withDefaults() LifeOptions {
	if o.Duration <= 0 {
		o.Duration = 2 * time.Hour
	}
	if o.MaxObjects <= 0 {
		o.MaxObjects = 4
	}
	o.MaxObjects = min(o.MaxObjects, 6)
	if len(o.Kinds) == 0 {
		o.Kinds = LifeKinds
	}
	if len(o.Names) == 0 {
		o.Names = []string{"apps", "infra"}
	}
	if len(o.Namespaces) == 0 {
		o.Namespaces = []string{"team-a", "team-b", "flux-system"}
	}
	return o
}

// randMinutes is a whole number of minutes in [lo, hi) (lo when hi <= lo).
func randMinutes(rng *rand.Rand, lo, hi int) model.Duration {
	if hi <= lo {
		hi = lo + 1
	}
	return model.Duration(time.Duration(lo+rng.Intn(hi-lo)) * time.Minute)
}

// kindEvents makes one object's life over dur as its kind's controller
// would reconcile it.
func kindEvents(rng *rand.Rand, kind string, dur time.Duration) []Event {
	b := Behaviours[kind]
	interval := []time.Duration{time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute}[rng.Intn(4)]
	// spec.retryInterval: often shorter than the interval, by default equal.
	retryInterval := []time.Duration{time.Minute, 2 * time.Minute, interval}[rng.Intn(3)]
	slow := b.ShowsProgress && rng.Intn(2) == 0 // waits for health checks / Helm
	failing := !b.NeverFails && rng.Intn(4) == 0
	reason := ""
	deleteAt := time.Duration(-1)
	if rng.Intn(3) == 0 {
		deleteAt = (dur/2 + time.Duration(rng.Int63n(int64(dur/2)))).Truncate(30 * time.Second)
	}
	suspendAt, resumeAt := time.Duration(-1), time.Duration(-1)
	if rng.Intn(8) == 0 {
		suspendAt = time.Duration(10+rng.Intn(int(dur/time.Minute)/2)) * time.Minute
		resumeAt = suspendAt + time.Duration(5+rng.Intn(30))*time.Minute
	}
	var evs []Event
	t := time.Duration(rng.Intn(3)) * time.Minute
	fits := func(end time.Duration) bool { return end < dur && (deleteAt < 0 || end < deleteAt) }
	if b.DependsOn && rng.Intn(4) == 0 {
		// A dependency that is not ready yet: Ready=False every 30s
		// (kustomize-controller and helm-controller --requeue-dependency).
		for n := 1 + rng.Intn(6); n > 0 && fits(t); n-- {
			evs = append(evs, Event{At: model.Duration(t), Reconcile: "False", Reason: ReasonDependencyNotReady})
			t += 30 * time.Second
		}
	}
	changed, attempt := true, 0
	for fits(t) {
		if suspendAt >= 0 && t >= suspendAt {
			evs = append(evs, Event{At: model.Duration(t), Suspend: true})
			t = max(t, resumeAt)
			if !fits(t) {
				break
			}
			evs = append(evs, Event{At: model.Duration(t), Resume: true})
			suspendAt = -1
			t += 30 * time.Second
			continue
		}
		if !b.NeverFails && rng.Intn(6) == 0 {
			failing = !failing
			changed = true
			reason = ""
			if failing && len(b.Reasons) > 0 && rng.Intn(2) == 0 {
				reason = b.Reasons[rng.Intn(len(b.Reasons))]
			}
		}
		e := Event{At: model.Duration(t), Reconcile: "True"}
		var took time.Duration
		switch {
		case failing:
			e.Reconcile, e.Reason = "False", reason
			if b.FailTook > 0 && slow && (reason == "" || reason == ReasonHealthCheckFailed) {
				took = min(b.FailTook, interval)
			}
		case slow && (changed || kind == "Kustomization"):
			// Kustomizations run their health checks at every reconcile;
			// a HelmRelease waits only when it installs or upgrades.
			took = b.Took[0] + time.Duration(rng.Int63n(int64(b.Took[1]-b.Took[0])/int64(30*time.Second)+1))*30*time.Second
		}
		if !fits(t + took) {
			break
		}
		e.Took = model.Duration(took)
		evs = append(evs, e)
		end := t + took
		if failing {
			switch b.Retry {
			case RetryFixed:
				t = end + retryInterval
			default:
				t = end + min(time.Minute<<min(attempt, 4), MaxRetryDelay)
			}
			attempt++
		} else {
			t = end + interval
			attempt = 0
		}
		changed = false
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
