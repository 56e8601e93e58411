package rulefile_test

import (
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/prometheus/prometheus/promql/parser"
	"github.com/stretchr/testify/require"

	"github.com/gotk-rules/gotk-rules/rulefile"
)

// TestLoadFileOnceForConcurrentLoads: loads of one file asked at once get
// one parse (the same *File), and a bad file's errors are the same for all.
func TestLoadFileOnceForConcurrentLoads(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yml")
	bad := filepath.Join(dir, "bad.yml")
	require.NoError(t, os.WriteFile(good, []byte("groups:\n  - name: g\n    rules:\n      - record: r\n        expr: up\n"), 0o644))
	require.NoError(t, os.WriteFile(bad, []byte("groups:\n  - name: g\n    rules:\n      - record: r\n        expr: up{\n"), 0o644))
	for _, tc := range []struct {
		name string
		path string
		ok   bool
	}{
		{"good", good, true},
		{"bad", bad, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := rulefile.NewLoader(parser.NewParser(parser.Options{}), false)
			const n = 16
			files := make([]*rulefile.File, n)
			errs := make([]error, n)
			var start, wg sync.WaitGroup
			start.Add(1)
			for i := range n {
				wg.Go(func() {
					start.Wait()
					files[i], errs[i] = l.LoadFile(tc.path)
				})
			}
			start.Done()
			wg.Wait()
			for i := range n {
				if tc.ok {
					require.NoError(t, errs[i])
					require.Same(t, files[0], files[i], "load %d parsed the file again", i)
				} else {
					require.Error(t, errs[i])
					require.Equal(t, errs[0].Error(), errs[i].Error())
				}
			}
		})
	}
}
