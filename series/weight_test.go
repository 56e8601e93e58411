package series_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gotk-rules/gotk-rules/series"
)

func TestWeight(t *testing.T) {
	buckets := "[" + strings.TrimSpace(strings.Repeat("1 ", 1000)) + "]"
	for _, tc := range []struct {
		values string
		want   uint64
	}{
		{"1 2 3", 3},
		{"1+1x9 _x5", 15},
		{"{{schema:0 sum:1 count:1}}", 1},
		{"{{schema:0 sum:1 count:1 buckets:[1 2 3]}}", 4},
		{"{{schema:0 sum:1 count:1 buckets:[1 2 3] n_buckets:[1 1] offset:0}}x9", 60},
		{"{{schema:0 sum:1 count:1 buckets:" + buckets + "}}x999", 1001 * 1000},
		{"{{buckets:[1]}}+{{buckets:[1 1 1]}}x3 7", 4*4 + 1},
		{"1 {{schema:0 sum:1 count:1 buckets:[1]}} 2", 4},
	} {
		require.Equal(t, tc.want, series.Weight(tc.values), tc.values)
		require.GreaterOrEqual(t, series.Weight(tc.values), series.Count(tc.values), tc.values)
	}
}
