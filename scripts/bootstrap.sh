#!/usr/bin/env bash
# Installs what Postbag needs to build, run and test, skipping what is already there.
# Sourced by ./run.sh and ./test.sh; safe to run again. The versions are the ones verified in
# docs/toolchain.md: change them together with Cargo.toml and Trunk.toml.
#
# Usage: scripts/bootstrap.sh [run|test]   (run: only what building and serving needs)

set -euo pipefail

TRUNK_VERSION=0.21.14
WASM_BINDGEN_VERSION=0.2.130          # must equal the wasm-bindgen pinned in Cargo.toml
LEPTOSFMT_VERSION=0.1.33               # formats view! bodies, which rustfmt leaves alone (tests)
APT_RUN=()                             # the proxy and the app need nothing from apt to run
# Postfix is the tests' MTA; it delivers through Dovecot's LMTP (dovecot-lmtpd). The tests run
# private instances of both from their own config files (tests/src/dovecot.rs, postfix.rs).
APT_TEST=(chromium chromium-driver dovecot-core dovecot-pop3d dovecot-lmtpd postfix)

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
mode="${1:-test}"
export PATH="$HOME/.cargo/bin:$PATH"

step() { printf '\n==> %s\n' "$*" >&2; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

need_apt=()
if [ "$mode" = test ]; then
  for pkg in "${APT_TEST[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || need_apt+=("$pkg")
  done
fi
for pkg in "${APT_RUN[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || need_apt+=("$pkg")
done
if [ ${#need_apt[@]} -gt 0 ]; then
  step "apt: installing ${need_apt[*]}"
  as_root apt-get update -qq
  # "No configuration": Postfix's package writes no /etc/postfix/main.cf, so neither its init
  # script nor its systemd unit starts a system MTA on port 25 (tests start their own).
  echo "postfix postfix/main_mailer_type select No configuration" | as_root debconf-set-selections
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
  # The packages may start a system Dovecot (or a Postfix configured earlier) on the standard
  # ports; tests start their own.
  as_root sh -c 'command -v systemctl >/dev/null && systemctl disable --now dovecot postfix 2>/dev/null || true'
  as_root sh -c 'test -f /etc/postfix/main.cf && postfix status 2>/dev/null && postfix stop || true'
fi

if ! rustup target list --installed 2>/dev/null | grep -q '^wasm32-unknown-unknown$'; then
  step "rustup: adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

if ! trunk --version 2>/dev/null | grep -q " $TRUNK_VERSION\$"; then
  step "cargo install trunk $TRUNK_VERSION (about 7 minutes the first time)"
  cargo install trunk --version "$TRUNK_VERSION" --locked
fi

if ! wasm-bindgen --version 2>/dev/null | grep -q " $WASM_BINDGEN_VERSION\$"; then
  step "cargo install wasm-bindgen-cli $WASM_BINDGEN_VERSION (about 3 minutes the first time)"
  # Not --locked: its lock file names a webpki-roots release the registry no longer serves.
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
fi

if [ "$mode" = test ] && ! leptosfmt --version 2>/dev/null | grep -q " $LEPTOSFMT_VERSION\$"; then
  step "cargo install leptosfmt $LEPTOSFMT_VERSION (about 3 minutes the first time)"
  cargo install leptosfmt --version "$LEPTOSFMT_VERSION" --locked
fi

if [ ! -x "$root/node_modules/.bin/wasm-opt" ] || [ ! -f "$root/node_modules/dompurify/dist/purify.min.js" ] \
   || { [ "$mode" = test ] && [ ! -d "$root/node_modules/playwright-core" ]; }; then
  step "npm ci (DOMPurify, binaryen's wasm-opt, playwright-core)"
  (cd "$root" && npm ci --no-audit --no-fund --loglevel=error)
fi
