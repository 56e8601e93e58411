package actiontest_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// monitoringRepo is a user's repository as the CI examples assume it:
// rules in monitoring/rules/ (the shipped rules lint finds clean) and their
// scenarios in monitoring/tests/.
func monitoringRepo(t *testing.T) string {
	t.Helper()
	ws := t.TempDir()
	for _, dir := range []string{"monitoring/rules", "monitoring/tests"} {
		require.NoError(t, os.MkdirAll(filepath.Join(ws, dir), 0o755))
	}
	for _, r := range []string{"flux-operator.yml", "flux-reconciliation.yml", "flux-resource-info.yml"} {
		b, err := os.ReadFile(filepath.Join(root(t), "rules", r))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(ws, "monitoring", "rules", r), b, 0o644))
	}
	for _, s := range []string{"operator-report-lag.scenario.yml", "reconciliation-dependency-wait-and-deletion.scenario.yml", "resource-info-ksm-slow-reconcile.scenario.yml"} {
		b, err := os.ReadFile(filepath.Join(root(t), "testdata", "series", s))
		require.NoError(t, err)
		moved := strings.ReplaceAll(string(b), "../../rules/", "../rules/")
		require.NotEqual(t, string(b), moved)
		require.NoError(t, os.WriteFile(filepath.Join(ws, "monitoring", "tests", s), []byte(moved), 0o644))
	}
	return ws
}

// gitlabJob is what the tests read of a GitLab CI job.
type gitlabJob struct {
	Extends      string   `yaml:"extends"`
	BeforeScript []string `yaml:"before_script"`
	Script       []string `yaml:"script"`
	Artifacts    struct {
		When    string            `yaml:"when"`
		Reports map[string]string `yaml:"reports"`
	} `yaml:"artifacts"`
}

// gitlabJobs returns the jobs (and hidden jobs) of a .gitlab-ci.yml: its
// top-level keys other than GitLab's global keywords.
func gitlabJobs(t *testing.T, b []byte) map[string]gitlabJob {
	t.Helper()
	var doc map[string]yaml.Node
	require.NoError(t, yaml.Unmarshal(b, &doc))
	jobs := map[string]gitlabJob{}
	for name, node := range doc {
		switch name {
		case "stages", "variables", "default", "include", "workflow":
			continue
		}
		var j gitlabJob
		require.NoError(t, node.Decode(&j), name)
		jobs[name] = j
	}
	return jobs
}

// TestGitLabExample runs the jobs of docs/examples/gitlab-ci.yml as a
// runner would (before_script then script, in bash -e), the release
// download pointed at a local server: the JUnit and Code Quality reports
// are written where the artifacts: say.
func TestGitLabExample(t *testing.T) {
	skipUnsupported(t)
	t.Parallel()
	b, err := os.ReadFile(filepath.Join(root(t), "docs", "examples", "gitlab-ci.yml"))
	require.NoError(t, err)
	jobs := gitlabJobs(t, b)
	var vars struct {
		Variables map[string]string `yaml:"variables"`
	}
	require.NoError(t, yaml.Unmarshal(b, &vars))
	version := vars.Variables["GOTK_RULES_VERSION"]
	require.Regexp(t, `^v\d+\.\d+\.\d+$`, version)

	releases := t.TempDir()
	publish(t, releases, version, false)
	url := serve(t, releases, version)

	reports := map[string]string{}
	for name, j := range jobs {
		if j.Extends == "" {
			continue
		}
		t.Run(name, func(t *testing.T) {
			base, ok := jobs[j.Extends]
			require.True(t, ok, "%s extends %s", name, j.Extends)
			ws := monitoringRepo(t)
			bin := t.TempDir()
			script := "set -e\n" + strings.Join(append(append([]string{}, base.BeforeScript...), j.Script...), "\n")
			script = strings.ReplaceAll(script, "https://github.com/gotk-rules/gotk-rules/releases/download", url)
			script = strings.ReplaceAll(script, "/usr/local/bin", bin)
			require.NotContains(t, script, "github.com", "every download goes to the local server")
			cmd := exec.Command("bash", "--noprofile", "--norc", "-c", script)
			cmd.Dir = ws
			cmd.Env = append(os.Environ(), "GOTK_RULES_VERSION="+version, "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"))
			out, err := cmd.CombinedOutput()
			require.NoError(t, err, "%s", out)
			require.Equal(t, "always", j.Artifacts.When, "reports are kept when the job fails")
			require.NotEmpty(t, j.Artifacts.Reports)
			for kind, file := range j.Artifacts.Reports {
				data, err := os.ReadFile(filepath.Join(ws, file))
				require.NoError(t, err, "%s report %s", kind, file)
				reports[kind] = string(data)
				switch kind {
				case "junit":
					require.Contains(t, string(data), "<testsuite")
					require.Contains(t, string(data), "monitoring/tests/operator-report-lag.scenario.yml")
				case "codequality":
					var issues []map[string]any
					require.NoError(t, json.Unmarshal(data, &issues), "%s", data)
				default:
					t.Fatalf("unexpected report kind %s", kind)
				}
			}
		})
	}
	require.Contains(t, reports, "junit")
	require.Contains(t, reports, "codequality")
}

// TestGitLabExampleChecksum: the example's install refuses an archive that
// checksums.txt does not vouch for.
func TestGitLabExampleChecksum(t *testing.T) {
	skipUnsupported(t)
	t.Parallel()
	b, err := os.ReadFile(filepath.Join(root(t), "docs", "examples", "gitlab-ci.yml"))
	require.NoError(t, err)
	jobs := gitlabJobs(t, b)
	releases := t.TempDir()
	publish(t, releases, testVersion, true)
	bin := t.TempDir()
	script := strings.Join(jobs[".gotk-rules"].BeforeScript, "\n")
	require.NotEmpty(t, script)
	script = strings.ReplaceAll(script, "https://github.com/gotk-rules/gotk-rules/releases/download", serve(t, releases, testVersion))
	script = strings.ReplaceAll(script, "/usr/local/bin", bin)
	cmd := exec.Command("bash", "--noprofile", "--norc", "-c", script)
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(), "GOTK_RULES_VERSION="+testVersion)
	out, err := cmd.CombinedOutput()
	require.Error(t, err, "%s", out)
	require.Contains(t, string(out), "FAILED")
	_, err = os.Stat(filepath.Join(bin, "gotk-rules"))
	require.True(t, os.IsNotExist(err))
}

// preCommitHook is a hook of .pre-commit-hooks.yaml.
type preCommitHook struct {
	ID            string `yaml:"id"`
	Name          string `yaml:"name"`
	Entry         string `yaml:"entry"`
	Language      string `yaml:"language"`
	Files         string `yaml:"files"`
	Exclude       string `yaml:"exclude"`
	PassFilenames *bool  `yaml:"pass_filenames"`
}

// TestPreCommitHooks checks .pre-commit-hooks.yaml and runs each hook's
// entry as pre-commit would: the entry's command is what go install builds
// (cmd/NAME), and it gets the staged files that match files: and not
// exclude:.
func TestPreCommitHooks(t *testing.T) {
	skipUnsupported(t)
	t.Parallel()
	b, err := os.ReadFile(filepath.Join(root(t), ".pre-commit-hooks.yaml"))
	require.NoError(t, err)
	var hooks []preCommitHook
	require.NoError(t, yaml.Unmarshal(b, &hooks))
	byID := map[string]preCommitHook{}
	for _, h := range hooks {
		require.NotEmpty(t, h.Name, h.ID)
		require.Equal(t, "golang", h.Language, h.ID)
		require.NotNil(t, h.PassFilenames, h.ID)
		require.True(t, *h.PassFilenames, h.ID)
		byID[h.ID] = h
	}
	require.Len(t, byID, 2)

	// The staged files of a repository, and which hook each goes to.
	staged := map[string][]string{
		"gotk-rules-lint": {"monitoring/rules/flux-operator.yml", "monitoring/rules/flux-resource-info.yml", "monitoring/tests/operator-report-lag.scenario.yml"},
		"gotk-rules-test": {"monitoring/tests/operator-report-lag.scenario.yml", "monitoring/tests/resource-info-ksm-slow-reconcile.scenario.yml"},
	}
	others := []string{".github/workflows/ci.yml", ".gitlab-ci.yml", ".pre-commit-config.yaml", "action.yml", ".gotk-rules.yaml", "README.md", "main.go"}
	all := append(append(append([]string{}, staged["gotk-rules-lint"]...), staged["gotk-rules-test"]...), others...)
	all = append(all, "monitoring/tests/x_test.yml", "monitoring/tests/y.test.yaml")
	staged["gotk-rules-test"] = append(staged["gotk-rules-test"], "monitoring/tests/x_test.yml", "monitoring/tests/y.test.yaml")
	for id, want := range staged {
		h := byID[id]
		files := regexp.MustCompile(h.Files)
		var exclude *regexp.Regexp
		if h.Exclude != "" {
			exclude = regexp.MustCompile(h.Exclude)
		}
		var got []string
		seen := map[string]bool{}
		for _, f := range all {
			if seen[f] || !files.MatchString(f) || (exclude != nil && exclude.MatchString(f)) {
				continue
			}
			seen[f] = true
			got = append(got, f)
		}
		wantSet := map[string]bool{}
		for _, f := range want {
			wantSet[f] = true
		}
		for _, f := range got {
			if id == "gotk-rules-lint" && (strings.HasSuffix(f, "_test.yml") || strings.HasSuffix(f, ".test.yaml") || strings.HasPrefix(f, "monitoring/")) {
				continue // lint skips test files itself; any monitoring/ YAML may be a rule file
			}
			require.True(t, wantSet[f], "%s would get %s", id, f)
		}
		for _, f := range want {
			require.True(t, seen[f], "%s would not get %s", id, f)
		}
	}

	// The entries run on real files: pass, then fail.
	bin := filepath.Dir(binary(t))
	require.DirExists(t, filepath.Join(root(t), "cmd", "gotk-rules"), "go install ./... names the binary after cmd/gotk-rules")
	run := func(h preCommitHook, dir string, files ...string) (int, string) {
		args := strings.Fields(h.Entry)
		require.Equal(t, "gotk-rules", args[0], h.ID)
		cmd := exec.Command(filepath.Join(bin, args[0]), append(args[1:], files...)...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode(), string(out)
		}
		require.NoError(t, err)
		return 0, string(out)
	}
	ws := monitoringRepo(t)
	code, out := run(byID["gotk-rules-lint"], ws, staged["gotk-rules-lint"][:3]...)
	require.Equal(t, 0, code, out)
	code, out = run(byID["gotk-rules-test"], ws, staged["gotk-rules-test"][:2]...)
	require.Equal(t, 0, code, out)

	shipped := workspace(t)
	code, out = run(byID["gotk-rules-lint"], shipped, "rules/gitopstoolkit.yml")
	require.Equal(t, 1, code, out)
	require.Contains(t, out, "flux/deleted-status")
	code, out = run(byID["gotk-rules-test"], shipped, "failing/broken.scenario.yml")
	require.Equal(t, 1, code, out)
}
