// Command image builds gotk-rules' container image without a Docker daemon:
// the static binary (CGO_ENABLED=0) in one layer on an empty base, with an
// /etc/passwd that names the non-root user it runs as, written as an OCI
// image layout (an index with one image per platform) and, for the first
// platform, a tarball `docker load` reads. It makes the image the
// repository's Dockerfile describes; a test keeps the two in step.
//
//	cd tools/image && go run . -version v1.2.3 [-out ../../dist/image] [-platforms linux/amd64,linux/arm64]
//
// It is a module of its own so that go-containerregistry stays out of
// gotk-rules' dependencies.
package main

import (
	"archive/tar"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// What the image is; the Dockerfile says the same (TestDockerfileMatches).
const (
	// BinaryPath is where the binary lives in the image.
	BinaryPath = "/usr/local/bin/gotk-rules"
	// User is the non-root user and group the image runs as.
	User = "65532:65532"
	// Path is the image's PATH, so the entrypoint is found by name.
	Path = "/usr/local/bin"
	// Passwd is the image's /etc/passwd: root, and nonroot for User.
	Passwd = "root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n"
	// Group is the image's /etc/group.
	Group = "root:x:0:\nnonroot:x:65532:\n"
)

// Entrypoint is the image's entrypoint: arguments to `docker run` go to
// gotk-rules.
var Entrypoint = []string{"gotk-rules"}

// StaticLabels are the image's org.opencontainers.image labels that do not
// change from build to build.
var StaticLabels = map[string]string{
	"org.opencontainers.image.title":       "gotk-rules",
	"org.opencontainers.image.description": "Evaluate and test Prometheus alerting rules, with Flux's metrics in mind",
	"org.opencontainers.image.licenses":    "Apache-2.0",
	"org.opencontainers.image.source":      "https://github.com/gotk-rules/gotk-rules",
}

// versionVar is the variable -ldflags -X sets to the version.
const versionVar = "github.com/gotk-rules/gotk-rules/cli.Version"

// BuildBinary builds gotk-rules statically for linux/arch from the module at
// root into out, with version set at link time.
func BuildBinary(root, arch, version, out string) error {
	cmd := exec.Command("go", "build", "-trimpath", "-buildvcs=auto",
		"-ldflags", "-s -w -X "+versionVar+"="+version,
		"-o", out, "./cmd/gotk-rules")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+arch)
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("building gotk-rules for linux/%s: %w\n%s", arch, err, b)
	}
	return nil
}

// LayerTar is the image's one layer as an uncompressed tar: the directories,
// /etc/passwd, /etc/group and the binary at BinaryPath, owned by root and
// dated date.
func LayerTar(binary []byte, date time.Time) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	date = date.UTC()
	add := func(name string, mode int64, data []byte) error {
		h := &tar.Header{Name: name, Mode: mode, ModTime: date, Format: tar.FormatPAX, Uname: "root", Gname: "root"}
		if strings.HasSuffix(name, "/") {
			h.Typeflag = tar.TypeDir
		} else {
			h.Typeflag = tar.TypeReg
			h.Size = int64(len(data))
		}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		_, err := tw.Write(data)
		return err
	}
	type entry struct {
		name string
		mode int64
		data []byte
	}
	entries := []entry{
		{"etc/", 0o755, nil},
		{"etc/group", 0o644, []byte(Group)},
		{"etc/passwd", 0o644, []byte(Passwd)},
	}
	// usr/, usr/local/, usr/local/bin/, then the binary.
	bin := strings.TrimPrefix(BinaryPath, "/")
	for i := range len(bin) {
		if bin[i] == '/' {
			entries = append(entries, entry{bin[:i+1], 0o755, nil})
		}
	}
	entries = append(entries, entry{bin, 0o755, binary})
	for _, e := range entries {
		if err := add(e.name, e.mode, e.data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Image makes the image for linux/arch from the binary: one layer on an
// empty base, OCI media types, User, Entrypoint, PATH and labels.
func Image(binary []byte, arch, version, revision string, created time.Time) (v1.Image, error) {
	layerTar, err := LayerTar(binary, created)
	if err != nil {
		return nil, fmt.Errorf("making the layer: %w", err)
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layerTar)), nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, fmt.Errorf("making the layer: %w", err)
	}
	base := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	base = mutate.ConfigMediaType(base, types.OCIConfigJSON)
	img, err := mutate.Append(base, mutate.Addendum{
		Layer: layer,
		History: v1.History{
			Created:   v1.Time{Time: created.UTC()},
			CreatedBy: "gotk-rules tools/image: " + BinaryPath + ", /etc/passwd, /etc/group",
			Comment:   "static gotk-rules " + version,
		},
	})
	if err != nil {
		return nil, fmt.Errorf("adding the layer: %w", err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS = "linux"
	cf.Architecture = arch
	cf.Created = v1.Time{Time: created.UTC()}
	cf.Config.User = User
	cf.Config.Entrypoint = append([]string(nil), Entrypoint...)
	cf.Config.Env = []string{"PATH=" + Path}
	cf.Config.Labels = Labels(version, revision, created)
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		return nil, fmt.Errorf("setting the config: %w", err)
	}
	return img, nil
}

// Labels are StaticLabels plus the version, revision ("" to leave it out)
// and creation time.
func Labels(version, revision string, created time.Time) map[string]string {
	l := map[string]string{
		"org.opencontainers.image.version": version,
		"org.opencontainers.image.created": created.UTC().Format(time.RFC3339),
	}
	if revision != "" {
		l["org.opencontainers.image.revision"] = revision
	}
	for k, v := range StaticLabels {
		l[k] = v
	}
	return l
}

// Options is what one image build does.
type Options struct {
	// Root is gotk-rules' module root.
	Root string
	// Out is the directory the OCI layout (Out/oci) and the docker tarball
	// go to.
	Out string
	// Version is the image's version, also set in the binary.
	Version string
	// Revision is the VCS revision for the label ("" for none).
	Revision string
	// Archs are the linux architectures to build, the first also as a
	// docker tarball.
	Archs []string
	// Created dates the image and its files.
	Created time.Time
}

// tagChars are the characters a docker tag may not have.
var tagChars = regexp.MustCompile(`[^A-Za-z0-9_.-]`)

// Tag is the image's reference in the docker tarball: gotk-rules:VERSION,
// with characters a tag cannot have replaced by '-'.
func Tag(version string) string {
	t := tagChars.ReplaceAllString(version, "-")
	t = strings.TrimLeft(t, ".-")
	if t == "" {
		t = "latest"
	}
	if len(t) > 128 {
		t = t[:128]
	}
	return "gotk-rules:" + t
}

// Build builds the binary for every arch, makes the images and writes
// Out/oci (an OCI image layout holding an index of every arch) and
// Out/gotk-rules_VERSION_linux_ARCH.image.tar for the first arch. It returns
// the paths written.
func Build(o Options) ([]string, error) {
	if len(o.Archs) == 0 {
		return nil, errors.New("no architecture to build")
	}
	work, err := os.MkdirTemp("", "gotk-rules-image-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(work)
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	var first v1.Image
	for _, arch := range o.Archs {
		bin := filepath.Join(work, "gotk-rules-"+arch)
		if err := BuildBinary(o.Root, arch, o.Version, bin); err != nil {
			return nil, err
		}
		data, err := os.ReadFile(bin)
		if err != nil {
			return nil, err
		}
		img, err := Image(data, arch, o.Version, o.Revision, o.Created)
		if err != nil {
			return nil, fmt.Errorf("linux/%s: %w", arch, err)
		}
		if first == nil {
			first = img
		}
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{
			Add: img,
			Descriptor: v1.Descriptor{
				Platform:    &v1.Platform{OS: "linux", Architecture: arch},
				Annotations: map[string]string{"org.opencontainers.image.ref.name": strings.TrimPrefix(Tag(o.Version), "gotk-rules:")},
			},
		})
	}
	ociDir := filepath.Join(o.Out, "oci")
	if err := os.RemoveAll(ociDir); err != nil {
		return nil, err
	}
	if _, err := layout.Write(ociDir, idx); err != nil {
		return nil, fmt.Errorf("writing the OCI layout %s: %w", ociDir, err)
	}
	tag, err := name.NewTag(Tag(o.Version))
	if err != nil {
		return nil, fmt.Errorf("tag %q: %w", Tag(o.Version), err)
	}
	tarPath := filepath.Join(o.Out, fmt.Sprintf("gotk-rules_%s_linux_%s.image.tar", strings.TrimPrefix(Tag(o.Version), "gotk-rules:"), o.Archs[0]))
	if err := tarball.WriteToFile(tarPath, tag, first); err != nil {
		return nil, fmt.Errorf("writing %s: %w", tarPath, err)
	}
	return []string{ociDir, tarPath}, nil
}

// sourceDate is SOURCE_DATE_EPOCH's time, or now.
func sourceDate() (time.Time, error) {
	s := os.Getenv("SOURCE_DATE_EPOCH")
	if s == "" {
		return time.Now().UTC().Truncate(time.Second), nil
	}
	sec, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH %q: want seconds since 1970", s)
	}
	return time.Unix(sec, 0).UTC(), nil
}

func main() {
	var o Options
	var archs string
	flag.StringVar(&o.Version, "version", "", "image and binary version, e.g. v1.2.3 (required)")
	flag.StringVar(&o.Revision, "revision", "", "VCS revision for the org.opencontainers.image.revision label")
	flag.StringVar(&o.Root, "root", filepath.Join("..", ".."), "gotk-rules' module root")
	flag.StringVar(&o.Out, "out", filepath.Join("..", "..", "dist", "image"), "output directory")
	flag.StringVar(&archs, "archs", runtime.GOARCH, "comma-separated linux architectures (the first is also written as a docker tarball)")
	flag.Parse()
	fail := func(code int, err error) {
		fmt.Fprintln(os.Stderr, "image:", err)
		os.Exit(code)
	}
	if o.Version == "" {
		fail(2, errors.New("no version: pass -version"))
	}
	for _, a := range strings.Split(archs, ",") {
		if a = strings.TrimSpace(a); a != "" {
			o.Archs = append(o.Archs, a)
		}
	}
	created, err := sourceDate()
	if err != nil {
		fail(2, err)
	}
	o.Created = created
	if err := os.MkdirAll(o.Out, 0o755); err != nil {
		fail(1, err)
	}
	paths, err := Build(o)
	if err != nil {
		fail(1, err)
	}
	for _, p := range paths {
		fmt.Println(p)
	}
}
