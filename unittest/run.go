package unittest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/grafana/regexp"

	"github.com/gotk-rules/gotk-rules/budget"
	"github.com/gotk-rules/gotk-rules/evaluator"
	"github.com/gotk-rules/gotk-rules/internal/boundedio"
	"github.com/gotk-rules/gotk-rules/internal/parallel"
	"github.com/gotk-rules/gotk-rules/internal/progress"
	"github.com/gotk-rules/gotk-rules/rulefile"
	"github.com/gotk-rules/gotk-rules/scenario"
)

// Options configure a run.
type Options struct {
	Engine *evaluator.Engine
	// Run keeps only groups whose name matches one of these expressions.
	Run []string
	// IgnoreUnknownFields accepts unknown fields in test and rule files.
	IgnoreUnknownFields bool
	// MaxSamples bounds the samples a test group's input series expand to
	// (budget.InputSamples; zero: budget.DefaultInputSamples).
	MaxSamples uint64
	// MaxSeries bounds a test group's input series (budget.InputSeries;
	// zero: budget.DefaultInputSeries).
	MaxSeries int
	// MaxEvals bounds a test group's rule evaluations
	// (budget.GroupEvaluations; zero: budget.DefaultGroupEvaluations).
	MaxEvals int64
	// Hint words how to raise an exceeded budget, after its message in the
	// results (budget.Explain); nil adds nothing. The command line passes
	// its flags'.
	Hint budget.Hint
	// Exact turns off the evaluator's fast path (same results, slower).
	Exact bool
	// Strict turns every warning (Warning) into a failure of its group,
	// and of the run (exit code 1).
	Strict bool
	// Input bounds each test and rule file read (the zero value holds
	// boundedio's defaults).
	Input boundedio.Limits
	// Parallel is how many groups run at once (default GOMAXPROCS).
	Parallel int
	// Progress, when set, counts evaluations across groups.
	Progress *progress.Counter
	// Debug receives a dump of every series at the end of each group.
	Debug io.Writer
	// FS reads test files; nil means the operating system's files. Rule
	// files named by a test file are read from the same place.
	FS fs.FS
	// AfterEval, when set, is called after each evaluation of a test group
	// with the test file, the group's index in it, the evaluation time and
	// the session, whose rules' state it may read but not change. Groups
	// run in parallel: it must be safe for concurrent use. Tests use it to
	// compare the fast and exact evaluation paths step by step.
	AfterEval func(file string, group int, ts time.Time, sess *evaluator.Session)
	// RuleFiles, when set, holds content that replaces the named rule
	// files, paths as the test files resolve them (relative to the test
	// file, globs and directories expanded): loads of such a path parse
	// this content instead of reading the file. Mutation testing runs the
	// tests against a changed rule file this way.
	RuleFiles map[string][]byte
	// Groups, when set, keeps only the test groups for which it returns
	// true, asked with the test file, the group's index in it (0 for a
	// scenario) and the rule files the group loads, resolved as for
	// RuleFiles. It is called before any group runs, one call at a time.
	Groups func(file string, group int, ruleFiles []string) bool
}

// Runner runs promtool test files.
type Runner struct {
	opts   Options
	run    *regexp.Regexp
	loader *rulefile.Loader
	// instant parses each test expression once and runs the queries of
	// promql_expr_test; tables are the rules as the warning checks read
	// them, per list of rule files.
	instant *evaluator.Instant
	tables  ruleTables
}

// NewRunner checks the options. A bad --run expression is an error.
func NewRunner(opts Options) (*Runner, error) {
	if opts.Engine == nil {
		opts.Engine = evaluator.NewEngine(evaluator.Options{})
	}
	if opts.MaxSamples == 0 {
		opts.MaxSamples = budget.DefaultInputSamples
	}
	if opts.MaxSeries == 0 {
		opts.MaxSeries = budget.DefaultInputSeries
	}
	if opts.MaxEvals == 0 {
		opts.MaxEvals = budget.DefaultGroupEvaluations
	}
	if opts.Parallel <= 0 {
		opts.Parallel = runtime.GOMAXPROCS(0)
	}
	instant := opts.Engine.NewInstant()
	r := &Runner{opts: opts, loader: rulefile.NewLoader(instant.RuleParser(), opts.IgnoreUnknownFields), instant: instant}
	r.loader.Input = opts.Input
	for path, content := range opts.RuleFiles {
		r.loader.Preload(path, content)
	}
	if len(opts.Run) > 0 {
		re, err := regexp.Compile(strings.Join(opts.Run, "|"))
		if err != nil {
			return nil, fmt.Errorf("--run: %w", err)
		}
		r.run = re
	}
	return r, nil
}

// job is one test group to run.
type job struct {
	run func(ctx context.Context)
	out *GroupResult
}

// Run runs every file and returns the results in file order. Groups run in
// parallel; each has its own storage and rule state.
func (r *Runner) Run(files ...string) *Result {
	return r.RunContext(context.Background(), files...)
}

// RunContext is Run that stops when ctx ends: no group starts after, and
// the groups running stop within one rule query, each failed with an
// error saying why ("test run stopped: context deadline exceeded").
// Verdicts of groups that finished are as Run's.
func (r *Runner) RunContext(ctx context.Context, files ...string) *Result {
	res := &Result{strict: r.opts.Strict}
	var jobs []job
	overlap := false       // set once the jobs are known
	var ruleFiles []string // of files with a group to run, in order
	// The files are read and decoded on every core; their groups are
	// queued in file order below.
	type read struct {
		scenario []byte // the file's text, when it is a scenario
		lf       *loadedFile
		err      error
	}
	reads := make([]read, len(files))
	parallel.For(len(files), r.opts.Parallel, func(i int) {
		b, err := r.readFile(files[i])
		switch {
		case err != nil:
			reads[i].err = err
		case mayBeScenario(b) && scenario.IsScenario(b):
			reads[i].scenario = b
		default:
			reads[i].lf, reads[i].err = r.loadFile(files[i], b)
		}
	})
	for k, f := range files {
		fr := &FileResult{File: f, Groups: []*GroupResult{}}
		res.Files = append(res.Files, fr)
		if reads[k].err != nil {
			fr.Error = reads[k].err.Error()
			continue
		}
		if b := reads[k].scenario; b != nil {
			if j, ok := r.scenarioJob(f, b, fr); ok {
				jobs = append(jobs, j)
			}
			continue
		}
		lf := reads[k].lf
		fr.Warnings = lf.warnings
		queued := len(jobs)
		for i, tg := range lf.tf.Tests {
			if r.run != nil && !r.run.MatchString(tg.TestGroupName) {
				continue
			}
			if r.opts.Groups != nil && !r.opts.Groups(f, i, lf.ruleFiles) {
				continue
			}
			name := tg.TestGroupName
			if name == "" {
				name = fmt.Sprintf("unnamed#%d", i)
			}
			line, _ := lf.pos.At("tests", i)
			gr := &GroupResult{Name: name, Index: i, Line: line, Assertions: []*Assertion{}}
			fr.Groups = append(fr.Groups, gr)
			jobs = append(jobs, job{run: func(ctx context.Context) { r.runChecked(ctx, lf, i, gr, overlap) }, out: gr})
		}
		if len(jobs) > queued {
			ruleFiles = append(ruleFiles, lf.ruleFiles...)
		}
	}
	// The rule files are parsed while the groups start: a group reads its
	// input series before it loads rules, and then waits for the parse
	// under way (the loader parses each file once).
	var warm sync.WaitGroup
	if ctx.Err() == nil {
		warm.Go(func() { r.warmRules(ruleFiles) })
	}
	defer warm.Wait()

	// Fewer groups than workers: each group's checks run beside it.
	overlap = len(jobs) < r.opts.Parallel
	parallel.For(len(jobs), r.opts.Parallel, func(i int) {
		if err := ctx.Err(); err != nil {
			stoppedGroup(jobs[i].out, err)
			return
		}
		start := time.Now()
		jobs[i].run(ctx)
		jobs[i].out.Duration = time.Since(start)
	})
	return res
}

// stoppedGroup fails a group stopped because the run's context ended,
// err (the context's) saying why.
func stoppedGroup(gr *GroupResult, err error) {
	gr.Passed = false
	gr.addError("test run stopped: " + err.Error())
}

// warmRules parses the rule files groups are about to load, each once and
// in parallel, so that the groups, started meanwhile, find them parsed or
// being parsed; every load is served from the loader's cache, errors
// included, so results are unchanged. Only regular files are read ahead: a
// named pipe is read when a group asks for it, as before. With Options.FS
// the files were handed to the loader already.
func (r *Runner) warmRules(files []string) {
	if r.opts.FS != nil || len(files) == 0 {
		return
	}
	seen := make(map[string]bool, len(files))
	var todo []string
	for _, f := range files {
		if seen[f] {
			continue
		}
		seen[f] = true
		if _, preloaded := r.opts.RuleFiles[f]; preloaded {
			continue
		}
		if st, err := os.Stat(f); err == nil && st.Mode().IsRegular() {
			todo = append(todo, f)
		}
	}
	parallel.For(len(todo), r.opts.Parallel, func(i int) {
		// A panic here is left for the group that loads the file to
		// report (runGroup): nothing was cached.
		defer func() { _ = recover() }()
		_, _ = r.loader.LoadFile(todo[i])
	})
}

// mayBeScenario is false when b cannot be a scenario (scenario.IsScenario:
// a mapping with the key "objects"), without decoding the YAML: the text
// does not hold "objects", nor anything that could spell it otherwise (a
// double-quoted escape of a character or of a line break, or a NUL byte of
// UTF-16 text). Decoding a large test file only to find it is not one
// costs as much as reading it.
func mayBeScenario(b []byte) bool {
	if bytes.Contains(b, []byte("objects")) || bytes.IndexByte(b, 0) >= 0 {
		return true
	}
	for i := bytes.IndexByte(b, '\\'); i >= 0 && i+1 < len(b); {
		switch b[i+1] {
		case 'x', 'u', 'U', '\n', '\r', ' ', '\t':
			return true
		case '\\':
			i++ // an escaped backslash: the next one starts afresh
		}
		j := bytes.IndexByte(b[i+1:], '\\')
		if j < 0 {
			break
		}
		i += 1 + j
	}
	return false
}
