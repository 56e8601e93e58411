package actiontest_test

import (
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// regexpInputs finds the inputs.X references of action.yml.
var regexpInputs = regexp.MustCompile(`\binputs\.([A-Za-z0-9_-]+)`)

// workflowFiles are the workflows that use the action: the example in the
// docs and the repository's own.
func workflowFiles(t *testing.T) []string {
	t.Helper()
	files := []string{filepath.Join(root(t), "docs", "examples", "github-workflow.yml")}
	own, err := filepath.Glob(filepath.Join(root(t), ".github", "workflows", "*.yml"))
	require.NoError(t, err)
	require.NotEmpty(t, own, "the repository's workflow that uses: ./ (actionlint checks action.yml's inputs through it)")
	return append(files, own...)
}

// TestWorkflowsUseActionInputs: every step of the example and repository
// workflows that uses gotk-rules' action passes only inputs the action
// declares (actionlint checks this for uses: ./ but not for
// gotk-rules/gotk-rules@TAG, which it cannot fetch).
func TestWorkflowsUseActionInputs(t *testing.T) {
	a := loadAction(t)
	for _, path := range workflowFiles(t) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			b, err := os.ReadFile(path)
			require.NoError(t, err)
			var wf struct {
				Jobs map[string]struct {
					Steps []struct {
						Uses string            `yaml:"uses"`
						With map[string]string `yaml:"with"`
					} `yaml:"steps"`
				} `yaml:"jobs"`
			}
			require.NoError(t, yaml.Unmarshal(b, &wf))
			uses := 0
			for job, j := range wf.Jobs {
				for _, st := range j.Steps {
					if st.Uses != "./" && !strings.HasPrefix(st.Uses, "gotk-rules/gotk-rules@") {
						continue
					}
					uses++
					var keys []string
					for k := range st.With {
						keys = append(keys, k)
					}
					sort.Strings(keys)
					for _, k := range keys {
						_, ok := a.Inputs[k]
						require.True(t, ok, "job %s: input %q is not one of action.yml's", job, k)
					}
					if c, ok := st.With["command"]; ok {
						require.Contains(t, []string{"test", "lint"}, c, "job %s", job)
					}
				}
			}
			require.Positive(t, uses, "%s uses the action", path)
		})
	}
}
