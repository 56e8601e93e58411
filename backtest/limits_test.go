package backtest

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gotk-rules/gotk-rules/budget"
)

// matrixJSON is a query_range answer with series series of samples
// samples each.
func matrixJSON(series, samples int) string {
	var b strings.Builder
	b.WriteString(`{"status":"success","data":{"resultType":"matrix","result":[`)
	for i := range series {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"metric":{"i":"%d"},"values":[`, i)
		for j := range samples {
			if j > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `[%d,"1"]`, j*60)
		}
		b.WriteString("]}")
	}
	b.WriteString("]}}")
	return b.String()
}

// vectorJSON is a query answer with series series.
func vectorJSON(series int) string {
	var b strings.Builder
	b.WriteString(`{"status":"success","data":{"resultType":"vector","result":[`)
	for i := range series {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"metric":{"i":"%d"},"value":[0,"1"]}`, i)
	}
	b.WriteString("]}}")
	return b.String()
}

// gzipped compresses s.
func gzipped(t *testing.T, s string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, err := zw.Write([]byte(s))
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

func TestResponseLimits(t *testing.T) {
	// A 16 MiB answer of blanks compresses to some 16 KiB: a gzip bomb for
	// a 1 MiB limit.
	bomb := `{"status":"success","data":{"resultType":"matrix","result":[` + strings.Repeat(" ", 16<<20) + `]}}`
	bombGz := gzipped(t, bomb)
	require.Less(t, len(bombGz), 1<<20, "the bomb must fit the limit compressed")
	big := matrixJSON(1, 100_000) // some 1.3 MB

	for _, tc := range []struct {
		name    string
		limits  ResponseLimits
		serve   func(t *testing.T, w http.ResponseWriter, r *http.Request)
		instant bool
		want    budget.Name // "" for no error
		msg     string
	}{
		{
			name:   "within every limit",
			limits: ResponseLimits{Bytes: 1 << 20, Series: 3, Samples: 30},
			serve:  func(_ *testing.T, w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, matrixJSON(3, 10)) },
		},
		{
			name:   "huge body with a length",
			limits: ResponseLimits{Bytes: 1 << 20},
			serve: func(_ *testing.T, w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Length", fmt.Sprint(len(big)))
				fmt.Fprint(w, big)
			},
			want: budget.ResponseBytes,
			msg:  fmt.Sprintf("the response is too large: %d response bytes, over the limit of 1048576", len(big)),
		},
		{
			name:   "huge body streamed",
			limits: ResponseLimits{Bytes: 1 << 20},
			serve: func(_ *testing.T, w http.ResponseWriter, _ *http.Request) {
				w.(http.Flusher).Flush() // chunked: no length
				fmt.Fprint(w, big)
			},
			want: budget.ResponseBytes,
			msg:  "the response is too large: more than 1048576 response bytes, over the limit of 1048576",
		},
		{
			name:   "gzip bomb",
			limits: ResponseLimits{Bytes: 1 << 20},
			serve: func(t *testing.T, w http.ResponseWriter, r *http.Request) {
				if !strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
					t.Error("the client does not ask for gzip: the bomb would not be opened")
				}
				w.Header().Set("Content-Encoding", "gzip")
				_, _ = w.Write(bombGz)
			},
			want: budget.ResponseBytes,
			msg:  "more than 1048576 response bytes, over the limit of 1048576",
		},
		{
			name:   "too many series",
			limits: ResponseLimits{Series: 3},
			serve:  func(_ *testing.T, w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, matrixJSON(4, 1)) },
			want:   budget.ResponseSeries,
			msg:    "4 series in one response, over the limit of 3",
		},
		{
			name:   "too many samples",
			limits: ResponseLimits{Samples: 29},
			serve:  func(_ *testing.T, w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, matrixJSON(3, 10)) },
			want:   budget.ResponseSamples,
			msg:    "30 samples in one response, over the limit of 29",
		},
		{
			name:    "too many series in an instant answer",
			limits:  ResponseLimits{Series: 2},
			serve:   func(_ *testing.T, w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, vectorJSON(3)) },
			instant: true,
			want:    budget.ResponseSeries,
			msg:     "3 series in one response, over the limit of 2",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				tc.serve(t, w, r)
			}))
			defer srv.Close()
			c, _ := testClient(t, srv.URL, func(o *ClientOptions) { o.Limits = tc.limits })
			var err error
			if tc.instant {
				_, _, err = c.Query(context.Background(), "up", epoch)
			} else {
				_, _, err = c.QueryRange(context.Background(), "up", epoch, min_(10), 60e9)
			}
			if tc.want == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			var e *Error
			require.True(t, errors.As(err, &e), "%T %v", err, err)
			require.Equal(t, KindTooLarge, e.Kind)
			ee, ok := errors.AsType[*budget.ExceededError](err)
			require.True(t, ok, "%v", err)
			require.Equal(t, tc.want, ee.Budget)
			require.Contains(t, err.Error(), tc.msg)
			require.Contains(t, err.Error(), " up: ", "the error names the query")
			require.Equal(t, int64(1), c.Stats().Requests, "not retried")
		})
	}
}

func TestResponseLimitsDefaults(t *testing.T) {
	require.Equal(t, ResponseLimits{Bytes: budget.DefaultResponseBytes, Series: budget.DefaultResponseSeries, Samples: budget.DefaultResponseSamples},
		ResponseLimits{}.withDefaults())
}
