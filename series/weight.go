package series

import (
	"math"
	"regexp"
	"strconv"
	"strings"
)

// Weight returns what a values string costs to hold, without expanding
// it: Count, but with each native histogram value weighing one plus its
// buckets (and spans' and custom values' numbers), so that a histogram of
// 100,000 buckets is not one sample in an input budget. It is an upper
// bound for malformed notation, as Count.
func Weight(values string) uint64 {
	if !strings.Contains(values, "{{") {
		return Count(values)
	}
	flat := histogramBody.ReplaceAllStringFunc(values, func(body string) string {
		return "H" + strconv.FormatUint(histogramWeight(body), 10) + "h"
	})
	var total uint64
	for _, tok := range strings.Fields(flat) {
		w := uint64(1)
		for _, m := range weighed.FindAllStringSubmatch(tok, -1) {
			n, err := strconv.ParseUint(m[1], 10, 64)
			if err != nil {
				n = math.MaxUint32
			}
			w = max(w, n)
		}
		c := Count(weighed.ReplaceAllString(tok, "H"))
		if c != 0 && w > math.MaxUint64/c {
			return math.MaxUint64
		}
		if total > math.MaxUint64-c*w {
			return math.MaxUint64
		}
		total += c * w
	}
	return total
}

// weighed matches a histogram body Weight replaced by its weight.
var weighed = regexp.MustCompile(`H(\d+)h`)

// histogramWeight is one plus the numbers in the lists of a histogram body.
func histogramWeight(body string) uint64 {
	w := uint64(1)
	for {
		i := strings.IndexByte(body, '[')
		if i < 0 {
			return w
		}
		j := strings.IndexByte(body[i:], ']')
		if j < 0 {
			j = len(body) - i
		}
		w += uint64(len(strings.Fields(strings.NewReplacer(",", " ", ":", " ").Replace(body[i+1 : i+j]))))
		body = body[i+j:]
	}
}
