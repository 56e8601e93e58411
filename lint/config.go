package lint

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v3"
)

// ConfigFile is the name of the configuration file looked for in the
// current directory.
const ConfigFile = ".gotk-rules.yaml"

// Config is the content of a .gotk-rules.yaml file.
//
//	evaluation_interval: 1m        # Prometheus' global evaluation_interval
//	checks:
//	  disable: [promql/regex-anchors, "flux/*"]
//	  enable: [flux/deleted-status]  # applied after disable
//	  severity:
//	    alert/for-missing: error
//	flux:
//	  namespace_label: exported_namespace  # or namespace (honor_labels)
type Config struct {
	EvaluationInterval model.Duration `yaml:"evaluation_interval,omitempty"`
	Checks             struct {
		Enable   []string          `yaml:"enable,omitempty"`
		Disable  []string          `yaml:"disable,omitempty"`
		Severity map[string]string `yaml:"severity,omitempty"`
	} `yaml:"checks,omitempty"`
	Flux struct {
		NamespaceLabel string `yaml:"namespace_label,omitempty"`
	} `yaml:"flux,omitempty"`

	name string
}

// ParseConfig reads a configuration; name is used in error messages.
func ParseConfig(name string, b []byte) (*Config, error) {
	c := &Config{name: name}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: %s", name, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	switch c.Flux.NamespaceLabel {
	case "", "namespace", "exported_namespace":
	default:
		return nil, fmt.Errorf("%s: flux.namespace_label %q: want namespace or exported_namespace", name, c.Flux.NamespaceLabel)
	}
	if c.EvaluationInterval < 0 {
		return nil, fmt.Errorf("%s: evaluation_interval must be positive", name)
	}
	return c, nil
}

// LoadConfig reads a configuration file.
func LoadConfig(file string) (*Config, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	return ParseConfig(file, b)
}

// Settings returns the settings the configuration gives, defaults filled in.
func (c *Config) Settings() Settings {
	s := Settings{EvaluationInterval: time.Minute, FluxNamespaceLabel: "exported_namespace"}
	if c == nil {
		return s
	}
	if c.EvaluationInterval > 0 {
		s.EvaluationInterval = time.Duration(c.EvaluationInterval)
	}
	if c.Flux.NamespaceLabel != "" {
		s.FluxNamespaceLabel = c.Flux.NamespaceLabel
	}
	return s
}

// Resolve returns the severity of every enabled check: the default, or the
// configured one. Unknown check names and severities are errors.
func (c *Config) Resolve(checks []Meta) (map[string]Severity, error) {
	out := map[string]Severity{}
	for _, m := range checks {
		out[m.Name] = m.Severity
	}
	if c == nil {
		return out, nil
	}
	where := c.name
	if where == "" {
		where = "configuration"
	}
	for _, pat := range c.Checks.Disable {
		names, err := Match(pat, checks)
		if err != nil {
			return nil, fmt.Errorf("%s: checks.disable: %w", where, err)
		}
		for _, n := range names {
			delete(out, n)
		}
	}
	defaults := map[string]Severity{}
	for _, m := range checks {
		defaults[m.Name] = m.Severity
	}
	for _, pat := range c.Checks.Enable {
		names, err := Match(pat, checks)
		if err != nil {
			return nil, fmt.Errorf("%s: checks.enable: %w", where, err)
		}
		for _, n := range names {
			out[n] = defaults[n]
		}
	}
	pats := make([]string, 0, len(c.Checks.Severity))
	for p := range c.Checks.Severity {
		pats = append(pats, p)
	}
	// Area patterns first, so a named check's own severity wins.
	sort.Slice(pats, func(i, j int) bool {
		wi, wj := strings.HasSuffix(pats[i], "*"), strings.HasSuffix(pats[j], "*")
		if wi != wj {
			return wi
		}
		return pats[i] < pats[j]
	})
	for _, pat := range pats {
		sev, err := ParseSeverity(c.Checks.Severity[pat])
		if err != nil {
			return nil, fmt.Errorf("%s: checks.severity.%s: %w", where, pat, err)
		}
		names, err := Match(pat, checks)
		if err != nil {
			return nil, fmt.Errorf("%s: checks.severity: %w", where, err)
		}
		for _, n := range names {
			if _, on := out[n]; on {
				out[n] = sev
			}
		}
	}
	return out, nil
}

// Match returns the checks a name or pattern names: "area/name", "area/*" or
// "all". A pattern that names no check is an error.
func Match(pat string, checks []Meta) ([]string, error) {
	var out []string
	for _, m := range checks {
		if MatchName(pat, m.Name) {
			out = append(out, m.Name)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no check is named %q", pat)
	}
	return out, nil
}

// MatchName reports whether pattern pat names check name.
func MatchName(pat, name string) bool {
	if pat == "all" || pat == name {
		return true
	}
	ok, err := path.Match(pat, name)
	return err == nil && ok
}
