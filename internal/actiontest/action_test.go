package actiontest_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gotk-rules/gotk-rules/internal/actiontest"
)

// testVersion is the release the tests publish on their local server.
const testVersion = "v9.9.9"

var (
	buildOnce sync.Once
	buildDir  string
	buildBin  string
	buildErr  error
)

func TestMain(m *testing.M) {
	var err error
	archiveDir, err = os.MkdirTemp("", "gotk-rules-actiontest-archives-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.RemoveAll(archiveDir)
	os.Exit(code)
}

// root is the repository root: the action's directory.
func root(t *testing.T) string {
	t.Helper()
	r, err := filepath.Abs(filepath.Join("..", ".."))
	require.NoError(t, err)
	return r
}

func skipUnsupported(t *testing.T) {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("the action's scripts are run with bash; this test runs them on Linux and macOS")
	}
	if testing.Short() {
		t.Skip("builds gotk-rules and runs the action's steps; skipped with -short")
	}
	for _, tool := range []string{"bash", "curl", "tar"} {
		_, err := exec.LookPath(tool)
		require.NoError(t, err, "the action needs %s on the runner", tool)
	}
}

// binary builds gotk-rules once for every test, or is $GOTK_TEST_BINARY
// when set (make test builds the binary once for the packages that run it).
func binary(t *testing.T) string {
	t.Helper()
	if bin := os.Getenv("GOTK_TEST_BINARY"); bin != "" {
		return bin
	}
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "gotk-rules-actiontest-")
		if buildErr != nil {
			return
		}
		buildBin = filepath.Join(buildDir, "gotk-rules")
		cmd := exec.Command("go", "build", "-o", buildBin, "./cmd/gotk-rules")
		cmd.Dir = root(t)
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build ./cmd/gotk-rules: %w\n%s", err, out)
		}
	})
	require.NoError(t, buildErr)
	return buildBin
}

// archiveName is the release archive's name, as internal/release writes it.
func archiveName(version string) string {
	return fmt.Sprintf("gotk-rules_%s_%s_%s.tar.gz", strings.TrimPrefix(version, "v"), runtime.GOOS, runtime.GOARCH)
}

// publish writes a release of the test binary into dir/VERSION/ as the
// release process lays it out: the archive (the binary in a directory named
// like the archive) and checksums.txt. tamper changes the archive after its
// checksum was taken.
func publish(t *testing.T, dir, version string, tamper bool) {
	t.Helper()
	name := archiveName(version)
	a := archive(t, version)
	path := a.path
	if tamper {
		path = a.tampered
	}
	out := filepath.Join(dir, version)
	require.NoError(t, os.MkdirAll(out, 0o755))
	// A link to the archive written once: the server follows it.
	require.NoError(t, os.Symlink(path, filepath.Join(out, name)))
	sum := a.sum
	other := sha256.Sum256([]byte("another archive"))
	checksums := fmt.Sprintf("%s  gotk-rules_%s_plan9_mips.tar.gz\n%s  %s\n",
		hex.EncodeToString(other[:]), strings.TrimPrefix(version, "v"), hex.EncodeToString(sum[:]), name)
	require.NoError(t, os.WriteFile(filepath.Join(out, "checksums.txt"), []byte(checksums), 0o644))
}

// archives holds each version's archive, made and written once (into
// archiveDir): the binary is tens of MiB, and under the race detector every
// copy of it costs CPU seconds.
var archives sync.Map // version -> *archiveOnce

// archiveDir holds the archives; TestMain removes it.
var archiveDir string

type archiveOnce struct {
	once sync.Once
	// path is the archive's file, tampered the same with a byte appended.
	path, tampered string
	sum            [sha256.Size]byte
	err            error
}

// archive is the release archive of the test binary for version, as the
// release process lays it out (the binary in a directory named like the
// archive), in a file, with its SHA-256 and a tampered copy.
func archive(t *testing.T, version string) *archiveOnce {
	t.Helper()
	bin := binary(t)
	v, _ := archives.LoadOrStore(version, &archiveOnce{})
	a := v.(*archiveOnce)
	a.once.Do(func() { a.err = a.write(bin, version) })
	require.NoError(t, a.err)
	return a
}

// write makes version's archive of bin and writes it and its tampered copy.
func (a *archiveOnce) write(bin, version string) error {
	data, err := makeArchive(bin, archiveName(version))
	if err != nil {
		return err
	}
	a.sum = sha256.Sum256(data)
	dir, err := os.MkdirTemp(archiveDir, version+"-")
	if err != nil {
		return err
	}
	a.path, a.tampered = filepath.Join(dir, "archive"), filepath.Join(dir, "tampered")
	if err := os.WriteFile(a.path, data, 0o644); err != nil {
		return err
	}
	f, err := os.OpenFile(a.tampered, os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		_, err = f.Write([]byte{0})
	}
	return errors.Join(err, f.Close())
}

func makeArchive(binPath, name string) ([]byte, error) {
	bin, err := os.ReadFile(binPath)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	buf.Grow(len(bin) + 64<<10)
	// Stored, not compressed: the scripts under test download, check and
	// extract it (tar xzf) alike at any level, and deflating the binary
	// under the race detector cost about 20 CPU seconds an archive.
	gz, err := gzip.NewWriterLevel(&buf, gzip.NoCompression)
	if err != nil {
		return nil, err
	}
	tw := tar.NewWriter(gz)
	top := strings.TrimSuffix(name, ".tar.gz")
	readme := []byte("gotk-rules\n")
	for _, f := range []struct {
		hdr  tar.Header
		data []byte
	}{
		{tar.Header{Typeflag: tar.TypeDir, Name: top + "/", Mode: 0o755}, nil},
		{tar.Header{Typeflag: tar.TypeReg, Name: top + "/gotk-rules", Mode: 0o755, Size: int64(len(bin))}, bin},
		{tar.Header{Typeflag: tar.TypeReg, Name: top + "/README.md", Mode: 0o644, Size: int64(len(readme))}, readme},
	} {
		if err := tw.WriteHeader(&f.hdr); err != nil {
			return nil, err
		}
		if _, err := tw.Write(f.data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := gz.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// serve serves dir as https://github.com/OWNER/REPO/releases does:
// /releases/download/TAG/FILE, and /releases/latest redirecting to
// /releases/tag/LATEST. It returns the release-url input.
func serve(t *testing.T, dir, latest string) string {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("/releases/download/", http.StripPrefix("/releases/download/", http.FileServer(http.Dir(dir))))
	mux.HandleFunc("/releases/latest", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/releases/tag/"+latest, http.StatusFound)
	})
	mux.HandleFunc("/releases/tag/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "release page")
	})
	srv := httptest.NewServer(mux) // listens on 127.0.0.1
	t.Cleanup(srv.Close)
	return srv.URL + "/releases/download"
}

// workspace is a repository checkout with the shipped rules and tests, and
// a scenario whose expectation fails.
func workspace(t *testing.T) string {
	t.Helper()
	ws := t.TempDir()
	require.NoError(t, os.CopyFS(filepath.Join(ws, "rules"), os.DirFS(filepath.Join(root(t), "rules"))))
	require.NoError(t, os.CopyFS(filepath.Join(ws, "testdata", "series"), os.DirFS(filepath.Join(root(t), "testdata", "series"))))
	sc, err := os.ReadFile(filepath.Join(root(t), "testdata", "series", "classic-v20-failing-then-deleted.scenario.yml"))
	require.NoError(t, err)
	broken := strings.Replace(string(sc), "at: 10m, state: pending", "at: 10m, state: firing", 1)
	require.NotEqual(t, string(sc), broken)
	broken = strings.Replace(broken, "rule_files: [../../rules/gitopstoolkit.yml]", "rule_files: [../rules/gitopstoolkit.yml]", 1)
	require.NoError(t, os.MkdirAll(filepath.Join(ws, "failing"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(ws, "failing", "broken.scenario.yml"), []byte(broken), 0o644))
	return ws
}

func loadAction(t *testing.T) *actiontest.Action {
	t.Helper()
	a, err := actiontest.Load(filepath.Join(root(t), "action.yml"))
	require.NoError(t, err)
	return a
}

// runAction runs the action's steps with these inputs against a fresh
// release server and workspace.
func runAction(t *testing.T, inputs map[string]string, tamper bool) (*actiontest.Result, string, *actiontest.Runner) {
	t.Helper()
	releases := t.TempDir()
	publish(t, releases, testVersion, tamper)
	in := map[string]string{"version": testVersion, "release-url": serve(t, releases, testVersion)}
	for k, v := range inputs {
		in[k] = v
	}
	ws := workspace(t)
	rn := &actiontest.Runner{
		ActionPath: root(t),
		Workspace:  ws,
		Temp:       filepath.Join(t.TempDir(), "runner-temp"),
		Inputs:     in,
		Github:     map[string]string{"job": "rules", "action_ref": "main"},
	}
	res, err := rn.Run(loadAction(t))
	require.NoError(t, err)
	return res, ws, rn
}

func stepOutput(res *actiontest.Result) string {
	var b strings.Builder
	for _, s := range res.Steps {
		fmt.Fprintf(&b, "== %s (skipped %v, err %v)\n%s\n", s.Step.Name, s.Skipped, s.Err, s.Output)
	}
	return b.String()
}

// TestActionTest installs the release from the local server, checksum
// verified, and runs gotk-rules test on the shipped tests and a scenario:
// the JUnit report is written and handed to upload-artifact.
func TestActionTest(t *testing.T) {
	skipUnsupported(t)
	t.Parallel()
	res, ws, rn := runAction(t, map[string]string{
		"command": "test",
		"files":   "testdata/series/gitopstoolkit_test.yml\ntestdata/series/classic-v20-failing-then-deleted.scenario.yml",
	}, false)
	if s, failed := res.Failed(); failed {
		t.Fatalf("step %q failed: %v\n%s", s.Step.Name, s.Err, stepOutput(res))
	}
	require.Equal(t, "release", res.Step("resolve").Outputs["method"])
	require.True(t, res.Uses("actions/setup-go")[0].Skipped, "a release needs no Go")

	install := res.Step("install")
	bin := filepath.Join(rn.Temp, "gotk-rules-bin", "gotk-rules")
	require.Equal(t, bin, install.Outputs["path"])
	require.Equal(t, testVersion, install.Outputs["version"])
	require.Equal(t, []string{filepath.Dir(bin)}, res.Path, "the binary's directory is added to GITHUB_PATH")

	run := res.Step("run")
	require.Equal(t, "0", run.Outputs["exit-code"], run.Output)
	require.Equal(t, "gotk-rules-junit.xml", run.Outputs["junit-file"])
	require.Equal(t, "gotk-rules-rules-test", run.Outputs["artifact-name"])
	junit, err := os.ReadFile(filepath.Join(ws, "gotk-rules-junit.xml"))
	require.NoError(t, err)
	require.Contains(t, string(junit), "<testsuite")
	require.Contains(t, string(junit), "gitopstoolkit_test.yml")

	// Every scenario passed: no timeline, nothing to upload but the report.
	require.Equal(t, "0", res.Step("timelines").Outputs["count"])
	uploads := res.Uses("actions/upload-artifact")
	require.Len(t, uploads, 2)
	require.False(t, uploads[0].Skipped)
	require.Equal(t, map[string]string{"name": "gotk-rules-rules-test-junit", "path": "gotk-rules-junit.xml", "if-no-files-found": "ignore"}, uploads[0].With)
	require.True(t, uploads[1].Skipped)
	require.True(t, res.Uses("github/codeql-action/upload-sarif")[0].Skipped)
}

// TestActionTestFailure: a failing scenario fails the step, and its
// timeline is drawn and uploaded with the JUnit report all the same.
func TestActionTestFailure(t *testing.T) {
	skipUnsupported(t)
	t.Parallel()
	res, ws, rn := runAction(t, map[string]string{
		"command":       "test",
		"files":         "testdata/series/gitopstoolkit_test.yml failing/ testdata/series/classic-v21-never-fires.scenario.yml",
		"artifact-name": "rules",
	}, false)
	run := res.Step("run")
	require.True(t, run.Failed(), stepOutput(res))
	require.Equal(t, "1", run.Outputs["exit-code"])
	_, err := os.Stat(filepath.Join(ws, "gotk-rules-junit.xml"))
	require.NoError(t, err)

	tl := res.Step("timelines")
	require.False(t, tl.Skipped, "the timelines step runs after a failure")
	require.NoError(t, tl.Err, tl.Output)
	require.Equal(t, "1", tl.Outputs["count"], "only the failing scenario: %s", tl.Output)
	dir := filepath.Join(rn.Temp, "gotk-rules-timelines")
	require.Equal(t, dir, tl.Outputs["dir"])
	svg, err := os.ReadFile(filepath.Join(dir, "failing_broken.scenario.svg"))
	require.NoError(t, err, tl.Output)
	require.Contains(t, string(svg), "<svg")

	uploads := res.Uses("actions/upload-artifact")
	require.Equal(t, "rules-junit", uploads[0].With["name"])
	require.False(t, uploads[1].Skipped)
	require.Equal(t, map[string]string{"name": "rules-timelines", "path": dir, "if-no-files-found": "ignore"}, uploads[1].With)
}

// TestActionChecksumMismatch: an archive that is not the one checksums.txt
// lists is not installed, and nothing runs after it.
func TestActionChecksumMismatch(t *testing.T) {
	skipUnsupported(t)
	t.Parallel()
	res, _, rn := runAction(t, map[string]string{"command": "test"}, true)
	install := res.Step("install")
	require.True(t, install.Failed(), stepOutput(res))
	require.Contains(t, install.Output, "checksum mismatch for "+archiveName(testVersion))
	require.Empty(t, res.Path)
	_, err := os.Stat(filepath.Join(rn.Temp, "gotk-rules-bin", "gotk-rules"))
	require.True(t, os.IsNotExist(err), "a binary that failed its checksum is not installed")
	require.True(t, res.Step("run").Skipped)
	require.True(t, res.Step("timelines").Skipped)
	for _, u := range res.Uses("actions/upload-artifact") {
		require.True(t, u.Skipped)
	}
}

// TestActionMissingPlatform: a release without the runner's archive fails
// the install, naming the platform.
func TestActionMissingPlatform(t *testing.T) {
	skipUnsupported(t)
	t.Parallel()
	releases := t.TempDir()
	publish(t, releases, testVersion, false)
	require.NoError(t, os.WriteFile(filepath.Join(releases, testVersion, "checksums.txt"), []byte("00  gotk-rules_9.9.9_plan9_mips.tar.gz\n"), 0o644))
	rn := &actiontest.Runner{
		ActionPath: root(t), Workspace: t.TempDir(), Temp: filepath.Join(t.TempDir(), "tmp"),
		Inputs: map[string]string{"version": testVersion, "release-url": serve(t, releases, testVersion)},
		Github: map[string]string{"job": "j"},
	}
	res, err := rn.Run(loadAction(t))
	require.NoError(t, err)
	install := res.Step("install")
	require.True(t, install.Failed())
	require.Contains(t, install.Output, fmt.Sprintf("v9.9.9 has no archive for %s/%s", runtime.GOOS, runtime.GOARCH))
}

// TestActionLintSARIF lints the shipped rules: annotations on stdout, and
// the SARIF log handed to upload-sarif.
func TestActionLintSARIF(t *testing.T) {
	skipUnsupported(t)
	t.Parallel()
	res, ws, _ := runAction(t, map[string]string{
		"command": "lint",
		"files":   "rules/",
		"args":    "--fail-on never",
		"sarif":   "true",
	}, false)
	if s, failed := res.Failed(); failed {
		t.Fatalf("step %q failed: %v\n%s", s.Step.Name, s.Err, stepOutput(res))
	}
	run := res.Step("run")
	require.Contains(t, run.Output, "::warning file=rules/", "findings are annotations")
	require.Equal(t, "gotk-rules.sarif", run.Outputs["sarif-file"])
	b, err := os.ReadFile(filepath.Join(ws, "gotk-rules.sarif"))
	require.NoError(t, err)
	var log struct {
		Version string `json:"version"`
		Runs    []struct {
			Results []struct {
				RuleID    string `json:"ruleId"`
				Locations []struct {
					Physical struct {
						Artifact struct {
							URI string `json:"uri"`
						} `json:"artifactLocation"`
						Region struct {
							StartLine   int `json:"startLine"`
							StartColumn int `json:"startColumn"`
						} `json:"region"`
					} `json:"physicalLocation"`
				} `json:"locations"`
			} `json:"results"`
		} `json:"runs"`
	}
	require.NoError(t, json.Unmarshal(b, &log))
	require.Equal(t, "2.1.0", log.Version)
	require.NotEmpty(t, log.Runs[0].Results)
	for _, r := range log.Runs[0].Results {
		require.Contains(t, r.RuleID, "/", "rule ids are check names")
		loc := r.Locations[0].Physical
		require.True(t, strings.HasPrefix(loc.Artifact.URI, "rules/"), loc.Artifact.URI)
		require.Positive(t, loc.Region.StartLine)
		require.Positive(t, loc.Region.StartColumn)
	}
	up := res.Uses("github/codeql-action/upload-sarif")[0]
	require.False(t, up.Skipped)
	require.Equal(t, map[string]string{"sarif_file": "gotk-rules.sarif", "category": "gotk-rules"}, up.With)
	require.True(t, res.Step("timelines").Skipped, "lint draws no timeline")
}

// TestActionLintFails: lint findings at --fail-on fail the step.
func TestActionLintFails(t *testing.T) {
	skipUnsupported(t)
	t.Parallel()
	res, _, _ := runAction(t, map[string]string{"command": "lint", "files": "rules/gitopstoolkit.yml"}, false)
	run := res.Step("run")
	require.True(t, run.Failed(), stepOutput(res))
	require.Equal(t, "1", run.Outputs["exit-code"])
	require.Empty(t, run.Outputs["sarif-file"], "sarif is off by default")
}

// TestActionResolve: which gotk-rules each version input and action ref
// installs.
func TestActionResolve(t *testing.T) {
	skipUnsupported(t)
	t.Parallel()
	a := loadAction(t)
	resolveOnly := *a
	resolveOnly.Runs.Steps = a.Runs.Steps[:1]
	require.Equal(t, "resolve", resolveOnly.Runs.Steps[0].ID)
	url := serve(t, t.TempDir(), "v3.4.5")
	for _, c := range []struct {
		version, ref     string
		method, version2 string
		path             string // github.action_path (default: the checkout)
	}{
		// No action_ref (actions/runner#2473): the ref from the runner's path.
		{"", "", "release", "v1.4.0", "/home/runner/work/_actions/gotk-rules/gotk-rules/v1.4.0"},
		{"", "", "source", "main", "/home/runner/work/_actions/gotk-rules/gotk-rules/main"},
		{"", "v1.2.3", "release", "v1.2.3", ""},
		{"", "v1.2.3-rc.1", "release", "v1.2.3-rc.1", ""},
		{"", "v1", "release", "v3.4.5", ""},
		{"latest", "main", "release", "v3.4.5", ""},
		{"", "main", "source", "main", ""},
		{"", "", "source", "local", ""},
		{"", "0123456789abcdef0123456789abcdef01234567", "source", "0123456789abcdef0123456789abcdef01234567", ""},
		{"v2.0.0", "main", "release", "v2.0.0", ""},
		{"main", "v1.2.3", "go", "main", ""},
		{"0123abc", "v1.2.3", "go", "0123abc", ""},
	} {
		t.Run(c.version+"@"+c.ref, func(t *testing.T) {
			path := c.path
			if path == "" {
				path = root(t)
			}
			rn := &actiontest.Runner{
				ActionPath: path, Workspace: t.TempDir(), Temp: filepath.Join(t.TempDir(), "tmp"),
				Inputs: map[string]string{"version": c.version, "release-url": url},
				Github: map[string]string{"action_ref": c.ref, "job": "j"},
			}
			res, err := rn.Run(&resolveOnly)
			require.NoError(t, err)
			s := res.Step("resolve")
			require.NoError(t, s.Err, s.Output)
			require.Equal(t, map[string]string{"method": c.method, "version": c.version2}, s.Outputs)
		})
	}
}

// TestActionSourceBuild: used from a checkout (uses: ./), the action builds
// its own source and runs it.
func TestActionSourceBuild(t *testing.T) {
	skipUnsupported(t)
	t.Parallel()
	binary(t) // warms the build cache the source build shares
	rn := &actiontest.Runner{
		ActionPath: root(t), Workspace: workspace(t), Temp: filepath.Join(t.TempDir(), "tmp"),
		Inputs: map[string]string{"files": "testdata/series/gitopstoolkit_test.yml", "junit": ""},
		Github: map[string]string{"job": "j"},
	}
	res, err := rn.Run(loadAction(t))
	require.NoError(t, err)
	if s, failed := res.Failed(); failed {
		t.Fatalf("step %q failed: %v\n%s", s.Step.Name, s.Err, stepOutput(res))
	}
	require.Equal(t, "source", res.Step("resolve").Outputs["method"])
	require.False(t, res.Uses("actions/setup-go")[0].Skipped, "a source build sets up Go")
	require.Equal(t, "0", res.Step("run").Outputs["exit-code"])
	require.Empty(t, res.Step("run").Outputs["junit-file"], "junit: '' writes no report")
	require.True(t, res.Uses("actions/upload-artifact")[0].Skipped)
}

// TestActionScriptsParse checks every run: script with bash -n (and
// shellcheck, where it is installed), and that scripts take their inputs
// from env: only.
func TestActionScriptsParse(t *testing.T) {
	a := loadAction(t)
	require.NotEmpty(t, a.Runs.Steps)
	dir := t.TempDir()
	_, shellcheck := exec.LookPath("shellcheck")
	for i, st := range a.Runs.Steps {
		if st.Run == "" {
			require.NotEmpty(t, st.Uses, "step %d is neither run: nor uses:", i+1)
			continue
		}
		t.Run(st.Name, func(t *testing.T) {
			require.Equal(t, "bash", st.Shell, "composite run: steps need shell: bash")
			require.NotContains(t, st.Run, "${{", "pass expressions through env:, never into the script")
			script := filepath.Join(dir, fmt.Sprintf("step%d.sh", i))
			require.NoError(t, os.WriteFile(script, []byte(st.Run), 0o644))
			out, err := exec.Command("bash", "-n", script).CombinedOutput()
			require.NoError(t, err, "bash -n: %s", out)
			if shellcheck == nil {
				out, err := exec.Command("shellcheck", "--shell=bash", "--severity=warning", script).CombinedOutput()
				require.NoError(t, err, "shellcheck: %s", out)
			}
		})
	}
}

// TestActionInputsDocumented: every input has a description, every
// inputs.X the steps use exists (Run refuses unknown ones too).
func TestActionInputsDocumented(t *testing.T) {
	a := loadAction(t)
	for name, in := range a.Inputs {
		require.NotEmpty(t, in.Description, "input %s", name)
		require.False(t, in.Required, "input %s: every input has a default", name)
	}
	b, err := os.ReadFile(filepath.Join(root(t), "action.yml"))
	require.NoError(t, err)
	for _, m := range regexpInputs.FindAllStringSubmatch(string(b), -1) {
		_, ok := a.Inputs[m[1]]
		require.True(t, ok, "inputs.%s is used but not declared", m[1])
	}
}
