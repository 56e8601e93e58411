package verify

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v3"

	"github.com/gotk-rules/gotk-rules/scenario"
)

// shrink makes a failing life as small as it can while the alert stays
// wrong on it: fewer objects, cluster events and object events, shorter
// reconciles and a shorter scenario. Greedy and deterministic. The alert
// may be PolicyAlert: the rule set as a whole stays wrong.
func shrink(ctx context.Context, sc *scenario.Scenario, alert string, opts Options, rs *ruleSet, scopes map[string]Scope) (*Counterexample, error) {
	one := rs
	if alert != PolicyAlert {
		one = &ruleSet{alerts: []string{alert}}
		opts.Policy = false
	}
	wrong := func(c *scenario.Scenario) (bool, string, error) {
		vs, err := judge(ctx, c, opts, one, scopes)
		if err != nil {
			return false, "", err
		}
		v := vs[alert]
		return v.fp+v.fn > 0, v.what, nil
	}
	ok, what, err := wrong(sc)
	if err != nil || !ok {
		return nil, err
	}
	try := func(c *scenario.Scenario) (bool, error) {
		if valid(c) != nil {
			return false, nil
		}
		bad, w, err := wrong(c)
		if err != nil || !bad {
			return false, err
		}
		*sc, what = *c, w
		return true, nil
	}
	for changed := true; changed; {
		changed = false
		for _, cand := range candidates(sc) {
			ok, err := try(cand)
			if err != nil {
				return nil, err
			}
			if ok {
				changed = true
				break
			}
		}
	}
	sc.Name = fmt.Sprintf("counterexample: %s (era %s, scrape %s)", alert, sc.Era, sc.Scrape)
	text, err := encode(sc, what, opts)
	if err != nil {
		return nil, err
	}
	return &Counterexample{Description: what, Scenario: text}, nil
}

// candidates lists one-step simplifications of sc, most drastic first.
func candidates(sc *scenario.Scenario) []*scenario.Scenario {
	var out []*scenario.Scenario
	clone := func() *scenario.Scenario {
		c := *sc
		c.Objects = make([]scenario.Object, len(sc.Objects))
		for i, o := range sc.Objects {
			c.Objects[i] = o
			c.Objects[i].Events = append([]scenario.Event(nil), o.Events...)
		}
		c.Cluster = append([]scenario.ClusterEvent(nil), sc.Cluster...)
		return &c
	}
	for i := range sc.Objects {
		c := clone()
		c.Objects = append(c.Objects[:i], c.Objects[i+1:]...)
		if len(c.Objects) > 0 {
			out = append(out, c)
		}
	}
	for i := range sc.Cluster {
		c := clone()
		c.Cluster = append(c.Cluster[:i], c.Cluster[i+1:]...)
		out = append(out, c)
	}
	if half := sc.Duration / 2; half >= model.Duration(10*time.Minute) {
		c := clone()
		c.Duration = half
		trimTo(c)
		out = append(out, c)
	}
	for i, o := range sc.Objects {
		for j := range o.Events {
			c := clone()
			ev := c.Objects[i].Events
			c.Objects[i].Events = append(ev[:j], ev[j+1:]...)
			out = append(out, c)
		}
		for j, e := range o.Events {
			if e.Took > 0 {
				c := clone()
				c.Objects[i].Events[j].Took = 0
				out = append(out, c)
			}
		}
	}
	return out
}

// trimTo drops what happens after the scenario's end.
func trimTo(sc *scenario.Scenario) {
	for i := range sc.Objects {
		var kept []scenario.Event
		for _, e := range sc.Objects[i].Events {
			if e.At+e.Took <= sc.Duration {
				kept = append(kept, e)
			}
		}
		sc.Objects[i].Events = kept
	}
	var kept []scenario.ClusterEvent
	for _, c := range sc.Cluster {
		if c.At <= sc.Duration {
			kept = append(kept, c)
		}
	}
	sc.Cluster = kept
}

// valid checks a candidate as loading its file would.
func valid(sc *scenario.Scenario) error {
	text, err := yaml.Marshal(sc)
	if err != nil {
		return err
	}
	_, err = scenario.Parse("candidate", text, scenario.Limits{})
	return err
}

// encode writes the counterexample as a scenario file.
func encode(sc *scenario.Scenario, what string, opts Options) (string, error) {
	b, err := yaml.Marshal(sc)
	if err != nil {
		return "", err
	}
	var head strings.Builder
	fmt.Fprintf(&head, "# Found by gotk-rules verify (seed %d): %s\n", opts.Seed, what)
	fmt.Fprintf(&head, "# Replay it: gotk-rules replay THIS_FILE --rules %s\n", strings.Join(opts.RuleFiles, " --rules "))
	return head.String() + string(b), nil
}
