# otlpd — the two commands of the quick start are `make run` and `make test`.
# Every target that builds first runs scripts/install-deps (a no-op when all is installed).

JOBS      ?= $(shell nproc)
BUILD     := build
BIN       := $(BUILD)/bin
# Layers whose tests also run under AddressSanitizer and ThreadSanitizer.
SAN_LAYERS ?= csp;otlp;transport;storage;telemetry;pipeline;components
CTEST_ARGS ?= --output-on-failure --timeout 600 --no-tests=error

.PHONY: all deps build run test test-unit test-asan test-tsan bench verify fuzz fuzz-ci format clean

all: build

deps:
	@scripts/install-deps

build: deps
	@cmake --preset release -DOTLPD_LAYERS= >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

# Starts the collector on its built-in default config (OTLP/gRPC :4317 and OTLP/HTTP :4318 on
# localhost -> memory_limiter -> batch -> debug). Pass options with ARGS="--config my.yaml".
run: build
	$(BIN)/otlpd $(ARGS)

# Every test: unit and end-to-end tests, the same under ASan+UBSan and TSan for the
# concurrent layers, and the formal models.
test: test-unit test-asan test-tsan verify fuzz-ci

test-unit: build
	cd $(BUILD) && ctest $(CTEST_ARGS) -j $(JOBS)

test-asan: deps
	@cmake --preset asan -DOTLPD_LAYERS="$(SAN_LAYERS)" >/dev/null
	@cmake --build build-asan -j $(JOBS)
	cd build-asan && ctest $(CTEST_ARGS) -j $(JOBS)

test-tsan: deps
	@cmake --preset tsan -DOTLPD_LAYERS="$(SAN_LAYERS)" >/dev/null
	@cmake --build build-tsan -j $(JOBS)
	cd build-tsan && TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" ctest $(CTEST_ARGS) -j $(JOBS)

bench: build
	$(BIN)/csp_bench
	$(BIN)/otlp_bench
	$(BIN)/components_pipeline_path_bench

verify: deps
	@if [ -x spec/run ]; then spec/run; else echo "verify: no models yet"; fi

# libFuzzer targets (clang). `make fuzz` runs each for FUZZ_SECONDS; CI runs a short round.
FUZZ_SECONDS ?= 60
fuzz: deps
	@if [ -x scripts/fuzz ]; then scripts/fuzz $(FUZZ_SECONDS); else echo "fuzz: no targets yet"; fi

fuzz-ci: deps
	@if [ -x scripts/fuzz ]; then scripts/fuzz 20; else echo "fuzz: no targets yet"; fi

format:
	@git ls-files '*.h' '*.cc' | xargs -r clang-format -i

clean:
	rm -rf build build-debug build-asan build-tsan build-fuzz
