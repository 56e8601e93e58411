// Package unittest runs promtool `test rules` files unchanged on the embedded
// evaluator, with promtool's verdicts, and reports per file, group and
// assertion for people (text, diff) and machines (JSON, JUnit).
package unittest

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/prometheus/common/model"
	yamlv2 "go.yaml.in/yaml/v2"

	"github.com/gotk-rules/gotk-rules/internal/yamlpos"
	"github.com/gotk-rules/gotk-rules/unittest/testfile"
)

// The test file types live in package testfile, which imports nothing of
// gotk-rules, so that the packages this one builds on can write test files.
type (
	// TestFile is the content of one promtool unit test file.
	TestFile = testfile.TestFile
	// TestGroup is a group of input series and the assertions made on them.
	TestGroup = testfile.TestGroup
	// InputSeries is one series in expanding notation.
	InputSeries = testfile.InputSeries
	// AlertTestCase expects the firing alerts of one rule at one time.
	AlertTestCase = testfile.AlertTestCase
	// ExpAlert is one expected firing alert.
	ExpAlert = testfile.ExpAlert
	// ExprTestCase expects the result of a PromQL expression at one time.
	ExprTestCase = testfile.ExprTestCase
	// ExpSample is one expected sample; a non-empty Histogram means Value is ignored.
	ExpSample = testfile.ExpSample
	// StartTimestamp is a test group's start: RFC 3339 or Unix seconds.
	StartTimestamp = testfile.StartTimestamp
)

// parseTime reads Unix seconds (with fraction) or RFC 3339, as promtool.
var parseTime = testfile.ParseTime

// decode reads a test file strictly (unknown fields are errors) unless
// lenient, with promtool's YAML library so values are read alike.
func decode(b []byte, lenient bool) (*TestFile, error) {
	var tf TestFile
	var err error
	if lenient {
		err = yamlv2.Unmarshal(b, &tf)
	} else {
		err = yamlv2.UnmarshalStrict(b, &tf)
	}
	if err != nil {
		var te *yamlv2.TypeError
		if errors.As(err, &te) {
			for i, e := range te.Errors {
				te.Errors[i] = ShowTypeNames(e)
			}
		}
		return nil, locate(b, err)
	}
	return &tf, nil
}

// typeNames finds the Go types the YAML library names in its messages
// ("field x not found in type testfile.TestGroup", "cannot unmarshal !!str
// into []testfile.InputSeries"): they are shown as this package's, whose
// they are (aliases), as they always were.
var typeNames = regexp.MustCompile(`((?:in type |into )[\[\]*]*)testfile\.`)

// ShowTypeNames names the test file's Go types in a YAML library message as
// this package's ("unittest.TestGroup"), for readers that decode test files
// themselves, such as the sandbox.
func ShowTypeNames(msg string) string { return typeNames.ReplaceAllString(msg, "${1}unittest.") }

// locate places an error the YAML library did not (a value refused by its
// own type: a duration or a timestamp) at the value that gives it, as
// "yaml: line L:C: msg", which positionedYAMLError turns into file:L:C: msg.
func locate(b []byte, err error) error {
	msg := err.Error()
	if strings.HasPrefix(msg, "yaml: ") {
		return err
	}
	line, col, ok := yamlpos.FindValue(b, func(key, value string) bool {
		var verr error
		switch key {
		case "evaluation_interval", "interval", "eval_time":
			_, verr = model.ParseDuration(value)
		case "start_timestamp":
			_, verr = parseTime(value)
		}
		return verr != nil && verr.Error() == msg
	})
	if !ok {
		return err
	}
	return fmt.Errorf("yaml: line %d:%d: %s", line, col, msg)
}
