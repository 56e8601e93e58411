package evaluator_test

import (
	"context"
	"fmt"
	"time"

	"github.com/gotk-rules/gotk-rules/evaluator"
	"github.com/gotk-rules/gotk-rules/series"
)

// Replay the shipped GitOpsToolkit rule over a Kustomization that fails for
// 15 minutes and is then deleted (Flux 2.0 metrics: the Deleted series).
func Example() {
	engine := evaluator.NewEngine(evaluator.Options{})
	sess, err := engine.NewSession(evaluator.SessionOptions{EvalInterval: time.Minute})
	if err != nil {
		panic(err)
	}
	defer sess.Close()

	if errs := sess.LoadRules([]string{"../rules/gitopstoolkit.yml"}, nil); errs != nil {
		panic(errs)
	}
	start := time.Unix(0, 0).UTC()
	obj := `{kind="Kustomization",name="apps",namespace="flux-system",type="Ready"`
	for _, s := range []struct{ status, values string }{
		{"False", "1x14 0x15"},
		{"Deleted", "0x14 1x15"},
	} {
		ser, err := series.Parse(`gotk_reconcile_condition`+obj+`,status="`+s.status+`"}`, s.values, start, time.Minute)
		if err != nil {
			panic(err)
		}
		sess.AddSeries(ser)
	}

	tl, err := sess.Replay(context.Background(), start, start.Add(30*time.Minute))
	if err != nil {
		panic(err)
	}
	for _, a := range tl.Alerts {
		fmt.Println(a.Alert, a.Labels.Get("namespace")+"/"+a.Labels.Get("name"))
		for _, iv := range a.Intervals {
			fmt.Printf("  %-7s %v .. %v\n", iv.State, iv.Start.Sub(start), iv.End.Sub(start))
		}
		fmt.Println(" ", a.Annotations.Get("summary"))
	}
	// Output:
	// ReconciliationFailure flux-system/apps
	//   pending 0s .. 10m0s
	//   firing  10m0s .. 15m0s
	//   Kustomization flux-system/apps reconciliation has been failing for more than ten minutes.
}
