package testfile

import (
	"math"
	"regexp"
	"strconv"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"go.yaml.in/yaml/v3"

	"github.com/gotk-rules/gotk-rules/internal/blockyaml"
)

// DecodeStrict fills a TestFile from the tree of a block-style document
// (package internal/blockyaml) exactly as promtool's YAML library
// (go.yaml.in/yaml/v2, UnmarshalStrict) fills it from the same text. It
// returns false whenever that library could decide otherwise or fail: an
// unknown or repeated field, a value of another type, a merge key, a
// scalar whose reading depends on the library's YAML 1.1 rules (yes, 0x10,
// 1_000, .inf), a value a field's own decoder refuses. The caller then
// decodes with that library, which gives the verdict and the message.
func DecodeStrict(root *blockyaml.Node) (*TestFile, bool) {
	var tf TestFile
	d := decoder{}
	ok := d.mapping(root, func(key string, v *blockyaml.Node) bool {
		switch key {
		case "rule_files":
			return d.strings(v, &tf.RuleFiles)
		case "evaluation_interval":
			return d.duration(v, &tf.EvaluationInterval)
		case "group_eval_order":
			return d.strings(v, &tf.GroupEvalOrder)
		case "tests":
			return decodeList(&d, v, &tf.Tests, d.group)
		case "fuzzy_compare":
			return d.boolean(v, &tf.FuzzyCompare)
		}
		return false
	})
	if !ok {
		return nil, false
	}
	return &tf, true
}

type decoder struct{}

// isNull reports whether v is a null the library skips a field's own
// decoder for ("", "~", "null"; "Null" and "NULL" are decided by ok=false
// in the callers that care).
func isNull(v *blockyaml.Node) bool {
	return v.Kind == yaml.ScalarNode && v.Style == 0 && (v.Value == "" || v.Value == "~" || v.Value == "null")
}

// isNullAny reports whether v is any spelling of null the library resolves.
func isNullAny(v *blockyaml.Node) bool {
	return isNull(v) || v.Kind == yaml.ScalarNode && v.Style == 0 && (v.Value == "Null" || v.Value == "NULL")
}

// mapping calls field for each key of a mapping, in order, refusing
// repeated keys and merge keys; a null mapping has no keys.
func (d *decoder) mapping(n *blockyaml.Node, field func(key string, v *blockyaml.Node) bool) bool {
	if isNullAny(n) {
		return true
	}
	if n.Kind != yaml.MappingNode {
		return false
	}
	// Repeated keys: compared pairwise in the short mappings of fields,
	// through a set in long ones (labels, annotations).
	var seen map[string]bool
	if len(n.Content) > 16 {
		seen = make(map[string]bool, len(n.Content)/2)
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		key, ok := d.str(k)
		if !ok || (k.Style == 0 && k.Value == "<<") {
			return false
		}
		if seen != nil {
			if seen[key] {
				return false
			}
			seen[key] = true
		} else {
			for j := 0; j < i; j += 2 {
				if prev, _ := d.str(n.Content[j]); prev == key {
					return false
				}
			}
		}
		if !field(key, n.Content[i+1]) {
			return false
		}
	}
	return true
}

// str reads a scalar into a string as the library does: a plain null is
// "", any other scalar its text.
func (d *decoder) str(n *blockyaml.Node) (string, bool) {
	if n.Kind != yaml.ScalarNode {
		return "", false
	}
	if isNullAny(n) {
		return "", true
	}
	return n.Value, true
}

func (d *decoder) strings(n *blockyaml.Node, out *[]string) bool {
	return decodeList(d, n, out, func(v *blockyaml.Node, s *string) bool {
		var ok bool
		*s, ok = d.str(v)
		return ok
	})
}

// decodeList fills a slice from a sequence: nil for a null, empty for [].
func decodeList[T any](d *decoder, n *blockyaml.Node, out *[]T, item func(*blockyaml.Node, *T) bool) bool {
	if isNullAny(n) {
		*out = nil
		return true
	}
	if n.Kind != yaml.SequenceNode {
		return false
	}
	list := make([]T, len(n.Content))
	for i, v := range n.Content {
		if !item(v, &list[i]) {
			return false
		}
	}
	*out = list
	return true
}

// text is what a field's own decoder (UnmarshalYAML reading a string)
// gets: ok=false for a null spelling the library resolves but hands over.
func (d *decoder) text(n *blockyaml.Node) (string, bool) {
	if n.Kind != yaml.ScalarNode || (n.Style == 0 && (n.Value == "Null" || n.Value == "NULL")) {
		return "", false
	}
	return d.str(n)
}

func (d *decoder) duration(n *blockyaml.Node, out *model.Duration) bool {
	if isNull(n) {
		*out = 0
		return true
	}
	s, ok := d.text(n)
	if !ok {
		return false
	}
	v, err := model.ParseDuration(s)
	if err != nil {
		return false
	}
	*out = v
	return true
}

func (d *decoder) boolean(n *blockyaml.Node, out *bool) bool {
	if isNullAny(n) {
		*out = false
		return true
	}
	if n.Kind != yaml.ScalarNode || n.Style != 0 || (n.Value != "true" && n.Value != "false") {
		return false
	}
	*out = n.Value == "true"
	return true
}

// plainDecimal is the one shape of plain number read here: no sign but a
// minus, no leading zero, no underscore, no hexadecimal or octal.
var plainDecimal = regexp.MustCompile(`^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?$`)

// float reads a plain number as the library resolves it: an integer
// through int64 or uint64, anything else through ParseFloat.
func (d *decoder) float(n *blockyaml.Node, out *float64) bool {
	if isNullAny(n) {
		*out = 0
		return true
	}
	if n.Kind != yaml.ScalarNode || n.Style != 0 || !plainDecimal.MatchString(n.Value) {
		return false
	}
	if i, err := strconv.ParseInt(n.Value, 10, 64); err == nil {
		if i == 0 && n.Value[0] == '-' {
			return false // the library reads "-0" as the integer 0
		}
		*out = float64(i)
		return true
	}
	if u, err := strconv.ParseUint(n.Value, 10, 64); err == nil {
		*out = float64(u)
		return true
	}
	f, err := strconv.ParseFloat(n.Value, 64)
	if err != nil || math.IsInf(f, 0) {
		return false
	}
	*out = f
	return true
}

func (d *decoder) stringMap(n *blockyaml.Node, out *map[string]string) bool {
	if isNullAny(n) {
		*out = nil
		return true
	}
	m := map[string]string{}
	if !d.mapping(n, func(key string, v *blockyaml.Node) bool {
		s, ok := d.str(v)
		m[key] = s
		return ok
	}) {
		return false
	}
	*out = m
	return true
}

func (d *decoder) labels(n *blockyaml.Node, out *labels.Labels) bool {
	if isNull(n) {
		*out = labels.Labels{}
		return true
	}
	if isNullAny(n) {
		return false
	}
	var m map[string]string
	if !d.stringMap(n, &m) {
		return false
	}
	*out = labels.FromMap(m)
	return true
}

func (d *decoder) start(n *blockyaml.Node, out *StartTimestamp) bool {
	if isNull(n) {
		*out = StartTimestamp{}
		return true
	}
	s, ok := d.text(n)
	if !ok {
		return false
	}
	t, err := ParseTime(s)
	if err != nil {
		return false
	}
	out.Time = t
	return true
}

func (d *decoder) group(n *blockyaml.Node, g *TestGroup) bool {
	return d.mapping(n, func(key string, v *blockyaml.Node) bool {
		switch key {
		case "name":
			var ok bool
			g.TestGroupName, ok = d.str(v)
			return ok
		case "interval":
			return d.duration(v, &g.Interval)
		case "start_timestamp":
			return d.start(v, &g.StartTimestamp)
		case "external_labels":
			return d.labels(v, &g.ExternalLabels)
		case "external_url":
			var ok bool
			g.ExternalURL, ok = d.str(v)
			return ok
		case "input_series":
			return decodeList(d, v, &g.InputSeries, d.input)
		case "alert_rule_test":
			return decodeList(d, v, &g.AlertRuleTests, d.alertTest)
		case "promql_expr_test":
			return decodeList(d, v, &g.PromqlExprTests, d.exprTest)
		}
		return false
	})
}

func (d *decoder) input(n *blockyaml.Node, s *InputSeries) bool {
	return d.mapping(n, func(key string, v *blockyaml.Node) bool {
		var ok bool
		switch key {
		case "series":
			s.Series, ok = d.str(v)
		case "values":
			s.Values, ok = d.str(v)
		}
		return ok
	})
}

func (d *decoder) alertTest(n *blockyaml.Node, a *AlertTestCase) bool {
	return d.mapping(n, func(key string, v *blockyaml.Node) bool {
		switch key {
		case "eval_time":
			return d.duration(v, &a.EvalTime)
		case "alertname":
			var ok bool
			a.Alertname, ok = d.str(v)
			return ok
		case "exp_alerts":
			return decodeList(d, v, &a.ExpAlerts, d.expAlert)
		}
		return false
	})
}

func (d *decoder) expAlert(n *blockyaml.Node, a *ExpAlert) bool {
	return d.mapping(n, func(key string, v *blockyaml.Node) bool {
		switch key {
		case "exp_labels":
			return d.stringMap(v, &a.ExpLabels)
		case "exp_annotations":
			return d.stringMap(v, &a.ExpAnnotations)
		}
		return false
	})
}

func (d *decoder) exprTest(n *blockyaml.Node, e *ExprTestCase) bool {
	return d.mapping(n, func(key string, v *blockyaml.Node) bool {
		switch key {
		case "expr":
			var ok bool
			e.Expr, ok = d.str(v)
			return ok
		case "eval_time":
			return d.duration(v, &e.EvalTime)
		case "exp_samples":
			return decodeList(d, v, &e.ExpSamples, d.expSample)
		}
		return false
	})
}

func (d *decoder) expSample(n *blockyaml.Node, s *ExpSample) bool {
	return d.mapping(n, func(key string, v *blockyaml.Node) bool {
		switch key {
		case "labels":
			var ok bool
			s.Labels, ok = d.str(v)
			return ok
		case "value":
			return d.float(v, &s.Value)
		case "histogram":
			var ok bool
			s.Histogram, ok = d.str(v)
			return ok
		}
		return false
	})
}
