package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// listedPackage is what typeCheck reads of `go list -json` for a package.
type listedPackage struct {
	ImportPath string
	Dir        string
	Standard   bool
	GoFiles    []string
	CgoFiles   []string
	ImportMap  map[string]string
	Module     *struct {
		Path      string
		GoVersion string
	}
	Export string
	Error  *struct{ Err string }
}

// goList runs go list with the target's environment (BuildEnv) in dir and
// decodes its JSON stream.
func goList(dir string, tg Target, args ...string) ([]listedPackage, error) {
	cmd := exec.Command("go", append([]string{"list", "-e", "-trimpath", "-json"}, args...)...)
	cmd.Dir = dir
	cmd.Env = BuildEnv(tg)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go list %s: %w: %s", strings.Join(args, " "), err, stderr.String())
	}
	var pkgs []listedPackage
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p listedPackage
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			return pkgs, nil
		} else if err != nil {
			return nil, fmt.Errorf("go list: decode: %w", err)
		}
		pkgs = append(pkgs, p)
	}
}

// typeCheck type-checks, for one platform, every package of the module in
// dir that pkg needs, from source, as the compiler would for that GOOS and
// GOARCH: the files go list selects for the platform (build tags, _GOOS.go
// names, CGO_ENABLED=0), against the platform's export data of every package
// from outside the module (standard library and dependencies; `go list
// -export` compiles them once per platform, then the build cache has them).
// What does not build on the platform (a syscall, a file without a build
// tag, a missing embedded file) is an error here; code generation and
// linking, which do not depend on the module's source being portable, are
// left to TestRelease on the host.
func typeCheck(dir string, tg Target, pkg string) error {
	pkgs, err := goList(dir, tg, "-deps", pkg)
	if err != nil {
		return err
	}
	var own []listedPackage
	var ext []string
	for _, p := range pkgs {
		switch {
		case p.Error != nil:
			return fmt.Errorf("%s: %s", p.ImportPath, p.Error.Err)
		case p.ImportPath == "unsafe":
		case p.Standard || p.Module == nil || p.Module.Path != pkgs[len(pkgs)-1].Module.Path:
			ext = append(ext, p.ImportPath)
		default:
			own = append(own, p)
		}
	}
	exports := map[string]string{}
	if len(ext) > 0 {
		listed, err := goList(dir, tg, append([]string{"-export"}, ext...)...)
		if err != nil {
			return err
		}
		for _, p := range listed {
			if p.Error != nil || p.Export == "" {
				return fmt.Errorf("%s: no export data for %s/%s: %v", p.ImportPath, tg.GOOS, tg.GOARCH, p.Error)
			}
			exports[p.ImportPath] = p.Export
		}
	}
	fset := token.NewFileSet()
	imp := &platformImporter{
		checked: map[string]*types.Package{},
		gc: importer.ForCompiler(fset, "gc", func(path string) (io.ReadCloser, error) {
			f, ok := exports[path]
			if !ok {
				return nil, fmt.Errorf("no export data for %s", path)
			}
			return os.Open(f)
		}).(types.ImporterFrom),
	}
	var errs []error
	// go list -deps lists a package after everything it imports.
	for _, p := range own {
		if len(p.CgoFiles) > 0 {
			errs = append(errs, fmt.Errorf("%s: cgo files in a CGO_ENABLED=0 build", p.ImportPath))
			continue
		}
		files := make([]*ast.File, 0, len(p.GoFiles))
		for _, name := range p.GoFiles {
			f, err := parser.ParseFile(fset, filepath.Join(p.Dir, name), nil, parser.SkipObjectResolution)
			if err != nil {
				return fmt.Errorf("%s: %w", p.ImportPath, err)
			}
			files = append(files, f)
		}
		conf := types.Config{
			GoVersion: "go" + p.Module.GoVersion,
			Importer:  imp.withMap(p.ImportMap),
			Sizes:     types.SizesFor("gc", tg.GOARCH),
			Error:     func(err error) { errs = append(errs, err) },
		}
		checked, _ := conf.Check(p.ImportPath, fset, files, nil)
		imp.checked[p.ImportPath] = checked
	}
	return errors.Join(errs...)
}

// platformImporter gives the module's packages as typeCheck checked them
// and every other package from its export data.
type platformImporter struct {
	checked   map[string]*types.Package
	gc        types.ImporterFrom
	importMap map[string]string
}

func (i *platformImporter) withMap(m map[string]string) *platformImporter {
	return &platformImporter{checked: i.checked, gc: i.gc, importMap: m}
}

func (i *platformImporter) Import(path string) (*types.Package, error) {
	if p, ok := i.importMap[path]; ok {
		path = p
	}
	if path == "unsafe" {
		return types.Unsafe, nil
	}
	if p, ok := i.checked[path]; ok {
		return p, nil
	}
	return i.gc.ImportFrom(path, "", 0)
}

// TestTypeCheckFindsPlatformErrors: the cross-compile check has teeth. A
// module whose one file calls syscall.Kill (no such function on Windows)
// and whose other file, named for Linux, is the only one defining a
// function, type-checks on Linux and fails on Windows with both errors.
func TestTypeCheckFindsPlatformErrors(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list for two platforms; skipped with -short")
	}
	dir := t.TempDir()
	write := func(name, text string) {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644))
	}
	write("go.mod", "module example.com/portable\n\ngo 1.22\n")
	write("kill.go", "package portable\n\nimport \"syscall\"\n\nfunc Stop(pid int) error { return syscall.Kill(pid, syscall.SIGTERM) }\n\nvar _ = onlyLinux\n")
	write("only_linux.go", "package portable\n\nfunc onlyLinux() {}\n")

	require.NoError(t, typeCheck(dir, Target{"linux", "amd64"}, "."))
	err := typeCheck(dir, Target{"windows", "amd64"}, ".")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "kill.go:5:")
	assert.Contains(t, err.Error(), "Kill")
	assert.Contains(t, err.Error(), "onlyLinux")
}
