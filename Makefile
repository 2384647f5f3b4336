# Thin wrapper over CMake presets. See README.md.
#   make        build everything into build/ (programs in build/bin/)
#   make demo   install what is missing, build, run the live demo
#   make test   install what is missing, build, run every test twice: under ASan+UBSan, then plain
#   make bench  benchmarks (bench/), figures for docs/performance.md
PRESET ?= ci
MAKEFLAGS += --no-print-directory
JOBS ?= $(shell nproc 2>/dev/null || echo 2)

.PHONY: all build deps deps-run demo test test-debug test-asan bench fuzz format clean

all: build

build:
	cmake --preset $(PRESET) >/dev/null
	cmake --build build -j $(JOBS)

deps:
	bash scripts/install-deps.sh

deps-run:
	bash scripts/install-deps.sh --run

demo: deps-run
	$(MAKE) build
	bash scripts/demo.sh

test: deps
	$(MAKE) test-asan
	$(MAKE) test-debug

test-debug: build
	ctest --test-dir build --output-on-failure -j $(JOBS) --timeout 600

test-asan:
	cmake --preset asan-ubsan >/dev/null
	cmake --build build-asan -j $(JOBS)
	ctest --test-dir build-asan --output-on-failure -j $(JOBS) --timeout 600

# benchmarks measure the optimised, hardened build (release preset)
bench: deps
	cmake --preset release >/dev/null
	cmake --build build-release -j $(JOBS)
	OT_BIN=$(CURDIR)/build-release/bin bash bench/run.sh

fuzz:
	cmake --preset fuzz >/dev/null
	cmake --build build-fuzz -j $(JOBS)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build build-asan build-release build-fuzz
