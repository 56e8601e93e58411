// Command release cross-compiles gotk-rules for every released platform and
// packs each binary, with LICENSE, README.md and CHANGELOG.md, into an
// archive under dist/ (tar.gz; zip for Windows), then writes checksums.txt
// (SHA-256, as sha256sum prints it). It needs nothing but the go command.
//
//	go run ./internal/release -version v1.2.3 [-out dist] [-targets linux/amd64,...]
//
// The binaries are static (CGO_ENABLED=0), built with -trimpath and the
// version set with -ldflags -X (see cli.Version). Archives are reproducible:
// entries in a fixed order, owned by root, dated SOURCE_DATE_EPOCH (the
// Makefile passes the last commit's time).
package main

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gotk-rules/gotk-rules/internal/parallel"
)

// Target is one platform a release ships a binary for.
type Target struct {
	GOOS, GOARCH string
}

// String is GOOS/GOARCH.
func (t Target) String() string { return t.GOOS + "/" + t.GOARCH }

// exe is the binary's file name on the target.
func (t Target) exe() string {
	if t.GOOS == "windows" {
		return "gotk-rules.exe"
	}
	return "gotk-rules"
}

// Targets are the platforms every release ships.
var Targets = []Target{
	{"linux", "amd64"}, {"linux", "arm64"},
	{"darwin", "amd64"}, {"darwin", "arm64"},
	{"windows", "amd64"}, {"windows", "arm64"},
}

// mainPackage is the command the release builds, relative to the module root.
const mainPackage = "./cmd/gotk-rules"

// versionVar is the variable -ldflags -X sets to the release version.
const versionVar = "github.com/gotk-rules/gotk-rules/cli.Version"

// extraFiles go into every archive beside the binary, from the module root.
var extraFiles = []string{"LICENSE", "README.md", "CHANGELOG.md"}

// ChecksumsFile is the name of the SHA-256 list written beside the archives.
const ChecksumsFile = "checksums.txt"

// BuildArgs are the go command's arguments that build the release binary
// for version into out; run them in the module root with BuildEnv.
func BuildArgs(version, out string) []string {
	return []string{"build", "-trimpath", "-buildvcs=auto",
		"-ldflags", "-s -w -X " + versionVar + "=" + version,
		"-o", out, mainPackage}
}

// BuildEnv is the environment for building a static binary for t.
func BuildEnv(t Target) []string {
	return append(os.Environ(), "CGO_ENABLED=0", "GOOS="+t.GOOS, "GOARCH="+t.GOARCH)
}

// Options is what one release run does.
type Options struct {
	// Root is the module root, holding go.mod and extraFiles.
	Root string
	// Out is the directory the archives and checksums go to.
	Out string
	// Version is the release version, e.g. v1.2.3.
	Version string
	// Targets are the platforms to build.
	Targets []Target
	// Date stamps every archive entry.
	Date time.Time
	// Workers is how many builds run at once (<= 0: GOMAXPROCS).
	Workers int
}

// ArchiveName is the archive's file name for version and t.
func ArchiveName(version string, t Target) string {
	ext := ".tar.gz"
	if t.GOOS == "windows" {
		ext = ".zip"
	}
	return fmt.Sprintf("gotk-rules_%s_%s_%s%s", strings.TrimPrefix(version, "v"), t.GOOS, t.GOARCH, ext)
}

// Release builds and archives every target, then writes the checksums; it
// returns the archives' names in Options.Targets' order.
func Release(o Options) ([]string, error) {
	if o.Version == "" {
		return nil, errors.New("no version: pass -version")
	}
	if err := os.MkdirAll(o.Out, 0o755); err != nil {
		return nil, fmt.Errorf("creating %s: %w", o.Out, err)
	}
	work, err := os.MkdirTemp("", "gotk-rules-release-")
	if err != nil {
		return nil, fmt.Errorf("creating a work directory: %w", err)
	}
	defer os.RemoveAll(work)

	names := make([]string, len(o.Targets))
	errs := make([]error, len(o.Targets))
	parallel.For(len(o.Targets), o.Workers, func(i int) {
		t := o.Targets[i]
		bin := filepath.Join(work, t.GOOS+"_"+t.GOARCH, t.exe())
		cmd := exec.Command("go", BuildArgs(o.Version, bin)...)
		cmd.Dir = o.Root
		cmd.Env = BuildEnv(t)
		if out, err := cmd.CombinedOutput(); err != nil {
			errs[i] = fmt.Errorf("building %s: %w\n%s", t, err, out)
			return
		}
		names[i] = ArchiveName(o.Version, t)
		files := []File{{Name: t.exe(), Path: bin, Mode: 0o755}}
		for _, f := range extraFiles {
			files = append(files, File{Name: f, Path: filepath.Join(o.Root, f), Mode: 0o644})
		}
		dir := strings.TrimSuffix(strings.TrimSuffix(names[i], ".zip"), ".tar.gz")
		errs[i] = WriteArchive(filepath.Join(o.Out, names[i]), dir, files, o.Date)
	})
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if err := WriteChecksums(o.Out, names); err != nil {
		return nil, err
	}
	return names, nil
}

// File is one file to put into an archive.
type File struct {
	// Name is the file's name inside the archive's directory.
	Name string
	// Path is where the file is read from.
	Path string
	// Mode is its permission bits in the archive.
	Mode fs.FileMode
}

// WriteArchive writes files under directory dir into path, a zip file when
// path ends in .zip and a gzipped tar file otherwise, every entry dated date.
func WriteArchive(path, dir string, files []File, date time.Time) error {
	var buf bytes.Buffer
	var err error
	if strings.HasSuffix(path, ".zip") {
		err = writeZip(&buf, dir, files, date)
	} else {
		err = writeTarGz(&buf, dir, files, date)
	}
	if err != nil {
		return fmt.Errorf("archiving %s: %w", path, err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

func writeTarGz(w io.Writer, dir string, files []File, date time.Time) error {
	gz, err := gzip.NewWriterLevel(w, gzip.BestCompression)
	if err != nil {
		return err
	}
	tw := tar.NewWriter(gz)
	date = date.UTC()
	hdr := func(name string, mode fs.FileMode, size int64, typ byte) *tar.Header {
		return &tar.Header{Typeflag: typ, Name: name, Mode: int64(mode), Size: size, ModTime: date,
			Uname: "root", Gname: "root", Format: tar.FormatPAX}
	}
	if err := tw.WriteHeader(hdr(dir+"/", 0o755, 0, tar.TypeDir)); err != nil {
		return err
	}
	for _, f := range files {
		data, err := os.ReadFile(f.Path)
		if err != nil {
			return err
		}
		if err := tw.WriteHeader(hdr(dir+"/"+f.Name, f.Mode, int64(len(data)), tar.TypeReg)); err != nil {
			return err
		}
		if _, err := tw.Write(data); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return gz.Close()
}

func writeZip(w io.Writer, dir string, files []File, date time.Time) error {
	zw := zip.NewWriter(w)
	date = date.UTC()
	d := &zip.FileHeader{Name: dir + "/", Modified: date}
	d.SetMode(fs.ModeDir | 0o755)
	if _, err := zw.CreateHeader(d); err != nil {
		return err
	}
	for _, f := range files {
		data, err := os.ReadFile(f.Path)
		if err != nil {
			return err
		}
		h := &zip.FileHeader{Name: dir + "/" + f.Name, Method: zip.Deflate, Modified: date}
		h.SetMode(f.Mode)
		fw, err := zw.CreateHeader(h)
		if err != nil {
			return err
		}
		if _, err := fw.Write(data); err != nil {
			return err
		}
	}
	return zw.Close()
}

// WriteChecksums writes dir/checksums.txt: one "SHA256  NAME" line per
// named file of dir, sorted by name, as `sha256sum` prints and `sha256sum
// -c` checks.
func WriteChecksums(dir string, names []string) error {
	sorted := append([]string(nil), names...)
	sort.Strings(sorted)
	var b strings.Builder
	for _, name := range sorted {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return fmt.Errorf("checksumming: %w", err)
		}
		sum := sha256.Sum256(data)
		fmt.Fprintf(&b, "%s  %s\n", hex.EncodeToString(sum[:]), name)
	}
	path := filepath.Join(dir, ChecksumsFile)
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// ParseTargets parses a comma-separated list of GOOS/GOARCH.
func ParseTargets(s string) ([]Target, error) {
	var ts []Target
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		goos, goarch, ok := strings.Cut(f, "/")
		if !ok || goos == "" || goarch == "" {
			return nil, fmt.Errorf("-targets: %q is not GOOS/GOARCH", f)
		}
		ts = append(ts, Target{goos, goarch})
	}
	return ts, nil
}

// sourceDate is SOURCE_DATE_EPOCH's time, or now when it is not set.
func sourceDate() (time.Time, error) {
	s := os.Getenv("SOURCE_DATE_EPOCH")
	if s == "" {
		return time.Now(), nil
	}
	sec, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH %q: want seconds since 1970", s)
	}
	return time.Unix(sec, 0), nil
}

func main() {
	var o Options
	var targets string
	flag.StringVar(&o.Version, "version", "", "release version, e.g. v1.2.3 (required)")
	flag.StringVar(&o.Out, "out", "dist", "directory for the archives and "+ChecksumsFile)
	flag.StringVar(&o.Root, "root", ".", "module root of gotk-rules")
	flag.StringVar(&targets, "targets", "", "comma-separated GOOS/GOARCH to build (default: every released platform)")
	flag.IntVar(&o.Workers, "parallel", 0, "builds run at once (default: GOMAXPROCS)")
	flag.Parse()
	o.Targets = Targets
	if targets != "" {
		ts, err := ParseTargets(targets)
		if err != nil {
			fmt.Fprintln(os.Stderr, "release:", err)
			os.Exit(2)
		}
		o.Targets = ts
	}
	date, err := sourceDate()
	if err != nil {
		fmt.Fprintln(os.Stderr, "release:", err)
		os.Exit(2)
	}
	o.Date = date
	names, err := Release(o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "release:", err)
		os.Exit(1)
	}
	for _, n := range names {
		fmt.Println(filepath.Join(o.Out, n))
	}
	fmt.Println(filepath.Join(o.Out, ChecksumsFile))
}
