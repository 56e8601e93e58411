// Package backtest replays alerting rules over the history a Prometheus
// query API holds (Prometheus, Thanos Query, Mimir, ...): every rule query is
// answered by that server, from query_range requests fetched a chunk of
// evaluations at a time, and the `for` / `keep_firing_for` state machine,
// templates and ALERTS run locally in Prometheus' own rules package, through
// an evaluator session.
package backtest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/gotk-rules/gotk-rules/internal/boundedio"
)

// Defaults of ClientOptions.
const (
	DefaultTimeout     = 2 * time.Minute
	DefaultRetries     = 3
	DefaultConcurrency = 4
	DefaultBackoff     = 500 * time.Millisecond
	DefaultMaxBackoff  = 10 * time.Second
)

// ClientOptions say how to reach a server that speaks the Prometheus query API.
type ClientOptions struct {
	// URL is the API's base: requests go to URL/api/v1/query_range
	// (for Mimir, the URL ends in its prefix, such as /prometheus).
	URL string
	// Headers are sent with every request ("X-Scope-OrgID: tenant").
	Headers http.Header
	// BearerToken, when set, is sent as "Authorization: Bearer TOKEN".
	BearerToken string
	// TLS configures https; nil for the system's roots.
	TLS *tls.Config
	// Timeout bounds one HTTP request (default 2m); it is also passed to
	// the server as the query's timeout.
	Timeout time.Duration
	// Retries is how often a request answered 429 or 5xx, or cut off by
	// the network, is tried again (default 3; negative for none).
	Retries int
	// Backoff is the wait before the first retry, doubled for each next
	// one up to MaxBackoff, with jitter; a Retry-After header is honoured
	// up to MaxBackoff (defaults 500ms and 10s).
	Backoff, MaxBackoff time.Duration
	// Concurrency bounds the requests in flight at once (default 4).
	Concurrency int
	// Transport, when set, replaces the default HTTP transport (TLS is then ignored).
	Transport http.RoundTripper
	// Limits bound each response (zero fields: the defaults).
	Limits ResponseLimits
	// Dedup, when "true" or "false", is sent as the dedup parameter of
	// every query: Thanos Query then merges (or keeps apart) the series of
	// replicas that differ only in a replica label. Empty: not sent (the
	// querier's default).
	Dedup string
	// ReplicaLabels are sent as replicaLabels[] parameters: the labels
	// Thanos Query deduplicates on (its --query.replica-label otherwise).
	ReplicaLabels []string
}

// TLSOptions are the TLS flags, as files.
type TLSOptions struct {
	CAFile, CertFile, KeyFile string
	InsecureSkipVerify        bool
	ServerName                string
}

// Config builds a TLS configuration, reading the files within the default
// input limits (ConfigWithin); nil when nothing is set.
func (o TLSOptions) Config() (*tls.Config, error) {
	return o.ConfigWithin(boundedio.Limits{})
}

// ParseHeader reads a "Name: value" header flag.
func ParseHeader(s string) (string, string, error) {
	name, value, ok := strings.Cut(s, ":")
	name = strings.TrimSpace(name)
	if !ok || name == "" || strings.ContainsAny(name, " \t\r\n") {
		return "", "", fmt.Errorf("--header %q: want \"Name: value\"", s)
	}
	value = strings.TrimSpace(value)
	if strings.ContainsAny(value, "\r\n") {
		return "", "", fmt.Errorf("--header %q: the value has a line break", s)
	}
	return http.CanonicalHeaderKey(name), value, nil
}

// ReadBearerToken reads a token file, as Prometheus' bearer_token_file,
// within the default input limits (ReadBearerTokenWithin).
func ReadBearerToken(path string) (string, error) {
	return ReadBearerTokenWithin(path, boundedio.Limits{})
}

// Kind classifies what went wrong talking to the server.
type Kind int

// Kinds of errors. The first ones (up to KindNotAPI) mean the server cannot
// be used as given: fix the URL, network, credentials or TLS options.
const (
	KindUnreachable Kind = iota + 1 // no connection: refused, no such host
	KindTLS                         // the TLS handshake failed
	KindAuth                        // 401 or 403
	KindNotFound                    // 404: not the base URL of a query API
	KindNotAPI                      // the answer is not a Prometheus API response
	KindTimeout                     // a request took longer than the timeout
	KindServer                      // 429 or 5xx, still after the retries
	KindQuery                       // the server refused or failed the query (bad_data, execution)
	KindMalformed                   // a response that does not hold what was asked
	KindTooLarge                    // a response over a budget (ResponseLimits)
	KindPartial                     // the server said its answer is partial (a warning), without --allow-partial
)

// Error is a failed exchange with the server.
type Error struct {
	Kind Kind
	// Op is the request, as "query_range ALERTS{...}".
	Op     string
	URL    string
	Status int // HTTP status, when there was one
	Msg    string
	Err    error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.URL)
	if e.Op != "" {
		b.WriteString(": " + e.Op)
	}
	b.WriteString(": " + e.Msg)
	if e.Err != nil && !strings.Contains(e.Msg, e.Err.Error()) {
		b.WriteString(": " + e.Err.Error())
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Usable says whether the error means the server cannot be used as given
// (unreachable, wrong URL, authentication, TLS, not a query API) rather than
// a failure along the way.
func (e *Error) Usable() bool { return e.Kind > KindNotAPI }

// Stats count the requests made.
type Stats struct {
	Requests int64 // HTTP requests, retries included
	Retries  int64
	Bytes    int64 // response bodies
}

// Client queries a Prometheus API with retries, a concurrency limit and
// clear errors.
type Client struct {
	opts ClientOptions
	api  v1.API
	hc   *httpClient // what api runs on, for the requests it does not know
	sem  chan struct{}
	base string // URL without credentials, for messages

	requests, retries, bytes atomic.Int64
	// answered is set once a response was read as an API response: a
	// bad one after that is malformed, not a wrong URL.
	answered atomic.Bool
	// sleep waits between retries; tests replace it.
	sleep func(ctx context.Context, d time.Duration) error
	// inFlight and maxInFlight observe the concurrency limit.
	inFlight, maxInFlight atomic.Int64
}

// NewClient checks the options and builds a client.
func NewClient(opts ClientOptions) (*Client, error) {
	u, err := url.Parse(opts.URL)
	if err != nil {
		return nil, fmt.Errorf("--url %q: %w", opts.URL, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("--url %q: want an http:// or https:// URL", opts.URL)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("--url %q: no host", opts.URL)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("--url %q: want the API's base URL, without query or fragment", opts.URL)
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.Retries == 0 {
		opts.Retries = DefaultRetries
	}
	if opts.Retries < 0 {
		opts.Retries = 0
	}
	if opts.Backoff <= 0 {
		opts.Backoff = DefaultBackoff
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = DefaultMaxBackoff
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = DefaultConcurrency
	}
	opts.Limits = opts.Limits.withDefaults()
	if opts.BearerToken != "" && opts.Headers.Get("Authorization") != "" {
		return nil, errors.New("--bearer-token-file and an Authorization --header: give one")
	}
	rt := opts.Transport
	if rt == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.TLSClientConfig = opts.TLS
		tr.MaxIdleConnsPerHost = opts.Concurrency
		rt = tr
	}
	c := &Client{opts: opts, sem: make(chan struct{}, opts.Concurrency), sleep: sleepCtx}
	shown := *u
	shown.User = nil
	c.base = strings.TrimRight(shown.String(), "/")
	rt = &limitTransport{rt: rt, limit: opts.Limits.Bytes, base: c.base}
	inner, err := api.NewClient(api.Config{Address: opts.URL, RoundTripper: rt})
	if err != nil {
		return nil, fmt.Errorf("--url %q: %w", opts.URL, err)
	}
	c.hc = &httpClient{c: c, inner: inner}
	c.api = v1.NewAPI(c.hc)
	return c, nil
}

// URL is the server's base URL, without credentials.
func (c *Client) URL() string { return c.base }

// Stats returns the requests made so far.
func (c *Client) Stats() Stats {
	return Stats{Requests: c.requests.Load(), Retries: c.retries.Load(), Bytes: c.bytes.Load()}
}

// MaxInFlight is the most requests that were in flight at once.
func (c *Client) MaxInFlight() int { return int(c.maxInFlight.Load()) }

// Check asks the server a trivial query, so that a wrong URL, credentials or
// TLS setting fail at once with a clear error.
func (c *Client) Check(ctx context.Context, at time.Time) error {
	_, _, err := c.Query(ctx, "vector(1)", at)
	var e *Error
	if errors.As(err, &e) {
		e.Op = "checking the server with query vector(1)"
	}
	return err
}

// Query runs an instant query; the result is a vector (scalars become one
// sample without labels).
func (c *Client) Query(ctx context.Context, expr string, at time.Time) (model.Vector, v1.Warnings, error) {
	op := "query " + clip(expr, 80)
	ctx, marked := withPartialMark(ctx)
	val, warns, err := c.api.Query(ctx, expr, at, v1.WithTimeout(c.opts.Timeout))
	if err != nil {
		return nil, warns, c.classify(op, err)
	}
	c.answered.Store(true)
	if marked.Load() {
		warns = append(warns, MarkedPartialWarning)
	}
	switch v := val.(type) {
	case model.Vector:
		if err := c.checkVector(op, v); err != nil {
			return nil, warns, err
		}
		return v, warns, nil
	case *model.Scalar:
		return model.Vector{{Metric: model.Metric{}, Value: v.Value, Timestamp: v.Timestamp}}, warns, nil
	case nil:
		return nil, warns, &Error{Kind: KindNotAPI, Op: op, URL: c.base, Msg: "the response has no result: is --url a Prometheus query API?"}
	default:
		return nil, warns, &Error{Kind: KindMalformed, Op: op, URL: c.base, Msg: fmt.Sprintf("want a vector or scalar result, got a %s", val.Type())}
	}
}

// QueryRange runs a range query from start to end, both included.
func (c *Client) QueryRange(ctx context.Context, expr string, start, end time.Time, step time.Duration) (model.Matrix, v1.Warnings, error) {
	op := "query_range " + clip(expr, 80)
	ctx, marked := withPartialMark(ctx)
	val, warns, err := c.api.QueryRange(ctx, expr, v1.Range{Start: start, End: end, Step: step}, v1.WithTimeout(c.opts.Timeout))
	if err != nil {
		return nil, warns, c.classify(op, err)
	}
	c.answered.Store(true)
	if marked.Load() {
		warns = append(warns, MarkedPartialWarning)
	}
	switch v := val.(type) {
	case model.Matrix:
		if err := c.checkMatrix(op, v); err != nil {
			return nil, warns, err
		}
		return v, warns, nil
	case nil:
		return nil, warns, &Error{Kind: KindMalformed, Op: op, URL: c.base, Msg: "the response has no result"}
	default:
		return nil, warns, &Error{Kind: KindMalformed, Op: op, URL: c.base, Msg: fmt.Sprintf("want a matrix result, got a %s", val.Type())}
	}
}

// classify turns what the API client returned into an *Error.
func (c *Client) classify(op string, err error) error {
	var e *Error
	if errors.As(err, &e) {
		out := *e
		out.Op = op
		return &out
	}
	if errors.Is(err, context.Canceled) {
		return err
	}
	var apiErr *v1.Error
	if errors.As(err, &apiErr) {
		switch apiErr.Type {
		case v1.ErrBadResponse:
			if c.answered.Load() {
				return &Error{Kind: KindMalformed, Op: op, URL: c.base, Msg: "malformed response (cut short, or not JSON)", Err: errors.New(apiErr.Msg)}
			}
			return &Error{Kind: KindNotAPI, Op: op, URL: c.base, Msg: "the response is not a Prometheus API response (is --url the API's base URL?)", Err: errors.New(apiErr.Msg)}
		case v1.ErrTimeout:
			return &Error{Kind: KindTimeout, Op: op, URL: c.base, Msg: "the server timed out the query: " + apiErr.Msg}
		case v1.ErrBadData, v1.ErrExec, v1.ErrCanceled:
			return &Error{Kind: KindQuery, Op: op, URL: c.base, Msg: fmt.Sprintf("the server refused the query (%s): %s", apiErr.Type, apiErr.Msg)}
		default:
			msg := apiErr.Msg
			if apiErr.Detail != "" {
				msg += ": " + clip(strings.TrimSpace(apiErr.Detail), 200)
			}
			return &Error{Kind: KindServer, Op: op, URL: c.base, Msg: fmt.Sprintf("%s (%s)", msg, apiErr.Type)}
		}
	}
	// The API client decodes the data after its own checks: a result it
	// cannot read.
	if !c.answered.Load() {
		return &Error{Kind: KindNotAPI, Op: op, URL: c.base, Msg: "the response is not a Prometheus API response (is --url the API's base URL?)", Err: err}
	}
	return &Error{Kind: KindMalformed, Op: op, URL: c.base, Msg: "malformed response", Err: err}
}

// httpClient is the api.Client the v1 API runs on: headers, retries,
// timeouts, the concurrency limit and error classification.
type httpClient struct {
	c     *Client
	inner api.Client
}

func (h *httpClient) URL(ep string, args map[string]string) *url.URL { return h.inner.URL(ep, args) }

func (h *httpClient) Do(ctx context.Context, req *http.Request) (*http.Response, []byte, error) {
	c := h.c
	for k, vs := range c.opts.Headers {
		if k == "Host" && len(vs) > 0 {
			req.Host = vs[0]
			continue
		}
		req.Header[k] = vs
	}
	if c.opts.BearerToken != "" {
		req.Header.Set("Authorization", "Bearer "+c.opts.BearerToken)
	}
	// Thanos Query: fail rather than answer from some stores only (other
	// engines ignore the parameter; a warning that still says the answer
	// is partial fails the backtest: see partial.go).
	q := req.URL.Query()
	if q.Get("partial_response") == "" {
		q.Set("partial_response", "false")
	}
	if c.opts.Dedup != "" {
		q.Set("dedup", c.opts.Dedup)
	}
	for _, l := range c.opts.ReplicaLabels {
		q.Add("replicaLabels[]", l)
	}
	req.URL.RawQuery = q.Encode()
	for attempt := 0; ; attempt++ {
		resp, body, err := h.once(ctx, req)
		retry, final := h.judge(ctx, resp, body, err)
		if !retry || attempt >= c.opts.Retries {
			if final != nil {
				return resp, body, final
			}
			if resp != nil && resp.StatusCode == http.StatusOK {
				if m, ok := ctx.Value(partialMarkKey{}).(*atomic.Bool); ok && answerMarkedPartial(body) {
					m.Store(true)
				}
			}
			return resp, body, nil
		}
		c.retries.Add(1)
		wait := min(c.opts.Backoff<<attempt, c.opts.MaxBackoff)
		wait = wait/2 + rand.N(wait/2+1) // jitter: several clients do not retry in step
		if resp != nil {
			if ra := retryAfter(resp.Header.Get("Retry-After")); ra > 0 {
				wait = min(ra, c.opts.MaxBackoff)
			}
		}
		if err := c.sleep(ctx, wait); err != nil {
			return nil, nil, err
		}
	}
}

// once makes one attempt under the concurrency limit and the timeout.
func (h *httpClient) once(ctx context.Context, req *http.Request) (*http.Response, []byte, error) {
	c := h.c
	select {
	case c.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, nil, ctx.Err()
	}
	n := c.inFlight.Add(1)
	for {
		m := c.maxInFlight.Load()
		if n <= m || c.maxInFlight.CompareAndSwap(m, n) {
			break
		}
	}
	defer func() {
		c.inFlight.Add(-1)
		<-c.sem
	}()
	actx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	r := req.Clone(actx)
	if req.GetBody != nil {
		body, err := req.GetBody()
		if err != nil {
			return nil, nil, err
		}
		r.Body = body
	}
	c.requests.Add(1)
	resp, body, err := h.inner.Do(actx, r)
	c.bytes.Add(int64(len(body)))
	if err != nil && ctx.Err() == nil && errors.Is(actx.Err(), context.DeadlineExceeded) {
		err = &Error{Kind: KindTimeout, URL: c.base, Msg: fmt.Sprintf("no complete answer within %s (raise --timeout, or shorten the queries with a smaller --max-points)", c.opts.Timeout)}
	}
	return resp, body, err
}

// judge says whether an attempt is worth retrying, and the error to return
// when it is the last.
func (h *httpClient) judge(ctx context.Context, resp *http.Response, body []byte, err error) (bool, error) {
	c := h.c
	if err != nil {
		var e *Error
		switch {
		case ctx.Err() != nil:
			return false, ctx.Err()
		case errors.As(err, &e):
			return false, err
		}
		if k, msg := netKind(err); k != 0 {
			return false, &Error{Kind: k, URL: c.base, Msg: msg, Err: err}
		}
		// Cut off mid-answer (reset, unexpected EOF): worth another try.
		return true, &Error{Kind: KindServer, URL: c.base, Msg: "the connection broke", Err: err}
	}
	code := resp.StatusCode
	switch {
	case code == http.StatusUnauthorized:
		return false, &Error{Kind: KindAuth, URL: c.base, Status: code, Msg: "401 Unauthorized: the server wants credentials (--bearer-token-file, or --header \"Authorization: ...\")" + detail(body)}
	case code == http.StatusForbidden:
		return false, &Error{Kind: KindAuth, URL: c.base, Status: code, Msg: "403 Forbidden: the credentials are refused (check --bearer-token-file and --header, such as X-Scope-OrgID)" + detail(body)}
	case code == http.StatusNotFound:
		return false, &Error{Kind: KindNotFound, URL: c.base, Status: code, Msg: fmt.Sprintf("404 Not Found at %s: is --url the base URL of a Prometheus query API? (gotk-rules adds /api/v1/query_range; Mimir's is under /prometheus)", resp.Request.URL.Path)}
	case code == http.StatusTooManyRequests || (code >= 500 && code != http.StatusNotImplemented):
		msg := fmt.Sprintf("%d %s", code, http.StatusText(code))
		if m := apiErrorMessage(body); m != "" {
			msg += ": " + m
		} else {
			msg += detail(body)
		}
		if code == http.StatusServiceUnavailable && apiErrorType(body) == string(v1.ErrTimeout) {
			return false, &Error{Kind: KindTimeout, URL: c.base, Status: code, Msg: "the server timed out the query: " + msg}
		}
		if c.opts.Retries > 0 {
			msg += fmt.Sprintf(" (tried %d times)", c.opts.Retries+1)
		}
		return true, &Error{Kind: KindServer, URL: c.base, Status: code, Msg: msg}
	}
	return false, nil
}

// netKind recognises errors that mean no connection can be made.
func netKind(err error) (Kind, string) {
	var dnsErr *net.DNSError
	var opErr *net.OpError
	var certErr *tls.CertificateVerificationError
	var recErr tls.RecordHeaderError
	var unknownAuth x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	switch {
	case errors.As(err, &certErr), errors.As(err, &unknownAuth), errors.As(err, &hostErr):
		return KindTLS, "TLS: the server's certificate is not trusted (--tls-ca-file, or --tls-insecure-skip-verify)"
	case errors.As(err, &recErr):
		return KindTLS, "TLS: the server does not speak TLS (use http://)"
	case errors.As(err, &dnsErr):
		return KindUnreachable, "cannot reach the server: no such host"
	case errors.As(err, &opErr) && opErr.Op == "dial":
		return KindUnreachable, "cannot reach the server"
	case strings.Contains(err.Error(), "tls: "):
		return KindTLS, "TLS handshake failed"
	case strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"):
		return KindTLS, "TLS: the server answered in plain HTTP (use http://)"
	}
	return 0, ""
}

func detail(body []byte) string {
	s := strings.TrimSpace(string(body))
	if s == "" || !isText(s) {
		return ""
	}
	return ": " + clip(s, 200)
}

func isText(s string) bool {
	for _, r := range s {
		if r < 0x20 && r != '\n' && r != '\r' && r != '\t' {
			return false
		}
	}
	return true
}

func apiErrorMessage(body []byte) string {
	var r struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(body, &r) != nil {
		return ""
	}
	return r.Error
}

func apiErrorType(body []byte) string {
	var r struct {
		ErrorType string `json:"errorType"`
	}
	if json.Unmarshal(body, &r) != nil {
		return ""
	}
	return r.ErrorType
}

// retryAfter reads a Retry-After header in seconds or as an HTTP date.
func retryAfter(v string) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return time.Until(t)
	}
	return 0
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func clip(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
