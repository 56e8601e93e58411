package scenario

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"

	"github.com/gotk-rules/gotk-rules/series"
)

// OpenMetricsStats says what WriteOpenMetrics wrote and left out.
type OpenMetricsStats struct {
	Series, Samples int
	// StaleMarkers counts the staleness markers left out: OpenMetrics
	// cannot express them, so a series that disappears leaves a gap and
	// a query still sees its last sample for the lookback window (5m).
	StaleMarkers int
}

// WriteOpenMetrics writes series as OpenMetrics text with timestamps, for
// `promtool tsdb create-blocks-from openmetrics`: a series' samples in time
// order, series sorted by labels (so each metric family is contiguous),
// timestamps in seconds shifted by shift (a scenario's series start at the
// Unix epoch; backfill them at a recent time with shift = start.Sub(Epoch)),
// staleness markers left out, and `# EOF` at the end. Native histogram
// samples cannot be written and are an error.
func WriteOpenMetrics(w io.Writer, ss []series.Series, shift time.Duration) (OpenMetricsStats, error) {
	var st OpenMetricsStats
	if shift%time.Millisecond != 0 {
		return st, fmt.Errorf("openmetrics: the start must be in whole milliseconds")
	}
	bw := bufio.NewWriter(w)
	shiftMs := shift.Milliseconds()
	for _, s := range ss {
		name := s.Labels.Get(labels.MetricName)
		if name == "" {
			return st, fmt.Errorf("openmetrics: series %s has no metric name", s.Labels)
		}
		prefix := name + openMetricsLabels(s.Labels) + " "
		wrote := false
		for _, smp := range s.Samples {
			if smp.H != nil {
				return st, fmt.Errorf("openmetrics: series %s has native histogram samples, which OpenMetrics text cannot hold", s.Labels)
			}
			if value.IsStaleNaN(smp.F) {
				st.StaleMarkers++
				continue
			}
			ms := smp.T + shiftMs
			bw.WriteString(prefix)
			bw.WriteString(openMetricsValue(smp.F))
			bw.WriteByte(' ')
			bw.WriteString(openMetricsTime(ms))
			bw.WriteByte('\n')
			st.Samples++
			wrote = true
		}
		if wrote {
			st.Series++
		}
	}
	bw.WriteString("# EOF\n")
	return st, bw.Flush()
}

func openMetricsLabels(l labels.Labels) string {
	var b strings.Builder
	l.Range(func(lb labels.Label) {
		if lb.Name == labels.MetricName {
			return
		}
		if b.Len() == 0 {
			b.WriteByte('{')
		} else {
			b.WriteByte(',')
		}
		b.WriteString(lb.Name)
		b.WriteString(`="`)
		b.WriteString(openMetricsEscape(lb.Value))
		b.WriteByte('"')
	})
	if b.Len() > 0 {
		b.WriteByte('}')
	}
	return b.String()
}

var omEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)

func openMetricsEscape(s string) string { return omEscaper.Replace(s) }

func openMetricsValue(f float64) string {
	return strconv.FormatFloat(f, 'g', -1, 64) // +Inf, -Inf and NaN as OpenMetrics spells them
}

// openMetricsTime writes milliseconds as seconds with up to three decimals.
func openMetricsTime(ms int64) string {
	sign := ""
	if ms < 0 {
		sign, ms = "-", -ms
	}
	s, frac := ms/1000, ms%1000
	if frac == 0 {
		return sign + strconv.FormatInt(s, 10)
	}
	return sign + strings.TrimRight(fmt.Sprintf("%d.%03d", s, frac), "0")
}
