package main

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var created = time.Date(2026, 12, 5, 6, 14, 44, 0, time.UTC)

// root is gotk-rules' module root, two levels up.
var root = filepath.Join("..", "..")

// instruction is one Dockerfile instruction, continuation lines joined.
type instruction struct {
	cmd, args string
}

// parseDockerfile returns the instructions of each stage.
func parseDockerfile(t *testing.T, path string) [][]instruction {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	var stages [][]instruction
	var cur string
	for _, line := range strings.Split(string(b), "\n") {
		trimmed := strings.TrimSpace(line)
		if cur == "" && (trimmed == "" || strings.HasPrefix(trimmed, "#")) {
			continue
		}
		if strings.HasSuffix(trimmed, "\\") {
			cur += strings.TrimSuffix(trimmed, "\\") + " "
			continue
		}
		cur += trimmed
		cmd, args, _ := strings.Cut(cur, " ")
		cur = ""
		in := instruction{strings.ToUpper(cmd), strings.TrimSpace(args)}
		if in.cmd == "FROM" {
			stages = append(stages, nil)
		}
		require.NotEmpty(t, stages, "%s: %s before FROM", path, in.cmd)
		stages[len(stages)-1] = append(stages[len(stages)-1], in)
	}
	return stages
}

var (
	labelKV   = regexp.MustCompile(`([a-z.]+)="([^"]*)"`)
	printfTo  = regexp.MustCompile(`printf '([^']*)' > /out(/etc/\w+)`)
	outBinary = regexp.MustCompile(`-o /out(\S+) \./cmd/gotk-rules`)
)

// TestDockerfileMatches requires the Dockerfile's final stage to make the
// image Image makes: an empty base, the binary at BinaryPath, the same
// /etc/passwd and /etc/group, PATH, USER, ENTRYPOINT and fixed labels.
func TestDockerfileMatches(t *testing.T) {
	stages := parseDockerfile(t, filepath.Join(root, "Dockerfile"))
	require.Len(t, stages, 2, "a builder stage and the final stage")
	build, final := stages[0], stages[1]
	assert.Regexp(t, `^golang:1\.26\S* AS build$`, build[0].args)

	files := map[string]string{}
	var binary string
	for _, in := range build {
		if in.cmd != "RUN" {
			continue
		}
		for _, m := range printfTo.FindAllStringSubmatch(in.args, -1) {
			files[m[2]] = strings.ReplaceAll(m[1], `\n`, "\n")
		}
		if m := outBinary.FindStringSubmatch(in.args); m != nil {
			binary = m[1]
			assert.Contains(t, in.args, "CGO_ENABLED=0", "a static binary")
			assert.Contains(t, in.args, "-X "+versionVar+"=${VERSION}")
		}
	}
	assert.Equal(t, BinaryPath, binary)
	assert.Equal(t, map[string]string{"/etc/passwd": Passwd, "/etc/group": Group}, files)

	got := map[string]string{}
	labels := map[string]string{}
	for _, in := range final {
		switch in.cmd {
		case "LABEL":
			for _, m := range labelKV.FindAllStringSubmatch(in.args, -1) {
				labels[m[1]] = m[2]
			}
		case "ARG":
		default:
			got[in.cmd] = in.args
		}
	}
	assert.Equal(t, "scratch", got["FROM"])
	assert.Equal(t, "--from=build /out/ /", got["COPY"])
	assert.Equal(t, "PATH="+Path, got["ENV"])
	assert.Equal(t, User, got["USER"])
	var entrypoint []string
	require.NoError(t, json.Unmarshal([]byte(got["ENTRYPOINT"]), &entrypoint), "ENTRYPOINT in exec form")
	assert.Equal(t, Entrypoint, entrypoint)
	for k, v := range StaticLabels {
		assert.Equal(t, v, labels[k], k)
	}
	assert.Equal(t, "${VERSION}", labels["org.opencontainers.image.version"])
	assert.Equal(t, "${REVISION}", labels["org.opencontainers.image.revision"])
}

func TestTag(t *testing.T) {
	for version, want := range map[string]string{
		"v1.2.3":                 "gotk-rules:v1.2.3",
		"8157cdd-dirty":          "gotk-rules:8157cdd-dirty",
		"(devel)":                "gotk-rules:devel-",
		"v1.2.3+build.4":         "gotk-rules:v1.2.3-build.4",
		"":                       "gotk-rules:latest",
		"-x":                     "gotk-rules:x",
		strings.Repeat("a", 200): "gotk-rules:" + strings.Repeat("a", 128),
	} {
		assert.Equal(t, want, Tag(version), version)
	}
}

// layerFiles reads a layer's entries: name to header and content.
func layerFiles(t *testing.T, l v1.Layer) (map[string]*tar.Header, map[string][]byte) {
	t.Helper()
	rc, err := l.Uncompressed()
	require.NoError(t, err)
	defer rc.Close()
	tr := tar.NewReader(rc)
	hdrs, data := map[string]*tar.Header{}, map[string][]byte{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return hdrs, data
		}
		require.NoError(t, err)
		b, err := io.ReadAll(tr)
		require.NoError(t, err)
		hdrs[h.Name], data[h.Name] = h, b
	}
}

// checkImage checks the config and the one layer of an image made from bin
// (nil: any binary), and returns the layer's files.
func checkImage(t *testing.T, img v1.Image, arch, version string, bin []byte) map[string][]byte {
	t.Helper()
	mt, err := img.MediaType()
	require.NoError(t, err)
	assert.Equal(t, types.OCIManifestSchema1, mt)
	cf, err := img.ConfigFile()
	require.NoError(t, err)
	assert.Equal(t, "linux", cf.OS)
	assert.Equal(t, arch, cf.Architecture)
	assert.Equal(t, User, cf.Config.User)
	assert.NotEqual(t, "0", strings.Split(cf.Config.User, ":")[0], "non-root")
	assert.Equal(t, Entrypoint, cf.Config.Entrypoint)
	assert.Empty(t, cf.Config.Cmd)
	assert.Equal(t, []string{"PATH=" + Path}, cf.Config.Env)
	assert.Equal(t, Labels(version, "abc123", created), cf.Config.Labels)
	assert.Equal(t, created, cf.Created.UTC())

	layers, err := img.Layers()
	require.NoError(t, err)
	require.Len(t, layers, 1)
	hdrs, data := layerFiles(t, layers[0])
	assert.ElementsMatch(t, []string{"etc/", "etc/passwd", "etc/group", "usr/", "usr/local/", "usr/local/bin/", "usr/local/bin/gotk-rules"}, keys(hdrs))
	for name, h := range hdrs {
		assert.Equal(t, 0, h.Uid, name)
		assert.Equal(t, created, h.ModTime.UTC(), name)
	}
	exe := hdrs[strings.TrimPrefix(BinaryPath, "/")]
	assert.Equal(t, int64(0o755), exe.Mode)
	if bin != nil {
		assert.Equal(t, bin, data[strings.TrimPrefix(BinaryPath, "/")])
	}
	assert.Equal(t, Passwd, string(data["etc/passwd"]))
	assert.Contains(t, string(data["etc/passwd"]), ":"+strings.Split(User, ":")[0]+":"+strings.Split(User, ":")[1]+":")
	return data
}

func keys[V any](m map[string]V) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}

// TestImage makes an image from a stand-in binary: config, layer, and the
// same digest from the same input.
func TestImage(t *testing.T) {
	bin := []byte("#!/bin/sh\necho stand-in\n")
	img, err := Image(bin, "arm64", "v1.2.3", "abc123", created)
	require.NoError(t, err)
	checkImage(t, img, "arm64", "v1.2.3", bin)

	again, err := Image(bin, "arm64", "v1.2.3", "abc123", created)
	require.NoError(t, err)
	d1, err := img.Digest()
	require.NoError(t, err)
	d2, err := again.Digest()
	require.NoError(t, err)
	assert.Equal(t, d1, d2, "reproducible")

	other, err := Image(bin, "arm64", "v1.2.4", "abc123", created)
	require.NoError(t, err)
	d3, err := other.Digest()
	require.NoError(t, err)
	assert.NotEqual(t, d1, d3)
}

// TestBuildAndRun builds the real image for the host's architecture, reads
// it back from the OCI layout and the docker tarball, and "runs" it: the
// layer is extracted into a directory and the entrypoint, looked up in the
// image's PATH, is executed with --version as the image's user would.
func TestBuildAndRun(t *testing.T) {
	if testing.Short() {
		t.Skip("builds gotk-rules; skipped with -short")
	}
	if runtime.GOOS != "linux" {
		t.Skip("runs the linux binary")
	}
	out := t.TempDir()
	paths, err := Build(Options{Root: root, Out: out, Version: "v1.2.3-test", Revision: "abc123", Archs: []string{runtime.GOARCH}, Created: created})
	require.NoError(t, err)
	require.Equal(t, []string{filepath.Join(out, "oci"), filepath.Join(out, "gotk-rules_v1.2.3-test_linux_"+runtime.GOARCH+".image.tar")}, paths)

	lp, err := layout.FromPath(paths[0])
	require.NoError(t, err)
	idx, err := lp.ImageIndex()
	require.NoError(t, err)
	im, err := idx.IndexManifest()
	require.NoError(t, err)
	require.Len(t, im.Manifests, 1, "index.json lists one image per architecture")
	assert.Equal(t, &v1.Platform{OS: "linux", Architecture: runtime.GOARCH}, im.Manifests[0].Platform)
	assert.Equal(t, "v1.2.3-test", im.Manifests[0].Annotations["org.opencontainers.image.ref.name"])
	img, err := idx.Image(im.Manifests[0].Digest)
	require.NoError(t, err)

	data := checkImage(t, img, runtime.GOARCH, "v1.2.3-test", nil)
	bin := data[strings.TrimPrefix(BinaryPath, "/")]
	require.NotEmpty(t, bin)

	fromTar, err := tarball.ImageFromPath(paths[1], nil)
	require.NoError(t, err)
	d1, err := img.Digest()
	require.NoError(t, err)
	cf1, err := img.ConfigName()
	require.NoError(t, err)
	cf2, err := fromTar.ConfigName()
	require.NoError(t, err)
	assert.Equal(t, cf1, cf2, "the docker tarball holds the same image (config %s, manifest %s)", cf1, d1)

	// Run it: extract the layer, resolve the entrypoint on the image's PATH.
	rootfs := t.TempDir()
	for name, b := range data {
		if strings.HasSuffix(name, "/") {
			continue
		}
		p := filepath.Join(rootfs, filepath.FromSlash(name))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, b, 0o755))
	}
	exe := filepath.Join(rootfs, filepath.FromSlash(strings.TrimPrefix(Path, "/")), Entrypoint[0])
	cmd := exec.Command(exe, "--version")
	cmd.Env = []string{"PATH=" + Path}
	cmd.Dir = rootfs
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Run(), stderr.String())
	assert.True(t, strings.HasPrefix(stdout.String(), "gotk-rules v1.2.3-test\n"), stdout.String())
	assert.Contains(t, stdout.String(), "prometheus: v0.315.0 (Prometheus 3.15.0)")
}
