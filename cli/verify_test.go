package cli_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gotk-rules/gotk-rules/cli"
)

// The alert patterns Flux users run (docs/rules-in-the-wild/), verified as
// docs/rules-in-the-wild.md quotes them: the verdict table, the scopes and
// the shrunk counterexamples.
func TestVerifyRulesInTheWild(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		file          string
		era, scrape   string
		wantExitCode  int
		wantInResults []string
	}{
		{"per-kind-resource-info.yml", "ksm", "direct", cli.ExitFailed, []string{`FluxHelmReleaseFailure`, `{customresource_kind="HelmRelease"}`, "(policy)"}},
		{"guide-exported-namespace.yml", "v2.1", "podmonitor", cli.ExitFailed, []string{"never fired"}},
		{"operator-resource-info.yml", "operator", "podmonitor", cli.ExitFailed, []string{"operator"}},
		{"per-kind-for-dedup.yml", "ksm", "podmonitor", cli.ExitFailed, []string{`FluxResourceNotReady: all objects`}},
		{"per-kind-resource-info-fixed.yml", "ksm", "direct", cli.ExitOK, []string{`FluxResourceFailure: {customresource_kind!~`}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			r := run(t, "verify", "--rules", filepath.Join("..", "docs", "rules-in-the-wild", tc.file),
				"--policy", "--era", tc.era, "--scrape", tc.scrape, "--runs", "40")
			require.Equal(t, tc.wantExitCode, r.code, r)
			for _, s := range tc.wantInResults {
				require.Contains(t, r.stdout, s)
			}
			golden(t, "verify-wild-"+strings.TrimSuffix(tc.file, ".yml")+".txt", r.stdout)
			// The page shows the paths from the repository's root.
			docBlock(t, tc.file, strings.ReplaceAll(r.stdout, "../docs/", "docs/"))
		})
	}
}

// wildDoc is the page that quotes verify's output on each pattern.
const wildDoc = "../docs/rules-in-the-wild.md"

var wildDocMu sync.Mutex

// docBlock requires the fenced block after `<!-- verify-output: FILE -->`
// in docs/rules-in-the-wild.md to be got, or rewrites it with -update.
func docBlock(t *testing.T, file, got string) {
	t.Helper()
	wildDocMu.Lock()
	defer wildDocMu.Unlock()
	b, err := os.ReadFile(wildDoc)
	require.NoError(t, err)
	doc := string(b)
	marker := "<!-- verify-output: " + file + " -->\n```text\n"
	i := strings.Index(doc, marker)
	require.GreaterOrEqual(t, i, 0, "%s has no %q block", wildDoc, marker)
	start := i + len(marker)
	end := strings.Index(doc[start:], "```\n")
	require.GreaterOrEqual(t, end, 0)
	if *update {
		doc = doc[:start] + got + doc[start+end:]
		require.NoError(t, os.WriteFile(wildDoc, []byte(doc), 0o644))
		return
	}
	require.Equal(t, got, doc[start:start+end], "%s quotes an old output of verify on %s; run go test ./cli/ -run TestVerifyRulesInTheWild -update", wildDoc, file)
}

// --format json gives each result its scope, and with --policy one result
// per era and scrape setup for the rule set.
func TestVerifyJSONScopeAndPolicy(t *testing.T) {
	t.Parallel()
	r := run(t, "verify", "--rules", "../docs/rules-in-the-wild/per-kind-resource-info.yml", "--policy",
		"--era", "ksm", "--runs", "10", "--format", "json")
	require.Contains(t, []int{cli.ExitOK, cli.ExitFailed}, r.code, r)
	var out struct {
		Results []struct {
			Alert, Era, Scrape, Scope, Verdict string
			RealFailures                       int `json:"real_failures"`
		} `json:"results"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &out), r.stdout)
	require.Len(t, out.Results, 5*2) // 4 alerts and the policy, 2 scrape setups
	scopes := map[string]string{}
	policies := 0
	for _, res := range out.Results {
		scopes[res.Alert] = res.Scope
		if res.Alert == "(policy)" {
			policies++
			require.Equal(t, "all objects", res.Scope)
		}
	}
	require.Equal(t, 2, policies)
	require.Equal(t, `{customresource_kind="HelmRelease"}`, scopes["FluxHelmReleaseFailure"])
	require.Equal(t, `{customresource_kind=~"GitRepository|HelmRepository|Bucket|OCIRepository"}`, scopes["FluxSourceIssue"])
}

func TestVerifyBadFlags(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--era", "v3"}, `--era "v3": want v2.0, v2.1, ksm, operator or all`},
		{[]string{"--scrape", "sidecar"}, `--scrape "sidecar"`},
		{[]string{"--runs", "0"}, `--runs 0`},
		{[]string{"--format", "yaml"}, `--format "yaml"`},
	} {
		r := run(t, append([]string{"verify"}, tc.args...)...)
		require.Equal(t, cli.ExitBadInput, r.code, r)
		require.Contains(t, r.stderr, tc.want)
		require.Empty(t, r.stdout)
	}
}

// The scope block leaves out the eras whose metrics an alert does not read:
// one line an alert for the shipped rules, one metric era each.
func TestVerifyScopeBlockSkipsNoDataEras(t *testing.T) {
	t.Parallel()
	r := run(t, "verify", "--runs", "2")
	require.Contains(t, []int{cli.ExitOK, cli.ExitFailed}, r.code, r)
	_, block, ok := strings.Cut(r.stdout, "scope (the objects each alert is judged over):\n")
	require.True(t, ok, r.stdout)
	block, _, _ = strings.Cut(block, "\n\n")
	require.Equal(t, strings.Join([]string{
		"  FluxOperatorResourceNotReady: all objects",
		"  FluxReconciliationFailure: all objects",
		"  FluxResourceNotReady: all objects",
		"  ReconciliationFailure: all objects",
	}, "\n"), strings.TrimRight(block, "\n"))
}
