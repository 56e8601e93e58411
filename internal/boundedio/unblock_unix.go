//go:build unix

package boundedio

import (
	"os"
	"syscall"
)

// unblockOpen lets go an open of the named pipe at path that waits for a
// writer, by opening it for writing without blocking and closing it at
// once: the reader then sees an end of file.
func unblockOpen(path string) {
	if f, err := os.OpenFile(path, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
		f.Close()
	}
}
