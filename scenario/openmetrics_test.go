package scenario

import (
	"bytes"
	"io"
	"math"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	"github.com/stretchr/testify/require"

	"github.com/gotk-rules/gotk-rules/series"
)

func TestWriteOpenMetrics(t *testing.T) {
	stale := math.Float64frombits(value.StaleNaN)
	ss := []series.Series{
		{Labels: labels.FromStrings("__name__", "a", "path", `C:\x "q"`+"\nz"), Samples: []series.Sample{{T: 0, F: 1}, {T: 30_500, F: 2.5}, {T: 60_000, F: stale}}},
		{Labels: labels.FromStrings("__name__", "b"), Samples: []series.Sample{{T: 0, F: math.Inf(1)}, {T: 1, F: -0.125}}},
		{Labels: labels.FromStrings("__name__", "gone"), Samples: []series.Sample{{T: 0, F: stale}}},
	}
	var buf bytes.Buffer
	st, err := WriteOpenMetrics(&buf, ss, time.Hour)
	require.NoError(t, err)
	require.Equal(t, OpenMetricsStats{Series: 2, Samples: 4, StaleMarkers: 2}, st)
	require.Equal(t, `a{path="C:\\x \"q\"\nz"} 1 3600
a{path="C:\\x \"q\"\nz"} 2.5 3630.5
b +Inf 3600
b -0.125 3600.001
# EOF
`, buf.String())
}

func TestWriteOpenMetricsRefusesHistograms(t *testing.T) {
	ss := []series.Series{{Labels: labels.FromStrings("__name__", "h"), Samples: []series.Sample{{T: 0, H: &histogram.FloatHistogram{Count: 1}}}}}
	_, err := WriteOpenMetrics(io.Discard, ss, 0)
	require.ErrorContains(t, err, "native histogram")
}

func TestOpenMetricsTime(t *testing.T) {
	for ms, want := range map[int64]string{0: "0", 1000: "1", 1500: "1.5", 1001: "1.001", 1010: "1.01", -1500: "-1.5"} {
		require.Equal(t, want, openMetricsTime(ms))
	}
}
