package mutate

import "github.com/prometheus/prometheus/promql/parser"

// rateOperator swaps rate, irate and increase.
var rateOperator = Operator{
	Name: "rate",
	Doc:  "rate, irate and increase swapped (rate to irate and increase; irate and increase to rate)",
	expr: rateChanges,
}

var rateTargets = map[string][]string{
	"rate":     {"irate", "increase"},
	"irate":    {"rate"},
	"increase": {"rate"},
}

func rateChanges(n parser.Node, _ *exprCtx) []change {
	c, ok := n.(*parser.Call)
	if !ok || c.Func == nil {
		return nil
	}
	var out []change
	for _, to := range rateTargets[c.Func.Name] {
		f := parser.Functions[to]
		if f == nil {
			continue
		}
		hint := "no input counter grows unevenly within the range window, where " + c.Func.Name + " and " + to + " differ: add one and assert the value or the alert"
		if c.Func.Name == "increase" || to == "increase" {
			hint = "no test checks the value: increase is rate times the window in seconds; assert the value, or use an input that lies between the two against the threshold"
		}
		out = append(out, change{original: c.Func.Name, mutated: to, pos: int(c.PosRange.Start), hint: hint,
			apply: func(n parser.Node) { n.(*parser.Call).Func = f }})
	}
	return out
}
