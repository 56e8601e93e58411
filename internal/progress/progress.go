// Package progress counts work done and draws it as a bar on a terminal.
//
// A Counter is shared by the code doing the work (which adds to it from any
// goroutine) and a Bar, which redraws one line of stderr a few times a
// second. The bar shows only on a terminal, and only once the work has
// taken longer than a second: short runs and logs stay clean.
package progress

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Counter counts units of work done out of a total that may grow as work
// is discovered. A nil Counter counts nothing.
type Counter struct {
	done, total atomic.Int64
}

// AddTotal announces n more units of work.
func (c *Counter) AddTotal(n int64) {
	if c != nil {
		c.total.Add(n)
	}
}

// Add records n units done.
func (c *Counter) Add(n int64) {
	if c != nil {
		c.done.Add(n)
	}
}

// Get returns the units done and the total.
func (c *Counter) Get() (done, total int64) {
	return c.done.Load(), c.total.Load()
}

// Bar draws a Counter on a terminal.
type Bar struct {
	w     io.Writer
	label string // unit of work, e.g. "evaluations"
	c     *Counter
	start time.Time
	stop  chan struct{}
	wg    sync.WaitGroup
	drawn bool
}

// Settings of a bar: the delay before it first shows, and between redraws.
var (
	Delay    = time.Second
	Interval = 200 * time.Millisecond
)

// IsTerminal reports whether w is a terminal.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// Start draws c on w until Stop, if show is true (use IsTerminal(w)).
// Without show, it returns a bar that draws nothing.
func Start(w io.Writer, show bool, label string, c *Counter) *Bar {
	b := &Bar{w: w, label: label, c: c, start: time.Now(), stop: make(chan struct{})}
	if !show {
		return b
	}
	wait := Delay
	if v, err := time.ParseDuration(os.Getenv("GOTK_PROGRESS_DELAY")); err == nil {
		wait = v // for end-to-end tests of the bar
	}
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		if wait > 0 {
			delay := time.NewTimer(wait)
			defer delay.Stop()
			select {
			case <-b.stop:
				return
			case <-delay.C:
			}
		}
		tick := time.NewTicker(Interval)
		defer tick.Stop()
		for {
			b.draw()
			select {
			case <-b.stop:
				return
			case <-tick.C:
			}
		}
	}()
	return b
}

// Stop stops drawing and clears the bar's line.
func (b *Bar) Stop() {
	select {
	case <-b.stop:
		return
	default:
	}
	close(b.stop)
	b.wg.Wait()
	if b.drawn {
		fmt.Fprint(b.w, "\r\033[K")
	}
}

const width = 30

func (b *Bar) draw() {
	b.drawn = true
	fmt.Fprint(b.w, "\r"+Line(b.c, b.label, time.Since(b.start))+"\033[K")
}

// Line renders the counter as one line: a bar, a percentage, counts and
// the time elapsed.
func Line(c *Counter, label string, elapsed time.Duration) string {
	done, total := c.Get()
	frac := 0.0
	if total > 0 {
		frac = min(1, float64(done)/float64(total))
	}
	filled := int(frac * width)
	return fmt.Sprintf("[%s%s] %3.0f%% %d/%d %s %s",
		strings.Repeat("=", filled), strings.Repeat(" ", width-filled),
		100*frac, done, total, label, elapsed.Truncate(100*time.Millisecond))
}
