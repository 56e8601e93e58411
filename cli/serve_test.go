package cli_test

import (
	"bytes"
	"context"
	"encoding/xml"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gotk-rules/gotk-rules/cli"
	"github.com/gotk-rules/gotk-rules/internal/syncbuf"
)

var servedURL = regexp.MustCompile(`http://[^ ]+/`)

// serve starts `gotk-rules serve ARGS...` and returns its URL and a stop
// function that returns the command's error.
func serve(t *testing.T, args ...string) (string, *syncbuf.Buffer, func() error) {
	t.Helper()
	var stdout, stderr syncbuf.Buffer
	root := cli.NewRootCommand(&stdout, &stderr)
	root.SetArgs(append([]string{"serve"}, args...))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(ctx) }()
	deadline := time.Now().Add(10 * time.Second)
	for !servedURL.MatchString(stdout.String()) {
		select {
		case err := <-done:
			cancel()
			t.Fatalf("serve stopped: %v\nstderr: %s", err, stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("serve printed no URL: %q", stdout.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	stop := func() error {
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(10 * time.Second):
			return context.DeadlineExceeded
		}
	}
	return servedURL.FindString(stdout.String()), &stderr, stop
}

func TestServeAnswersOnLoopback(t *testing.T) {
	rules := filepath.Join(t.TempDir(), "mine.yml")
	require.NoError(t, os.WriteFile(rules, []byte("groups: []\n"), 0o644))
	url, stderr, stop := serve(t, "--addr", "127.0.0.1:0", "--rules", rules, "--timeout", "5s")
	require.True(t, strings.HasPrefix(url, "http://127.0.0.1:"), url)

	resp, err := http.Get(url)
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, string(body), "gotk-rules sandbox")

	resp, err = http.Get(url + "api/defaults")
	require.NoError(t, err)
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Contains(t, string(body), `"rules":"groups: []\n"`, "--rules preloads the rules editor")
	require.Contains(t, string(body), `"rules_name":"`+rules+`"`)

	resp, err = http.Post(url+"api/eval", "application/json", strings.NewReader(`{"rules":"groups: []\n","input":"- series: 'up'\n  values: '1x3'\n"}`))
	require.NoError(t, err)
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, string(body), `"ok":true`)

	require.NoError(t, stop())
	require.Empty(t, stderr.String())
}

func TestServeWarnsOffLoopback(t *testing.T) {
	url, stderr, stop := serve(t, "--addr", "0.0.0.0:0", "--no-lint")
	require.Contains(t, stderr.String(), "not loopback")
	require.True(t, strings.HasPrefix(url, "http://127.0.0.1:"), url)
	require.NoError(t, stop())
}

func TestServeBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"serve", "--timeout", "0s"},
		{"serve", "--max-samples", "0"},
		{"serve", "--rules", filepath.Join(t.TempDir(), "missing.yml")},
		{"serve", "--addr", "not an address"},
		{"serve", "extra"},
	} {
		r := run(t, args...)
		require.Equal(t, cli.ExitBadInput, r.code, "%v: %s", args, r)
	}
}

func TestReplayPictures(t *testing.T) {
	dir := t.TempDir()
	svg, html := filepath.Join(dir, "t.svg"), filepath.Join(dir, "t.html")
	r := run(t, "replay", "../testdata/series/classic-v20-failing-then-deleted.scenario.yml", "--svg", svg, "--html", html)
	require.Equal(t, cli.ExitOK, r.code, r.String())
	require.Contains(t, r.stdout, "Kustomization/team-a/apps", "the text timeline is still printed")

	b, err := os.ReadFile(svg)
	require.NoError(t, err)
	dec := xml.NewDecoder(bytes.NewReader(b))
	for {
		_, err := dec.Token()
		if err == io.EOF {
			break
		}
		require.NoError(t, err, "the SVG is well-formed XML")
	}
	s := string(b)
	require.Contains(t, s, "<style>", "the SVG carries its stylesheet")
	require.Contains(t, s, `class="tl-firing" data-start="900000"`, "firing from 15m")
	require.Contains(t, s, "classic rule, Flux 2.0, failing then deleted")

	b, err = os.ReadFile(html)
	require.NoError(t, err)
	h := string(b)
	require.Contains(t, h, "<svg")
	require.Contains(t, h, "GotkTimeline.attach")
	require.NotContains(t, h, "<script src", "self-contained: loads nothing")
	require.NotContains(t, h, "<link", "self-contained: loads nothing")

	r = run(t, "replay", "../testdata/series/classic-v20-failing-then-deleted.scenario.yml", "--format", "json", "--svg", filepath.Join(dir, "missing", "t.svg"))
	require.NotEqual(t, cli.ExitOK, r.code, "an SVG that cannot be written is an error")
}
