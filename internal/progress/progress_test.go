package progress

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gotk-rules/gotk-rules/internal/syncbuf"
)

func TestLine(t *testing.T) {
	f := func(done, total int64, want string) {
		t.Helper()
		c := &Counter{}
		c.AddTotal(total)
		c.Add(done)
		require.Equal(t, want, Line(c, "evaluations", 1500*time.Millisecond))
	}
	f(0, 0, "[                              ]   0% 0/0 evaluations 1.5s")
	f(720, 1441, "[==============                ]  50% 720/1441 evaluations 1.5s")
	f(1441, 1441, "[==============================] 100% 1441/1441 evaluations 1.5s")
	// A total announced late never makes the bar overflow.
	f(10, 5, "[==============================] 100% 10/5 evaluations 1.5s")
}

func TestNilCounterCountsNothing(t *testing.T) {
	var c *Counter
	c.AddTotal(3)
	c.Add(1)
}

func TestBarShowsOnlyAfterDelay(t *testing.T) {
	defer func(d, i time.Duration) { Delay, Interval = d, i }(Delay, Interval)
	Delay, Interval = 50*time.Millisecond, 10*time.Millisecond

	// A short run draws nothing.
	var quick syncbuf.Buffer
	Start(&quick, true, "evaluations", &Counter{}).Stop()
	require.Empty(t, quick.String())

	// A long one draws, then clears its line.
	var long syncbuf.Buffer
	c := &Counter{}
	c.AddTotal(4)
	b := Start(&long, true, "evaluations", c)
	c.Add(2)
	require.Eventually(t, func() bool { return strings.Contains(long.String(), "2/4 evaluations") }, 5*time.Second, 5*time.Millisecond)
	b.Stop()
	b.Stop() // twice is harmless
	require.True(t, strings.HasSuffix(long.String(), "\r\033[K"))

	// Not on a terminal: nothing, however long.
	var off syncbuf.Buffer
	b = Start(&off, false, "evaluations", c)
	time.Sleep(80 * time.Millisecond)
	b.Stop()
	require.Empty(t, off.String())
}

func TestIsTerminal(t *testing.T) {
	require.False(t, IsTerminal(&bytes.Buffer{}))
}
