#!/usr/bin/env bash
# Tests the admin API against its own OpenAPI document with schemathesis: a real `latchkey serve`
# on 127.0.0.1 with a temporary database, an admin app created as the README says, and
# generated requests (valid and invalid) to every /admin/v1 operation with its bearer token.
# Fails on any failed check: a 5xx, a status code, content type, header or body the document
# does not describe, or invalid data accepted. Bounded in examples and time.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=${SCHEMATHESIS_VENV:-target/ci-venv}
if [ ! -x "$venv/bin/schemathesis" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check 'schemathesis==4.32.5'
fi

# The debug binary `cargo test --workspace` built (the same targets, so the same features):
# building it again is a no-op then.
cargo build --workspace --all-targets --quiet
latchkey=target/debug/latchkey

work=$(mktemp -d)
server_pid=
stop() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap stop EXIT

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
export LATCHKEY_DATABASE_URL="sqlite://$work/latchkey.db"
export LATCHKEY_LOG=warn

"$latchkey" app create --name ops --scope latchkey:admin --json >"$work/ops.json"
"$latchkey" serve --listen "127.0.0.1:$port" --issuer "$base" </dev/null >"$work/server.log" 2>&1 &
server_pid=$!

# Waits for the server, then trades the admin app's credentials for a token.
token=$(python3 - "$base" "$work/ops.json" <<'PY'
import base64, json, sys, time, urllib.parse, urllib.request
base, ops_file = sys.argv[1], sys.argv[2]
deadline = time.monotonic() + 60
while True:
    try:
        urllib.request.urlopen(base + "/healthz", timeout=2)
        break
    except OSError:
        if time.monotonic() > deadline:
            sys.exit("latchkey serve did not answer /healthz within 60 s")
        time.sleep(0.2)
ops = json.load(open(ops_file))
basic = base64.b64encode(f"{ops['client_id']}:{ops['client_secret']}".encode()).decode()
request = urllib.request.Request(
    base + "/oauth2/token",
    data=urllib.parse.urlencode({"grant_type": "client_credentials", "scope": "latchkey:admin"}).encode(),
    headers={"Authorization": "Basic " + basic},
)
print(json.load(urllib.request.urlopen(request, timeout=10))["access_token"])
PY
)

# Tokens live 300 s by default, longer than the run. One worker: the server gets the other core,
# and hypothesis on CPython 3.11 can fail in its own code when several threads generate at once.
# Run from the temporary folder: schemathesis keeps a cache of what it found in the current one.
schemathesis=$(realpath "$venv/bin/schemathesis")
# `timeout` bounds the time (schemathesis' own --max-time keeps fuzzing until it is spent).
if ! (cd "$work" && timeout "${SCHEMATHESIS_TIMEOUT:-170}" "$schemathesis" run "$base/admin/v1/openapi.json" \
  --url "$base" \
  --header "Authorization: Bearer $token" \
  --checks "${SCHEMATHESIS_CHECKS:-not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance,negative_data_rejection}" \
  --phases examples,coverage,fuzzing \
  --max-examples "${SCHEMATHESIS_MAX_EXAMPLES:-40}" \
  --seed "${SCHEMATHESIS_SEED:-1}" \
  --workers 1 \
  --request-timeout 30 \
  --warnings off \
  --report-dir "$work/report"); then
  echo "schemathesis failed or took too long: the admin API and its OpenAPI document disagree (server log follows)" >&2
  tail -n 50 "$work/server.log" >&2
  exit 1
fi
