#!/usr/bin/env bash
# Builds the web app (release) and starts the proxy serving it on http://127.0.0.1:8080 with the
# embedded default configuration. Extra arguments go to the proxy (try --help).
set -euo pipefail
cd "$(dirname "$0")"
scripts/bootstrap.sh run
export PATH="$PWD/node_modules/.bin:$HOME/.cargo/bin:$PATH"
echo "==> trunk build --release" >&2
trunk build --release
echo "==> starting the proxy; open http://127.0.0.1:8080" >&2
exec cargo run --release -p postbag-proxy -- --dist dist "$@"
