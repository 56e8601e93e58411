package backtest

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gotk-rules/gotk-rules/evaluator"
	"github.com/gotk-rules/gotk-rules/series"
)

// shardRules have a `for` and a keep_firing_for long enough to span the
// boundaries of 4 shards of 30 evaluations (at 30m, 60m and 90m).
const shardRules = `groups:
  - name: shards
    rules:
      - alert: SlowDown
        expr: up == 0
        for: 5m
        annotations:
          summary: '{{ $labels.instance }} is {{ $value }}'
      - alert: Sticky
        expr: up == 0
        for: 1m
        keep_firing_for: 4m
      - alert: Instant
        expr: up == 0
`

func shardSeries(t *testing.T) []series.Series {
	return []series.Series{
		// Down from 27m to 37m: pending at 27m, firing at 32m, past the 30m boundary.
		mustSeries(t, `up{instance="a"}`, "1x26 0x10 1x82"),
		// Down from 5m to 110m: the for of the 90m shard starts long before its warm-up.
		mustSeries(t, `up{instance="b"}`, "1x4 0x105 1x9"),
		// Down 55m to 58m: Sticky fires at 56m and is kept firing past 60m.
		mustSeries(t, `up{instance="c"}`, "1x54 0x3 1x61"),
		// Flapping every other minute around 88m..92m.
		mustSeries(t, `up{instance="d"}`, "1x86 0 1 0 1 0 1 1x25"),
	}
}

func writeShardRules(t *testing.T, text string) []string {
	path := filepath.Join(t.TempDir(), "shards.yml")
	require.NoError(t, os.WriteFile(path, []byte(text), 0o644))
	return []string{path}
}

// A sharded backtest equals the unsharded one and the local replay,
// whatever the shards and their concurrency.
func TestShardsMatchUnsharded(t *testing.T) {
	files := writeShardRules(t, shardRules)
	want := localReplay(t, files, epoch, min_(119), shardSeries(t)...)
	f := newFakeServer(t, shardSeries(t)...)
	for _, tc := range []struct{ shards, workers int }{{1, 1}, {4, 1}, {4, 3}, {7, 2}, {120, 4}} {
		c, _ := testClient(t, f.URL(), nil)
		res, err := run(t, c, files, epoch, min_(119), func(o *Options) { o.Shards, o.ShardConcurrency = tc.shards, tc.workers })
		require.NoError(t, err)
		require.Equal(t, tc.shards, res.Shards)
		require.Equal(t, want.Alerts, res.Timeline.Alerts, "%d shards, %d at once", tc.shards, tc.workers)
	}
	// The alert whose for spans the 30m boundary fires as unsharded.
	var slow *evaluator.AlertTimeline
	for _, a := range want.Alerts {
		if a.Alert == "SlowDown" && a.Labels.Get("instance") == "a" {
			slow = a
		}
	}
	require.NotNil(t, slow)
	require.Equal(t, []evaluator.Interval{
		{State: evaluator.Pending, Start: min_(27), End: min_(32)},
		{State: evaluator.Firing, Start: min_(32), End: min_(38)},
	}, slow.Intervals)
}

func TestPlanShards(t *testing.T) {
	require.Equal(t, []shard{{0, 0, 10}}, planShards(10, 0, 3))
	require.Equal(t, []shard{{0, 0, 5}, {2, 5, 10}}, planShards(10, 2, 3))
	require.Len(t, planShards(43_200, 0, 10), 30, "a day a shard at 1m")
	require.Len(t, planShards(3, 50, 1), 3, "no more shards than evaluations")
}

// An interrupted backtest, resumed from its checkpoint, gives the result of
// an uninterrupted one.
func TestResumeAfterInterruption(t *testing.T) {
	files := writeShardRules(t, shardRules)
	f := newFakeServer(t, shardSeries(t)...)
	whole := func() *Result {
		c, _ := testClient(t, f.URL(), nil)
		res, err := run(t, c, files, epoch, min_(119), func(o *Options) { o.Shards = 4 })
		require.NoError(t, err)
		return res
	}()
	for _, workers := range []int{1, 2} {
		ckpt := filepath.Join(t.TempDir(), "backtest.ckpt")
		eng := evaluator.NewEngine(evaluator.Options{})
		c, _ := testClient(t, f.URL(), nil)
		opts := Options{Client: c, Engine: eng, RuleFiles: files, From: epoch, To: min_(119), Step: time.Minute, Shards: 4, ShardConcurrency: workers, Resume: ckpt}
		ctx, cancel := context.WithCancel(context.Background())
		interrupted := opts
		interrupted.afterShard = func(done int) {
			if done == 2 {
				cancel()
			}
		}
		b, err := New(interrupted)
		require.NoError(t, err)
		_, err = b.Run(ctx)
		b.Close()
		require.ErrorIs(t, err, context.Canceled)
		var ck checkpoint
		data, err := os.ReadFile(ckpt)
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(data, &ck))
		// The shards done: the two, and with two at once maybe the other
		// one that finished as the run was stopped.
		require.GreaterOrEqual(t, len(ck.Done), 2, "the checkpoint holds the shards done")
		require.Less(t, len(ck.Done), 4)

		requestsBefore := len(f.rangeCalls())
		b, err = New(opts)
		require.NoError(t, err)
		res, err := b.Run(context.Background())
		b.Close()
		require.NoError(t, err)
		require.Equal(t, len(ck.Done), res.Resumed)
		require.Equal(t, whole.Timeline.Alerts, res.Timeline.Alerts, "%d at once", workers)
		require.Equal(t, whole.PerDay, res.PerDay)
		require.Equal(t, whole.Fatigue, res.Fatigue)
		require.Equal(t, whole.RangeQueries, res.RangeQueries, "the resumed shards' queries are counted from the checkpoint")
		require.Less(t, len(f.rangeCalls())-requestsBefore, whole.RangeQueries, "the shards done are not fetched again")

		// Once more: every shard is done, nothing is replayed.
		b, err = New(opts)
		require.NoError(t, err)
		res, err = b.Run(context.Background())
		b.Close()
		require.NoError(t, err)
		require.Equal(t, 4, res.Resumed)
		require.Equal(t, whole.Timeline.Alerts, res.Timeline.Alerts)
	}
}

func TestResumeRefusesAnotherBacktest(t *testing.T) {
	files := writeShardRules(t, shardRules)
	f := newFakeServer(t, shardSeries(t)...)
	ckpt := filepath.Join(t.TempDir(), "backtest.ckpt")
	c, _ := testClient(t, f.URL(), nil)
	_, err := run(t, c, files, epoch, min_(119), func(o *Options) { o.Shards, o.Resume = 4, ckpt })
	require.NoError(t, err)

	eng := evaluator.NewEngine(evaluator.Options{})
	base := Options{Client: c, Engine: eng, RuleFiles: files, From: epoch, To: min_(119), Step: time.Minute, Shards: 4, Resume: ckpt}
	other := writeShardRules(t, shardRules+"      - alert: More\n        expr: up == 2\n")
	for name, mod := range map[string]func(*Options){
		"rules":   func(o *Options) { o.RuleFiles = other },
		"to":      func(o *Options) { o.To = min_(118) },
		"shards":  func(o *Options) { o.Shards = 5 },
		"step":    func(o *Options) { o.Step = 2 * time.Minute },
		"partial": func(o *Options) { o.AllowPartial = true },
	} {
		o := base
		mod(&o)
		_, err := New(o)
		var ie *InputError
		require.ErrorAs(t, err, &ie, name)
		require.ErrorContains(t, err, "the checkpoint is of another backtest", name)
	}
	c2, _ := testClient(t, f.URL(), func(o *ClientOptions) { o.Dedup = "true" })
	o := base
	o.Client = c2
	_, err = New(o)
	require.ErrorContains(t, err, "the checkpoint is of another backtest", "dedup")

	garbage := filepath.Join(t.TempDir(), "garbage")
	require.NoError(t, os.WriteFile(garbage, []byte("not json"), 0o644))
	o = base
	o.Resume = garbage
	_, err = New(o)
	require.ErrorContains(t, err, "not a backtest checkpoint")

	// The same backtest: accepted.
	b, err := New(base)
	require.NoError(t, err)
	b.Close()
}
