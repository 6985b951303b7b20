# ganomaly-go: `make run` starts the app, `make test` runs every test.
# Everything the targets need from Debian (libtorch, OpenBLAS, Chromium) they install
# themselves, once; later runs find it installed and go straight on.

SHELL := /bin/bash
GO ?= go
GOROOT := $(shell $(GO) env GOROOT)
PORT ?= 8080
# Go's own runner for GOOS=js GOARCH=wasm tests and benchmarks (Node).
WASM_ENV := GOOS=js GOARCH=wasm PATH="$$PATH:$(GOROOT)/lib/wasm"
# The SIMD kernels (model/kernel, tile_simd.go) need Go 1.27's simd package, behind
# GOEXPERIMENT=simd. The go command fetches that toolchain itself, once (76 MB, from
# the module proxy). It builds the browser's kernel worker and the benchmarks' workers;
# the rest (app.wasm, whose size budget Go 1.27 exceeds, and the server) stays on the
# Go of go.mod, with the scalar kernels, which make test checks too.
SIMD_GO := go1.27.3
SIMD_ENV := GOTOOLCHAIN=$(SIMD_GO) GOEXPERIMENT=simd
SIMD_GOROOT = $(shell $(SIMD_ENV) $(GO) env GOROOT)
SIMD_WASM_ENV = $(SIMD_ENV) GOOS=js GOARCH=wasm PATH="$(SIMD_GOROOT)/lib/wasm:$$PATH"
# Packages that must build and pass in the browser's runtime too.
WASM_PKGS := ./model/... ./wasm/api ./wasm/internal/inference
FUZZTIME ?= 10s
# apt-get as root, through sudo otherwise.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT_INSTALL := DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y --no-install-recommends
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)

.PHONY: all run run-go run-torch build web gotch chromium peers torch datasets test vet check-purity test-model test-wasm \
	test-server test-web test-browser test-binary fuzz bench bench-native bench-wasm bench-train bench-peers bench-browser \
	default-model clean

all: build

## run: build the browser app and the server, then serve on http://localhost:$(PORT).
# Without a GPU it serves a ganomaly built without libtorch (no cgo, no gotch to
# compile: the page is up in a minute or two on a fresh machine), which trains in pure
# Go on the CPU, at half to two thirds the libtorch build's speed (make bench-train). With an NVIDIA GPU
# it serves the libtorch build, the way to CUDA (make run-torch; the first build
# compiles gotch, about four minutes). The Train page says which trainer runs.
run:
	@if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then \
		echo "make run: a GPU is here; serving the libtorch build, which trains on CUDA"; \
		$(MAKE) --no-print-directory run-torch; \
	else $(MAKE) --no-print-directory run-go; fi

run-go: web
	CGO_ENABLED=0 $(GO) build -trimpath -tags 'embedweb nolibtorch' -ldflags='$(LDFLAGS)' -o bin/ganomaly-go ./server/cmd/ganomaly
	./bin/ganomaly-go serve --addr :$(PORT)

run-torch: build
	./bin/ganomaly serve --addr :$(PORT)

# The binary carries the web files (tag embedweb, see web/doc.go): it is the whole
# deployment, wherever it runs.
build: gotch web
	$(GO) build -trimpath -tags embedweb -ldflags='$(LDFLAGS)' -o bin/ganomaly ./server/cmd/ganomaly

# go-app's code is not inlined in app.wasm: 39 KB less gzipped and 90 KB less raw,
# which keeps the app under its 2.5 MB budget (server/internal/webapp/e2e/size_test.go,
# which builds it the same way); rendering is not where the app spends its time.
APP_GCFLAGS := -gcflags=github.com/maxence-charriere/go-app/v9/...=-l

# The browser's programs: the app (UI) and the worker (scoring off the UI thread),
# with the SIMD kernels and, for browsers without WebAssembly SIMD, the scalar ones;
# each precompressed for the server. Both run on
# go-app's wasm_exec.js, which the e2e tests check with both toolchains' programs.
web: web/data/mnist-pack.gz
	$(WASM_ENV) $(GO) build -trimpath -ldflags=-s $(APP_GCFLAGS) -o web/app.wasm ./wasm
	$(SIMD_WASM_ENV) $(GO) build -trimpath -ldflags=-s -o web/worker.wasm ./wasm/worker
	$(WASM_ENV) $(GO) build -trimpath -ldflags=-s -o web/worker-scalar.wasm ./wasm/worker
	gzip -9kf web/app.wasm web/worker.wasm web/worker-scalar.wasm
	@ls -l web/app.wasm.gz web/worker.wasm.gz web/worker-scalar.wasm.gz | awk '{printf "%s %.2f MB gzipped\n", $$9, $$5/1e6}'

# The MNIST sample the browser trains on offline (model/data's pack: 700 + 150 digits
# of each class, 1.4 MB), from the idx files of the GoMNIST module.
web/data/mnist-pack.gz: model/data/pack.go
	$(GO) run ./server/cmd/mnistpack -o $@

# libtorch from Debian (with OpenBLAS, about 3x faster training than the reference
# BLAS), then a copy of gotch prepared for it (see server/cmd/gotchprep) and a
# git-ignored go.work pointing builds at that copy.
gotch:
	@dpkg -s libtorch-dev >/dev/null 2>&1 && dpkg -s libopenblas0-pthread >/dev/null 2>&1 || \
		{ $(SUDO) apt-get update && $(APT_INSTALL) libtorch-dev libopenblas0-pthread; }
	$(GO) run ./server/cmd/gotchprep

chromium:
	@command -v chromium >/dev/null 2>&1 || { $(SUDO) apt-get update && $(APT_INSTALL) chromium; }

# The runtimes we measure ourselves against and check our ONNX files with:
# onnxruntime-node and onnxruntime-web, versions and hashes pinned in
# server/peers/package-lock.json. --ignore-scripts: onnxruntime-node's install script
# fetches CUDA files, which this machine cannot reach and the CPU build does not need.
PEERS_STAMP := server/peers/node_modules/.installed
peers: $(PEERS_STAMP)
$(PEERS_STAMP): server/peers/package.json server/peers/package-lock.json
	cd server/peers && ONNXRUNTIME_NODE_INSTALL=skip npm ci --ignore-scripts --no-audit --no-fund
	touch $@

# Fashion-MNIST from Debian (31 MB, the four idx files in /usr/share/datasets/fashion-mnist),
# for its data and training tests; MNIST comes with the GoMNIST module.
datasets:
	@[ -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ] || \
		{ $(SUDO) apt-get update && $(APT_INSTALL) dataset-fashion-mnist; }

# PyTorch from Debian (1.13.1, on the very libtorch the trainer links): a yardstick
# for make bench-peers, and what made the import test fixtures. No test needs it.
torch:
	@/usr/bin/python3 -c 'import torch, numpy' 2>/dev/null || \
		{ $(SUDO) apt-get update && $(APT_INSTALL) python3-torch python3-numpy; }

## test: every test there is, native, under js/wasm, in Chromium, and a brief fuzz
test: gotch chromium vet check-purity test-model test-wasm test-server test-web test-browser test-binary fuzz

vet: gotch
	$(GO) vet ./...
	$(WASM_ENV) $(GO) vet ./model/... ./wasm/...
	$(SIMD_ENV) $(GO) vet ./model/...
	$(SIMD_WASM_ENV) $(GO) vet ./model/...
	@tmp=$$(mktemp) && trap 'rm -f "$$tmp"' EXIT && (cd model/kernel && $(GO) run gen_kernel_wasm.go -o "$$tmp") && \
		{ cmp -s "$$tmp" model/kernel/microkernel_wasm.s || { echo "model/kernel/microkernel_wasm.s is stale: go generate ./model/kernel"; exit 1; }; }

# model/ must stay pure Go: no cgo, no syscall/js, in both builds; the HTTP layer and
# the jobs need no cgo either, and a ganomaly without libtorch trains in pure Go.
check-purity:
	@deps=$$($(GO) list -deps ./model/...); \
	if echo "$$deps" | grep -qx -e 'runtime/cgo' -e 'syscall/js' -e 'github.com/sugarme/gotch.*'; then \
		echo "model/ reaches cgo, syscall/js or gotch:"; echo "$$deps" | grep -x -e 'runtime/cgo' -e 'syscall/js' -e 'github.com/sugarme/gotch.*'; exit 1; fi
	@$(WASM_ENV) $(GO) build ./model/...
	@echo "model/: pure Go, builds for js/wasm"
	@CGO_ENABLED=0 $(GO) build ./server/httpserver/... ./server/internal/jobs/...
	@mkdir -p .build && CGO_ENABLED=0 $(GO) build -tags nolibtorch -o .build/ganomaly-nolibtorch ./server/cmd/ganomaly
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
		.build/ganomaly-nolibtorch train --size 16 --latent 16 --width 8 --epochs 1 --max-train 400 --max-test 200 -o $$tmp/m.safetensors --json >/dev/null && \
		.build/ganomaly-nolibtorch eval $$tmp/m.safetensors >/dev/null
	@echo "server/httpserver, server/internal/jobs: no cgo; ganomaly built with -tags nolibtorch (CGO_ENABLED=0) trains and evaluates in pure Go"

# The kernels and the generator in both builds: scalar (this Go) and SIMD (Go 1.27,
# GOEXPERIMENT=simd), each against the naive references, natively and under js/wasm.
SIMD_PKGS := ./model/kernel ./model ./model/learn
# The vector kernels run at this machine's width and, narrowed, at 4 lanes (any SIMD
# machine, older AVX2 ones among them) and 8 (where the CPU allows 256 bits).
test-model: datasets
	GANOMALY_REQUIRE_FASHION=1 $(GO) test ./model/...
	$(SIMD_ENV) $(GO) test $(SIMD_PKGS)
	$(SIMD_ENV) GODEBUG=simd=128 $(GO) test -count=1 -run 'Build|Matches|Parallel|Gemm' ./model/kernel
	@if grep -qw vpclmulqdq /proc/cpuinfo; then \
		echo '$(SIMD_ENV) GODEBUG=simd=256 $(GO) test -count=1 -run ...'; \
		$(SIMD_ENV) GODEBUG=simd=256 $(GO) test -count=1 -run 'Build|Matches|Parallel|Gemm' ./model/kernel; fi

test-wasm:
	$(WASM_ENV) $(GO) test -short $(WASM_PKGS)
	$(SIMD_WASM_ENV) $(GO) test -short $(SIMD_PKGS)

# The trainer (real libtorch, real MNIST: a short training run whose AUC must beat
# chance, and the gotch <-> pure-Go cross-check), the data sets and the CLI.
test-server: gotch peers datasets
	GANOMALY_REQUIRE_ORT=1 GANOMALY_REQUIRE_FASHION=1 $(GO) test $$($(GO) list ./server/... | grep -v /e2e$$) ./weights/...

test-web:
	$(GO) test ./wasm/...

# End-to-end in headless Chromium against the real server.
test-browser: gotch chromium
	GANOMALY_REQUIRE_BROWSER=1 $(GO) test -count=1 ./server/internal/webapp/e2e

# The binary alone is the deployment: run from an empty folder outside the repository,
# it writes the static site from the web files built into it, the very files of web/.
test-binary: build
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && cd "$$tmp" && \
		$(CURDIR)/bin/ganomaly site -o dist >/dev/null && \
		cmp dist/web/app.wasm $(CURDIR)/web/app.wasm && cmp dist/web/worker.wasm $(CURDIR)/web/worker.wasm && \
		echo "bin/ganomaly: runs outside the repository on its embedded web files"

# A brief run of each fuzz target; corpora live under testdata/fuzz/. With Go 1.27's
# fuzzing coordinator: Go 1.26's can fail a target with a bare "context deadline
# exceeded" at the end of -fuzztime on a busy machine, with no failing input
# (golang/go#75804, fixed in 1.27; it failed CI here once).
FUZZ_ENV := GOTOOLCHAIN=$(SIMD_GO)
fuzz:
	$(FUZZ_ENV) $(GO) test -run='^$$' -fuzz='^FuzzRead$$' -fuzztime=$(FUZZTIME) ./model/safetensors
	$(FUZZ_ENV) $(GO) test -run='^$$' -fuzz='^FuzzReadWeights$$' -fuzztime=$(FUZZTIME) ./model
	$(FUZZ_ENV) $(GO) test -run='^$$' -fuzz='^FuzzLoad$$' -fuzztime=$(FUZZTIME) ./model/imageio
	$(FUZZ_ENV) $(GO) test -run='^$$' -fuzz='^FuzzRead$$' -fuzztime=$(FUZZTIME) -fuzzminimizetime=3s ./model/pth

## bench: generator forward (native and wasm) and the training step
# Single-core figures are pinned to CPU 0.
BENCH ?= .
bench: bench-native bench-wasm bench-train

bench-native:
	taskset -c 0 $(GO) test -run='^$$' -bench='$(BENCH)' -cpu 1 ./model/...
	$(GO) test -run='^$$' -bench='GeneratorForward' -cpu $$(nproc) ./model
	@echo "SIMD build ($(SIMD_GO), GOEXPERIMENT=simd):"
	$(SIMD_ENV) taskset -c 0 $(GO) test -run='^$$' -bench='$(BENCH)' -cpu 1 $(SIMD_PKGS)

bench-wasm:
	$(WASM_ENV) taskset -c 0 $(GO) test -run='^$$' -bench='GeneratorForward' ./model
	@echo "SIMD build ($(SIMD_GO), GOEXPERIMENT=simd):"
	$(SIMD_WASM_ENV) taskset -c 0 $(GO) test -run='^$$' -bench='GeneratorForward' ./model

# The training step four ways, back to back, and the ratios: our gotch step, the
# pure-Go step (model/learn, SIMD build) natively on every core and on one, the pure-Go
# step under WebAssembly on one thread (as one browser worker runs it), and PyTorch's
# step of the same model on the same libtorch (Debian's python3-torch,
# server/peers/torch_train_step.py). OpenBLAS on one thread beside libtorch's own two:
# left to itself OpenBLAS starts threads of its own, and PyTorch's step then varied
# from 64 ms to 1.2 s on 2 cores (ours does not change either way). The gotch, wasm
# and native one-thread steps, whose ratios are targets, run in alternating rounds,
# and PyTorch in as many rounds; each counts its fastest round (gotch and PyTorch
# their median step in it): this machine's speed drifts by 10-20 % within a minute,
# which one run after the other turned into the ratio.
TRAIN_BENCH_ENV := OPENBLAS_NUM_THREADS=1
TRAIN_BENCH_ROUNDS ?= 3
bench-train: gotch torch
	@mkdir -p .build/bench
	$(SIMD_ENV) $(GO) test -run='^$$' -bench='Step' -benchtime=10x ./model/learn | tee .build/bench/train-go.txt
	@rm -f .build/bench/train-gotch.txt .build/bench/train-go1.txt .build/bench/train-wasm.txt
	set -o pipefail; for round in $$(seq $(TRAIN_BENCH_ROUNDS)); do \
		$(TRAIN_BENCH_ENV) $(GO) test -run='^$$' -bench='TrainStep' -benchtime=20x ./server/internal/torchengine | tee -a .build/bench/train-gotch.txt && \
		$(SIMD_ENV) taskset -c 0 $(GO) test -run='^$$' -bench='Step' -benchtime=10x -cpu 1 ./model/learn | tee -a .build/bench/train-go1.txt && \
		$(SIMD_WASM_ENV) taskset -c 0 $(GO) test -run='^$$' -bench='Step' -benchtime=5x ./model/learn | tee -a .build/bench/train-wasm.txt || exit 1; \
	done
	$(TRAIN_BENCH_ENV) /usr/bin/python3 server/peers/torch_train_step.py --rounds $(TRAIN_BENCH_ROUNDS) --compare gotch=.build/bench/train-gotch.txt \
		--compare "pure Go=.build/bench/train-go.txt" --compare "pure Go, 1 thread=.build/bench/train-go1.txt" \
		--compare "pure Go wasm, 1 thread=.build/bench/train-wasm.txt"

## bench-browser: in headless Chromium, scoring (100 and 1,000 digits: images/s, long tasks, click latency, first score) and training (one epoch of the browser's default run, on 1 and 2 workers)
bench-browser: chromium
	GANOMALY_REQUIRE_BROWSER=1 $(GO) test -count=1 -run='^$$' -bench='InBrowser' -benchtime=1x ./server/internal/webapp/e2e

## bench-peers: our generator against onnxruntime (node, web) and PyTorch, side by side
# One run, rounds alternating, every runtime pinned to CPU 0 with one thread; prints
# ms/image, GFLOP/s and ratios, and checks that the outputs agree. About 2 minutes.
# BENCH_PEERS_FLAGS="-rounds 9 -widths 64" changes what it times (see its -help).
BENCH_PEERS_FLAGS ?=
bench-peers: peers torch
	@mkdir -p .build/bench
	$(SIMD_ENV) $(GO) build -o .build/bench/worker ./server/cmd/benchpeers/worker
	$(SIMD_WASM_ENV) $(GO) build -o .build/bench/worker.wasm ./server/cmd/benchpeers/worker
	$(GO) build -o .build/bench/worker-scalar ./server/cmd/benchpeers/worker
	$(WASM_ENV) $(GO) build -o .build/bench/worker-scalar.wasm ./server/cmd/benchpeers/worker
	$(GO) run ./server/cmd/benchpeers -wasm-exec "$(SIMD_GOROOT)/lib/wasm/wasm_exec_node.js" $(BENCH_PEERS_FLAGS)

# The embedded default model (weights/): small enough to train in minutes on a CPU
# (about 8 on two cores). Its card names the file it describes.
default-model: build
	./bin/ganomaly train --dataset mnist --class 2 --width 16 --epochs 4 --seed 1 -o weights/default.safetensors

# go.work points at .build/gotch: one without the other breaks every build.
clean:
	rm -rf bin .build go.work go.work.sum web/*.wasm web/*.wasm.gz
