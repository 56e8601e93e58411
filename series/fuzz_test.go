package series_test

import (
	"testing"

	"github.com/gotk-rules/gotk-rules/series"
)

// FuzzCount checks that Count never undercounts what the parser expands: a
// budget checked with Count must hold whatever the input.
func FuzzCount(f *testing.F) {
	for _, tc := range validNotation {
		f.Add(tc.values)
	}
	for _, s := range []string{
		"1x3 x5", "x5", "1 2 x3", "1x2x", "1x3x5", "1x3,_x4", "1x3 x5 x0", "1x0x3",
		"stalex3", "_stale", "__", "1+-1x2", "1x+2", "1x3_x4", "1_x4",
		"{{count:1}}{{count:2}}", "{{count:1}}x2{{count:2}}x3", "{{count:1}}x3_x5",
		"{{schema:0 sum:5 count:4 buckets:[1 2 1]}}x2 _x3 stale 1+1x4",
		"{{schema:0 sum:5 count:4 buckets:[1 2 1]", "}}x3", "{{x3}}x2",
		"1x4294967296", "1x99999999999999999999", "0x1p3", "1e3x2e2", ".5x2", "1.x2",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c := series.Count(s)
		if c > 1_000_000 {
			return // the budget refuses it before it is parsed
		}
		_, vals, err := series.ParseDesc("m " + s)
		if uint64(len(vals)) > c {
			t.Fatalf("Count(%q) = %d, but the parser expands %d values (err: %v)", s, c, len(vals), err)
		}
		if err == nil && uint64(len(vals)) != c {
			t.Fatalf("Count(%q) = %d, want %d for valid notation", s, c, len(vals))
		}
	})
}
