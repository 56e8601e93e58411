package scenario

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v3"

	"github.com/gotk-rules/gotk-rules/budget"
	"github.com/gotk-rules/gotk-rules/internal/boundedio"
	"github.com/gotk-rules/gotk-rules/internal/yamlpos"
)

// Expectation is something that must hold for an alert about an object.
// Exactly one of At, From/To, Never, FiresWithin and ResolvesWithin says when.
type Expectation struct {
	Alert string `yaml:"alert" json:"alert"`
	// Object is Kind/namespace/name, or namespace/name when only one
	// object has that namespace and name.
	Object string `yaml:"object" json:"object"`
	// State is inactive, pending or firing: at At, or throughout From..To.
	State string          `yaml:"state,omitempty" json:"state,omitempty"`
	At    *model.Duration `yaml:"at,omitempty" json:"at,omitempty"`
	From  *model.Duration `yaml:"from,omitempty" json:"from,omitempty"`
	To    *model.Duration `yaml:"to,omitempty" json:"to,omitempty"`
	// Never is pending or firing: the alert is never in that state.
	Never string `yaml:"never,omitempty" json:"never,omitempty"`
	// FiresWithin: after each failure episode starts, the alert fires
	// within this long (episodes that end sooner are not judged).
	FiresWithin model.Duration `yaml:"fires_within,omitempty" json:"fires_within,omitempty"`
	// ResolvesWithin: after each failure episode ends, the alert stops
	// firing within this long.
	ResolvesWithin model.Duration `yaml:"resolves_within,omitempty" json:"resolves_within,omitempty"`
}

// IsScenario reports whether a YAML file is a scenario (it has `objects:`)
// rather than a promtool test file.
func IsScenario(b []byte) bool {
	if !mayHaveObjectsKey(b) {
		return false // not parsed: a fleet's test file is megabytes of YAML
	}
	var probe map[string]any
	if err := yaml.Unmarshal(b, &probe); err != nil {
		return false
	}
	_, ok := probe["objects"]
	return ok
}

// mayHaveObjectsKey reports whether b may hold a mapping key `objects`:
// false only when the text cannot spell one. A key is the word followed
// by an optional quote, blanks, and a colon, a line end, a comment, the end,
// or the end of a flow entry (`{objects}`); or it may be spelled otherwise through an alias (`*`), an escape
// other than \" and \\ (including a line folded by a backslash), or an
// encoding other than UTF-8 (a byte order mark).
func mayHaveObjectsKey(b []byte) bool {
	if bytes.HasPrefix(b, []byte{0xfe, 0xff}) || bytes.HasPrefix(b, []byte{0xff, 0xfe}) || bytes.IndexByte(b, '*') >= 0 {
		return true
	}
	for i := bytes.IndexByte(b, '\\'); i >= 0; {
		if i+1 >= len(b) || (b[i+1] != '"' && b[i+1] != '\\') {
			return true
		}
		i += 2
		j := bytes.IndexByte(b[i:], '\\')
		if j < 0 {
			break
		}
		i += j
	}
	for rest := b; ; {
		i := bytes.Index(rest, []byte("objects"))
		if i < 0 {
			return false
		}
		rest = rest[i+len("objects"):]
		j := 0
		if j < len(rest) && (rest[j] == '"' || rest[j] == '\'') {
			j++
		}
		for j < len(rest) && (rest[j] == ' ' || rest[j] == '\t') {
			j++
		}
		if j == len(rest) || bytes.IndexByte([]byte(":\n\r#,}"), rest[j]) >= 0 {
			return true
		}
	}
}

// Limits bound what a scenario may ask for. A scenario over them is refused
// with a *budget.ExceededError (wrapped: errors.As finds it).
type Limits struct {
	// MaxSeries bounds the series generated (budget.InputSeries; zero:
	// budget.DefaultInputSeries).
	MaxSeries int
	// MaxSamples bounds the samples generated (budget.InputSamples; zero:
	// budget.DefaultInputSamples).
	MaxSamples uint64
	// Input bounds the scenario file read by LoadFile (the zero value
	// holds boundedio's defaults).
	Input boundedio.Limits
}

func (l Limits) withDefaults() Limits {
	if l.MaxSeries == 0 {
		l.MaxSeries = budget.DefaultInputSeries
	}
	if l.MaxSamples == 0 {
		l.MaxSamples = budget.DefaultInputSamples
	}
	return l
}

// LoadFile reads and validates a scenario file.
func LoadFile(path string, lim Limits) (*Scenario, error) {
	b, err := boundedio.ReadFile(path, lim.Input)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			return nil, fmt.Errorf("%s: %s: %w", path, pe.Op, pe.Err)
		}
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return Parse(path, b, lim)
}

// Parse reads and validates a scenario; every problem is reported, each as
// file:line:col: message.
func Parse(path string, b []byte, lim Limits) (*Scenario, error) {
	if m, ok := yamlpos.CheckText(b); ok {
		return nil, errors.New(m.In(path))
	}
	var s Scenario
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&s); err != nil && !errors.Is(err, io.EOF) {
		return nil, yamlError(path, b, err)
	}
	s.File = path
	s.pos = positions{doc: yamlpos.Parse(b), file: path}
	s.withDefaults()
	if errs := s.validate(lim.withDefaults()); len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return &s, nil
}

// yamlError words a YAML error as one line file:line:col: message. A
// duration the YAML library could not place (model.Duration refused it)
// is placed at the first value that gives that error; other positions are
// completed by yamlpos.Place.
func yamlError(path string, b []byte, err error) error {
	var ms []yamlpos.Message
	for _, m := range yamlpos.Messages(err.Error()) {
		if m.Line == 0 {
			m.Msg = strings.TrimPrefix(m.Msg, "yaml: ")
			m.Line, m.Column, _ = locateDuration(b, m.Msg)
		}
		ms = append(ms, m)
	}
	var parts []string
	for _, m := range yamlpos.Place(b, ms) {
		parts = append(parts, m.In(path))
	}
	return errors.New(strings.Join(parts, "\n"))
}

// locateDuration finds the first scalar value that model.ParseDuration
// refuses with message msg.
func locateDuration(b []byte, msg string) (int, int, bool) {
	return yamlpos.FindValue(b, func(_, value string) bool {
		_, err := model.ParseDuration(value)
		return err != nil && err.Error() == msg
	})
}

// positions words errors with the position of the part they concern.
type positions struct {
	doc  yamlpos.Doc
	file string
}

func (p positions) errorf(path []any, format string, args ...any) error {
	line, col := p.at(path)
	return fmt.Errorf("%s:%d:%d: %s", p.file, line, col, fmt.Sprintf(format, args...))
}

// at returns the position of path; a document with no nodes (an empty
// file) is worded at 1:1.
func (p positions) at(path []any) (int, int) {
	line, col := p.doc.At(path...)
	return max(line, 1), max(col, 1)
}

// wrapAt words err at the position of path, wrapping it.
func (p positions) wrapAt(path []any, err error) error {
	line, col := p.at(path)
	return fmt.Errorf("%s:%d:%d: %w", p.file, line, col, err)
}

// validate checks the scenario and returns every problem found.
func (s *Scenario) validate(lim Limits) []error {
	var errs []error
	bad := func(path []any, format string, args ...any) {
		errs = append(errs, s.pos.errorf(path, format, args...))
	}
	switch s.Era {
	case EraV20, EraV21, EraKSM, EraOperator:
	default:
		bad([]any{"era"}, "unknown era %q (want v2.0, v2.1, ksm or operator)", s.Era)
	}
	switch s.Scrape {
	case ScrapeDirect, ScrapePodMonitor:
	default:
		bad([]any{"scrape"}, "unknown scrape %q (want direct or podmonitor)", s.Scrape)
	}
	if s.Duration <= 0 {
		bad([]any{"duration"}, "duration must be positive")
	}
	if s.ScrapeInterval <= 0 || d(s.ScrapeInterval)%time.Millisecond != 0 {
		bad([]any{"scrape_interval"}, "scrape_interval must be a positive number of milliseconds")
	}
	if s.EvaluationInterval <= 0 || d(s.EvaluationInterval)%time.Millisecond != 0 {
		bad([]any{"evaluation_interval"}, "evaluation_interval must be a positive number of milliseconds")
	}
	if ri := s.Options.ReportInterval; ri < 0 || d(ri)%time.Millisecond != 0 {
		bad([]any{"options", "report_interval"}, "report_interval must be a positive number of milliseconds")
	}
	if len(errs) > 0 {
		return errs
	}
	ids := map[string]int{}
	for i, o := range s.Objects {
		at := func(p ...any) []any { return append([]any{"objects", i}, p...) }
		if _, ok := kinds[o.Kind]; !ok {
			bad(at("kind"), "unknown kind %q (want one of %s)", o.Kind, strings.Join(Kinds(), ", "))
		}
		if o.Name == "" || o.Namespace == "" {
			bad(at(), "object needs a name and a namespace")
		}
		if j, dup := ids[o.ID()]; dup {
			bad(at(), "object %s is already described (objects[%d])", o.ID(), j)
		}
		ids[o.ID()] = i
		if o.Created < 0 || o.Created > s.Duration {
			bad(at("created"), "created %s is outside the scenario (0 to %s)", o.Created, s.Duration)
		}
		busyUntil := o.Created
		deleted := false
		for j, e := range o.Events {
			ev := func(p ...any) []any { return at(append([]any{"events", j}, p...)...) }
			n := 0
			for _, set := range []bool{e.Reconcile != "", e.Suspend, e.Resume, e.Delete} {
				if set {
					n++
				}
			}
			switch {
			case n != 1:
				bad(ev(), "an event needs exactly one of reconcile, suspend, resume, delete")
			case e.Reconcile != "" && e.Reconcile != "True" && e.Reconcile != "False" && e.Reconcile != "Unknown":
				bad(ev("reconcile"), "reconcile ends with True, False or Unknown, not %q", e.Reconcile)
			case e.Took != 0 && e.Reconcile == "":
				bad(ev("took"), "took goes with reconcile")
			case e.Reason != "" && e.Reconcile == "":
				bad(ev("reason"), "reason goes with reconcile")
			case e.Reason != "" && !validReason(e.Reason):
				bad(ev("reason"), "reason %q is not a condition reason (a letter, then letters, digits, _, : or ,)", e.Reason)
			case e.Took < 0:
				bad(ev("took"), "took must not be negative")
			}
			switch {
			case deleted:
				bad(ev(), "event after the object was deleted")
			case e.At < busyUntil:
				bad(ev("at"), "event at %s overlaps or precedes the one before (busy until %s): events must be in time order", e.At, busyUntil)
			case e.At+e.Took > s.Duration:
				bad(ev("at"), "event ends at %s, after the scenario (%s)", e.At+e.Took, s.Duration)
			}
			busyUntil = e.At + e.Took
			deleted = deleted || e.Delete
		}
	}
	for i, c := range s.Cluster {
		at := []any{"cluster", i}
		n := 0
		for _, set := range []bool{c.ControllerRestart, c.ScrapeGap > 0, c.SecondTarget > 0} {
			if set {
				n++
			}
		}
		if n != 1 {
			bad(at, "a cluster event needs exactly one of controller_restart, scrape_gap, second_target")
		}
		if c.At < 0 || c.At > s.Duration {
			bad(append(at, "at"), "cluster event at %s is outside the scenario (0 to %s)", c.At, s.Duration)
		}
		if i > 0 && c.At < s.Cluster[i-1].At {
			bad(append(at, "at"), "cluster events must be in time order")
		}
	}
	for i, e := range s.Expect {
		errs = append(errs, s.validateExpectation(i, e, ids)...)
	}
	if len(errs) == 0 {
		series, samples := s.size()
		if series > lim.MaxSeries {
			errs = append(errs, s.pos.wrapAt(nil, &budget.ExceededError{Budget: budget.InputSeries, Limit: uint64(max(lim.MaxSeries, 0)), Asked: uint64(series),
				Subject: fmt.Sprintf("the scenario asks for %d series", series)}))
		}
		if samples > lim.MaxSamples {
			errs = append(errs, s.pos.wrapAt(nil, &budget.ExceededError{Budget: budget.InputSamples, Limit: lim.MaxSamples, Asked: samples,
				Subject: fmt.Sprintf("the scenario asks for about %d samples", samples)}))
		}
	}
	return errs
}

// validReason follows the Kubernetes condition reason pattern
// (metav1.Condition: ^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$).
func validReason(r string) bool {
	for i, c := range r {
		letter := (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
		switch {
		case i == 0 && !letter:
			return false
		case letter, c >= '0' && c <= '9', c == '_':
		case (c == ',' || c == ':') && i < len(r)-1:
		default:
			return false
		}
	}
	return r != ""
}

// Validate checks a scenario built in code (Normalize it first) as
// loading checks a file, within lim; every problem is joined in the error.
func (s *Scenario) Validate(lim Limits) error {
	return errors.Join(s.validate(lim.withDefaults())...)
}

func (s *Scenario) validateExpectation(i int, e Expectation, ids map[string]int) []error {
	var errs []error
	bad := func(p []any, format string, args ...any) {
		errs = append(errs, s.pos.errorf(append([]any{"expect", i}, p...), format, args...))
	}
	if e.Alert == "" {
		bad(nil, "expectation needs an alert")
	}
	if _, err := s.FindObject(e.Object); err != nil {
		bad([]any{"object"}, "%v", err)
	}
	whens := 0
	for _, set := range []bool{e.At != nil, e.From != nil || e.To != nil, e.Never != "", e.FiresWithin > 0, e.ResolvesWithin > 0} {
		if set {
			whens++
		}
	}
	if whens != 1 {
		bad(nil, "expectation needs exactly one of at, from/to, never, fires_within, resolves_within")
	}
	if e.At != nil || e.From != nil || e.To != nil {
		switch e.State {
		case "inactive", "pending", "firing":
		default:
			bad([]any{"state"}, "state is inactive, pending or firing, not %q", e.State)
		}
	}
	if (e.From == nil) != (e.To == nil) || (e.From != nil && *e.From > *e.To) {
		bad([]any{"from"}, "from and to go together, from before to")
	}
	if e.Never != "" && e.Never != "pending" && e.Never != "firing" {
		bad([]any{"never"}, "never is pending or firing, not %q", e.Never)
	}
	return errs
}

// FindObject resolves Kind/namespace/name or namespace/name.
func (s *Scenario) FindObject(ref string) (*Object, error) {
	var found []*Object
	for i := range s.Objects {
		o := &s.Objects[i]
		if ref == o.ID() || ref == o.Namespace+"/"+o.Name {
			found = append(found, o)
		}
	}
	switch len(found) {
	case 0:
		return nil, fmt.Errorf("no object %q (write Kind/namespace/name)", ref)
	case 1:
		return found[0], nil
	}
	return nil, fmt.Errorf("%q names several objects: write Kind/namespace/name", ref)
}

// ExpectationLine is the line of expectation i in the scenario file.
func (s *Scenario) ExpectationLine(i int) int {
	line, _ := s.pos.doc.At("expect", i)
	return line
}

// When describes when an expectation applies, for reports.
func (e Expectation) When() string {
	switch {
	case e.At != nil:
		return e.At.String()
	case e.From != nil && e.To != nil:
		return e.From.String() + ".." + e.To.String()
	case e.Never != "":
		return "never " + e.Never
	case e.FiresWithin > 0:
		return "fires within " + e.FiresWithin.String()
	case e.ResolvesWithin > 0:
		return "resolves within " + e.ResolvesWithin.String()
	}
	return ""
}
