package backtest

import (
	"bytes"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// warnFault answers the query_range requests of expr whose range holds t
// as Thanos 0.40 does with a store gateway down: success, an empty result
// and a warning.
func warnFault(expr string, t time.Time, warning string) func(http.ResponseWriter, *http.Request) bool {
	return func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path != "/api/v1/query_range" || r.Form.Get("query") != expr {
			return false
		}
		start, end := parseAPITime(r.Form.Get("start")), parseAPITime(r.Form.Get("end"))
		if t.Before(start) || t.After(end) {
			return false
		}
		writeJSON(w, map[string]any{"status": "success", "data": map[string]any{"resultType": "matrix", "result": []any{}}, "warnings": []string{warning}})
		return true
	}
}

func TestPartialResponseFails(t *testing.T) {
	f := newFakeServer(t, upSeries(t)...)
	const warning = "No StoreAPIs matched for this query"
	f.setFault(warnFault("up == 0", min_(15), warning))
	c, _ := testClient(t, f.URL(), nil)
	_, err := run(t, c, []string{"testdata/rules.yml"}, epoch, min_(40), func(o *Options) { o.MaxPoints = 10 })
	var e *Error
	require.ErrorAs(t, err, &e)
	require.Equal(t, KindPartial, e.Kind)
	require.True(t, e.Usable(), "a partial answer is a failure along the way: exit 1")
	msg := err.Error()
	require.Contains(t, msg, "query_range up == 0")
	require.Contains(t, msg, "partial response from 1970-01-01T00:10:00Z to 1970-01-01T00:19:00Z")
	require.Contains(t, msg, warning)
	require.Contains(t, msg, "--allow-partial")

	reqs, _ := f.seen()
	for _, r := range reqs {
		require.Equal(t, "false", r.URL.Query().Get("partial_response"))
	}
}

func TestPartialResponseAllowed(t *testing.T) {
	f := newFakeServer(t, upSeries(t)...)
	const warning = "receive series from Addr: 127.0.0.1:10901: rpc error: code = Unavailable"
	f.setFault(warnFault("up == 0", min_(15), warning))
	c, _ := testClient(t, f.URL(), nil)
	res, err := run(t, c, []string{"testdata/rules.yml"}, epoch, min_(40), func(o *Options) { o.MaxPoints, o.AllowPartial = 10, true })
	require.NoError(t, err)
	require.Equal(t, []PartialRange{{Query: "up == 0", Start: min_(10), End: min_(19), Warning: warning}}, res.Partial)
	require.Contains(t, res.Warnings, warning)
	// The data of 10m..19m is missing: Down never fires.
	for _, a := range res.Timeline.Alerts {
		require.NotEqual(t, "Down", a.Alert)
	}

	var text bytes.Buffer
	require.NoError(t, res.WriteText(&text))
	require.Contains(t, text.String(), "PARTIAL: the server answered 1 query partially (--allow-partial)")
	require.Contains(t, text.String(), "up == 0 from 1970-01-01T00:10:00Z to 1970-01-01T00:19:00Z: "+warning)
	js := res.JSON()
	require.Equal(t, []JSONPartial{{Query: "up == 0", Start: "1970-01-01T00:10:00Z", End: "1970-01-01T00:19:00Z", Warning: warning}}, js.Partial)
	var page bytes.Buffer
	require.NoError(t, res.WriteHTML(&page, 800))
	require.Contains(t, page.String(), `<section id="partial">`)
	require.Contains(t, page.String(), "1970-01-01T00:19:00Z")
}

func TestHarmlessWarnings(t *testing.T) {
	for w, partial := range map[string]bool{
		"No StoreAPIs matched for this query":                                                                 true,
		"fetching series from store: context deadline exceeded":                                               true,
		"PromQL warning: encountered a mix of histograms and floats for aggregation":                          false,
		"PromQL info: metric might not be a counter, name does not end in _total/_sum/_count/_bucket: \"up\"": false,
		"something new from an engine":                                                                        true,
	} {
		require.Equal(t, partial, IsPartialWarning(w), w)
	}
	f := newFakeServer(t, upSeries(t)...)
	const info = "PromQL info: metric might not be a counter"
	f.setFault(warnFault("up == 0", min_(15), info))
	c, _ := testClient(t, f.URL(), nil)
	res, err := run(t, c, []string{"testdata/rules.yml"}, epoch, min_(40), nil)
	require.NoError(t, err)
	require.Equal(t, []string{info}, res.Warnings)
	require.Empty(t, res.Partial)
}

func TestDedupAndReplicaLabels(t *testing.T) {
	ss := upSeries(t)
	ss = append(ss, mustSeries(t, `up{instance="c",job="node",prometheus_replica="r1"}`, "0x40"))
	f := newFakeServer(t, ss...)
	c, _ := testClient(t, f.URL(), func(o *ClientOptions) {
		o.Dedup = "true"
		o.ReplicaLabels = []string{"prometheus_replica", "rule_replica"}
	})
	res, err := run(t, c, []string{"testdata/rules.yml"}, epoch, min_(40), func(o *Options) { o.ReplicaLabels = []string{"cluster_replica"} })
	require.NoError(t, err)
	reqs, _ := f.seen()
	require.NotEmpty(t, reqs)
	for _, r := range reqs {
		q := r.URL.Query()
		require.Equal(t, "true", q.Get("dedup"))
		require.Equal(t, []string{"prometheus_replica", "rule_replica"}, q["replicaLabels[]"])
	}
	require.Equal(t, []ReplicaLabel{
		{Alert: "AlsoDown", Label: "prometheus_replica", Values: []string{"r1"}},
		{Alert: "Down", Label: "prometheus_replica", Values: []string{"r1"}},
	}, res.Replicas)
	require.Contains(t, res.Replicas[0].String(), "--dedup")

	// Without dedup set, nothing is sent.
	f2 := newFakeServer(t, upSeries(t)...)
	c2, _ := testClient(t, f2.URL(), nil)
	res, err = run(t, c2, []string{"testdata/rules.yml"}, epoch, min_(40), nil)
	require.NoError(t, err)
	require.Empty(t, res.Replicas)
	reqs, _ = f2.seen()
	for _, r := range reqs {
		require.False(t, r.URL.Query().Has("dedup"))
		require.False(t, r.URL.Query().Has("replicaLabels[]"))
	}
}

// tooManySamples refuses range queries of more than max points as
// Prometheus does when --query.max-samples is passed.
func tooManySamples(max int, refused *atomic.Int64) func(http.ResponseWriter, *http.Request) bool {
	return func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path != "/api/v1/query_range" {
			return false
		}
		start, end := parseAPITime(r.Form.Get("start")), parseAPITime(r.Form.Get("end"))
		step, _ := strconv.ParseFloat(r.Form.Get("step"), 64)
		if int(end.Sub(start).Seconds()/step)+1 <= max {
			return false
		}
		refused.Add(1)
		apiError(w, http.StatusUnprocessableEntity, "execution", "query processing would load too many samples into memory in query execution")
		return true
	}
}

func TestTooLargeQueriesAreSplit(t *testing.T) {
	f := newFakeServer(t, upSeries(t)...)
	var refused atomic.Int64
	f.setFault(tooManySamples(12, &refused))
	c, _ := testClient(t, f.URL(), nil)
	files := []string{"testdata/rules.yml"}
	res, err := run(t, c, files, epoch, min_(40), func(o *Options) { o.CompareAlerts = true })
	require.NoError(t, err)
	require.Equal(t, localReplay(t, files, epoch, min_(40), upSeries(t)...).Alerts, res.Timeline.Alerts)
	require.Positive(t, res.Splits)
	require.EqualValues(t, res.Splits, refused.Load(), "each refusal halves once")
	require.Zero(t, res.Stats.Retries, "a refusal as too large is not retried as is")
	for _, rc := range f.rangeCalls() {
		if rc.points() <= 12 {
			continue
		}
		// Only the refused ones are larger: 41 points, then 20 and 21.
		require.Contains(t, []int{41, 20, 21}, rc.points())
	}
	var text bytes.Buffer
	require.NoError(t, res.WriteText(&text))
	require.Contains(t, text.String(), "halved as too large for the server")
}

func TestSplittingIsBounded(t *testing.T) {
	f := newFakeServer(t, upSeries(t)...)
	var refused atomic.Int64
	f.setFault(tooManySamples(0, &refused))
	c, _ := testClient(t, f.URL(), nil)
	_, err := run(t, c, []string{"testdata/rules.yml"}, epoch, min_(40), func(o *Options) { o.MaxSplitDepth = 2 })
	var e *Error
	require.ErrorAs(t, err, &e)
	require.Equal(t, KindQuery, e.Kind)
	require.Contains(t, err.Error(), "too many samples")
	require.Contains(t, err.Error(), "after halving the range 2 times")
	require.Contains(t, err.Error(), "--max-split-depth")
	// Depth 2: at most 1 + 2 + 4 requests for the first expression's chunk.
	require.LessOrEqual(t, refused.Load(), int64(7*2))

	// Negative: never split.
	refused.Store(0)
	_, err = run(t, c, []string{"testdata/rules.yml"}, epoch, min_(40), func(o *Options) { o.MaxSplitDepth = -1 })
	require.ErrorContains(t, err, "after halving the range 0 times")
	require.True(t, strings.Contains(err.Error(), "too many samples"))
}
