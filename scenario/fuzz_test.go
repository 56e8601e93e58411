package scenario_test

import (
	"io"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gotk-rules/gotk-rules/scenario"
)

// fuzzLimits keep one fuzz input's generation small.
var fuzzLimits = scenario.Limits{MaxSeries: 200, MaxSamples: 20_000}

// fuzzPath is the name fuzzed scenarios are loaded as.
const fuzzPath = "fuzz.scenario.yml"

// positioned is how every problem must be worded: the file, a line of at
// least 1 and, when known, a column of at least 1, the message. (The
// hostile corpus, internal/hostile, holds the commands to the full
// file:line:col form.)
var positioned = regexp.MustCompile(`^` + regexp.QuoteMeta(fuzzPath) + `:([0-9]+)(?::([0-9]+))?: \S`)

// FuzzScenarioLoad loads any bytes as a scenario (the seed corpus is in
// testdata/fuzz/FuzzScenarioLoad). It must never panic nor take long; a
// refused scenario gives one or more lines `fuzz.scenario.yml:line:col:
// message` with a line of at least 1 (and a column of at least 1 where the
// YAML library gives one); an accepted one generates
// its series within the limits and writes itself out as YAML.
func FuzzScenarioLoad(f *testing.F) {
	for _, s := range scenarioFuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > 64<<10 {
			t.Skip("inputs over 64 KiB are the hostile corpus' job")
		}
		start := time.Now()
		sc, err := scenario.Parse(fuzzPath, b, fuzzLimits)
		if err != nil {
			msg := err.Error()
			require.NotEmpty(t, strings.TrimSpace(msg))
			for _, line := range strings.Split(msg, "\n") {
				m := positioned.FindStringSubmatch(line)
				require.NotNil(t, m, "problem not worded file:line:col: message: %q", line)
				l, _ := strconv.Atoi(m[1])
				c := 1
				if m[2] != "" {
					c, _ = strconv.Atoi(m[2])
				}
				require.True(t, l >= 1 && c >= 1, "problem at line %d column %d: %q", l, c, line)
			}
			require.Nil(t, sc)
		} else {
			require.NotNil(t, sc)
			ss := sc.Generate()
			require.LessOrEqual(t, len(ss), fuzzLimits.MaxSeries, "generated past the series limit")
			require.NoError(t, sc.WriteYAML(io.Discard))
		}
		require.Less(t, time.Since(start), 10*time.Second, "a %d-byte scenario took %s", len(b), time.Since(start))
	})
}

// scenarioFuzzSeeds cover a scenario's fields, well and badly written, and
// the YAML the hostile corpus uses. More seeds are in testdata/fuzz.
var scenarioFuzzSeeds = []string{
	`scenario: classic rule, Flux 2.0, failing then deleted
era: v2.0
scrape: direct
scrape_interval: 30s
evaluation_interval: 1m
duration: 50m
objects:
  - kind: Kustomization
    name: apps
    namespace: team-a
    events:
      - {at: 0s, reconcile: "True"}
      - {at: 5m, reconcile: "False"}
      - {at: 15m, reconcile: "False", took: 30s}
      - {at: 40m, delete: true}
  - kind: HelmRelease
    name: podinfo
    namespace: team-a
    created: 1m
    events:
      - {at: 1m, reconcile: "True", reason: ReconciliationSucceeded}
      - {at: 2m, suspend: true}
      - {at: 3m, resume: true}
cluster:
  - {at: 10m, controller_restart: true}
  - {at: 20m, scrape_gap: 6m}
  - {at: 30m, second_target: 5m}
expect:
  - {alert: ReconciliationFailure, object: Kustomization/team-a/apps, at: 10m, state: pending}
  - {alert: ReconciliationFailure, object: Kustomization/team-a/apps, from: 15m, to: 39m, state: firing}
  - {alert: ReconciliationFailure, object: team-a/apps, fires_within: 11m}
  - {alert: ReconciliationFailure, object: team-a/apps, resolves_within: 2m}
  - {alert: ReconciliationFailure, object: HelmRelease/team-a/podinfo, never: pending}
`,
	"scenario: s\nera: operator\nscrape: podmonitor\nduration: 1h\nobjects:\n  - {kind: GitRepository, name: a, namespace: b, events: [{at: 0s, reconcile: \"Unknown\"}]}\n",
	"scenario: s\nera: ksm\nduration: 1h\nobjects: []\n",
	"scenario: s\nera: v2.1\nevaluation_interval: 1ms\nduration: 7d\nobjects:\n  - {kind: Kustomization, name: a, namespace: b}\n",
	"scenario: s\nscrape_interval: 1ms\nduration: 7d\nobjects:\n  - {kind: Kustomization, name: a, namespace: b}\n",
	"scenario: s\nduration: NaN\nobjects: []\n",
	"scenario: s\nduration: -1h\nobjects: []\n",
	"scenario: s\nduration: 999999999999y\nobjects: []\n",
	"scenario: s\nduration: 1h\nobjects:\n  - {kind: Kustomization, name: a, namespace: b, events: [{at: 5x, reconcile: \"False\"}]}\n",
	"scenario: s\nera: v9\nobjects: []\n",
	"scenario: s\nbogus: 1\nobjects: []\n",
	"scenario: \"\xff\xfe\"\nobjects: []\n",
	"scenario: a\x00b\nobjects: []\n",
	"scenario: *nope\nobjects: []\n",
	"%YAML 2.0\n---\nobjects: []\n",
	"",
	"objects:",
	"\t- x",
	"objects: [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]\n",
	"a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\nobjects: *d\n",
}

// TestScenarioFuzzSeedsMeaningful keeps the fuzz target meaningful: the
// first seed, using every field, loads and generates series; an unknown
// field is refused at its line.
func TestScenarioFuzzSeedsMeaningful(t *testing.T) {
	sc, err := scenario.Parse(fuzzPath, []byte(scenarioFuzzSeeds[0]), fuzzLimits)
	require.NoError(t, err)
	require.NotEmpty(t, sc.Generate())
	_, err = scenario.Parse(fuzzPath, []byte("scenario: s\nbogus: 1\nobjects: []\n"), fuzzLimits)
	require.Error(t, err)
	require.True(t, strings.HasPrefix(err.Error(), fuzzPath+":2:"), "%v", err)
}
