// Package sandbox is the rule-authoring sandbox of `gotk-rules serve`: one
// page, embedded in the binary, with an editor for a rule group and one for
// its input (a scenario or promtool input series), the replay drawn as
// series and pending/firing bands under a time cursor, lint findings at
// their line, verify's verdict per era and scrape setup, and an export of
// the rules with a test file that `gotk-rules test` passes.
//
// The picture itself is the timeline package's, which `gotk-rules replay`
// and `backtest` also draw with (--svg/--html); the sandbox serves its
// script and stylesheet with the page's own files.
//
// Every request is independent: it builds its own engine, loader, linter and
// storage, within the budgets of Limits, under a deadline, and only while
// fewer than Limits.MaxConcurrent others run.
package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	gotkrules "github.com/gotk-rules/gotk-rules"
	"github.com/gotk-rules/gotk-rules/evaluator"
)

// Options configure a sandbox server.
type Options struct {
	// Features are the PromQL features rules are parsed and run with.
	Features evaluator.Features
	Limits   Limits
	// Linter lints the rules editor (default: gotk-rules' linter). Set
	// NoLint to leave lint findings out.
	Linter Linter
	NoLint bool
	// Rules and Input preload the editors, named as RulesName and
	// InputName (default: the shipped GitOpsToolkit rule and the
	// failing-then-deleted scenario).
	Rules, Input         string
	RulesName, InputName string
	// LoopbackOnly refuses requests whose Host is not a loopback name, so
	// that a web page elsewhere cannot reach a loopback server through a
	// DNS name of its own (DNS rebinding).
	LoopbackOnly bool
}

// Server is the sandbox's HTTP handler.
type Server struct {
	opts      Options
	limits    Limits
	linter    Linter
	mux       *http.ServeMux
	verifying chan struct{}
	// slots holds a token per API request running (Limits.MaxConcurrent).
	slots chan struct{}
}

// New builds a server.
func New(o Options) *Server {
	s := &Server{opts: o, limits: o.Limits.withDefaults(), linter: o.Linter, verifying: make(chan struct{}, 1)}
	s.slots = make(chan struct{}, s.limits.MaxConcurrent)
	if s.linter == nil && !o.NoLint {
		s.linter = NewLinter(o.Features)
	}
	if o.NoLint {
		s.linter = nil
	}
	mux := http.NewServeMux()
	static := http.FileServerFS(assetFS())
	mux.Handle("GET /assets/", http.StripPrefix("/assets/", static))
	mux.HandleFunc("GET /{$}", s.index)
	mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/assets/favicon.svg", http.StatusMovedPermanently)
	})
	mux.HandleFunc("GET /api/defaults", s.defaults)
	evalLimit := deadline{s.limits.Timeout, "the evaluation", "--timeout"}
	mux.HandleFunc("POST /api/eval", s.limited(evalLimit, s.handleEval))
	mux.HandleFunc("POST /api/export", s.limited(evalLimit, s.handleExport))
	mux.HandleFunc("POST /api/verify", s.limited(deadline{s.limits.VerifyTimeout, "verify", "--verify-timeout, or fewer --verify-runs"}, s.handleVerify))
	s.mux = mux
	return s
}

// Limits returns the budgets in force.
func (s *Server) Limits() Limits { return s.limits }

// engine builds a fresh engine for one request.
func (s *Server) engine() *evaluator.Engine {
	return evaluator.NewEngine(evaluator.Options{Features: s.opts.Features, QueryTimeout: s.limits.Timeout})
}

// csp allows the page's own files only: no inline script, nothing from
// elsewhere.
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; " +
	"font-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// ServeHTTP checks the request's host and origin, then serves it.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", csp)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	if s.opts.LoopbackOnly && !loopbackHost(r.Host) {
		writeError(w, http.StatusMisdirectedRequest, "this sandbox listens on loopback and answers only to localhost, 127.0.0.1 or [::1]")
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		if o := r.Header.Get("Origin"); o != "" && !sameOrigin(o, r.Host) {
			writeError(w, http.StatusForbidden, "cross-origin requests are refused")
			return
		}
	}
	defer func() {
		// Whatever went wrong, the page gets words to show.
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			writeError(w, http.StatusInternalServerError, fmt.Sprintf("internal error (please report it): %v", p))
		}
	}()
	s.mux.ServeHTTP(w, r)
}

func loopbackHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func sameOrigin(origin, host string) bool {
	u, err := url.Parse(origin)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && strings.EqualFold(u.Host, host)
}

func (s *Server) index(w http.ResponseWriter, r *http.Request) {
	b, err := fs.ReadFile(assetFS(), "index.html")
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	_, _ = w.Write(b)
}

// Example is a rules and input pair the page offers.
type Example struct {
	Name      string `json:"name"`
	Rules     string `json:"rules"`
	RulesName string `json:"rules_name"`
	Input     string `json:"input"`
	InputName string `json:"input_name"`
}

// Defaults is what the page starts with.
type Defaults struct {
	Example  Example   `json:"example"`
	Examples []Example `json:"examples"`
	Limits   struct {
		TimeoutMS  int64  `json:"timeout_ms"`
		MaxSamples uint64 `json:"max_samples"`
		MaxSeries  int    `json:"max_series"`
		MaxEvals   int64  `json:"max_evals"`
		VerifyRuns int    `json:"verify_runs"`
		Lint       bool   `json:"lint"`
	} `json:"limits"`
}

func (s *Server) defaults(w http.ResponseWriter, r *http.Request) {
	d := Defaults{Examples: Examples()}
	d.Example = d.Examples[0]
	if s.opts.Rules != "" {
		d.Example.Rules, d.Example.RulesName = s.opts.Rules, s.opts.RulesName
		d.Example.Name = "from the command line"
	}
	if s.opts.Input != "" {
		d.Example.Input, d.Example.InputName = s.opts.Input, s.opts.InputName
		d.Example.Name = "from the command line"
	}
	d.Limits.TimeoutMS = s.limits.Timeout.Milliseconds()
	d.Limits.MaxSamples = s.limits.MaxSamples
	d.Limits.MaxSeries = s.limits.MaxSeries
	d.Limits.MaxEvals = s.limits.MaxEvals
	d.Limits.VerifyRuns = s.limits.VerifyRuns
	d.Limits.Lint = s.linter != nil
	writeJSON(w, http.StatusOK, d)
}

var (
	ruleFilesLine = regexp.MustCompile(`(?m)^rule_files:\s*\[(.*)\]\s*\n`)
	scenarioName  = regexp.MustCompile(`(?m)^scenario:\s*(.*)$`)
)

// Examples are the shipped scenarios with the rules they are about (several
// rule files as one multi-document file), the failing-then-deleted one
// first, and a promtool input.
func Examples() []Example {
	read := func(p string) string {
		b, err := fs.ReadFile(gotkrules.Shipped, p)
		if err != nil {
			return ""
		}
		return string(b)
	}
	first := "testdata/series/classic-v20-failing-then-deleted.scenario.yml"
	files, _ := fs.Glob(gotkrules.Shipped, gotkrules.ShippedScenarios)
	sort.SliceStable(files, func(i, j int) bool { return files[i] == first && files[j] != first })
	var out []Example
	for _, f := range files {
		text := read(f)
		ex := Example{Name: path.Base(f), Input: text, InputName: path.Base(f), Rules: read("rules/gitopstoolkit.yml"), RulesName: "gitopstoolkit.yml"}
		if m := scenarioName.FindStringSubmatch(text); m != nil {
			ex.Name = strings.Trim(strings.TrimSpace(m[1]), `"'`)
		}
		if m := ruleFilesLine.FindStringSubmatch(text); m != nil {
			var docs, names []string
			for _, rf := range strings.Split(m[1], ",") {
				p := path.Join("rules", path.Base(strings.Trim(strings.TrimSpace(rf), `"'`)))
				if b := read(p); b != "" {
					docs, names = append(docs, strings.TrimRight(b, "\n")+"\n"), append(names, path.Base(p))
				}
			}
			if len(docs) > 0 {
				ex.Rules, ex.RulesName = strings.Join(docs, "---\n"), strings.Join(names, "+")
			}
			ex.Input = ruleFilesLine.ReplaceAllString(text, "")
		}
		out = append(out, ex)
	}
	out = append(out, Example{
		Name:  "promtool input: a failing Kustomization, deleted",
		Rules: read("rules/gitopstoolkit.yml"), RulesName: "gitopstoolkit.yml",
		Input: mustAsset("examples/promtool-input.yml"), InputName: "promtool-input.yml",
	})
	return out
}

// decode reads a JSON request body within the size limit.
func decode(w http.ResponseWriter, r *http.Request, limit int64, v any) bool {
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		writeError(w, http.StatusUnsupportedMediaType, "send JSON (Content-Type: application/json)")
		return false
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, limit))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("the request is larger than the sandbox's limit of %d bytes (gotk-rules serve --max-body)", limit))
			return false
		}
		writeError(w, http.StatusBadRequest, "bad request: "+err.Error())
		return false
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		writeError(w, http.StatusBadRequest, "bad request: more than one JSON value")
		return false
	}
	return true
}

func (s *Server) handleEval(w http.ResponseWriter, r *http.Request) (func(context.Context) any, bool) {
	var req Request
	if !decode(w, r, s.limits.MaxBody, &req) {
		return nil, false
	}
	return func(ctx context.Context) any { return s.Evaluate(ctx, req) }, true
}

func (s *Server) handleExport(w http.ResponseWriter, r *http.Request) (func(context.Context) any, bool) {
	var req Request
	if !decode(w, r, s.limits.MaxBody, &req) {
		return nil, false
	}
	return func(ctx context.Context) any { return s.Export(ctx, req) }, true
}

func (s *Server) handleVerify(w http.ResponseWriter, r *http.Request) (func(context.Context) any, bool) {
	var req VerifyRequest
	if !decode(w, r, s.limits.MaxBody, &req) {
		return nil, false
	}
	return func(ctx context.Context) any { return s.Verify(ctx, req) }, true
}

// deadline is the time an API request may take, what it is about and the
// flag that sets it, for the message of a request past it.
type deadline struct {
	limit time.Duration
	what  string
	flag  string
}

// stopGrace is how long past its deadline a request's work has to stop
// and word its own answer; after, the server answers for it.
const stopGrace = 500 * time.Millisecond

// retryAfter is the Retry-After of a request refused for lack of a slot,
// in seconds.
const retryAfter = 1

// handler reads an API request and returns its work, or answers the
// request itself (a bad request) and returns false.
type handler func(w http.ResponseWriter, r *http.Request) (work func(context.Context) any, ok bool)

// limited serves an API request within the sandbox's limits. It takes one
// of the Limits.MaxConcurrent slots, or answers 429 with Retry-After at
// once. The work runs under a context that ends at the deadline and when
// the client goes away; the answer comes when the work returns, or at the
// deadline plus stopGrace, whichever is first. The slot is freed when the
// work has returned, so that the slots bound the memory in use, not only
// the requests answered.
func (s *Server) limited(d deadline, h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		select {
		case s.slots <- struct{}{}:
		default:
			w.Header().Set("Retry-After", strconv.Itoa(retryAfter))
			writeError(w, http.StatusTooManyRequests, fmt.Sprintf("the sandbox is busy: %d requests are running, its limit (gotk-rules serve --max-concurrent); try again shortly", cap(s.slots)))
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), d.limit)
		defer cancel()
		work, ok := func() (work func(context.Context) any, ok bool) {
			defer func() {
				if !ok { // answered already, or panicking
					<-s.slots
				}
			}()
			return h(w, r)
		}()
		if !ok {
			return
		}
		type answer struct {
			v     any
			panic any
		}
		done := make(chan answer, 1)
		go func() {
			defer func() { <-s.slots }()
			defer func() {
				if p := recover(); p != nil {
					done <- answer{panic: p}
				}
			}()
			done <- answer{v: work(ctx)}
		}()
		var a answer
		select {
		case a = <-done:
		case <-ctx.Done():
			grace := time.NewTimer(stopGrace)
			defer grace.Stop()
			select {
			case a = <-done:
			case <-grace.C:
				if errors.Is(ctx.Err(), context.DeadlineExceeded) {
					writeError(w, http.StatusServiceUnavailable, fmt.Sprintf("%s took longer than the sandbox's limit of %s (gotk-rules serve %s)", d.what, d.limit, d.flag))
				}
				return
			}
		}
		if a.panic != nil {
			writeError(w, http.StatusInternalServerError, fmt.Sprintf("internal error (please report it): %v", a.panic))
			return
		}
		writeJSON(w, http.StatusOK, a.v)
	}
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// errorBody is the server's own answer: to a request it refuses, and for
// work that has not answered by its deadline and stopGrace. The page
// shows error; ok and problems say the same to a client that reads the
// answer as a Response or VerifyResponse, so that no answer that is not
// OK comes without saying why.
type errorBody struct {
	Error    string    `json:"error"`
	OK       bool      `json:"ok"`
	Problems []Problem `json:"problems"`
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, errorBody{Error: msg, Problems: []Problem{{Severity: "error", Message: msg}}})
}

// Serve answers on ln until ctx ends, then shuts down gracefully.
func Serve(ctx context.Context, ln net.Listener, h http.Handler, lim Limits) error {
	lim = lim.withDefaults()
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      lim.VerifyTimeout + lim.Timeout + 30*time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
		return nil
	}
}
