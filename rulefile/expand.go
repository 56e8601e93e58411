package rulefile

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Expand turns command-line arguments into rule file paths: a directory
// stands for every *.yml and *.yaml file below it, a pattern with * ? or [
// for the files it matches. A pattern that matches nothing is an error.
func Expand(args []string) ([]string, error) {
	var out []string
	for _, a := range args {
		switch {
		case strings.ContainsAny(a, "*?["):
			m, err := filepath.Glob(a)
			if err != nil {
				return nil, fmt.Errorf("%s: bad pattern: %w", a, err)
			}
			if len(m) == 0 {
				return nil, fmt.Errorf("%s: pattern matches no file", a)
			}
			out = append(out, m...)
		default:
			st, err := os.Stat(a)
			if err != nil {
				return nil, fmt.Errorf("%s: %s", a, readError(err))
			}
			if !st.IsDir() {
				out = append(out, a)
				continue
			}
			var found []string
			err = filepath.WalkDir(a, func(p string, d fs.DirEntry, err error) error {
				if err != nil {
					return err
				}
				if !d.IsDir() && IsYAML(p) {
					found = append(found, p)
				}
				return nil
			})
			if err != nil {
				return nil, fmt.Errorf("%s: %w", a, err)
			}
			sort.Strings(found)
			out = append(out, found...)
		}
	}
	return out, nil
}

// IsYAML reports whether a path names a YAML file by its extension.
func IsYAML(p string) bool {
	ext := strings.ToLower(filepath.Ext(p))
	return ext == ".yml" || ext == ".yaml"
}
