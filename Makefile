# cdp-engine: `make demo` runs the demo, `make test` runs every test. Both set up a fresh
# machine first (scripts/setup.sh), which takes seconds once done.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := build

# Which compiler builds wasm32 (rustup's, or Debian's when rustup could not add the target).
TOOLCHAIN := . build/toolchain.env && export PATH="$$HOME/.cargo/bin:$$PATH" &&
CARGO_RUN := $(TOOLCHAIN) "$${CARGO:-cargo}"
WASM := $${CARGO_TARGET_DIR:-target}/wasm32-unknown-unknown/release/cdp_engine.wasm
BROWSER_TEST_ENV := CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
	CHROMEDRIVER=/usr/bin/chromedriver WASM_BINDGEN_TEST_TIMEOUT=120
PORT ?= 8080
# What `build` strips from the wasm; `build-names` keeps the function names instead.
WASM_OPT_NAMES ?= --strip-debug --strip-producers
# Set to 1 to link panic messages into the release wasm (see `build`).
PANIC_MESSAGES ?=
BINDGEN_NAMES ?=

.PHONY: setup build build-names test test-native test-browser test-js demo bench bench-quick clean

setup:
	@bash scripts/setup.sh

## build: release wasm -> wasm-bindgen -> wasm-opt -> pkg/ (pkg.json, js/, types)
build: setup
	@# With the standard library's source (CDP_BUILD_STD, written by setup), the standard
	@# library is built with the crate's release settings and a panic traps at once: no
	@# panic messages, locations or their formatting linked (about 24 KB of gzip). A panic
	@# is a bug either way (the core returns errors); the facade reports the trap as
	@# `cdp.trapped`. Without the source, or with PANIC_MESSAGES=1 (to read a panic's
	@# message and place in the console), the prebuilt library and panic=abort.
	$(TOOLCHAIN) if [ -n "$${CDP_BUILD_STD:-}" ] && [ -z "$(PANIC_MESSAGES)" ]; then \
		export RUSTC_BOOTSTRAP=1 RUSTFLAGS="-Zunstable-options -Cpanic=immediate-abort"; \
		set -- -Zbuild-std=std,panic_abort; else set --; fi; \
		"$${CARGO:-cargo}" build --release --target wasm32-unknown-unknown --lib "$$@"
	rm -rf build/bindgen pkg
	mkdir -p build pkg
	$(TOOLCHAIN) wasm-bindgen --target web $(BINDGEN_NAMES) --out-dir build/bindgen "$(WASM)"
	@# binaryen's wasm-opt from npm (a wasm build, no download): newer than Debian's, it
	@# optimizes wasm-bindgen's output (Debian's 108 broke its externref table export).
	@# `--low-memory-unused` lets it fold `ptr + small constant` into a load's or store's
	@# offset, which does not wrap where the add would: the two differ only for an address
	@# computation that wraps past 4 GiB, which Rust code never makes (no object spans the
	@# end of memory); the first 1 KiB is the far end of the stack (placed first, 1 MiB).
	@# About 5 KB of gzip.
	node_modules/.bin/wasm-opt -Oz --low-memory-unused --enable-bulk-memory --enable-sign-ext \
		--enable-nontrapping-float-to-int --enable-mutable-globals --enable-reference-types \
		$(WASM_OPT_NAMES) build/bindgen/cdp_engine_bg.wasm -o pkg/cdp_engine_bg.wasm
	cp build/bindgen/cdp_engine.js pkg/
	cp js/file-storage.js js/load-node.js js/serve.js js/index.d.ts pkg/
	@# The facade and its modules in one file: a browser loading the package unbundled
	@# fetches it in one round trip instead of one per level of imports (and at most six
	@# files at a time over HTTP/1.1). The glue stays its own module, imported again under
	@# a new URL after a trap, and Node-only modules stay out of the browser's path.
	node_modules/.bin/esbuild js/index.js --bundle --format=esm --platform=neutral \
		--external:./cdp_engine.js --external:./file-storage.js --external:./load-node.js \
		--external:'node:*' --log-level=warning --outfile=pkg/index.js
	cp pkg.json pkg/package.json
	@printf 'wasm: %s bytes raw, %s bytes gzip\n' "$$(stat -c %s pkg/cdp_engine_bg.wasm)" \
		"$$(gzip -9 -c pkg/cdp_engine_bg.wasm | wc -c)"

## build-names: as build, with function names kept in the wasm (larger), for profiling
## (bench/profile.mjs); `make build` gives the release package back
build-names:
	$(MAKE) build WASM_OPT_NAMES=-g BINDGEN_NAMES=--keep-debug

## test: native unit and integration tests, browser tests in headless Chromium, JS tests
test: build test-native test-browser test-js

test-native:
	$(CARGO_RUN) test --all-targets
	$(CARGO_RUN) test --doc

test-browser:
	$(TOOLCHAIN) $(BROWSER_TEST_ENV) "$${CARGO:-cargo}" test --target wasm32-unknown-unknown --test browser

test-js:
	node --test --test-reporter=spec tests/js/

## demo: build, then serve www/ (and pkg/ under /pkg/) on http://localhost:$(PORT)
demo: build
	node scripts/static-server.mjs --port $(PORT) --root www --mount /pkg=pkg

## bench: the full benchmark suite against the peers (bench/results/full.{json,md}); long
bench: build
	node bench/run.mjs

## bench-quick: the suite's own tests, then smaller sizes and fewer repetitions in under 3
## minutes (bench/results/quick.*)
bench-quick: build
	node --test bench/test/
	node bench/run.mjs --quick

clean:
	rm -rf build/bindgen pkg target
