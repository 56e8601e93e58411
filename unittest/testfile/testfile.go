// Package testfile is the promtool unit test file format: the types the
// test runner (package unittest) reads test files into, and Write, the one
// writer of the test files gotk-rules generates (`gotk-rules gen`, the
// sandbox's export), and DecodeStrict, the fast reading of the usual test
// file. It imports nothing of gotk-rules but the YAML reader
// internal/blockyaml, so that the packages the runner builds on (scenario)
// can write test files too.
package testfile

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"go.yaml.in/yaml/v3"
)

// TestFile is the content of one promtool unit test file.
type TestFile struct {
	RuleFiles          []string       `yaml:"rule_files"`
	EvaluationInterval model.Duration `yaml:"evaluation_interval,omitempty"`
	GroupEvalOrder     []string       `yaml:"group_eval_order,omitempty"`
	Tests              []TestGroup    `yaml:"tests"`
	FuzzyCompare       bool           `yaml:"fuzzy_compare,omitempty"`
}

// TestGroup is a group of input series and the assertions made on them.
// The fields are in the order Write writes them.
type TestGroup struct {
	TestGroupName   string          `yaml:"name,omitempty"`
	Interval        model.Duration  `yaml:"interval"`
	StartTimestamp  StartTimestamp  `yaml:"start_timestamp,omitempty"`
	ExternalLabels  labels.Labels   `yaml:"external_labels,omitempty"`
	ExternalURL     string          `yaml:"external_url,omitempty"`
	InputSeries     []InputSeries   `yaml:"input_series"`
	AlertRuleTests  []AlertTestCase `yaml:"alert_rule_test,omitempty"`
	PromqlExprTests []ExprTestCase  `yaml:"promql_expr_test,omitempty"`
}

// InputSeries is one series in expanding notation.
type InputSeries struct {
	Series string `yaml:"series"`
	Values string `yaml:"values"`
}

// AlertTestCase expects the firing alerts of one rule at one time.
type AlertTestCase struct {
	EvalTime  model.Duration `yaml:"eval_time"`
	Alertname string         `yaml:"alertname"`
	ExpAlerts []ExpAlert     `yaml:"exp_alerts"`
}

// ExpAlert is one expected firing alert.
type ExpAlert struct {
	ExpLabels      map[string]string `yaml:"exp_labels"`
	ExpAnnotations map[string]string `yaml:"exp_annotations,omitempty"`
}

// ExprTestCase expects the result of a PromQL expression at one time.
type ExprTestCase struct {
	Expr       string         `yaml:"expr"`
	EvalTime   model.Duration `yaml:"eval_time"`
	ExpSamples []ExpSample    `yaml:"exp_samples"`
}

// ExpSample is one expected sample; a non-empty Histogram means Value is ignored.
type ExpSample struct {
	Labels    string  `yaml:"labels"`
	Value     float64 `yaml:"value"`
	Histogram string  `yaml:"histogram"`
}

// StartTimestamp is a test group's start: RFC 3339 or Unix seconds.
type StartTimestamp struct {
	time.Time
}

// UnmarshalYAML accepts RFC 3339 and Unix timestamps, as promtool.
func (t *StartTimestamp) UnmarshalYAML(unmarshal func(any) error) error {
	var s string
	if err := unmarshal(&s); err != nil {
		return err
	}
	parsed, err := ParseTime(s)
	if err != nil {
		return err
	}
	t.Time = parsed
	return nil
}

// MarshalYAML writes the time in RFC 3339, in UTC.
func (t StartTimestamp) MarshalYAML() (any, error) {
	return t.UTC().Format(time.RFC3339Nano), nil
}

// ParseTime reads Unix seconds (with fraction) or RFC 3339, as promtool.
func ParseTime(s string) (time.Time, error) {
	if t, err := strconv.ParseFloat(s, 64); err == nil {
		sec, ns := math.Modf(t)
		return time.Unix(int64(sec), int64(ns*float64(time.Second))).UTC(), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("cannot parse %q to a valid timestamp", s)
}

// Write writes tf as a test file, after comment (its lines prefixed with
// "# "; none when empty). Every string is double-quoted, labels and
// annotations names too, so that no value is read as another type (a
// label value "true", an expanding notation "1"): only the field names and
// the durations are plain.
func Write(w io.Writer, comment string, tf *TestFile) error {
	var doc yaml.Node
	if err := doc.Encode(tf); err != nil {
		return fmt.Errorf("encoding the test file: %w", err)
	}
	quote(&doc, false)
	var b bytes.Buffer
	if comment != "" {
		for l := range strings.SplitSeq(strings.TrimSuffix(comment, "\n"), "\n") {
			b.WriteString(strings.TrimRight("# "+l, " ") + "\n")
		}
	}
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return fmt.Errorf("encoding the test file: %w", err)
	}
	if err := enc.Close(); err != nil {
		return fmt.Errorf("encoding the test file: %w", err)
	}
	_, err := w.Write(b.Bytes())
	return err
}

// plainFields are the fields whose values are durations, written plain as
// promtool's own files have them.
var plainFields = map[string]bool{"evaluation_interval": true, "interval": true, "eval_time": true}

// mapFields are the fields whose values are maps of names to strings: their
// keys are quoted too.
var mapFields = map[string]bool{"external_labels": true, "exp_labels": true, "exp_annotations": true}

// quote double-quotes the string scalars under n, and the keys of its
// mappings when keys is true.
func quote(n *yaml.Node, keys bool) {
	switch n.Kind {
	case yaml.DocumentNode, yaml.SequenceNode:
		for _, c := range n.Content {
			quote(c, false)
		}
	case yaml.MappingNode:
		if keys {
			sortKeys(n)
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if keys {
				quote(k, false)
			}
			if !keys && plainFields[k.Value] {
				continue
			}
			quote(v, !keys && mapFields[k.Value])
		}
	case yaml.ScalarNode:
		if n.Tag == "!!str" {
			n.Style = yaml.DoubleQuotedStyle
		}
	}
}

// sortKeys orders a mapping's pairs by key, byte-wise as Prometheus orders
// label names (the YAML library sorts digits by number value).
func sortKeys(n *yaml.Node) {
	pairs := make([][2]*yaml.Node, 0, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		pairs = append(pairs, [2]*yaml.Node{n.Content[i], n.Content[i+1]})
	}
	slices.SortStableFunc(pairs, func(a, b [2]*yaml.Node) int { return strings.Compare(a[0].Value, b[0].Value) })
	n.Content = n.Content[:0]
	for _, p := range pairs {
		n.Content = append(n.Content, p[0], p[1])
	}
}
