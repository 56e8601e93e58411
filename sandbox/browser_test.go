package sandbox

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/gotk-rules/gotk-rules/unittest"
)

// Environment of the browser test.
const (
	// envChromium names the browser binary (default: /usr/bin/chromium,
	// else chromium, chromium-browser or google-chrome on PATH).
	envChromium = "GOTK_CHROMIUM"
	// envRequireBrowser makes a missing browser a failure, not a skip.
	envRequireBrowser = "GOTK_REQUIRE_BROWSER"
	// envScreenshot is where to save the page's screenshot (PNG), for the
	// README; the test saves it in a temporary directory anyway.
	envScreenshot = "GOTK_SANDBOX_SCREENSHOT"
)

// findChromium returns the browser to drive, or skips the test saying why.
func findChromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv(envChromium); p != "" {
		return p
	}
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	msg := "no Chromium to drive: not at /usr/bin/chromium nor on PATH (install it with `apt-get install -y chromium`, as .ci/run does, or set " + envChromium + ")"
	if os.Getenv(envRequireBrowser) != "" {
		t.Fatal(msg)
	}
	t.Skip("skipping the browser test: " + msg)
	return ""
}

// newBrowser starts headless Chromium with a fresh profile.
func newBrowser(t *testing.T, path string) (context.Context, context.CancelFunc) {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("force-color-profile", "srgb"),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 800),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	if err := chromedp.Do(ctx); err != nil {
		cancelCtx()
		cancelAlloc()
		msg := fmt.Sprintf("Chromium at %s does not start: %v", path, err)
		if os.Getenv(envRequireBrowser) != "" {
			t.Fatal(msg)
		}
		t.Skip("skipping the browser test: " + msg)
	}
	return ctx, func() { cancelCtx(); cancelAlloc() }
}

// firstFiring is the earliest start of a firing band on the page, in ms.
const firstFiring = `(() => {
  const starts = [...document.querySelectorAll("#chart rect.tl-firing[data-start]")].map(r => +r.dataset.start);
  return starts.length ? Math.min(...starts) : -1;
})()`

// waitReplay waits until the page has answered more than n replays.
func waitReplay(n int) chromedp.Action[chromedp.Void] {
	return chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`body[data-eval-seq]:not([data-eval-seq="%d"]):not([data-state="running"])`, n)))
}

// TestBrowserBreakFixExport drives the page in headless Chromium as a person
// would: the shipped rule on the failing-then-deleted scenario fires at 15m;
// deleting its `for` makes it fire earlier; export writes a test file that
// gotk-rules' runner passes on the downloaded files; the share link restores
// both editors.
func TestBrowserBreakFixExport(t *testing.T) {
	chromium := findChromium(t)
	srv := httptest.NewServer(New(Options{LoopbackOnly: true, Limits: Limits{VerifyRuns: 3}}))
	defer srv.Close()
	bctx, cancel := newBrowser(t, chromium)
	defer cancel()
	ctx, cancelTimeout := context.WithTimeout(bctx, 50*time.Second)
	defer cancelTimeout()
	downloads := t.TempDir()
	shots := t.TempDir()
	must := func(err error, what string) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	eval := func(expr, what string) float64 {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[float64](expr))
		must(err, what)
		return v
	}
	text := func(a chromedp.Action[string], what string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, a)
		must(err, what)
		return v
	}

	_, err := chromedp.Call(ctx, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{Width: 1280, Height: 800, DeviceScaleFactor: 1})
	must(err, "set the viewport to 1280x800")
	_, err = chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "dark"}}})
	must(err, "emulate a dark system theme")
	yes := true
	_, err = chromedp.CallBrowser(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{Behavior: browser.SetDownloadBehaviorBehaviorAllow, DownloadPath: downloads, EventsEnabled: &yes})
	must(err, "allow downloads")
	must(chromedp.Do(ctx,
		chromedp.Navigate(srv.URL+"/"),
		waitReplay(0),
		// Verify's table, for the screenshot.
		chromedp.WaitVisible(chromedp.CSS(`body[data-verify="done"] #verify table`)),
	), "load the page")
	before := eval(firstFiring, "read the first firing")
	if before != float64(15*time.Minute/time.Millisecond) {
		t.Fatalf("with for: 10m, the alert should first fire at 15m, got %s", durString(int64(before)))
	}
	if n := eval(`document.querySelectorAll("#rules-problems li").length`, "count lint findings"); n == 0 {
		t.Errorf("no lint finding is shown for the guide's rule")
	}

	// A lint finding in the list jumps to its place in the editor.
	must(chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#rules-problems li button`))), "click a lint finding")
	if st := text(chromedp.Text(chromedp.ID("rules-status")), "read the editor's status"); !strings.HasPrefix(st, "Ln 8, Col 15 · warning") {
		t.Errorf("after clicking the first finding, the editor's status says %q, want the finding at 8:15", st)
	}
	// The cursor at 20m reads the alert as firing.
	box, err := chromedp.Run(ctx, chromedp.Evaluate[[]float64](`(() => { const s = document.querySelector("#chart svg"); const r = s.getBoundingClientRect();
		const x0 = +s.dataset.x0, x1 = +s.dataset.x1, d = +s.dataset.domain;
		return [r.left + x0 + (x1 - x0) * 1200000 / d, r.top + (+s.dataset.top) + 20]; })()`))
	must(err, "find the chart")
	must(chromedp.Do(ctx, chromedp.MouseEvent(chromedp.MouseMoved, box[0], box[1])), "move the time cursor")
	if st := text(chromedp.TextContent(chromedp.CSS(`#chart text.tl-val[data-k="a"][data-i="0"]`)), "read the alert's state"); st != "firing" {
		t.Errorf("at 20m the cursor should read the alert as firing, got %q", st)
	}
	shot := filepath.Join(shots, "sandbox.png")
	saveScreenshot(ctx, t, shot)
	// Verify took its picture: no need to verify again after each edit.
	must(chromedp.Do(ctx, chromedp.Click(chromedp.ID("auto-verify"))), "turn auto-verify off")

	// Break the rule: delete its `for` line as a person would (select it, Backspace).
	seq := int(eval(`+document.body.dataset.evalSeq`, "read the replay count"))
	must(chromedp.Do(ctx,
		chromedp.Focus(chromedp.ID("rules-text")),
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := chromedp.Evaluate[int](`(() => { const ta = document.getElementById("rules-text"); const v = ta.value;
				const s = v.search(/^\s*for: 10m\n/m); const e = v.indexOf("\n", s + 1) + 1; ta.setSelectionRange(s, e); return s; })()`)(ctx, tg)
			return err
		}),
		chromedp.KeyEvent(kb.Backspace),
		waitReplay(seq),
	), "delete the for line and wait for the replay")
	after := eval(firstFiring, "read the first firing after the edit")
	if after < 0 || after >= before {
		t.Fatalf("without for, the alert should fire before 15m, got %s", durString(int64(after)))
	}
	t.Logf("firing starts at %s with for: 10m, at %s without", durString(int64(before)), durString(int64(after)))
	saveScreenshot(ctx, t, filepath.Join(shots, "sandbox-no-for.png"))

	// Export, download both files and run the test file.
	must(chromedp.Do(ctx,
		chromedp.Click(chromedp.ID("export")),
		chromedp.WaitVisible(chromedp.ID("export-verdict")),
	), "export")
	if v := text(chromedp.Text(chromedp.ID("export-verdict")), "read the export's verdict"); !strings.Contains(v, "passes") {
		t.Fatalf("export: %q", v)
	}
	must(chromedp.Do(ctx, chromedp.Click(chromedp.ID("dl-rules")), chromedp.Click(chromedp.ID("dl-test"))), "download")
	waitFiles(t, downloads, RulesFile, TestFile)
	res := mustRun(t, filepath.Join(downloads, TestFile))
	if res.ExitCode() != unittest.ExitPassed {
		t.Fatalf("gotk-rules test on the downloaded files: exit %d: %+v", res.ExitCode(), res.Files[0])
	}
	rules, err := os.ReadFile(filepath.Join(downloads, RulesFile))
	must(err, "read the downloaded rules")
	if strings.Contains(string(rules), "for: 10m") {
		t.Errorf("the downloaded rules still have the for line")
	}

	// The share link restores the editors in a new tab.
	must(chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`#export-dialog button[value=close]`)),
		chromedp.Click(chromedp.ID("share")),
		chromedp.WaitVisible(chromedp.ID("share-url")),
	), "share")
	link := text(chromedp.Value(chromedp.ID("share-url")), "read the link")
	if !strings.Contains(link, "#s=") && !strings.Contains(link, "#u=") {
		t.Fatalf("share link without the editors: %s", link)
	}
	tab, closeTab := chromedp.NewContext(ctx)
	defer closeTab()
	must(chromedp.Do(tab, chromedp.Navigate(link), waitReplay(0)), "open the share link")
	shared, err := chromedp.Run(tab, chromedp.Value(chromedp.ID("rules-text")))
	must(err, "read the shared rules")
	if string(rules) != shared {
		t.Errorf("the share link's rules differ from the exported ones:\n%s\n---\n%s", shared, rules)
	}

	if dst := os.Getenv(envScreenshot); dst != "" {
		b, err := os.ReadFile(shot)
		must(err, "read the screenshot")
		must(os.WriteFile(dst, b, 0o644), "save the screenshot to "+envScreenshot)
		t.Logf("screenshot saved to %s", dst)
	}
}

func saveScreenshot(ctx context.Context, t *testing.T, path string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
}

func waitFiles(t *testing.T, dir string, names ...string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for _, n := range names {
		for {
			if fi, err := os.Stat(filepath.Join(dir, n)); err == nil && fi.Size() > 0 {
				break
			}
			if time.Now().After(deadline) {
				entries, _ := os.ReadDir(dir)
				t.Fatalf("download %s did not arrive in %s (has %v)", n, dir, entries)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

func mustRun(t *testing.T, file string) *unittest.Result {
	t.Helper()
	r, err := unittest.NewRunner(unittest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return r.Run(file)
}
