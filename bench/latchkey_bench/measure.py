"""One pass over the matrix: for each backend and app count, latchkey (and with --peer
node-oidc-provider) under closed-loop load per algorithm, their slices alternating with the
signature rate measured between them, then each server at a fixed offered load (open loop);
introspection and JWKS; the per-request limits off and on; a CLI change reaching the server;
token reuse; and on PostgreSQL two nodes on one database under load at once. Returns a `rows.Pass` of measured figures."""
import base64
import concurrent.futures
import json
import time

from . import load, stats
from .config import ALGS
from .rows import LATCHKEY, PEER, Change, Kind, Pass, Row
from .servers import LatchkeyServer, Peer, cpu_seconds, http, log, poll, rss_kib


# A rate limit no bench load reaches: the check runs on every token and never refuses.
CHECKS_RATE_LIMIT = "1000000/s"


class Bench:
    """What a pass needs across rows: the configuration, the processes, the databases (filled
    once and shared by the repeats, since a million apps take a while) and the bodies files."""

    def __init__(self, config, processes, databases, workdir):
        self.config, self.processes, self.databases, self.workdir = config, processes, databases, workdir
        self.filled = {}
        self.bodies = {}

    def database(self, backend, apps, reuse_percent=None, rate_limit=None):
        key = (backend, apps, reuse_percent, rate_limit)
        if key not in self.filled:
            database, seconds = self.databases.filled(backend, apps, reuse_percent, rate_limit)
            log(f"== {backend}: {apps} apps written in {seconds:.1f} s")
            self.filled[key] = database
        return self.filled[key]

    def token_bodies(self, apps):
        if apps not in self.bodies:
            self.bodies[apps] = load.token_bodies(self.workdir / f"bodies-{apps}.txt", apps)
        return self.bodies[apps]

    def server(self, backend, apps, reuse_percent=None):
        """A started latchkey on its database. The first start of a database creates its signing
        key; the start measured is a restart, as a deployment's would be."""
        server = LatchkeyServer(self.processes, self.config, self.database(backend, apps, reuse_percent), apps,
                                self.config.latchkey_port, self.config.server_cpu)
        server.start()
        server.stop()
        server.start()
        return server

    def token_load(self, server, duration, warmup=True, cpus=None):
        """Closed-loop token requests to `server`, rotating over its apps: the warm-up unrecorded
        (unless `warmup` is false), then `duration` measured; adds the server's peak RSS and
        the CPU time it used in the measured part."""
        env = {"MODE": "token", "APPS": str(server.apps), "TOKEN_PATH": server.token_path}
        url = server.base + server.token_path
        if warmup and self.config.warmup:
            load.wrk(self.config, url, self.config.warmup, env, cpus)
        cpu_before = cpu_seconds(server.child.pid)
        result = load.wrk(self.config, url, duration, env, cpus)
        result["cpu_s"] = cpu_seconds(server.child.pid) - cpu_before
        result["rss_under_load_kib"] = rss_kib(server.child.pid, "VmHWM")
        return result

    @staticmethod
    def cpu_pct(results):
        """How much of one core the server had over these runs: on a shared machine, what the
        other tenants left it (100 is a whole core)."""
        seconds = sum(result["duration_us"] for result in results) / 1e6
        return sum(result["cpu_s"] for result in results) / seconds * 100 if seconds else None

    def interleaved(self, servers, alg):
        """`duration` seconds of token load on each of `servers`, in slices, with the raw
        signature rate measured for one second before the first slice and after every one. A
        shared VM's speed swings by tens of percent within seconds, so each server's ceiling is
        what the measured rates would have signed over its own slices, and the servers' slices
        alternate in ABBA order so that neither is measured only in the host's fast or slow
        moments. Returns per server the pooled figures, its ceiling and its peak RSS."""
        config = self.config
        count = max(1, min(config.slices, config.duration))
        rates = [load.raw_rate(config, alg)]
        parts = [[] for _ in servers]
        order = list(range(len(servers)))
        for index in range(count):
            for which in (order if index % 2 == 0 else order[::-1]):
                result = self.token_load(servers[which], config.duration // count, warmup=index == 0)
                rates.append(load.raw_rate(config, alg))
                parts[which].append((result, rates[-2], rates[-1]))
        results = []
        for mine in parts:
            figures = stats.pooled([result for result, _, _ in mine])
            figures["ceiling_rps"] = stats.sliced_ceiling(
                [(result["duration_us"], before, after) for result, before, after in mine])
            figures["rss_under_load_kib"] = mine[-1][0]["rss_under_load_kib"]
            figures["server_cpu_pct"] = self.cpu_pct([result for result, _, _ in mine])
            results.append(figures)
        return results

    def open_loop(self, server, row):
        """`server` at a fixed offered load, a share of the capacity `row` just measured."""
        qps = max(1.0, row.rps * self.config.open_loop_share)
        result = load.oha(self.config, server.base + server.token_path, qps, self.config.duration,
                          self.token_bodies(server.apps))
        row.open_offered_qps, row.open_rps = result["offered_qps"], result["rps"]
        row.open_p50_us, row.open_p99_us, row.open_p999_us = result["p50_us"], result["p99_us"], result["p999_us"]
        row.open_errors = result["errors"]

    def measure(self):
        """One pass over the whole matrix."""
        run = Pass()
        counts = self.config.app_counts
        if self.config.checks_only:
            for backend in self.config.backends:
                run.rows.extend(self.checks_rows(backend, counts[0]))
                run.rows.extend(self.metrics_rows(backend, counts[0]))
            return run
        for backend in self.config.backends:
            for apps in counts:
                server = self.server(backend, apps)
                log(f"== latchkey on {backend}, {apps} apps: ready in {server.startup_s:.2f} s, "
                    f"idle RSS {server.idle_rss_kib} KiB")
                # The peer keeps its apps in memory: it is measured once, beside the first backend.
                with_peer = self.config.peer and apps <= self.config.peer_max_apps and backend == self.config.backends[0]
                for alg in ALGS:
                    run.rows.extend(self.token_rows(server, backend, apps, alg, with_peer))
                server.use_alg("RS256")
                if apps == max(counts) or apps == self.config.reuse_apps:
                    run.changes.append(self.change(server, backend, apps, nodes=1))
                if apps == counts[0]:
                    run.endpoints.update(self.endpoints(server, backend))
                if apps == counts[0] and backend == self.config.backends[0]:
                    server.stop()
                    run.rows.extend(self.checks_rows(backend, apps))
                    run.rows.extend(self.metrics_rows(backend, apps))
                    server.start()
                if backend == "postgres" and apps == max(counts):
                    rows, change = self.two_nodes(server, backend, apps)
                    run.rows.extend(rows)
                    run.changes.append(change)
                server.stop()
            if self.config.reuse_apps in counts:
                run.rows.append(self.reuse_row(backend))
        return run

    def token_rows(self, server, backend, apps, alg, with_peer):
        server.use_alg(alg)
        peer = Peer(self.processes, self.config, apps, alg) if with_peer else None
        servers = [server, *([peer] if peer else [])]
        try:
            if peer:
                peer.start()
            results = self.interleaved(servers, alg)
            rows = []
            for each, figures in zip(servers, results):
                row = Row(kind=Kind.TOKEN, server=LATCHKEY if each is server else PEER,
                          backend=backend if each is server else "", apps=apps, alg=alg,
                          idle_rss_kib=each.idle_rss_kib, startup_s=each.startup_s, **figures)
                self.open_loop(each, row)
                rows.append(row)
                log(f"   {row.server} {alg}: {row.rps:.0f} tokens/s, p50 {row.p50_us} us, p99 {row.p99_us} us, "
                    f"ceiling {row.ceiling_rps:.0f}/s; at {row.open_offered_qps:.0f}/s offered: "
                    f"p50 {row.open_p50_us} us, p99 {row.open_p99_us} us, p99.9 {row.open_p999_us} us")
            return rows
        finally:
            if peer:
                peer.stop()

    def checks_rows(self, backend, apps):
        """What the per-request limits cost: one server with them off (no failed-login throttle,
        apps without a rate limit) and one with them on (the default throttle, every app with a
        rate limit far above the load, so that the check runs on every token and never
        refuses), on the same CPU, their RS256 slices interleaved. Connection limits are per
        connection, not per request, and the load keeps its connections: they are on in both."""
        config = self.config
        off = LatchkeyServer(self.processes, config, self.database(backend, apps), apps, config.latchkey_port,
                             config.server_cpu,
                             ["--auth-failures-per-client", "0", "--auth-failures-per-address", "0"])
        on = LatchkeyServer(self.processes, config, self.database(backend, apps, rate_limit=CHECKS_RATE_LIMIT),
                            apps, config.second_node_port, config.server_cpu)
        servers = [off, on]
        try:
            for each in servers:
                each.start()
                each.use_alg("RS256")
            log(f"== per-request limits off and on ({backend}, {apps} apps, RS256)")
            rows = []
            for each, checks, figures in zip(servers, ["off", "on"], self.interleaved(servers, "RS256")):
                row = Row(kind=Kind.CHECKS, server=LATCHKEY, backend=backend, apps=apps, alg="RS256", checks=checks,
                          idle_rss_kib=each.idle_rss_kib, startup_s=each.startup_s, **figures)
                rows.append(row)
                log(f"   limits {checks}: {row.rps:.0f} tokens/s, ceiling {row.ceiling_rps:.0f}/s")
            return rows
        finally:
            for each in servers:
                each.stop()

    def metrics_rows(self, backend, apps):
        """What counting and logging cost: one server without metrics (`LATCHKEY_LOG=warn`, as
        every other row), one with `--metrics-listen` (every request counted), and one that
        also writes the request log at `info` as JSON to a file, on the same CPU, their RS256
        slices interleaved. Both metrics listeners are scraped at the end, to show that what
        was measured counted."""
        config = self.config
        database = self.database(backend, apps)
        metrics = ["--metrics-listen", f"127.0.0.1:{config.metrics_port}"]
        logging = ["--metrics-listen", f"127.0.0.1:{config.metrics_port + 1}", "--log-format", "json"]
        servers = [
            LatchkeyServer(self.processes, config, database, apps, config.latchkey_port, config.server_cpu),
            LatchkeyServer(self.processes, config, database, apps, config.second_node_port, config.server_cpu,
                           metrics),
            LatchkeyServer(self.processes, config, database, apps, config.third_server_port, config.server_cpu,
                           logging, env={"LATCHKEY_LOG": "info,sqlx=warn"}),
        ]
        try:
            for each in servers:
                each.start()
            servers[0].use_alg("RS256")
            for each in servers[1:]:
                each.use_alg("RS256")
            log(f"== metrics off, on, and on with the request log ({backend}, {apps} apps, RS256)")
            rows = []
            for each, checks, figures in zip(servers, ["off", "on", "logs"], self.interleaved(servers, "RS256")):
                row = Row(kind=Kind.METRICS, server=LATCHKEY, backend=backend, apps=apps, alg="RS256", checks=checks,
                          idle_rss_kib=each.idle_rss_kib, startup_s=each.startup_s, **figures)
                rows.append(row)
                log(f"   metrics {checks}: {row.rps:.0f} tokens/s, ceiling {row.ceiling_rps:.0f}/s")
            for port in (config.metrics_port, config.metrics_port + 1):
                status, body = http("GET", f"http://127.0.0.1:{port}/metrics")
                if status != 200 or b"latchkey_token_requests_total" not in body:
                    raise RuntimeError(f"the metrics on port {port} were not served ({status})")
            return rows
        finally:
            for each in servers:
                each.stop()

    def reuse_row(self, backend):
        """Token reuse: every app opted in; the warm-up signs each app's first token, so the run
        measured after it shows the steady state."""
        config = self.config
        server = self.server(backend, config.reuse_apps, config.reuse_percent)
        try:
            warmup = max(2, config.reuse_apps // 1500 + 2)
            log(f"== token reuse on {backend}: {warmup} s warm-up (every app's first token is signed)")
            self.token_load(server, warmup, warmup=False)
            measured = self.token_load(server, config.duration, warmup=False)
            figures = stats.pooled([measured])
            figures["server_cpu_pct"] = self.cpu_pct([measured])
            row = Row(kind=Kind.REUSE, server=LATCHKEY, backend=backend, apps=config.reuse_apps, alg="RS256",
                      idle_rss_kib=server.idle_rss_kib, startup_s=server.startup_s,
                      rss_under_load_kib=rss_kib(server.child.pid, "VmHWM"), **figures)
            self.open_loop(server, row)
            log(f"   token reuse: {row.rps:.0f} tokens/s; p99 {row.open_p99_us} us at {row.open_offered_qps:.0f}/s")
            return row
        finally:
            server.stop()

    def change(self, server, backend, apps, nodes):
        """Milliseconds from `latchkey app disable` returning to `server` refusing that app."""
        app = apps - 1
        started = time.monotonic()
        server.database.cli(["app", "disable", f"bench-{app}"])
        returned = time.monotonic()
        _, seen = poll(lambda: server.token(app)[0] == 401, 10.0, "a disabled app refused", server.child,
                       interval=0.005)
        server.database.cli(["app", "enable", f"bench-{app}"])
        poll(lambda: server.token(app)[0] == 200, 10.0, "a re-enabled app served", server.child, interval=0.005)
        change = Change(backend=backend, apps=apps, nodes=nodes, cli_ms=(returned - started) * 1000,
                        seen_after_cli_ms=seen * 1000)
        log(f"   a CLI change seen {change.seen_after_cli_ms:.0f} ms after the command returned ({nodes} node(s))")
        return change

    def endpoints(self, server, backend):
        """Introspection and JWKS under closed-loop load."""
        created = server.database.cli(["app", "create", "--name", "rs", "--introspect", "--json"])
        credentials = json.loads(created.stdout)
        auth = base64.b64encode(f"{credentials['client_id']}:{credentials['client_secret']}".encode()).decode()
        _, body = server.token(0)
        token = json.loads(body)["access_token"]

        def introspects():
            status, _ = http("POST", server.base + "/oauth2/introspect", f"token={token}".encode(),
                             {"Content-Type": "application/x-www-form-urlencoded", "Authorization": f"Basic {auth}"})
            return status == 200

        # The app exists on the server once the change log has brought it there.
        poll(introspects, 10.0, "the introspecting app reaching the server", server.child, interval=0.01)
        figures = {}
        for name, url, env in [
            ("introspection", server.base + "/oauth2/introspect", {"MODE": "introspect", "TOKEN": token, "AUTH": auth}),
            ("jwks", server.base + "/oauth2/jwks", {"MODE": "get"}),
        ]:
            result = stats.pooled([load.wrk(self.config, url, self.config.duration, env)])
            figures[f"{name}, {backend}"] = result
            log(f"   {name}: {result['rps']:.0f}/s, p50 {result['p50_us']} us, p99 {result['p99_us']} us")
        return figures

    def two_nodes(self, first, backend, apps):
        """A second node on `first`'s database, on the other CPU; both under RS256 load at once,
        each from a load generator on the other node's CPU. Each node's ceiling is the RS256
        rate of its own CPU measured before and after. Returns the two rows and the time a CLI
        change took to reach the second node."""
        config = self.config
        second = LatchkeyServer(self.processes, config, first.database, apps, config.second_node_port,
                                config.second_cpu)
        second.start()
        try:
            nodes = [(first, "A", config.server_cpu, config.second_cpu), (second, "B", config.second_cpu,
                                                                            config.server_cpu)]
            before = {cpu: load.raw_rate(config, "RS256", cpu) for _, _, cpu, _ in nodes}
            with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
                runs = [pool.submit(self.token_load, server, config.duration, True, load_cpu)
                        for server, _, _, load_cpu in nodes]
                results = [run.result() for run in runs]
            after = {cpu: load.raw_rate(config, "RS256", cpu) for _, _, cpu, _ in nodes}
            rows = []
            for (server, node, cpu, _), result in zip(nodes, results):
                figures = stats.pooled([result])
                figures["server_cpu_pct"] = self.cpu_pct([result])
                row = Row(kind=Kind.TWO_NODES, server=LATCHKEY, backend=backend, apps=apps, alg="RS256", node=node,
                          ceiling_rps=(before[cpu] + after[cpu]) / 2, idle_rss_kib=server.idle_rss_kib,
                          startup_s=server.startup_s, rss_under_load_kib=result["rss_under_load_kib"], **figures)
                rows.append(row)
                log(f"   two nodes, node {node} on CPU {cpu}: {row.rps:.0f} tokens/s, ceiling {row.ceiling_rps:.0f}/s")
            return rows, self.change(second, backend, apps, nodes=2)
        finally:
            second.stop()
