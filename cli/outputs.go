package cli

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"go.yaml.in/yaml/v3"

	"github.com/gotk-rules/gotk-rules/budget"
	"github.com/gotk-rules/gotk-rules/internal/boundedio"
	"github.com/gotk-rules/gotk-rules/internal/yamlpos"
	"github.com/gotk-rules/gotk-rules/rulefile"
)

// outputFlags are the flags, in any command, that name a file the command
// writes.
var outputFlags = []string{"cpuprofile", "memprofile", "junit", "output", "svg", "html", "cover-out"}

// inputFlags are the flags, in any command, that name files the command
// reads.
var inputFlags = []string{"rules", "input", "config", "bearer-token-file", "tls-ca-file", "tls-cert-file", "tls-key-file", "tests", "scenario"}

// ruleFileCommands are the commands whose arguments are test or scenario
// files naming rule files (rule_files), inputs too (mutate's --output may
// not overwrite them either).
var ruleFileCommands = map[string]bool{"test": true, "replay": true, "gen": true, "mutate": true}

// checkOutputs refuses an output flag naming a file that is an input of the
// command: an argument, a file an input flag names, or a rule file a test or
// scenario file names. Files are compared after symbolic links (the same
// file, os.SameFile) and as cleaned absolute paths. It opens nothing for
// writing: commands call it before they write.
func checkOutputs(cmd *cobra.Command, args []string, limits boundedio.Limits) error {
	type output struct{ flag, path string }
	var outs []output
	for _, name := range outputFlags {
		if fl := cmd.Flags().Lookup(name); fl != nil && fl.Value.String() != "" {
			label := "--" + name
			if fl.Shorthand != "" {
				label = "-" + fl.Shorthand + "/" + label
			}
			outs = append(outs, output{label, fl.Value.String()})
		}
	}
	if len(outs) == 0 {
		return nil
	}
	for _, o := range outs {
		if err := checkOutputPlace(o.flag, o.path); err != nil {
			return err
		}
	}
	inputs := commandInputs(cmd, args, limits)
	for _, o := range outs {
		for _, in := range inputs {
			if sameFile(o.path, in) {
				return fmt.Errorf("%s %s: the same file as the input %s; refusing to overwrite an input", o.flag, o.path, in)
			}
		}
	}
	return nil
}

// checkOutputPlace refuses, before anything is computed or written, an
// output path the file cannot be written to: an existing directory, or a
// path whose parent directory does not exist (or is no directory).
func checkOutputPlace(flag, path string) error {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return fmt.Errorf("%s %s: is a directory", flag, path)
	}
	parent := filepath.Dir(path)
	st, err := os.Stat(parent)
	switch {
	case err != nil && os.IsNotExist(err):
		return fmt.Errorf("%s %s: parent directory does not exist", flag, path)
	case err != nil:
		return fmt.Errorf("%s %s: parent directory: %w", flag, path, err)
	case !st.IsDir():
		return fmt.Errorf("%s %s: parent %s is not a directory", flag, path, parent)
	}
	return nil
}

// commandInputs lists the files a command reads: its arguments (globs and
// directories expanded), its input flags' files and, for test, replay and
// gen, the rule files their regular files name.
func commandInputs(cmd *cobra.Command, args []string, limits boundedio.Limits) []string {
	var inputs []string
	add := func(p string) {
		if p == "" || p == "-" {
			return
		}
		inputs = append(inputs, p)
		if m, err := rulefile.Expand([]string{p}); err == nil {
			inputs = append(inputs, m...)
		}
	}
	for _, a := range args {
		add(a)
	}
	for _, name := range inputFlags {
		fl := cmd.Flags().Lookup(name)
		if fl == nil {
			continue
		}
		for _, v := range flagValues(fl) {
			add(v)
		}
	}
	if ruleFileCommands[cmd.Name()] {
		for _, a := range args {
			for _, rf := range namedRuleFiles(a, limits) {
				add(rf)
			}
		}
	}
	return inputs
}

// flagValues returns a flag's values: each of a repeatable flag's.
func flagValues(fl *pflag.Flag) []string {
	if sv, ok := fl.Value.(pflag.SliceValue); ok {
		return sv.GetSlice()
	}
	return []string{fl.Value.String()}
}

// namedRuleFiles returns the rule_files a test or scenario file names
// (readRuleFiles), relative to it and globs expanded.
func namedRuleFiles(path string, limits boundedio.Limits) []string {
	ruleFiles, _, _ := readRuleFiles(path, limits)
	var out []string
	for _, rf := range ruleFiles {
		if rf != "" && !filepath.IsAbs(rf) {
			rf = filepath.Join(filepath.Dir(path), rf)
		}
		if strings.ContainsAny(rf, "*?[") {
			m, _ := filepath.Glob(rf)
			out = append(out, m...)
			continue
		}
		out = append(out, rf)
	}
	return out
}

// sameFile says whether two paths name the same file: the same cleaned
// absolute path, the same path after symbolic links, or the same file
// (os.SameFile, hard links included).
func sameFile(a, b string) bool {
	absA, errA := filepath.Abs(a)
	absB, errB := filepath.Abs(b)
	if errA == nil && errB == nil && absA == absB {
		return true
	}
	if ra, err := filepath.EvalSymlinks(a); err == nil {
		if rb, err := filepath.EvalSymlinks(b); err == nil {
			if ra, err := filepath.Abs(ra); err == nil {
				if rb, err := filepath.Abs(rb); err == nil && ra == rb {
					return true
				}
			}
		}
	}
	sa, errA := os.Stat(a)
	sb, errB := os.Stat(b)
	return errA == nil && errB == nil && os.SameFile(sa, sb)
}

// checkTestFlags refuses test's numeric flags out of range: a budget of
// zero would silently mean the default, --parallel 0 no group at all.
func checkTestFlags(f *testFlags) error {
	switch {
	case f.parallelSet && f.parallel < 1:
		return fmt.Errorf("--parallel %d: want at least 1 (leave it out for the number of CPUs)", f.parallel)
	case f.maxSamples < 1:
		return fmt.Errorf("--max-samples %d: want at least 1", f.maxSamples)
	case f.maxSeries < 1:
		return fmt.Errorf("--max-series %d: want at least 1", f.maxSeries)
	case f.maxEvals < 1:
		return fmt.Errorf("--max-evals %d: want at least 1", f.maxEvals)
	}
	return nil
}

// warnEmptyRuleDirs warns, on w, of each directory a test file's
// rule_files names that holds no rule file (*.yml, *.yaml): promtool treats
// a pattern that matches nothing as a warning, and so is this, but it
// should not go unnoticed. Only regular test files are read here.
func warnEmptyRuleDirs(w io.Writer, files []string, limits boundedio.Limits) {
	for _, path := range files {
		ruleFiles, block, first := readRuleFiles(path, limits)
		for i, rf := range ruleFiles {
			dir := rf
			if dir != "" && !filepath.IsAbs(dir) {
				dir = filepath.Join(filepath.Dir(path), dir)
			}
			if st, err := os.Stat(dir); err != nil || !st.IsDir() {
				continue
			}
			if m, err := rulefile.Expand([]string{dir}); err == nil && len(m) == 0 {
				line, col := yamlpos.Parse(block).At("rule_files", i)
				line += first - 1
				fmt.Fprintf(w, "warning: %s:%d:%d: rule_files: directory %q holds no rule file (*.yml, *.yaml)\n", path, line, col, rf)
			}
		}
	}
}

// The range of replay's --width: narrower, the timeline has no room;
// wider, a row alone takes memory for nothing.
const (
	minTextWidth = 40
	maxTextWidth = 10_000
)

// The range of --picture-width, in pixels.
const (
	minPictureWidth = 480
	maxPictureWidth = 100_000
)

// check refuses scenario budgets of zero, which would silently mean the
// defaults.
func (f *scenarioFlags) check() error {
	switch {
	case f.maxSeries < 1:
		return fmt.Errorf("--max-series %d: want at least 1", f.maxSeries)
	case f.maxSamples < 1:
		return fmt.Errorf("--max-samples %d: want at least 1", f.maxSamples)
	}
	return nil
}

// check refuses a --picture-width out of range.
func (p *pictureFlags) check() error {
	if p.width < minPictureWidth || p.width > maxPictureWidth {
		return fmt.Errorf("--picture-width %d: want %d to %d", p.width, minPictureWidth, maxPictureWidth)
	}
	return nil
}

// maxBodyKiB is the most serve's --max-body may be, in KiB: 1 GiB.
const maxBodyKiB = 1 << 20

// readRuleFiles returns the rule_files a test or scenario file names, as
// written, and the text of that top-level key, from its line (first) on.
// The file is read line by line up to the end of the key's block, not
// parsed whole: a test file may be large, and the command reads it anyway.
// Only a regular file is read (a named pipe read here would be empty when
// the command reads it); what cannot be read or parsed gives nothing, for
// the command to report.
func readRuleFiles(path string, limits boundedio.Limits) (files []string, block []byte, first int) {
	if st, err := os.Stat(path); err != nil || !st.Mode().IsRegular() {
		return nil, nil, 0
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, 0
	}
	defer f.Close()
	limit := limits.Bytes
	if limit <= 0 {
		limit = budget.DefaultInputBytes
	}
	sc := bufio.NewScanner(io.LimitReader(f, limit))
	sc.Buffer(nil, int(min(limit, 1<<30)))
	var buf bytes.Buffer
	for n := 1; sc.Scan(); n++ {
		line := sc.Bytes()
		if first == 0 {
			if ruleFilesKey.Match(line) {
				first = n
				buf.Write(line)
				buf.WriteByte('\n')
			}
			continue
		}
		// The block ends at the next line starting at column 0 (another
		// key, or a document marker), comments and list items aside.
		if len(line) > 0 && !strings.ContainsRune(" \t-#", rune(line[0])) {
			break
		}
		buf.Write(line)
		buf.WriteByte('\n')
	}
	if first == 0 {
		return nil, nil, 0
	}
	var doc struct {
		RuleFiles []string `yaml:"rule_files"`
	}
	if yaml.Unmarshal(buf.Bytes(), &doc) != nil {
		return nil, nil, 0
	}
	return doc.RuleFiles, buf.Bytes(), first
}

// ruleFilesKey matches the line of a top-level rule_files key.
var ruleFilesKey = regexp.MustCompile(`^rule_files\s*:`)
