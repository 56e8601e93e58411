package evaluator_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gotk-rules/gotk-rules/evaluator"
	"github.com/gotk-rules/gotk-rules/series"
)

// orderRules break ties by the order the engine reads series in.
const orderRules = `groups:
- name: g
  rules:
  - record: top
    expr: topk(1, m)
  - record: bottom
    expr: bottomk(2, m)
  - alert: Top
    expr: topk(1, m) > 0
`

// replayInOrder replays the input series, added in the order given, and
// returns the recorded ties at every step.
func replayInOrder(t *testing.T, exact bool, input [][2]string, end time.Duration) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "rules.yml")
	require.NoError(t, os.WriteFile(path, []byte(orderRules), 0o600))
	sess, err := evaluator.NewEngine(evaluator.Options{}).NewSession(evaluator.SessionOptions{EvalInterval: time.Minute, Exact: exact})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, sess.Close()) })
	require.Nil(t, sess.LoadRules([]string{path}, nil))
	for _, in := range input {
		s, err := series.Parse(in[0], in[1], epoch, time.Minute)
		require.NoError(t, err, in[0])
		sess.AddSeries(s)
	}
	tl, err := sess.Replay(context.Background(), epoch, epoch.Add(end))
	require.NoError(t, err)
	fast, why := sess.FastPath()
	require.Equal(t, !exact, fast, why)
	var out []string
	for _, q := range []string{"top[1h]", "bottom[1h]"} {
		v, err := sess.QueryValue(context.Background(), q, epoch.Add(end))
		require.NoError(t, err)
		out = append(out, sortedValue(v))
	}
	out = append(out, intervals(tl)...)
	return strings.Join(out, "\n")
}

// TestTiesFollowCreationOrder: topk and bottomk break ties by the order
// the storage created the series in, which is the order their first
// samples were appended step by step (then input order): the fast path's
// range queries must read them in that order, as the exact path does.
func TestTiesFollowCreationOrder(t *testing.T) {
	cases := [][][2]string{
		{{`m{i="x"}`, "_x5 1x10"}, {`m{i="y"}`, "1x15"}},
		{{`m{i="a"}`, "_x3 1x12"}, {`m{i="b"}`, "_x1 1x14"}, {`m{i="c"}`, "1x15"}},
	}
	rng := rand.New(rand.NewPCG(17, 3))
	for range 20 {
		var in [][2]string
		for i := range 2 + rng.IntN(5) {
			start, value := rng.IntN(8), 1+rng.IntN(2)
			values := fmt.Sprintf("%dx%d", value, 15-start)
			if start > 0 {
				values = fmt.Sprintf("_x%d %s", start, values)
			}
			in = append(in, [2]string{fmt.Sprintf(`m{i="%c"}`, 'z'-i), values})
		}
		cases = append(cases, in)
	}
	for i, in := range cases {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			want := replayInOrder(t, true, in, 15*time.Minute)
			require.Equal(t, want, replayInOrder(t, false, in, 15*time.Minute), "input %v", in)
		})
	}
}
