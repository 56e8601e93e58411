package evaluator_test

import (
	"context"
	"fmt"
	"maps"
	"math/rand"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/stretchr/testify/require"

	"github.com/gotk-rules/gotk-rules/budget"
	"github.com/gotk-rules/gotk-rules/evaluator"
	"github.com/gotk-rules/gotk-rules/internal/racemode"
	"github.com/gotk-rules/gotk-rules/internal/randomrules"
	"github.com/gotk-rules/gotk-rules/series"
)

var epoch = time.Unix(0, 0).UTC()

// replay loads rules (YAML text) and series ("metric" -> "values" notation)
// into a session and replays 0..end every minute.
func replay(t *testing.T, exact bool, rulesYAML string, input map[string]string, end time.Duration) *evaluator.Timeline {
	t.Helper()
	tl, err := replayErr(t, exact, rulesYAML, input, end)
	require.NoError(t, err)
	return tl
}

// replayErr is replay that returns the replay's error.
func replayErr(t *testing.T, exact bool, rulesYAML string, input map[string]string, end time.Duration) (*evaluator.Timeline, error) {
	t.Helper()
	tl, _, err := replayAndQuery(t, exact, rulesYAML, input, end, nil)
	return tl, err
}

// shardedQueries counts the rule expressions replays served from range
// queries cut into shards, for tests that must exercise sharding.
var shardedQueries int

// replayAndQuery replays, then runs queries at the end, as a unit test's
// promql_expr_test does, and renders their results.
// replayAndQuery replays input, then dups (second definitions of series,
// metric and values), through the rules and runs the queries at the end.
func replayAndQuery(t *testing.T, exact bool, rulesYAML string, input map[string]string, end time.Duration, queries []string, dups ...[2]string) (*evaluator.Timeline, []string, error) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "rules.yml")
	require.NoError(t, os.WriteFile(path, []byte(rulesYAML), 0o600))
	sess, err := evaluator.NewEngine(evaluator.Options{}).NewSession(evaluator.SessionOptions{
		EvalInterval: time.Minute,
		Exact:        exact,
	})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, sess.Close()) })
	require.Nil(t, sess.LoadRules([]string{path}, nil))
	for metric, values := range input {
		s, err := series.Parse(metric, values, epoch, time.Minute)
		require.NoError(t, err, metric)
		sess.AddSeries(s)
	}
	for _, d := range dups {
		s, err := series.Parse(d[0], d[1], epoch, time.Minute)
		require.NoError(t, err, d[0])
		sess.AddSeries(s)
	}
	tl, err := sess.Replay(context.Background(), epoch, epoch.Add(end))
	shardedQueries += sess.ShardedQueries()
	if err != nil {
		return nil, nil, err
	}
	var results []string
	for _, q := range queries {
		v, err := sess.QueryValue(context.Background(), q, epoch.Add(end))
		results = append(results, fmt.Sprintf("%s => %v (%v)", q, sortedValue(v), err))
	}
	return tl, results, nil
}

// sortedValue renders a query result in a stable order.
func sortedValue(v parser.Value) string {
	switch m := v.(type) {
	case promql.Matrix:
		var lines []string
		for _, s := range m {
			lines = append(lines, s.String())
		}
		sort.Strings(lines)
		return strings.Join(lines, "\n")
	case promql.Vector:
		var lines []string
		for _, s := range m {
			lines = append(lines, s.String())
		}
		sort.Strings(lines)
		return strings.Join(lines, "\n")
	}
	return fmt.Sprint(v)
}

// intervals renders a timeline compactly: "Alert{labels} pending 0s..10m0s firing 10m0s..".
func intervals(tl *evaluator.Timeline) []string {
	var out []string
	for _, a := range tl.Alerts {
		var b strings.Builder
		b.WriteString(a.Labels.String())
		for _, iv := range a.Intervals {
			end := ""
			if !iv.End.IsZero() {
				end = iv.End.Sub(epoch).String()
			}
			fmt.Fprintf(&b, " %s %s..%s", iv.State, iv.Start.Sub(epoch), end)
		}
		b.WriteString(" " + a.Annotations.String())
		out = append(out, b.String())
	}
	return out
}

func TestReplaySemantics(t *testing.T) {
	f := func(name, rules string, input map[string]string, end time.Duration, want []string) {
		t.Run(name, func(t *testing.T) {
			for _, exact := range []bool{true, false} {
				got := intervals(replay(t, exact, rules, input, end))
				require.Equal(t, want, got, "exact=%v", exact)
			}
		})
	}
	f("for then firing, resolved by a stale marker", `
groups:
- name: g
  rules:
  - alert: Down
    expr: up == 0
    for: 3m
    annotations: {summary: '{{ $labels.job }} down, value {{ $value }}'}
`, map[string]string{`up{job="a"}`: "0x5 stale"}, 10*time.Minute,
		[]string{`{alertname="Down", job="a"} pending 0s..3m0s firing 3m0s..6m0s {summary="a down, value 0"}`})

	f("keep_firing_for holds the alert after the condition clears", `
groups:
- name: g
  rules:
  - alert: Down
    expr: up == 0
    keep_firing_for: 4m
`, map[string]string{`up{job="a"}`: "0x2 1x10"}, 10*time.Minute,
		[]string{`{alertname="Down", job="a"} firing 0s..7m0s {}`})

	f("a gap longer than the lookback ends the alert and restarts for", `
groups:
- name: g
  rules:
  - alert: Down
    expr: up == 0
    for: 2m
`, map[string]string{`up{job="a"}`: "0x3 _x6 0x5"}, 14*time.Minute,
		// The last sample before the gap is at 3m: the left-open 5m lookback
		// sees it up to 7m59s, so the alert ends at 8m.
		[]string{`{alertname="Down", job="a"} pending 0s..2m0s firing 2m0s..8m0s pending 10m0s..12m0s firing 12m0s.. {}`})

	f("recording rules and ALERTS feed later rules", `
groups:
- name: g
  rules:
  - record: job:up:min
    expr: min by (job) (up)
  - alert: Down
    expr: job:up:min == 0
    for: 1m
  - alert: DownFiring
    expr: ALERTS{alertname="Down", alertstate="firing"}
`, map[string]string{`up{job="a",instance="1"}`: "0x6", `up{job="a",instance="2"}`: "1x6"}, 6*time.Minute,
		[]string{
			`{alertname="Down", job="a"} pending 0s..1m0s firing 1m0s.. {}`,
			`{alertname="DownFiring", alertstate="firing", job="a"} firing 1m0s.. {}`,
		})
}

// TestFastPathMatchesExact replays random series through random rules on
// both evaluation paths and requires identical timelines.
func TestFastPathMatchesExact(t *testing.T) {
	exprs := append(slices.Clone(randomrules.Exprs),
		`count by (alertname) (ALERTS{alertstate="pending"})`,
		// Alert label sets that collide once __name__ is dropped.
		`up == 0 or gauge > 3`,
		`gauge`,
		// More expressions whose range queries are cut into shards.
		`rate(errors_total[5m]) * 60 > 0.5 unless on(job) up == 0`,
		`clamp_max(gauge, 4) >= 4 and on(job) up`,
		`label_replace(gauge, "job", "j", "", "") > 2`,
		`max by (job) (flag) > bool 0`,
	)
	labelSets := []string{
		``,
		"    labels: {severity: page}\n",
		// A label from the value: the alert's identity changes with it.
		"    labels: {level: '{{ if gt $value 3.0 }}high{{ else }}low{{ end }}'}\n",
		"    labels: {job: fixed}\n",
	}
	annotationSets := []string{
		`{v: '{{ $value }} {{ $labels.job }}'}`,
		`{s: static}`,
		`{t: '{{ now }}', q: '{{ with query "count(up)" }}{{ . | first | value }}{{ end }}'}`,
		`{bad: '{{ .Nope.Nope }}'}`,
	}
	queries := []string{
		`ALERTS`,
		`ALERTS_FOR_STATE`,
		`count_over_time(ALERTS[1h])`,
		`last_over_time(job:gauge:max[1h])`,
		`gauge`,
		// Stale markers show here: a series gone within the lookback.
		`job:gauge:max`,
		`count_over_time(job:gauge:max[1h])`,
		`max_over_time(ALERTS_FOR_STATE[40m])`,
	}
	rng := rand.New(rand.NewSource(1))
	// Every input big enough to shard is cut, into shards of one series.
	defer evaluator.SetSeriesPerShard(1)()
	shardedQueries = 0
	compared, failed, withDups := 0, 0, 0
	// Under -race, the first 24 of the 120 runs: each replays on the fast
	// path's goroutines as every run does; the plain run of test-unit
	// (Makefile) compares all 120, with the bounds below as stated.
	runs := racemode.Cases(120, 24)
	for run := 0; run < runs; run++ {
		var b strings.Builder
		b.WriteString("groups:\n- name: g\n")
		if rng.Intn(5) == 0 {
			b.WriteString("  limit: 2\n")
		}
		b.WriteString("  rules:\n  - record: job:gauge:max\n    expr: max by (job) (gauge)\n")
		for i := 0; i < 4; i++ {
			// Names repeat now and then: two rules then write the same series.
			fmt.Fprintf(&b, "  - alert: A%d\n    expr: '%s'\n    for: %dm\n    keep_firing_for: %dm\n%s    annotations: %s\n",
				rng.Intn(5), exprs[rng.Intn(len(exprs))], rng.Intn(4), rng.Intn(3),
				labelSets[rng.Intn(len(labelSets))], annotationSets[rng.Intn(len(annotationSets))])
		}
		input := randomrules.Input(rng)
		// Now and then a series is defined twice: the same samples, or others.
		var dups [][2]string
		if rng.Intn(3) == 0 {
			metrics := slices.Sorted(maps.Keys(input))
			m := metrics[rng.Intn(len(metrics))]
			v := input[m]
			if rng.Intn(2) == 0 {
				v = randomrules.Values(rng, 8)
			}
			dups = append(dups, [2]string{m, v})
			withDups++
		}
		exactTL, exactQ, exactErr := replayAndQuery(t, true, b.String(), input, 40*time.Minute, queries, dups...)
		fastTL, fastQ, fastErr := replayAndQuery(t, false, b.String(), input, 40*time.Minute, queries, dups...)
		if exactErr != nil || fastErr != nil {
			require.Equal(t, clashOrderless(exactErr), clashOrderless(fastErr), "run %d rules:\n%s\ninput: %v %v", run, b.String(), input, dups)
			failed++
			continue
		}
		require.Equal(t, intervals(exactTL), intervals(fastTL), "run %d rules:\n%s\ninput: %v %v", run, b.String(), input, dups)
		require.Equal(t, exactQ, fastQ, "run %d rules:\n%s\ninput: %v %v", run, b.String(), input, dups)
		if len(exactTL.Alerts) > 0 {
			compared++
		}
	}
	// Most runs must reach a comparison of non-empty timelines, and some
	// must fail alike (duplicate label sets, the limit, clashing rules).
	t.Logf("%d runs compared, %d failed alike, %d with a series defined twice, %d sharded queries", compared, failed, withDups, shardedQueries)
	// The bounds are for 120 runs, in proportion for fewer.
	bound := func(for120 int) int { return for120 * runs / 120 }
	require.Greater(t, withDups, bound(20))
	require.Greater(t, compared, bound(30))
	require.Greater(t, failed, bound(3))
	require.Greater(t, shardedQueries, bound(40))
}

// clashValues are the two values of a duplicate-sample error.
var clashValues = regexp.MustCompile(`existing (\S+), new value (\S+)$`)

// clashOrderless words err with the two values of a duplicate sample in a
// fixed order. When two rules of the same name write the same series at
// one evaluation, which value Prometheus' storage holds first can differ
// from run to run, on the exact path itself (Prometheus' own rules): seen
// 2 to 5 times in 40 runs of the same input.
func clashOrderless(err error) string {
	msg := fmt.Sprint(err)
	m := clashValues.FindStringSubmatch(msg)
	if m == nil {
		return msg
	}
	return msg[:len(msg)-len(m[0])] + "values " + strings.Join(slices.Sorted(slices.Values(m[1:])), " and ")
}

func TestTemplatesSeeExternalLabelsAndQueries(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "rules.yml")
	require.NoError(t, os.WriteFile(path, []byte(`
groups:
- name: g
  rules:
  - alert: Down
    expr: up == 0
    labels:
      env: '{{ $externalLabels.env }}'
    annotations:
      total: '{{ with query "count(up)" }}{{ . | first | value }}{{ end }}'
      order: '{{ range query "sort_desc(up)" }}{{ .Labels.job }}{{ end }}'
      url: '{{ $externalURL }}'
`), 0o600))
	for _, exact := range []bool{true, false} {
		sess, err := evaluator.NewEngine(evaluator.Options{}).NewSession(evaluator.SessionOptions{
			EvalInterval:   time.Minute,
			Exact:          exact,
			ExternalLabels: labels.FromStrings("env", "prod"),
			ExternalURL:    "http://prom.example",
		})
		require.NoError(t, err)
		require.Nil(t, sess.LoadRules([]string{path}, nil))
		for _, m := range []string{`up{job="a"}`, `up{job="b"}`} {
			s, err := series.Parse(m, map[bool]string{true: "0x3", false: "1x3"}[m == `up{job="a"}`], epoch, time.Minute)
			require.NoError(t, err)
			sess.AddSeries(s)
		}
		tl, err := sess.Replay(context.Background(), epoch, epoch.Add(2*time.Minute))
		require.NoError(t, err)
		// Template queries run on the main storage, fed step by step, on
		// both paths: the fast path serves only the rule's own expression.
		fast, _ := sess.FastPath()
		require.Equal(t, !exact, fast)
		require.Equal(t, []string{
			`{alertname="Down", env="prod", job="a"} firing 0s.. {order="ba", total="2", url="http://prom.example"}`,
		}, intervals(tl))
		require.NoError(t, sess.Close())
	}
}

// Two rules writing the same ALERTS_FOR_STATE series with different values
// at one time fail the second rule, as Prometheus' storage refuses the
// duplicate: the fast path's log of rule results must refuse it alike.
func TestClashingRuleOutputsFailAlike(t *testing.T) {
	rules := `
groups:
- name: g
  rules:
  - alert: A
    expr: up == 0
  - alert: A
    expr: max_over_time(up[3m]) == 0
`
	input := map[string]string{`up{job="a"}`: "1 1 0 0 0 0 0 0"}
	var errs []string
	for _, exact := range []bool{true, false} {
		_, _, err := replayAndQuery(t, exact, rules, input, 12*time.Minute, nil)
		require.Error(t, err)
		errs = append(errs, err.Error())
	}
	require.Contains(t, errs[0], "duplicate sample for timestamp")
	require.Equal(t, errs[0], errs[1])
}

// Input series given twice (as a scenario with a duplicated target may)
// read the same on both paths: the same samples are accepted once, a clash
// resolves alike. Which samples the storage keeps depends on the order of
// appends step by step, so such input is evaluated step by step, saying why.
func TestDuplicateInputSeriesAlike(t *testing.T) {
	rules := `
groups:
- name: g
  rules:
  - alert: Down
    expr: up == 0
    for: 2m
    annotations: {v: '{{ $value }}'}
`
	f := func(name string, first, second string) {
		t.Run(name, func(t *testing.T) {
			var got []string
			for _, exact := range []bool{true, false} {
				path := filepath.Join(t.TempDir(), "rules.yml")
				require.NoError(t, os.WriteFile(path, []byte(rules), 0o600))
				sess, err := evaluator.NewEngine(evaluator.Options{}).NewSession(evaluator.SessionOptions{EvalInterval: time.Minute, Exact: exact})
				require.NoError(t, err)
				require.Nil(t, sess.LoadRules([]string{path}, nil))
				for _, values := range []string{first, second} {
					s, err := series.Parse(`up{job="a"}`, values, epoch, time.Minute)
					require.NoError(t, err)
					sess.AddSeries(s)
				}
				tl, err := sess.Replay(context.Background(), epoch, epoch.Add(10*time.Minute))
				if err != nil {
					got = append(got, "error: "+err.Error())
				} else {
					got = append(got, strings.Join(intervals(tl), "; "))
				}
				fast, why := sess.FastPath()
				require.False(t, fast)
				if !exact {
					require.Equal(t, `input series {__name__="up", job="a"} is given twice: which of its samples the storage keeps depends on the order of appends step by step`, why)
				}
				require.NoError(t, sess.Close())
			}
			require.Equal(t, got[0], got[1])
		})
	}
	f("same samples", "1 0 0 0 0 1", "1 0 0 0 0 1")
	f("interleaved", "1 _ 0 _ 0 _", "_ 1 _ 0 _ 0")
	f("clashing values", "1 0 0 0 0 1", "1 1 0 0 0 1")
	// Loading one definition after the other would drop the second's
	// sample in the first's gap, as out of order.
	f("gap filled by the other", "1 1 _ 1 1 1", "0 0 0 0 0 0")
}

// A query over the per-query sample limit fails the rule, and the error
// says which budget it ran out of (the caller says how to raise it).
func TestSampleLimitErrorSaysWhichBudget(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rules.yml")
	require.NoError(t, os.WriteFile(path, []byte("groups:\n- name: g\n  rules:\n  - alert: Many\n    expr: up > 0\n"), 0o600))
	for _, exact := range []bool{true, false} {
		sess, err := evaluator.NewEngine(evaluator.Options{MaxQuerySamples: 2}).NewSession(evaluator.SessionOptions{EvalInterval: time.Minute, Exact: exact})
		require.NoError(t, err)
		require.Nil(t, sess.LoadRules([]string{path}, nil))
		for _, job := range []string{"a", "b", "c"} {
			s, err := series.Parse(`up{job="`+job+`"}`, "1x3", epoch, time.Minute)
			require.NoError(t, err)
			sess.AddSeries(s)
		}
		_, err = sess.Replay(context.Background(), epoch, epoch.Add(2*time.Minute))
		require.ErrorContains(t, err, "too many samples")
		b, ok := evaluator.ExceededBudget(err)
		require.True(t, ok, "%v", err)
		require.Equal(t, budget.QuerySamples, b)
		require.NotContains(t, err.Error(), "--", "the library names no flag")
		require.NoError(t, sess.Close())
	}
}
