#!/usr/bin/env python3
"""Instructions per token, counted by callgrind: what metrics and the request log add to a
token, on a measure a shared machine does not disturb (docs/benchmarks.md). Runs the release
binary (`cargo build --release -p latchkey`) under `valgrind --tool=callgrind` with an EdDSA key
and one app, sends LOW and then HIGH sequential token requests on one connection, and prints
(HIGH total - LOW total) / (HIGH - LOW) for each configuration; then the same for an app that
authenticates with `private_key_jwt` (an EdDSA client assertion, a new one per request, signed
ahead by `openssl`), whose token costs one signature check more. Needs valgrind and openssl.
`--only NAME` runs one configuration (`off`, `private_key_jwt`, ...)."""

import base64
import http.client
import json
import os
import pathlib
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse

ROOT = pathlib.Path(__file__).resolve().parent.parent
BINARY = ROOT / "target" / "release" / "latchkey"
PORT, METRICS_PORT = 18600, 18601
LOW, HIGH = 200, 2200
# Background polls scale with wall time, not with tokens: slowed out of the way.
QUIET = ["--refresh-ms", "60000", "--maintenance-ms", "3600000"]
CONFIGS = {
    "off": ([], {}),
    "metrics": (["--metrics-listen", f"127.0.0.1:{METRICS_PORT}"], {}),
    "metrics, text log": (["--metrics-listen", f"127.0.0.1:{METRICS_PORT}"], {"LATCHKEY_LOG": "info,sqlx=warn"}),
    "metrics, JSON log": (["--metrics-listen", f"127.0.0.1:{METRICS_PORT}", "--log-format", "json"],
                          {"LATCHKEY_LOG": "info,sqlx=warn"}),
}


def cli(database, *args):
    env = {**os.environ, "LATCHKEY_LOG": "error"}
    return subprocess.run([BINARY, "--database", database, *args], env=env, check=True,
                          capture_output=True, text=True).stdout


def instructions(work, database, bodies, count, args, env):
    out = work / f"callgrind-{time.monotonic_ns()}.out"
    with open(work / "serve.log", "a") as log:
        child = subprocess.Popen(
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", BINARY, "--database", database,
             "serve", "--listen", f"127.0.0.1:{PORT}", "--issuer", "http://bench.test", *QUIET, *args],
            env={**os.environ, "LATCHKEY_LOG": "warn", **env}, stdout=subprocess.DEVNULL, stderr=log)
    deadline = time.monotonic() + 120
    while True:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
            connection.request("GET", "/readyz")
            reply = connection.getresponse()
            reply.read()
            if reply.status == 200:
                break
        except OSError:
            pass
        if time.monotonic() > deadline or child.poll() is not None:
            child.kill()
            sys.exit("latchkey did not become ready under valgrind")
        time.sleep(0.5)
    for n in range(count):
        body = bodies(n)
        connection.request("POST", "/oauth2/token", body, {"Content-Type": "application/x-www-form-urlencoded"})
        reply = connection.getresponse()
        reply.read()
        if reply.status != 200:
            sys.exit(f"a token request answered {reply.status}")
    connection.close()
    child.send_signal(signal.SIGTERM)
    child.wait(timeout=120)
    totals = subprocess.run(["callgrind_annotate", out], capture_output=True, text=True, check=True).stdout
    return int(re.search(r"([\d,]+) \(100.0%\)\s+PROGRAM TOTALS", totals).group(1).replace(",", ""))


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def assertion_bodies(work, database, count):
    """An app holding an Ed25519 public key, and `count` client assertions for it, each with a
    `jti` of its own (a repeated one is refused as a replay), signed by `openssl`."""
    key = work / "client.pem"
    subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519", "-out", key], check=True, capture_output=True)
    public = subprocess.run(["openssl", "pkey", "-in", key, "-pubout", "-outform", "DER"], check=True,
                            capture_output=True).stdout
    jwks = work / "client-jwks.json"
    jwks.write_text(json.dumps({"keys": [{"kty": "OKP", "crv": "Ed25519", "kid": "k1", "x": b64(public[-32:])}]}))
    app = json.loads(cli(database, "app", "create", "--name", "callgrind-keyed", "--jwks", str(jwks), "--json"))
    client_id = app["client_id"]
    header = b64(json.dumps({"alg": "EdDSA", "kid": "k1", "typ": "JWT"}).encode())
    now = int(time.time())
    signing_input = work / "signing-input"
    bodies = []
    for n in range(count):
        claims = {"iss": client_id, "sub": client_id, "aud": "http://bench.test", "iat": now,
                  "exp": now + 3000, "jti": f"callgrind-{n}"}
        message = f"{header}.{b64(json.dumps(claims).encode())}"
        signing_input.write_text(message)
        signature = subprocess.run(["openssl", "pkeyutl", "-sign", "-inkey", key, "-rawin", "-in", signing_input],
                                   check=True, capture_output=True).stdout
        bodies.append(urllib.parse.urlencode({
            "grant_type": "client_credentials",
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": f"{message}.{b64(signature)}"}))
    return bodies


def main():
    only = sys.argv[sys.argv.index("--only") + 1] if "--only" in sys.argv else None
    with tempfile.TemporaryDirectory() as directory:
        work = pathlib.Path(directory)
        database = f"sqlite://{work / 'bench.db'}"
        cli(database, "key", "rotate", "--alg", "EdDSA")
        app = json.loads(cli(database, "app", "create", "--name", "callgrind", "--json"))
        body = urllib.parse.urlencode({"grant_type": "client_credentials", "client_id": app["client_id"],
                                       "client_secret": app["client_secret"]})
        for name, (args, env) in CONFIGS.items():
            if only not in (None, name):
                continue
            low = instructions(work, database, lambda _: body, LOW, args, env)
            high = instructions(work, database, lambda _: body, HIGH, args, env)
            print(f"{name}: {(high - low) / (HIGH - LOW):,.0f} instructions per token", flush=True)
        if only in (None, "private_key_jwt"):
            # A fresh set per run: the replay cache lives in the process, so each run starts
            # empty and could take the same set, but distinct ones leave nothing to chance.
            low = instructions(work, database, assertion_bodies(work, database, LOW).__getitem__, LOW, [], {})
            high = instructions(work, database, assertion_bodies(work, database, HIGH).__getitem__, HIGH, [], {})
            print(f"private_key_jwt (EdDSA assertion): {(high - low) / (HIGH - LOW):,.0f} instructions per token",
                  flush=True)


if __name__ == "__main__":
    main()
