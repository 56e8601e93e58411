package cli

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gotk-rules/gotk-rules/internal/progress"
)

func TestBacktestETALine(t *testing.T) {
	c := &progress.Counter{}
	c.AddTotal(1000)
	require.NotContains(t, etaLine(c, time.Second), "left", "no estimate before any work")
	c.Add(250)
	line := etaLine(c, 10*time.Second)
	require.Contains(t, line, "250/1000 evaluations")
	require.True(t, strings.HasSuffix(line, "about 30s left"), line)
	c.Add(750)
	require.NotContains(t, etaLine(c, 40*time.Second), "left", "done: nothing left")
}

func TestBacktestETABarDraws(t *testing.T) {
	c := &progress.Counter{}
	c.AddTotal(10)
	c.Add(5)
	t.Setenv("GOTK_PROGRESS_DELAY", "0s")
	var out syncBuffer
	bar := startETABar(&out, true, c)
	require.Eventually(t, func() bool { return strings.Contains(out.String(), "left") }, 5*time.Second, 10*time.Millisecond)
	bar.stop()
	require.True(t, strings.HasSuffix(out.String(), "\r\033[K"), "the line is cleared at the end")

	var quiet syncBuffer
	startETABar(&quiet, false, c).stop()
	require.Empty(t, quiet.String(), "nothing drawn off a terminal")
}

// syncBuffer is a bytes.Buffer safe for the bar's goroutine.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
