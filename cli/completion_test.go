package cli

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestCompletion checks cobra's completion command for every shell: each
// prints its script, naming gotk-rules, and exits 0; the hidden __complete
// command the scripts call completes subcommands and flags.
func TestCompletion(t *testing.T) {
	for shell, marker := range map[string]string{
		"bash":       "complete -o default -F __start_gotk-rules gotk-rules",
		"zsh":        "#compdef gotk-rules",
		"fish":       "complete -c gotk-rules",
		"powershell": "Register-ArgumentCompleter -CommandName 'gotk-rules'",
	} {
		t.Run(shell, func(t *testing.T) {
			code, stdout, stderr := runMain("completion", shell)
			assert.Equal(t, ExitOK, code, stderr)
			assert.Contains(t, stdout, marker)
			assert.Empty(t, stderr)
		})
	}

	code, stdout, _ := runMain("__complete", "ver")
	assert.Equal(t, ExitOK, code)
	assert.Subset(t, strings.Fields(stdout), []string{"verify", "version"}, stdout)

	code, stdout, _ = runMain("__complete", "version", "--for")
	assert.Equal(t, ExitOK, code)
	assert.Contains(t, stdout, "--format")

	// An unknown shell gets the list of known ones.
	code, stdout, _ = runMain("completion", "tcsh")
	assert.Equal(t, ExitOK, code)
	for _, shell := range []string{"bash", "zsh", "fish", "powershell"} {
		assert.Regexp(t, `(?m)^\s+`+shell+`\s+Generate the autocompletion script for `+shell, stdout)
	}
}
