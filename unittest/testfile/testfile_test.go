package testfile

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/stretchr/testify/require"
	yamlv2 "go.yaml.in/yaml/v2"
)

func TestWrite(t *testing.T) {
	long := strings.Repeat("x", 120)
	tests := []struct {
		name    string
		comment string
		tf      TestFile
		want    string
	}{
		{
			name: "minimal: no comment, empty lists omitted or flow",
			tf: TestFile{
				RuleFiles: []string{"rules.yml"},
				Tests:     []TestGroup{{Interval: model.Duration(time.Minute), InputSeries: []InputSeries{{Series: "up", Values: "1x3"}}}},
			},
			want: `rule_files:
  - "rules.yml"
tests:
  - interval: 1m
    input_series:
      - series: "up"
        values: "1x3"
`,
		},
		{
			name:    "everything gen and the sandbox write, in their order",
			comment: "first line\nsecond line\n",
			tf: TestFile{
				RuleFiles:          []string{"a.yml", "dir/b.yml"},
				EvaluationInterval: model.Duration(30 * time.Second),
				Tests: []TestGroup{{
					TestGroupName:  "group \"one\"",
					Interval:       model.Duration(time.Minute),
					StartTimestamp: StartTimestamp{time.Date(2024, 1, 2, 3, 4, 5, 500_000_000, time.FixedZone("x", 3600))},
					ExternalLabels: labels.FromStrings("region", "eu", "cluster", "c1"),
					ExternalURL:    "http://example.com/",
					InputSeries:    []InputSeries{{Series: `up{job="api"}`, Values: "1 _ stale"}},
					AlertRuleTests: []AlertTestCase{
						{EvalTime: model.Duration(0), Alertname: "Down", ExpAlerts: []ExpAlert{}},
						{EvalTime: model.Duration(90 * time.Minute), Alertname: "Down", ExpAlerts: []ExpAlert{
							{ExpLabels: map[string]string{"job": "api", "a10": "true", "a9": "1", "B": "x", "_z": "y"}, ExpAnnotations: map[string]string{"summary": "api: down"}},
							{ExpLabels: map[string]string{"job": "web"}},
						}},
					},
				}},
			},
			want: `# first line
# second line
rule_files:
  - "a.yml"
  - "dir/b.yml"
evaluation_interval: 30s
tests:
  - name: "group \"one\""
    interval: 1m
    start_timestamp: "2024-01-02T02:04:05.5Z"
    external_labels:
      "cluster": "c1"
      "region": "eu"
    external_url: "http://example.com/"
    input_series:
      - series: "up{job=\"api\"}"
        values: "1 _ stale"
    alert_rule_test:
      - eval_time: 0s
        alertname: "Down"
        exp_alerts: []
      - eval_time: 1h30m
        alertname: "Down"
        exp_alerts:
          - exp_labels:
              "B": "x"
              "_z": "y"
              "a10": "true"
              "a9": "1"
              "job": "api"
            exp_annotations:
              "summary": "api: down"
          - exp_labels:
              "job": "web"
`,
		},
		{
			name: "long and odd strings stay on one line",
			tf: TestFile{
				RuleFiles: []string{"r.yml"},
				Tests:     []TestGroup{{InputSeries: []InputSeries{{Series: "m{l=\"" + long + "\"}", Values: "é\t\\"}}}},
			},
			want: `rule_files:
  - "r.yml"
tests:
  - interval: 0s
    input_series:
      - series: "m{l=\"` + long + `\"}"
        values: "é\t\\"
`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			require.NoError(t, Write(&b, tt.comment, &tt.tf))
			require.Equal(t, tt.want, b.String())

			// The runner reads back what was written (promtool's YAML
			// library, strictly).
			var back TestFile
			require.NoError(t, yamlv2.UnmarshalStrict(b.Bytes(), &back))
			want := tt.tf
			for i := range want.Tests {
				g := &want.Tests[i]
				if !g.StartTimestamp.IsZero() {
					g.StartTimestamp.Time = g.StartTimestamp.UTC()
				}
			}
			require.Equal(t, want.RuleFiles, back.RuleFiles)
			require.Equal(t, want.EvaluationInterval, back.EvaluationInterval)
			require.Len(t, back.Tests, len(want.Tests))
			for i, g := range want.Tests {
				got := back.Tests[i]
				require.Equal(t, g.TestGroupName, got.TestGroupName)
				require.Equal(t, g.Interval, got.Interval)
				require.True(t, g.StartTimestamp.Equal(got.StartTimestamp.Time), "start %v, read %v", g.StartTimestamp, got.StartTimestamp)
				require.True(t, labels.Equal(g.ExternalLabels, got.ExternalLabels), "external labels %v, read %v", g.ExternalLabels, got.ExternalLabels)
				require.Equal(t, g.ExternalURL, got.ExternalURL)
				require.Equal(t, g.InputSeries, got.InputSeries)
				require.Len(t, got.AlertRuleTests, len(g.AlertRuleTests))
				for j, tc := range g.AlertRuleTests {
					gtc := got.AlertRuleTests[j]
					require.Equal(t, tc.EvalTime, gtc.EvalTime)
					require.Equal(t, tc.Alertname, gtc.Alertname)
					require.Len(t, gtc.ExpAlerts, len(tc.ExpAlerts))
					for k, ea := range tc.ExpAlerts {
						require.Equal(t, ea.ExpLabels, gtc.ExpAlerts[k].ExpLabels)
						require.Equal(t, len(ea.ExpAnnotations), len(gtc.ExpAlerts[k].ExpAnnotations))
						for name, v := range ea.ExpAnnotations {
							require.Equal(t, v, gtc.ExpAlerts[k].ExpAnnotations[name])
						}
					}
				}
			}
		})
	}
}

func TestParseTime(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Time
		wantErr bool
	}{
		{in: "0", want: time.Unix(0, 0).UTC()},
		{in: "1700000000.5", want: time.Unix(1700000000, 500_000_000).UTC()},
		{in: "2024-01-02T03:04:05Z", want: time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)},
		{in: "2024-01-02", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseTime(tt.in)
			if tt.wantErr {
				require.ErrorContains(t, err, "cannot parse")
				return
			}
			require.NoError(t, err)
			require.True(t, tt.want.Equal(got), "got %v", got)
		})
	}
}

func TestStartTimestampRoundTrip(t *testing.T) {
	in := StartTimestamp{time.Date(2024, 5, 6, 7, 8, 9, 123_000_000, time.UTC)}
	v, err := in.MarshalYAML()
	require.NoError(t, err)
	require.Equal(t, "2024-05-06T07:08:09.123Z", v)
	var out StartTimestamp
	require.NoError(t, yamlv2.Unmarshal([]byte(`"`+v.(string)+`"`), &out))
	require.True(t, in.Equal(out.Time))
}
