package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
)

// Version is the release version of gotk-rules. Releases set it at link time:
//
//	go build -ldflags "-X github.com/gotk-rules/gotk-rules/cli.Version=v1.2.3" ./cmd/gotk-rules
//
// Left empty, the main module's version from the build information is used:
// the tag or pseudo-version Go stamps when it builds inside a git checkout,
// "(devel)" otherwise.
var Version = ""

// Revision is the VCS revision gotk-rules was built from, for builds made
// without VCS information (a source tarball, a container build context
// without .git). Set it at link time as Version; left empty, the revision Go
// stamped (vcs.revision) is used.
var Revision = ""

// prometheusModule is the module whose PromQL engine and rule manager
// gotk-rules embeds.
const prometheusModule = "github.com/prometheus/prometheus"

// VersionInfo says what a gotk-rules binary was built from.
type VersionInfo struct {
	// Version is the release version, the module version or "(devel)".
	Version string `json:"version"`
	// Revision is the VCS revision ("" when unknown).
	Revision string `json:"revision,omitempty"`
	// Time is the revision's commit time, RFC 3339 ("" when unknown).
	Time string `json:"time,omitempty"`
	// Modified is true when the work tree had uncommitted changes.
	Modified bool `json:"modified"`
	// GoVersion is the Go toolchain that built the binary.
	GoVersion string `json:"go_version"`
	// Platform is GOOS/GOARCH of the binary.
	Platform string `json:"platform"`
	// Prometheus is the version of the embedded Prometheus module
	// (github.com/prometheus/prometheus), e.g. v0.315.0.
	Prometheus string `json:"prometheus"`
	// PrometheusRelease is the Prometheus release that module version is,
	// e.g. 3.15.0 for v0.315.0 ("" when it cannot be told).
	PrometheusRelease string `json:"prometheus_release,omitempty"`
}

// ReadVersionInfo returns the running binary's version information, from
// its build information and the link-time overrides Version and Revision.
func ReadVersionInfo() VersionInfo {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		bi = nil
	}
	return versionFrom(bi, Version, Revision)
}

// versionFrom builds VersionInfo from build information (nil when the binary
// has none) and link-time overrides of the version and revision ("" for none).
func versionFrom(bi *debug.BuildInfo, version, revision string) VersionInfo {
	v := VersionInfo{
		Version:   "(devel)",
		GoVersion: runtime.Version(),
		Platform:  runtime.GOOS + "/" + runtime.GOARCH,
	}
	if bi != nil {
		if bi.GoVersion != "" {
			v.GoVersion = bi.GoVersion
		}
		if bi.Main.Version != "" {
			v.Version = bi.Main.Version
		}
		var goos, goarch string
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				v.Revision = s.Value
			case "vcs.time":
				v.Time = s.Value
			case "vcs.modified":
				v.Modified = s.Value == "true"
			case "GOOS":
				goos = s.Value
			case "GOARCH":
				goarch = s.Value
			}
		}
		if goos != "" && goarch != "" {
			v.Platform = goos + "/" + goarch
		}
		for _, d := range bi.Deps {
			if d.Path != prometheusModule {
				continue
			}
			v.Prometheus = d.Version
			if d.Replace != nil {
				v.Prometheus = d.Replace.Version
				if d.Replace.Version == "" {
					v.Prometheus = "(replaced by " + d.Replace.Path + ")"
				}
			}
		}
	}
	if version != "" {
		v.Version = version
	}
	if revision != "" {
		v.Revision = revision
	}
	if v.Prometheus == "" {
		v.Prometheus = "unknown"
	}
	v.PrometheusRelease = prometheusRelease(v.Prometheus)
	return v
}

// prometheusRelease turns the Prometheus Go module version into the release
// it is: v0.315.0 is Prometheus 3.15.0 and v0.55.1 is 2.55.1 (Prometheus
// tags each release twice, the second time as v0.MNN.P for Go modules).
// It returns "" for anything else.
func prometheusRelease(module string) string {
	rest, ok := strings.CutPrefix(module, "v0.")
	if !ok {
		return ""
	}
	minorStr, patch, ok := strings.Cut(rest, ".")
	if !ok {
		return ""
	}
	if i := strings.IndexAny(patch, "-+"); i >= 0 {
		patch = patch[:i] // a pseudo-version or build metadata
	}
	minor, err := strconv.Atoi(minorStr)
	if err != nil || minor < 0 {
		return ""
	}
	if _, err := strconv.Atoi(patch); err != nil {
		return ""
	}
	major := 2
	if minor >= 300 {
		major, minor = minor/100, minor%100
	}
	return fmt.Sprintf("%d.%d.%s", major, minor, patch)
}

// String is the version as `gotk-rules --version` prints it, several lines.
func (v VersionInfo) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "gotk-rules %s\n", v.Version)
	rev := "unknown (built without VCS information)"
	if v.Revision != "" {
		rev = v.Revision
		var extra []string
		if v.Time != "" {
			extra = append(extra, v.Time)
		}
		if v.Modified {
			extra = append(extra, "modified")
		}
		if len(extra) > 0 {
			rev += " (" + strings.Join(extra, ", ") + ")"
		}
	}
	fmt.Fprintf(&b, "  revision:   %s\n", rev)
	fmt.Fprintf(&b, "  go:         %s %s\n", v.GoVersion, v.Platform)
	prom := v.Prometheus
	if v.PrometheusRelease != "" {
		prom += " (Prometheus " + v.PrometheusRelease + ")"
	}
	fmt.Fprintf(&b, "  prometheus: %s\n", prom)
	return b.String()
}

// writeVersion writes v as text or JSON.
func writeVersion(w io.Writer, v VersionInfo, format string) error {
	switch format {
	case "text":
		_, err := io.WriteString(w, v.String())
		return err
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	return badInput(fmt.Errorf("--format %q: want text or json", format))
}

// addVersion gives root a --version flag and a version command.
func addVersion(root *cobra.Command, g *globals) {
	root.Version = ReadVersionInfo().String()
	root.SetVersionTemplate("{{.Version}}")
	// Cobra prints root.Version for this flag before running anything.
	root.Flags().BoolP("version", "v", false, "print the version, VCS revision, Go and embedded Prometheus versions")
	var format string
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the version, VCS revision, Go and embedded Prometheus versions",
		Long: `version prints what this gotk-rules binary was built from: its version,
the VCS revision and commit time (and whether the work tree was modified),
the Go toolchain and platform, and the version of the Prometheus module whose
PromQL engine and rule manager it embeds. gotk-rules --version prints the same
text.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			return writeVersion(g.stdout, ReadVersionInfo(), format)
		},
	}
	cmd.Flags().StringVar(&format, "format", "text", "output format: text or json")
	root.AddCommand(cmd)
}
