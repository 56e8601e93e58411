// Package unittest runs promtool `test rules` files unchanged on the embedded
// evaluator, with promtool's verdicts, and reports per file, group and
// assertion for people (text, diff) and machines (JSON, JUnit).
package unittest

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	yamlv2 "go.yaml.in/yaml/v2"

	"github.com/gotk-rules/gotk-rules/internal/yamlpos"
)

// TestFile is the content of one promtool unit test file.
type TestFile struct {
	RuleFiles          []string       `yaml:"rule_files"`
	EvaluationInterval model.Duration `yaml:"evaluation_interval,omitempty"`
	GroupEvalOrder     []string       `yaml:"group_eval_order"`
	Tests              []TestGroup    `yaml:"tests"`
	FuzzyCompare       bool           `yaml:"fuzzy_compare,omitempty"`
}

// TestGroup is a group of input series and the assertions made on them.
type TestGroup struct {
	Interval        model.Duration  `yaml:"interval"`
	InputSeries     []InputSeries   `yaml:"input_series"`
	AlertRuleTests  []AlertTestCase `yaml:"alert_rule_test,omitempty"`
	PromqlExprTests []ExprTestCase  `yaml:"promql_expr_test,omitempty"`
	ExternalLabels  labels.Labels   `yaml:"external_labels,omitempty"`
	ExternalURL     string          `yaml:"external_url,omitempty"`
	TestGroupName   string          `yaml:"name,omitempty"`
	StartTimestamp  StartTimestamp  `yaml:"start_timestamp,omitempty"`
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
	ExpAnnotations map[string]string `yaml:"exp_annotations"`
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
	parsed, err := parseTime(s)
	if err != nil {
		return err
	}
	t.Time = parsed
	return nil
}

// parseTime reads Unix seconds (with fraction) or RFC 3339, as promtool.
func parseTime(s string) (time.Time, error) {
	if t, err := strconv.ParseFloat(s, 64); err == nil {
		sec, ns := math.Modf(t)
		return time.Unix(int64(sec), int64(ns*float64(time.Second))).UTC(), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("cannot parse %q to a valid timestamp", s)
}

// decode reads a test file strictly (unknown fields are errors) unless
// lenient, with promtool's YAML library so values are read alike.
func decode(b []byte, lenient bool) (*TestFile, error) {
	var tf TestFile
	var err error
	if lenient {
		err = yamlv2.Unmarshal(b, &tf)
	} else {
		err = yamlv2.UnmarshalStrict(b, &tf)
	}
	if err != nil {
		return nil, locate(b, err)
	}
	return &tf, nil
}

// locate places an error the YAML library did not (a value refused by its
// own type: a duration or a timestamp) at the value that gives it, as
// "yaml: line L:C: msg", which positionedYAMLError turns into file:L:C: msg.
func locate(b []byte, err error) error {
	msg := err.Error()
	if strings.HasPrefix(msg, "yaml: ") {
		return err
	}
	line, col, ok := yamlpos.FindValue(b, func(key, value string) bool {
		var verr error
		switch key {
		case "evaluation_interval", "interval", "eval_time":
			_, verr = model.ParseDuration(value)
		case "start_timestamp":
			_, verr = parseTime(value)
		}
		return verr != nil && verr.Error() == msg
	})
	if !ok {
		return err
	}
	return fmt.Errorf("yaml: line %d:%d: %s", line, col, msg)
}
