package unittest

import (
	"strconv"
	"strings"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/gotk-rules/gotk-rules/series"
)

// seriesDesc parses one `METRIC VALUES` line of input series.
func seriesDesc(line string) (labels.Labels, []parser.SequenceValue, error) {
	return series.ParseDesc(line)
}

type labelAndAnnotation struct {
	Labels      labels.Labels
	Annotations labels.Labels
}

func (la labelAndAnnotation) String() string {
	return "Labels:" + la.Labels.String() + "\nAnnotations:" + la.Annotations.String()
}

// labelsAndAnnotations are alerts, compared and printed as promtool does.
type labelsAndAnnotations []labelAndAnnotation

func (la labelsAndAnnotations) Len() int      { return len(la) }
func (la labelsAndAnnotations) Swap(i, j int) { la[i], la[j] = la[j], la[i] }
func (la labelsAndAnnotations) Less(i, j int) bool {
	if d := labels.Compare(la[i].Labels, la[j].Labels); d != 0 {
		return d < 0
	}
	return labels.Compare(la[i].Annotations, la[j].Annotations) < 0
}

func (la labelsAndAnnotations) equal(other labelsAndAnnotations) bool {
	if len(la) != len(other) {
		return false
	}
	for i := range la {
		if !labels.Equal(la[i].Labels, other[i].Labels) || !labels.Equal(la[i].Annotations, other[i].Annotations) {
			return false
		}
	}
	return true
}

func (la labelsAndAnnotations) String() string {
	if len(la) == 0 {
		return "[]"
	}
	var s strings.Builder
	s.WriteString("[\n0:" + indentLines("\n"+la[0].String(), "  "))
	for i, l := range la[1:] {
		s.WriteString(",\n" + strconv.Itoa(i+1) + ":" + indentLines("\n"+l.String(), "  "))
	}
	s.WriteString("\n]")
	return s.String()
}

func (la labelsAndAnnotations) objects() []Object {
	out := make([]Object, 0, len(la))
	for _, a := range la {
		out = append(out, Object{Labels: a.Labels.Map(), Annotations: a.Annotations.Map()})
	}
	return out
}

// expectedAlerts lists an alert test's expected alerts with their alertname label.
func expectedAlerts(tc AlertTestCase) []Object {
	out := make([]Object, 0, len(tc.ExpAlerts))
	for _, e := range tc.ExpAlerts {
		lm := map[string]string{labels.AlertName: tc.Alertname}
		for k, v := range e.ExpLabels {
			lm[k] = v
		}
		am := map[string]string{}
		for k, v := range e.ExpAnnotations {
			am[k] = v
		}
		out = append(out, Object{Labels: lm, Annotations: am})
	}
	return out
}

// parsedSample is a sample with parsed labels; Histogram is the histogram's
// test expression, empty for floats.
type parsedSample struct {
	Labels    labels.Labels
	Value     float64
	Histogram string
}

func (ps parsedSample) String() string {
	if ps.Histogram != "" {
		return ps.Labels.String() + " " + ps.Histogram
	}
	return ps.Labels.String() + " " + strconv.FormatFloat(ps.Value, 'E', -1, 64)
}

func parsedSamplesString(pss []parsedSample) string {
	if len(pss) == 0 {
		return "nil"
	}
	parts := make([]string, len(pss))
	for i, ps := range pss {
		parts[i] = ps.String()
	}
	return strings.Join(parts, ", ")
}

func samplesObjects(pss []parsedSample) []Object {
	out := make([]Object, 0, len(pss))
	for _, ps := range pss {
		o := Object{Labels: ps.Labels.Map(), Histogram: ps.Histogram}
		if ps.Histogram == "" {
			v := Float(ps.Value)
			o.Value = &v
		}
		out = append(out, o)
	}
	return out
}

// indentLines prefixes every line but the first with indent.
func indentLines(lines, indent string) string {
	return strings.ReplaceAll(lines, "\n", "\n"+indent)
}
