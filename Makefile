# The two commands of the quick start: `make run` and `make test`. Both set up what they need.
BUILD      ?= build/release
ASAN_BUILD ?= build/asan
LISTEN     ?= 127.0.0.1:8080
JOBS       ?= $(shell nproc)

.PHONY: all setup build run test test-release test-asan kube-env clean

all: build

setup:
	@scripts/setup.sh

build: setup
	@cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

run: build
	@echo "Sonde: dashboard http://$(LISTEN)/ui, status JSON http://$(LISTEN)/ (v3 at /json); checks from examples/. Ctrl-C stops."
	@scripts/run-examples.sh $(BUILD)/sonde $(LISTEN) .sonde-state

# The whole suite twice: a release build, then an AddressSanitizer+UBSan build.
test: test-release test-asan

# The Kubernetes tests' kube-apiserver v1.20.2 and etcd (tests/kube): built once into a cache
# outside the build tree (docs/testing-kubernetes.md); a no-op when cached.
kube-env: setup
	@scripts/kube-build.sh

test-release: build kube-env
	@ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)

test-asan: setup kube-env
	@cmake -S . -B $(ASAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DSONDE_SANITIZE=ON >/dev/null
	@cmake --build $(ASAN_BUILD) -j $(JOBS)
	@ctest --test-dir $(ASAN_BUILD) --output-on-failure -j $(JOBS)

clean:
	rm -rf build

# The benchmark suite (not part of `make test`): builds what it runs (the daemon and the two
# benchmark programs, not the tests: half the build), installs the yardsticks, runs every
# scenario against Sonde and its yardstick, writes bench/results/latest.{md,csv}.
.PHONY: bench
bench: setup
	@bench/setup.sh
	@cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release -DSONDE_MICROBENCH=ON >/dev/null
	@cmake --build $(BUILD) -j $(JOBS) --target sonde sonde_microbench sonde_histfill
	@$(BUILD)/bench/micro/sonde_microbench --benchmark_min_time=0.2 \
	  --benchmark_out=bench/results/micro.json --benchmark_out_format=json | tee bench/results/micro.txt
	@SONDE_BIN=$(CURDIR)/$(BUILD)/sonde bench/run.sh
