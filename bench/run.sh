#!/usr/bin/env bash
# latchkey's benchmark, one command: installs wrk if missing, builds latchkey and the signature
# ceiling in release mode, then runs bench/run.py (pass --peer for node-oidc-provider in the same
# run, --full for the 1,000,000-app rows, --duration N for seconds per load run).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v wrk >/dev/null 2>&1; then
  apt-get update -qq && apt-get install -y -qq wrk
fi
cargo build --release -p latchkey-keys --example sigrate
cargo build --release -p latchkey
exec python3 bench/run.py "$@"
