# Thin wrapper over CMake presets. See README.md.
#   make        build everything into build/ (programs in build/bin/)
#   make demo   install what is missing, build, run the live demo
#   make test   install what is missing, build, run every test: under ASan+UBSan, plain, then
#               plain again with the clock moved 400 days ahead and 375 days back (test-clock)
#   make bench  benchmarks (bench/), figures for docs/performance.md
#   make deb    Debian 12 packages into dist/ (debian/, dpkg-buildpackage);
#               make deb ARCH=arm64: the gateway and ledger for arm64 into dist/arm64/
#   make test-packages  the packages' test: lintian, systemd-analyze, install into a
#               fresh Debian 12 root, one reading from the simulator to the API (tests/packaging)
PRESET ?= ci
ARCH ?=
MAKEFLAGS += --no-print-directory
JOBS ?= $(shell nproc 2>/dev/null || echo 2)

.PHONY: all build deps deps-run demo test test-debug test-asan test-clock bench fuzz fuzz-run format clean deb test-packages

all: build

build:
	@bash scripts/install-deps.sh --check
	cmake --preset $(PRESET) >/dev/null
	cmake --build build -j $(JOBS)

deps:
	bash scripts/install-deps.sh

deps-run:
	bash scripts/install-deps.sh --run

# Ctrl-C reaches the terminal's whole foreground process group, make
# included, and a make killed by SIGINT reports failure however cleanly the
# demo stopped. With job control (bash -m) the demo runs as its own
# foreground job: Ctrl-C stops the demo and its children, the demo exits 0,
# and so does make. Without a terminal (scripts, CI) it runs as is.
demo: deps-run
	$(MAKE) build
	@if [ -t 0 ]; then bash -mc 'bash scripts/demo.sh; exit $$?'; else bash scripts/demo.sh; fi

test: deps
	$(MAKE) test-asan
	$(MAKE) test-debug
	$(MAKE) test-clock

test-debug: build
	ctest --test-dir build --output-on-failure -j $(JOBS) --timeout 600 -LE packaging

# No test may depend on the day it runs: the plain build's suite again under
# libfaketime, 400 days ahead and 375 days back (before the day the oldest
# test was written). tests/lib/ottest.py keeps the Python harness itself
# outside libfaketime and moves its clock by the same offset; the sanitizer
# build cannot take libfaketime (ASan must be the first preloaded library).
test-clock: build
	faketime -f +400d ctest --test-dir build --output-on-failure -j $(JOBS) --timeout 600 -E '^lint\.' -LE 'packaging|postgresql'
	faketime -f -375d ctest --test-dir build --output-on-failure -j $(JOBS) --timeout 600 -E '^lint\.' -LE 'packaging|postgresql'

test-asan:
	cmake --preset asan-ubsan >/dev/null
	cmake --build build-asan -j $(JOBS)
	ctest --test-dir build-asan --output-on-failure -j $(JOBS) --timeout 600 -LE packaging

# benchmarks measure the optimised, hardened build (release preset)
bench: deps
	cmake --preset release >/dev/null
	cmake --build build-release -j $(JOBS)
	OT_BIN=$(CURDIR)/build-release/bin bash bench/run.sh

deb:
	bash scripts/build-deb.sh $(ARCH)

# minutes, not seconds, and root: kept out of `make test`; .ci/run runs it after
test-packages: build
	bash scripts/install-deps.sh --deb
	ctest --test-dir build --output-on-failure -L packaging --timeout 1800

fuzz:
	cmake --preset fuzz >/dev/null
	cmake --build build-fuzz -j $(JOBS)

# every fuzz target for FUZZ_SECONDS (default 60) each; executions and crashes per target
fuzz-run:
	JOBS=$(JOBS) sh tests/fuzz/run_all.sh

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build build-asan build-release build-fuzz build-deb
