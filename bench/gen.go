package bench

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Generated suites: the shapes of large real suites (Kubernetes monitoring
// mixins and the repositories that test them), which the public suites in
// ../shared/conformance do not have. Every file is a function of nothing but
// the code below: the same bytes on every run. Every test passes with both
// promtool and gotk-rules.
//
// Each "app" i is one set of five rules of kubernetes-mixin shapes, with
// selectors on its own job labels (ksm-i, cadvisor-i, apiserver-i):
//
//	app_i:namespace_memory_requests:sum          sum by of a gauge
//	app_i:container_cpu_usage_seconds_total:sum_irate
//	                                            irate, sum by, group_left, topk by
//	app_i:apiserver_request_duration:p99        histogram_quantile of rates
//	KubePodCrashLoopingNNN                      max_over_time >= 1, for 15m,
//	                                            templated annotations
//	KubeMemoryOvercommitNNN (even i)            reads a recorded metric; sums
//	KubeAPILatencyHighNNN (odd i)               reads a recorded metric
//
// Ten rules (two apps) make a rule group. A test group tests one app in one
// of three ways (kind): the crash-loop alert pending then firing; the CPU
// recording rule's output and a count; the app's fifth rule, firing after
// its hold, with the recorded metric it reads.

// GeneratedSuite is one generated workload: its folder and test files,
// relative to the folder, as one gotk-rules or promtool call runs them.
type GeneratedSuite struct {
	Dir   string
	Files []string
	// About says what the workload is, for the benchmark's table.
	About string
}

// Generate writes the generated workloads under dir and returns them:
//
//	large  one rule file of 500 rules (50 groups) and one test file of
//	       150 groups, each group evaluating all 500 rules;
//	many   100 small test files (two groups each) sharing one rule
//	       directory of 10 files and 200 rules (rule_files: rules/*.yml);
//	exprs  a test file of 10 groups with 150 promql_expr_test entries each,
//	       over 50 rules.
func Generate(dir string) ([]GeneratedSuite, error) {
	var out []GeneratedSuite
	w := func(path, content string) error {
		path = filepath.Join(dir, path)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		return os.WriteFile(path, []byte(content), 0o644)
	}

	// large
	if err := w("large/rules.yml", ruleFile(appRange(0, 100))); err != nil {
		return nil, err
	}
	var large strings.Builder
	large.WriteString("rule_files:\n  - rules.yml\nevaluation_interval: 1m\ntests:\n")
	for g := range 150 {
		testGroup(&large, g, g%100, g%3)
	}
	if err := w("large/large_test.yml", large.String()); err != nil {
		return nil, err
	}
	out = append(out, GeneratedSuite{Dir: "large", Files: []string{"large_test.yml"},
		About: "500 rules, 150 test groups in one file"})

	// many
	for j := range 10 {
		if err := w(fmt.Sprintf("many/rules/r%02d.yml", j), ruleFile(appRange(4*j, 4*j+4))); err != nil {
			return nil, err
		}
	}
	many := GeneratedSuite{Dir: "many", About: "100 test files of 2 groups, one rule directory of 200 rules"}
	for f := range 100 {
		var t strings.Builder
		t.WriteString("rule_files:\n  - rules/*.yml\nevaluation_interval: 1m\ntests:\n")
		app := f % 40
		testGroup(&t, 2*f, app, f%3)
		testGroup(&t, 2*f+1, app, (f+1)%3)
		name := fmt.Sprintf("t%03d_test.yml", f)
		if err := w("many/"+name, t.String()); err != nil {
			return nil, err
		}
		many.Files = append(many.Files, name)
	}
	out = append(out, many)

	// exprs
	if err := w("exprs/rules.yml", ruleFile(appRange(0, 10))); err != nil {
		return nil, err
	}
	var ex strings.Builder
	ex.WriteString("rule_files:\n  - rules.yml\nevaluation_interval: 1m\ntests:\n")
	for g := range 10 {
		exprGroup(&ex, g)
	}
	if err := w("exprs/exprs_test.yml", ex.String()); err != nil {
		return nil, err
	}
	out = append(out, GeneratedSuite{Dir: "exprs", Files: []string{"exprs_test.yml"},
		About: "10 test groups of 150 promql_expr_test entries"})
	return out, nil
}

func appRange(from, to int) []int {
	var apps []int
	for i := from; i < to; i++ {
		apps = append(apps, i)
	}
	return apps
}

// q quotes s as a YAML double-quoted scalar (ASCII input).
func q(s string) string { return strconv.Quote(s) }

// ruleFile writes the rules of apps, two apps to a group.
func ruleFile(apps []int) string {
	var b strings.Builder
	b.WriteString("groups:\n")
	for k := 0; k < len(apps); k += 2 {
		fmt.Fprintf(&b, "  - name: kubernetes-apps-%03d\n    rules:\n", apps[k])
		for _, i := range apps[k:min(k+2, len(apps))] {
			appRules(&b, i)
		}
	}
	return b.String()
}

func appRules(b *strings.Builder, i int) {
	rec := func(name, expr string) {
		fmt.Fprintf(b, "      - record: %s\n        expr: %s\n", name, q(expr))
	}
	alert := func(name, expr, hold, severity string, annotations ...string) {
		fmt.Fprintf(b, "      - alert: %s\n        expr: %s\n        for: %s\n        labels:\n          severity: %s\n        annotations:\n", name, q(expr), hold, severity)
		for a := 0; a < len(annotations); a += 2 {
			fmt.Fprintf(b, "          %s: %s\n", annotations[a], q(annotations[a+1]))
		}
	}
	rec(fmt.Sprintf("app_%d:namespace_memory_requests:sum", i),
		fmt.Sprintf(`sum by (namespace, cluster) (kube_pod_container_resource_requests{job="ksm-%d", resource="memory"})`, i))
	rec(fmt.Sprintf("app_%d:container_cpu_usage_seconds_total:sum_irate", i),
		fmt.Sprintf(`sum by (cluster, namespace, pod, container) (irate(container_cpu_usage_seconds_total{job="cadvisor-%d", image!=""}[5m])) * on (cluster, namespace, pod) group_left (node) topk by (cluster, namespace, pod) (1, max by (cluster, namespace, pod, node) (kube_pod_info{job="ksm-%d", node!=""}))`, i, i))
	rec(fmt.Sprintf("app_%d:apiserver_request_duration:p99", i),
		fmt.Sprintf(`histogram_quantile(0.99, sum by (cluster, le) (rate(apiserver_request_duration_seconds_bucket{job="apiserver-%d", verb=~"LIST|GET"}[5m])))`, i))
	alert(fmt.Sprintf("KubePodCrashLooping%03d", i),
		fmt.Sprintf(`max_over_time(kube_pod_container_status_waiting_reason{reason="CrashLoopBackOff", job="ksm-%d"}[5m]) >= 1`, i),
		"15m", "warning",
		"description", `Pod {{ $labels.namespace }}/{{ $labels.pod }} ({{ $labels.container }}) is in waiting state (reason: "CrashLoopBackOff").`,
		"runbook_url", "https://runbooks.example.org/kubernetes/kubepodcrashlooping",
		"summary", "Pod is crash looping.")
	if i%2 == 0 {
		alloc := fmt.Sprintf(`(sum(kube_node_status_allocatable{job="ksm-%d", resource="memory"}) - max(kube_node_status_allocatable{job="ksm-%d", resource="memory"}))`, i, i)
		alert(fmt.Sprintf("KubeMemoryOvercommit%03d", i),
			fmt.Sprintf(`sum(app_%d:namespace_memory_requests:sum) - %s > 0 and %s > 0`, i, alloc, alloc),
			"10m", "warning",
			"description", "Cluster {{ $labels.cluster }} has overcommitted memory resource requests for Pods and cannot tolerate node failure.",
			"summary", "Cluster has overcommitted memory resource requests.")
	} else {
		alert(fmt.Sprintf("KubeAPILatencyHigh%03d", i),
			fmt.Sprintf(`app_%d:apiserver_request_duration:p99 > 0.5`, i),
			"5m", "critical",
			"description", "The API server has a 99th percentile latency above 0.5 s for cluster {{ $labels.cluster }}.",
			"summary", "The API server has high latency.")
	}
}

// series writes one input series.
func series(b *strings.Builder, s, values string) {
	fmt.Fprintf(b, "      - series: %s\n        values: %s\n", q(s), q(values))
}

// podInputs writes pods' kube_pod_info and CPU counters for app i in
// namespace ns: irate of each counter is 1 from the second sample on.
func podInputs(b *strings.Builder, i int, ns string, pods int) {
	for k := range pods {
		series(b, fmt.Sprintf(`kube_pod_info{cluster="c1",host_ip="10.0.0.%d",job="ksm-%d",namespace="%s",node="node-%d",pod="pod-%s-%d"}`, k, i, ns, k%3, ns, k), "1x60")
		series(b, fmt.Sprintf(`container_cpu_usage_seconds_total{cluster="c1",container="app",image="img",job="cadvisor-%d",namespace="%s",pod="pod-%s-%d"}`, i, ns, ns, k), "0+60x60")
	}
}

// testGroup writes test group g, testing app i in one of three ways.
func testGroup(b *strings.Builder, g, i, kind int) {
	ns := fmt.Sprintf("ns-%d", g)
	fmt.Fprintf(b, "  - name: %s\n    interval: 1m\n    input_series:\n", q(fmt.Sprintf("group %d: app %d, kind %d", g, i, kind)))
	podInputs(b, i, ns, 3)
	switch kind {
	case 0: // crash loop: pending at 20m, firing at 25m
		waiting := `kube_pod_container_status_waiting_reason{cluster="c1",container="app",job="ksm-%d",namespace="%s",pod="pod-%s-%d",reason="CrashLoopBackOff"}`
		series(b, fmt.Sprintf(waiting, i, ns, ns, 0), "0x5 1x55")
		series(b, fmt.Sprintf(waiting, i, ns, ns, 1), "0x60")
		name := fmt.Sprintf("KubePodCrashLooping%03d", i)
		fmt.Fprintf(b, "    alert_rule_test:\n      - eval_time: 20m\n        alertname: %s\n        exp_alerts: []\n", name)
		fmt.Fprintf(b, "      - eval_time: 25m\n        alertname: %s\n        exp_alerts:\n", name)
		fmt.Fprintf(b, "          - exp_labels:\n              severity: warning\n              cluster: c1\n              container: app\n              job: ksm-%d\n              namespace: %s\n              pod: pod-%s-0\n              reason: CrashLoopBackOff\n", i, ns, ns)
		fmt.Fprintf(b, "            exp_annotations:\n              description: %s\n              runbook_url: %s\n              summary: %s\n",
			q(fmt.Sprintf(`Pod %s/pod-%s-0 (app) is in waiting state (reason: "CrashLoopBackOff").`, ns, ns)),
			q("https://runbooks.example.org/kubernetes/kubepodcrashlooping"), q("Pod is crash looping."))
	case 1: // the CPU recording rule, and a count
		fmt.Fprintf(b, "    alert_rule_test:\n      - eval_time: 10m\n        alertname: KubePodCrashLooping%03d\n        exp_alerts: []\n", i)
		fmt.Fprintf(b, "    promql_expr_test:\n      - expr: app_%d:container_cpu_usage_seconds_total:sum_irate\n        eval_time: 10m\n        exp_samples:\n", i)
		for k := range 3 {
			fmt.Fprintf(b, "          - labels: %s\n            value: 1\n",
				q(fmt.Sprintf(`app_%d:container_cpu_usage_seconds_total:sum_irate{cluster="c1",container="app",namespace="%s",node="node-%d",pod="pod-%s-%d"}`, i, ns, k%3, ns, k)))
		}
		fmt.Fprintf(b, "      - expr: count(kube_pod_info{job=\"ksm-%d\"})\n        eval_time: 30m\n        exp_samples:\n          - labels: \"{}\"\n            value: 3\n", i)
	case 2: // the app's fifth rule
		if i%2 == 0 {
			for k := range 2 {
				series(b, fmt.Sprintf(`kube_pod_container_resource_requests{cluster="c1",container="app",job="ksm-%d",namespace="%s",pod="pod-%s-%d",resource="memory"}`, i, ns, ns, k), "1500000000x60")
			}
			for n, v := range []string{"2000000000x60", "4000000000x60"} {
				series(b, fmt.Sprintf(`kube_node_status_allocatable{cluster="c1",job="ksm-%d",node="node-%d",resource="memory"}`, i, n), v)
			}
			name := fmt.Sprintf("KubeMemoryOvercommit%03d", i)
			fmt.Fprintf(b, "    alert_rule_test:\n      - eval_time: 5m\n        alertname: %s\n        exp_alerts: []\n", name)
			fmt.Fprintf(b, "      - eval_time: 15m\n        alertname: %s\n        exp_alerts:\n          - exp_labels:\n              severity: warning\n", name)
			fmt.Fprintf(b, "            exp_annotations:\n              description: %s\n              summary: %s\n",
				q("Cluster  has overcommitted memory resource requests for Pods and cannot tolerate node failure."),
				q("Cluster has overcommitted memory resource requests."))
			fmt.Fprintf(b, "    promql_expr_test:\n      - expr: app_%d:namespace_memory_requests:sum\n        eval_time: 5m\n        exp_samples:\n          - labels: %s\n            value: 3e9\n",
				i, q(fmt.Sprintf(`app_%d:namespace_memory_requests:sum{cluster="c1",namespace="%s"}`, i, ns)))
		} else {
			for _, le := range []struct{ le, v string }{{"0.1", "0+10x60"}, {"1", "0+20x60"}, {"+Inf", "0+20x60"}} {
				series(b, fmt.Sprintf(`apiserver_request_duration_seconds_bucket{cluster="c1",job="apiserver-%d",le="%s",verb="GET"}`, i, le.le), le.v)
			}
			name := fmt.Sprintf("KubeAPILatencyHigh%03d", i)
			fmt.Fprintf(b, "    alert_rule_test:\n      - eval_time: 3m\n        alertname: %s\n        exp_alerts: []\n", name)
			fmt.Fprintf(b, "      - eval_time: 10m\n        alertname: %s\n        exp_alerts:\n          - exp_labels:\n              severity: critical\n              cluster: c1\n", name)
			fmt.Fprintf(b, "            exp_annotations:\n              description: %s\n              summary: %s\n",
				q("The API server has a 99th percentile latency above 0.5 s for cluster c1."), q("The API server has high latency."))
		}
	}
}

// exprGroup writes a group of 150 promql_expr_test entries over 30 pods
// of app g.
func exprGroup(b *strings.Builder, g int) {
	ns := fmt.Sprintf("ns-%d", g)
	fmt.Fprintf(b, "  - name: %s\n    interval: 1m\n    input_series:\n", q(fmt.Sprintf("exprs %d", g)))
	podInputs(b, g, ns, 30)
	b.WriteString("    promql_expr_test:\n")
	sample := func(expr, evalTime, labels, value string) {
		fmt.Fprintf(b, "      - expr: %s\n        eval_time: %s\n        exp_samples:\n          - labels: %s\n            value: %s\n", q(expr), evalTime, q(labels), value)
	}
	for k := range 30 {
		pod := fmt.Sprintf("pod-%s-%d", ns, k)
		info := fmt.Sprintf(`{cluster="c1",host_ip="10.0.0.%d",job="ksm-%d",namespace="%s",node="node-%d",pod="%s"}`, k, g, ns, k%3, pod)
		sample(fmt.Sprintf(`kube_pod_info{job="ksm-%d", pod="%s"}`, g, pod), "5m", "kube_pod_info"+info, "1")
		sample(fmt.Sprintf(`sum by (pod) (kube_pod_info{job="ksm-%d", pod="%s"})`, g, pod), "5m", fmt.Sprintf(`{pod="%s"}`, pod), "1")
		sample(fmt.Sprintf(`irate(container_cpu_usage_seconds_total{job="cadvisor-%d", pod="%s"}[5m])`, g, pod), "10m",
			fmt.Sprintf(`{cluster="c1",container="app",image="img",job="cadvisor-%d",namespace="%s",pod="%s"}`, g, ns, pod), "1")
		sample(fmt.Sprintf(`count(kube_pod_info{job="ksm-%d"}) - %d`, g, k), fmt.Sprintf("%dm", 1+k), "{}", strconv.Itoa(30-k))
		sample(fmt.Sprintf(`app_%d:container_cpu_usage_seconds_total:sum_irate{pod="%s"}`, g, pod), "10m",
			fmt.Sprintf(`app_%d:container_cpu_usage_seconds_total:sum_irate{cluster="c1",container="app",namespace="%s",node="node-%d",pod="%s"}`, g, ns, k%3, pod), "1")
	}
}
