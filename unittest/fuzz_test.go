package unittest_test

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gotk-rules/gotk-rules/unittest"
)

// fuzzSeeds are test files covering what a test file can hold, well or
// badly written. They name rules.yml, the rule file beside them.
var fuzzSeeds = []string{
	// Everything that works.
	`rule_files: [rules.yml]
evaluation_interval: 1m
group_eval_order: [example]
fuzzy_compare: true
tests:
- name: all
  interval: 1m
  external_labels: {cluster: eu}
  external_url: http://example.com
  input_series:
  - series: 'up{job="api", instance="a"}'
    values: '1 0 0 0 _ stale 1+1x2 -1-1x2'
  - series: 'lat{job="api"}'
    values: '{{schema:0 sum:5 count:4 buckets:[1 2 1]}}+{{schema:0 sum:1 count:1 buckets:[1]}}x3'
  alert_rule_test:
  - eval_time: 3m
    alertname: InstanceDown
    exp_alerts:
    - exp_labels: {severity: page, job: api, instance: a}
      exp_annotations: {summary: 'Instance a down'}
  promql_expr_test:
  - expr: job:up:sum
    eval_time: 2m
    exp_samples:
    - labels: 'job:up:sum{job="api"}'
      value: 0
  - expr: lat
    eval_time: 1m
    exp_samples:
    - labels: 'lat{job="api"}'
      histogram: '{{schema:0 sum:6 count:5 counter_reset_hint:not_reset buckets:[2 2 1]}}'
`,
	`rule_files: [rules.yml]
tests:
- start_timestamp: 1700000000
  input_series:
  - series: up
    values: 0x20
  alert_rule_test:
  - {eval_time: 10m, alertname: InstanceDown, exp_alerts: [{exp_labels: {severity: page}, exp_annotations: {summary: 'Instance  down'}}]}
- start_timestamp: '2024-01-01T00:00:00Z'
  promql_expr_test:
  - {expr: 'vector(1)', eval_time: 0s, exp_samples: [{labels: '{}', value: 1}]}
`,
	// Failures and bad input of every kind.
	"rule_files: [rules.yml]\ntests:\n- input_series:\n  - series: up\n    values: '1 2 x3'\n",
	"rule_files: [rules.yml]\ntests:\n- input_series:\n  - series: 'foo{'\n    values: '1'\n",
	"rule_files: [rules.yml]\ntests:\n- input_series:\n  - series: up\n    values: 1x1000000000\n",
	"rule_files: [rules.yml]\ntests:\n- input_series:\n  - series: up\n    values: 1x1000000000x\n",
	"rule_files: [rules.yml]\ntests:\n- promql_expr_test:\n  - expr: up\n    eval_time: 100y\n",
	"rule_files: [rules.yml]\ntests:\n- promql_expr_test:\n  - expr: 'sum(up'\n    eval_time: 1m\n",
	"rule_files: [rules.yml]\ntests:\n- promql_expr_test:\n  - expr: up\n    eval_time: 1m\n    exp_samples:\n    - labels: 'up{'\n",
	"rule_files: [rules.yml]\ntests:\n- promql_expr_test:\n  - expr: up\n    eval_time: 1m\n    exp_samples:\n    - labels: up\n      histogram: '{{count:x}}'\n",
	"rule_files: [rules.yml]\ntests:\n- promql_expr_test:\n  - expr: up\n    eval_time: -5m\n",
	"rule_files: [rules.yml]\ntests:\n- alert_rule_test:\n  - eval_time: 1m\n",
	"rule_files: [rules.yml]\ntests:\n- interval: -1m\n",
	"rule_files: [rules.yml]\nevaluation_interval: -1m\ntests: [{}]\n",
	"rule_files: [rules.yml]\ngroup_eval_order: [a, a]\ntests: [{}]\n",
	"rule_files: [nothing.yml]\ntests: [{}]\n",
	"rule_files: ['../../*']\ntests: [{}]\n",
	"rule_files: [rules.yml]\ntests:\n- colour: blue\n",
	"rule_files: [rules.yml]\ntests:\n- start_timestamp: yesterday\n",
	"rule_files: [rules.yml]\ntests:\n  - name: x\n   input_series: []\n",
	"rule_files: [rules.yml]\ntests: 3\n",
	"tests:\n- input_series:\n  - series: up\n    values: 1\n  promql_expr_test:\n  - {expr: up, eval_time: 0m}\n",
	"",
	"---\n",
	"\x00\xff",
}

const fuzzRules = `groups:
- name: example
  rules:
  - record: job:up:sum
    expr: sum by (job) (up)
  - alert: InstanceDown
    expr: up == 0
    for: 2m
    labels:
      severity: page
    annotations:
      summary: 'Instance {{ $labels.instance }} down'
`

// FuzzLoadTestFile runs any test file through the runner: it must never
// panic, and must give one file result with exit code 0, 1 or 2 that every
// report format can write.
func FuzzLoadTestFile(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, content []byte) {
		dir := t.TempDir()
		require.NoError(t, os.WriteFile(filepath.Join(dir, "rules.yml"), []byte(fuzzRules), 0o644))
		require.NoError(t, os.WriteFile(filepath.Join(dir, "fuzz_test.yml"), content, 0o644))
		r, err := unittest.NewRunner(unittest.Options{
			MaxSamples: 10000,
			MaxEvals:   10000,
			Parallel:   1,
			// Files are read below dir only: a fuzzed rule_files must not
			// read the machine's files (a directory walk of /, /dev/zero).
			FS: os.DirFS(dir),
		})
		require.NoError(t, err)
		res := r.Run("fuzz_test.yml")
		require.NotNil(t, res)
		require.Len(t, res.Files, 1)
		require.Equal(t, "fuzz_test.yml", res.Files[0].File)
		code := res.ExitCode()
		require.Contains(t, []int{unittest.ExitPassed, unittest.ExitFailed, unittest.ExitBadInput}, code)
		if res.Files[0].Error != "" {
			require.Equal(t, unittest.ExitBadInput, code)
		}

		require.NoError(t, unittest.WriteText(io.Discard, res, true))
		require.NoError(t, unittest.WriteText(io.Discard, res, false))
		var js bytes.Buffer
		require.NoError(t, unittest.WriteJSON(&js, res))
		require.True(t, json.Valid(js.Bytes()), "%s", js.Bytes())
		var x bytes.Buffer
		require.NoError(t, unittest.WriteJUnit(&x, res, time.Unix(0, 0)))
		require.NoError(t, xml.Unmarshal(x.Bytes(), new(struct{})), "%s", x.Bytes())
	})
}

// TestFuzzSeedsVerdicts keeps the seed corpus meaningful: the first two
// seeds pass, the third is bad input. Files are read below the seed's directory only,
// as in FuzzLoadTestFile: through the machine's files, the seed naming
// '../../*' read every file in the temporary directory's parent (on a
// machine with a full /tmp, minutes under -race).
func TestFuzzSeedsVerdicts(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "rules.yml"), []byte(fuzzRules), 0o644))
	for i, s := range fuzzSeeds {
		const name = "seed_test.yml"
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(s), 0o644))
		r, err := unittest.NewRunner(unittest.Options{MaxSamples: 10000, MaxEvals: 10000, FS: os.DirFS(dir)})
		require.NoError(t, err)
		res := r.Run(name)
		var b bytes.Buffer
		require.NoError(t, unittest.WriteText(&b, res, false))
		switch {
		case i < 2:
			require.Equal(t, unittest.ExitPassed, res.ExitCode(), "seed %d:\n%s", i, b.String())
		case i == 2:
			require.Equal(t, unittest.ExitBadInput, res.ExitCode(), "seed %d:\n%s", i, b.String())
		}
	}
}
