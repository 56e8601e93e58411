//go:build unix

package boundedio

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func mkfifo(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "fifo")
	require.NoError(t, syscall.Mkfifo(p, 0o600))
	return p
}

func TestReadFileFIFONoWriter(t *testing.T) {
	p := mkfifo(t)
	_, err := ReadFile(p, Limits{Wait: 100 * time.Millisecond})
	require.ErrorIs(t, err, ErrTimeout)
	require.Contains(t, err.Error(), "raise the wait with --input-timeout")
}

func TestReadFileFIFOSilentWriter(t *testing.T) {
	p := mkfifo(t)
	// A writer that opens the pipe and never writes nor closes it.
	opened := make(chan *os.File, 1)
	go func() {
		f, err := os.OpenFile(p, os.O_WRONLY, 0)
		if err == nil {
			opened <- f
		}
	}()
	_, err := ReadFile(p, Limits{Wait: 200 * time.Millisecond})
	require.ErrorIs(t, err, ErrTimeout)
	select {
	case f := <-opened:
		f.Close()
	case <-time.After(5 * time.Second):
		t.Fatal("the writer never opened")
	}
}

func TestReadFileFIFOWriter(t *testing.T) {
	p := mkfifo(t)
	go func() {
		f, err := os.OpenFile(p, os.O_WRONLY, 0)
		if err != nil {
			return
		}
		_, _ = f.WriteString("groups: []\n")
		f.Close()
	}()
	b, err := ReadFile(p, Limits{Wait: 5 * time.Second})
	require.NoError(t, err)
	require.Equal(t, "groups: []\n", string(b))
}

func TestReadFileFIFOTooLarge(t *testing.T) {
	p := mkfifo(t)
	go func() {
		f, err := os.OpenFile(p, os.O_WRONLY, 0)
		if err != nil {
			return
		}
		defer f.Close()
		_, _ = f.Write(make([]byte, 1<<16)) // fails once the reader is gone
	}()
	_, err := ReadFile(p, Limits{Bytes: 1000, Wait: 5 * time.Second})
	require.ErrorContains(t, err, "more than 1000 input bytes, over the limit of 1000 (raise it with --max-input-bytes)")
}
