package evaluator_test

import (
	"strings"
	"testing"

	"github.com/prometheus/prometheus/promql/parser"
	"github.com/stretchr/testify/require"

	"github.com/gotk-rules/gotk-rules/evaluator"
	"github.com/gotk-rules/gotk-rules/guard"
)

// TestEngineParseMetric: the engine's parser reads metrics (input series,
// expected samples) through the series notation's fast reader, to
// Prometheus' labels and errors, within the label limits.
func TestEngineParseMetric(t *testing.T) {
	eng := evaluator.NewEngine(evaluator.Options{Limits: guard.Limits{MaxLabelSetBytes: 90, MaxExprBytes: 90}})
	plain := parser.NewParser(parser.Options{})
	for _, tc := range []struct {
		metric string
		err    string
	}{
		{metric: `up`},
		{metric: ` gotk_reconcile_condition{kind="GitRepository", name="a", status="False"} `},
		{metric: `{__name__="x", a="b"}`},
		{metric: `m{a=""}`},
		{metric: `m{a="b",a="c"}`},
		{metric: `m{"a.b"="c"}`},
		{metric: `m{a="b"`, err: "unexpected end of input"},
		{metric: `m{a="` + strings.Repeat("x", 100) + `"}`, err: "over the limit"},
	} {
		t.Run(tc.metric, func(t *testing.T) {
			got, err := eng.Parser().ParseMetric(tc.metric)
			if tc.err != "" {
				require.ErrorContains(t, err, tc.err)
				return
			}
			want, werr := plain.ParseMetric(tc.metric)
			if werr != nil {
				require.EqualError(t, err, werr.Error())
				return
			}
			require.NoError(t, err)
			require.Equal(t, want, got)
		})
	}
}
