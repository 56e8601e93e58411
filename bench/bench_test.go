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
	maxRSS int64 // KiB
	exit   int
}

// run executes one tool over a suite and measures it.
func run(t testing.TB, dir string, argv []string) measure {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	start := time.Now()
	err := cmd.Run()
	m := measure{wall: time.Since(start)}
	if ee, ok := err.(*exec.ExitError); ok {
		m.exit = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%v: %v", argv, err)
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		m.maxRSS = ru.Maxrss
	}
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

// BenchmarkVerify times `gotk-rules verify --runs 1000` for one rule (the
// guide's) over all eras and scrape setups: 6,000 random lives replayed.
// Target: under 60 s on a 2-core machine.
func BenchmarkVerify(b *testing.B) {
	gotk := os.Getenv("GOTK_BENCH_GOTK")
	if gotk == "" {
		b.Skip("run with make bench (GOTK_BENCH_GOTK unset)")
	}
	for i := 0; i < b.N; i++ {
		m := run(b, "..", []string{gotk, "verify", "--runs", "1000", "--rules", "rules/gitopstoolkit.yml", "--format", "json"})
		if m.exit > 1 {
			b.Fatalf("verify exited %d", m.exit)
		}
		b.ReportMetric(m.wall.Seconds(), "verify-1000-runs-s")
		fmt.Printf("\n| verify --runs 1000, rules/gitopstoolkit.yml, all eras and scrape setups | %.1f s | %d MiB peak RSS |\n", m.wall.Seconds(), m.maxRSS/1024)
	}
}

// BenchmarkFleet times promtool and gotk-rules on one promtool test file
// holding a fleet of Flux objects over 24 h (gotk-rules gen fleet; the
// file's single alert assertion is gotk-rules' replay, which promtool must
// confirm): 200 objects, 800 series, 1,440 evaluations.
func BenchmarkFleet(b *testing.B) {
	promtool, gotk := os.Getenv("GOTK_BENCH_PROMTOOL"), os.Getenv("GOTK_BENCH_GOTK")
	if promtool == "" || gotk == "" {
		b.Skip("run with make bench (GOTK_BENCH_PROMTOOL and GOTK_BENCH_GOTK unset)")
	}
	dir := b.TempDir()
	rules, err := os.ReadFile(filepath.Join("..", "rules", "gitopstoolkit.yml"))
	if err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "rules.yml"), rules, 0o644); err != nil {
		b.Fatal(err)
	}
	for _, objects := range []int{200} {
		file := fmt.Sprintf("fleet-%d_test.yml", objects)
		if m := run(b, dir, []string{gotk, "gen", "fleet", "--objects", strconv.Itoa(objects), "--hours", "24", "--rules", "rules.yml", "-o", file}); m.exit != 0 {
			b.Fatalf("gen fleet exited %d", m.exit)
		}
		p := run(b, dir, []string{promtool, "test", "rules", file})
		g := run(b, dir, []string{gotk, "test", file})
		if p.exit != 0 || g.exit != 0 {
			b.Fatalf("fleet %d: promtool exit %d, gotk-rules exit %d (both must pass)", objects, p.exit, g.exit)
		}
		b.ReportMetric(p.wall.Seconds()/g.wall.Seconds(), fmt.Sprintf("fleet%d-speedup", objects))
		fmt.Printf("\n| fleet of %d objects x 24 h (%d series, 1,440 evaluations) | promtool %.2f s | gotk-rules %.2f s | %.1fx | promtool %d MiB | gotk-rules %d MiB |\n",
			objects, 4*objects, p.wall.Seconds(), g.wall.Seconds(), p.wall.Seconds()/g.wall.Seconds(), p.maxRSS/1024, g.maxRSS/1024)
	}
}
