# The front door. `make run` and `make test` work on a fresh Debian 12 machine: each installs
# what it needs first (deploy/install-deps.sh is quick when everything is there).
SHELL := /bin/bash
export INTAKE_TOOLS_DIR ?= $(HOME)/.cache/intake-tools
BUF := $(INTAKE_TOOLS_DIR)/node_modules/.bin/buf
CMAKE_ARGS := -DINTAKE_GOOGLEAPIS_DIR=$(INTAKE_TOOLS_DIR)/node_modules/google-proto-files \
  -DINTAKE_BUF=$(BUF)
SOURCES = git ls-files --cached --others --exclude-standard -- '*.cc' '*.h'
DATA_DIR ?= ./var

.PHONY: all deps build run bench test test-default test-asan lint-proto check-format tidy format clean

all: build

deps:
	@./deploy/install-deps.sh

build: deps
	cmake --preset default $(CMAKE_ARGS) >/dev/null
	cmake --build --preset default

run: build
	./build/bin/intaked --data_dir=$(DATA_DIR)

# The performance budget's measurement (DESIGN.md): starts its own intaked on a temporary data
# directory and prints one JSON object. More flags: make bench BENCH_ARGS='--duration=30s'.
bench: build
	./build/bin/intake-bench $(BENCH_ARGS)

# Everything CI checks: unit, store and end-to-end tests, buf lint, formatting, clang-tidy,
# then the whole suite again under ASan + UBSan.
test: deps lint-proto check-format test-default tidy test-asan

test-default: build
	ctest --preset default

test-asan: deps
	cmake --preset asan $(CMAKE_ARGS) >/dev/null
	cmake --build --preset asan
	ctest --preset asan

lint-proto: deps
	$(BUF) lint
	@echo "buf lint: clean"

check-format:
	@bad=$$($(SOURCES) | xargs clang-format --dry-run -Werror 2>&1 | grep -o '^[^:]*:' | sort -u); \
	if [ -n "$$bad" ]; then echo "clang-format would change:" $$bad "(run make format)"; exit 1; fi; \
	echo "clang-format: clean"

# clang-tidy over Intake's own sources (never generated code), warnings as errors.
tidy: build
	$(SOURCES) | grep -v '\.h$$' | xargs -P 2 -n 4 clang-tidy -p build/default --quiet \
	  --warnings-as-errors='*' 2>/dev/null
	@echo "clang-tidy: clean"

format:
	$(SOURCES) | xargs clang-format -i

clean:
	rm -rf build
