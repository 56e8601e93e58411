package backtest

import (
	"bytes"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestAnswerMarkedPartial(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		want       bool
	}{
		{"vm partial", `{"status":"success","isPartial":true,"data":{"resultType":"matrix","result":[]}}`, true},
		{"vm complete", `{"status":"success","isPartial":false,"data":{"resultType":"matrix","result":[]}}`, false},
		{"after the data", `{"status":"success","data":{"resultType":"vector","result":[{"metric":{"a":"b"},"value":[1,"1"]}]},"isPartial":true}`, true},
		{"spaces", "{ \"isPartial\" :\n true }", true},
		{"no field", `{"status":"success","data":{"resultType":"matrix","result":[]}}`, false},
		{"a label named isPartial", `{"status":"success","data":{"resultType":"vector","result":[{"metric":{"isPartial":"true"},"value":[1,"1"]}]}}`, false},
		{"not at the top", `{"status":"success","data":{"isPartial":true,"resultType":"matrix","result":[]}}`, false},
		{"not a bool", `{"isPartial":"true"}`, false},
		{"cut short", `{"status":"success","data":{"result":[`, false},
		{"not an object", `["isPartial", true]`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, answerMarkedPartial([]byte(tc.body)))
		})
	}
}

// markedFault answers the requests to path (query_range or query) of expr
// whose time or range holds t as VictoriaMetrics does when some of its
// storage nodes did not answer: success, an empty result, "isPartial":
// mark, and no warning.
func markedFault(path, expr string, t time.Time, mark bool) func(http.ResponseWriter, *http.Request) bool {
	return func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path != path || r.Form.Get("query") != expr {
			return false
		}
		typ := "vector"
		if path == "/api/v1/query_range" {
			typ = "matrix"
			start, end := parseAPITime(r.Form.Get("start")), parseAPITime(r.Form.Get("end"))
			if t.Before(start) || t.After(end) {
				return false
			}
		} else if !parseAPITime(r.Form.Get("time")).Equal(t) {
			return false
		}
		w.Header().Set("Content-Type", "application/json")
		// VictoriaMetrics' order: isPartial before the data.
		_, _ = w.Write([]byte(`{"status":"success","isPartial":` + map[bool]string{true: "true", false: "false"}[mark] +
			`,"data":{"resultType":"` + typ + `","result":[]}}`))
		return true
	}
}

func TestMarkedPartialAnswers(t *testing.T) {
	files := []string{"testdata/rules.yml"}
	for _, tc := range []struct {
		name  string
		fault func(http.ResponseWriter, *http.Request) bool
		allow bool
		// want: the error's text, or (allowed) the partial ranges.
		wantErr []string
		want    []PartialRange
	}{
		{
			name:    "range query refused",
			fault:   markedFault("/api/v1/query_range", "up == 0", min_(15), true),
			wantErr: []string{"query_range up == 0", "partial response from 1970-01-01T00:10:00Z to 1970-01-01T00:19:00Z", `"isPartial": true`, "--allow-partial"},
		},
		{
			name:  "range query allowed",
			fault: markedFault("/api/v1/query_range", "up == 0", min_(15), true),
			allow: true,
			want:  []PartialRange{{Query: "up == 0", Start: min_(10), End: min_(19), Warning: MarkedPartialWarning}},
		},
		{
			// The annotation's template query runs as an instant query
			// while Down fires (12m to 20m).
			name:    "instant query refused",
			fault:   markedFault("/api/v1/query", "sum(up)", min_(15), true),
			wantErr: []string{"query sum(up)", "partial response at 1970-01-01T00:15:00Z", `"isPartial": true`},
		},
		{
			name:  "instant query allowed",
			fault: markedFault("/api/v1/query", "sum(up)", min_(15), true),
			allow: true,
			want:  []PartialRange{{Query: "sum(up)", Start: min_(15), End: min_(15), Warning: MarkedPartialWarning}},
		},
		{
			name:  "isPartial false",
			fault: markedFault("/api/v1/query_range", "up == 0", min_(15), false),
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeServer(t, upSeries(t)...)
			f.setFault(tc.fault)
			c, _ := testClient(t, f.URL(), nil)
			res, err := run(t, c, files, epoch, min_(40), func(o *Options) { o.MaxPoints, o.AllowPartial = 10, tc.allow })
			if len(tc.wantErr) > 0 {
				var e *Error
				require.ErrorAs(t, err, &e)
				require.Equal(t, KindPartial, e.Kind)
				for _, s := range tc.wantErr {
					require.Contains(t, err.Error(), s)
				}
				require.NotContains(t, err.Error(), "the server warned", "isPartial is not a warning of the server's")
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, res.Partial)
			if tc.want == nil {
				require.Empty(t, res.Warnings)
			} else {
				require.Contains(t, res.Warnings, MarkedPartialWarning)
			}
		})
	}
}

// thanosStores answers GET /api/v1/stores as a Thanos querier does, from
// a list the test changes while the backtest runs.
type thanosStores struct {
	mu     sync.Mutex
	stores map[string][]map[string]any // per component type
	status int                         // 0: 200
	calls  int
}

func newThanosStores() *thanosStores {
	return &thanosStores{stores: map[string][]map[string]any{
		"store":   {{"name": "10.0.0.1:10901", "lastCheck": "2026-01-01T00:00:00Z", "lastError": nil, "labelSets": []any{}, "minTime": 0, "maxTime": 1}},
		"sidecar": {{"name": "10.0.0.2:10901", "lastCheck": "2026-01-01T00:00:00Z", "lastError": nil, "labelSets": []any{}, "minTime": 0, "maxTime": 1}},
	}}
}

// set changes the store named name: gone when lastError is "-".
func (s *thanosStores) set(name, lastError string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for typ, ss := range s.stores {
		for i, st := range ss {
			if st["name"] != name {
				continue
			}
			if lastError == "-" {
				s.stores[typ] = append(ss[:i:i], ss[i+1:]...)
			} else {
				st["lastError"] = lastError
			}
			return
		}
	}
}

func (s *thanosStores) serve(w http.ResponseWriter, r *http.Request) bool {
	if r.URL.Path != "/api/v1/stores" {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	if s.status != 0 {
		apiError(w, s.status, "unavailable", "unsupported path requested: /api/v1/stores")
		return true
	}
	writeJSON(w, map[string]any{"status": "success", "data": s.stores})
	return true
}

func (s *thanosStores) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

func TestThanosStoreLost(t *testing.T) {
	const store = "10.0.0.1:10901"
	files := []string{"testdata/rules.yml"}
	for _, tc := range []struct {
		name string
		// change, when set, is applied to the stores at the first
		// request that matches it.
		when   func(r *http.Request) bool
		change string // the store's lastError, "-" for gone
		opts   func(o *Options)
		status int // of /api/v1/stores, 0 for 200
		// wantErr: the error's text; want: (allowed) the partial ranges.
		wantErr  []string
		want     []PartialRange
		warnings []string
		checks   int // /api/v1/stores requests
	}{
		{name: "healthy", checks: 2},
		{
			name:    "dropped",
			when:    isRange,
			change:  "-",
			wantErr: []string{"checking the Thanos querier's stores", "partial response from 1970-01-01T00:00:00Z to 1970-01-01T00:40:00Z", "Thanos store 10.0.0.1:10901 (store) was dropped", "--endpoint-strict", "--allow-partial"},
			checks:  2,
		},
		{
			name:    "reports an error",
			when:    isRange,
			change:  "rpc error: code = Unavailable desc = connection refused",
			wantErr: []string{"Thanos store 10.0.0.1:10901 (store) reports an error: rpc error: code = Unavailable desc = connection refused"},
			checks:  2,
		},
		{
			name:   "dropped, allowed",
			when:   isRange,
			change: "-",
			opts:   func(o *Options) { o.AllowPartial = true },
			want:   []PartialRange{{Start: epoch, End: min_(40), Warning: droppedMessage(store)}},
			checks: 2,
		},
		{
			// Two shards, one at a time: the store is lost during the
			// second one, whose range (from its warm-up) is partial.
			name:   "dropped in the second shard",
			when:   func(r *http.Request) bool { return isRange(r) && !parseAPITime(r.Form.Get("start")).Before(min_(16)) },
			change: "-",
			opts:   func(o *Options) { o.AllowPartial, o.Shards, o.ShardConcurrency = true, 2, 1 },
			want:   []PartialRange{{Start: min_(16), End: min_(40), Warning: droppedMessage(store)}},
			checks: 3,
		},
		{
			name:   "dropped during the comparison with ALERTS",
			when:   func(r *http.Request) bool { return strings.HasPrefix(r.Form.Get("query"), "ALERTS") },
			change: "-",
			opts:   func(o *Options) { o.AllowPartial, o.CompareAlerts = true, true },
			want:   []PartialRange{{Start: epoch, End: min_(40), Warning: droppedMessage(store)}},
			checks: 3,
		},
		{
			// VictoriaMetrics: 400 "unsupported path".
			name: "not a Thanos querier", status: http.StatusBadRequest, checks: 1,
		},
		{
			name: "the list fails", status: http.StatusServiceUnavailable, checks: 4,
			warnings: []string{"the server's stores could not be listed"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeServer(t, upSeries(t)...)
			ts := newThanosStores()
			ts.status = tc.status
			var once sync.Once
			f.setFault(func(w http.ResponseWriter, r *http.Request) bool {
				if tc.when != nil && tc.when(r) {
					once.Do(func() { ts.set(store, tc.change) })
				}
				return ts.serve(w, r)
			})
			c, _ := testClient(t, f.URL(), nil)
			res, err := run(t, c, files, epoch, min_(40), func(o *Options) {
				o.MaxPoints = 10
				if tc.opts != nil {
					tc.opts(o)
				}
			})
			require.Equal(t, tc.checks, ts.count(), "/api/v1/stores requests")
			if len(tc.wantErr) > 0 {
				var e *Error
				require.ErrorAs(t, err, &e)
				require.Equal(t, KindPartial, e.Kind)
				require.True(t, e.Usable(), "exit 1")
				for _, s := range tc.wantErr {
					require.Contains(t, err.Error(), s)
				}
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, res.Partial)
			for _, p := range tc.want {
				require.Contains(t, res.Warnings, p.Warning)
			}
			for _, w := range tc.warnings {
				require.True(t, containsPrefix(res.Warnings, w), "%q in %q", w, res.Warnings)
			}
			if tc.want == nil && tc.warnings == nil {
				require.Empty(t, res.Warnings)
				require.Equal(t, localReplay(t, files, epoch, min_(40), upSeries(t)...).Alerts, res.Timeline.Alerts)
				return
			}
			var text bytes.Buffer
			require.NoError(t, res.WriteText(&text))
			if tc.want != nil {
				require.Contains(t, text.String(), "every query from "+rfc(tc.want[0].Start)+" to "+rfc(tc.want[0].End)+": Thanos store 10.0.0.1:10901")
				js := res.JSON()
				require.Equal(t, "", js.Partial[0].Query)
			}
		})
	}
}

func isRange(r *http.Request) bool { return r.URL.Path == "/api/v1/query_range" }

func droppedMessage(name string) string {
	return "Thanos store " + name + " (store) was dropped by the querier during the backtest (it failed its health checks; a querier with --endpoint rather than --endpoint-strict answers without the store's data, and without a warning)"
}

func containsPrefix(ss []string, prefix string) bool {
	for _, s := range ss {
		if strings.HasPrefix(s, prefix) {
			return true
		}
	}
	return false
}
