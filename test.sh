#!/usr/bin/env bash
# Runs every test: formatting and lints, Rust unit and integration tests (against a real Dovecot),
# wasm tests in headless Chromium, and end-to-end browser tests of the app served by the proxy.
# Installs whatever is missing first. CI runs exactly this (.ci/run).
set -euo pipefail
cd "$(dirname "$0")"
scripts/bootstrap.sh test
export PATH="$PWD/node_modules/.bin:$HOME/.cargo/bin:$PATH"
export CHROMEDRIVER="${CHROMEDRIVER:-/usr/bin/chromedriver}"
started=$SECONDS
phase() { printf '\n==> [%4ss] %s\n' "$((SECONDS - started))" "$*" >&2; }
# What a failed link or a killed build most often comes down to, printed once for CI's log.
df -h . /tmp >&2 || true
free -m >&2 || true

phase "cargo fmt --check, leptosfmt --check (view! bodies)"
cargo fmt --all -- --check
leptosfmt --check --quiet frontend/src

phase "cargo clippy (native, -D warnings)"
cargo clippy --workspace --exclude postbag-web --all-targets -- -D warnings
phase "cargo clippy (wasm32, -D warnings)"
cargo clippy -p postbag-web --target wasm32-unknown-unknown --all-targets -- -D warnings
# The protocol library must stay wasm-clean; its examples and benches are native tools (rustls, clap).
phase "protocol crate builds for wasm32"
cargo clippy -p postbag-protocol --target wasm32-unknown-unknown --lib -- -D warnings
cargo build -p postbag-protocol --target wasm32-unknown-unknown --lib

phase "native unit and integration tests (real Dovecot, real proxy)"
cargo test --workspace --exclude postbag-web

phase "wasm tests in headless Chromium (IndexedDB, store, sync engine)"
# Built first with long lines cut: a failed link prints the linker's whole command line (about
# 200 KB of exported names), which would push the linker's own error out of any log's tail.
cargo test -p postbag-web --target wasm32-unknown-unknown --no-run 2>&1 | cut -c1-2000 >&2
# The runner gives a whole test binary 20 s by default; the backup and disk-copy binaries run
# for longer on a loaded 2-core machine. A hang still ends, after 5 minutes.
WASM_BINDGEN_TEST_TIMEOUT=300 cargo test -p postbag-web --target wasm32-unknown-unknown

phase "release build of the app (what ./run.sh serves)"
trunk build --release

phase "end-to-end tests: Playwright + Chromium against the proxy and Dovecot"
cargo build -p postbag-tests --bin fixture
node --test --test-concurrency=1 tests/e2e/

phase "all tests passed"
