package lint

import (
	"bytes"
	"fmt"
	"slices"
	"strings"

	"github.com/prometheus/prometheus/promql/parser"

	"github.com/gotk-rules/gotk-rules/internal/parallel"
	"github.com/gotk-rules/gotk-rules/lint/source"
	"github.com/gotk-rules/gotk-rules/promqlx"
	"github.com/gotk-rules/gotk-rules/rulefile"
)

// Options configure a Linter.
type Options struct {
	// Parser parses expressions; it must be the evaluator's, so lint and test
	// accept the same PromQL.
	Parser parser.Parser
	// IgnoreUnknownFields accepts fields Prometheus does not know.
	IgnoreUnknownFields bool
	// Config enables, disables and re-grades checks; nil is the defaults.
	Config *Config
	// Checks are the checks to run (lint/checks.All()).
	Checks []Check
}

// Linter lints files. It is safe for concurrent use.
type Linter struct {
	loader   *rulefile.Loader
	parser   parser.Parser
	settings Settings
	checks   []Check
	metas    []Meta // every check, with lint/unused-suppression
	enabled  map[string]Severity

	// The enabled checks by kind.
	fileChecks   []FileCheck
	groupChecks  []GroupCheck
	ruleCheckers []RuleCheck
}

// New builds a linter; it fails on a configuration naming unknown checks or
// severities.
func New(o Options) (*Linter, error) {
	if o.Parser == nil {
		return nil, fmt.Errorf("lint: no PromQL parser")
	}
	loader := rulefile.NewLoader(o.Parser, o.IgnoreUnknownFields)
	// A linter lists every problem of a file, not the first one.
	loader.EveryProblem = true
	l := &Linter{
		loader:   loader,
		parser:   o.Parser,
		settings: o.Config.Settings(),
	}
	seen := map[string]bool{UnusedSuppression.Name: true}
	l.metas = append(l.metas, UnusedSuppression)
	for _, c := range o.Checks {
		m := c.Meta()
		if seen[m.Name] {
			return nil, fmt.Errorf("lint: two checks are named %s", m.Name)
		}
		seen[m.Name] = true
		switch c.(type) {
		case FileCheck, GroupCheck, RuleCheck:
		default:
			return nil, fmt.Errorf("lint: check %s checks nothing", m.Name)
		}
		l.checks = append(l.checks, c)
		l.metas = append(l.metas, m)
	}
	slices.SortFunc(l.metas, func(a, b Meta) int { return strings.Compare(a.Name, b.Name) })
	enabled, err := o.Config.Resolve(l.metas)
	if err != nil {
		return nil, err
	}
	l.enabled = enabled
	for _, c := range l.checks {
		if _, on := enabled[c.Meta().Name]; !on {
			continue
		}
		if fc, ok := c.(FileCheck); ok {
			l.fileChecks = append(l.fileChecks, fc)
		}
		if gc, ok := c.(GroupCheck); ok {
			l.groupChecks = append(l.groupChecks, gc)
		}
		if rc, ok := c.(RuleCheck); ok {
			l.ruleCheckers = append(l.ruleCheckers, rc)
		}
	}
	return l, nil
}

// Checks returns every check the linter knows, sorted by name.
func (l *Linter) Checks() []Meta { return slices.Clone(l.metas) }

// Enabled returns the severity of a check and whether it runs.
func (l *Linter) Enabled(name string) (Severity, bool) {
	s, ok := l.enabled[name]
	return s, ok
}

// Settings returns the settings checks see.
func (l *Linter) Settings() Settings { return l.settings }

// Input is one file to lint.
type Input struct {
	Path    string
	Content []byte
}

// LintAll lints inputs on all CPUs; the findings of input i are out[i].
func (l *Linter) LintAll(inputs []Input) [][]Finding {
	out := make([][]Finding, len(inputs))
	parallel.For(len(inputs), 0, func(i int) {
		out[i] = l.Lint(inputs[i].Path, inputs[i].Content)
	})
	return out
}

// parallelRules is the number of rules from which a file's rule checks are
// spread over all CPUs.
const parallelRules = 200

// ruleWorkers returns the number of workers for n rules: one (the calling
// goroutine) below parallelRules, all CPUs from it.
func ruleWorkers(n int) int {
	if n < parallelRules {
		return 1
	}
	return 0
}

// Lint lints one file's content, named path in findings. Findings are
// sorted by line, column and check.
func (l *Linter) Lint(path string, content []byte) []Finding {
	content = bytes.TrimPrefix(content, []byte("\xef\xbb\xbf"))
	f := l.load(path, content)
	var findings []Finding
	for _, c := range l.fileChecks {
		l.run(f, c, &findings, func(r *Reporter) { c.CheckFile(f, r) })
	}
	if len(f.LoadErrors) == 0 {
		for _, c := range l.groupChecks {
			for _, g := range f.Groups {
				l.run(f, c, &findings, func(r *Reporter) { c.CheckGroup(g, r) })
			}
		}
		findings = append(findings, l.ruleChecks(f)...)
	}
	sups := parseSuppressions(f)
	findings = suppress(findings, sups)
	if sev, on := l.enabled[UnusedSuppression.Name]; on {
		unused := l.unusedSuppressions(f, sups, func(name string) bool {
			_, ran := l.enabled[name]
			return ran && len(f.LoadErrors) == 0
		})
		for _, u := range unused {
			u.Severity = sev
			findings = append(findings, u)
		}
		// An unused-suppression finding can itself be suppressed.
		var again []*suppression
		for _, s := range sups {
			if MatchName(s.pattern, UnusedSuppression.Name) {
				c := *s
				again = append(again, &c)
			}
		}
		findings = suppress(findings, again)
	}
	slices.SortFunc(findings, Compare)
	return slices.CompactFunc(findings, func(a, b Finding) bool { return a == b })
}

// run runs one check, turning a panic into a finding.
func (l *Linter) run(f *File, c Check, out *[]Finding, fn func(r *Reporter)) {
	m := c.Meta()
	r := &Reporter{file: f, check: m.Name, severity: l.enabled[m.Name], out: out}
	defer func() {
		if p := recover(); p != nil {
			r.Report(source.Pos{}, "internal error in this check, please report it: %v", p)
		}
	}()
	fn(r)
}

// ruleChecks runs every rule check on every rule; a big file's rules are
// spread over all CPUs, each rule's checks staying on one goroutine.
func (l *Linter) ruleChecks(f *File) []Finding {
	var rules []*Rule
	for _, g := range f.Groups {
		rules = append(rules, g.Rules...)
	}
	check := func(rules []*Rule, out *[]Finding) {
		for _, rule := range rules {
			for _, c := range l.ruleCheckers {
				l.run(f, c, out, func(r *Reporter) { c.CheckRule(rule, r) })
			}
		}
	}
	// The findings of the range starting at rule lo go to outs[lo], so that
	// they come out in rule order whatever the number of ranges.
	outs := make([][]Finding, len(rules))
	parallel.Chunks(len(rules), ruleWorkers(len(rules)), func(lo, hi int) {
		check(rules[lo:hi], &outs[lo])
	})
	return slices.Concat(outs...)
}

// RecordFilters reports whether metric name is recorded in this file by a
// rule whose expression filters series, so that its series exist only while
// a condition holds.
func (f *File) RecordFilters(name string) bool {
	return f.recordFilters(name, map[string]bool{})
}

func (f *File) recordFilters(name string, visiting map[string]bool) bool {
	rules := f.Records[name]
	if len(rules) == 0 || visiting[name] {
		return false
	}
	visiting[name] = true
	for _, r := range rules {
		if !promqlx.Filters(r.AST, func(n string) bool { return f.recordFilters(n, visiting) }) {
			return false
		}
	}
	return true
}
