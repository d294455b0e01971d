#!/usr/bin/env python3
"""Instructions per token, counted by callgrind: what metrics and the request log add to a
token, on a measure a shared machine does not disturb (docs/benchmarks.md). Runs the release
binary (`cargo build --release -p latchkey`) under `valgrind --tool=callgrind` with an EdDSA key
and one app, sends LOW and then HIGH sequential token requests on one connection, and prints
(HIGH total - LOW total) / (HIGH - LOW) for each configuration. Needs valgrind."""

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


def instructions(work, database, body, count, args, env):
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
    for _ in range(count):
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


def main():
    with tempfile.TemporaryDirectory() as directory:
        work = pathlib.Path(directory)
        database = f"sqlite://{work / 'bench.db'}"
        cli(database, "key", "rotate", "--alg", "EdDSA")
        app = json.loads(cli(database, "app", "create", "--name", "callgrind", "--json"))
        body = urllib.parse.urlencode({"grant_type": "client_credentials", "client_id": app["client_id"],
                                       "client_secret": app["client_secret"]})
        for name, (args, env) in CONFIGS.items():
            low = instructions(work, database, body, LOW, args, env)
            high = instructions(work, database, body, HIGH, args, env)
            print(f"{name}: {(high - low) / (HIGH - LOW):,.0f} instructions per token", flush=True)


if __name__ == "__main__":
    main()
