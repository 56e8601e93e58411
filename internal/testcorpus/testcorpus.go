// Package testcorpus finds the YAML files that tests compare gotk-rules'
// readers on with the libraries they stand in for: the repository's own and
// the conformance corpus beside it.
package testcorpus

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// ConformanceDir is the conformance corpus of the repository at root:
// GOTK_CONFORMANCE_DIR, or shared/conformance beside the repository; ""
// when there is none.
func ConformanceDir(root string) string {
	if d := os.Getenv("GOTK_CONFORMANCE_DIR"); d != "" {
		return d
	}
	d := filepath.Join(root, "..", "shared", "conformance")
	if _, err := os.Stat(d); err != nil {
		return ""
	}
	return d
}

// YAMLFiles lists the .yml and .yaml files under the repository at root
// and under its conformance corpus, when there is one; version control and
// package manager directories are skipped.
func YAMLFiles(root string) []string {
	var files []string
	for _, dir := range []string{root, ConformanceDir(root)} {
		if dir == "" {
			continue
		}
		_ = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return nil // unreadable: not part of the corpus
			}
			if d.IsDir() && (d.Name() == ".git" || d.Name() == "node_modules") {
				return filepath.SkipDir
			}
			if !d.IsDir() && (strings.HasSuffix(path, ".yml") || strings.HasSuffix(path, ".yaml")) {
				files = append(files, path)
			}
			return nil
		})
	}
	return files
}
