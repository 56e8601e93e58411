package unittest

import (
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/stretchr/testify/require"
)

func TestDecode(t *testing.T) {
	const in = `
rule_files: [a.yml, 'b/*.yml']
evaluation_interval: 30s
group_eval_order: [g1, g2]
fuzzy_compare: true
tests:
- name: one
  interval: 15s
  external_labels: {cluster: eu}
  external_url: http://example.com
  start_timestamp: 1700000000.5
  input_series:
  - series: 'up{job="a"}'
    values: '1x3'
  alert_rule_test:
  - eval_time: 2m
    alertname: A
    exp_alerts:
    - exp_labels: {severity: page}
      exp_annotations: {summary: s}
  promql_expr_test:
  - expr: up
    eval_time: 1m
    exp_samples:
    - labels: 'up{job="a"}'
      value: 1
    - labels: 'h'
      histogram: '{{count:1}}'
- start_timestamp: '2024-01-02T03:04:05Z'
`
	tf, err := decode([]byte(in), false)
	require.NoError(t, err)
	require.Equal(t, []string{"a.yml", "b/*.yml"}, tf.RuleFiles)
	require.Equal(t, model.Duration(30*time.Second), tf.EvaluationInterval)
	require.Equal(t, []string{"g1", "g2"}, tf.GroupEvalOrder)
	require.True(t, tf.FuzzyCompare)
	require.Len(t, tf.Tests, 2)
	g := tf.Tests[0]
	require.Equal(t, "one", g.TestGroupName)
	require.Equal(t, model.Duration(15*time.Second), g.Interval)
	require.Equal(t, labels.FromStrings("cluster", "eu"), g.ExternalLabels)
	require.Equal(t, "http://example.com", g.ExternalURL)
	require.Equal(t, time.Unix(1700000000, 500_000_000).UTC(), g.StartTimestamp.Time)
	require.Equal(t, []InputSeries{{Series: `up{job="a"}`, Values: "1x3"}}, g.InputSeries)
	require.Equal(t, []AlertTestCase{{EvalTime: model.Duration(2 * time.Minute), Alertname: "A",
		ExpAlerts: []ExpAlert{{ExpLabels: map[string]string{"severity": "page"}, ExpAnnotations: map[string]string{"summary": "s"}}}}}, g.AlertRuleTests)
	require.Equal(t, []ExprTestCase{{Expr: "up", EvalTime: model.Duration(time.Minute),
		ExpSamples: []ExpSample{{Labels: `up{job="a"}`, Value: 1}, {Labels: "h", Histogram: "{{count:1}}"}}}}, g.PromqlExprTests)
	require.Equal(t, time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC), tf.Tests[1].StartTimestamp.Time)
}

func TestDecodeErrors(t *testing.T) {
	f := func(in string, lenient bool, want string) {
		t.Helper()
		tf, err := decode([]byte(in), lenient)
		require.Nil(t, tf)
		require.EqualError(t, err, want)
	}
	// Values refused by their own type get the line and column of the value,
	// in the form positionedYAMLError rewrites as file:line:col.
	f("tests:\n- promql_expr_test:\n  - expr: up\n    eval_time: abc\n", false, `yaml: line 4:16: not a valid duration string: "abc"`)
	f("tests:\n- promql_expr_test:\n  - expr: up\n    eval_time: -5m\n", false, `yaml: line 4:16: not a valid duration string: "-5m"`)
	f("evaluation_interval: 1x\n", true, `yaml: line 1:22: unknown unit "x" in duration "1x"`)
	f("tests:\n- interval: 1m\n  start_timestamp: yesterday\n", false, `yaml: line 3:20: cannot parse "yesterday" to a valid timestamp`)
	// Only a value of a duration key can give a duration error.
	f("tests:\n- name: '1'\n  interval: '1'\n", false, `yaml: line 3:13: not a valid duration string: "1"`)
	// YAML's own errors keep YAML's positions.
	f("tests: [\n", false, "yaml: line 1: did not find expected node content")
	f("tests:\n- colour: blue\n", false, "yaml: unmarshal errors:\n  line 2: field colour not found in type unittest.TestGroup")
	f("tests: 3\n", true, "yaml: unmarshal errors:\n  line 1: cannot unmarshal !!int `3` into []unittest.TestGroup")

	tf, err := decode([]byte("tests:\n- colour: blue\n"), true)
	require.NoError(t, err)
	require.Len(t, tf.Tests, 1)
}

func TestPositionedYAMLError(t *testing.T) {
	f := func(in, want string) {
		t.Helper()
		_, err := decode([]byte(in), false)
		require.Error(t, err)
		require.EqualError(t, positionedYAMLError("t.yml", []byte(in), err), want)
	}
	f("tests:\n- promql_expr_test:\n  - eval_time: abc\n", `t.yml:3:16: not a valid duration string: "abc"`)
	f("tests:\n- colour: blue\n  size: 3\n", "t.yml:2:3: field colour not found in type unittest.TestGroup (and 1 more error)")
	f("tests: [\n", "t.yml:1:1: did not find expected node content")
	f("tests:\n  \t- x\n", "t.yml:2:4: found character that cannot start any token")
}

func TestParseTime(t *testing.T) {
	f := func(in string, want time.Time) {
		t.Helper()
		got, err := parseTime(in)
		require.NoError(t, err)
		require.True(t, want.Equal(got), "%s: got %s want %s", in, got, want)
	}
	f("0", time.Unix(0, 0))
	f("1700000000", time.Unix(1700000000, 0))
	f("1.25", time.Unix(1, 250_000_000))
	f("2024-01-02T03:04:05Z", time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC))
	f("2024-01-02T03:04:05.5+01:00", time.Date(2024, 1, 2, 2, 4, 5, 500_000_000, time.UTC))
	_, err := parseTime("2024-01-02")
	require.EqualError(t, err, `cannot parse "2024-01-02" to a valid timestamp`)
}
