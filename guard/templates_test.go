package guard_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	promtemplate "github.com/prometheus/prometheus/template"
	"github.com/stretchr/testify/require"

	"github.com/gotk-rules/gotk-rules/budget"
	"github.com/gotk-rules/gotk-rules/guard"
)

// templateCase is one expansion: its text, data, evaluation time (which
// the query function reports) and limits.
type templateCase struct {
	text  string
	value float64
	ts    int64
	l     guard.Limits
}

// expandBoth expands tc with Prometheus' functions bound to tc's time,
// once with ExpandTemplate and once through ts.
func expandBoth(ts *guard.Templates, tc templateCase) (want, got string, wantErr, gotErr error) {
	data := promtemplate.AlertTemplateData(map[string]string{"instance": "a.b:9090"}, nil, "", promql.Sample{F: tc.value})
	query := func(_ context.Context, q string, at model.Time) (promql.Vector, error) {
		// The answer tells which expansion's function ran.
		return promql.Vector{{Metric: labels.FromStrings("q", q), F: float64(at)}}, nil
	}
	funcs := func() map[string]any {
		te := promtemplate.NewTemplateExpander(context.Background(), "", "t", nil, model.Time(tc.ts),
			func(ctx context.Context, q string, at time.Time) (promql.Vector, error) {
				return query(ctx, q, model.TimeFromUnixNano(at.UnixNano()))
			}, nil, nil)
		return guard.TemplateFuncs(te)
	}
	want, wantErr = tc.l.ExpandTemplate(context.Background(), "t", tc.text, data, funcs())
	got, gotErr = ts.Expand(context.Background(), tc.l, "t", tc.text, data, funcs())
	return want, got, wantErr, gotErr
}

// TestTemplatesAsExpandTemplate checks a parsed template reused for other
// data, times (the query function) and limits expands as a new parse does,
// errors and limit hits included.
func TestTemplatesAsExpandTemplate(t *testing.T) {
	roomy := guard.Default()
	tight := guard.Limits{TemplateMaxSteps: 20, TemplateMaxBytes: 64}
	texts := []string{
		"{{ $value := .Value }}{{ $value }} on {{ .Labels.instance | stripPort }}",
		`{{ with query "up" }}{{ . | first | value }}{{ end }}`,
		"{{ range 15 }}x{{ end }}",
		`{{ define "a" }}{{ .Value | humanize }}{{ end }}{{ template "a" . }}`,
		"{{ nope }}",
		"{{ .Value | toTime }}",
		"{{ humanize \"x\" }}",
		`{{ printf "%0100d" 1 }}`,
	}
	ts := guard.NewTemplates()
	for round := range 3 {
		for i, text := range texts {
			for _, l := range []guard.Limits{roomy, tight} {
				tc := templateCase{text: text, value: float64(round*10 + i), ts: int64(1000 * (round + 1)), l: l}
				want, got, wantErr, gotErr := expandBoth(ts, tc)
				name := fmt.Sprintf("round %d, %q, max steps %d", round, text, l.TemplateMaxSteps)
				require.Equal(t, want, got, name)
				if wantErr == nil {
					require.NoError(t, gotErr, name)
					continue
				}
				require.Error(t, gotErr, name)
				require.Equal(t, wantErr.Error(), gotErr.Error(), name)
			}
		}
	}
	// The query function of each expansion is its own, not the parse's.
	_, got, _, err := expandBoth(ts, templateCase{text: texts[1], ts: 5000, l: roomy})
	require.NoError(t, err)
	require.Equal(t, "5000", got)
}

// TestTemplatesLimitHit checks a limit hit by one expansion does not
// stay with the parsed template.
func TestTemplatesLimitHit(t *testing.T) {
	ts := guard.NewTemplates()
	text := "{{ range 50 }}x{{ end }}"
	_, _, _, err := expandBoth(ts, templateCase{text: text, l: guard.Limits{TemplateMaxSteps: 10}})
	require.Equal(t, budget.TemplateSteps, hit(t, err))
	_, got, _, err := expandBoth(ts, templateCase{text: text, l: guard.Default()})
	require.NoError(t, err)
	require.Len(t, got, 50)
}

// TestTemplatesConcurrent expands the same texts from many goroutines.
func TestTemplatesConcurrent(t *testing.T) {
	ts := guard.NewTemplates()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 50 {
				tc := templateCase{text: "{{ $value := .Value }}{{ $value }}/{{ query \"x\" | first | value }}", value: float64(g*100 + i), ts: int64(i), l: guard.Default()}
				want, got, _, err := expandBoth(ts, tc)
				require.NoError(t, err)
				require.Equal(t, want, got)
				require.Equal(t, fmt.Sprintf("%d/%d", g*100+i, i), got)
			}
		})
	}
	wg.Wait()
}
