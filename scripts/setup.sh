#!/usr/bin/env bash
# Makes a fresh machine ready to build and test cdp-engine, and does nothing that is already done.
#
#   - the wasm32 standard library (rustup, or Debian's compiler with a self-built sysroot),
#     and rustup's standard library source, which the release wasm is rebuilt from;
#   - the wasm-bindgen CLI at exactly the version Cargo.lock pins;
#   - Chromium and ChromeDriver from Debian;
#   - Node.js, when the machine has none, and the npm dev dependencies from package-lock.json
#     (binaryen's wasm-opt among them).
#
# It writes build/toolchain.env, which the Makefile reads to know which compiler builds wasm32.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
mkdir -p build
toolchain_env="build/toolchain.env"

say() { printf 'setup: %s\n' "$*"; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

apt_updated=0
apt_install() {
  local missing=()
  for package in "$@"; do
    dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$apt_updated" -eq 0 ]; then
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    apt_updated=1
  fi
  say "apt-get install ${missing[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# --- 1. the wasm32 standard library ---------------------------------------------------------
wasm_target_ready() {
  rustc --print sysroot >/dev/null 2>&1 &&
    [ -d "$(rustc --print sysroot)/lib/rustlib/wasm32-unknown-unknown/lib" ]
}

debian_sysroot_ready() {
  [ -x /usr/bin/rustc ] && ls /usr/lib/rustlib/wasm32-unknown-unknown/lib/libstd-*.rlib >/dev/null 2>&1 &&
    [ -e /usr/lib/rustlib/x86_64-unknown-linux-gnu/bin/rust-lld ]
}

build_debian_sysroot() {
  say "rustup could not add wasm32; building a wasm32 sysroot with Debian's compiler"
  apt_install rustc-web cargo-web rust-web-src lld-22
  local scratch
  scratch="$(mktemp -d)"
  mkdir -p "$scratch/src"
  printf '[package]\nname = "sysroot"\nversion = "0.0.0"\nedition = "2021"\n[lib]\npath = "src/lib.rs"\n' >"$scratch/Cargo.toml"
  : >"$scratch/src/lib.rs"
  (
    cd "$scratch"
    RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1 RUSTFLAGS="-Zforce-unstable-if-unmarked" \
      __CARGO_TESTS_ONLY_SRC_ROOT=/usr/lib/rustlib/src/rust/library \
      /usr/bin/cargo build --quiet --release --target wasm32-unknown-unknown \
      -Zbuild-std=std,panic_abort,panic_unwind,test
  )
  as_root mkdir -p /usr/lib/rustlib/wasm32-unknown-unknown/lib /usr/lib/rustlib/x86_64-unknown-linux-gnu/bin
  find "$scratch/target/wasm32-unknown-unknown/release/deps" -name '*.rlib' ! -name 'libsysroot-*' \
    -exec cp {} /usr/lib/rustlib/wasm32-unknown-unknown/lib/ \;
  as_root ln -sf /usr/lib/llvm-22/bin/lld /usr/lib/rustlib/x86_64-unknown-linux-gnu/bin/rust-lld
  rm -rf "$scratch"
}

std_source_ready() {
  [ -d "$(rustc --print sysroot)/lib/rustlib/src/rust/library/std" ]
}

if wasm_target_ready || { timeout 120 rustup target add wasm32-unknown-unknown && wasm_target_ready; }; then
  : >"$toolchain_env"
  # With the standard library's source (rustup's rust-src), `make build` rebuilds it for the
  # release wasm, where a panic then traps at once; without it, the prebuilt one is linked.
  if std_source_ready || { timeout 120 rustup component add rust-src && std_source_ready; }; then
    echo 'export CDP_BUILD_STD=1' >"$toolchain_env"
  else
    say "no rust-src: the release wasm links the prebuilt standard library (larger)"
  fi
else
  debian_sysroot_ready || build_debian_sysroot
  # Debian's compiler builds both targets then: mixing it with rustup's gives E0514.
  cat >"$toolchain_env" <<'ENV'
export RUSTC=/usr/bin/rustc
export RUSTDOC=/usr/bin/rustdoc
export CARGO=/usr/bin/cargo
export CARGO_TARGET_DIR=target/debian
ENV
fi

# --- 2. Chromium, ChromeDriver, Node.js --------------------------------------------------------
apt_install chromium chromium-driver
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  apt_install nodejs npm
fi
node_major="$(node -p 'process.versions.node.split(".")[0]')"
if [ "$node_major" -lt 20 ]; then
  say "Node.js $node_major is too old: cdp-engine needs Node.js 20 or newer" >&2
  exit 1
fi

# --- 3. the wasm-bindgen CLI matching Cargo.lock ---------------------------------------------
bindgen_version="$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/[^0-9.]/, ""); print; exit }' Cargo.lock)"
if [ -z "$bindgen_version" ]; then
  say "Cargo.lock names no wasm-bindgen version" >&2
  exit 1
fi
export PATH="$HOME/.cargo/bin:$PATH"
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$bindgen_version" ] ||
  [ "$(wasm-bindgen-test-runner --version 2>/dev/null | awk '{print $2}')" != "$bindgen_version" ]; then
  say "cargo install wasm-bindgen-cli $bindgen_version"
  # shellcheck disable=SC1090
  ( . "$toolchain_env"; unset CARGO_TARGET_DIR; "${CARGO:-cargo}" install --quiet --force \
      wasm-bindgen-cli --version "=$bindgen_version" --root "$HOME/.cargo" )
fi

# --- 4. npm dev dependencies, from the committed lock ----------------------------------------
lock_sum="$(sha256sum package-lock.json | awk '{print $1}')"
if [ "$(cat node_modules/.setup-stamp 2>/dev/null)" != "$lock_sum" ]; then
  say "npm ci"
  npm ci --no-audit --no-fund --loglevel=error
  printf '%s\n' "$lock_sum" >node_modules/.setup-stamp
fi

say "ready (wasm-bindgen $bindgen_version, $(chromium --version 2>/dev/null | head -n1), node $(node --version))"
