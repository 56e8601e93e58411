package main

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gotk-rules/gotk-rules/internal/parallel"
	"github.com/gotk-rules/gotk-rules/internal/racemode"
)

var date = time.Date(2026, 12, 5, 6, 14, 44, 0, time.UTC)

// entry is one archive member as the tests read it back.
type entry struct {
	name string
	mode os.FileMode
	date time.Time
	data string
}

func readTarGz(t *testing.T, path string) []entry {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	gz, err := gzip.NewReader(f)
	require.NoError(t, err)
	tr := tar.NewReader(gz)
	var es []entry
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return es
		}
		require.NoError(t, err)
		data, err := io.ReadAll(tr)
		require.NoError(t, err)
		assert.Equal(t, "root", h.Uname)
		es = append(es, entry{h.Name, h.FileInfo().Mode(), h.ModTime.UTC(), string(data)})
	}
}

func readZip(t *testing.T, path string) []entry {
	t.Helper()
	zr, err := zip.OpenReader(path)
	require.NoError(t, err)
	defer zr.Close()
	var es []entry
	for _, f := range zr.File {
		r, err := f.Open()
		require.NoError(t, err)
		data, err := io.ReadAll(r)
		require.NoError(t, err)
		r.Close()
		es = append(es, entry{f.Name, f.Mode(), f.Modified.UTC(), string(data)})
	}
	return es
}

func TestWriteArchive(t *testing.T) {
	src := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(src, "bin"), []byte("\x7fELF binary"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(src, "LICENSE"), []byte("Apache"), 0o600))
	files := []File{
		{Name: "gotk-rules", Path: filepath.Join(src, "bin"), Mode: 0o755},
		{Name: "LICENSE", Path: filepath.Join(src, "LICENSE"), Mode: 0o644},
	}
	want := []entry{
		{"d/", os.ModeDir | 0o755, date, ""},
		{"d/gotk-rules", 0o755, date, "\x7fELF binary"},
		{"d/LICENSE", 0o644, date, "Apache"},
	}
	for _, tc := range []struct {
		name string
		read func(*testing.T, string) []entry
	}{{"a.tar.gz", readTarGz}, {"a.zip", readZip}} {
		t.Run(tc.name, func(t *testing.T) {
			out := t.TempDir()
			path := filepath.Join(out, tc.name)
			require.NoError(t, WriteArchive(path, "d", files, date.In(time.FixedZone("CET", 3600))))
			assert.Equal(t, want, tc.read(t, path))

			// Reproducible: the same input makes the same bytes.
			first, err := os.ReadFile(path)
			require.NoError(t, err)
			require.NoError(t, WriteArchive(path, "d", files, date))
			second, err := os.ReadFile(path)
			require.NoError(t, err)
			assert.Equal(t, first, second)
		})
	}

	err := WriteArchive(filepath.Join(t.TempDir(), "x.tar.gz"), "d", []File{{Name: "x", Path: filepath.Join(src, "missing")}}, date)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "archiving ")
}

func TestWriteChecksums(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "b.zip"), []byte("b"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "a.tar.gz"), []byte("a"), 0o644))
	require.NoError(t, WriteChecksums(dir, []string{"b.zip", "a.tar.gz"}))
	got, err := os.ReadFile(filepath.Join(dir, ChecksumsFile))
	require.NoError(t, err)
	assert.Equal(t,
		"ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb  a.tar.gz\n"+
			"3e23e8160039594a33894f6564e1b1348bbd7a0088d42c4acb73eeaed59c009d  b.zip\n", string(got))

	if sha, err := exec.LookPath("sha256sum"); err == nil {
		cmd := exec.Command(sha, "-c", ChecksumsFile)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "sha256sum -c: %s", out)
	}
	require.Error(t, WriteChecksums(dir, []string{"missing"}))
}

func TestParseTargets(t *testing.T) {
	ts, err := ParseTargets("linux/amd64, windows/arm64")
	require.NoError(t, err)
	assert.Equal(t, []Target{{"linux", "amd64"}, {"windows", "arm64"}}, ts)
	for _, bad := range []string{"", "linux", "linux/", "/amd64", "linux/amd64,"} {
		_, err := ParseTargets(bad)
		assert.Error(t, err, bad)
	}
}

func TestTargetExe(t *testing.T) {
	assert.Equal(t, "gotk-rules.exe", Target{"windows", "arm64"}.exe())
	assert.Equal(t, "gotk-rules", Target{"darwin", "arm64"}.exe())
	assert.Len(t, Targets, 6)
}

func TestArchiveName(t *testing.T) {
	assert.Equal(t, "gotk-rules_1.2.3_linux_arm64.tar.gz", ArchiveName("v1.2.3", Target{"linux", "arm64"}))
	assert.Equal(t, "gotk-rules_1.2.3_windows_amd64.zip", ArchiveName("v1.2.3", Target{"windows", "amd64"}))
}

// moduleRoot is the directory holding go.mod, two levels up.
func moduleRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	require.NoError(t, err)
	require.FileExists(t, filepath.Join(root, "go.mod"))
	return root
}

// TestCrossCompile type-checks the binary's packages for every released
// platform, two platforms at a time, as the compiler would for that GOOS and
// GOARCH (typeCheck): what does not build on one of them (a syscall, a file
// without a build tag) fails here, not at release time. The module's own
// packages are type-checked from source, not compiled: code generation does
// not depend on the platform's file set, and compiling the module six times
// cost about 110 CPU seconds of every CI run. Compiling and linking are
// exercised by TestRelease. With a warm build cache this takes seconds; the
// first run compiles every dependency once per platform (minutes).
//
// It runs in test-unit's plain run (Makefile), not under -race: its
// goroutines share nothing, the product's code does not run, and the race
// detector made type-checking about twice as dear (39 CPU seconds).
func TestCrossCompile(t *testing.T) {
	if testing.Short() {
		t.Skip("cross-checks gotk-rules for every released platform; skipped with -short")
	}
	if racemode.Enabled {
		t.Skip("type-checks without the race detector, in test-unit's plain run (Makefile)")
	}
	root := moduleRoot(t)
	errs := make([]error, len(Targets))
	took := make([]time.Duration, len(Targets))
	start := time.Now()
	parallel.For(len(Targets), 2, func(i int) {
		begin := time.Now()
		errs[i] = typeCheck(root, Targets[i], mainPackage)
		took[i] = time.Since(begin)
	})
	for i, tg := range Targets {
		assert.NoError(t, errs[i], "%s", tg)
		t.Logf("%s: %v", tg, took[i].Round(time.Millisecond))
	}
	t.Logf("all %d targets: %v", len(Targets), time.Since(start).Round(time.Millisecond))
}

// TestRelease makes a release for the host's platform, checks the archive
// and checksums, and runs the binary out of its archive: its version is the
// one set with -ldflags -X, and inside a git checkout it names the
// checkout's HEAD (VCS stamping on whatever GOFLAGS says), in text and in
// JSON. It is the test of a real build of the binary (cli's tests cover
// the version's wording from made-up build information). It runs in
// test-unit's plain run (Makefile), not under -race: one platform, so one
// goroutine, and deflating the binary under the race detector cost about
// 40 CPU seconds.
func TestRelease(t *testing.T) {
	if testing.Short() {
		t.Skip("builds gotk-rules; skipped with -short")
	}
	if racemode.Enabled {
		t.Skip("compresses tens of MiB: runs without the race detector, in test-unit's plain run (Makefile)")
	}
	if runtime.GOOS == "windows" {
		t.Skip("runs a binary extracted from a tar.gz")
	}
	root := moduleRoot(t)
	out := t.TempDir()
	host := Target{runtime.GOOS, runtime.GOARCH}
	names, err := Release(Options{Root: root, Out: out, Version: "v1.2.3-test", Targets: []Target{host}, Date: date})
	require.NoError(t, err)
	require.Equal(t, []string{ArchiveName("v1.2.3-test", host)}, names)

	sums, err := os.ReadFile(filepath.Join(out, ChecksumsFile))
	require.NoError(t, err)
	data, err := os.ReadFile(filepath.Join(out, names[0]))
	require.NoError(t, err)
	h := sha256.Sum256(data)
	assert.Equal(t, hex.EncodeToString(h[:])+"  "+names[0]+"\n", string(sums))

	dir := strings.TrimSuffix(names[0], ".tar.gz")
	entries := readTarGz(t, filepath.Join(out, names[0]))
	require.Len(t, entries, 5)
	bin := entries[1]
	require.Equal(t, dir+"/gotk-rules", bin.name)
	assert.Equal(t, os.FileMode(0o755), bin.mode)
	license, err := os.ReadFile(filepath.Join(root, "LICENSE"))
	require.NoError(t, err)
	assert.Equal(t, string(license), entries[2].data)

	exe := filepath.Join(t.TempDir(), "gotk-rules")
	require.NoError(t, os.WriteFile(exe, []byte(bin.data), 0o755))
	var stdout bytes.Buffer
	cmd := exec.Command(exe, "--version")
	cmd.Stdout = &stdout
	require.NoError(t, cmd.Run())
	lines := strings.Split(stdout.String(), "\n")
	require.GreaterOrEqual(t, len(lines), 4, stdout.String())
	assert.Equal(t, "gotk-rules v1.2.3-test", lines[0])
	assert.Equal(t, "  go:         "+runtime.Version()+" "+runtime.GOOS+"/"+runtime.GOARCH, lines[2])
	assert.Equal(t, "  prometheus: v0.315.0 (Prometheus 3.15.0)", lines[3])

	js, err := exec.Command(exe, "version", "--format", "json").Output()
	require.NoError(t, err)
	var got struct{ Version, Revision string }
	require.NoError(t, json.Unmarshal(js, &got), "%s", js)
	assert.Equal(t, "v1.2.3-test", got.Version)

	head, gitErr := exec.Command("git", "-C", root, "rev-parse", "HEAD").Output()
	if gitErr != nil {
		assert.Equal(t, "  revision:   unknown (built without VCS information)", lines[1])
		assert.Empty(t, got.Revision)
		t.Logf("not in a git checkout (%v): no revision expected", gitErr)
		return
	}
	rev := strings.TrimSpace(string(head))
	assert.Regexp(t, `^  revision:   `+rev+` \(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ(, modified)?\)$`, lines[1])
	assert.Equal(t, rev, got.Revision)
}
