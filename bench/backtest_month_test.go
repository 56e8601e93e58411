package bench

// BenchmarkBacktestMonth: 30 days of a 1,000-object fleet at a 1m step
// (43,200 evaluations) backtested against a local Prometheus, with the wall
// time, the backtest's own CPU and peak memory, and the server's CPU and
// memory read from /proc/PID/stat and /proc/PID/status. Skipped unless
//
//	GOTK_BENCH_PROMETHEUS  path of a prometheus server binary (Debian's
//	                       /usr/bin/prometheus; `make bench` sets it when
//	                       that file exists)
//	GOTK_BENCH_MONTH_DATA  where the generated TSDB blocks are kept between
//	                       runs (default: the user cache directory)
//
// The history is written straight as TSDB blocks (one a day) with
// Prometheus' own block writer: 1,000 series gotk_object_ready{object,
// namespace} sampled every minute (43.2 million samples), each object down
// now and then (a few outages a week, 5 to 90 minutes), 2% of them flapping
// for an hour a day.

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb"

	"github.com/gotk-rules/gotk-rules/backtest"
	"github.com/gotk-rules/gotk-rules/evaluator"
)

const (
	monthObjects = 1000
	monthDays    = 30
)

// monthStart is the history's first minute: fixed, so the blocks are made once.
var monthStart = time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)

const monthRules = `groups:
  - name: fleet
    rules:
      - alert: ObjectNotReady
        expr: gotk_object_ready == 0
        for: 10m
        keep_firing_for: 5m
        labels: {severity: warning}
        annotations:
          summary: '{{ $labels.namespace }}/{{ $labels.object }} not ready'
      - alert: ObjectFlapping
        expr: changes(gotk_object_ready[15m]) > 4
      - alert: FleetDegraded
        expr: count(gotk_object_ready == 0) > 15
        for: 5m
`

func BenchmarkBacktestMonth(b *testing.B) {
	bin := os.Getenv("GOTK_BENCH_PROMETHEUS")
	if bin == "" {
		b.Skip("GOTK_BENCH_PROMETHEUS is not set (the path of a prometheus binary, such as /usr/bin/prometheus)")
	}
	data := os.Getenv("GOTK_BENCH_MONTH_DATA")
	if data == "" {
		cache, err := os.UserCacheDir()
		if err != nil {
			b.Fatal(err)
		}
		data = filepath.Join(cache, "gotk-rules", "bench-backtest-month-v1")
	}
	genStart := time.Now()
	made, err := ensureMonthBlocks(data)
	if err != nil {
		b.Fatal(err)
	}
	if made {
		b.Logf("generated %d days of %d series in %s (%s)", monthDays, monthObjects, time.Since(genStart).Round(time.Second), data)
	}
	dir := b.TempDir()
	rules := filepath.Join(dir, "rules.yml")
	if err := os.WriteFile(rules, []byte(monthRules), 0o644); err != nil {
		b.Fatal(err)
	}
	srv := startMonthPrometheus(b, bin, dir, data)

	for b.Loop() {
		before, err := procStat(srv.pid)
		if err != nil {
			b.Fatal(err)
		}
		var selfBefore syscall.Rusage
		_ = syscall.Getrusage(syscall.RUSAGE_SELF, &selfBefore)
		start := time.Now()
		res := runMonthBacktest(b, srv.url, rules)
		wall := time.Since(start)
		after, err := procStat(srv.pid)
		if err != nil {
			b.Fatal(err)
		}
		var selfAfter syscall.Rusage
		_ = syscall.Getrusage(syscall.RUSAGE_SELF, &selfAfter)
		mem, err := procMemory(srv.pid)
		if err != nil {
			b.Fatal(err)
		}
		selfCPU := rusageCPU(selfAfter) - rusageCPU(selfBefore)
		serverCPU := after - before
		firing := 0
		for _, a := range res.Timeline.Alerts {
			for _, iv := range a.Intervals {
				if iv.State == evaluator.Firing {
					firing++
				}
			}
		}
		b.ReportMetric(wall.Seconds(), "wall-s")
		b.ReportMetric(selfCPU.Seconds(), "backtest-cpu-s")
		b.ReportMetric(serverCPU.Seconds(), "server-cpu-s")
		b.ReportMetric(float64(mem.peak)/(1<<20), "server-peak-MiB")
		b.Logf("%d evaluations in %d shards: %d query_range, %d HTTP requests, %.1f MiB of answers; %d alerts, %d firings",
			res.Evals, res.Shards, res.RangeQueries, res.Stats.Requests, float64(res.Stats.Bytes)/(1<<20), len(res.Timeline.Alerts), firing)
		b.Logf("wall %s; backtest CPU %s (user+sys, this process); server CPU %s (user+sys), server RSS %d MiB at the end, %d MiB peak; on %d cores, load average %s",
			wall.Round(100*time.Millisecond), selfCPU.Round(100*time.Millisecond), serverCPU.Round(100*time.Millisecond), mem.rss>>20, mem.peak>>20, runtime.NumCPU(), loadAvg())
	}
}

func runMonthBacktest(b *testing.B, url, rules string) *backtest.Result {
	c, err := backtest.NewClient(backtest.ClientOptions{URL: url, Timeout: 5 * time.Minute})
	if err != nil {
		b.Fatal(err)
	}
	eng := evaluator.NewEngine(evaluator.Options{})
	bt, err := backtest.New(backtest.Options{
		Client: c, Engine: eng, RuleFiles: []string{rules}, Step: time.Minute, CompareAlerts: true,
		From: monthStart, To: monthStart.Add(monthDays*24*time.Hour - time.Minute),
	})
	if err != nil {
		b.Fatal(err)
	}
	defer bt.Close()
	res, err := bt.Run(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	if res.Evals != monthDays*24*60 {
		b.Fatalf("%d evaluations, want %d", res.Evals, monthDays*24*60)
	}
	return res
}

// ensureMonthBlocks writes the history's blocks under dir unless a
// previous run did (dir/done); it says whether it wrote them.
func ensureMonthBlocks(dir string) (bool, error) {
	if _, err := os.Stat(filepath.Join(dir, "done")); err == nil {
		return false, nil
	}
	if err := os.RemoveAll(dir); err != nil {
		return false, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return false, err
	}
	objects := make([]labels.Labels, monthObjects)
	downs := make([][]bool, monthObjects) // per object, per minute of the month
	rng := rand.New(rand.NewPCG(19, 4))
	minutes := monthDays * 24 * 60
	for i := range objects {
		objects[i] = labels.FromStrings("__name__", "gotk_object_ready", "namespace", fmt.Sprintf("team-%02d", i%40), "object", fmt.Sprintf("app-%04d", i))
		d := make([]bool, minutes)
		// A few outages a week, 5 to 90 minutes.
		for m := rng.IntN(2 * 24 * 60); m < minutes; m += 24*60 + rng.IntN(3*24*60) {
			for k := m; k < min(minutes, m+5+rng.IntN(86)); k++ {
				d[k] = true
			}
		}
		// 2% flap for an hour a day, down every other 3 minutes.
		if i%50 == 7 {
			for day := range monthDays {
				at := day*24*60 + 9*60 + rng.IntN(8*60)
				for k := at; k < at+60; k++ {
					d[k] = d[k] || (k-at)%6 < 3
				}
			}
		}
		downs[i] = d
	}
	logger := slog.New(slog.DiscardHandler)
	for day := range monthDays {
		w, err := tsdb.NewBlockWriter(logger, dir, (24 * time.Hour).Milliseconds())
		if err != nil {
			return false, err
		}
		app := w.Appender(context.Background())
		for i, l := range objects {
			var ref storage.SeriesRef
			for m := day * 24 * 60; m < (day+1)*24*60; m++ {
				v := 1.0
				if downs[i][m] {
					v = 0
				}
				ref, err = app.Append(ref, l, monthStart.Add(time.Duration(m)*time.Minute).UnixMilli(), v)
				if err != nil {
					w.Close()
					return false, err
				}
			}
		}
		if err := app.Commit(); err != nil {
			w.Close()
			return false, err
		}
		if _, err := w.Flush(context.Background()); err != nil {
			w.Close()
			return false, err
		}
		if err := w.Close(); err != nil {
			return false, err
		}
	}
	return true, os.WriteFile(filepath.Join(dir, "done"), nil, 0o644)
}

type monthServer struct {
	url string
	pid int
}

// startMonthPrometheus runs the server on a copy-free view of the blocks:
// Prometheus writes its WAL and lock under data, which is ours.
func startMonthPrometheus(b *testing.B, bin, dir, data string) monthServer {
	cfg := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfg, []byte("global:\n  evaluation_interval: 1m\n"), 0o644); err != nil {
		b.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	logs, err := os.Create(filepath.Join(dir, "prometheus.log"))
	if err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(bin,
		"--config.file="+cfg,
		"--storage.tsdb.path="+data,
		"--storage.tsdb.retention.time=10y",
		// Day blocks stay as they are: no compaction while measuring.
		"--storage.tsdb.max-block-duration=1d",
		"--web.listen-address="+addr,
		"--log.level=warn",
	)
	cmd.Stdout, cmd.Stderr = logs, logs
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	b.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		logs.Close()
	})
	url := "http://" + addr
	deadline := time.Now().Add(2 * time.Minute)
	for {
		select {
		case err := <-exited:
			out, _ := os.ReadFile(logs.Name())
			b.Fatalf("prometheus exited before it was ready: %v\n%s", err, out)
		default:
		}
		if resp, err := http.Get(url + "/-/ready"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return monthServer{url: url, pid: cmd.Process.Pid}
			}
		}
		if time.Now().After(deadline) {
			b.Fatalf("prometheus at %s not ready after 2m", url)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// clockTick is USER_HZ, the unit of /proc/PID/stat's times (100 on Linux).
const clockTick = 100

// procStat is a process's CPU time, user plus system, from /proc/PID/stat.
func procStat(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command is in parentheses and may hold spaces: fields count from
	// after its closing one (utime and stime are fields 14 and 15).
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f))
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc/%d/stat: utime %q stime %q", pid, f[11], f[12])
	}
	return time.Duration(utime+stime) * time.Second / clockTick, nil
}

type procMem struct{ rss, peak int64 }

// procMemory reads VmRSS and VmHWM (the peak) from /proc/PID/status.
func procMemory(pid int) (procMem, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return procMem{}, err
	}
	var m procMem
	for line := range strings.Lines(string(b)) {
		name, rest, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) < 1 {
			continue
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			continue
		}
		switch name {
		case "VmRSS":
			m.rss = kb << 10
		case "VmHWM":
			m.peak = kb << 10
		}
	}
	return m, nil
}

func rusageCPU(r syscall.Rusage) time.Duration {
	return time.Duration(r.Utime.Nano() + r.Stime.Nano())
}

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}
