package mutate

import (
	"math"
	"strconv"
	"strings"

	"github.com/prometheus/prometheus/promql/parser"
)

// thresholdOperator moves a number: by one step of its last written digit
// up and down (0.95 by 0.01, 100 by 1), doubled and halved.
var thresholdOperator = Operator{
	Name: "threshold",
	Doc:  "number literals: plus and minus one step of the last written digit (0.95 by 0.01, 100 by 1), doubled, halved",
	expr: thresholdChanges,
}

func thresholdChanges(n parser.Node, x *exprCtx) []change {
	src := x.src
	nl, ok := n.(*parser.NumberLiteral)
	if !ok || nl.Duration || math.IsNaN(nl.Val) || math.IsInf(nl.Val, 0) {
		return nil
	}
	start, end := int(nl.PosRange.Start), int(nl.PosRange.End)
	text := nl.String()
	if start >= 0 && end <= len(src) && start < end {
		text = src[start:end]
	}
	step, decimals := numberStep(text)
	var vals []float64
	if step > 0 {
		vals = append(vals, round(nl.Val+step, decimals), round(nl.Val-step, decimals))
	}
	vals = append(vals, nl.Val*2, nl.Val/2)
	var out []change
	seen := map[float64]bool{nl.Val: true}
	for _, v := range vals {
		if seen[v] {
			continue
		}
		seen[v] = true
		mutated := strconv.FormatFloat(v, 'f', -1, 64)
		out = append(out, change{original: text, mutated: mutated, pos: start,
			hint:  "no input sits between " + between(nl.Val, v) + ": add a series whose value there lies between the two and assert the outcome",
			apply: func(n parser.Node) { n.(*parser.NumberLiteral).Val = v }})
	}
	return out
}

// numberStep returns one unit of the last written digit of a decimal
// number (0.01 for 0.95, 1 for 100) and the decimals it has; 0 for other
// notations (1e3, 0x10, Inf).
func numberStep(text string) (float64, int) {
	t := strings.TrimLeft(text, "+-")
	for _, r := range t {
		if (r < '0' || r > '9') && r != '.' && r != '_' {
			return 0, 0
		}
	}
	i := strings.IndexByte(t, '.')
	if i < 0 {
		return 1, 0
	}
	d := len(t) - i - 1
	if d == 0 {
		return 1, 0
	}
	return math.Pow(10, -float64(d)), d
}

// round rounds v to d decimals, so that 0.95+0.01 reads 0.96.
func round(v float64, d int) float64 {
	p := math.Pow(10, float64(d))
	return math.Round(v*p) / p
}

// between words the open interval between two numbers, low first.
func between(a, b float64) string {
	lo, hi := min(a, b), max(a, b)
	return strconv.FormatFloat(lo, 'f', -1, 64) + " and " + strconv.FormatFloat(hi, 'f', -1, 64)
}
