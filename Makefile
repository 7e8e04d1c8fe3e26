# The front door. `make run` and `make test` work on a fresh Debian 12 machine: each installs
# what it needs first (deploy/install-deps.sh is quick when everything is there).
SHELL := /bin/bash
export INTAKE_TOOLS_DIR ?= $(HOME)/.cache/intake-tools
BUF := $(INTAKE_TOOLS_DIR)/node_modules/.bin/buf
CMAKE_ARGS := -DINTAKE_GOOGLEAPIS_DIR=$(INTAKE_TOOLS_DIR)/node_modules/google-proto-files \
  -DINTAKE_BUF=$(BUF)
WEB := client/web
SOURCES = git ls-files --cached --others --exclude-standard -- '*.cc' '*.h'
FUZZ_SOURCES = git ls-files --cached --others --exclude-standard -- 'tests/fuzz/*.cc'
DATA_DIR ?= ./var

.PHONY: all deps configure build run install image test-image bench bench-backup bench-web soak test test-default test-asan fuzz lint-proto \
	check-format check-web check-examples tidy format clean web-deps web-generate screenshots

all: build

deps:
	@./deploy/install-deps.sh

configure: deps
	cmake --preset default $(CMAKE_ARGS) >/dev/null

build: configure
	cmake --build --preset default

# intaked and the web gateway (intake-web) together; both addresses are printed, Ctrl-C stops
# both. WEB_LISTEN moves the gateway (default 127.0.0.1:8080).
run: build
	DATA_DIR=$(DATA_DIR) ./deploy/run-local.sh

# intaked, intakectl, the systemd unit (ExecStart at the installed intaked) and its environment
# file example, under PREFIX; deploy/README.md has the rest of the set-up.
PREFIX ?= /usr/local
install: build
	cmake --install build/default --prefix $(PREFIX) --strip

# The container image (deploy/Containerfile) with podman, tagged localhost/intake:latest; the
# Debian base image is made with mmdebstrap when missing (deploy/image/build.sh).
image:
	./deploy/install-deps.sh --image
	./deploy/image/build.sh

# The image's test (deploy/image/test.sh): builds it, runs intaked in it on a volume, drains it
# with SIGTERM and finds the lead again. Slow when nothing is cached (a compile of its own), so
# it is not part of `make test`; .ci/run runs it beside `make test` (deploy/image/beside.sh).
test-image:
	./deploy/install-deps.sh --image
	./deploy/image/test.sh

# client/web's pinned npm packages (npm ci from its package-lock.json).
web-deps: configure
	cmake --build --preset default --target intake_web_node_modules

# The TypeScript generated from proto/ (and google/rpc) into client/web/gen/, for the web side
# and for other TypeScript clients of the API.
web-generate: configure
	cmake --build --preset default --target intake_web_generate

# The performance budget's measurement (DESIGN.md): starts its own intaked on a temporary data
# directory and prints one JSON object. More flags: make bench BENCH_ARGS='--duration=30s'.
bench: build
	./build/bin/intake-bench $(BENCH_ARGS)

# The backup's effect on submit latency: intake-bench without and during back-to-back
# `intakectl backup` runs, against one intaked on tmpfs (client/bench/backup_effect.sh).
bench-backup: build
	./client/bench/backup_effect.sh build/bin

# The gateway's cost: SubmitCallback latency through intake-web against direct gRPC in the
# same run, and intake-web's memory with 1,000 open dashboard streams. One JSON object.
bench-web: build
	INTAKED=build/bin/intaked INTAKE_WEB=build/bin/intake-web \
	  node build/default/client/web/bench/gateway_bench.mjs $(BENCH_ARGS)

# The soak (not in make test): 30 minutes of mixed load at half capacity on a spawned intaked
# (submissions, streams that reconnect, acks, contact attempts); intaked's memory, fds, WAL and
# submit p99 sampled each minute into build/soak/soak.csv and plotted to build/soak/soak.png;
# prints a JSON verdict (flat or not). More flags: make soak SOAK_ARGS='--duration=2h'.
soak: build
	@./deploy/install-deps.sh --soak
	./build/bin/intake-soak --out_dir=build/soak $(SOAK_ARGS)

# Everything CI checks: unit, store and end-to-end tests, buf lint, formatting, clang-tidy,
# then the whole suite again built by clang under ASan + UBSan, with each libFuzzer target
# (tests/fuzz) run for 30 s.
test: deps lint-proto check-format test-default check-web check-examples tidy test-asan

test-default: build
	ctest --preset default

test-asan: deps
	cmake --preset asan $(CMAKE_ARGS) >/dev/null
	cmake --build --preset asan
	@# Only this build has the fuzz targets, so they are tidied here.
	$(FUZZ_SOURCES) | xargs clang-tidy -p build/asan --quiet --warnings-as-errors='*' 2>/dev/null
	ctest --preset asan

# The libFuzzer targets alone, FUZZ_SECONDS each (default 600), two at a time, growing the corpus
# earlier runs found (build/asan/tests/fuzz/work/<target>/corpus). A finding is saved beside it
# as crash-*, leak-* or timeout-*; rerun it with the fuzzer binary and that file.
FUZZ_SECONDS ?= 600
fuzz: deps
	cmake --preset asan $(CMAKE_ARGS) >/dev/null
	cmake --build --preset asan
	FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_KEEP=1 ctest --preset asan -L fuzz \
	  --timeout $$(( $(FUZZ_SECONDS) + 300 ))

lint-proto: deps
	$(BUF) lint
	@echo "buf lint: clean"

check-format:
	@bad=$$($(SOURCES) | xargs clang-format --dry-run -Werror 2>&1 | grep -o '^[^:]*:' | sort -u); \
	if [ -n "$$bad" ]; then echo "clang-format would change:" $$bad "(run make format)"; exit 1; fi; \
	echo "clang-format: clean"

# The TypeScript: type checks (gateway and tests; browser code) and Prettier's formatting.
check-web: build
	cd $(WEB) && node_modules/.bin/tsc -p tsconfig.json && node_modules/.bin/tsc -p tsconfig.browser.json
	cd $(WEB) && node_modules/.bin/prettier --check --log-level=warn .
	@echo "tsc, prettier: clean"

# The Node example client: type checks against client/web's generated code and npm packages
# (through the link examples/README.md makes), and Prettier's formatting.
check-examples: web-generate
	ln -sfn ../../client/web/node_modules examples/node/node_modules
	$(WEB)/node_modules/.bin/tsc -p examples/node
	$(WEB)/node_modules/.bin/prettier --check --log-level=warn examples/node
	@echo "examples: tsc, prettier clean"

# Screenshots of the callback page and the dashboard at phone and desktop widths: the browser
# tests write them into the build tree; this refreshes the committed copies in docs/.
screenshots: build
	rm -rf build/default/client/web/screenshots
	ctest --preset default -R '^web_browser_test$$'
	mkdir -p docs/screenshots
	cp build/default/client/web/screenshots/*.png docs/screenshots/

# clang-tidy over Intake's own sources (never generated code), warnings as errors.
tidy: build
	$(SOURCES) | grep -v -e '\.h$$' -e '^tests/fuzz/' | xargs -P 2 -n 4 clang-tidy -p build/default \
	  --quiet --warnings-as-errors='*' 2>/dev/null
	@echo "clang-tidy: clean"

format:
	$(SOURCES) | xargs clang-format -i
	cd $(WEB) && node_modules/.bin/prettier --write --log-level=warn .

clean:
	rm -rf build
