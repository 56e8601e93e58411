package backtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"
)

// A Thanos querier started with --endpoint (not --endpoint-strict) stops
// asking a store that fails its health check (every 5s), and answers from
// the others `success`, without the store's data and without a warning,
// until it drops the store from its list (--store.unhealthy-timeout, 5m).
// Nothing in the answers tells. So when the server is a Thanos querier (it
// answers GET /api/v1/stores), the backtest lists its stores when it
// starts and again after each shard's queries (and after the comparison
// with ALERTS): a store listed at the start that is gone, or that reports
// an error (its lastError), makes the range just queried a partial answer,
// naming the store. A store gone and back between two lists, while no
// query failed on it, goes unnoticed. Servers without the endpoint
// (Prometheus, VictoriaMetrics, Mimir: 404 or another error status) are
// not checked.

// thanosStorePrefix starts the messages about a lost store.
const thanosStorePrefix = "Thanos store "

// storeStatus is one store of a Thanos querier's list.
type storeStatus struct {
	Name string
	// Type is the component: store, sidecar, rule, receive, query...
	Type      string
	LastError string
}

// storesAnswer is the body of Thanos Query's GET /api/v1/stores: the
// stores per component type.
type storesAnswer struct {
	Status string `json:"status"`
	Data   map[string][]struct {
		Name      string  `json:"name"`
		LastError *string `json:"lastError"`
	} `json:"data"`
}

// Stores lists the stores of a Thanos querier (GET /api/v1/stores), by
// name. ok is false when the server has no such list (an error status other
// than 429 or 5xx, or an answer that is not one): it is not a Thanos
// querier.
func (c *Client) Stores(ctx context.Context) (map[string]storeStatus, bool, error) {
	const op = "listing the Thanos querier's stores (/api/v1/stores)"
	u := c.hc.URL("/api/v1/stores", nil)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, false, &Error{Kind: KindMalformed, Op: op, URL: c.base, Msg: "cannot build the request", Err: err}
	}
	resp, body, err := c.hc.Do(ctx, req)
	var e *Error
	switch {
	case errors.As(err, &e) && e.Kind == KindNotFound:
		return nil, false, nil
	case errors.As(err, &e):
		out := *e
		out.Op = op
		return nil, false, &out
	case err != nil:
		return nil, false, err
	case resp.StatusCode != http.StatusOK:
		return nil, false, nil
	}
	var a storesAnswer
	if json.Unmarshal(body, &a) != nil || a.Status != "success" || a.Data == nil {
		return nil, false, nil
	}
	out := map[string]storeStatus{}
	for typ, ss := range a.Data {
		for _, s := range ss {
			st := storeStatus{Name: s.Name, Type: typ}
			if s.LastError != nil {
				st.LastError = *s.LastError
				if st.LastError == "" {
					st.LastError = "an error"
				}
			}
			out[s.Name] = st
		}
	}
	return out, true, nil
}

// storeWatch is the stores a Thanos querier listed when the backtest
// started.
type storeWatch struct {
	c     *Client
	start map[string]storeStatus
}

// watchStores lists the server's stores; nil when it is not a Thanos
// querier, with a warning when the list failed otherwise.
func watchStores(ctx context.Context, c *Client) (*storeWatch, string, error) {
	start, ok, err := c.Stores(ctx)
	if cerr := ctx.Err(); cerr != nil {
		return nil, "", cerr
	}
	if err != nil {
		return nil, fmt.Sprintf("the server's stores could not be listed (%v): a Thanos store lost during the backtest would go unnoticed", err), nil
	}
	if !ok {
		return nil, "", nil
	}
	return &storeWatch{c: c, start: start}, "", nil
}

// check lists the stores again: each store of the start that is gone or
// reports an error makes from..to a partial answer, returned when
// allowPartial, else an error of KindPartial naming the first.
func (w *storeWatch) check(ctx context.Context, from, to time.Time, allowPartial bool) ([]PartialRange, error) {
	now, ok, err := w.c.Stores(ctx)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, &Error{Kind: KindMalformed, Op: "listing the Thanos querier's stores (/api/v1/stores)", URL: w.c.base,
			Msg: "the server listed its stores when the backtest started, and no longer does"}
	}
	names := make([]string, 0, len(w.start))
	for n := range w.start {
		names = append(names, n)
	}
	sort.Strings(names)
	var out []PartialRange
	for _, n := range names {
		was := w.start[n]
		var msg string
		if cur, ok := now[n]; !ok {
			msg = fmt.Sprintf("%s%s (%s) was dropped by the querier during the backtest (it failed its health checks; a querier with --endpoint rather than --endpoint-strict answers without the store's data, and without a warning)",
				thanosStorePrefix, n, was.Type)
		} else if cur.LastError != "" {
			msg = fmt.Sprintf("%s%s (%s) reports an error: %s (a querier with --endpoint rather than --endpoint-strict answers without the store's data, and without a warning)",
				thanosStorePrefix, n, cur.Type, strings.TrimSpace(cur.LastError))
		} else {
			continue
		}
		p := PartialRange{Start: from.UTC(), End: to.UTC(), Warning: msg}
		if !allowPartial {
			return nil, partialError(w.c.base, "checking the Thanos querier's stores (/api/v1/stores)", p)
		}
		out = append(out, p)
	}
	return out, nil
}
