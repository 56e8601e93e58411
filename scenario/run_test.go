package scenario

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"

	"github.com/gotk-rules/gotk-rules/evaluator"
	"github.com/gotk-rules/gotk-rules/rulefile"
)

// replayText parses a scenario and replays it through rule files.
func replayText(t *testing.T, text string, capture bool, ruleFiles ...string) *Replay {
	t.Helper()
	sc := parse(t, text)
	eng := evaluator.NewEngine(evaluator.Options{})
	rep, err := Run(context.Background(), sc, RunOptions{Engine: eng, RuleFiles: ruleFiles, Loader: rulefile.NewLoader(eng.Parser(), false), CaptureFiring: capture})
	require.NoError(t, err)
	return rep
}

// checkScenario: apps fails from 5m to 20m, blip for 3 minutes, infra never.
// Failing (for 5m) is pending 5m..10m and firing 10m..20m for apps; Sticky
// also keeps firing for 10m after the failure.
const checkScenario = `
era: v2.1
duration: 40m
objects:
  - kind: Kustomization
    name: apps
    namespace: team-a
    events:
      - {at: 0s, reconcile: "True"}
      - {at: 5m, reconcile: "False"}
      - {at: 20m, reconcile: "True"}
  - kind: Kustomization
    name: infra
    namespace: team-a
    events: [{at: 0s, reconcile: "True"}]
  - kind: Kustomization
    name: blip
    namespace: team-a
    events:
      - {at: 10m, reconcile: "False"}
      - {at: 13m, reconcile: "True"}
`

func TestCheck(t *testing.T) {
	rep := replayText(t, checkScenario, false, "testdata/rules/failing.yml")
	md := func(s string) *model.Duration {
		v, err := model.ParseDuration(s)
		require.NoError(t, err)
		return &v
	}
	dur := func(s string) model.Duration { return *md(s) }
	for _, tc := range []struct {
		name string
		e    Expectation
		want string // "" when the expectation holds, else the message
	}{
		{"at: pending", Expectation{Alert: "Failing", Object: "team-a/apps", At: md("7m"), State: "pending"}, ""},
		{"at: between evaluations, the one before counts", Expectation{Alert: "Failing", Object: "team-a/apps", At: md("9m59s"), State: "pending"}, ""},
		{"at: firing", Expectation{Alert: "Failing", Object: "team-a/apps", At: md("10m"), State: "firing"}, ""},
		{"at: inactive after recovery", Expectation{Alert: "Failing", Object: "team-a/apps", At: md("25m"), State: "inactive"}, ""},
		{"at: wrong state", Expectation{Alert: "Failing", Object: "team-a/apps", At: md("7m"), State: "firing"},
			"Failing for Kustomization/team-a/apps at 7m: want firing, got pending"},
		{"at: an alert that never exists is inactive", Expectation{Alert: "Nope", Object: "team-a/apps", At: md("10m"), State: "firing"},
			"Nope for Kustomization/team-a/apps at 10m: want firing, got inactive"},
		{"from-to: firing throughout", Expectation{Alert: "Failing", Object: "team-a/apps", From: md("10m"), To: md("19m"), State: "firing"}, ""},
		{"from-to: inactive throughout", Expectation{Alert: "Failing", Object: "Kustomization/team-a/apps", From: md("20m"), To: md("40m"), State: "inactive"}, ""},
		{"from-to: not throughout", Expectation{Alert: "Failing", Object: "team-a/apps", From: md("9m"), To: md("19m"), State: "firing"},
			"Failing for Kustomization/team-a/apps from 9m to 19m: want firing throughout, got pending at 9m"},
		{"from-to: one evaluation", Expectation{Alert: "Failing", Object: "team-a/apps", From: md("5m"), To: md("5m"), State: "pending"}, ""},
		{"never firing: holds", Expectation{Alert: "Failing", Object: "team-a/infra", Never: "firing"}, ""},
		{"never pending: holds", Expectation{Alert: "Failing", Object: "team-a/infra", Never: "pending"}, ""},
		{"never pending: a short failure is pending", Expectation{Alert: "Failing", Object: "team-a/blip", Never: "pending"},
			"Failing for Kustomization/team-a/blip: never pending, but it is at 10m"},
		{"never firing: a short failure does not fire", Expectation{Alert: "Failing", Object: "team-a/blip", Never: "firing"}, ""},
		{"never firing: fails", Expectation{Alert: "Failing", Object: "team-a/apps", Never: "firing"},
			"Failing for Kustomization/team-a/apps: never firing, but it is at 10m"},
		{"fires_within: holds", Expectation{Alert: "Failing", Object: "team-a/apps", FiresWithin: dur("5m")}, ""},
		{"fires_within: too late", Expectation{Alert: "Failing", Object: "team-a/apps", FiresWithin: dur("4m")},
			"Failing for Kustomization/team-a/apps: failure from 5m did not fire within 4m"},
		{"fires_within: a failure shorter than the bound is not judged", Expectation{Alert: "Failing", Object: "team-a/blip", FiresWithin: dur("5m")}, ""},
		{"fires_within: no failure, nothing to judge", Expectation{Alert: "Failing", Object: "team-a/infra", FiresWithin: dur("1m")}, ""},
		{"resolves_within: holds", Expectation{Alert: "Failing", Object: "team-a/apps", ResolvesWithin: dur("1m")}, ""},
		{"resolves_within: keep_firing_for holds it", Expectation{Alert: "Sticky", Object: "team-a/apps", ResolvesWithin: dur("5m")},
			"Sticky for Kustomization/team-a/apps: failure ended at 20m but still firing at 25m"},
		{"resolves_within: after keep_firing_for", Expectation{Alert: "Sticky", Object: "team-a/apps", ResolvesWithin: dur("11m")}, ""},
		{"unknown object", Expectation{Alert: "Failing", Object: "team-b/apps", Never: "firing"},
			`no object "team-b/apps" (write Kind/namespace/name)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ok, msg := rep.Check(tc.e)
			require.Equal(t, tc.want == "", ok, msg)
			require.Equal(t, tc.want, msg)
		})
	}
}

func TestReplayStates(t *testing.T) {
	rep := replayText(t, checkScenario, true, "testdata/rules/failing.yml")
	require.Equal(t, map[string]time.Duration{"Failing": 5 * time.Minute, "Sticky": 5 * time.Minute}, rep.For)
	require.Len(t, rep.EvalTimes(), 41)
	apps, err := rep.Scenario.FindObject("team-a/apps")
	require.NoError(t, err)
	var got []string
	for _, at := range rep.EvalTimes() {
		got = append(got, string(rep.StateFor("Sticky", apps, at))[:1])
	}
	// Sticky: pending 5m..9m, firing 10m..29m (keep_firing_for 10m after 19m).
	require.Equal(t, "iiiiippppp"+strings.Repeat("f", 20)+strings.Repeat("i", 11), strings.Join(got, ""))
	// Firing alerts captured per evaluation, with their annotations.
	require.Empty(t, rep.Firing[9*time.Minute])
	require.Len(t, rep.Firing[10*time.Minute], 2)
	for _, f := range rep.Firing[10*time.Minute] {
		if f.Labels.Get("alertname") == "Failing" {
			require.Equal(t, "team-a/apps is failing", f.Annotations.Get("summary"))
			require.Equal(t, "page", f.Labels.Get("severity"))
		}
	}
}

func TestRunBadRules(t *testing.T) {
	sc := parse(t, checkScenario)
	eng := evaluator.NewEngine(evaluator.Options{})
	_, err := Run(context.Background(), sc, RunOptions{Engine: eng, RuleFiles: []string{"testdata/rules/missing.yml"}, Loader: rulefile.NewLoader(eng.Parser(), false)})
	require.Error(t, err)
	require.Contains(t, err.Error(), "missing.yml")
}

func TestResolveRuleFiles(t *testing.T) {
	sc := parse(t, checkScenario)
	sc.File = "testdata/bad/x.yml"
	sc.RuleFiles = []string{"../rules/*.yml"}
	files, err := sc.ResolveRuleFiles()
	require.NoError(t, err)
	require.Equal(t, []string{"testdata/rules/failing.yml"}, files)
	sc.RuleFiles = []string{"../rules/nothing-*.yml"}
	_, err = sc.ResolveRuleFiles()
	require.EqualError(t, err, `testdata/bad/x.yml: rule_files: "testdata/rules/nothing-*.yml" matches no file`)
}

func TestWriteText(t *testing.T) {
	rep := replayText(t, checkScenario, false, "testdata/rules/failing.yml")
	var b bytes.Buffer
	require.NoError(t, rep.WriteText(&b, 80))
	out := b.String()
	for _, l := range strings.Split(out, "\n") {
		require.LessOrEqual(t, len([]rune(l)), 80, l)
	}
	require.Contains(t, out, "Kustomization/team-a/apps\n  object           TTTTTFFFFFFFFFFFFFFFTTTTTTTTTTTTTTTTTTTTT\n")
	require.Contains(t, out, "\n  Failing          .....ppppp##########.....................\n")
	require.Contains(t, out, "\n  Sticky           .....ppppp####################...........\n")
}

// TestWriteTextWidth: whatever the duration, the timeline fits the width.
func TestWriteTextWidth(t *testing.T) {
	for _, dur := range []string{"21m", "39m", "59m", "1h", "1h10m", "2h", "7h30m", "1d", "1w"} {
		text := strings.Replace(checkScenario, "duration: 40m", "duration: "+dur, 1)
		if strings.HasSuffix(dur, "d") || strings.HasSuffix(dur, "w") {
			text = "scrape_interval: 10m\nevaluation_interval: 30m\n" + text
		}
		rep := replayText(t, text, false, "testdata/rules/failing.yml")
		for _, width := range []int{60, 80, 120} {
			var b bytes.Buffer
			require.NoError(t, rep.WriteText(&b, width))
			for _, l := range strings.Split(b.String(), "\n") {
				if strings.HasPrefix(l, "objects:") || strings.HasPrefix(l, "alerts:") {
					continue // the legend is the legend
				}
				require.LessOrEqual(t, len([]rune(l)), width, "duration %s: %q", dur, l)
			}
		}
	}
}

func TestWriteJSON(t *testing.T) {
	rep := replayText(t, checkScenario, false, "testdata/rules/failing.yml")
	var b bytes.Buffer
	require.NoError(t, rep.WriteJSON(&b))
	var out struct {
		Era     string
		Objects []struct {
			Object string
			States []map[string]string
		}
		Alerts []struct {
			Alert   string
			Objects []string
			Pending []map[string]string
			Firing  []map[string]string
		}
	}
	require.NoError(t, json.Unmarshal(b.Bytes(), &out))
	require.Equal(t, "v2.1", out.Era)
	require.Equal(t, "Kustomization/team-a/apps", out.Objects[0].Object)
	require.Equal(t, []map[string]string{
		{"start": "0s", "state": "ready True"}, {"start": "5m", "state": "ready False"}, {"start": "20m", "state": "ready True"},
	}, out.Objects[0].States)
	var failing []string
	for _, a := range out.Alerts {
		if a.Alert == "Failing" && a.Objects[0] == "Kustomization/team-a/apps" {
			failing = append(failing, a.Pending[0]["start"], a.Pending[0]["end"], a.Firing[0]["start"], a.Firing[0]["end"])
		}
	}
	require.Equal(t, []string{"5m", "10m", "10m", "20m"}, failing)
}
