// Package bench measures gotk-rules against promtool, side by side in one
// run, on the public promtool suites in ../shared/conformance. Run it with
// `make bench`, which builds both binaries and sets:
//
//	GOTK_BENCH_PROMTOOL  path of promtool built from the pinned Prometheus
//	GOTK_BENCH_GOTK      path of the gotk-rules binary
//	GOTK_BENCH_RUNS      runs per tool and suite, median reported (default 1)
//
// Each suite is run as a whole, exactly as MANIFEST.md's whole-suite command
// says, by both tools alternately; the table gives median wall seconds, peak
// RSS and promtool/gotk-rules ratios.
package bench

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// suite is one whole-suite command: its folder and test file globs.
type suite struct {
	dir   string
	globs []string
}

var suites = []suite{
	{"prometheus-promtool-testdata", []string{"at-modifier-test.yml", "bad-input-series.yml", "bad-promql.yml", "bad-rules-error-test.yml",
		"bad-rules-syntax-test.yml", "experimental-functions-test.yml", "failing.yml", "long-period.yml", "negative-offset-test.yml",
		"no-test-group-interval.yml", "rules_run.yml", "rules_run_extrafields.yml", "rules_run_fuzzy.yml", "rules_run_no_fuzzy.yml",
		"start-time-test.yml", "unittest.yml"}},
	{"thanos-examples-alerts", []string{"tests.yaml"}},
	{"ceph-mixin", []string{"tests_alerts/test_alerts.yml"}},
	{"govuk-monitoring-config", []string{"*_tests.yaml", "*/*_tests.yaml"}},
	{"wikimedia-operations-alerts", []string{"team-*/*_test.yaml"}},
}

type measure struct {
	wall   time.Duration
	cpu    time.Duration // user + system
	maxRSS int64         // KiB
	exit   int
}

// measureEnv makes this test binary a runner (TestMain): it runs its
// arguments as a command and prints the command's measure.
const measureEnv = "GOTK_BENCH_MEASURE"

// TestMain is the benchmarks' main, or the runner of one measured command.
func TestMain(m *testing.M) {
	if os.Getenv(measureEnv) == "1" {
		os.Exit(measureCommand(os.Args[1:]))
	}
	os.Exit(m.Run())
}

// measureCommand runs argv (output discarded) and prints its wall time,
// CPU time, peak RSS and exit code on one line.
func measureCommand(argv []string) int {
	cmd := exec.Command(argv[0], argv[1:]...)
	start := time.Now()
	err := cmd.Run()
	m := measure{wall: time.Since(start)}
	if ee, ok := err.(*exec.ExitError); ok {
		m.exit = ee.ExitCode()
	} else if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	m.cpu = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		m.maxRSS = ru.Maxrss
	}
	fmt.Println(int64(m.wall), int64(m.cpu), m.maxRSS, m.exit)
	return 0
}

// run executes one tool over a suite and measures it, through a runner
// (this test binary started afresh, measureCommand): Linux counts in a
// child's peak RSS the memory of the process that started it (Go starts
// commands by vfork, and exec keeps the peak), so a command started by the
// benchmarks themselves, which may hold a month of generated samples,
// would report at least their size.
func run(t testing.TB, dir string, argv []string) measure {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(self, argv...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), measureEnv+"=1")
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%v: %v", argv, err)
	}
	var m measure
	var wall, cpu int64
	if _, err := fmt.Sscan(string(out), &wall, &cpu, &m.maxRSS, &m.exit); err != nil {
		t.Fatalf("%v: runner said %q: %v", argv, out, err)
	}
	m.wall, m.cpu = time.Duration(wall), time.Duration(cpu)
	return m
}

func median(ms []measure) measure {
	sort.Slice(ms, func(i, j int) bool { return ms[i].wall < ms[j].wall })
	m := ms[len(ms)/2]
	for _, x := range ms {
		m.maxRSS = max(m.maxRSS, x.maxRSS)
	}
	return m
}

// BenchmarkSuites prints, per suite, promtool's and gotk-rules' wall time
// and peak memory and the ratios, and reports them as benchmark metrics.
func BenchmarkSuites(b *testing.B) {
	promtool, gotk := os.Getenv("GOTK_BENCH_PROMTOOL"), os.Getenv("GOTK_BENCH_GOTK")
	if promtool == "" || gotk == "" {
		b.Skip("run with make bench (GOTK_BENCH_PROMTOOL and GOTK_BENCH_GOTK unset)")
	}
	root := os.Getenv("GOTK_CONFORMANCE_DIR")
	if root == "" {
		root = filepath.Join("..", "..", "shared", "conformance")
	}
	runs := 1
	if v, err := strconv.Atoi(os.Getenv("GOTK_BENCH_RUNS")); err == nil && v > 0 {
		runs = v
	}
	var table strings.Builder
	fmt.Fprintf(&table, "\n| suite | files | promtool s | gotk-rules s | speed-up | promtool MiB | gotk-rules MiB | exit (promtool/gotk) |\n|---|---|---|---|---|---|---|---|\n")
	for _, s := range suites {
		dir := filepath.Join(root, s.dir)
		var files []string
		for _, g := range s.globs {
			m, err := filepath.Glob(filepath.Join(dir, g))
			if err != nil || len(m) == 0 {
				b.Fatalf("%s: %s matches nothing (is ../shared/conformance there?)", s.dir, g)
			}
			for _, f := range m {
				rel, _ := filepath.Rel(dir, f)
				files = append(files, rel)
			}
		}
		b.Run(s.dir, func(b *testing.B) {
			var pt, gr []measure
			for i := 0; i < b.N*runs; i++ {
				pt = append(pt, run(b, dir, append([]string{promtool, "test", "rules"}, files...)))
				gr = append(gr, run(b, dir, append([]string{gotk, "test"}, files...)))
			}
			p, g := median(pt), median(gr)
			ratio := p.wall.Seconds() / g.wall.Seconds()
			b.ReportMetric(p.wall.Seconds(), "promtool-s")
			b.ReportMetric(g.wall.Seconds(), "gotk-s")
			b.ReportMetric(ratio, "speedup")
			fmt.Fprintf(&table, "| %s | %d | %.2f | %.2f | %.1fx | %d | %d | %d/%d |\n", s.dir, len(files),
				p.wall.Seconds(), g.wall.Seconds(), ratio, p.maxRSS/1024, g.maxRSS/1024, p.exit, g.exit)
		})
	}
	fmt.Fprintf(&table, "\nMachine: %s/%s, %d CPUs, %s; median of %d runs each, tools alternating.\n",
		runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), cpuModel(), runs)
	fmt.Print(table.String())
}

// cpuModel reads the processor name, for the record.
func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	for _, l := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}

// BenchmarkVerify times `gotk-rules verify --runs 1000` with the shipped
// rules (rules/*.yml, embedded) over all eras and scrape setups: 1,000
// random lives replayed once per era and scrape setup. It has no promtool
// counterpart: it prints wall time, CPU time (user + system) and peak RSS.
// Target: under 10 s wall on a quiet 2-core machine.
func BenchmarkVerify(b *testing.B) {
	gotk := os.Getenv("GOTK_BENCH_GOTK")
	if gotk == "" {
		b.Skip("run with make bench (GOTK_BENCH_GOTK unset)")
	}
	for i := 0; i < b.N; i++ {
		m := run(b, "..", []string{gotk, "verify", "--runs", "1000", "--format", "json"})
		if m.exit > 1 {
			b.Fatalf("verify exited %d", m.exit)
		}
		b.ReportMetric(m.wall.Seconds(), "verify-1000-runs-s")
		b.ReportMetric(m.cpu.Seconds(), "verify-1000-runs-cpu-s")
		fmt.Printf("\n| verify --runs 1000, shipped rules, all eras and scrape setups (%d cores) | %.1f s wall | %.1f s CPU | %d MiB peak RSS |\n",
			runtime.NumCPU(), m.wall.Seconds(), m.cpu.Seconds(), m.maxRSS/1024)
	}
}

// BenchmarkFleet times gotk-rules, and promtool up to
// GOTK_BENCH_PROMTOOL_MAX objects (default 1000; promtool's query sample
// limit of 10000 fails the guide's rule beyond 4999 objects anyway), on
// promtool test files holding fleets of Flux objects over 24 h (gotk-rules
// gen fleet; the file's alert assertions are gotk-rules' replay, which
// promtool must confirm). It prints the cost curve as a table, checks it
// grows linearly with series × evaluations, and draws it to the SVG file
// GOTK_BENCH_PLOT when set.
func BenchmarkFleet(b *testing.B) {
	promtool, gotk := os.Getenv("GOTK_BENCH_PROMTOOL"), os.Getenv("GOTK_BENCH_GOTK")
	if promtool == "" || gotk == "" {
		b.Skip("run with make bench (GOTK_BENCH_PROMTOOL and GOTK_BENCH_GOTK unset)")
	}
	promtoolMax := 1000
	if v := os.Getenv("GOTK_BENCH_PROMTOOL_MAX"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			b.Fatalf("GOTK_BENCH_PROMTOOL_MAX=%q: %v", v, err)
		}
		promtoolMax = n
	}
	sizes := []int{200, 1000, 3000, 10000}
	if v := os.Getenv("GOTK_BENCH_FLEET_SIZES"); v != "" {
		sizes = nil
		for _, f := range strings.Split(v, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil {
				b.Fatalf("GOTK_BENCH_FLEET_SIZES=%q: %v", v, err)
			}
			sizes = append(sizes, n)
		}
	}
	dir := b.TempDir()
	rules, err := os.ReadFile(filepath.Join("..", "rules", "gitopstoolkit.yml"))
	if err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "rules.yml"), rules, 0o644); err != nil {
		b.Fatal(err)
	}
	// Fleets of thousands need more than promtool's 10000 samples a query
	// and 50 M input samples a group. Generation (not measured) gets more
	// heap than the 2 GiB gotk-rules caps itself at, to spend less time
	// collecting garbage.
	queryLimit := []string{"--query-max-samples", "100000000"}
	limits := append(slices.Clone(queryLimit), "--max-samples", "2000000000")
	const steps = 24*60 + 1
	var table strings.Builder
	table.WriteString("\n| objects | series | series × evaluations | promtool s | gotk-rules s | speed-up | gotk-rules ns per series × evaluation | promtool MiB | gotk-rules MiB |\n|---|---|---|---|---|---|---|---|---|\n")
	gotkCurve := Curve{Name: "gotk-rules", Colour: "#1f77b4"}
	promCurve := Curve{Name: "promtool 3.x", Colour: "#d62728"}
	for _, objects := range sizes {
		file := fmt.Sprintf("fleet-%d_test.yml", objects)
		gen := exec.Command(gotk, append([]string{"gen", "fleet", "--objects", strconv.Itoa(objects), "--hours", "24", "--rules", "rules.yml", "-o", file}, queryLimit...)...)
		gen.Dir = dir
		gen.Env = append(os.Environ(), "GOMEMLIMIT=16GiB")
		if out, err := gen.CombinedOutput(); err != nil {
			b.Fatalf("gen fleet %d: %v\n%s", objects, err, out)
		}
		seriesCount := countSeries(b, filepath.Join(dir, file))
		work := float64(seriesCount) * steps
		g := run(b, dir, append([]string{gotk, "test"}, append(limits, file)...))
		if g.exit != 0 {
			b.Fatalf("fleet %d: gotk-rules exit %d", objects, g.exit)
		}
		gotkCurve.Points = append(gotkCurve.Points, Point{work, g.wall.Seconds()})
		b.ReportMetric(g.wall.Seconds(), fmt.Sprintf("fleet%d-gotk-s", objects))
		promS, ratio, promMiB := "—", "—", "—"
		if objects <= promtoolMax {
			p := run(b, dir, []string{promtool, "test", "rules", file})
			if p.exit != 0 {
				b.Fatalf("fleet %d: promtool exit %d (it must confirm gotk-rules' assertions)", objects, p.exit)
			}
			promCurve.Points = append(promCurve.Points, Point{work, p.wall.Seconds()})
			promS, promMiB = fmt.Sprintf("%.2f", p.wall.Seconds()), strconv.FormatInt(p.maxRSS/1024, 10)
			ratio = fmt.Sprintf("%.1fx", p.wall.Seconds()/g.wall.Seconds())
			b.ReportMetric(p.wall.Seconds()/g.wall.Seconds(), fmt.Sprintf("fleet%d-speedup", objects))
		}
		fmt.Fprintf(&table, "| %d | %d | %.1f M | %s | %.2f | %s | %.0f | %s | %d |\n",
			objects, seriesCount, work/1e6, promS, g.wall.Seconds(), ratio, float64(g.wall.Nanoseconds())/work, promMiB, g.maxRSS/1024)
	}
	fmt.Print(table.String())
	if path := os.Getenv("GOTK_BENCH_PLOT"); path != "" {
		curves := []Curve{gotkCurve}
		if len(promCurve.Points) > 0 {
			curves = append(curves, promCurve)
		}
		f, err := os.Create(path)
		if err != nil {
			b.Fatal(err)
		}
		title := fmt.Sprintf("Fleet replay, 24 h at 1m (%s, %d cores)", cpuModel(), runtime.NumCPU())
		if err := PlotSVG(f, title, "input series × evaluations", "wall seconds", curves); err != nil {
			b.Fatal(err)
		}
		if err := f.Close(); err != nil {
			b.Fatal(err)
		}
		fmt.Printf("\nplot written to %s\n", path)
	}
}

// countSeries counts the input series of a generated promtool test file.
func countSeries(t testing.TB, path string) int {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Count(string(data), "\n      - series: ")
}

// BenchmarkGenerated runs promtool and gotk-rules side by side on the
// generated workloads (gen.go: 500 rules and 150 groups in one file; 100
// small files sharing one rule directory; long promql_expr_test lists),
// each as a whole in one call, tools alternating, and prints wall and CPU
// time (user + system), peak RSS and the ratios. Both tools must pass
// every test: the workloads are written to.
func BenchmarkGenerated(b *testing.B) {
	promtool, gotk := os.Getenv("GOTK_BENCH_PROMTOOL"), os.Getenv("GOTK_BENCH_GOTK")
	if promtool == "" || gotk == "" {
		b.Skip("run with make bench (GOTK_BENCH_PROMTOOL and GOTK_BENCH_GOTK unset)")
	}
	runs := 1
	if v, err := strconv.Atoi(os.Getenv("GOTK_BENCH_RUNS")); err == nil && v > 0 {
		runs = v
	}
	root := b.TempDir()
	gens, err := Generate(root)
	if err != nil {
		b.Fatal(err)
	}
	var table strings.Builder
	table.WriteString("\n| generated workload | promtool s | gotk-rules s | speed-up | promtool CPU s | gotk-rules CPU s | CPU ratio | promtool MiB | gotk-rules MiB |\n|---|---|---|---|---|---|---|---|---|\n")
	for _, s := range gens {
		b.Run(s.Dir, func(b *testing.B) {
			dir := filepath.Join(root, s.Dir)
			var pt, gr []measure
			for i := 0; i < b.N*runs; i++ {
				pt = append(pt, run(b, dir, append([]string{promtool, "test", "rules"}, s.Files...)))
				gr = append(gr, run(b, dir, append([]string{gotk, "test"}, s.Files...)))
			}
			p, g := median(pt), median(gr)
			if p.exit != 0 || g.exit != 0 {
				b.Fatalf("%s: exit promtool %d, gotk-rules %d: the generated tests must pass", s.Dir, p.exit, g.exit)
			}
			ratio, cpuRatio := p.wall.Seconds()/g.wall.Seconds(), p.cpu.Seconds()/g.cpu.Seconds()
			b.ReportMetric(ratio, "speedup")
			b.ReportMetric(cpuRatio, "cpu-speedup")
			fmt.Fprintf(&table, "| %s: %s | %.2f | %.2f | %.1fx | %.2f | %.2f | %.1fx | %d | %d |\n", s.Dir, s.About,
				p.wall.Seconds(), g.wall.Seconds(), ratio, p.cpu.Seconds(), g.cpu.Seconds(), cpuRatio, p.maxRSS/1024, g.maxRSS/1024)
		})
	}
	fmt.Fprintf(&table, "\nMachine: %s/%s, %d CPUs, %s; median of %d runs each, tools alternating.\n",
		runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), cpuModel(), runs)
	fmt.Print(table.String())
}
