package sandbox

import (
	"fmt"

	"github.com/gotk-rules/gotk-rules/evaluator"
	"github.com/gotk-rules/gotk-rules/lint"
	"github.com/gotk-rules/gotk-rules/lint/checks"
)

// Linter finds problems in the rules editor's content without running it.
// The sandbox only needs this much of the linter, so a change of the lint
// package's API stays here.
type Linter interface {
	// Lint returns findings for content named path, each in the rules editor.
	Lint(path string, content []byte) ([]Problem, error)
}

// gotkLinter is gotk-rules' own linter (`gotk-rules lint`) with its
// default configuration.
type gotkLinter struct {
	features evaluator.Features
}

// NewLinter returns gotk-rules' linter with the default checks, parsing
// PromQL with the features given (as the evaluator does).
func NewLinter(f evaluator.Features) Linter { return gotkLinter{features: f} }

// Lint builds a linter per call: requests share nothing.
func (g gotkLinter) Lint(path string, content []byte) ([]Problem, error) {
	l, err := lint.New(lint.Options{
		Parser: evaluator.NewEngine(evaluator.Options{Features: g.features}).Parser(),
		Checks: checks.All(),
	})
	if err != nil {
		return nil, fmt.Errorf("the linter could not start: %w", err)
	}
	findings := l.Lint(path, content)
	out := make([]Problem, 0, len(findings))
	for _, f := range findings {
		out = append(out, Problem{
			Editor: EditorRules, Line: f.Line, Column: f.Column,
			Severity: f.Severity.String(), Check: f.Check, Message: f.Message,
		})
	}
	return out, nil
}

// lint runs the linter on the rules editor; the status says when it could not.
func (s *Server) lint(rules string) (out []Problem, status string) {
	out = []Problem{}
	if s.linter == nil {
		return out, "lint is off"
	}
	defer func() {
		if p := recover(); p != nil {
			out, status = []Problem{}, fmt.Sprintf("lint failed (please report it): %v", p)
		}
	}()
	ps, err := s.linter.Lint(RulesFile, []byte(rules))
	if err != nil {
		return out, err.Error()
	}
	return append(out, ps...), "ok"
}
