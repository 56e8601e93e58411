package scenario

import (
	"time"

	"github.com/prometheus/prometheus/model/labels"
)

// Episode is a stretch of time an object really was failing: from a
// reconcile that ends Ready=False to the next one that ends Ready=True, or
// the object's deletion. A transient Unknown while reconciling does not end
// it. End is the scenario's end when the failure never ended (Open).
type Episode struct {
	Object int
	Start  time.Duration
	End    time.Duration
	Open   bool
}

// Episodes returns the failure episodes of every object, in object then time
// order. With excludeSuspended, time an object spends suspended is not
// failure time: an episode is cut at suspension and resumes at resumption.
func (s *Scenario) Episodes(excludeSuspended bool) []Episode {
	var out []Episode
	for i := range s.Objects {
		out = append(out, s.objectEpisodes(i, excludeSuspended)...)
	}
	return out
}

func (s *Scenario) objectEpisodes(i int, excludeSuspended bool) []Episode {
	o := &s.Objects[i]
	var out []Episode
	failing, suspended := false, false
	var start time.Duration
	open := func(t time.Duration) {
		if failing && !(excludeSuspended && suspended) {
			start = t
		}
	}
	closeAt := func(t time.Duration) {
		if failing && !(excludeSuspended && suspended) && t > start {
			out = append(out, Episode{Object: i, Start: start, End: t})
		}
	}
	for _, e := range o.Events {
		switch {
		case e.Reconcile != "":
			end := d(e.At + e.Took)
			switch e.Reconcile {
			case "False":
				if !failing {
					failing = true
					open(end)
				}
			case "True":
				closeAt(end)
				failing = false
			}
		case e.Suspend:
			if excludeSuspended && !suspended {
				closeAt(d(e.At))
			}
			suspended = true
		case e.Resume:
			if suspended {
				suspended = false
				if excludeSuspended {
					open(d(e.At))
				}
			}
		case e.Delete:
			closeAt(d(e.At))
			failing = false
		}
	}
	if failing && !(excludeSuspended && suspended) && d(s.Duration) > start {
		out = append(out, Episode{Object: i, Start: start, End: d(s.Duration), Open: true})
	}
	return out
}

// Matches reports whether an alert's labels name object o. The alert must
// carry the object's name; a kind (kind or customresource_kind) and a
// namespace (exported_namespace, else object_namespace, else namespace) it
// carries must agree. Under PodMonitor scraping a namespace equal to the
// exporter's own says nothing about the object, so it matches any object
// of that name.
func (s *Scenario) Matches(alert labels.Labels, o *Object) bool {
	if alert.Get("name") != o.Name {
		return false
	}
	for _, k := range []string{"kind", "customresource_kind"} {
		if v := alert.Get(k); v != "" && v != o.Kind {
			return false
		}
	}
	for _, k := range []string{"exported_namespace", "object_namespace"} {
		if v := alert.Get(k); v != "" {
			return v == o.Namespace
		}
	}
	if v := alert.Get("namespace"); v != "" && v != o.Namespace {
		return s.Scrape == ScrapePodMonitor && (v == s.ControllerNamespace || v == "monitoring")
	}
	return true
}
