package lint

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v3"

	"github.com/gotk-rules/gotk-rules/internal/boundedio"
	"github.com/gotk-rules/gotk-rules/internal/yamlpos"
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
	pos  yamlpos.Doc
}

// ParseConfig reads a configuration; name is used in error messages, each
// one line name:line:col: message.
func ParseConfig(name string, b []byte) (*Config, error) {
	if m, ok := yamlpos.CheckText(b); ok {
		return nil, errors.New(m.In(name))
	}
	c := &Config{name: name, pos: yamlpos.Parse(b)}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) {
		return nil, configYAMLError(name, b, err)
	}
	switch c.Flux.NamespaceLabel {
	case "", "namespace", "exported_namespace":
	default:
		return nil, c.errorAt(fmt.Sprintf("flux.namespace_label %q: want namespace or exported_namespace", c.Flux.NamespaceLabel), "flux", "namespace_label")
	}
	if c.EvaluationInterval < 0 {
		return nil, c.errorAt("evaluation_interval must be positive", "evaluation_interval")
	}
	return c, nil
}

// configYAMLError words the decoder's errors as one line name:line:col:
// message; a value the decoder could not place (a duration) is placed at
// the first value giving that error, other positions are completed by
// yamlpos.Place.
func configYAMLError(name string, b []byte, err error) error {
	var ms []yamlpos.Message
	for _, m := range yamlpos.Messages(err.Error()) {
		if m.Line == 0 {
			if line, col, ok := yamlpos.FindValue(b, func(key, value string) bool {
				_, derr := model.ParseDuration(value)
				return key == "evaluation_interval" && derr != nil && strings.Contains(m.Msg, derr.Error())
			}); ok {
				m.Line, m.Column = line, col
			}
		}
		m.Msg = strings.TrimPrefix(m.Msg, "yaml: ")
		ms = append(ms, m)
	}
	var parts []string
	for _, m := range yamlpos.Place(b, ms) {
		parts = append(parts, m.In(name))
	}
	return errors.New(strings.Join(parts, "\n"))
}

// errorAt words a problem at the value a path of keys and indexes leads to,
// as name:line:col: message (the configuration's name only, when it was
// not read from text).
func (c *Config) errorAt(msg string, path ...any) error {
	where := c.name
	if where == "" {
		where = "configuration"
	}
	line, col := c.pos.At(path...)
	return errors.New(yamlpos.Message{Line: line, Column: col, Msg: msg}.In(where))
}

// LoadConfig reads a configuration file with the default input limits.
func LoadConfig(file string) (*Config, error) {
	return LoadConfigWithin(file, boundedio.Limits{})
}

// LoadConfigWithin reads a configuration file within l: a file too large,
// a device or a named pipe nobody writes to is an error.
func LoadConfigWithin(file string, l boundedio.Limits) (*Config, error) {
	b, err := boundedio.ReadFile(file, l)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			return nil, fmt.Errorf("%s: %s: %w", file, pe.Op, pe.Err)
		}
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
	for i, pat := range c.Checks.Disable {
		names, err := Match(pat, checks)
		if err != nil {
			return nil, c.errorAt("checks.disable: "+err.Error(), "checks", "disable", i)
		}
		for _, n := range names {
			delete(out, n)
		}
	}
	defaults := map[string]Severity{}
	for _, m := range checks {
		defaults[m.Name] = m.Severity
	}
	for i, pat := range c.Checks.Enable {
		names, err := Match(pat, checks)
		if err != nil {
			return nil, c.errorAt("checks.enable: "+err.Error(), "checks", "enable", i)
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
			return nil, c.errorAt(fmt.Sprintf("checks.severity.%s: %v", pat, err), "checks", "severity", pat)
		}
		names, err := Match(pat, checks)
		if err != nil {
			return nil, c.errorAt("checks.severity: "+err.Error(), "checks", "severity", pat)
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
