package lint_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gotk-rules/gotk-rules/internal/boundedio"
	"github.com/gotk-rules/gotk-rules/lint"
	"github.com/gotk-rules/gotk-rules/lint/checks"
)

// TestConfigErrorPositions checks that every configuration error is one
// line cfg.yaml:line:col: message.
func TestConfigErrorPositions(t *testing.T) {
	for _, tc := range []struct{ text, want string }{
		{"checks:\n  disable: [promql/regex-anchors, no/such]\n", `cfg.yaml:2:35: checks.disable: no check is named "no/such"`},
		{"checks:\n  enable:\n    - flux/nope\n", `cfg.yaml:3:7: checks.enable: no check is named "flux/nope"`},
		{"checks:\n  severity:\n    flux/*: fatal\n", `cfg.yaml:3:13: checks.severity.flux/*: unknown severity "fatal"`},
		{"flux:\n  namespace_label: ns\n", `cfg.yaml:2:20: flux.namespace_label "ns": want namespace or exported_namespace`},
		{"evaluation_interval: -1m\n", "cfg.yaml:1:22: "},
		{"evaluation_interval: 1x\n", `cfg.yaml:1:22: unknown unit "x"`},
		{"\nunknown: 1\n", "cfg.yaml:2:1: field unknown not found"},
		{"flux:\n  nope: 1\n  other: 2\n", "cfg.yaml:2:3: field nope not found in type struct { NamespaceLabel string \"yaml:\\\"namespace_label,omitempty\\\"\" } (and 1 more error)"},
		{"checks: [\n", "cfg.yaml:1:1: did not find expected node content"},
		{"flux:\n  namespace_label: \xff\n", "cfg.yaml:2:20: invalid UTF-8: byte 0xff"},
		{"flux: {namespace_label: \x00}\n", "cfg.yaml:1:25: character U+0000 is not allowed in YAML"},
		{"checks: {disable: *nope}\n", "cfg.yaml:1:19: alias *nope: no anchor &nope defined before it"},
		{"%YAML 2.0\n---\nflux: {}\n", "cfg.yaml:1:1: %YAML 2.0: unsupported YAML version"},
	} {
		c, err := lint.ParseConfig("cfg.yaml", []byte(tc.text))
		if err == nil {
			_, err = lint.New(lint.Options{Parser: parser, Config: c, Checks: checks.All()})
		}
		require.Error(t, err, tc.text)
		require.True(t, strings.HasPrefix(err.Error(), tc.want), "%q: got %q, want it to start with %q", tc.text, err.Error(), tc.want)
		require.NotContains(t, err.Error(), "\n", tc.text)
	}
}

func TestLoadConfigWithin(t *testing.T) {
	p := filepath.Join(t.TempDir(), "cfg.yaml")
	require.NoError(t, os.WriteFile(p, []byte("flux: {namespace_label: namespace}\n"), 0o644))
	c, err := lint.LoadConfigWithin(p, boundedio.Limits{})
	require.NoError(t, err)
	require.Equal(t, "namespace", c.Settings().FluxNamespaceLabel)
	_, err = lint.LoadConfigWithin(p, boundedio.Limits{Bytes: 10})
	require.ErrorContains(t, err, "over the limit of 10 (raise it with --max-input-bytes)")
	_, err = lint.LoadConfig("/dev/zero")
	require.ErrorIs(t, err, boundedio.ErrNotRegular)
}
