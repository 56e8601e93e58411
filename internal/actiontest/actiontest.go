// Package actiontest runs a composite GitHub Action's steps the way a runner
// does, without a runner: each run: step is a bash script (bash --noprofile
// --norc -eo pipefail, as the runner's shell: bash), its env: with the
// ${{ }} expressions the action uses resolved from the inputs, the github
// context and earlier steps' outputs; GITHUB_OUTPUT, GITHUB_PATH and
// RUNNER_* are files and values of a temporary runner. uses: steps are
// recorded with their resolved with: but not run (they are other
// repositories' actions).
//
// It knows the small part of the expression language that gotk-rules'
// action.yml uses: inputs.X, github.X, steps.ID.outputs.X and runner.X
// references, 'string' literals, == and !=, && and always(). Anything else is
// an error, so the action stays within what is tested here.
package actiontest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Action is the part of an action.yml the runner reads.
type Action struct {
	Name   string           `yaml:"name"`
	Inputs map[string]Input `yaml:"inputs"`
	Runs   struct {
		Using string `yaml:"using"`
		Steps []Step `yaml:"steps"`
	} `yaml:"runs"`
}

// Input is an action input.
type Input struct {
	Description string `yaml:"description"`
	Required    bool   `yaml:"required"`
	Default     string `yaml:"default"`
}

// Step is a composite action step: a run: script or a uses: action.
type Step struct {
	ID    string            `yaml:"id"`
	Name  string            `yaml:"name"`
	If    string            `yaml:"if"`
	Shell string            `yaml:"shell"`
	Run   string            `yaml:"run"`
	Uses  string            `yaml:"uses"`
	With  map[string]string `yaml:"with"`
	Env   map[string]string `yaml:"env"`
}

// Load reads an action.yml.
func Load(path string) (*Action, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read action: %w", err)
	}
	var a Action
	if err := yaml.Unmarshal(b, &a); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if a.Runs.Using != "composite" {
		return nil, fmt.Errorf("%s: runs.using is %q, not composite", path, a.Runs.Using)
	}
	return &a, nil
}

// Runner is a fake GitHub Actions runner for one job.
type Runner struct {
	// ActionPath is the action's directory (github.action_path).
	ActionPath string
	// Workspace is the directory steps run in (GITHUB_WORKSPACE).
	Workspace string
	// Temp is RUNNER_TEMP; the runner's files (GITHUB_OUTPUT...) go there too.
	Temp string
	// Inputs are the with: of the step that uses the action; inputs left
	// out take their defaults.
	Inputs map[string]string
	// Github is the github context (action_ref, job...).
	Github map[string]string
	// Env is added to every step's environment (after the runner's own).
	Env []string
}

// StepResult is what one step did.
type StepResult struct {
	Step Step
	// Skipped is true when the step's if: was false.
	Skipped bool
	// Err is the script's failure (an *exec.ExitError for a non-zero exit).
	Err error
	// Output is the script's stdout and stderr.
	Output string
	// Outputs are what the step wrote to GITHUB_OUTPUT.
	Outputs map[string]string
	// With is a uses: step's resolved with:.
	With map[string]string
}

// Failed reports whether the step ran and failed.
func (r StepResult) Failed() bool { return !r.Skipped && r.Err != nil }

// Result is a run of every step.
type Result struct {
	Steps []StepResult
	// Path are the directories the steps added to GITHUB_PATH.
	Path []string
}

// Step returns the result of the step with this id, or nil.
func (r *Result) Step(id string) *StepResult {
	for i := range r.Steps {
		if r.Steps[i].Step.ID == id {
			return &r.Steps[i]
		}
	}
	return nil
}

// Uses returns the results of the uses: steps of this action (owner/repo,
// without the @ref), in order.
func (r *Result) Uses(action string) []StepResult {
	var out []StepResult
	for _, s := range r.Steps {
		if name, _, _ := strings.Cut(s.Step.Uses, "@"); name == action && s.Step.Uses != "" {
			out = append(out, s)
		}
	}
	return out
}

// Failed reports whether a step failed, and the first that did.
func (r *Result) Failed() (*StepResult, bool) {
	for i := range r.Steps {
		if r.Steps[i].Failed() {
			return &r.Steps[i], true
		}
	}
	return nil, false
}

// RunnerOS is RUNNER_OS for this machine's GOOS.
func RunnerOS() string {
	switch runtime.GOOS {
	case "darwin":
		return "macOS"
	case "windows":
		return "Windows"
	}
	return "Linux"
}

// RunnerArch is RUNNER_ARCH for this machine's GOARCH.
func RunnerArch() string {
	switch runtime.GOARCH {
	case "amd64":
		return "X64"
	case "arm64":
		return "ARM64"
	case "386":
		return "X86"
	case "arm":
		return "ARM"
	}
	return runtime.GOARCH
}

// Run runs the action's steps in order, as the runner would: a step whose
// if: has no always() runs only while every earlier step succeeded.
func (rn *Runner) Run(a *Action) (*Result, error) {
	for name := range rn.Inputs {
		if _, ok := a.Inputs[name]; !ok {
			return nil, fmt.Errorf("input %q: the action has no such input", name)
		}
	}
	if err := os.MkdirAll(rn.Temp, 0o755); err != nil {
		return nil, err
	}
	pathFile := filepath.Join(rn.Temp, "_github_path")
	envFile := filepath.Join(rn.Temp, "_github_env")
	for _, f := range []string{pathFile, envFile} {
		if err := os.WriteFile(f, nil, 0o644); err != nil {
			return nil, err
		}
	}
	ctx := &evalContext{runner: rn, action: a, outputs: map[string]map[string]string{}}
	res := &Result{}
	failed := false
	for i, st := range a.Runs.Steps {
		sr := StepResult{Step: st}
		run, err := ctx.condition(st.If, failed)
		if err != nil {
			return nil, fmt.Errorf("step %d (%s) if: %w", i+1, st.Name, err)
		}
		if !run {
			sr.Skipped = true
			res.Steps = append(res.Steps, sr)
			continue
		}
		if st.Uses != "" {
			sr.With = map[string]string{}
			for k, v := range st.With {
				if sr.With[k], err = ctx.interpolate(v); err != nil {
					return nil, fmt.Errorf("step %d (%s) with.%s: %w", i+1, st.Name, k, err)
				}
			}
			res.Steps = append(res.Steps, sr)
			continue
		}
		if st.Shell != "bash" {
			return nil, fmt.Errorf("step %d (%s): shell %q, want bash", i+1, st.Name, st.Shell)
		}
		if strings.Contains(st.Run, "${{") {
			return nil, fmt.Errorf("step %d (%s): an expression inside run: (pass it through env:)", i+1, st.Name)
		}
		outFile := filepath.Join(rn.Temp, fmt.Sprintf("_github_output_%d", i))
		if err := os.WriteFile(outFile, nil, 0o644); err != nil {
			return nil, err
		}
		script := filepath.Join(rn.Temp, fmt.Sprintf("_step_%d.sh", i))
		if err := os.WriteFile(script, []byte(st.Run), 0o644); err != nil {
			return nil, err
		}
		env := append(os.Environ(), rn.Env...)
		env = append(env,
			"GITHUB_ACTIONS=true",
			"CI=true",
			"GITHUB_OUTPUT="+outFile,
			"GITHUB_PATH="+pathFile,
			"GITHUB_ENV="+envFile,
			"GITHUB_WORKSPACE="+rn.Workspace,
			"GITHUB_ACTION_PATH="+rn.ActionPath,
			"GITHUB_JOB="+rn.Github["job"],
			"RUNNER_TEMP="+rn.Temp,
			"RUNNER_OS="+RunnerOS(),
			"RUNNER_ARCH="+RunnerArch(),
			"PATH="+strings.Join(append(reversed(res.Path), os.Getenv("PATH")), string(os.PathListSeparator)),
		)
		for k, v := range st.Env {
			val, err := ctx.interpolate(v)
			if err != nil {
				return nil, fmt.Errorf("step %d (%s) env.%s: %w", i+1, st.Name, k, err)
			}
			env = append(env, k+"="+val)
		}
		cmd := exec.Command("bash", "--noprofile", "--norc", "-eo", "pipefail", script)
		cmd.Dir = rn.Workspace
		cmd.Env = env
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		sr.Err = cmd.Run()
		sr.Output = out.String()
		if sr.Outputs, err = readOutputs(outFile); err != nil {
			return nil, fmt.Errorf("step %d (%s): %w", i+1, st.Name, err)
		}
		if st.ID != "" {
			ctx.outputs[st.ID] = sr.Outputs
		}
		if sr.Err != nil {
			failed = true
		}
		if res.Path, err = readLines(pathFile); err != nil {
			return nil, err
		}
		res.Steps = append(res.Steps, sr)
	}
	return res, nil
}

// reversed returns the GITHUB_PATH entries in PATH order: the last added
// comes first.
func reversed(s []string) []string {
	out := make([]string, len(s))
	for i, v := range s {
		out[len(s)-1-i] = v
	}
	return out
}

func readLines(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			out = append(out, l)
		}
	}
	return out, sc.Err()
}

// readOutputs parses a GITHUB_OUTPUT file of name=value lines (the
// multi-line name<<DELIMITER form is refused: the action does not use it).
func readOutputs(path string) (map[string]string, error) {
	lines, err := readLines(path)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, l := range lines {
		k, v, ok := strings.Cut(l, "=")
		if !ok || strings.Contains(k, "<<") {
			return nil, fmt.Errorf("GITHUB_OUTPUT line %q: want name=value", l)
		}
		out[k] = v
	}
	return out, nil
}

// evalContext resolves expressions.
type evalContext struct {
	runner  *Runner
	action  *Action
	outputs map[string]map[string]string
}

var exprRE = regexp.MustCompile(`\$\{\{\s*(.*?)\s*\}\}`)

// interpolate replaces each ${{ reference }} in s.
func (c *evalContext) interpolate(s string) (string, error) {
	var firstErr error
	out := exprRE.ReplaceAllStringFunc(s, func(m string) string {
		v, err := c.value(exprRE.FindStringSubmatch(m)[1])
		if err != nil && firstErr == nil {
			firstErr = err
		}
		return v
	})
	return out, firstErr
}

var refRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.-]*$`)

// value evaluates a reference or a 'string' literal.
func (c *evalContext) value(expr string) (string, error) {
	expr = strings.TrimSpace(expr)
	if len(expr) >= 2 && expr[0] == '\'' && expr[len(expr)-1] == '\'' {
		return strings.ReplaceAll(expr[1:len(expr)-1], "''", "'"), nil
	}
	if !refRE.MatchString(expr) {
		return "", fmt.Errorf("expression %q: only references and 'strings' are supported", expr)
	}
	parts := strings.Split(expr, ".")
	switch {
	case parts[0] == "inputs" && len(parts) == 2:
		in, ok := c.action.Inputs[parts[1]]
		if !ok {
			return "", fmt.Errorf("%s: no such input", expr)
		}
		if v, ok := c.runner.Inputs[parts[1]]; ok {
			return v, nil
		}
		return c.interpolate(in.Default)
	case parts[0] == "github" && len(parts) == 2:
		if parts[1] == "action_path" {
			return c.runner.ActionPath, nil
		}
		if parts[1] == "workspace" {
			return c.runner.Workspace, nil
		}
		return c.runner.Github[parts[1]], nil
	case parts[0] == "runner" && len(parts) == 2:
		switch parts[1] {
		case "temp":
			return c.runner.Temp, nil
		case "os":
			return RunnerOS(), nil
		case "arch":
			return RunnerArch(), nil
		}
	case parts[0] == "steps" && len(parts) == 4 && parts[2] == "outputs":
		found := false
		for _, st := range c.action.Runs.Steps {
			found = found || st.ID == parts[1]
		}
		if !found {
			return "", fmt.Errorf("%s: no step has id %s", expr, parts[1])
		}
		return c.outputs[parts[1]][parts[3]], nil
	}
	return "", fmt.Errorf("expression %q: unsupported reference", expr)
}

// condition evaluates an if: (a && of always(), A == B and A != B, with the
// ${{ }} optional as on GitHub). Without always(), a step runs only while
// no earlier step failed.
func (c *evalContext) condition(cond string, failed bool) (bool, error) {
	cond = strings.TrimSpace(cond)
	if m := exprRE.FindStringSubmatch(cond); m != nil && m[0] == cond {
		cond = m[1]
	}
	if cond == "" {
		return !failed, nil
	}
	if strings.Contains(cond, "||") || strings.Contains(cond, "!(") {
		return false, errors.New("only && of comparisons and always() is supported")
	}
	always := false
	result := true
	for _, term := range strings.Split(cond, "&&") {
		term = strings.TrimSpace(term)
		switch {
		case term == "always()":
			always = true
		case term == "success()":
		case strings.Contains(term, "!="), strings.Contains(term, "=="):
			op := "=="
			if strings.Contains(term, "!=") {
				op = "!="
			}
			l, r, _ := strings.Cut(term, op)
			lv, err := c.value(l)
			if err != nil {
				return false, err
			}
			rv, err := c.value(r)
			if err != nil {
				return false, err
			}
			if (lv == rv) != (op == "==") {
				result = false
			}
		default:
			return false, fmt.Errorf("term %q: only always(), success(), == and != are supported", term)
		}
	}
	if failed && !always {
		return false, nil
	}
	return result, nil
}
