package main

import (
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gotk-rules/gotk-rules/cli"
)

var update = flag.Bool("update", false, "rewrite docs/man")

// manDir is the checked-in pages' directory.
var manDir = filepath.Join("..", "..", "docs", "man")

// flagName finds the flag names in cobra's flag usage text.
var flagName = regexp.MustCompile(`(?m)^\s+(?:-\w, )?--([a-z0-9-]+)`)

var thDate = regexp.MustCompile(`(?m)^\.TH "[^"]*" "1" "([A-Z][a-z]{2} \d{4})" "gotk-rules" "gotk-rules manual"$`)

// readPages returns the *.1 files of dir by name.
func readPages(t *testing.T, dir string) map[string]string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.1"))
	require.NoError(t, err)
	pages := map[string]string{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		pages[filepath.Base(f)] = string(b)
	}
	return pages
}

// TestManPagesUpToDate regenerates the pages with the date the checked-in
// ones carry and requires the same files: run `make man` (or this test with
// -update) after changing a command, flag or help text.
func TestManPagesUpToDate(t *testing.T) {
	if *update {
		require.NoError(t, Generate(manDir, time.Now().UTC()))
	}
	want := readPages(t, manDir)
	require.Contains(t, want, "gotk-rules.1", "no man pages in docs/man: run make man")
	m := thDate.FindStringSubmatch(want["gotk-rules.1"])
	require.NotNil(t, m, "docs/man/gotk-rules.1 has no .TH line with a date")
	date, err := time.Parse("Jan 2006", m[1])
	require.NoError(t, err)

	dir := t.TempDir()
	require.NoError(t, Generate(dir, date))
	got := readPages(t, dir)
	assert.ElementsMatch(t, keys(want), keys(got), "docs/man is out of date: run make man")
	for name, page := range got {
		if w, ok := want[name]; ok {
			assert.Equal(t, w, page, "docs/man/%s is out of date: run make man", name)
		}
	}
}

func keys(m map[string]string) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}

// TestGenerate checks what the pages hold: one per command and completion
// shell, each command's flags, and no page of a command that is gone.
func TestGenerate(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "gotk-rules-gone.1"), []byte("old"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("kept"), 0o644))
	require.NoError(t, Generate(dir, time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)))
	pages := readPages(t, dir)
	assert.NotContains(t, pages, "gotk-rules-gone.1")
	assert.FileExists(t, filepath.Join(dir, "notes.txt"))

	root := cli.NewRootCommand(nil, nil)
	for _, c := range root.Commands() {
		name := "gotk-rules-" + c.Name() + ".1"
		require.Contains(t, pages, name)
		page := pages[name]
		assert.Contains(t, page, `.TH "GOTK-RULES-`+strings.ToUpper(c.Name())+`" "1" "Dec 2026" "gotk-rules" "gotk-rules manual"`)
		flags := flagName.FindAllStringSubmatch(c.LocalFlags().FlagUsages(), -1)
		for _, f := range flags {
			assert.Contains(t, page, `\fB--`+f[1]+`\fP`, "%s: flag --%s", name, f[1])
		}
	}
	for _, shell := range []string{"bash", "zsh", "fish", "powershell"} {
		assert.Contains(t, pages, "gotk-rules-completion-"+shell+".1")
	}
	assert.Contains(t, pages["gotk-rules.1"], `\fB-v\fP, \fB--version\fP`)

	if man, err := exec.LookPath("man"); err == nil {
		// man -l renders a local file; a page it cannot read makes it fail.
		out, err := exec.Command(man, "-l", "-P", "cat", filepath.Join(dir, "gotk-rules-test.1")).CombinedOutput()
		require.NoError(t, err, "%s", out)
		assert.Contains(t, string(out), "gotk-rules test")
	}
}
