package testfile

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	yamlv2 "go.yaml.in/yaml/v2"

	"github.com/gotk-rules/gotk-rules/internal/blockyaml"
	"github.com/gotk-rules/gotk-rules/internal/testcorpus"
)

// decodeCases are test files DecodeStrict reads (ok) or leaves to the YAML
// library (false); each is also checked against that library.
var decodeCases = []struct {
	name string
	text string
	ok   bool
}{
	{"full", `rule_files:
  - rules.yml
evaluation_interval: 30s
group_eval_order: []
fuzzy_compare: true
tests:
  - name: "g"
    interval: 1m
    start_timestamp: 1700000000.5
    external_labels:
      cluster: c1
      "0": zero
    external_url: http://x
    input_series:
      - series: 'up{job="a"}'
        values: "1 0 _ stale 1+1x3"
      - series: x
        values: 1
    alert_rule_test:
      - eval_time: 5m
        alertname: A
        exp_alerts:
          - exp_labels:
              severity: page
              n: 10
            exp_annotations: {}
      - eval_time: 10m
        alertname: B
        exp_alerts: []
    promql_expr_test:
      - expr: up == 1
        eval_time: 0
        exp_samples:
          - labels: 'up{job="a"}'
            value: 1
          - labels: x
            value: -2.5e3
          - value: 18446744073709551615
          - value: 12345678901234567890123
          - value: -0.0
          - histogram: "{{count:1}}"
`, true},
	{"minimal", "rule_files: []\ntests:\n  - interval: 1m\n", true},
	{"nulls", "rule_files:\nevaluation_interval:\ntests:\n  -\n  - name: ~\n    interval: null\n    input_series: Null\n    external_labels:\n", true},
	{"timestamp rfc3339", "tests:\n- start_timestamp: 2024-01-02T03:04:05Z\n  interval: 1m\n", true},
	{"unknown field", "tests:\n- name: a\n  intervals: 1m\n", false},
	{"repeated field", "tests:\n- name: a\n  name: b\n", false},
	{"repeated label", "tests:\n- external_labels:\n    a: 1\n    \"a\": 2\n", false},
	{"merge key", "tests:\n- <<: x\n", false},
	{"yaml 1.1 bool", "fuzzy_compare: yes\n", false},
	{"quoted bool", "fuzzy_compare: \"true\"\n", false},
	{"octal value", "tests:\n- promql_expr_test:\n  - exp_samples:\n    - value: 010\n", false},
	{"hex value", "tests:\n- promql_expr_test:\n  - exp_samples:\n    - value: 0x10\n", false},
	{"underscore value", "tests:\n- promql_expr_test:\n  - exp_samples:\n    - value: 1_000\n", false},
	{"minus zero", "tests:\n- promql_expr_test:\n  - exp_samples:\n    - value: -0\n", false},
	{"inf value", "tests:\n- promql_expr_test:\n  - exp_samples:\n    - value: .inf\n", false},
	{"quoted value", "tests:\n- promql_expr_test:\n  - exp_samples:\n    - value: \"1\"\n", false},
	{"bad duration", "evaluation_interval: 1x\n", false},
	{"quoted null duration", "evaluation_interval: \"~\"\n", false},
	{"Null duration", "evaluation_interval: Null\n", false},
	{"Null labels", "tests:\n- external_labels: NULL\n", false},
	{"list for string", "tests:\n- name:\n  - a\n", false},
	{"mapping for list", "rule_files: {}\n", false},
	{"bad timestamp", "tests:\n- start_timestamp: yesterday\n", false},
	{"block scalars", "tests:\n- alert_rule_test:\n  - alertname: A\n    exp_alerts:\n    - exp_annotations:\n        description: >-\n          a\n          b\n        summary: |\n          x\n", true},
	{"block scalar null duration", "evaluation_interval: |-\n  null\n", false},
	{"block scalar value", "tests:\n- promql_expr_test:\n  - exp_samples:\n    - value: >-\n        1\n", false},
	{"yaml 1.1 string values", "tests:\n- name: yes\n  input_series:\n  - series: on\n    values: 0x10\n", true},
}

func TestDecodeStrictCases(t *testing.T) {
	for _, c := range decodeCases {
		t.Run(c.name, func(t *testing.T) {
			n, ok := blockyaml.Parse([]byte(c.text))
			require.True(t, ok, "not in the block shape")
			tf, ok := DecodeStrict(n)
			if c.ok {
				require.True(t, ok)
			}
			if ok {
				requireSameAsV2(t, []byte(c.text), tf)
			}
		})
	}
}

// TestDecodeStrictMatchesYAMLv2 decodes every test file of the repository
// and of the conformance corpus both ways: each DecodeStrict reads must be
// what promtool's YAML library reads.
func TestDecodeStrictMatchesYAMLv2(t *testing.T) {
	files := testcorpus.YAMLFiles("../..")
	require.NotEmpty(t, files)
	read := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		if !strings.Contains(string(b), "tests:") {
			continue
		}
		n, ok := blockyaml.Parse(b)
		if !ok {
			continue
		}
		if tf, ok := DecodeStrict(n); ok {
			read++
			t.Run(f, func(t *testing.T) { requireSameAsV2(t, b, tf) })
		}
	}
	t.Logf("%d test files read", read)
	assert.Greater(t, read, 100)
}

func FuzzDecodeStrict(f *testing.F) {
	for _, c := range decodeCases {
		f.Add(c.text)
	}
	f.Fuzz(func(t *testing.T, text string) {
		n, ok := blockyaml.Parse([]byte(text))
		if !ok {
			return
		}
		if tf, ok := DecodeStrict(n); ok {
			requireSameAsV2(t, []byte(text), tf)
		}
	})
}

func requireSameAsV2(t *testing.T, b []byte, tf *TestFile) {
	t.Helper()
	var want TestFile
	require.NoError(t, yamlv2.UnmarshalStrict(b, &want), "the YAML library refuses what DecodeStrict read:\n%s", b)
	require.Equal(t, &want, tf)
}
