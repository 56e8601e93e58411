package backtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/common/model"
)

// A warning in a query's answer is read as a sign that the answer is
// partial (some of the data was not read): Thanos Query says "No StoreAPIs
// matched for this query" or names a store that failed, and Thanos 0.40
// answers so with `success` and an empty result even when asked for
// partial_response=false. The exceptions, harmless to a backtest, are
// PromQL's own annotations (Prometheus 2.50 and later, passed on by Thanos
// and Mimir): they are about the query's meaning ("metric might not be a
// counter"), not about missing data. Prometheus 3's "infos" are not read
// at all (the API client drops them). Anything else, including warnings of
// engines this list does not know, fails the backtest unless
// --allow-partial: a backtest that silently reads half the data is worse
// than none.

// MarkedPartialWarning is the warning a query's answer gets when the
// server marks it `"isPartial": true` instead of warning: VictoriaMetrics
// does so (cluster version: some vmstorage nodes did not answer, and
// -search.denyPartialResponse is not set). It counts as a partial answer,
// like a warning.
const MarkedPartialWarning = `the server marked its answer "isPartial": true (VictoriaMetrics: some storage nodes did not answer)`

// partialMarkKey keys, in a request's context, the flag the HTTP client
// sets when the answer is marked partial (the API client drops the field).
type partialMarkKey struct{}

// withPartialMark returns ctx with a flag answerMarkedPartial's verdict on
// the final answer is stored in.
func withPartialMark(ctx context.Context) (context.Context, *atomic.Bool) {
	m := new(atomic.Bool)
	return context.WithValue(ctx, partialMarkKey{}, m), m
}

// answerMarkedPartial says whether an API answer's top-level object has
// "isPartial": true. Only bodies that hold the key are decoded again, up
// to the key (VictoriaMetrics writes it before the data).
func answerMarkedPartial(body []byte) bool {
	if !bytes.Contains(body, []byte(`"isPartial"`)) {
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return false
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		if key, _ := tok.(string); key == "isPartial" {
			var v bool
			return dec.Decode(&v) == nil && v
		}
		var skip json.RawMessage
		if dec.Decode(&skip) != nil {
			return false
		}
	}
	return false
}

// harmlessPrefixes start the warnings that do not mean a partial answer.
var harmlessPrefixes = []string{"PromQL warning:", "PromQL info:"}

// IsPartialWarning says whether a server warning means its answer may be
// partial (see above).
func IsPartialWarning(w string) bool {
	w = strings.TrimSpace(w)
	for _, p := range harmlessPrefixes {
		if strings.HasPrefix(w, p) {
			return false
		}
	}
	return true
}

// PartialRange is a query the server answered partially: the evaluations
// from Start to End (both included; equal for an instant query) may have
// missed data. Query is empty when every query of the range may have (a
// Thanos store lost during it: see stores.go).
type PartialRange struct {
	Query   string    `json:"query"`
	Start   time.Time `json:"start"`
	End     time.Time `json:"end"`
	Warning string    `json:"warning"`
}

func (p PartialRange) String() string {
	if p.Query == "" { // a Thanos store lost: every query of the range
		return fmt.Sprintf("every query from %s to %s: %s", rfc(p.Start), rfc(p.End), p.Warning)
	}
	if p.Start.Equal(p.End) {
		return fmt.Sprintf("%s at %s: %s", clip(p.Query, 80), rfc(p.Start), p.Warning)
	}
	return fmt.Sprintf("%s from %s to %s: %s", clip(p.Query, 80), rfc(p.Start), rfc(p.End), p.Warning)
}

// partialError is the error of a partial answer without --allow-partial.
func partialError(base, op string, p PartialRange) *Error {
	when := "from " + rfc(p.Start) + " to " + rfc(p.End)
	if p.Start.Equal(p.End) {
		when = "at " + rfc(p.Start)
	}
	said := fmt.Sprintf("the server warned %q", p.Warning)
	if ownPartialMessage(p.Warning) {
		said = p.Warning
	}
	return &Error{Kind: KindPartial, Op: op, URL: base,
		Msg: fmt.Sprintf("partial response %s: %s (some data was not read; --allow-partial accepts it and lists the ranges affected)", when, said)}
}

// ownPartialMessage says whether w is one of the backtest's own messages
// about a partial answer (an answer marked partial, a Thanos store lost)
// rather than a server's warning.
func ownPartialMessage(w string) bool {
	return w == MarkedPartialWarning || strings.HasPrefix(w, thanosStorePrefix)
}

// sortPartial sorts and dedups the partial ranges.
func sortPartial(ps []PartialRange) []PartialRange {
	sort.Slice(ps, func(i, j int) bool {
		a, b := ps[i], ps[j]
		if !a.Start.Equal(b.Start) {
			return a.Start.Before(b.Start)
		}
		if !a.End.Equal(b.End) {
			return a.End.Before(b.End)
		}
		if a.Query != b.Query {
			return a.Query < b.Query
		}
		return a.Warning < b.Warning
	})
	out := ps[:0]
	for i, p := range ps {
		if i > 0 && p == ps[i-1] {
			continue
		}
		out = append(out, p)
	}
	return out
}

// tooLargeMarkers are what engines say when a query would read too much:
// Prometheus ("query processing would load too many samples into memory"),
// Thanos and Mimir (limits on samples, series or chunks per query),
// VictoriaMetrics (-search.maxSamplesPerQuery and friends). Such a query
// is split in two halves of its time range, recursively.
var tooLargeMarkers = []string{
	"too many samples",
	"would load too many",
	"exceeded the maximum number of",
	"max number of chunks",
	"max number of series",
	"maxsamplesperquery",
	"maxsamplesperseries",
	"maxseries",
	"err-mimir-max-",
	"exceeded maximum resolution",
}

// refusedAsTooLarge says whether err is the server refusing a query as too
// large (a 422 or a query error saying so), which a shorter range may pass.
func refusedAsTooLarge(err error) bool {
	var e *Error
	if !errors.As(err, &e) || (e.Kind != KindQuery && e.Kind != KindServer) {
		return false
	}
	msg := strings.ToLower(e.Msg)
	for _, m := range tooLargeMarkers {
		if strings.Contains(msg, m) {
			return true
		}
	}
	return false
}

// DefaultMaxSplitDepth bounds how often a range query refused as too large
// is halved (2^6 = 64 pieces).
const DefaultMaxSplitDepth = 6

// splitError is the error when halving did not help.
func splitError(err error, depth int, start, end time.Time, step time.Duration) error {
	var e *Error
	if errors.As(err, &e) {
		out := *e
		out.Msg = fmt.Sprintf("%s (still refused as too large after halving the range %d times, down to %s to %s every %s; raise --max-split-depth, or lower --max-points)",
			e.Msg, depth, rfc(start), rfc(end), model.Duration(step))
		return &out
	}
	return err
}
