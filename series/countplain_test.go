package series

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// countRegexp is Count read with its regular expressions only.
func countRegexp(values string) uint64 {
	flat := histogramBody.ReplaceAllString(values, "H")
	var total uint64
	for _, tok := range strings.Fields(flat) {
		reps := repetition.FindAllStringSubmatchIndex(tok, -1)
		if len(reps) == 0 || tok[:reps[0][0]] != "_" {
			total++
		}
		for _, m := range reps {
			n := uint64(0)
			for _, c := range tok[m[2]:m[3]] {
				if n <= 1<<32 {
					n = n*10 + uint64(c-'0')
				}
			}
			total += min(n, 1<<32-1)
		}
	}
	return total
}

func TestCountPlainMatchesRegexp(t *testing.T) {
	cases := []string{"", " ", "_", "_x3 0x1437", "1x", "x5", "_x", "__x3", "1x2x3", "_x2x3", "1+2x3", "a x9 b",
		"0x99999999999999999999", "1x007", "\t1x2\n_x3\r", "stale _ 1"}
	for _, c := range cases {
		n, ok := countPlain(c)
		require.True(t, ok, c)
		require.Equal(t, countRegexp(c), n, "%q", c)
	}
	alphabet := []byte("x_0123456789+-. \t.xxab")
	r := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		b := make([]byte, r.IntN(16))
		for i := range b {
			b[i] = alphabet[r.IntN(len(alphabet))]
		}
		n, ok := countPlain(string(b))
		require.True(t, ok)
		require.Equal(t, countRegexp(string(b)), n, "%q", b)
	}
	for _, c := range []string{"{{schema:0}}", "1 \u00a02"} {
		_, ok := countPlain(c)
		require.False(t, ok, c)
	}
}
