package rulediff

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	pathpkg "path"
	"path/filepath"
	"strings"

	"github.com/gotk-rules/gotk-rules/internal/boundedio"
	"github.com/gotk-rules/gotk-rules/rulefile"
)

// maxGitFiles bounds the rule files one git:REV:path may name.
const maxGitFiles = 10_000

// gitFile is a rule file read from a git revision.
type gitFile struct {
	name    string // git:REV:path, as errors name it
	content []byte
}

// ParseGitSpec splits git:REV:path into the revision and the path. The
// revision is what precedes the first colon after the prefix.
func ParseGitSpec(spec string) (rev, path string, err error) {
	rest, ok := strings.CutPrefix(spec, GitPrefix)
	if !ok {
		return "", "", fmt.Errorf("%s: want git:REV:path", spec)
	}
	rev, path, ok = strings.Cut(rest, ":")
	switch {
	case !ok || rev == "" || path == "":
		return "", "", fmt.Errorf("%s: want git:REV:path, such as git:HEAD:rules/ or git:main:rules/alerts.yml", spec)
	case strings.HasPrefix(rev, "-"):
		return "", "", fmt.Errorf("%s: the revision %q starts with a dash; want a commit, branch or tag", spec, rev)
	case strings.ContainsAny(rev, "\x00\n"), strings.ContainsAny(path, "\x00\n"):
		return "", "", fmt.Errorf("%s: a revision or path with a NUL or newline", spec)
	}
	return rev, path, nil
}

// readGit reads the rule files of git:REV:path: the file, or every *.yml
// and *.yaml file below the directory, as the revision holds them.
func readGit(ctx context.Context, spec string, opts LoadOptions) ([]gitFile, error) {
	rev, path, err := ParseGitSpec(spec)
	if err != nil {
		return nil, err
	}
	// Paths relative to the directory git runs in, listed from the root
	// (--full-name) so the blobs are named as the revision holds them.
	out, err := runGit(ctx, opts, spec, "ls-tree", "-r", "-z", "--full-name", rev, "--", path)
	if err != nil {
		return nil, err
	}
	type entry struct{ path, hash string }
	var blobs []entry
	for rec := range strings.SplitSeq(strings.TrimSuffix(string(out), "\x00"), "\x00") {
		if rec == "" {
			continue
		}
		meta, p, ok := strings.Cut(rec, "\t")
		fields := strings.Fields(meta)
		if !ok || len(fields) != 3 || fields[1] != "blob" || fields[0] == "120000" {
			continue // submodules, symbolic links
		}
		blobs = append(blobs, entry{p, fields[2]})
	}
	// A path naming one file is read whatever its extension, as a rule
	// file named on disk is.
	single := len(blobs) == 1 && !strings.HasSuffix(path, "/") && pathpkg.Base(blobs[0].path) == pathpkg.Base(pathpkg.Clean(filepath.ToSlash(path)))
	var files []gitFile
	for _, b := range blobs {
		if !single && !rulefile.IsYAML(b.path) {
			continue
		}
		if len(files) == maxGitFiles {
			return nil, fmt.Errorf("%s: more than %d rule files; name a smaller directory", spec, maxGitFiles)
		}
		name := GitPrefix + rev + ":" + b.path
		content, err := runGit(ctx, opts, name, "cat-file", "blob", b.hash)
		if err != nil {
			return nil, err
		}
		files = append(files, gitFile{name: name, content: content})
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("%s: no rule file (*.yml, *.yaml) at %s in %s", spec, path, rev)
	}
	return files, nil
}

// runGit runs git with args (no shell) and returns its output, read up to
// the input limit: past it git is stopped and the error names the limit.
func runGit(ctx context.Context, opts LoadOptions, name string, args ...string) ([]byte, error) {
	prog := opts.Git
	if prog == "" {
		prog = "git"
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cmd := exec.CommandContext(ctx, prog, args...)
	cmd.Dir = opts.GitDir
	cmd.Env = append(os.Environ(), "GIT_TERMINAL_PROMPT=0", "GIT_PAGER=cat", "GIT_OPTIONAL_LOCKS=0")
	var stderr bytes.Buffer
	cmd.Stderr = &limitedBuffer{buf: &stderr, left: 4096}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s: running git: %w", name, err)
	}
	out, rerr := boundedio.ReadAll(stdout, name, opts.Input)
	if rerr != nil {
		cancel() // stop git: its output is refused
		_, _ = io.Copy(io.Discard, stdout)
	}
	werr := cmd.Wait()
	switch {
	case rerr != nil:
		return nil, rerr
	case werr != nil:
		msg := firstLine(stderr.String())
		var ee *exec.ExitError
		if msg == "" || !errors.As(werr, &ee) {
			msg = werr.Error()
		}
		return nil, fmt.Errorf("%s: git %s: %s", name, args[0], msg)
	}
	return out, nil
}

// firstLine is the first non-empty line of s, trimmed.
func firstLine(s string) string {
	for l := range strings.SplitSeq(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			return l
		}
	}
	return ""
}

// limitedBuffer keeps the first bytes written to it and drops the rest.
type limitedBuffer struct {
	buf  *bytes.Buffer
	left int
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	n := min(len(p), b.left)
	b.buf.Write(p[:n])
	b.left -= n
	return len(p), nil
}
