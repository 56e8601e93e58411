package rulediff

import (
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/stretchr/testify/require"

	"github.com/gotk-rules/gotk-rules/evaluator"
)

var t0 = time.Unix(0, 0).UTC()

func at(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }

func sp(from, to int) Span { return Span{Start: at(from), End: at(to)} }

func TestSubtract(t *testing.T) {
	for _, tc := range []struct {
		name    string
		a, b    []Span
		want    []Span
		wantNil bool
	}{
		{name: "nothing from nothing", wantNil: true},
		{name: "nothing taken", a: []Span{sp(0, 10)}, want: []Span{sp(0, 10)}},
		{name: "all taken", a: []Span{sp(0, 10)}, b: []Span{sp(0, 10)}, wantNil: true},
		{name: "covered by a larger span", a: []Span{sp(2, 8)}, b: []Span{sp(0, 10)}, wantNil: true},
		{name: "head taken", a: []Span{sp(0, 10)}, b: []Span{sp(0, 4)}, want: []Span{sp(4, 10)}},
		{name: "tail taken", a: []Span{sp(0, 10)}, b: []Span{sp(6, 12)}, want: []Span{sp(0, 6)}},
		{name: "middle taken", a: []Span{sp(0, 10)}, b: []Span{sp(3, 5)}, want: []Span{sp(0, 3), sp(5, 10)}},
		{name: "two holes", a: []Span{sp(0, 10)}, b: []Span{sp(1, 2), sp(4, 6)}, want: []Span{sp(0, 1), sp(2, 4), sp(6, 10)}},
		{name: "shifted", a: []Span{sp(10, 20)}, b: []Span{sp(15, 25)}, want: []Span{sp(10, 15)}},
		{name: "touching is not overlapping", a: []Span{sp(0, 5)}, b: []Span{sp(5, 9)}, want: []Span{sp(0, 5)}},
		{name: "one b over two a", a: []Span{sp(0, 5), sp(7, 12)}, b: []Span{sp(3, 9)}, want: []Span{sp(0, 3), sp(9, 12)}},
		{name: "open end kept", a: []Span{{Start: at(0), End: at(10), Open: true}}, b: []Span{sp(0, 4)}, want: []Span{{Start: at(4), End: at(10), Open: true}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := subtract(tc.a, tc.b)
			if tc.wantNil {
				require.Empty(t, got)
				return
			}
			require.Equal(t, tc.want, got)
		})
	}
}

func TestUnion(t *testing.T) {
	for _, tc := range []struct {
		name string
		a, b []Span
		want []Span
	}{
		{name: "disjoint", a: []Span{sp(0, 2)}, b: []Span{sp(5, 6)}, want: []Span{sp(0, 2), sp(5, 6)}},
		{name: "overlapping", a: []Span{sp(0, 4)}, b: []Span{sp(2, 6)}, want: []Span{sp(0, 6)}},
		{name: "touching joined", a: []Span{sp(0, 4)}, b: []Span{sp(4, 6)}, want: []Span{sp(0, 6)}},
		{name: "inside", a: []Span{sp(0, 10)}, b: []Span{sp(2, 3)}, want: []Span{sp(0, 10)}},
		{name: "unsorted input", a: []Span{sp(5, 6)}, b: []Span{sp(0, 1)}, want: []Span{sp(0, 1), sp(5, 6)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, union(tc.a, tc.b))
		})
	}
}

func TestMedian(t *testing.T) {
	for _, tc := range []struct {
		in   []time.Duration
		want time.Duration
	}{
		{nil, 0},
		{[]time.Duration{5}, 5},
		{[]time.Duration{9, 1, 5}, 5},
		{[]time.Duration{4, 1, 3, 2}, 2},
	} {
		require.Equal(t, tc.want, median(tc.in), "%v", tc.in)
	}
}

// alert builds an alert timeline; ivs are state, start and end minutes
// (end -1: still in that state at the end).
func alert(name, obj string, ivs ...any) *evaluator.AlertTimeline {
	a := &evaluator.AlertTimeline{Alert: name, Labels: labels.FromStrings(labels.AlertName, name, "name", obj)}
	for i := 0; i < len(ivs); i += 3 {
		iv := evaluator.Interval{State: ivs[i].(evaluator.State), Start: at(ivs[i+1].(int))}
		if e := ivs[i+2].(int); e >= 0 {
			iv.End = at(e)
		}
		a.Intervals = append(a.Intervals, iv)
	}
	return a
}

func timeline(alerts ...*evaluator.AlertTimeline) *evaluator.Timeline {
	return &evaluator.Timeline{Start: at(0), End: at(59), Step: time.Minute, Alerts: alerts}
}

const (
	P = evaluator.Pending
	F = evaluator.Firing
)

func TestCompare(t *testing.T) {
	in := &Input{Kind: KindTest, Name: "t"}
	for _, tc := range []struct {
		name     string
		old, cur *evaluator.Timeline
		want     []SeriesDiff // of alert A
		alerts   int
	}{
		{
			name: "same",
			old:  timeline(alert("A", "x", P, 0, 10, F, 10, 20)),
			cur:  timeline(alert("A", "x", P, 0, 10, F, 10, 20)),
		},
		{
			name: "pending only differs",
			old:  timeline(alert("A", "x", P, 0, 3)),
			cur:  timeline(alert("A", "x", P, 0, 5)),
		},
		{
			name:   "for longer: firing shifted",
			old:    timeline(alert("A", "x", P, 0, 10, F, 10, 30)),
			cur:    timeline(alert("A", "x", P, 0, 15, F, 15, 30)),
			alerts: 1,
			want:   []SeriesDiff{{Labels: labels.FromStrings(labels.AlertName, "A", "name", "x"), Status: Changed, Lost: []Span{sp(10, 15)}}},
		},
		{
			name:   "label set added and removed",
			old:    timeline(alert("A", "x", F, 0, 5)),
			cur:    timeline(alert("A", "y", F, 0, -1)),
			alerts: 1,
			want: []SeriesDiff{
				{Labels: labels.FromStrings(labels.AlertName, "A", "name", "x"), Status: Removed, Lost: []Span{sp(0, 5)}},
				{Labels: labels.FromStrings(labels.AlertName, "A", "name", "y"), Status: Added, Gained: []Span{{Start: at(0), End: at(60), Open: true}}},
			},
		},
		{
			name:   "another alert changes only",
			old:    timeline(alert("A", "x", F, 0, 5), alert("B", "x", F, 0, 5)),
			cur:    timeline(alert("A", "x", F, 0, 5)),
			alerts: 1,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := Compare(in, tc.old, tc.cur, nil)
			require.Len(t, d.Alerts, tc.alerts)
			require.Equal(t, tc.alerts > 0, d.Changed())
			if tc.want != nil {
				require.Equal(t, "A", d.Alerts[0].Alert)
				require.Equal(t, tc.want, d.Alerts[0].Series)
			}
		})
	}
}

func TestStats(t *testing.T) {
	tl := timeline(
		alert("A", "x", P, 0, 10, F, 10, 20, P, 30, 35, F, 35, -1),
		alert("A", "y", F, 40, 50),
	)
	st := statsOf(tl, "A", nil)
	require.Equal(t, Stats{
		LabelSets: 2, Firings: 3, PerDay: 3 / (1.0 / 24),
		FiringTime:      10*time.Minute + 25*time.Minute + 10*time.Minute,
		PendingToFiring: 5 * time.Minute, PendingToFiringCount: 3, // 10m, 5m, 0
		ToResolve: 10 * time.Minute, ToResolveCount: 2, // the open one is left out
	}, st)
	require.Equal(t, Stats{}, statsOf(tl, "B", nil))
}

func TestParseGitSpec(t *testing.T) {
	for _, tc := range []struct {
		spec, rev, path, err string
	}{
		{spec: "git:HEAD:rules/", rev: "HEAD", path: "rules/"},
		{spec: "git:main~2:rules/a.yml", rev: "main~2", path: "rules/a.yml"},
		{spec: "git:HEAD", err: "want git:REV:path"},
		{spec: "git::rules", err: "want git:REV:path"},
		{spec: "git:HEAD:", err: "want git:REV:path"},
		{spec: "git:--output=x:rules", err: "starts with a dash"},
		{spec: "git:a\nb:rules", err: "NUL or newline"},
	} {
		t.Run(tc.spec, func(t *testing.T) {
			rev, path, err := ParseGitSpec(tc.spec)
			if tc.err != "" {
				require.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.rev, rev)
			require.Equal(t, tc.path, path)
		})
	}
}
