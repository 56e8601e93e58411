package sandbox

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/common/model"

	gotkrules "github.com/gotk-rules/gotk-rules"
	"github.com/gotk-rules/gotk-rules/scenario"
	"github.com/gotk-rules/gotk-rules/timeline"
	"github.com/gotk-rules/gotk-rules/unittest"
)

func shipped(t *testing.T, p string) string {
	t.Helper()
	b, err := fs.ReadFile(gotkrules.Shipped, p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// The shipped rule and the failing-then-deleted scenario, as the page starts.
func defaultRequest(t *testing.T) Request {
	ex := Examples()[0]
	if !strings.Contains(ex.Name, "failing then deleted") {
		t.Fatalf("the first example is %q, want the failing-then-deleted scenario", ex.Name)
	}
	return Request{Rules: ex.Rules, Input: ex.Input}
}

// post sends v as JSON and decodes the answer into out.
func post(t *testing.T, srv *httptest.Server, path string, v, out any) *http.Response {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(srv.URL+path, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if out != nil {
		if err := json.Unmarshal(body, out); err != nil {
			t.Fatalf("%s: %d %s: %v", path, resp.StatusCode, body, err)
		}
	}
	return resp
}

func newTestServer(t *testing.T, o Options) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(New(o))
	t.Cleanup(srv.Close)
	return srv
}

func firstFiringOf(v *timeline.View, alert string) int64 {
	first := int64(-1)
	for _, a := range v.Alerts {
		if a.Alert != alert {
			continue
		}
		for _, s := range a.Spans {
			if s.State == "firing" && (first < 0 || s.StartMS < first) {
				first = s.StartMS
			}
		}
	}
	return first
}

// durString prints milliseconds as Prometheus prints durations (1h30m), for
// test messages.
func durString(ms int64) string {
	if ms < 0 {
		return "-" + model.Duration(time.Duration(-ms)*time.Millisecond).String()
	}
	return model.Duration(time.Duration(ms) * time.Millisecond).String()
}

func TestEvalDefaultExample(t *testing.T) {
	srv := newTestServer(t, Options{})
	var res Response
	resp := post(t, srv, "/api/eval", defaultRequest(t), &res)
	if resp.StatusCode != http.StatusOK || !res.OK {
		t.Fatalf("status %d, ok %v, problems %+v", resp.StatusCode, res.OK, res.Problems)
	}
	if res.Kind != KindScenario || res.View == nil {
		t.Fatalf("kind %q, view %v", res.Kind, res.View)
	}
	if got := firstFiringOf(res.View, "ReconciliationFailure"); got != (15 * time.Minute).Milliseconds() {
		t.Errorf("first firing at %s, want 15m", durString(got))
	}
	if len(res.View.Series) != 10 || len(res.View.Objects) != 2 {
		t.Errorf("%d series, %d objects; want 10 and 2", len(res.View.Series), len(res.View.Objects))
	}
	if len(res.Checks) != 5 {
		t.Errorf("%d checks, want the scenario's 5 expectations", len(res.Checks))
	}
	for _, c := range res.Checks {
		if !c.Passed || c.Line == 0 {
			t.Errorf("check %+v: want passed, with its line", c)
		}
	}
	// The guide's rule has lint findings at the expression's line.
	if res.LintStatus != "ok" || len(res.Lint) == 0 {
		t.Fatalf("lint %q: %+v", res.LintStatus, res.Lint)
	}
	for _, p := range res.Lint {
		if p.Editor != EditorRules || p.Line != 8 || p.Check == "" {
			t.Errorf("lint finding %+v: want in the rules editor at line 8, with its check", p)
		}
	}
	mustBeSVG(t, res.SVG)
}

func TestEvalWithoutForFiresEarlier(t *testing.T) {
	srv := newTestServer(t, Options{NoLint: true})
	req := defaultRequest(t)
	req.Rules = strings.Replace(req.Rules, "    for: 10m\n", "", 1)
	var res Response
	post(t, srv, "/api/eval", req, &res)
	if !res.OK {
		t.Fatalf("problems: %+v", res.Problems)
	}
	if got := firstFiringOf(res.View, "ReconciliationFailure"); got < 0 || got >= (15*time.Minute).Milliseconds() {
		t.Errorf("without for, first firing at %s, want before 15m", durString(got))
	}
	if res.LintStatus != "lint is off" || len(res.Lint) != 0 {
		t.Errorf("lint with NoLint: %q %+v", res.LintStatus, res.Lint)
	}
	// The scenario's expectations now fail, and say so at their line.
	failed := 0
	for _, c := range res.Checks {
		if !c.Passed {
			failed++
			if c.Message == "" || c.Line == 0 {
				t.Errorf("failed check without message or line: %+v", c)
			}
		}
	}
	if failed == 0 {
		t.Errorf("no expectation fails without for: %+v", res.Checks)
	}
}

func TestEvalPromtoolInput(t *testing.T) {
	srv := newTestServer(t, Options{NoLint: true})
	ex := Examples()[len(Examples())-1]
	var res Response
	post(t, srv, "/api/eval", Request{Rules: ex.Rules, Input: ex.Input}, &res)
	if !res.OK || res.Kind != KindPromtool {
		t.Fatalf("ok %v kind %q problems %+v", res.OK, res.Kind, res.Problems)
	}
	if got := firstFiringOf(res.View, "ReconciliationFailure"); got != (15 * time.Minute).Milliseconds() {
		t.Errorf("first firing at %s, want 15m", durString(got))
	}
	if len(res.Checks) != 3 {
		t.Fatalf("checks %+v, want the 3 alert_rule_test", res.Checks)
	}
	for _, c := range res.Checks {
		if !c.Passed || c.Kind != "alert" {
			t.Errorf("check %+v", c)
		}
	}
	// A wrong expectation fails at its line, with expected and got.
	input := strings.Replace(ex.Input, "severity: page", "severity: ticket", 1)
	post(t, srv, "/api/eval", Request{Rules: ex.Rules, Input: input}, &res)
	var bad *Check
	for i := range res.Checks {
		if !res.Checks[i].Passed {
			bad = &res.Checks[i]
		}
	}
	if bad == nil || bad.Line != 23 || len(bad.Expected) != 1 || len(bad.Got) != 1 || !strings.Contains(bad.Expected[0], `severity="ticket"`) {
		t.Errorf("failed assertion: %+v", bad)
	}
}

func TestEvalPromtoolForms(t *testing.T) {
	srv := newTestServer(t, Options{NoLint: true})
	rules := shipped(t, "rules/gitopstoolkit.yml")
	series := `- series: 'gotk_reconcile_condition{kind="Kustomization",name="a",namespace="n",type="Ready",status="False"}'
  values: '1x20'
- series: 'gotk_reconcile_condition{kind="Kustomization",name="a",namespace="n",type="Ready",status="Deleted"}'
  values: '0x20'
`
	group := "interval: 1m\ninput_series:\n" + indent(series, "  ")
	file := "tests:\n  - name: one\n    interval: 1m\n    input_series:\n" + indent(series, "      ") + "  - name: two\n    input_series:\n" + indent(series, "      ")
	for name, input := range map[string]string{"list": series, "group": group, "file": file} {
		t.Run(name, func(t *testing.T) {
			var res Response
			post(t, srv, "/api/eval", Request{Rules: rules, Input: input}, &res)
			if !res.OK {
				t.Fatalf("problems %+v", res.Problems)
			}
			if got := firstFiringOf(res.View, "ReconciliationFailure"); got != (10 * time.Minute).Milliseconds() {
				t.Errorf("first firing at %s, want 10m", durString(got))
			}
			if res.View.EndMS != (20 * time.Minute).Milliseconds() {
				t.Errorf("replay to %s, want to the series' end, 20m", durString(res.View.EndMS))
			}
			if name == "file" && (len(res.Groups) != 2 || len(res.Notes) == 0) {
				t.Errorf("groups %v notes %v: want both groups named and a note", res.Groups, res.Notes)
			}
		})
	}
	var res Response
	post(t, srv, "/api/eval", Request{Rules: rules, Input: file, Group: 1}, &res)
	if !res.OK || res.Group != 1 || res.View.Title != "two" {
		t.Errorf("group 1: ok %v group %d title %q", res.OK, res.Group, res.View.Title)
	}
}

func indent(s, by string) string {
	lines := strings.SplitAfter(s, "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = by + l
		}
	}
	return strings.Join(lines, "")
}

// Errors are shown where they are: in the editor, at their line.
func TestEvalErrorsAtTheirPlace(t *testing.T) {
	srv := newTestServer(t, Options{NoLint: true})
	req := defaultRequest(t)
	cases := []struct {
		name         string
		rules, input string
		editor       string
		line         int
		contains     string
	}{
		{"bad PromQL", strings.Replace(req.Rules, "== 1", "== 1 +", 1), req.Input, EditorRules, 8, "parse"},
		{"bad YAML in rules", req.Rules + "  - bogus: [\n", req.Input, EditorRules, 0, ""},
		{"unknown rule field", strings.Replace(req.Rules, "    for: 10m", "    fro: 10m", 1), req.Input, EditorRules, 0, "fro"},
		{"bad scenario field", req.Rules, strings.Replace(req.Input, "era: v2.0", "era: v9", 1), EditorInput, 5, "v9"},
		{"bad series values", req.Rules, "- series: 'up{job=\"a\"}'\n  values: '1 2 x3'\n", EditorInput, 2, "input_series[0]"},
		{"neither", req.Rules, "hello: world\n", EditorInput, 1, "neither"},
		{"empty input", req.Rules, "# nothing\n", EditorInput, 1, "empty"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var res Response
			resp := post(t, srv, "/api/eval", Request{Rules: c.rules, Input: c.input}, &res)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d", resp.StatusCode)
			}
			if res.OK || len(res.Problems) == 0 {
				t.Fatalf("ok %v problems %+v: want a problem", res.OK, res.Problems)
			}
			p := res.Problems[0]
			if p.Editor != c.editor || (c.line > 0 && p.Line != c.line) || p.Line == 0 || !strings.Contains(p.Message, c.contains) {
				t.Errorf("problem %+v: want in %s at line %d, saying %q", p, c.editor, c.line, c.contains)
			}
		})
	}
}

func TestEvalBudgets(t *testing.T) {
	req := defaultRequest(t)
	cases := []struct {
		name   string
		limits Limits
		want   string
	}{
		{"samples", Limits{MaxSamples: 100}, "samples"},
		{"series", Limits{MaxSeries: 3}, "series"},
		{"evaluations", Limits{MaxEvals: 10}, "--max-evals"},
		{"queries", Limits{MaxQueries: 5}, "queries"},
		{"timeout", Limits{Timeout: time.Nanosecond}, "--timeout"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := newTestServer(t, Options{NoLint: true, Limits: c.limits})
			var res Response
			post(t, srv, "/api/eval", req, &res)
			if res.OK || len(res.Problems) == 0 || !strings.Contains(res.Problems[0].Message, c.want) {
				t.Errorf("ok %v problems %+v: want a refusal mentioning %q", res.OK, res.Problems, c.want)
			}
		})
	}
}

// Template query calls count against the query budget.
func TestTemplateQueriesBounded(t *testing.T) {
	rules := `groups:
- name: g
  rules:
  - alert: A
    expr: up == 1
    annotations:
      many: '{{ range query "up" }}{{ range query "up" }}{{ range query "up" }}x{{ end }}{{ end }}{{ end }}'
`
	input := "- series: 'up{job=\"a\"}'\n  values: '1x10'\n"
	srv := newTestServer(t, Options{NoLint: true, Limits: Limits{MaxQueries: 20}})
	var res Response
	post(t, srv, "/api/eval", Request{Rules: rules, Input: input}, &res)
	if res.OK {
		anns := res.View.Alerts[0].Annotations["many"]
		if !strings.Contains(anns, "queries") {
			t.Fatalf("template queries went unbounded: %q", anns)
		}
		return
	}
	if !strings.Contains(res.Problems[0].Message, "queries") {
		t.Errorf("problems %+v: want the query budget", res.Problems)
	}
}

func TestExportPasses(t *testing.T) {
	srv := newTestServer(t, Options{NoLint: true})
	all := Examples()
	// The default scenario, a PodMonitor one with two rule files, a ksm one
	// and the promtool input.
	for _, ex := range []Example{all[0], all[4], all[6], all[len(all)-1]} {
		for _, broken := range []bool{false, true} {
			req := Request{Rules: ex.Rules, Input: ex.Input}
			if broken && ex.RulesName != "gitopstoolkit.yml" {
				continue
			}
			if broken {
				req.Rules = strings.ReplaceAll(req.Rules, "    for: 10m\n", "")
			}
			var res ExportResponse
			post(t, srv, "/api/export", req, &res)
			if !res.OK || !res.Passed {
				t.Fatalf("%s (broken %v): ok %v passed %v problems %+v report:\n%s", ex.Name, broken, res.OK, res.Passed, res.Problems, res.Report)
			}
			// The files pass on disk too, as `gotk-rules test` reads them.
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, res.RulesName), []byte(res.Rules), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, res.TestName), []byte(res.Test), 0o644); err != nil {
				t.Fatal(err)
			}
			r, _ := unittest.NewRunner(unittest.Options{})
			if out := r.Run(filepath.Join(dir, res.TestName)); out.ExitCode() != 0 {
				var b bytes.Buffer
				_ = unittest.WriteText(&b, out, false)
				t.Fatalf("%s: gotk-rules test on the exported files:\n%s", ex.Name, b.String())
			}
			if !strings.Contains(res.Test, "alert_rule_test") {
				t.Errorf("%s: no alert_rule_test in the export", ex.Name)
			}
		}
	}
	var res ExportResponse
	post(t, srv, "/api/export", Request{Rules: "groups: [", Input: "x"}, &res)
	if res.OK || len(res.Problems) == 0 {
		t.Errorf("export of broken rules: %+v", res)
	}
}

func TestVerifyEndpoint(t *testing.T) {
	srv := newTestServer(t, Options{NoLint: true, Limits: Limits{VerifyRuns: 2}})
	var res VerifyResponse
	post(t, srv, "/api/verify", VerifyRequest{Rules: shipped(t, "rules/gitopstoolkit.yml"), Eras: []scenario.Era{scenario.EraV21, scenario.EraKSM}, Scrapes: []scenario.Scrape{scenario.ScrapeDirect}}, &res)
	if !res.OK || res.Runs != 2 || len(res.Results) != 2 {
		t.Fatalf("ok %v runs %d results %d problems %+v", res.OK, res.Runs, len(res.Results), res.Problems)
	}
	// The guide's rule never fires on Flux 2.1 metrics: a counterexample
	// that loads as a scenario.
	found := false
	for _, r := range res.Results {
		if r.Era == "v2.1" && r.Verdict == "wrong" && r.Counterexample != nil {
			found = true
			var ev Response
			post(t, srv, "/api/eval", Request{Rules: shipped(t, "rules/gitopstoolkit.yml"), Input: r.Counterexample.Scenario}, &ev)
			if !ev.OK || ev.Kind != KindScenario {
				t.Errorf("the counterexample does not replay: %+v", ev.Problems)
			}
		}
	}
	if !found {
		t.Errorf("no v2.1 counterexample: %+v", res.Results)
	}
	post(t, srv, "/api/verify", VerifyRequest{Rules: "groups: ["}, &res)
	if res.OK || len(res.Problems) == 0 || res.Problems[0].Editor != EditorRules {
		t.Errorf("verify of broken rules: %+v", res)
	}
	post(t, srv, "/api/verify", VerifyRequest{Rules: shipped(t, "rules/gitopstoolkit.yml"), Eras: []scenario.Era{"v3"}}, &res)
	if res.OK || len(res.Problems) == 0 {
		t.Errorf("verify of an unknown era: %+v", res)
	}
}

func TestRequestChecks(t *testing.T) {
	srv := newTestServer(t, Options{NoLint: true, LoopbackOnly: true, Limits: Limits{MaxBody: 1024}})
	do := func(method, path, ctype, body string, hdr map[string]string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		for k, v := range hdr {
			if k == "Host" {
				req.Host = v
			} else {
				req.Header.Set(k, v)
			}
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	big := `{"rules":"` + strings.Repeat("x", 2048) + `","input":""}`
	cases := []struct {
		name                string
		method, path, ctype string
		body                string
		hdr                 map[string]string
		want                int
	}{
		{"too large", "POST", "/api/eval", "application/json", big, nil, http.StatusRequestEntityTooLarge},
		{"not JSON", "POST", "/api/eval", "text/plain", `{}`, nil, http.StatusUnsupportedMediaType},
		{"form post", "POST", "/api/eval", "application/x-www-form-urlencoded", `rules=x`, nil, http.StatusUnsupportedMediaType},
		{"bad JSON", "POST", "/api/eval", "application/json", `{"rules":`, nil, http.StatusBadRequest},
		{"unknown field", "POST", "/api/eval", "application/json", `{"rulez":"x"}`, nil, http.StatusBadRequest},
		{"cross origin", "POST", "/api/eval", "application/json", `{}`, map[string]string{"Origin": "http://evil.example"}, http.StatusForbidden},
		{"rebinding host", "GET", "/", "", "", map[string]string{"Host": "evil.example:9095"}, http.StatusMisdirectedRequest},
		{"GET on API", "GET", "/api/eval", "", "", nil, http.StatusMethodNotAllowed},
		{"no file system", "GET", "/assets/../../go.mod", "", "", nil, http.StatusNotFound},
		{"same origin", "POST", "/api/eval", "application/json", `{}`, map[string]string{"Origin": srv.URL}, http.StatusOK},
		{"localhost", "GET", "/", "", "", map[string]string{"Host": "localhost:9095"}, http.StatusOK},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if resp := do(c.method, c.path, c.ctype, c.body, c.hdr); resp.StatusCode != c.want {
				t.Errorf("status %d, want %d", resp.StatusCode, c.want)
			}
		})
	}
}

func TestPageAndAssets(t *testing.T) {
	srv := newTestServer(t, Options{NoLint: true})
	get := func(path string) (*http.Response, string) {
		t.Helper()
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	resp, body := get("/")
	if resp.StatusCode != 200 || !strings.Contains(body, `id="rules-text"`) || !strings.Contains(body, `id="input-text"`) {
		t.Fatalf("index: %d", resp.StatusCode)
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("CSP %q", csp)
	}
	// Everything the page loads is served from the binary: no CDN.
	for _, ref := range []string{"/assets/app.js", "/assets/app.css", "/assets/editor.js", "/assets/timeline.js", "/assets/timeline.css", "/assets/favicon.svg"} {
		if !strings.Contains(body, ref) && ref != "/assets/favicon.svg" {
			t.Errorf("index does not load %s", ref)
		}
		if r, b := get(ref); r.StatusCode != 200 || len(b) == 0 {
			t.Errorf("%s: %d", ref, r.StatusCode)
		}
	}
	// The picture's script and stylesheet are the timeline package's files.
	for _, name := range []string{"timeline.js", "timeline.css"} {
		want, err := fs.ReadFile(timeline.Assets(), name)
		if err != nil {
			t.Fatal(err)
		}
		if _, b := get("/assets/" + name); b != string(want) {
			t.Errorf("/assets/%s is not the timeline package's file", name)
		}
	}
	for _, name := range []string{"index.html", "app.js", "editor.js", "timeline.js", "app.css"} {
		b, err := fs.ReadFile(assetFS(), name)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), "http://") || strings.Contains(string(b), "https://") {
			for _, l := range strings.Split(string(b), "\n") {
				if (strings.Contains(l, "http://") || strings.Contains(l, "https://")) && !strings.Contains(l, "http://www.w3.org/2000/svg") {
					t.Errorf("%s refers to another site: %s", name, strings.TrimSpace(l))
				}
			}
		}
	}
	var d Defaults
	_, body = get("/api/defaults")
	if err := json.Unmarshal([]byte(body), &d); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(d.Example.Rules, "ReconciliationFailure") || !strings.Contains(d.Example.Input, "delete: true") || len(d.Examples) < 3 {
		t.Errorf("defaults: %+v", d.Example.Name)
	}
	if strings.Contains(d.Example.Input, "rule_files") {
		t.Errorf("the example input keeps rule_files, which the sandbox ignores")
	}
}

func TestPreloadedEditors(t *testing.T) {
	srv := newTestServer(t, Options{NoLint: true, Rules: "groups: []\n", RulesName: "mine.yml", Input: "objects: []\n", InputName: "in.yml"})
	resp, err := http.Get(srv.URL + "/api/defaults")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var d Defaults
	if err := json.NewDecoder(resp.Body).Decode(&d); err != nil {
		t.Fatal(err)
	}
	if d.Example.Rules != "groups: []\n" || d.Example.RulesName != "mine.yml" || d.Example.Input != "objects: []\n" {
		t.Errorf("preloaded: %+v", d.Example)
	}
}

// Concurrent requests share nothing: each gets the answer to its own rules.
func TestConcurrentRequestsAreIndependent(t *testing.T) {
	srv := newTestServer(t, Options{Limits: Limits{MaxConcurrent: 8}})
	base := defaultRequest(t)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			hold := 2 + i // minutes
			req := base
			req.Rules = strings.Replace(base.Rules, "for: 10m", fmt.Sprintf("for: %dm", hold), 1)
			req.Rules = strings.Replace(req.Rules, "severity: page", fmt.Sprintf("severity: s%d", i), 1)
			b, _ := json.Marshal(req)
			resp, err := http.Post(srv.URL+"/api/eval", "application/json", bytes.NewReader(b))
			if err != nil {
				errs <- err
				return
			}
			defer resp.Body.Close()
			var res Response
			if err := json.NewDecoder(resp.Body).Decode(&res); err != nil {
				errs <- err
				return
			}
			want := (time.Duration(5+hold) * time.Minute).Milliseconds()
			if got := firstFiringOf(res.View, "ReconciliationFailure"); got != want {
				errs <- fmt.Errorf("request %d: first firing %s, want %s", i, durString(got), durString(want))
			}
			if sev := res.View.Alerts[0].Labels["severity"]; sev != fmt.Sprintf("s%d", i) {
				errs <- fmt.Errorf("request %d got another request's labels: severity %q", i, sev)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func mustBeSVG(t *testing.T, svg string) {
	t.Helper()
	dec := xml.NewDecoder(strings.NewReader(svg))
	for {
		_, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("the SVG is not well-formed XML: %v\n%s", err, svg[:min(len(svg), 500)])
		}
	}
	if !strings.Contains(svg, `xmlns="http://www.w3.org/2000/svg"`) {
		t.Errorf("no SVG namespace")
	}
}

// Whatever half-typed text the editors hold, the answer says something.
func TestEvalHalfTypedText(t *testing.T) {
	s := New(Options{})
	req := defaultRequest(t)
	promtool := Examples()[len(Examples())-1].Input
	for _, text := range []string{req.Rules, req.Input, promtool} {
		for cut := 0; cut < len(text); cut += 53 {
			for _, r := range []Request{
				{Rules: text[:cut], Input: req.Input},
				{Rules: req.Rules, Input: text[:cut]},
			} {
				res := s.Evaluate(t.Context(), r)
				if res == nil || (!res.OK && len(res.Problems) == 0) {
					t.Fatalf("cut at %d: no view and no problem: %+v", cut, res)
				}
				for _, p := range append(res.Problems, res.Lint...) {
					if p.Message == "" || (p.Editor != "" && p.Line < 1) {
						t.Fatalf("cut at %d: problem without message or line: %+v", cut, p)
					}
				}
			}
		}
	}
}
