package sandbox

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestExportPromtoolGroupSettings: a promtool test group's start, external
// labels and URL are carried into the exported file, quoted as promtool
// reads them, and the file passes.
func TestExportPromtoolGroupSettings(t *testing.T) {
	srv := newTestServer(t, Options{NoLint: true})
	rules := `groups:
  - name: g
    rules:
      - alert: Down
        expr: up == 0
        for: 2m
        labels:
          region: "{{ $externalLabels.region }}"
        annotations:
          link: "{{ $externalURL }}"
`
	tests := []struct {
		name  string
		input string
		want  []string // lines the export must hold
		not   []string // and must not
	}{
		{
			name: "start, external labels and URL",
			input: `start_timestamp: "2024-01-02T03:04:05+01:00"
external_labels:
  region: "eu"
  cluster: "c1"
external_url: "http://prom.example.com/"
interval: 1m
input_series:
  - series: 'up{job="api"}'
    values: "1 1 0 0 0 0 1"
`,
			want: []string{
				`    start_timestamp: "2024-01-02T02:04:05Z"`,
				"    external_labels:\n      \"cluster\": \"c1\"\n      \"region\": \"eu\"\n",
				`    external_url: "http://prom.example.com/"`,
				"              \"region\": \"eu\"\n            exp_annotations:\n              \"link\": \"http://prom.example.com/\"\n",
				"      - series: \"up{job=\\\"api\\\"}\"\n        values: \"1 1 0 0 0 0 1\"\n",
			},
		},
		{
			name: "defaults are left out",
			input: `interval: 1m
input_series:
  - series: 'up{job="api"}'
    values: "1 0 0 0 0"
`,
			not: []string{"start_timestamp", "external_labels", "external_url"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var res ExportResponse
			post(t, srv, "/api/export", Request{Rules: rules, Input: tt.input}, &res)
			require.True(t, res.OK, "problems %+v", res.Problems)
			require.True(t, res.Passed, "report:\n%s\nfile:\n%s", res.Report, res.Test)
			require.Contains(t, res.Test, "alert_rule_test:")
			for _, w := range tt.want {
				require.Contains(t, res.Test, w)
			}
			for _, n := range tt.not {
				require.NotContains(t, res.Test, n)
			}
		})
	}
}
