// Command mangen writes gotk-rules' man pages, section 1, one per command
// (gotk-rules.1, gotk-rules-test.1, ...), from the cobra command tree, so
// they say exactly what the commands' help says.
//
//	go run ./internal/mangen [-dir docs/man] [-date 2026-12-05]
//
// `make man` runs it; a test requires the pages in docs/man to be current.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra/doc"

	"github.com/gotk-rules/gotk-rules/cli"
)

// Generate writes every command's man page into dir, created if need be,
// dated date (man pages show the month). It removes the *.1 files of
// commands that no longer exist.
func Generate(dir string, date time.Time) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", dir, err)
	}
	old, err := filepath.Glob(filepath.Join(dir, "*.1"))
	if err != nil {
		return err
	}
	for _, f := range old {
		if err := os.Remove(f); err != nil {
			return fmt.Errorf("removing %s: %w", f, err)
		}
	}
	root := cli.NewRootCommand(io.Discard, io.Discard)
	// Cobra adds these when a command line runs; the pages document them too.
	root.InitDefaultCompletionCmd()
	root.DisableAutoGenTag = true
	header := &doc.GenManHeader{
		Section: "1",
		Date:    &date,
		Source:  "gotk-rules",
		Manual:  "gotk-rules manual",
	}
	if err := doc.GenManTree(root, header, dir); err != nil {
		return fmt.Errorf("writing man pages into %s: %w", dir, err)
	}
	return nil
}

func main() {
	dir := flag.String("dir", filepath.Join("docs", "man"), "directory to write the pages into")
	day := flag.String("date", "", "date on the pages, YYYY-MM-DD (default: today, or SOURCE_DATE_EPOCH)")
	flag.Parse()
	date := time.Now()
	if s := os.Getenv("SOURCE_DATE_EPOCH"); s != "" {
		var sec int64
		if _, err := fmt.Sscan(s, &sec); err != nil {
			fmt.Fprintf(os.Stderr, "mangen: SOURCE_DATE_EPOCH %q: want seconds since 1970\n", s)
			os.Exit(2)
		}
		date = time.Unix(sec, 0)
	}
	if *day != "" {
		d, err := time.Parse(time.DateOnly, *day)
		if err != nil {
			fmt.Fprintf(os.Stderr, "mangen: -date %q: want YYYY-MM-DD\n", *day)
			os.Exit(2)
		}
		date = d
	}
	if err := Generate(*dir, date.UTC()); err != nil {
		fmt.Fprintln(os.Stderr, "mangen:", err)
		os.Exit(1)
	}
}
