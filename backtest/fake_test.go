package backtest

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/stretchr/testify/require"

	"github.com/gotk-rules/gotk-rules/evaluator"
	"github.com/gotk-rules/gotk-rules/series"
)

// fakeServer speaks the Prometheus query API over series held in an
// evaluator session, with Prometheus' own PromQL engine: what a real server
// would answer, plus hooks for faults.
type fakeServer struct {
	t    *testing.T
	srv  *httptest.Server
	sess *evaluator.Session
	qe   *promql.Engine

	faultMu  sync.Mutex // faults run one at a time
	mu       sync.Mutex
	ranges   []rangeCall
	instants int
	requests []*http.Request
	inFlight int
	maxIn    int
	// delay holds every answer this long.
	delay time.Duration
	// fault, when set, may answer a request itself (returning true).
	fault func(w http.ResponseWriter, r *http.Request) bool
	// prefix is the API's base path, such as Mimir's /prometheus.
	prefix string
}

type rangeCall struct {
	query      string
	start, end time.Time
	step       time.Duration
}

func (c rangeCall) points() int { return int(c.end.Sub(c.start)/c.step) + 1 }

func newFakeServer(t *testing.T, ss ...series.Series) *fakeServer {
	t.Helper()
	return startFakeServer(t, false, ss...)
}

func startFakeServer(t *testing.T, useTLS bool, ss ...series.Series) *fakeServer {
	t.Helper()
	eng := evaluator.NewEngine(evaluator.Options{})
	sess, err := eng.NewSession(evaluator.SessionOptions{})
	require.NoError(t, err)
	t.Cleanup(func() { sess.Close() })
	sess.AddSeries(ss...)
	require.NoError(t, sess.AppendTill(time.Unix(math.MaxInt32, 0)))
	f := &fakeServer{t: t, sess: sess, qe: promql.NewEngine(promql.EngineOpts{
		MaxSamples: 50_000_000, Timeout: time.Minute, LookbackDelta: 5 * time.Minute,
		NoStepSubqueryIntervalFn: func(int64) int64 { return time.Minute.Milliseconds() },
		EnableAtModifier:         true, EnableNegativeOffset: true, Parser: eng.Parser(),
	})}
	f.srv = httptest.NewUnstartedServer(http.HandlerFunc(f.serve))
	if useTLS {
		f.srv.StartTLS()
	} else {
		f.srv.Start()
	}
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeServer) URL() string { return f.srv.URL }

func (f *fakeServer) setFault(fault func(http.ResponseWriter, *http.Request) bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fault = fault
}

func (f *fakeServer) setDelay(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.delay = d
}

func (f *fakeServer) setPrefix(p string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.prefix = p
}

func (f *fakeServer) seen() (reqs []*http.Request, maxInFlight int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*http.Request(nil), f.requests...), f.maxIn
}

func (f *fakeServer) rangeCalls() []rangeCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]rangeCall(nil), f.ranges...)
}

func (f *fakeServer) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.inFlight++
	f.maxIn = max(f.maxIn, f.inFlight)
	f.requests = append(f.requests, r.Clone(context.Background()))
	fault, delay, prefix := f.fault, f.delay, f.prefix
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.inFlight--
		f.mu.Unlock()
	}()
	// The body first: only then does the server notice a client that hangs up.
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
	}
	if fault != nil {
		f.faultMu.Lock()
		handled := fault(w, r)
		f.faultMu.Unlock()
		if handled {
			return
		}
	}
	switch {
	case r.URL.Path == prefix+"/api/v1/query_range":
		start, end := parseAPITime(r.Form.Get("start")), parseAPITime(r.Form.Get("end"))
		stepSec, _ := strconv.ParseFloat(r.Form.Get("step"), 64)
		step := time.Duration(stepSec * float64(time.Second))
		f.mu.Lock()
		f.ranges = append(f.ranges, rangeCall{query: r.Form.Get("query"), start: start, end: end, step: step})
		f.mu.Unlock()
		if end.Sub(start)/step > 11000 {
			apiError(w, http.StatusBadRequest, "bad_data", "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)")
			return
		}
		q, err := f.qe.NewRangeQuery(r.Context(), f.sess.Storage(), nil, r.Form.Get("query"), start, end, step)
		f.answer(w, r, q, err)
	case r.URL.Path == prefix+"/api/v1/query":
		f.mu.Lock()
		f.instants++
		f.mu.Unlock()
		q, err := f.qe.NewInstantQuery(r.Context(), f.sess.Storage(), nil, r.Form.Get("query"), parseAPITime(r.Form.Get("time")))
		f.answer(w, r, q, err)
	default:
		http.NotFound(w, r)
	}
}

func (f *fakeServer) answer(w http.ResponseWriter, r *http.Request, q promql.Query, err error) {
	if err != nil {
		apiError(w, http.StatusBadRequest, "bad_data", err.Error())
		return
	}
	defer q.Close()
	res := q.Exec(r.Context())
	if res.Err != nil {
		apiError(w, http.StatusUnprocessableEntity, "execution", res.Err.Error())
		return
	}
	writeSuccess(w, res.Value)
}

func parseAPITime(s string) time.Time {
	v, _ := strconv.ParseFloat(s, 64)
	return time.UnixMilli(int64(math.Round(v * 1000))).UTC()
}

func apiError(w http.ResponseWriter, code int, typ, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]string{"status": "error", "errorType": typ, "error": msg})
}

// writeSuccess writes a query result as Prometheus' API does.
func writeSuccess(w http.ResponseWriter, v parser.Value) {
	var typ string
	var result any
	switch v := v.(type) {
	case promql.Matrix:
		typ = "matrix"
		out := []map[string]any{}
		for _, s := range v {
			vals := [][2]any{}
			for _, p := range s.Floats {
				vals = append(vals, point(p.T, p.F))
			}
			out = append(out, map[string]any{"metric": s.Metric.Map(), "values": vals})
		}
		result = out
	case promql.Vector:
		typ = "vector"
		out := []map[string]any{}
		for _, s := range v {
			out = append(out, map[string]any{"metric": s.Metric.Map(), "value": point(s.T, s.F)})
		}
		result = out
	case promql.Scalar:
		typ = "scalar"
		result = point(v.T, v.V)
	default:
		apiError(w, http.StatusBadRequest, "bad_data", fmt.Sprintf("unsupported result %T", v))
		return
	}
	writeJSON(w, map[string]any{"status": "success", "data": map[string]any{"resultType": typ, "result": result}})
}

func point(t int64, v float64) [2]any {
	return [2]any{json.Number(strconv.FormatFloat(float64(t)/1000, 'f', -1, 64)), strconv.FormatFloat(v, 'f', -1, 64)}
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// mustSeries parses one series in promtool notation, from the epoch every minute.
func mustSeries(t *testing.T, metric, values string) series.Series {
	t.Helper()
	s, err := series.Parse(metric, values, time.Unix(0, 0), time.Minute)
	require.NoError(t, err)
	return s
}
