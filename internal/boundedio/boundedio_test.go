package boundedio

import (
	"bytes"
	"errors"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/require"

	"github.com/gotk-rules/gotk-rules/budget"
)

func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	small := filepath.Join(dir, "small.yml")
	require.NoError(t, os.WriteFile(small, []byte("groups: []\n"), 0o644))
	exact := filepath.Join(dir, "exact")
	require.NoError(t, os.WriteFile(exact, bytes.Repeat([]byte("x"), 100), 0o644))
	empty := filepath.Join(dir, "empty")
	require.NoError(t, os.WriteFile(empty, nil, 0o644))

	for _, tc := range []struct {
		name, path string
		limit      int64
		want       string // content, or a part of the error's text
		fails      bool
		wantErr    error
	}{
		{name: "small", path: small, limit: 100, want: "groups: []\n"},
		{name: "at the limit", path: exact, limit: 100, want: strings.Repeat("x", 100)},
		{name: "empty", path: empty, limit: 1, want: ""},
		{name: "over the limit", path: exact, limit: 99, fails: true, want: "read " + exact + ": 100 input bytes, over the limit of 99 (raise it with --max-input-bytes)"},
		{name: "missing", path: filepath.Join(dir, "nope"), fails: true, want: "no such file or directory", wantErr: fs.ErrNotExist},
		{name: "directory", path: dir, fails: true, want: "is a directory"},
		{name: "device", path: os.DevNull, fails: true, want: "open /dev/null: not a regular file (a character device); refusing to read it", wantErr: ErrNotRegular},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.path == os.DevNull && runtime.GOOS == "windows" {
				t.Skip("no devices as files")
			}
			b, err := ReadFile(tc.path, Limits{Bytes: tc.limit})
			if tc.fails {
				require.Error(t, err)
				require.Contains(t, err.Error(), tc.want)
				if tc.wantErr != nil {
					require.ErrorIs(t, err, tc.wantErr)
				}
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, string(b))
		})
	}
}

func TestReadFileBudgetError(t *testing.T) {
	p := filepath.Join(t.TempDir(), "big")
	require.NoError(t, os.WriteFile(p, make([]byte, 10), 0o644))
	_, err := ReadFile(p, Limits{Bytes: 5})
	ee, ok := errors.AsType[*budget.ExceededError](err)
	require.True(t, ok, "%v", err)
	require.Equal(t, budget.InputBytes, ee.Budget)
	require.Equal(t, uint64(5), ee.Limit)
	require.Equal(t, uint64(10), ee.Asked)
}

func TestReadFileDevZero(t *testing.T) {
	if _, err := os.Stat("/dev/zero"); err != nil {
		t.Skip("no /dev/zero")
	}
	_, err := ReadFile("/dev/zero", Limits{})
	require.ErrorIs(t, err, ErrNotRegular)
}

func TestReadFileSocket(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no unix sockets as files")
	}
	p := filepath.Join(t.TempDir(), "s.sock")
	ln, err := net.Listen("unix", p)
	require.NoError(t, err)
	defer ln.Close()
	_, err = ReadFile(p, Limits{})
	require.ErrorIs(t, err, ErrNotRegular)
	require.Contains(t, err.Error(), "a socket")
}

func TestReadAll(t *testing.T) {
	b, err := ReadAll(strings.NewReader("abc"), "<stdin>", Limits{Bytes: 3})
	require.NoError(t, err)
	require.Equal(t, "abc", string(b))
	_, err = ReadAll(strings.NewReader("abcd"), "<stdin>", Limits{Bytes: 3})
	require.EqualError(t, err, "read <stdin>: more than 3 input bytes, over the limit of 3 (raise it with --max-input-bytes)")
	// An endless reader stops at the limit.
	_, err = ReadAll(zeros{}, "<stdin>", Limits{Bytes: 1 << 20})
	require.ErrorContains(t, err, "over the limit of 1048576")
	// A reader's error is kept.
	_, err = ReadAll(failing{}, "<stdin>", Limits{})
	require.EqualError(t, err, "read <stdin>: boom")
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

type failing struct{}

func (failing) Read([]byte) (int, error) { return 0, errors.New("boom") }

func TestReadFS(t *testing.T) {
	fsys := fstest.MapFS{"a.yml": {Data: []byte("abc")}, "big.yml": {Data: make([]byte, 10)}}
	b, err := ReadFS(fsys, "a.yml", Limits{Bytes: 3})
	require.NoError(t, err)
	require.Equal(t, "abc", string(b))
	_, err = ReadFS(fsys, "big.yml", Limits{Bytes: 3})
	require.EqualError(t, err, "read big.yml: 10 input bytes, over the limit of 3 (raise it with --max-input-bytes)")
	_, err = ReadFS(fsys, "nope.yml", Limits{})
	require.ErrorIs(t, err, fs.ErrNotExist)
}

func TestDefaults(t *testing.T) {
	l := Limits{}.withDefaults()
	require.Equal(t, int64(budget.DefaultInputBytes), l.Bytes)
	require.Equal(t, DefaultWait, l.Wait)
}
