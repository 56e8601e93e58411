package series

import (
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/stretchr/testify/require"

	"github.com/gotk-rules/gotk-rules/internal/racemode"
)

// checkAgainstPrometheus parses line with the fast path and with Prometheus'
// parser. Whenever the fast path accepts the line, Prometheus must accept it
// too with the same labels and the same values, float bits included. It also
// checks that ParseDesc returns what Prometheus returns, errors included. It
// reports whether the fast path accepted the line.
func checkAgainstPrometheus(t testing.TB, line string) bool {
	t.Helper()
	fl, fv, ok := parseDescFast(line)
	pl, pv, perr := seriesParser.ParseSeriesDesc(line)
	dl, dv, derr := ParseDesc(line)
	if !ok {
		// Fallback: ParseDesc is Prometheus, errors and all.
		if perr != nil {
			require.EqualError(t, derr, perr.Error(), "%q", line)
		} else {
			require.NoError(t, derr, "%q", line)
		}
		requireSameDesc(t, line, pl, pv, dl, dv)
		return false
	}
	require.NoError(t, perr, "fast path accepted %q, Prometheus rejects it", line)
	require.NoError(t, derr, "%q", line)
	requireSameDesc(t, line, pl, pv, fl, fv)
	requireSameDesc(t, line, pl, pv, dl, dv)
	return true
}

func requireSameDesc(t testing.TB, line string, wantL labels.Labels, wantV []parser.SequenceValue, gotL labels.Labels, gotV []parser.SequenceValue) {
	t.Helper()
	require.True(t, labels.Equal(wantL, gotL), "%q: labels %s, want %s", line, gotL, wantL)
	require.Equal(t, wantL.String(), gotL.String(), "%q", line)
	require.Equal(t, wantV == nil, gotV == nil, "%q: nil values", line)
	require.Len(t, gotV, len(wantV), "%q: expansion length", line)
	for i := range wantV {
		// Plain comparisons: this runs for millions of values.
		w, g := wantV[i], gotV[i]
		if w.Histogram != nil || g.Histogram != nil {
			require.Equal(t, w.Histogram, g.Histogram, "%q: value %d histogram", line, i)
		}
		if w.Omitted != g.Omitted || math.Float64bits(w.Value) != math.Float64bits(g.Value) ||
			w.CounterResetHintSet != g.CounterResetHintSet {
			t.Fatalf("%q: value %d is %+v (bits %#x), want %+v (bits %#x)",
				line, i, g, math.Float64bits(g.Value), w, math.Float64bits(w.Value))
		}
	}
}

const fleetLine = `gotk_reconcile_condition{kind="GitRepository",name="app-00002",namespace="team-02",status="False",type="Ready"} _x3 1x24 0x10 1 0x17 stale 0+1.5x10 5-2x3`

// fastDescCases are representative lines, with whether the fast path reads
// them itself.
var fastDescCases = []struct {
	line string
	fast bool
}{
	{fleetLine, true},
	{`m`, true},
	{`m `, true},
	{`m 1`, true},
	{`  m   1   2  `, true},
	{`m 1 2 3 _ _x3 _x0 stale`, true},
	{`m 1x0 1x3 1+2x0 1+2x3 1-2x3 -1+1x2 +1x2 -1-1x2`, true},
	{`m 0 -0 +0 -0x2 0-0x2 -0+0x2`, true},
	{`m 1.5+0.1x20 0.1+0.2x30 -0.3-0.1x15`, true},
	{`m 010 08 09 0 00 007 0010x2 1+010x2`, true}, // octal through ParseInt(_, 0, 64)
	{`m 1x010 1x00 _x007`, true},                  // counts are decimal
	{`m 123456789012345678 1234567890123456789 99999999999999999999 9223372036854775807 9223372036854775808`, true},
	{`m 1x2500 _x3000 0+0.001x3000`, true},
	{`{}`, true},
	{`{} 1`, true},
	{`m{} 1`, true},
	{`m{ } 1`, true},
	{`m{a="b",} 1`, true},
	{`m{ a = "b" , c="d" , } 1`, true},
	{`m{z="1",a="2",m="3"} 1`, true},
	{`{z="1",a="2"} 1`, true},
	{`m{a=""} 1`, true},                  // the builder drops empty values
	{`{a=""} 1`, true},                   // labels.New keeps them
	{`{__name__=""} 1`, true},            // kept too
	{`m{__name__="other"} 1`, true},      // the metric name wins
	{`{__name__="other",a="b"} 1`, true}, // name from the braces
	{`m{__name__=""} 1`, true},
	{`m{Z="1",a="2",_b="3"} 1`, true}, // upper case sorts before __name__
	{`m{a="with space, #hash {x}"} 1`, true},
	{`a:b:c 1`, true},
	{`:a 1`, true},
	{`_ 1`, true},
	{`x 1`, true},
	{`stale 1`, true},
	{`fill 1`, true},
	{`sum 1`, false}, // keywords: Prometheus takes some as names, refuses others
	{`by 1`, false},
	{`bool 1`, false},
	{`on{a="b"} 1`, false},
	{`Inf 1`, false},
	{`nan 1`, false},
	{`m{a="1",a="2"} 1`, false},
	{`m{a="1",b="2",a="3"} 1`, false},
	{`m{a="\"q\""} 1`, false},
	{`m{a='b'} 1`, false},
	{"m{a=`b`} 1", false},
	{`m{a="ü"} 1`, false},
	{`m{"a"="b"} 1`, false},
	{`m{"quoted.name"} 1`, false},
	{`m{a=~"b"} 1`, false},
	{`m{a!="b"} 1`, false},
	{`m{a:b="c"} 1`, false},
	{`m{,} 1`, false},
	{`m{a="b",,} 1`, false},
	{`m{a="b" 1`, false},
	{`m {a="b"} 1`, false},
	{`m{a="b"}1`, false},
	{`m1 1`, true},
	{`1m 1`, false},
	{"m\t1", false},
	{"m 1\t2", false},
	{"m 1\n", false},
	{"\tm 1", false},
	{``, false},
	{`   `, false},
	{`m # comment`, false},
	{`m 1 # comment`, false},
	{`m Inf -Inf NaN`, false},
	{`m 1e3 1E3 1e-3`, false},
	{`m 0x10`, true}, // no hex in series values: 0 repeated 10 times
	{`m 0X10`, false},
	{`m .5`, false},
	{`m 1.`, false},
	{`m 1_000`, false},
	{`m 5m`, false},
	{`m 1x1.5`, false},
	{`m 1x-1`, false},
	{`m 1x`, false},
	{`m x3`, false},
	{`m 1 x3`, false},
	{`m 1x3x4`, false},
	{`m 1+2`, false},
	{`m 1+-2x3`, false},
	{`m +-1`, false},
	{`m stalex3`, false},
	{`m stale+1x2`, false},
	{`m Stale`, false},
	{`m _1`, false},
	{`m __`, false},
	{`m _ x3`, false},
	{`m _+1x3`, false},
	{`m 1x9999999999`, false}, // ten digits: left to Prometheus, which expands them
	{`m {{schema:0 sum:5 count:4 buckets:[1 2 1]}}x2 1`, false},
	{`m 1 {{count:1}}`, false},
}

func TestParseDescFast(t *testing.T) {
	for _, tc := range fastDescCases {
		if tc.line == `m 1x9999999999` {
			// Prometheus would expand ten billion values; only the fast
			// path's refusal is checked.
			_, _, ok := parseDescFast(tc.line)
			require.False(t, ok)
			continue
		}
		got := checkAgainstPrometheus(t, tc.line)
		require.Equal(t, tc.fast, got, "%q: fast path taken", tc.line)
	}
}

func TestParseDescFastValues(t *testing.T) {
	// A few expansions spelled out, beyond agreeing with Prometheus.
	lset, vals, err := ParseDesc(`m{b="2",a="1"} 1.5+0.1x20 _x2 stale -3x1 010`)
	require.NoError(t, err)
	require.Equal(t, labels.FromStrings("__name__", "m", "a", "1", "b", "2"), lset)
	require.Len(t, vals, 21+2+1+2+1)
	require.Equal(t, 3.5000000000000018, vals[20].Value) // repeated addition, not 1.5+20*0.1 == 3.5
	require.True(t, vals[21].Omitted)
	require.True(t, vals[22].Omitted)
	require.True(t, math.IsNaN(vals[23].Value))
	require.Equal(t, []float64{-3, -3, 8}, []float64{vals[24].Value, vals[25].Value, vals[26].Value})
}

// randomDesc generates a line from a grammar mixing the fast path's subset
// with forms it must leave to Prometheus.
func randomDesc(r *rand.Rand) string {
	pick := func(xs ...string) string { return xs[r.IntN(len(xs))] }
	// Half the lines stick to forms the fast path should read (edge cases
	// included), so that both paths are well exercised.
	clean := r.IntN(2) == 0
	bad := func(oneIn int) bool { return !clean && r.IntN(oneIn) == 0 }
	var b strings.Builder
	if r.IntN(10) == 0 {
		b.WriteString(" ")
	}
	if bad(10) {
		b.WriteString(pick(" ", "  ", "\t", "\n"))
	}
	// Metric name.
	switch {
	case r.IntN(12) == 0:
		// no name
	case bad(6):
		b.WriteString(pick("sum", "by", "bool", "on", "offset", "Inf", "nan", "1m", "föö", "a-b", "group_left", "start"))
	case r.IntN(4) == 0:
		b.WriteString(pick("stale", "x", "_", "a:b", ":c", "fill", "x3", "_x3", "sums", "Info"))
	default:
		b.WriteString(pick("m", "gotk_reconcile_condition", "up", "job:rate5m", "M_2"))
	}
	// Labels.
	if r.IntN(5) != 0 {
		if bad(20) {
			b.WriteString(" ")
		}
		b.WriteString("{")
		n := r.IntN(5)
		for i := range n {
			if i > 0 {
				if bad(10) {
					b.WriteString(",,")
				} else {
					b.WriteString(pick(",", ",", ", ", " , "))
				}
			}
			b.WriteString(pick("", "", "", " "))
			if bad(10) {
				b.WriteString(pick("a:b", "1a", "ä", `"q"`))
			} else {
				b.WriteString(pick("a", "b", "job", "kind", "name", "namespace", "status", "type", "__name__", "by", "x", "_", "a", "b"))
			}
			if bad(10) {
				b.WriteString(pick("=~", "!=", "=="))
			} else {
				b.WriteString(pick("=", "=", "=", " = "))
			}
			v := pick("", "v", "team-02", "App-00002", "with space", "#h", "{}", "x3 1", "_x0")
			if bad(8) {
				v = pick(`q\"t`, "ü", `\n`, "\t", "\x00")
			}
			switch {
			case bad(15):
				b.WriteString("'" + v + "'")
			case bad(15):
				b.WriteString("`" + v + "`")
			case bad(15):
				b.WriteString(`"` + v) // unterminated
			default:
				b.WriteString(`"` + v + `"`)
			}
		}
		if n > 0 && r.IntN(8) == 0 {
			b.WriteString(",")
		}
		if bad(10) {
			b.WriteString(pick("", "}}", ")"))
		} else {
			b.WriteString(pick("}", "}", "}", " }"))
		}
	}
	// Values.
	num := func() string {
		s := ""
		switch r.IntN(10) {
		case 0:
			if bad(2) {
				s = pick("1e3", "0x1f", "0X1", "Inf", "NaN", ".5", "1.", "1_0", "5m", "1.2.3", "1e")
			} else {
				s = pick("0", "00", "010", "08", "0.0", "1.5", "0.1", "0.3", "2.675", "9223372036854775807", "9223372036854775808", "123456789012345678901234567890", "0.30000000000000004441")
			}
		case 1, 2:
			s = strconv.Itoa(r.IntN(10)) + "." + strconv.Itoa(r.IntN(1000))
		default:
			s = strconv.Itoa(r.IntN(1000))
		}
		return s
	}
	signed := func() string { return pick("", "", "", "-", "+") + num() }
	count := func() string {
		switch {
		case r.IntN(20) == 0:
			return strconv.Itoa(1000 + r.IntN(2001))
		case r.IntN(10) == 0:
			return pick("0", "00", "010")
		case bad(20):
			return pick("1.5", "-1", "", "x", "1e2")
		default:
			return strconv.Itoa(r.IntN(30))
		}
	}
	n := r.IntN(12)
	for range n {
		switch {
		case bad(20):
			b.WriteString(pick("", "\t", "\n", " \t"))
		default:
			b.WriteString(pick(" ", " ", " ", " ", "  ", "   "))
		}
		switch r.IntN(14) {
		case 0:
			b.WriteString("_")
		case 1:
			b.WriteString("_x" + count())
		case 2:
			b.WriteString("stale")
		case 3, 4:
			b.WriteString(signed())
		case 5, 6:
			b.WriteString(signed() + "x" + count())
		case 7, 8, 9:
			b.WriteString(signed() + pick("+", "-") + num() + "x" + count())
		case 10:
			if !bad(1) {
				b.WriteString(signed())
				break
			}
			b.WriteString(pick("{{schema:0 sum:1 count:1}}", "{{count:1}}x2", "x3", "1x", "1x3x4", "+-1", "stalex3", "#c", "1+2", "_1", "__", "Stale", "1 x3", "_+1x2", "stale+1x2"))
		default:
			b.WriteString(num())
		}
	}
	if r.IntN(8) == 0 {
		b.WriteString(pick(" ", "  "))
	}
	if bad(20) {
		b.WriteString(pick("\t", "\n", " # c"))
	}
	return b.String()
}

func TestParseDescFastRandom(t *testing.T) {
	// Under -race, 50 random lines (parsing runs on one goroutine: the
	// race detector has nothing to check, and 500 lines took 14 s under
	// it); the plain run of test-unit (Makefile) checks all 5000.
	n := racemode.Cases(5000, 50)
	if testing.Short() {
		n = min(n, 1000)
	}
	r := rand.New(rand.NewPCG(1, 2))
	fast := 0
	for range n {
		if checkAgainstPrometheus(t, randomDesc(r)) {
			fast++
		}
	}
	t.Logf("%d of %d random lines took the fast path", fast, n)
	// Both paths must be well exercised.
	require.Greater(t, fast, n/5)
	require.Less(t, fast, n*4/5)
}

func FuzzParseDesc(f *testing.F) {
	for _, tc := range fastDescCases {
		f.Add(tc.line)
	}
	r := rand.New(rand.NewPCG(3, 4))
	for range 50 {
		f.Add(randomDesc(r))
	}
	f.Fuzz(func(t *testing.T, line string) {
		if Count(line) > 100_000 {
			return // both parsers would expand it; the budget refuses it first
		}
		if _, _, ok := parseDescFast(line); !ok {
			return
		}
		checkAgainstPrometheus(t, line)
	})
}

func BenchmarkParseDesc(b *testing.B) {
	// A fleet-like line: five labels and ~150 value tokens.
	var sb strings.Builder
	sb.WriteString(`gotk_reconcile_condition{kind="GitRepository",name="app-00002",namespace="team-02",status="False",type="Ready"}`)
	tokens := strings.Fields("_x3 1x24 0x10 1 0x17 stale 0+1.5x10 5-2x3")
	for i := range 150 {
		sb.WriteString(" ")
		sb.WriteString(tokens[i%len(tokens)])
	}
	for _, bc := range []struct{ name, line string }{
		{"150tokens", sb.String()},
		{"8tokens", fleetLine},
	} {
		if _, _, ok := parseDescFast(bc.line); !ok {
			b.Fatalf("fast path refused the %s line", bc.name)
		}
		checkAgainstPrometheus(b, bc.line)

		b.Run(bc.name+"/fast", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := ParseDesc(bc.line); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(bc.name+"/prometheus", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := seriesParser.ParseSeriesDesc(bc.line); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
