#!/usr/bin/env bash
# latchkey's benchmark, one command: installs wrk and oha if missing, builds latchkey, the
# database filler and the signature ceiling in release mode, then runs bench/run.py (pass
# --backend sqlite|postgres, or sqlite,postgres to compare both in one run; --peer for
# node-oidc-provider in the same run; --full for the 1,000,000-app rows; --duration N for
# seconds per load run; --help for the rest).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v wrk >/dev/null 2>&1; then
  apt-get update -qq && apt-get install -y -qq wrk
fi
if ! command -v oha >/dev/null 2>&1; then
  cargo install oha --locked
fi
cargo build --release -p latchkey-keys --example sigrate
# latchkey and the filler that writes the bench apps through latchkey's store (cargo xtask bench-fill).
cargo build --release -p latchkey -p xtask
exec python3 bench/run.py "$@"
