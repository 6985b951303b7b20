# ganomaly-go: `make run` starts the app, `make test` runs every test.
# Everything the targets need from Debian (libtorch, Chromium) they install themselves.

SHELL := /bin/bash
GO ?= go
GOROOT := $(shell $(GO) env GOROOT)
# Go's own runner for GOOS=js GOARCH=wasm tests and benchmarks (Node).
WASM_ENV := GOOS=js GOARCH=wasm PATH="$$PATH:$(GOROOT)/lib/wasm"
# Packages that must build and pass in the browser's runtime too.
WASM_PKGS := ./model/...
FUZZTIME ?= 10s

.PHONY: all test test-model test-wasm fuzz bench bench-native bench-wasm vet check-purity

all: test

test: vet check-purity test-model test-wasm fuzz

vet:
	$(GO) vet ./model/...

# model/ must stay pure Go: no cgo, no syscall/js, in both builds.
check-purity:
	@deps=$$($(GO) list -deps ./model/...); \
	if echo "$$deps" | grep -qx -e 'runtime/cgo' -e 'syscall/js' -e 'github.com/sugarme/gotch.*'; then \
		echo "model/ reaches cgo, syscall/js or gotch:"; echo "$$deps" | grep -x -e 'runtime/cgo' -e 'syscall/js' -e 'github.com/sugarme/gotch.*'; exit 1; fi
	@$(WASM_ENV) $(GO) build ./model/...
	@echo "model/: pure Go, builds for js/wasm"

test-model:
	$(GO) test ./model/...

test-wasm:
	$(WASM_ENV) $(GO) test -short $(WASM_PKGS)

# A brief run of each fuzz target; corpora live under testdata/fuzz/.
fuzz:
	$(GO) test -run='^$$' -fuzz='^FuzzRead$$' -fuzztime=$(FUZZTIME) ./model/safetensors
	$(GO) test -run='^$$' -fuzz='^FuzzReadWeights$$' -fuzztime=$(FUZZTIME) ./model
	$(GO) test -run='^$$' -fuzz='^FuzzLoad$$' -fuzztime=$(FUZZTIME) ./model/imageio

# Benchmarks: single-core figures are pinned to CPU 0 (the faster core here).
BENCH ?= .
bench: bench-native bench-wasm

bench-native:
	taskset -c 0 $(GO) test -run='^$$' -bench='$(BENCH)' -cpu 1 ./model/...
	$(GO) test -run='^$$' -bench='GeneratorForward' -cpu $$(nproc) ./model

bench-wasm:
	$(WASM_ENV) taskset -c 0 $(GO) test -run='^$$' -bench='GeneratorForward' ./model
