package rulediff

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/gotk-rules/gotk-rules/evaluator"
	"github.com/gotk-rules/gotk-rules/internal/boundedio"
	"github.com/gotk-rules/gotk-rules/rulefile"
)

// RuleSet is one side of a diff: rule files loaded, ready to replay.
type RuleSet struct {
	// Spec is what the user named: a file, a directory or git:REV:path.
	Spec string
	// Files are the rule files, as the Loader knows them.
	Files []string
	// Loader holds the files (preloaded, for git revisions).
	Loader *rulefile.Loader
}

// LoadOptions configure LoadRuleSet.
type LoadOptions struct {
	Engine *evaluator.Engine
	// Input bounds each file read, from disk or from git.
	Input boundedio.Limits
	// GitDir is the directory git runs in for git:REV:path (default: the
	// working directory).
	GitDir string
	// Git is the git program (default "git", found on PATH).
	Git string
}

// GitPrefix starts a rule set read from a git revision: git:REV:path.
const GitPrefix = "git:"

// LoadRuleSet reads a rule set: a rule file, a directory of rule files
// (rulefile.Expand), or git:REV:path (a file or a directory in a git
// revision, read with git). Every file is loaded and validated; the error,
// when not nil, is one line: the first problem as file:line:col: message,
// with how many more there are.
func LoadRuleSet(ctx context.Context, spec string, opts LoadOptions) (*RuleSet, error) {
	rs := &RuleSet{Spec: spec, Loader: rulefile.NewLoader(opts.Engine.Parser(), false)}
	rs.Loader.Input = opts.Input
	if strings.HasPrefix(spec, GitPrefix) {
		files, err := readGit(ctx, spec, opts)
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			rs.Loader.Preload(f.name, f.content)
			rs.Files = append(rs.Files, f.name)
		}
	} else {
		if spec == "" {
			return nil, errors.New("an empty rule file name; want a rule file, a directory or git:REV:path")
		}
		files, err := rulefile.Expand([]string{spec})
		if err != nil {
			return nil, err
		}
		if len(files) == 0 {
			return nil, fmt.Errorf("%s: no rule file (*.yml, *.yaml) in it", spec)
		}
		rs.Files = files
	}
	for _, f := range rs.Files {
		if _, err := rs.Loader.LoadFile(f); err != nil {
			return nil, firstProblem(err)
		}
	}
	return rs, nil
}

// firstProblem keeps the first problem of a rule file's error list, saying
// how many more there are, so that bad input is one line.
func firstProblem(err error) error {
	var list rulefile.ErrorList
	if errors.As(err, &list) && len(list) > 1 {
		return fmt.Errorf("%w (and %d more problems)", list[0], len(list)-1)
	}
	if errors.As(err, &list) && len(list) == 1 {
		return list[0]
	}
	return err
}
