package unittest

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/common/model"

	"github.com/gotk-rules/gotk-rules/internal/blockyaml"
	"github.com/gotk-rules/gotk-rules/internal/boundedio"
	"github.com/gotk-rules/gotk-rules/internal/yamlpos"
	"github.com/gotk-rules/gotk-rules/rulefile"
	"github.com/gotk-rules/gotk-rules/unittest/testfile"
)

// loadedFile is a test file read and checked, ready to run.
type loadedFile struct {
	path      string
	tf        *TestFile
	pos       yamlpos.Doc
	ruleFiles []string
	order     []string
	// warnings are the file's own (rule_files patterns matching nothing).
	warnings []Warning
}

// readFile reads a file from the options' file system or the OS, within
// the options' input limits.
func (r *Runner) readFile(path string) ([]byte, error) {
	var b []byte
	var err error
	if r.opts.FS != nil {
		b, err = boundedio.ReadFS(r.opts.FS, path, r.opts.Input)
	} else {
		b, err = boundedio.ReadFile(path, r.opts.Input)
	}
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			return nil, fmt.Errorf("%s: %s: %w", path, pe.Op, pe.Err)
		}
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	// Text the YAML decoders refuse without saying where (invalid UTF-8,
	// a NUL byte, an undefined alias, %YAML 2.0): placed here.
	if m, ok := yamlpos.CheckText(b); ok {
		return nil, errors.New(m.In(path))
	}
	return b, nil
}

// loadFile checks a test file's content and resolves its rule files.
func (r *Runner) loadFile(path string, b []byte) (*loadedFile, error) {
	tf, pos, err := decodeFile(b, r.opts.IgnoreUnknownFields)
	if err != nil {
		return nil, positionedYAMLError(path, b, err)
	}
	lf := &loadedFile{path: path, tf: tf, pos: pos}
	if tf.EvaluationInterval == 0 {
		tf.EvaluationInterval = model.Duration(time.Minute)
	}
	if tf.EvaluationInterval < 0 {
		line, col := lf.pos.At("evaluation_interval")
		return nil, fmt.Errorf("%s:%d:%d: evaluation_interval must be positive", path, line, col)
	}
	seen := map[string]bool{}
	for i, g := range tf.GroupEvalOrder {
		if seen[g] {
			line, col := lf.pos.At("group_eval_order", i)
			return nil, fmt.Errorf("%s:%d:%d: group name repeated in evaluation order: %s", path, line, col, g)
		}
		seen[g] = true
	}
	lf.order = tf.GroupEvalOrder
	base := filepath.Dir(path)
	for i, rf := range tf.RuleFiles {
		if rf != "" && !filepath.IsAbs(rf) {
			rf = filepath.Join(base, rf)
		}
		var m []string
		if r.opts.FS != nil {
			m, err = fs.Glob(r.opts.FS, filepath.ToSlash(rf))
		} else {
			m, err = filepath.Glob(rf)
		}
		line, col := lf.pos.At("rule_files", i)
		if err != nil {
			return nil, fmt.Errorf("%s:%d:%d: rule_files: %w", path, line, col, err)
		}
		if len(m) == 0 {
			// promtool warns, in these words, and goes on without it.
			lf.warnings = append(lf.warnings, Warning{Line: line, Check: CheckRuleFilesUnmatched, Message: "no file match pattern " + rf})
			continue
		}
		if r.opts.FS == nil {
			// A directory stands for the rule files below it.
			if m, err = rulefile.Expand(m); err != nil {
				return nil, fmt.Errorf("%s:%d:%d: rule_files: %w", path, line, col, err)
			}
		}
		lf.ruleFiles = append(lf.ruleFiles, m...)
	}
	if err := r.preloadRules(lf.ruleFiles); err != nil {
		return nil, err
	}
	return lf, nil
}

// decodeFile reads a test file, and where its nodes are. A file in the
// block shape most test files have is read once, into both
// (internal/blockyaml, testfile.DecodeStrict: what promtool's YAML library
// would read); any other, or one DecodeStrict leaves to that library, is
// decoded by the library, the positions coming from a second parse, on
// another core meanwhile.
func decodeFile(b []byte, lenient bool) (*TestFile, yamlpos.Doc, error) {
	if n, ok := blockyaml.Parse(b); ok {
		pos := yamlpos.FromBlock(n)
		// What the strict reading accepts, the lenient one reads alike:
		// they differ only on unknown and repeated fields.
		if tf, ok := testfile.DecodeStrict(n); ok {
			return tf, pos, nil
		}
		tf, err := decode(b, lenient)
		return tf, pos, err
	}
	posc := make(chan yamlpos.Doc, 1)
	go func() { posc <- yamlpos.Parse(b) }()
	tf, err := decode(b, lenient)
	return tf, <-posc, err
}

// preloadRules hands rule files from the options' file system to the loader.
func (r *Runner) preloadRules(files []string) error {
	if r.opts.FS == nil {
		return nil
	}
	for _, rf := range files {
		b, err := boundedio.ReadFS(r.opts.FS, rf, r.opts.Input)
		if err != nil {
			return fmt.Errorf("%s: %w", rf, err)
		}
		r.loader.Preload(rf, b)
	}
	return nil
}

// positionedYAMLError rewrites a YAML error about the source b as one line
// file:line:col: message (see yamlpos.Place).
func positionedYAMLError(path string, b []byte, err error) error {
	var parts []string
	for _, m := range yamlpos.Place(b, yamlpos.Messages(err.Error())) {
		m.Msg = strings.TrimPrefix(m.Msg, "yaml: ")
		parts = append(parts, m.In(path))
	}
	return errors.New(strings.Join(parts, "\n"))
}
