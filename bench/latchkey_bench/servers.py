"""Starting and stopping the servers under test: `Processes` owns every process the bench
starts and stops them all on exit (also on Ctrl-C, SIGTERM or an error); `LatchkeyServer` and
`Peer` start a server pinned to a CPU, bound to 127.0.0.1, and are ready when a probe says so,
polled until a deadline (never a sleep taken on trust)."""
import base64
import json
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

# How long a server may take to be ready: a 1,000,000-app start takes seconds, a slow disk more.
READY_TIMEOUT_S = 120.0


def log(text):
    print(text, file=sys.stderr, flush=True)


class Processes:
    """The bench's child processes. As a context manager it stops them all on the way out, and
    turns SIGTERM and SIGHUP into an exit, so that the way out is taken then too."""

    def __init__(self, log_dir):
        # Each child's stderr goes to a file there, not a pipe: a pipe nobody reads fills up
        # and stalls the server writing to it.
        self.log_dir = pathlib.Path(log_dir)
        self.children = []

    def __enter__(self):
        for number in (signal.SIGTERM, signal.SIGHUP):
            signal.signal(number, lambda received, _: sys.exit(128 + received))
        return self

    def __exit__(self, *_):
        self.stop_all()

    def spawn(self, command, cpu, env=None, cwd=None):
        """`command` pinned to `cpu` (taskset execs it: the pid is the server's)."""
        log_path = self.log_dir / f"process-{len(self.children)}-{time.monotonic_ns()}.log"
        with open(log_path, "wb") as stderr:
            child = subprocess.Popen(["taskset", "-c", cpu, *map(str, command)],
                                     env={**os.environ, **(env or {})}, cwd=cwd,
                                     stdout=subprocess.DEVNULL, stderr=stderr)
        child.log_path = log_path
        self.children.append(child)
        return child

    def stop(self, child):
        if child.poll() is None:
            child.terminate()
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        if child in self.children:
            self.children.remove(child)

    def stop_all(self):
        for child in list(self.children):
            self.stop(child)


def http(method, url, data=None, headers=None, timeout=2.0):
    """(status, body) of one request; HTTP errors are answers, not exceptions."""
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def poll(probe, timeout, what, child=None, interval=0.01):
    """Calls `probe` until it returns something true, and returns (that, seconds it took). Fails
    when `timeout` seconds pass first, or when `child` exits (with what it printed)."""
    started = time.monotonic()
    while True:
        if child is not None and child.poll() is not None:
            log_path = getattr(child, "log_path", None)
            stderr = log_path.read_text(errors="replace")[-2000:] if log_path else ""
            raise RuntimeError(f"{what}: the process exited with {child.returncode}\n{stderr}")
        try:
            value = probe()
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            value = None
        if value:
            return value, time.monotonic() - started
        if time.monotonic() - started > timeout:
            raise RuntimeError(f"{what}: not done after {timeout} s")
        time.sleep(interval)


def rss_kib(pid, field="VmRSS"):
    for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def cpu_seconds(pid):
    """User and system CPU time the process has used so far, all its threads together."""
    fields = pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    # utime and stime are the 14th and 15th fields of the line, the 12th and 13th after the name.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def settled_rss_kib(child, steady_s=0.5, timeout=10.0):
    """The resident size of an idle server once it stops moving: the same for `steady_s` in a
    row (a freshly loaded server is still returning memory to the system for a moment)."""
    readings = []

    def steady():
        readings.append((time.monotonic(), rss_kib(child.pid)))
        recent = [kib for at, kib in readings if at >= readings[-1][0] - steady_s]
        return readings[-1][0] - readings[0][0] >= steady_s and len(set(recent)) == 1 and recent[0]

    value, _ = poll(steady, timeout, "idle RSS settling", child, interval=0.05)
    return value


def token_request(base, path, client, secret):
    body = f"grant_type=client_credentials&client_id={client}&client_secret={secret}".encode()
    return http("POST", base + path, body, {"Content-Type": "application/x-www-form-urlencoded"})


class LatchkeyServer:
    """`latchkey serve` on a bench database, pinned to `cpu`, on 127.0.0.1:`port`."""

    token_path = "/oauth2/token"
    name = "latchkey"

    def __init__(self, processes, config, database, apps, port, cpu, serve_args=(), env=None):
        self.processes, self.config, self.database = processes, config, database
        self.apps, self.port, self.cpu = apps, port, cpu
        # More `serve` flags, such as limits turned off, and environment (a log level).
        self.serve_args = list(serve_args)
        self.env = {**database.env, **(env or {})}
        self.base = f"http://127.0.0.1:{port}"
        self.child = None
        self.startup_s = None
        self.idle_rss_kib = None

    def start(self):
        """Starts the server; returns once /readyz says ready (its first snapshot is loaded and
        the database answered), with `startup_s` and `idle_rss_kib` measured."""
        self.child = self.processes.spawn(
            [self.config.binary, "--database", self.database.url, "serve", "--listen", f"127.0.0.1:{self.port}",
             "--issuer", self.base, *self.serve_args], self.cpu, self.env)
        _, self.startup_s = poll(lambda: http("GET", self.base + "/readyz", timeout=0.5)[0] == 200,
                                 READY_TIMEOUT_S, f"latchkey on {self.database.url}", self.child)
        self.idle_rss_kib = settled_rss_kib(self.child)

    def stop(self):
        if self.child is not None:
            self.processes.stop(self.child)
            self.child = None

    def token(self, app):
        return token_request(self.base, self.token_path, f"bench-{app}", f"secret-{app}")

    def use_alg(self, alg):
        """Makes `alg` the active signing key, and waits until this server signs with it."""
        current = json.loads(self.database.cli(["key", "list", "--json"]).stdout)
        if any(key["status"] == "active" and key["alg"] == alg for key in current):
            return
        kid = json.loads(self.database.cli(["key", "rotate", "--alg", alg, "--json"]).stdout)["kid"]

        def signs_with_it():
            status, body = self.token(0)
            if status != 200:
                return False
            header = json.loads(base64.urlsafe_b64decode(json.loads(body)["access_token"].split(".")[0] + "=="))
            return header["kid"] == kid

        poll(signs_with_it, 10.0, f"latchkey switching to {alg}", self.child, interval=0.02)


class Peer:
    """node-oidc-provider (bench/peer/server.mjs, installed from npm into target/bench-peer)."""

    token_path = "/token"
    name = "oidc-provider"

    def __init__(self, processes, config, apps, alg):
        self.processes, self.config, self.apps, self.alg = processes, config, apps, alg
        self.base = f"http://127.0.0.1:{config.peer_port}"
        self.child = None

    def start(self):
        self.child = self.processes.spawn(
            ["node", self.config.peer_dir / "server.mjs"], self.config.server_cpu,
            {"PORT": str(self.config.peer_port), "APPS": str(self.apps), "ALG": self.alg, "NODE_ENV": "production"},
            cwd=self.config.peer_dir)

        def answers_a_token():
            status, _ = token_request(self.base, self.token_path, "bench-0", "secret-0")
            return status == 200

        _, self.startup_s = poll(answers_a_token, READY_TIMEOUT_S, "node-oidc-provider", self.child)
        self.idle_rss_kib = settled_rss_kib(self.child)

    def stop(self):
        if self.child is not None:
            self.processes.stop(self.child)
            self.child = None


def install_peer(config):
    """Installs node-oidc-provider into target/bench-peer once; returns its version."""
    config.peer_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy(config.root / "bench" / "peer" / "server.mjs", config.peer_dir / "server.mjs")
    if not (config.peer_dir / "node_modules" / "oidc-provider").exists():
        (config.peer_dir / "package.json").write_text('{"name":"latchkey-bench-peer","private":true,"type":"module"}\n')
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--silent", "oidc-provider@9"],
                       cwd=config.peer_dir, check=True, timeout=600)
    package = config.peer_dir / "node_modules" / "oidc-provider" / "package.json"
    return json.loads(package.read_text())["version"]
