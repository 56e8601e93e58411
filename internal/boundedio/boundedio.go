// Package boundedio reads inputs with a bound on their size and, for inputs
// that are not regular files, on the time they may take: a hostile or
// mistaken input (/dev/zero, a named pipe nobody writes to, a 10 GiB file)
// gives an error naming the limit and how to raise it, never a hang or an
// exhausted memory.
package boundedio

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"

	"github.com/gotk-rules/gotk-rules/budget"
)

// Flags that raise the limits, named in the errors.
const (
	// BytesFlag raises Limits.Bytes.
	BytesFlag = "--max-input-bytes"
	// WaitFlag raises Limits.Wait.
	WaitFlag = "--input-timeout"
)

// DefaultWait is the default of Limits.Wait.
const DefaultWait = 10 * time.Second

// Limits bound one read. The zero value holds the defaults.
type Limits struct {
	// Bytes is the most bytes an input may have (budget.InputBytes; zero:
	// budget.DefaultInputBytes).
	Bytes int64
	// Wait is the most time reading a named pipe may take, its opening
	// included (zero: DefaultWait). Regular files are not timed.
	Wait time.Duration
}

func (l Limits) withDefaults() Limits {
	if l.Bytes <= 0 {
		l.Bytes = budget.DefaultInputBytes
	}
	if l.Wait <= 0 {
		l.Wait = DefaultWait
	}
	return l
}

// ErrNotRegular is the cause of the error for an input that is a device, a
// socket or another file that is neither a regular file nor a named pipe.
var ErrNotRegular = errors.New("not a regular file")

// ErrTimeout is the cause of the error for a named pipe that gave no end of
// file within Limits.Wait.
var ErrTimeout = errors.New("timed out")

// tooLarge is the error for an input over the limit; size is what is known
// of its size (the limit plus one for a stream).
func tooLarge(limit, size int64, known bool) error {
	subject := fmt.Sprintf("%d input bytes", size)
	if !known {
		subject = fmt.Sprintf("more than %d input bytes", limit)
	}
	return fmt.Errorf("%w (raise it with %s)", &budget.ExceededError{
		Budget: budget.InputBytes, Limit: uint64(limit), Asked: uint64(size), Subject: subject,
	}, BytesFlag)
}

// ReadFile reads the file at path, whole, within l. Regular files are read
// up to l.Bytes; named pipes (process substitution, mkfifo) are read up to
// l.Bytes within l.Wait; devices, sockets and other special files are
// refused. Errors are *fs.PathError naming path, except that a directory
// gives the error reading it does (as os.ReadFile).
func ReadFile(path string, l Limits) ([]byte, error) {
	l = l.withDefaults()
	fi, err := os.Stat(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			pe.Op = "open" // as os.ReadFile words it
		}
		return nil, err
	}
	switch mode := fi.Mode(); {
	case mode.IsRegular():
		if fi.Size() > l.Bytes {
			return nil, &fs.PathError{Op: "read", Path: path, Err: tooLarge(l.Bytes, fi.Size(), true)}
		}
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		return readLimited(f, path, l.Bytes, fi.Size())
	case mode&fs.ModeNamedPipe != 0:
		return readPipe(path, l)
	case mode.IsDir():
		return os.ReadFile(path) // "read PATH: is a directory"
	default:
		return nil, &fs.PathError{Op: "open", Path: path, Err: fmt.Errorf("%w (%s); refusing to read it", ErrNotRegular, kind(mode))}
	}
}

// kind words what a special file is.
func kind(m fs.FileMode) string {
	switch {
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	case m&fs.ModeSocket != 0:
		return "a socket"
	}
	return "a special file"
}

// ReadAll reads r to its end, up to l.Bytes (Wait does not apply: the
// caller owns r); name is what errors call r, such as "<stdin>".
func ReadAll(r io.Reader, name string, l Limits) ([]byte, error) {
	l = l.withDefaults()
	return readLimited(r, name, l.Bytes, 0)
}

// ReadFS reads a file of fsys, up to l.Bytes.
func ReadFS(fsys fs.FS, path string, l Limits) ([]byte, error) {
	l = l.withDefaults()
	f, err := fsys.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var size int64
	if fi, err := f.Stat(); err == nil {
		if !fi.Mode().IsRegular() {
			return nil, &fs.PathError{Op: "read", Path: path, Err: fmt.Errorf("%w (%s)", ErrNotRegular, kind(fi.Mode()))}
		}
		if fi.Size() > l.Bytes {
			return nil, &fs.PathError{Op: "read", Path: path, Err: tooLarge(l.Bytes, fi.Size(), true)}
		}
		size = fi.Size()
	}
	return readLimited(f, path, l.Bytes, size)
}

// readLimited reads r to its end, failing past limit bytes; size is a hint
// for the buffer.
func readLimited(r io.Reader, name string, limit, size int64) ([]byte, error) {
	buf := make([]byte, 0, min(max(size+1, 512), limit+1))
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):min(int64(cap(buf)), limit+1)])
		buf = buf[:len(buf)+n]
		if int64(len(buf)) > limit {
			return nil, &fs.PathError{Op: "read", Path: name, Err: tooLarge(limit, limit+1, false)}
		}
		if errors.Is(err, io.EOF) {
			return buf, nil
		}
		if err != nil {
			var pe *fs.PathError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			return nil, &fs.PathError{Op: "read", Path: name, Err: err}
		}
	}
}

// readPipe reads a named pipe within l.Wait. Opening a pipe waits for a
// writer: the open runs aside, and is let go by opening the pipe for
// writing once the wait is over.
func readPipe(path string, l Limits) ([]byte, error) {
	type result struct {
		b   []byte
		err error
	}
	deadline := time.Now().Add(l.Wait)
	done := make(chan result, 1)
	go func() {
		f, err := os.Open(path)
		if err != nil {
			done <- result{err: err}
			return
		}
		defer f.Close()
		if time.Now().After(deadline) {
			done <- result{err: timeoutError(path, l.Wait)}
			return
		}
		// A pipe is pollable: the deadline ends a read that waits for a
		// writer that never writes nor closes.
		_ = f.SetReadDeadline(deadline)
		b, err := readLimited(f, path, l.Bytes, 0)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			err = timeoutError(path, l.Wait)
		}
		done <- result{b: b, err: err}
	}()
	timer := time.NewTimer(l.Wait)
	defer timer.Stop()
	select {
	case r := <-done:
		return r.b, r.err
	case <-timer.C:
	}
	// Still opening: no writer came. Let the open go, so that the
	// goroutine ends, and report the wait.
	for range 100 {
		unblockOpen(path)
		select {
		case <-done:
			// Even an end of file now may be the one unblockOpen made.
			return nil, timeoutError(path, l.Wait)
		case <-time.After(10 * time.Millisecond):
		}
	}
	return nil, timeoutError(path, l.Wait)
}

func timeoutError(path string, wait time.Duration) error {
	return &fs.PathError{Op: "read", Path: path, Err: fmt.Errorf("%w: a named pipe gave no end of file within %s (is anything writing to it? raise the wait with %s)", ErrTimeout, wait, WaitFlag)}
}
