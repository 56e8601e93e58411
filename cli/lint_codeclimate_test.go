package cli_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gotk-rules/gotk-rules/cli"
)

// TestLintCodeClimate runs lint --format codeclimate end to end: the GitLab
// Code Quality report of the lint test inputs, as a golden file.
func TestLintCodeClimate(t *testing.T) {
	r := lintRun(t, append([]string{"--format", "codeclimate"}, lintInputs...)...)
	require.Equal(t, cli.ExitFailed, r.code, r.stderr)
	require.Equal(t, "4 files linted: 8 findings (3 errors, 4 warnings, 1 info)\n", r.stderr)
	lintGolden(t, "codeclimate.json", r.stdout)
	var issues []struct {
		CheckName string `json:"check_name"`
		Location  struct {
			Path string `json:"path"`
		} `json:"location"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &issues))
	require.Len(t, issues, 8)
	for _, is := range issues {
		require.NotEmpty(t, is.CheckName)
		require.Contains(t, lintInputs, is.Location.Path)
	}

	r = lintRun(t, "--format", "codeclimate", "testdata/lint/clean.yml")
	require.Equal(t, cli.ExitOK, r.code, r.stderr)
	require.Equal(t, "[]\n", r.stdout)
}
