"""The load generators and the signature ceiling, each one run bounded in time: wrk for the
closed loop (64 keep-alive connections, as many requests as the server answers: its
capacity), oha for the open loop (a fixed offered load, each request's latency counted from
when it was due, so that a slow answer cannot hide the requests queued behind it), and
`sigrate` for the signatures per second one core makes."""
import json
import os
import subprocess

# A load run may overrun its duration by this much (start-up, draining) before it is killed.
GRACE_S = 60
# How oha counts the requests its duration cut off.
DEADLINE_ABORT = "aborted due to deadline"


def wrk(config, url, duration, env, cpus=None):
    """A closed-loop run of `duration` seconds against `url` (bench/wrk.lua, its MODE and the
    rest in `env`): the dict wrk.lua prints, with 1,000 evenly spaced latency quantiles.

    wrk runs at the highest CPU priority (nice -20, where the user may set it; otherwise nice
    says so and runs it as it is): a shared machine's background threads take its core for up
    to 4 ms at a time, and while wrk is off its core it reads no responses, so every request in
    flight would count the delay as the server's latency."""
    output = subprocess.run(
        ["nice", "-n", "-20", "taskset", "-c", cpus or config.load_cpus, "wrk", f"-t{config.wrk_threads}",
         f"-c{config.connections}", f"-d{duration}s", "--latency", "-s", str(config.wrk_script), url],
        env={**os.environ, **env}, capture_output=True, text=True, timeout=duration + GRACE_S)
    for line in output.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT "):])
    raise RuntimeError(f"wrk printed no result: {output.stdout}\n{output.stderr}")


def oha(config, url, qps, duration, bodies, cpus=None):
    """An open-loop run: `qps` requests per second for `duration` seconds, POSTing the form
    bodies of the file `bodies` (one per line, taken in turn), over up to `connections`
    connections. Latency is corrected for coordinated omission (counted from each request's
    scheduled start), which is what makes the tail the server's rather than the generator's.
    Returns offered and achieved rates, p50/p99/p99.9 in microseconds and the failed requests."""
    output = subprocess.run(
        ["nice", "-n", "-20", "taskset", "-c", cpus or config.load_cpus, "oha", "--no-tui",
         "--output-format", "json", "-z", f"{duration}s", "-q", f"{qps:.0f}", "--latency-correction",
         "-c", str(config.connections), "-m", "POST", "-T", "application/x-www-form-urlencoded",
         "-Z", str(bodies), url],
        capture_output=True, text=True, timeout=duration + GRACE_S)
    if output.returncode != 0:
        raise RuntimeError(f"oha failed ({output.returncode}): {output.stderr[-2000:]}")
    return open_loop_result(json.loads(output.stdout), qps)


def open_loop_result(report, qps):
    """The figures the bench keeps from oha's JSON report (latencies there are in seconds)."""
    percentiles = report["latencyPercentiles"]
    statuses = report.get("statusCodeDistribution", {})
    ok = sum(count for status, count in statuses.items() if status.startswith("2"))
    # Requests still in flight when the duration ends are cut off, not failed.
    errors = {error: count for error, count in report.get("errorDistribution", {}).items()
              if error != DEADLINE_ABORT}
    failed = sum(statuses.values()) - ok + sum(errors.values())
    return {
        "offered_qps": qps,
        "rps": report["summary"]["requestsPerSec"],
        "p50_us": round(percentiles["p50"] * 1e6),
        "p99_us": round(percentiles["p99"] * 1e6),
        "p999_us": round(percentiles["p99.9"] * 1e6),
        "errors": failed,
    }


def token_bodies(path, apps):
    """Writes the token request body of each bench app, one per line, for oha to rotate over."""
    with open(path, "w", encoding="ascii") as file:
        for app in range(apps):
            file.write(f"grant_type=client_credentials&client_id=bench-{app}&client_secret=secret-{app}\n")
    return path


def ceiling(config, seconds, alg=None, cpu=None):
    """Signatures per second of one thread on `cpu` (the server's by default), per algorithm:
    `sigrate`'s JSON, raw signatures and whole JWTs."""
    output = subprocess.run([
        "taskset", "-c", cpu or config.server_cpu, str(config.sigrate), str(seconds), *([alg] if alg else [])],
        capture_output=True, text=True, check=True, timeout=seconds * 10 + GRACE_S)
    return json.loads(output.stdout)


def raw_rate(config, alg, cpu=None):
    """One second's raw signature rate of `alg`."""
    return ceiling(config, 1, alg, cpu)[alg]["raw_signatures_per_second"]
