package mutate

import (
	"regexp"

	"go.yaml.in/yaml/v3"
)

// labelsOperator changes and removes a rule's labels, and drops the
// template actions of their values.
var labelsOperator = Operator{
	Name: "labels",
	Doc:  "rule labels: a value changed, a label removed, a template action ({{ ... }}) of a value dropped",
	rule: func(r *ruleSite) []Mutant { return mapMutants(r, "labels") },
}

// annotationsOperator changes and removes an alert's annotations, and
// drops the template actions of their values.
var annotationsOperator = Operator{
	Name: "annotations",
	Doc:  "alert annotations: a value changed, an annotation removed, a template action ({{ ... }}) of a value dropped",
	rule: func(r *ruleSite) []Mutant { return mapMutants(r, "annotations") },
}

// maxActions bounds the template actions dropped, each its own mutant, of
// one value.
const maxActions = 5

var action = regexp.MustCompile(`\{\{-?.*?-?\}\}`)

// mapMutants changes the entries of the rule's labels or annotations.
func mapMutants(r *ruleSite, section string) []Mutant {
	_, m := lookupKey(r.node, section)
	if m == nil || m.Kind != yaml.MappingNode || m.Style&yaml.FlowStyle != 0 {
		return nil
	}
	what, check := "exp_labels", "no test checks the label "
	if section == "annotations" {
		what, check = "exp_annotations", "no test checks the annotation "
	}
	var out []Mutant
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		if v.Kind != yaml.ScalarNode {
			continue
		}
		sp, err := r.src.valueSpan(k, v)
		if err != nil {
			continue
		}
		add := func(mutated string, hint string) {
			out = append(out, Mutant{Line: v.Line, Column: v.Column, Original: k.Value + ": " + v.Value, Mutated: k.Value + ": " + mutated,
				hint: hint, Content: r.src.replace(sp, mutated)})
		}
		add(v.Value+"_mutated", check+k.Value+" of "+r.name+": its value is never compared (exp_labels, exp_annotations or a promql_expr_test's labels)")
		if es, err := r.src.entrySpan(k, v); err == nil {
			out = append(out, Mutant{Line: k.Line, Column: k.Column, Original: k.Value + ": " + v.Value, Mutated: "",
				hint: check + k.Value + " of " + r.name + ": its absence goes unnoticed (exp_labels, exp_annotations or a promql_expr_test's labels)", Content: r.src.remove(es)})
		}
		for _, loc := range action.FindAllStringIndex(v.Value, maxActions) {
			mutated := v.Value[:loc[0]] + v.Value[loc[1]:]
			add(mutated, "no test checks the part of "+k.Value+" that "+v.Value[loc[0]:loc[1]]+" renders: assert "+what+" "+k.Value+" in full")
		}
	}
	return out
}
