// Package randomrules makes random input series and alerting expressions
// from a small grammar, for the differential tests: the fast path against
// exact evaluation, gotk-rules against promtool.
package randomrules

import (
	"fmt"
	"math/rand"
	"strings"
)

// Exprs are alerting expressions over the series of Input and the
// recorded series job:gauge:max (max by (job) (gauge)). Every one of them
// can be served from range queries; the last ones are cut into shards.
var Exprs = []string{
	`up == 0`,
	`rate(errors_total[5m]) > 0.05`,
	`max by (job) (gauge) > 4`,
	`max(flag{status="False"}) by (job, name) + on(job, name) (max(flag{status="Deleted"}) by (job, name)) * 2 == 1`,
	`absent(up{job="z"})`,
	`sum_over_time(gauge[3m]) > 10`,
	`count by (job) (up) > 1`,
	`max_over_time(up[10m:2m]) < 1`,
	`gauge offset 2m > 3`,
	`job:gauge:max > 4`,
	`time() - timestamp(gauge) > 120`,
	// Expressions whose range queries are cut into shards.
	`sum without (status) (flag) > 0`,
	`up * on(job) group_left(name) flag{status="False"} > 0`,
}

// Values writes n random items of promtool's series notation: values and
// runs of them, expanding runs up or down, gaps and staleness markers.
func Values(rng *rand.Rand, n int) string {
	var parts []string
	for range n {
		switch r := rng.Intn(12); {
		case r == 0:
			parts = append(parts, "_")
		case r == 1:
			parts = append(parts, "stale")
		case r == 2:
			parts = append(parts, fmt.Sprintf("_x%d", 1+rng.Intn(6)))
		case r == 3:
			// Expanding runs, up or down, by fractions too.
			parts = append(parts, fmt.Sprintf("%d%+gx%d", rng.Intn(8), float64(rng.Intn(9)-4)/2, rng.Intn(5)))
		default:
			parts = append(parts, fmt.Sprintf("%dx%d", rng.Intn(8), rng.Intn(5)))
		}
	}
	return strings.Join(parts, " ")
}

// Input returns the random float series Exprs read, metric to values, for
// jobs a and b: up, gauge, errors_total (a counter, then anything) and
// flag{name="x"} of status False and Deleted.
func Input(rng *rand.Rand) map[string]string {
	input := map[string]string{}
	for _, job := range []string{"a", "b"} {
		input[fmt.Sprintf(`up{job=%q}`, job)] = Values(rng, 8)
		input[fmt.Sprintf(`gauge{job=%q}`, job)] = Values(rng, 8)
		input[fmt.Sprintf(`errors_total{job=%q}`, job)] = "0+1x10 " + Values(rng, 4)
		for _, st := range []string{"False", "Deleted"} {
			input[fmt.Sprintf(`flag{job=%q,name="x",status=%q}`, job, st)] = Values(rng, 6)
		}
	}
	return input
}
