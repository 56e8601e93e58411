package unittest_test

import (
	"context"
	"fmt"
	"maps"
	"math"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/rules"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/gotk-rules/gotk-rules/evaluator"
	"github.com/gotk-rules/gotk-rules/internal/promtoolbin"
	"github.com/gotk-rules/gotk-rules/internal/racemode"
	"github.com/gotk-rules/gotk-rules/internal/randomrules"
	"github.com/gotk-rules/gotk-rules/series"
	"github.com/gotk-rules/gotk-rules/unittest"
)

// TestRandomFilesAgainstPromtool writes random promtool test files (random
// float and native histogram series with gaps and staleness markers; random
// alerting rules with templates, for and keep_firing_for, a recording rule,
// a second group reading the first one's outputs) whose assertions are
// gotk-rules' own results: the firing alerts, labels and annotations, at
// every evaluation, and random queries over the input and the rules'
// outputs at random times. promtool 3.x, the oracle, must pass every file,
// and so must gotk-rules' runner on both paths.
func TestRandomFilesAgainstPromtool(t *testing.T) {
	promtool := promtoolbin.Require(t)
	exprs := append(slices.Clone(randomrules.Exprs),
		`changes(gauge[10m]) > 2`,
		`avg_over_time(gauge[5m]) >= 3 unless on(job) up == 0`,
		`histogram_count(rate(hist[5m])) > 0.01`,
		`histogram_quantile(0.5, rate(hist[5m])) > 1`,
		`histogram_sum(hist) > 20`,
	)
	// crossExprs read another group's outputs.
	crossExprs := []string{
		`sum by (job) (ALERTS{alertstate="firing"}) > 0`,
		`job:gauge:max > 2`,
		`max by (job) (max_over_time(ALERTS_FOR_STATE[10m])) > 0`,
		`count(ALERTS) >= 2`,
	}
	labelSets := []string{
		``,
		"    labels: {severity: page}\n",
		"    labels: {level: '{{ if gt $value 3.0 }}high{{ else }}low{{ end }}'}\n",
	}
	annotationSets := []string{
		`{v: '{{ $value }} {{ $labels.job }}'}`,
		`{s: static}`,
		`{h: '{{ humanize $value }} of {{ $labels }}'}`,
		`{e: '{{ $externalLabels.env }} {{ $externalURL }}'}`,
	}
	queries := []string{
		`gauge`,
		`job:gauge:max`,
		`ALERTS`,
		`ALERTS_FOR_STATE`,
		`count_over_time(ALERTS[30m])`,
		`rate(errors_total[5m])`,
		`sum by (alertname, alertstate) (ALERTS)`,
		`histogram_count(hist)`,
		`histogram_sum(rate(hist[5m]))`,
	}
	// GOTK_RANDOM_SEED and GOTK_RANDOM_RUNS search further, by hand. Under
	// -race, 12 files (the runner's goroutines run for each file alike);
	// the plain run of test-unit (Makefile) checks all 60, with the bounds
	// below as stated.
	seed, runs := envInt(t, "GOTK_RANDOM_SEED", 7), envInt(t, "GOTK_RANDOM_RUNS", racemode.Cases(60, 12))
	rng := rand.New(rand.NewSource(int64(seed)))
	// histograms are native histogram samples, growing, with gaps.
	histograms := func(n int) string {
		var parts []string
		count, sum := 0, 0
		for range n {
			if rng.Intn(8) == 0 {
				parts = append(parts, "_")
				continue
			}
			a, b := rng.Intn(4), rng.Intn(4)
			count, sum = count+a+b, sum+a+3*b
			parts = append(parts, fmt.Sprintf("{{schema:0 sum:%d count:%d buckets:[%d %d]}}", sum, count, count-b, b))
		}
		return strings.Join(parts, " ")
	}
	dir := t.TempDir()
	var files []string
	alertsAsserted, samplesAsserted, histogramSamples := 0, 0, 0
	for run := range runs {
		var rb strings.Builder
		rb.WriteString("groups:\n- name: g\n")
		if rng.Intn(4) == 0 {
			rb.WriteString("  query_offset: 1m\n")
		}
		rb.WriteString("  rules:\n  - record: job:gauge:max\n    expr: max by (job) (gauge)\n")
		names := map[string]struct{}{}
		for i := range 3 {
			name := fmt.Sprintf("A%d", i)
			names[name] = struct{}{}
			fmt.Fprintf(&rb, "  - alert: %s\n    expr: '%s'\n    for: %dm\n    keep_firing_for: %dm\n%s    annotations: %s\n",
				name, exprs[rng.Intn(len(exprs))], rng.Intn(4), rng.Intn(3),
				labelSets[rng.Intn(len(labelSets))], annotationSets[rng.Intn(len(annotationSets))])
		}
		// A second group reads the first one's outputs (group_eval_order
		// runs it second in promtool too).
		names["B0"] = struct{}{}
		fmt.Fprintf(&rb, "- name: h\n  rules:\n  - alert: B0\n    expr: '%s'\n    for: %dm\n    annotations: {v: '{{ $value }}'}\n",
			crossExprs[rng.Intn(len(crossExprs))], rng.Intn(3))
		rulesPath := filepath.Join(dir, fmt.Sprintf("rules-%d.yml", run))
		require.NoError(t, os.WriteFile(rulesPath, []byte(rb.String()), 0o600))

		// Input every 30s or every minute, with or without external labels.
		interval := time.Minute / time.Duration(1+rng.Intn(2))
		var extLabels labels.Labels
		extURL := ""
		if rng.Intn(2) == 0 {
			extLabels, extURL = labels.FromStrings("env", "prod"), "http://prom.example/"
		}
		input := randomrules.Input(rng)
		for _, job := range []string{"a", "b"} {
			input[fmt.Sprintf(`hist{job=%q}`, job)] = histograms(12)
		}
		metrics := slices.Sorted(maps.Keys(input))

		// gotk-rules' own results, step by step as promtool evaluates.
		const steps = 40
		end := time.Duration(steps-1) * time.Minute
		sess, err := evaluator.NewEngine(evaluator.Options{}).NewSession(evaluator.SessionOptions{
			EvalInterval: time.Minute, GroupInterval: interval, ExternalLabels: extLabels, ExternalURL: extURL,
		})
		require.NoError(t, err)
		require.Nil(t, sess.LoadRules([]string{rulesPath}, nil))
		for _, m := range metrics {
			s, err := series.Parse(m, input[m], time.Unix(0, 0).UTC(), interval)
			require.NoError(t, err)
			sess.AddSeries(s)
		}
		var alertTests []unittest.AlertTestCase
		_, err = sess.ReplayFunc(context.Background(), time.Unix(0, 0).UTC(), time.Unix(0, 0).UTC().Add(end), func(ts time.Time) error {
			for name, got := range sess.FiringAlerts(names) {
				tc := unittest.AlertTestCase{EvalTime: model.Duration(ts.Sub(time.Unix(0, 0))), Alertname: name}
				for _, a := range got {
					tc.ExpAlerts = append(tc.ExpAlerts, expAlert(a))
				}
				alertTests = append(alertTests, tc)
			}
			return nil
		})
		if err != nil {
			require.NoError(t, sess.Close())
			continue // a rule failed: promtool's words for it are checked by the conformance suites
		}
		var exprTests []unittest.ExprTestCase
		for range 4 {
			at := time.Duration(rng.Intn(steps)) * time.Minute
			q := queries[rng.Intn(len(queries))]
			v, err := sess.Query(context.Background(), q, time.Unix(0, 0).UTC().Add(at))
			require.NoError(t, err, q)
			tc, ok := exprTest(q, at, v)
			if ok {
				exprTests = append(exprTests, tc)
				samplesAsserted += len(tc.ExpSamples)
				if strings.HasPrefix(q, "histogram_") {
					histogramSamples += len(tc.ExpSamples)
				}
			}
		}
		require.NoError(t, sess.Close())
		for _, tc := range alertTests {
			alertsAsserted += len(tc.ExpAlerts)
		}
		path := filepath.Join(dir, fmt.Sprintf("random-%d_test.yml", run))
		require.NoError(t, os.WriteFile(path, promtoolFile(t, filepath.Base(rulesPath), interval, extLabels, extURL, metrics, input, alertTests, exprTests), 0o600))
		files = append(files, path)
	}
	t.Logf("%d files, %d firing alerts and %d samples (%d from histograms) asserted", len(files), alertsAsserted, samplesAsserted, histogramSamples)
	// The bounds are for 60 files (or more), in proportion for fewer.
	bound := func(for60 int) int { return for60 * min(runs, 60) / 60 }
	require.Greater(t, len(files), runs/2)
	require.Greater(t, alertsAsserted, bound(100))
	require.Greater(t, samplesAsserted, bound(20))
	require.Greater(t, histogramSamples, bound(5))

	for _, f := range files {
		out, err := exec.Command(promtool, "test", "rules", f).CombinedOutput()
		if err != nil {
			rulesText, _ := os.ReadFile(filepath.Join(dir, strings.Replace(strings.TrimSuffix(filepath.Base(f), "_test.yml"), "random", "rules", 1)+".yml"))
			require.NoError(t, err, "promtool disagrees with gotk-rules on %s\nrules:\n%s\npromtool:\n%s", f, rulesText, out)
		}
	}
	for _, exact := range []bool{false, true} {
		runner, err := unittest.NewRunner(unittest.Options{Exact: exact})
		require.NoError(t, err)
		res := runner.Run(files...)
		require.Equal(t, unittest.ExitPassed, res.ExitCode(), "gotk-rules (exact=%v) fails its own results: %v", exact, failures(res))
	}
}

// expAlert is a firing alert as a test file expects it: its labels
// without alertname, which the assertion names.
func expAlert(a *rules.Alert) unittest.ExpAlert {
	e := unittest.ExpAlert{ExpLabels: map[string]string{}, ExpAnnotations: map[string]string{}}
	a.Labels.Range(func(l labels.Label) {
		if l.Name != labels.AlertName {
			e.ExpLabels[l.Name] = l.Value
		}
	})
	a.Annotations.Range(func(l labels.Label) { e.ExpAnnotations[l.Name] = l.Value })
	return e
}

// exprTest asserts a query's result, unless it holds values a test file
// cannot state exactly (NaN, infinities) or is not a vector.
func exprTest(q string, at time.Duration, v promql.Vector) (unittest.ExprTestCase, bool) {
	tc := unittest.ExprTestCase{Expr: q, EvalTime: model.Duration(at)}
	for _, s := range v {
		if s.H != nil || math.IsNaN(s.F) || math.IsInf(s.F, 0) {
			return tc, false
		}
		tc.ExpSamples = append(tc.ExpSamples, unittest.ExpSample{Labels: s.Metric.String(), Value: s.F})
	}
	return tc, true
}

// promtoolFile is a promtool test file of one test group, in the
// runner's own types.
func promtoolFile(t *testing.T, rulesFile string, interval time.Duration, extLabels labels.Labels, extURL string, metrics []string, input map[string]string, alerts []unittest.AlertTestCase, exprs []unittest.ExprTestCase) []byte {
	t.Helper()
	tg := unittest.TestGroup{
		Interval:        model.Duration(interval),
		ExternalLabels:  extLabels,
		ExternalURL:     extURL,
		AlertRuleTests:  alerts,
		PromqlExprTests: exprs,
	}
	for _, m := range metrics {
		tg.InputSeries = append(tg.InputSeries, unittest.InputSeries{Series: m, Values: input[m]})
	}
	b, err := yaml.Marshal(unittest.TestFile{
		RuleFiles:          []string{rulesFile},
		EvaluationInterval: model.Duration(time.Minute),
		GroupEvalOrder:     []string{"g", "h"},
		Tests:              []unittest.TestGroup{tg},
	})
	require.NoError(t, err)
	return b
}

// failures lists the failed groups' errors, for a failure message.
func failures(res *unittest.Result) []string {
	var out []string
	for _, f := range res.Files {
		if f.Error != "" {
			out = append(out, f.File+": "+f.Error)
		}
		for _, g := range f.Groups {
			for _, e := range g.Errors {
				out = append(out, f.File+": "+e)
			}
		}
	}
	return out
}

// envInt is the integer environment variable name, or def when unset.
func envInt(t *testing.T, name string, def int) int {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	require.NoError(t, err, name)
	return n
}
