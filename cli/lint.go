package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/gotk-rules/gotk-rules/internal/boundedio"
	"github.com/gotk-rules/gotk-rules/internal/yamlpos"
	"github.com/gotk-rules/gotk-rules/lint"
	"github.com/gotk-rules/gotk-rules/lint/checks"
	"github.com/gotk-rules/gotk-rules/lint/report"
	"github.com/gotk-rules/gotk-rules/rulefile"
)

// docURL is where the check pages are published (SARIF helpUri).
const docURL = "https://github.com/gotk-rules/gotk-rules/blob/main/docs/checks/"

type lintFlags struct {
	format              string
	failOn              string
	config              string
	color               string
	stdinName           string
	ignoreUnknownFields bool
	listChecks          bool
}

func newLintCommand(g *globals) *cobra.Command {
	var f lintFlags
	cmd := &cobra.Command{
		Use:   "lint PATH...",
		Short: "Check rule files: promtool's checks, semantic PromQL checks and Flux-aware checks",
		Long: `Check rule files offline: everything promtool check rules reports, then
semantic checks of each expression, template and group, and checks that know
Flux's metrics. Each finding has a place (file:line:col, inside expressions
too), a check name (area/name) and a severity (info, warning, error).

PATH is a file, a directory (every *.yml and *.yaml below it), a glob, or - for
standard input. Files may be plain rule files, multi-document YAML or
PrometheusRule objects; other Kubernetes objects and promtool unit test files
are skipped, so a directory of manifests, or of rules and tests, lints as is.

Checks are configured in .gotk-rules.yaml (in the current directory, or
--config) and suppressed in a file with a comment:
  # gotk-rules: disable=area/name[,area/name...]
on or right above a rule or group covers it; before the file's first line of
YAML it covers the file. A suppression that suppresses nothing is reported.

Exit codes: 0 nothing reaches --fail-on, 1 a finding does, 2 an input cannot be
read, a bad flag or a bad configuration.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runLint(g, cmd, &f, args)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.format, "format", "text", "output format: "+strings.Join(report.Formats, ", "))
	fl.StringVar(&f.failOn, "fail-on", "warning", "exit 1 when a finding is at least this severe: info, warning, error or never")
	fl.StringVar(&f.config, "config", "", "configuration file (default: "+lint.ConfigFile+" in the current directory, if any)")
	fl.StringVar(&f.color, "color", "auto", "colour the text format: auto (when writing to a terminal), always or never")
	fl.StringVar(&f.stdinName, "stdin-filename", "<stdin>", "the name of standard input (-) in findings")
	fl.BoolVar(&f.ignoreUnknownFields, "ignore-unknown-fields", false, "accept fields Prometheus does not know in rule files")
	fl.BoolVar(&f.listChecks, "list-checks", false, "list every check with its severity and whether it is enabled, and exit")
	return cmd
}

func runLint(g *globals, cmd *cobra.Command, f *lintFlags, args []string) error {
	if !contains(report.Formats, f.format) {
		return badInput(fmt.Errorf("--format %q: want one of %s", f.format, strings.Join(report.Formats, ", ")))
	}
	failOn := lint.Severity(0)
	if f.failOn != "never" {
		s, err := lint.ParseSeverity(f.failOn)
		if err != nil {
			return badInput(fmt.Errorf("--fail-on: %w, or never", err))
		}
		failOn = s
	}
	color, err := useColor(f.color, g.stdout)
	if err != nil {
		return badInput(err)
	}
	cfg, err := loadLintConfig(f.config, g.input)
	if err != nil {
		return badInput(err)
	}
	linter, err := lint.New(lint.Options{
		Parser:              g.engine().Parser(),
		IgnoreUnknownFields: f.ignoreUnknownFields,
		Config:              cfg,
		Checks:              checks.All(),
	})
	if err != nil {
		return badInput(err)
	}
	if f.listChecks {
		return listChecks(g.stdout, linter)
	}
	if len(args) == 0 {
		return badInput(errors.New("lint: no PATH given (- reads standard input)"))
	}

	inputs, readErrs := readLintInputs(args, cmd.InOrStdin(), f.stdinName, g.input)
	results := linter.LintAll(inputs)
	var findings []lint.Finding
	counts := map[lint.Severity]int{}
	failed := false
	for _, fs := range results {
		for _, fd := range fs {
			findings = append(findings, fd)
			counts[fd.Severity]++
			if failOn > 0 && fd.Severity >= failOn {
				failed = true
			}
		}
	}
	files := make([]string, len(inputs))
	content := map[string][]string{}
	for i, in := range inputs {
		files[i] = in.Path
		content[in.Path] = strings.Split(strings.ReplaceAll(string(in.Content), "\r\n", "\n"), "\n")
	}
	err = report.Write(g.stdout, f.format, findings, report.Options{
		Files:    files,
		Checks:   linter.Checks(),
		Severity: linter.Enabled,
		DocURL:   docURL,
		Color:    color,
		Lines: func(file string, n int) string {
			if ls := content[file]; n >= 1 && n <= len(ls) {
				return ls[n-1]
			}
			return ""
		},
	})
	if err != nil {
		return err
	}
	if len(readErrs) > 0 {
		// The error is the one line on stderr; the summary would be a second.
		return badInput(errors.Join(readErrs...))
	}
	fmt.Fprintf(g.stderr, "%d %s linted: %s\n", len(inputs), plural(len(inputs), "file", "files"), summary(counts))
	if failed {
		return &exitError{code: ExitFailed}
	}
	return nil
}

// readLintInputs expands the arguments and reads every file; what cannot be
// read is returned as errors, the rest is linted.
// Every input is bounded (limits); a file that is not YAML text (invalid
// UTF-8, a NUL byte) is an error with its position, and so is a directory
// that holds no rule file.
func readLintInputs(args []string, stdin io.Reader, stdinName string, limits boundedio.Limits) ([]lint.Input, []error) {
	var inputs []lint.Input
	var errs []error
	seen := map[string]bool{}
	for _, a := range args {
		if a == "-" {
			if seen["-"] {
				continue
			}
			seen["-"] = true
			b, err := boundedio.ReadAll(stdin, stdinName, limits)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", stdinName, unwrapPath(err)))
				continue
			}
			if m, bad := yamlpos.CheckText(b); bad {
				errs = append(errs, errors.New(m.In(stdinName)))
				continue
			}
			inputs = append(inputs, lint.Input{Path: stdinName, Content: b})
			continue
		}
		paths, err := rulefile.Expand([]string{a})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if len(paths) == 0 {
			errs = append(errs, fmt.Errorf("%s: the directory holds no rule file (*.yml, *.yaml)", a))
			continue
		}
		for _, p := range paths {
			if seen[p] {
				continue
			}
			seen[p] = true
			b, err := boundedio.ReadFile(p, limits)
			if err != nil {
				var pe *os.PathError
				if errors.As(err, &pe) {
					err = fmt.Errorf("%s: %s: %w", p, pe.Op, pe.Err)
				}
				errs = append(errs, err)
				continue
			}
			if m, bad := yamlpos.CheckText(b); bad {
				errs = append(errs, errors.New(m.In(p)))
				continue
			}
			inputs = append(inputs, lint.Input{Path: p, Content: b})
		}
	}
	return inputs, errs
}

func loadLintConfig(path string, limits boundedio.Limits) (*lint.Config, error) {
	if path != "" {
		return lint.LoadConfigWithin(path, limits)
	}
	if _, err := os.Stat(lint.ConfigFile); err != nil {
		return nil, nil
	}
	return lint.LoadConfigWithin(lint.ConfigFile, limits)
}

// unwrapPath returns the cause of a *os.PathError, for messages that name
// the file themselves.
func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// useColor decides whether the text output is coloured.
func useColor(mode string, w io.Writer) (bool, error) {
	switch mode {
	case "always":
		return true, nil
	case "never":
		return false, nil
	case "auto":
		if os.Getenv("NO_COLOR") != "" || os.Getenv("TERM") == "dumb" {
			return false, nil
		}
		file, ok := w.(*os.File)
		if !ok {
			return false, nil
		}
		st, err := file.Stat()
		return err == nil && st.Mode()&os.ModeCharDevice != 0, nil
	}
	return false, fmt.Errorf("--color %q: want auto, always or never", mode)
}

func listChecks(w io.Writer, l *lint.Linter) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CHECK\tSEVERITY\tSUMMARY")
	for _, m := range l.Checks() {
		sev, on := l.Enabled(m.Name)
		state := sev.String()
		if !on {
			state = "off"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", m.Name, state, m.Summary)
	}
	return tw.Flush()
}

func summary(counts map[lint.Severity]int) string {
	total := counts[lint.Error] + counts[lint.Warning] + counts[lint.Info]
	if total == 0 {
		return "no findings"
	}
	var parts []string
	for _, s := range []lint.Severity{lint.Error, lint.Warning, lint.Info} {
		if n := counts[s]; n > 0 {
			name := s.String()
			if s != lint.Info {
				name = plural(n, name, name+"s")
			}
			parts = append(parts, fmt.Sprintf("%d %s", n, name))
		}
	}
	return fmt.Sprintf("%d %s (%s)", total, plural(total, "finding", "findings"), strings.Join(parts, ", "))
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
