"""latchkey's benchmark: the signature ceiling, latchkey's token endpoint with 1, 10,000 (and with
--full 1,000,000) apps, introspection, JWKS, CLI change propagation, and with --peer
node-oidc-provider measured in the same run, each row's slices alternating between the two
servers. --repeat N runs the whole matrix N times and reports the median of each figure.

The server is pinned to CPU 0 and wrk to CPU 1 (taskset), so every figure is per server core.
Every server binds 127.0.0.1; every load run is bounded by --duration; every process started
here is stopped on exit. Prints a table and writes bench/results/latest.json (and, pass by
pass, bench/results/passes.json).
"""
import argparse
import base64
import json
import os
import pathlib
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parent.parent
BIN = ROOT / "target" / "release" / "latchkey"
SIGRATE = ROOT / "target" / "release" / "examples" / "sigrate"
PEER_DIR = ROOT / "target" / "bench-peer"
RESULTS = ROOT / "bench" / "results"
LATCHKEY_PORT, PEER_PORT = 18480, 18490
SERVER_CPU, LOAD_CPU = "0", "1"
# wrk's threads, all on LOAD_CPU (--load-cpus and --wrk-threads give a bigger machine's load
# generator more than the one core a 2-CPU machine has left for it).
WRK_THREADS = 1
# Seconds of unrecorded load before each measured run, for both servers: the first requests after
# a start fault in fresh memory (and, for the peer, run before the JIT has compiled the hot path).
WARMUP = 2
# Slices each token run is cut into, with the signature rate measured between them.
SLICES = 4
children = []


def log(text):
    print(text, file=sys.stderr, flush=True)


def stop_all(*_):
    for child in children:
        if child.poll() is None:
            child.terminate()
            try:
                child.wait(timeout=5)
            except subprocess.TimeoutExpired:
                child.kill()
    children.clear()


def spawn(command, env=None, cwd=None):
    child = subprocess.Popen(
        ["taskset", "-c", SERVER_CPU, *command],
        env={**os.environ, **(env or {})},
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    children.append(child)
    return child


def stop(child):
    child.terminate()
    try:
        child.wait(timeout=10)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()
    children.remove(child)


def rss_kib(pid, field="VmRSS"):
    for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def http(method, url, data=None, headers=None, timeout=2.0):
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def wait_ready(url, child, limit=120.0):
    """Seconds from now until `url` answers (anything below 500), polling every 10 ms."""
    start = time.monotonic()
    while time.monotonic() - start < limit:
        if child.poll() is not None:
            raise RuntimeError(f"server exited with {child.returncode} before it was ready")
        try:
            status, _ = http("GET", url, timeout=0.5)
            if status < 500:
                return time.monotonic() - start
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.01)
    raise RuntimeError(f"{url} not ready after {limit} s")


def wrk(url, duration, env):
    """Runs wrk on the load CPU with 64 keep-alive connections; returns its RESULT json.

    wrk runs at the highest CPU priority (nice -20, where the user may set it; otherwise nice
    says so and runs it as it is): a shared machine's background threads (a kernel memory
    monitor, message brokers) take its core for up to 4 ms at a time (`perf sched`), and while
    wrk is off its core it reads no responses, so every request in flight counts the delay as
    the server's latency."""
    output = subprocess.run(
        ["nice", "-n", "-20", "taskset", "-c", LOAD_CPU, "wrk", f"-t{WRK_THREADS}", "-c64", f"-d{duration}s", "--latency",
         "-s", str(ROOT / "bench" / "wrk.lua"), url],
        env={**os.environ, **env}, capture_output=True, text=True, timeout=duration + 60,
    )
    for line in output.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT "):])
    raise RuntimeError(f"wrk printed no result: {output.stdout}\n{output.stderr}")


def token_load(server, path, duration, warmup=True):
    """Token requests to `server` (latchkey or the peer) at `path`, rotating over its apps:
    WARMUP seconds unrecorded (unless `warmup` is false), then `duration` measured; adds the
    server's peak RSS."""
    env = {"MODE": "token", "APPS": str(server.apps), "TOKEN_PATH": path}
    if WARMUP and warmup:
        wrk(server.base + path, WARMUP, env)
    result = wrk(server.base + path, duration, env)
    result["rss_under_load_kib"] = rss_kib(server.child.pid, "VmHWM")
    return result


def ceiling(seconds, alg=None):
    """Signatures per second of one thread on the server CPU (bench `sigrate`), per algorithm."""
    return json.loads(subprocess.run(["taskset", "-c", SERVER_CPU, str(SIGRATE), str(seconds), *([alg] if alg else [])],
                                     capture_output=True, text=True, check=True, timeout=120).stdout)


def interleaved(servers, alg, duration):
    """`duration` seconds of token load on each of `servers` (latchkey, and the peer when there is
    one), in SLICES slices per server, with the raw signature rate measured for one second before
    the first slice and after every slice. A shared VM's speed swings by tens of percent within
    seconds, so each server's ceiling is what the measured rates would have signed over its own
    slices (each slice against the mean of the rates on either side of it), and the servers'
    slices alternate in ABBA order (L P, P L, L P, ...) so that neither is measured only in the
    host's fast or slow moments and a steady drift falls on both alike."""
    def raw_rate():
        return ceiling(1, alg)[alg]["raw_signatures_per_second"]

    slices = max(1, min(SLICES, duration))
    rates = [raw_rate()]
    # Per server, in the order given: (result, rate before, rate after) of each of its slices.
    parts = [[] for _ in servers]
    order = list(range(len(servers)))
    for index in range(slices):
        for which in (order if index % 2 == 0 else order[::-1]):
            result = servers[which].load(duration // slices, warmup=index == 0)
            rates.append(raw_rate())
            parts[which].append((result, rates[-2], rates[-1]))
    results = []
    for mine in parts:
        result = pooled([part for part, _, _ in mine])
        signable = sum(part["duration_us"] * (before + after) / 2 for part, before, after in mine)
        result["ceiling_rps"] = round(signable / result["duration_us"])
        result["ceiling_samples"] = [[before, after] for _, before, after in mine]
        results.append(result)
    return results


def pooled(parts):
    """One result from consecutive wrk runs: requests, time and errors add up; percentiles come
    from the runs' latency distributions pooled by request count; peak RSS is the last run's."""
    requests = sum(part["requests"] for part in parts)
    duration_us = sum(part["duration_us"] for part in parts)
    points = sorted((value, part["requests"] / len(part["quantiles_us"]))
                    for part in parts for value in part["quantiles_us"])

    def percentile(share):
        reached = 0.0
        for value, weight in points:
            reached += weight
            if reached >= share * requests:
                return value
        return points[-1][0]

    return {
        "requests": requests,
        "duration_us": duration_us,
        "rps": round(requests / (duration_us / 1e6), 1),
        "p50_us": percentile(0.50),
        "p90_us": percentile(0.90),
        "p99_us": percentile(0.99),
        "non_2xx": sum(part["non_2xx"] for part in parts),
        "socket_errors": sum(part["socket_errors"] for part in parts),
        "rss_under_load_kib": parts[-1]["rss_under_load_kib"],
        "slices": len(parts),
    }


def latchkey(args, db, env=None, check=True):
    return subprocess.run([str(BIN), "--database", f"sqlite://{db}", *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, check=check, timeout=600)


def token(base, path, client, secret):
    body = f"grant_type=client_credentials&client_id={client}&client_secret={secret}".encode()
    return http("POST", base + path, body, {"Content-Type": "application/x-www-form-urlencoded"})


class Latchkey:
    """A latchkey server on a fresh database with `apps` bench apps."""

    def __init__(self, workdir, apps, reuse=None):
        self.db = workdir / f"latchkey-{apps}-{reuse or 0}.db"
        self.env = {"LATCHKEY_MASTER_KEY": MASTER_KEY, "LATCHKEY_LOG": "warn"}
        latchkey(["app", "list"], self.db, self.env)  # creates and migrates
        started = time.monotonic()
        subprocess.run([sys.executable, str(ROOT / "bench" / "make_db.py"), str(self.db), str(apps), str(reuse or 0)],
                       check=True, timeout=900)
        self.fill_seconds = time.monotonic() - started
        self.apps = apps
        self.base = f"http://127.0.0.1:{LATCHKEY_PORT}"

    def start(self):
        self.child = spawn([str(BIN), "--database", f"sqlite://{self.db}", "serve", "--listen",
                            f"127.0.0.1:{LATCHKEY_PORT}", "--issuer", self.base], self.env)
        self.startup = wait_ready(self.base + "/healthz", self.child)
        # First start of a database generates its RSA key; measure a restart instead.
        stop(self.child)
        self.child = spawn([str(BIN), "--database", f"sqlite://{self.db}", "serve", "--listen",
                            f"127.0.0.1:{LATCHKEY_PORT}", "--issuer", self.base], self.env)
        self.startup = wait_ready(self.base + "/healthz", self.child)
        time.sleep(1)
        self.idle_rss = rss_kib(self.child.pid)

    def use_alg(self, alg):
        current = json.loads(latchkey(["key", "list", "--json"], self.db, self.env).stdout)
        if any(key["status"] == "active" and key["alg"] == alg for key in current):
            return
        kid = json.loads(latchkey(["key", "rotate", "--alg", alg, "--json"], self.db, self.env).stdout)["kid"]
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            status, body = token(self.base, "/oauth2/token", "bench-0", "secret-0")
            header = json.loads(base64.urlsafe_b64decode(json.loads(body)["access_token"].split(".")[0] + "=="))
            if header["kid"] == kid:
                return
            time.sleep(0.02)
        raise RuntimeError(f"latchkey did not switch to {alg}")

    def load(self, duration, warmup=True):
        return token_load(self, "/oauth2/token", duration, warmup)

    def stop(self):
        stop(self.child)


class Peer:
    """node-oidc-provider, installed from npm into target/bench-peer."""

    def __init__(self, apps, alg):
        self.apps, self.alg = apps, alg
        self.base = f"http://127.0.0.1:{PEER_PORT}"

    def start(self):
        self.child = spawn(["node", str(PEER_DIR / "server.mjs")],
                           {"PORT": str(PEER_PORT), "APPS": str(self.apps), "ALG": self.alg, "NODE_ENV": "production"},
                           cwd=PEER_DIR)
        self.startup = wait_ready(self.base + "/.well-known/openid-configuration", self.child)
        status, body = token(self.base, "/token", "bench-0", "secret-0")
        if status != 200:
            raise RuntimeError(f"the peer refused a token request: {status} {body[:200]}")
        time.sleep(1)
        self.idle_rss = rss_kib(self.child.pid)

    def load(self, duration, warmup=True):
        return token_load(self, "/token", duration, warmup)

    def stop(self):
        stop(self.child)


def install_peer():
    PEER_DIR.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "bench" / "peer" / "server.mjs", PEER_DIR / "server.mjs")
    if not (PEER_DIR / "node_modules" / "oidc-provider").exists():
        (PEER_DIR / "package.json").write_text('{"name":"latchkey-bench-peer","private":true,"type":"module"}\n')
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--silent", "oidc-provider@9"],
                       cwd=PEER_DIR, check=True, timeout=600)
    version = json.loads((PEER_DIR / "node_modules" / "oidc-provider" / "package.json").read_text())["version"]
    return version


def machine():
    model = next((line.split(":", 1)[1].strip() for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor())
    return {"cpus": os.cpu_count(), "cpu_model": model, "kernel": platform.release()}


def measure_change(server):
    """Milliseconds from `latchkey app disable` returning to the server refusing that app."""
    app, secret = f"bench-{server.apps - 1}", f"secret-{server.apps - 1}"
    started = time.monotonic()
    latchkey(["app", "disable", app], server.db, server.env)
    disabled_at = time.monotonic()
    while time.monotonic() - disabled_at < 10:
        status, _ = token(server.base, "/oauth2/token", app, secret)
        if status == 401:
            seen = time.monotonic()
            latchkey(["app", "enable", app], server.db, server.env)
            return {"cli_ms": round((disabled_at - started) * 1000), "seen_after_cli_ms": round((seen - disabled_at) * 1000)}
        time.sleep(0.005)
    raise RuntimeError("the disable did not reach the server within 10 s")


def ratio(ours, theirs):
    # Not rounded, like the other derived figures: a target is judged on the exact ratio.
    return ours / theirs if theirs else None


ALGS = ["RS256", "ES256", "EdDSA"]
# The peer is given its clients as a list in its configuration, built at start; it is measured
# up to this many apps (the targets compare it with latchkey at 1 and 10,000 apps).
PEER_MAX_APPS = 10000
# Token reuse: every app opted in at 80 %, rotating over this many apps (each one's token is
# signed once, then handed out again).
REUSE_APPS = 10000


def main():
    global WARMUP, SLICES, LOAD_CPU, WRK_THREADS
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--peer", action="store_true", help="also measure node-oidc-provider")
    parser.add_argument("--full", action="store_true", help="add the 1,000,000-app rows")
    parser.add_argument("--apps", default=None, help="comma-separated app counts (default 1,10000)")
    parser.add_argument("--duration", type=int, default=10, help="seconds per load run (default 10)")
    parser.add_argument("--warmup", type=int, default=WARMUP,
                        help=f"seconds of unrecorded load before each token run (default {WARMUP})")
    parser.add_argument("--slices", type=int, default=SLICES,
                        help=f"slices per token run, the signature rate measured between them (default {SLICES})")
    parser.add_argument("--repeat", type=int, default=1,
                        help="run the whole matrix this many times and report each figure's median (default 1)")
    parser.add_argument("--load-cpus", default=LOAD_CPU,
                        help=f"CPUs for wrk, as taskset takes them (default {LOAD_CPU}; the server has CPU {SERVER_CPU})")
    parser.add_argument("--wrk-threads", type=int, default=WRK_THREADS,
                        help=f"wrk threads (default {WRK_THREADS}); give it as many as --load-cpus has CPUs")
    args = parser.parse_args()
    LOAD_CPU, WRK_THREADS = args.load_cpus, max(1, min(64, args.wrk_threads))
    WARMUP = args.warmup
    SLICES = max(1, args.slices)
    counts = [int(n) for n in (args.apps or ("1,10000,1000000" if args.full else "1,10000")).split(",")]
    for tool in ["wrk", "taskset"] + (["node", "npm"] if args.peer else []):
        if not shutil.which(tool):
            sys.exit(f"{tool} is missing: bench/run.sh installs wrk; node and npm come with the machine")

    signal.signal(signal.SIGTERM, lambda *_: (stop_all(), sys.exit(1)))
    report = {"machine": machine(), "duration_s": args.duration, "warmup_s": WARMUP, "slices": SLICES,
              "repeat": max(1, args.repeat), "load_cpus": LOAD_CPU, "wrk_threads": WRK_THREADS}
    log("== signature ceiling (one thread, CPU 0)")
    report["ceiling"] = ceiling(3)
    log(f"   {json.dumps(report['ceiling'])}")
    peer_version = install_peer() if args.peer else None
    report["peer"] = f"oidc-provider {peer_version}" if peer_version else None
    workdir = pathlib.Path(tempfile.mkdtemp(prefix="latchkey-bench-"))
    global MASTER_KEY
    MASTER_KEY = latchkey(["master-key", "generate"], workdir / "unused.db").stdout.strip()
    runs = []
    try:
        # Databases are filled once and shared by the repeats (a million apps take a while).
        databases = {}
        for index in range(report["repeat"]):
            if report["repeat"] > 1:
                log(f"== repeat {index + 1} of {report['repeat']}")
            runs.append(measure(args, counts, workdir, databases))
            # A long run stopped part-way keeps the passes it finished.
            save("passes.json", {**report, "runs": runs})
    finally:
        stop_all()
        shutil.rmtree(workdir, ignore_errors=True)
    report.update(combine(runs))
    if len(runs) > 1:
        report["runs"] = runs
    finish(report)


def database(databases, workdir, apps, reuse=None):
    if (apps, reuse) not in databases:
        databases[apps, reuse] = Latchkey(workdir, apps, reuse)
    return databases[apps, reuse]


def measure(args, counts, workdir, databases):
    """One pass over the matrix: every row, introspection, JWKS, change propagation and token
    reuse, each row with its derived figures (share of the ceiling, p99/p50, ratio to the peer)."""
    run = {"rows": []}
    for apps in counts:
        server = database(databases, workdir, apps)
        server.start()
        log(f"== latchkey, {apps} apps: ready in {server.startup:.2f} s, idle RSS {server.idle_rss} KiB")
        for alg in ALGS:
            server.use_alg(alg)
            peer = Peer(apps, alg) if args.peer and apps <= PEER_MAX_APPS else None
            if peer:
                peer.start()
            try:
                results = interleaved([server, *([peer] if peer else [])], alg, args.duration)
            finally:
                if peer:
                    peer.stop()
            ours = results[0]
            row = {"server": "latchkey", "apps": apps, "alg": alg, **ours,
                   "startup_s": round(server.startup, 3), "idle_rss_kib": server.idle_rss}
            run["rows"].append(row)
            log(f"   {alg}: {ours['rps']:.0f} tokens/s p50 {ours['p50_us']} us p99 {ours['p99_us']} us, "
                f"ceiling {ours['ceiling_rps']:.0f}/s")
            if peer:
                theirs = results[1]
                run["rows"].append({"server": "oidc-provider", "apps": apps, "alg": alg, **theirs,
                                    "startup_s": round(peer.startup, 3), "idle_rss_kib": peer.idle_rss})
                row["ratio_to_peer"] = ratio(ours["rps"], theirs["rps"])
                log(f"   peer {alg}: {theirs['rps']:.0f} tokens/s, ratio {row['ratio_to_peer']:.2f}")
        server.use_alg("RS256")
        if apps == max(counts) or apps == 10000:
            run.setdefault("change_propagation", {})[str(apps)] = measure_change(server)
        if apps == counts[0]:
            run["introspection"], run["jwks"] = measure_introspection_and_jwks(server, args.duration)
            log(f"   introspection {run['introspection']['rps']:.0f}/s, JWKS {run['jwks']['rps']:.0f}/s")
        server.stop()
    if REUSE_APPS in counts:
        server = database(databases, workdir, REUSE_APPS, reuse=80)
        server.start()
        # Warm up: the first request of each app signs; the measured run then shows steady state.
        warmup = max(2, REUSE_APPS // 1500 + 2)
        log(f"== token reuse: {warmup} s warm-up (every app's first token is signed)")
        server.load(warmup)
        reused = server.load(args.duration)
        run["rows"].append({"server": "latchkey (token reuse 80%)", "apps": REUSE_APPS, "alg": "RS256", **reused,
                            "startup_s": round(server.startup, 3), "idle_rss_kib": server.idle_rss})
        server.stop()
        log(f"== token reuse: {reused['rps']:.0f} tokens/s")
    return derive(run)


def measure_introspection_and_jwks(server, duration):
    creds = json.loads(latchkey(["app", "create", "--name", "rs", "--introspect", "--json"],
                                server.db, server.env).stdout)
    time.sleep(0.5)
    _, body = token(server.base, "/oauth2/token", "bench-0", "secret-0")
    auth = base64.b64encode(f"{creds['client_id']}:{creds['client_secret']}".encode()).decode()
    introspection = wrk(server.base + "/oauth2/introspect", duration,
                        {"MODE": "introspect", "TOKEN": json.loads(body)["access_token"], "AUTH": auth})
    return introspection, wrk(server.base + "/oauth2/jwks", duration, {"MODE": "get"})


def derive(run):
    """Adds each row's derived figures; drops the latency quantiles, which were for pooling
    slices (the pooled percentiles are what the report keeps)."""
    for result in [*run["rows"], run.get("introspection"), run.get("jwks")]:
        if result:
            result.pop("quantiles_us", None)
    peer_rs256 = {row["apps"]: row["rps"] for row in run["rows"]
                  if row["server"] == "oidc-provider" and row["alg"] == "RS256"}
    for row in run["rows"]:
        if is_reuse(row):
            row["share_of_ceiling_pct"] = None
            if peer_rs256:
                row["ratio_to_peer"] = ratio(row["rps"], peer_rs256.get(row["apps"], max(peer_rs256.values())))
        else:
            # Not rounded: the targets compare these with their limits exactly.
            row["share_of_ceiling_pct"] = row["rps"] / row["ceiling_rps"] * 100
        row["p99_over_p50"] = row["p99_us"] / row["p50_us"]
    return run


# Counts that add up over repeats; the row's key stays as it is; every other number is the
# median of the repeats.
SUMMED = {"requests", "duration_us", "non_2xx", "socket_errors", "slices"}
KEY = {"apps"}


def combine(runs):
    """One report from the repeats: each row, each figure, the median over the repeats (the
    derived figures too, taken per repeat first, so a median ratio is the ratio of one run, not
    of two medians); counts summed. With one repeat, that repeat as it is."""
    if len(runs) == 1:
        return runs[0]

    def merge(results):
        merged = dict(results[0])
        for field, value in results[0].items():
            values = [result.get(field) for result in results]
            if field in SUMMED:
                merged[field] = sum(values)
            elif field not in KEY and isinstance(value, (int, float)) and not isinstance(value, bool) and None not in values:
                merged[field] = statistics.median(values)
        merged.pop("ceiling_samples", None)
        return merged

    key = lambda row: (row["server"], row["apps"], row["alg"])
    combined = {"rows": [merge([next(row for row in run["rows"] if key(row) == key(first)) for run in runs])
                         for first in runs[0]["rows"]]}
    for name in ["introspection", "jwks"]:
        if runs[0].get(name):
            combined[name] = merge([run[name] for run in runs])
    if runs[0].get("change_propagation"):
        combined["change_propagation"] = {apps: merge([run["change_propagation"][apps] for run in runs])
                                          for apps in runs[0]["change_propagation"]}
    return combined


def finish(report):
    report["targets"] = targets(report)
    save("latest.json", report)
    print_table(report)


def save(name, report):
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / name).write_text(json.dumps(report, indent=2) + "\n")


def is_reuse(row):
    """The token-reuse row: tokens handed out again, not signed per request."""
    return row["server"].startswith("latchkey (token reuse")


def apps_text(apps):
    return "1 app" if apps == 1 else f"{apps:,} apps"


def targets(report):
    """Issue 5's targets as (target, figure, met) from this run's rows; a target whose rows were
    not measured (no --peer, no --full) is left out."""
    rows = report["rows"]
    ours = [row for row in rows if row["server"] == "latchkey"]
    found = []

    def add(name, figures, met):
        if figures:
            found.append({"target": name, "figure": ", ".join(figures), "met": all(met)})

    rs256 = [row for row in ours if row["alg"] == "RS256"]
    add("RS256 >= 85% of the RS256 signature rate",
        [f"{row['share_of_ceiling_pct']:.0f}% ({apps_text(row['apps'])})" for row in rs256],
        [row["share_of_ceiling_pct"] >= 85 for row in rs256])
    peered = [row for row in ours if row.get("ratio_to_peer")]
    for algs, floor in [(("RS256",), 1.8), (("ES256", "EdDSA"), 5)]:
        cells = [row for row in peered if row["alg"] in algs]
        add(f"{' and '.join(algs)} >= {floor}x node-oidc-provider",
            [f"{row['ratio_to_peer']:.2f}x ({row['alg']}, {apps_text(row['apps'])})" for row in cells],
            [row["ratio_to_peer"] >= floor for row in cells])
    add("p99 <= 2x p50 at concurrency 64",
        [f"{row['p99_over_p50']:.2f} ({row['alg']}, {apps_text(row['apps'])})" for row in ours],
        [row["p99_over_p50"] <= 2 for row in ours])
    for alg in ["RS256", "ES256", "EdDSA"]:
        by_apps = {row["apps"]: row for row in ours if row["alg"] == alg}
        if 1 in by_apps and 1_000_000 in by_apps:
            one, million = by_apps[1], by_apps[1_000_000]
            tokens = (million["rps"] / one["rps"] - 1) * 100
            share = (million["share_of_ceiling_pct"] / one["share_of_ceiling_pct"] - 1) * 100
            # Judged on the share of each row's own ceiling: the rows run minutes apart, and a
            # shared VM's speed drifts by more than the 10% this target allows. Only a loss
            # counts: more apps being faster is noise, not a miss.
            add(f"{alg}: 1,000,000 apps within 10% of 1 app (share of the ceiling)",
                [f"{share:+.1f}% (tokens/s {tokens:+.1f}%)"], [share >= -10])
    for apps, limit in [(10_000, 25), (1_000_000, 400)]:
        cells = [row for row in ours if row["apps"] == apps][:1]
        add(f"idle RSS < {limit} MB with {apps:,} apps",
            [f"{row['idle_rss_kib'] * 1024 / 1e6:.1f} MB" for row in cells],
            [row["idle_rss_kib"] * 1024 / 1e6 < limit for row in cells])
    cells = [row for row in ours if row["apps"] == 1_000_000][:1]
    add("startup to ready < 3 s with 1,000,000 apps", [f"{row['startup_s']:.2f} s" for row in cells],
        [row["startup_s"] < 3 for row in cells])
    change = (report.get("change_propagation") or {}).get("1000000")
    if change:
        add("a change reaches a 1,000,000-app server within 1 s", [f"{change['seen_after_cli_ms']} ms"],
            [change["seen_after_cli_ms"] < 1000])
    reuse = [row for row in rows if is_reuse(row) and row.get("ratio_to_peer")]
    add("token reuse >= 20x node-oidc-provider on RS256", [f"{row['ratio_to_peer']:.2f}x" for row in reuse],
        [row["ratio_to_peer"] >= 20 for row in reuse])
    return found


def print_table(report):
    print(f"\nmachine: {report['machine']['cpu_model']}, {report['machine']['cpus']} CPUs; "
          f"server on CPU {SERVER_CPU}, wrk on CPU {report.get('load_cpus', LOAD_CPU)} ({report.get('wrk_threads', 1)} thread(s)); {report['duration_s']} s per run after {report.get('warmup_s', 0)} s of warm-up, 64 connections")
    print("signature ceiling at the start, one thread: " + ", ".join(
        f"{alg} {values['raw_signatures_per_second']:.0f}/s raw, {values['jwts_per_second']:.0f} JWT/s"
        for alg, values in report["ceiling"].items()))
    print("(% ceil is taken against the raw rate measured between slices of each row's run, column ceil/s)")
    if report.get("repeat", 1) > 1:
        print(f"every figure is the median of {report['repeat']} runs of the whole matrix; errors are summed")
    header = (f"{'server':28} {'apps':>8} {'alg':6} {'tokens/s':>9} {'p50 ms':>7} {'p99 ms':>7} {'p99/50':>6} "
              f"{'ceil/s':>7} {'% ceil':>7} {'x peer':>7} {'idle MiB':>8} {'load MiB':>8} {'start s':>7} {'errors':>6}")
    print(header)
    print("-" * len(header))
    for row in report["rows"]:
        share = row["share_of_ceiling_pct"]
        share_text = f"{share:.0f}%" if share is not None else ""
        ceiling_text = f"{row['ceiling_rps']:.0f}" if row.get("ceiling_rps") else ""
        ratio_text = f"{row['ratio_to_peer']:.2f}" if row.get("ratio_to_peer") else ""
        print(f"{row['server']:28} {row['apps']:>8} {row['alg']:6} {row['rps']:>9.0f} {row['p50_us']/1000:>7.2f} "
              f"{row['p99_us']/1000:>7.2f} {row['p99_over_p50']:>6.2f} {ceiling_text:>7} "
              f"{share_text:>7} {ratio_text:>7} "
              f"{row['idle_rss_kib']/1024:>8.1f} {row['rss_under_load_kib']/1024:>8.1f} {row['startup_s']:>7.2f} "
              f"{row['non_2xx'] + row['socket_errors']:>6}")
    for name in ["introspection", "jwks"]:
        if report.get(name):
            print(f"{name}: {report[name]['rps']:.0f} requests/s, p50 {report[name]['p50_us']/1000:.2f} ms, "
                  f"p99 {report[name]['p99_us']/1000:.2f} ms")
    for apps, change in (report.get("change_propagation") or {}).items():
        print(f"CLI change reaching the server with {apps} apps: {change['seen_after_cli_ms']} ms after the command "
              f"returned (the command itself took {change['cli_ms']} ms)")
    print("\ntargets:")
    for target in report.get("targets", []):
        print(f"  {'met   ' if target['met'] else 'MISSED'} {target['target']}: {target['figure']}")
    print(f"JSON: {RESULTS / 'latest.json'}")


if __name__ == "__main__":
    try:
        main()
    finally:
        stop_all()
