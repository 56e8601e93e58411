package backtest

import (
	"fmt"
	"strings"
	"time"

	"github.com/prometheus/common/model"
)

// ParseTime reads a --from/--to value: an RFC 3339 time
// (2026-01-02T15:04:05Z, fractions and offsets allowed), "now", or a
// duration before now: "-7d", "-36h", "-1h30m", "now-2w".
func ParseTime(s string, now time.Time) (time.Time, error) {
	v := strings.TrimSpace(s)
	if v == "now" {
		return now, nil
	}
	rel := ""
	switch {
	case strings.HasPrefix(v, "now-"):
		rel = v[len("now-"):]
	case strings.HasPrefix(v, "-"):
		rel = v[1:]
	}
	if rel != "" {
		d, err := model.ParseDuration(rel)
		if err != nil {
			return time.Time{}, fmt.Errorf("%q: %q is not a duration (want such as 7d, 36h, 1h30m)", s, rel)
		}
		return now.Add(-time.Duration(d)), nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q: want an RFC 3339 time (2026-01-02T15:04:05Z), \"now\", or a duration before now (-7d, -36h)", s)
	}
	return t, nil
}
