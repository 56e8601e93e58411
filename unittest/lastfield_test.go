package unittest

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestLastField requires lastField to be the last of strings.Fields.
func TestLastField(t *testing.T) {
	for _, s := range []string{
		"", " ", "1", "1 2 3", "1x5 _ stale  ", "\t1\n2\u00a0", "a\u00a0b", "0+1x3\u2003 9", "\u3000x\u3000",
	} {
		want := ""
		if f := strings.Fields(s); len(f) > 0 {
			want = f[len(f)-1]
		}
		require.Equal(t, want, lastField(s), "%q", s)
	}
}
