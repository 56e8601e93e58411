# gotk-rules: make run (the main job), make test (everything CI runs), make bench.
GO       ?= go
BIN      := bin
GOTK     := $(BIN)/gotk-rules
PROMTOOL := $(BIN)/promtool

.PHONY: all build run test test-unit test-conformance test-exporters vet fmt-check bench promtool clean

all: build

build:
	$(GO) build -o $(GOTK) ./cmd/gotk-rules

## run: the main job: run the shipped unit tests and scenarios, then verify the
## shipped rules on random Flux lives, each alert and the set as one paging
## policy, and print the rule x era x scrape table.
## verify exits 1 because the guide's own rule (rules/gitopstoolkit.yml) is
## wrong in places; that is the finding, not a failure of the job.
run: build
	$(GOTK) test
	@$(GOTK) verify --runs 200 --policy; status=$$?; [ $$status -le 1 ]

## test: gofmt, vet, actionlint, every unit and CLI test with -race (fuzz
## seed corpora included; the differential tests' full counts without it), the
## hostile corpus, the promtool conformance suites (fast path and --exact), the
## exporters' modules and the image builder. The binary is built first; then
## everything but the hostile corpus runs at once, TEST_JOBS targets at a time
## (default 2, the CI machine's cores; make -j in a sub-make, output kept per
## target), longest first, so that both cores stay busy through the
## single-process targets' tails; then the hostile corpus runs alone, so that
## its wall-clock ceilings are not measured on a saturated machine. (Built
## first, with TEST_BUILT set, because make -j starts a target whose
## prerequisite was still running only after every other target: the -race
## run, the longest, started last.) TEST_JOBS=1 runs the targets one after
## another. go vet
## runs once, in vet: the test runs skip go test's own vet pass (-vet=off, a
## subset of vet's). internal/actiontest and cli's TestProgressBarOnTerminal
## run the binary that build makes (GOTK_TEST_BINARY) instead of linking their
## own. docs/bench.md, "CI time", has the costs.
TEST_JOBS ?= 2
TEST_TARGETS := test-unit-race test-conformance test-unit-full test-exporters test-image vet lint-actions fmt-check
test:
	@$(MAKE) --no-print-directory build
	@$(MAKE) --no-print-directory -j$(TEST_JOBS) --output-sync=target $(TEST_TARGETS) TEST_BUILT=1
	@$(MAKE) --no-print-directory test-hostile

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

# The fuzz targets' seed corpora run as ordinary tests here; the hostile
# corpus runs once, in test-hostile.
# The differential tests of FULL_TESTS run twice: with -race on a few of
# their random cases (internal/racemode.Cases: the race detector makes a
# case several times dearer and finds a race on a few cases as well as on
# all, each driving the same goroutines), then without -race on all of
# them, for the differentials' power (cli's TestGenFleet: 12 objects
# under -race, 60 without). TestRelease, TestCrossCompile,
# TestGuardManyLabels and TestGuard's big cases (a 17 MiB label, a 2 MiB
# expression, a million template steps) run only without -race: nothing of
# theirs runs concurrently, and compressing, type-checking and scanning
# megabytes under the race detector cost about 130 CPU seconds.
# TestRelease is also the test of a real build's --version (it builds the
# release binary); the tests that run gotk-rules use the binary build made
# (GOTK_TEST_BINARY). -count=1: go's test cache must not answer for a run.
FULL_PKGS  := ./cli/ ./evaluator/ ./evaluator/memstore/ ./evaluator/runeval/ ./internal/release/ ./rulefile/ ./scenario/ ./series/ ./unittest/
FULL_TESTS := ^(TestFastPathMatchesExact|TestFastPathMatchesExactFleet|TestCompactViewReadsAsMainStorage|TestAlertsByChangesMatchWalk|TestEvalMatchesEngine|TestDifferentialTSDB|TestDifferentialPromQL|TestRelease|TestCrossCompile|TestRandomLifeValid|TestParseDescFastRandom|TestParseRuns|TestRandomFilesAgainstPromtool|TestGuard|TestGuardManyLabels|TestGenFleet|TestQuickParseMatchesRulefmt|TestLoaderSameWithoutQuickParse)$$
.PHONY: test-unit-race test-unit-full
test-unit: test-unit-race test-unit-full
test-unit-race: $(if $(TEST_BUILT),,build)
	GOTK_TEST_BINARY=$(abspath $(GOTK)) $(GO) test -vet=off -race -count=1 -timeout 20m -skip '^TestConformance|^TestHostile$$' ./...
test-unit-full:
	$(GO) test -vet=off -count=1 -timeout 20m -run '$(FULL_TESTS)' $(FULL_PKGS)

## test-hostile: the hostile-input corpus (testdata/hostile): every command of
## the built binary on inputs made to hurt it, each in a process of its own
## under a wall-clock and a memory ceiling (internal/hostile).
.PHONY: test-hostile
test-hostile: build
	$(GO) test -vet=off -count=1 -timeout 15m ./internal/hostile/ -args -hostile.binary=$(abspath $(GOTK))

# 224 real promtool test files from ../shared/conformance: same verdicts as
# promtool. Without -race: the race detector would make it take ten times longer
# and the runner's concurrency is covered by the tests above.
# GOGC=400: the exact path allocates much and lives little; collecting less
# often cut its CPU by about a fifth (149 -> 117 CPU s) for about 650 MB of
# peak RSS instead of 210.
test-conformance:
	GOGC=400 $(GO) test -vet=off -count=1 -timeout 20m -run '^TestConformance' ./unittest/

## test-exporters: the scenario generator against the exporters' own code. Each
## exporter version lives in a module of its own under tools/ (their dependency
## versions clash with each other), whose tests drive the real exporter through
## random Flux lives and require the generator's series, scrape by scrape.
## One target per module (test-exporter-NAME), so that make -j runs them at once.
## Each module's tests run without -race on all their random lives, for the
## differential's power (internal/exporterdiff, Lives). The module of
## RACE_EXPORTER also runs with -race on a few lives (the race detector makes
## each life about four times dearer and finds a race on a few as well as on
## hundreds): every module drives the exporters through the same harness,
## internal/exporterdiff, and a -race pass in each cost about 25 CPU seconds,
## most of it compiling the module's dependencies a second time.
RACE_EXPORTER    := ksm
EXPORTER_MODULES := $(sort $(dir $(wildcard tools/*/exporter_test.go)))
EXPORTER_TARGETS := $(patsubst tools/%/,test-exporter-%,$(EXPORTER_MODULES))
.PHONY: test-exporters $(EXPORTER_TARGETS)
test-exporters: $(EXPORTER_TARGETS)
$(EXPORTER_TARGETS): test-exporter-%:
	cd tools/$* && $(GO) vet ./... && \
		$(if $(filter $*,$(RACE_EXPORTER)),$(GO) test -vet=off -race -count=1 -timeout 15m ./... &&) \
		$(GO) test -vet=off -count=1 -timeout 15m ./...

## test-integration: backtest against real engines (backtest/integration*_test.go),
## each started by the test on 127.0.0.1 and stopped at the end, each required
## to give the embedded replay's alert timeline: Prometheus (installs Debian's
## prometheus package when /usr/bin/prometheus or promtool is missing; needs
## root, the test is skipped, saying why, if that fails) backfilled from
## scenarios; Thanos (store gateway over a filesystem bucket, sidecar,
## replicas, a store stopped mid-run); VictoriaMetrics (import API); the
## pinned Prometheus 3 (bin/prometheus3). The engines' staleness is measured
## (README, "Staleness").
.PHONY: test-integration
test-integration: $(BIN)/thanos $(BIN)/victoria-metrics $(BIN)/prometheus3
	GOTK_REQUIRE_ENGINES=1 $(GO) test -tags integration -count=1 -timeout 20m -run '^TestIntegration' -v ./backtest/

## bin/thanos, bin/victoria-metrics: the engines test-integration backtests
## through, pinned in tools/thanos/build.sh and tools/victoriametrics/build.sh,
## built from their modules' own source (tools/gomodbuild.sh: Thanos' replace
## directives rule out `go install`); minutes on 2 cores, cached like bin/promtool.
THANOS           := $(BIN)/thanos
VICTORIA_METRICS := $(BIN)/victoria-metrics
$(THANOS): tools/thanos/build.sh tools/gomodbuild.sh
	GO=$(GO) tools/thanos/build.sh $@
$(VICTORIA_METRICS): tools/victoriametrics/build.sh tools/gomodbuild.sh
	GO=$(GO) tools/victoriametrics/build.sh $@

## bin/prometheus3: the Prometheus 3 server of the pinned module
## (tools/prometheus, a module of its own like tools/promtool), without the
## web UI's assets (no builtinassets tag): test-integration backtests through
## it and measures its staleness beside Debian's Prometheus 2.x. Its version
## (/api/v1/status/buildinfo) is stamped from the module's VERSION file.
PROMETHEUS3 := $(BIN)/prometheus3
$(PROMETHEUS3): tools/prometheus/go.mod tools/prometheus/go.sum
	cd tools/prometheus && $(GO) build -ldflags "-X github.com/prometheus/common/version.Version=$$(cat "$$($(GO) list -m -f '{{.Dir}}' github.com/prometheus/prometheus)/VERSION")" \
		-o ../../$(PROMETHEUS3) github.com/prometheus/prometheus/cmd/prometheus

## lint-actions: actionlint (pinned in tools/actionlint, a module of its own)
## on the workflows: the repository's own, which uses the action from the
## checkout (uses: ./) so its inputs are checked against action.yml, and the
## example in docs/examples. internal/actiontest (test-unit) runs action.yml's
## scripts, the GitLab example and the pre-commit hooks.
ACTIONLINT := $(BIN)/actionlint
.PHONY: lint-actions
lint-actions: $(ACTIONLINT)
	$(ACTIONLINT) -shellcheck= -pyflakes= .github/workflows/*.yml docs/examples/github-workflow.yml
$(ACTIONLINT): tools/actionlint/go.mod
	cd tools/actionlint && $(GO) build -o ../../$(ACTIONLINT) github.com/rhysd/actionlint/cmd/actionlint

## promtool: build the reference promtool from the pinned Prometheus, in its own module.
promtool: $(PROMTOOL)
$(PROMTOOL):
	cd tools/promtool && $(GO) build -o ../../$(PROMTOOL) github.com/prometheus/prometheus/cmd/promtool

## bench: promtool and gotk-rules side by side on every conformance suite, as ratios.
bench: build promtool
	GOTK_BENCH_PROMTOOL=$(abspath $(PROMTOOL)) GOTK_BENCH_GOTK=$(abspath $(GOTK)) GOTK_BENCH_PLOT=$(abspath docs/fleet-curve.svg) \
		GOTK_BENCH_PROMETHEUS=$(wildcard /usr/bin/prometheus) \
		$(GO) test -run '^$$' -bench . -benchtime 1x -timeout 60m ./bench/ ./lint/

## Version stamped into release binaries and images (cli.Version): the tag,
## or the commit, with -dirty for a modified work tree. Archive and image
## dates are the last commit's (SOURCE_DATE_EPOCH), so releases reproduce.
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
REVISION ?= $(shell git rev-parse HEAD 2>/dev/null)
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || date +%s)
export SOURCE_DATE_EPOCH

## release: static binaries (CGO_ENABLED=0, -trimpath) for linux, darwin and
## windows on amd64 and arm64, as dist/*.tar.gz (zip for windows) with
## dist/checksums.txt (SHA-256). Only the go command is needed.
.PHONY: release image test-image man
release:
	rm -f dist/gotk-rules_*.tar.gz dist/gotk-rules_*.zip dist/checksums.txt
	$(GO) run ./internal/release -version $(VERSION) -out dist

## image: the container image (Dockerfile's, built without a Docker daemon by
## tools/image, a module of its own): dist/image/oci, an OCI image layout, and
## dist/image/*.image.tar for `docker load`. IMAGE_ARCHS=amd64,arm64 for both.
IMAGE_ARCHS ?= $(shell $(GO) env GOARCH)
image:
	cd tools/image && $(GO) run . -version $(VERSION) -revision "$(REVISION)" -archs $(IMAGE_ARCHS) -out ../../dist/image

## test-image: the image builder's tests: the Dockerfile matches it, and the
## image built for this machine runs its entrypoint.
test-image:
	cd tools/image && $(GO) vet ./... && $(GO) test -vet=off -count=1 -timeout 15m ./...

## man: regenerate the man pages in docs/man (a test requires them current).
man:
	$(GO) run ./internal/mangen -dir docs/man

clean:
	rm -rf $(BIN) dist
