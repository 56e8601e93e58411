package cli

import (
	"bytes"
	"encoding/json"
	"runtime"
	"runtime/debug"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// buildInfo is what Go stamps into a binary built inside a git checkout.
func buildInfo(settings ...debug.BuildSetting) *debug.BuildInfo {
	return &debug.BuildInfo{
		GoVersion: "go1.26.8",
		Path:      "github.com/gotk-rules/gotk-rules/cmd/gotk-rules",
		Main:      debug.Module{Path: "github.com/gotk-rules/gotk-rules", Version: "v0.0.0-20261205061444-0123456789ab+dirty"},
		Deps: []*debug.Module{
			{Path: "github.com/spf13/cobra", Version: "v1.10.2"},
			{Path: "github.com/prometheus/prometheus", Version: "v0.315.0"},
		},
		Settings: settings,
	}
}

var vcsSettings = []debug.BuildSetting{
	{Key: "-trimpath", Value: "true"},
	{Key: "GOARCH", Value: "arm64"},
	{Key: "GOOS", Value: "darwin"},
	{Key: "vcs", Value: "git"},
	{Key: "vcs.revision", Value: "0123456789abcdef0123456789abcdef01234567"},
	{Key: "vcs.time", Value: "2026-12-05T06:14:44Z"},
	{Key: "vcs.modified", Value: "true"},
}

func TestVersionFrom(t *testing.T) {
	replaced := buildInfo()
	replaced.Deps[1].Replace = &debug.Module{Path: "../prometheus"}
	for _, tc := range []struct {
		name              string
		bi                *debug.BuildInfo
		version, revision string
		want              VersionInfo
		text              string
	}{{
		name: "git checkout",
		bi:   buildInfo(vcsSettings...),
		want: VersionInfo{
			Version: "v0.0.0-20261205061444-0123456789ab+dirty", Revision: "0123456789abcdef0123456789abcdef01234567",
			Time: "2026-12-05T06:14:44Z", Modified: true, GoVersion: "go1.26.8", Platform: "darwin/arm64",
			Prometheus: "v0.315.0", PrometheusRelease: "3.15.0",
		},
		text: `gotk-rules v0.0.0-20261205061444-0123456789ab+dirty
  revision:   0123456789abcdef0123456789abcdef01234567 (2026-12-05T06:14:44Z, modified)
  go:         go1.26.8 darwin/arm64
  prometheus: v0.315.0 (Prometheus 3.15.0)
`,
	}, {
		name:    "release with -ldflags -X",
		bi:      buildInfo(vcsSettings[:6]...),
		version: "v1.2.3",
		want: VersionInfo{
			Version: "v1.2.3", Revision: "0123456789abcdef0123456789abcdef01234567",
			Time: "2026-12-05T06:14:44Z", GoVersion: "go1.26.8", Platform: "darwin/arm64",
			Prometheus: "v0.315.0", PrometheusRelease: "3.15.0",
		},
		text: `gotk-rules v1.2.3
  revision:   0123456789abcdef0123456789abcdef01234567 (2026-12-05T06:14:44Z)
  go:         go1.26.8 darwin/arm64
  prometheus: v0.315.0 (Prometheus 3.15.0)
`,
	}, {
		name:     "no VCS information, revision set at link time",
		bi:       &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}, Deps: buildInfo().Deps},
		version:  "v1.2.3",
		revision: "abc1234",
		want: VersionInfo{
			Version: "v1.2.3", Revision: "abc1234", GoVersion: "go1.26.8", Platform: runtime.GOOS + "/" + runtime.GOARCH,
			Prometheus: "v0.315.0", PrometheusRelease: "3.15.0",
		},
		text: "gotk-rules v1.2.3\n  revision:   abc1234\n  go:         go1.26.8 " + runtime.GOOS + "/" + runtime.GOARCH +
			"\n  prometheus: v0.315.0 (Prometheus 3.15.0)\n",
	}, {
		name: "go test: no VCS information",
		bi:   &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}, Deps: buildInfo().Deps},
		want: VersionInfo{
			Version: "(devel)", GoVersion: "go1.26.8", Platform: runtime.GOOS + "/" + runtime.GOARCH,
			Prometheus: "v0.315.0", PrometheusRelease: "3.15.0",
		},
		text: "gotk-rules (devel)\n  revision:   unknown (built without VCS information)\n  go:         go1.26.8 " +
			runtime.GOOS + "/" + runtime.GOARCH + "\n  prometheus: v0.315.0 (Prometheus 3.15.0)\n",
	}, {
		name: "prometheus replaced by a directory",
		bi:   replaced,
		want: VersionInfo{
			Version: "v0.0.0-20261205061444-0123456789ab+dirty", GoVersion: "go1.26.8",
			Platform: runtime.GOOS + "/" + runtime.GOARCH, Prometheus: "(replaced by ../prometheus)",
		},
		text: "gotk-rules v0.0.0-20261205061444-0123456789ab+dirty\n  revision:   unknown (built without VCS information)\n" +
			"  go:         go1.26.8 " + runtime.GOOS + "/" + runtime.GOARCH + "\n  prometheus: (replaced by ../prometheus)\n",
	}, {
		name: "no build information",
		want: VersionInfo{
			Version: "(devel)", GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH,
			Prometheus: "unknown",
		},
		text: "gotk-rules (devel)\n  revision:   unknown (built without VCS information)\n  go:         " +
			runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH + "\n  prometheus: unknown\n",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			got := versionFrom(tc.bi, tc.version, tc.revision)
			assert.Equal(t, tc.want, got)
			assert.Equal(t, tc.text, got.String())
		})
	}
}

func TestPrometheusRelease(t *testing.T) {
	for module, want := range map[string]string{
		"v0.315.0":                               "3.15.0",
		"v0.300.1":                               "3.0.1",
		"v0.410.2":                               "4.10.2",
		"v0.55.1":                                "2.55.1",
		"v0.315.0-rc.0":                          "3.15.0",
		"v0.315.1-0.20261201000000-0123456789ab": "3.15.1",
		"v2.55.1":                                "",
		"v0.315":                                 "",
		"v0.x.0":                                 "",
		"unknown":                                "",
		"(replaced by ../prometheus)":            "",
	} {
		assert.Equal(t, want, prometheusRelease(module), module)
	}
}

// runMain runs the command line in process.
func runMain(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = Main(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestVersionCommand(t *testing.T) {
	// Test binaries carry no VCS information and no dependency list:
	// TestVersionFrom covers those, internal/release's TestRelease a real
	// build (the release's, -trimpath and -ldflags -X, its --version and
	// version --format json naming the checkout's HEAD).
	want := ReadVersionInfo()

	for _, args := range [][]string{{"--version"}, {"-v"}, {"version"}, {"version", "--format", "text"}} {
		code, stdout, stderr := runMain(args...)
		assert.Equal(t, ExitOK, code, "%v: %s", args, stderr)
		assert.Equal(t, want.String(), stdout, "%v", args)
		assert.Empty(t, stderr, "%v", args)
	}

	code, stdout, stderr := runMain("version", "--format", "json")
	require.Equal(t, ExitOK, code, stderr)
	var got VersionInfo
	require.NoError(t, json.Unmarshal([]byte(stdout), &got))
	assert.Equal(t, want, got)

	code, stdout, stderr = runMain("version", "--format", "yaml")
	assert.Equal(t, ExitBadInput, code)
	assert.Empty(t, stdout)
	assert.Equal(t, "gotk-rules: --format \"yaml\": want text or json\n", stderr)

	code, _, stderr = runMain("version", "extra")
	assert.Equal(t, ExitBadInput, code)
	assert.Contains(t, stderr, "unknown command \"extra\"")
}
