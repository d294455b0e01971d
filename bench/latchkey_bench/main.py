"""The run from start to end: checks the tools, measures the ceiling, runs the passes, combines
them, derives, judges the targets and reports. Every process started is stopped and every
PostgreSQL database created is dropped on the way out, whatever the way out is."""
import os
import pathlib
import platform
import shutil
import subprocess
import sys
import tempfile

from . import load, report, stats, targets
from .config import Config
from .databases import Databases
from .measure import Bench
from .servers import Processes, install_peer, log


def machine():
    model = next((line.split(":", 1)[1].strip() for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor())
    return {"cpus": os.cpu_count(), "cpu_model": model, "kernel": platform.release(),
            "load_average_at_start": load_average()}


def load_average():
    """The 1, 5 and 15-minute load averages: on a shared machine, how busy the other tenants kept
    the cores the bench runs on (2 on 2 cores means no time left over)."""
    return [float(value) for value in pathlib.Path("/proc/loadavg").read_text().split()[:3]]


def check_tools(config):
    tools = ["wrk", "taskset"] + ([] if config.checks_only else ["oha"]) + (["node", "npm"] if config.peer else []) \
        + (["psql"] if "postgres" in config.backends else [])
    for tool in tools:
        if not shutil.which(tool):
            sys.exit(f"{tool} is missing: bench/run.sh installs wrk and oha; node, npm and psql come with the machine")
    if "postgres" in config.backends:
        answer = subprocess.run(["psql", config.postgres_url, "-X", "-q", "-c", "select 1"], capture_output=True,
                                text=True, timeout=30)
        if answer.returncode != 0:
            sys.exit(f"PostgreSQL at {config.postgres_url} does not answer ({answer.stderr.strip()}); start it, "
                     "or give another with --postgres")
    for built in [config.binary, config.sigrate, config.xtask]:
        if not built.exists():
            sys.exit(f"{built} is missing: bench/run.sh builds it")


DESCRIPTION = ("latchkey's benchmark: the signature ceiling, then the token endpoint per backend, app count "
               "and algorithm under closed and open loop, with the targets of bench/targets.json judged")


def main(argv=None):
    config = Config.from_args(sys.argv[1:] if argv is None else argv, description=DESCRIPTION)
    check_tools(config)
    goals = targets.load(config.targets_file)
    settings = {"backends": list(config.backends), "duration_s": config.duration, "warmup_s": config.warmup,
                "slices": config.slices, "repeat": config.repeat, "load_cpus": config.load_cpus,
                "wrk_threads": config.wrk_threads, "open_loop_share": config.open_loop_share}
    summary = {"machine": machine(), "settings": settings}
    log(f"== signature ceiling (one thread, CPU {config.server_cpu})")
    summary["ceiling"] = load.ceiling(config, 3)
    summary["peer"] = f"oidc-provider {install_peer(config)}" if config.peer else None
    workdir = pathlib.Path(tempfile.mkdtemp(prefix="latchkey-bench-"))
    runs = []
    try:
        master_key = subprocess.run([str(config.binary), "master-key", "generate"], capture_output=True, text=True,
                                    check=True, timeout=60).stdout.strip()
        with Processes(workdir) as processes, Databases(config, workdir, master_key) as databases:
            bench = Bench(config, processes, databases, workdir)
            for index in range(config.repeat):
                if config.repeat > 1:
                    log(f"== pass {index + 1} of {config.repeat}")
                runs.append(stats.derive(bench.measure()))
                # A long run stopped part-way keeps the passes it finished.
                report.save(config, "passes.json", {**summary, "passes": runs})
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    summary["machine"]["load_average_at_end"] = load_average()
    result = stats.combine(runs)
    judged = targets.judge_all(goals, result)
    full = {**summary, "result": result, "targets": judged, **({"passes": runs} if len(runs) > 1 else {})}
    path = report.save(config, "latest.json", full)
    report.print_table(config, full)
    print(f"JSON: {path}")
