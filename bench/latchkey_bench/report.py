"""What a run shows: the table of rows, the other endpoints, change propagation and each
target with its figure and whether it was met, printed; and the whole report written to
bench/results/latest.json (and, pass by pass, passes.json)."""
import dataclasses
import json
from enum import Enum


def plain(value):
    """`value` as JSON takes it: dataclasses as dicts, enums as their value."""
    if dataclasses.is_dataclass(value):
        return {name: plain(item) for name, item in dataclasses.asdict(value).items()}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    return value


def save(config, name, report):
    config.results_dir.mkdir(parents=True, exist_ok=True)
    path = config.results_dir / name
    path.write_text(json.dumps(plain(report), indent=2) + "\n")
    return path


def cell(value, spec, scale=1.0):
    return "" if value is None else format(value / scale, spec)


COLUMNS = [
    # (header, width, text of a row)
    ("server", 26, lambda row: row.server + (" (token reuse)" if row.kind.value == "token_reuse" else "")
     + (f" node {row.node}" if row.node else "") + (f" ({'metrics' if row.kind.value == 'metrics' else 'limits'} {row.checks})" if row.checks else "")),
    ("backend", 8, lambda row: row.backend),
    ("apps", 8, lambda row: str(row.apps)),
    ("alg", 6, lambda row: row.alg),
    ("tokens/s", 9, lambda row: cell(row.rps, ".0f")),
    ("p50 ms", 7, lambda row: cell(row.p50_us, ".2f", 1000)),
    ("p99 ms", 7, lambda row: cell(row.p99_us, ".2f", 1000)),
    ("cpu %", 5, lambda row: cell(row.server_cpu_pct, ".0f")),
    ("ceil/s", 7, lambda row: cell(row.ceiling_rps, ".0f")),
    ("% ceil", 6, lambda row: cell(row.share_of_ceiling_pct, ".0f")),
    ("x peer", 6, lambda row: cell(row.ratio_to_peer, ".2f")),
    ("open/s", 7, lambda row: cell(row.open_offered_qps, ".0f")),
    ("o p50", 6, lambda row: cell(row.open_p50_us, ".2f", 1000)),
    ("o p99", 6, lambda row: cell(row.open_p99_us, ".2f", 1000)),
    ("o p99.9", 7, lambda row: cell(row.open_p999_us, ".2f", 1000)),
    ("o 99/50", 7, lambda row: cell(row.open_p99_over_p50, ".2f")),
    ("idle MiB", 8, lambda row: cell(row.idle_rss_kib, ".1f", 1024)),
    ("load MiB", 8, lambda row: cell(row.rss_under_load_kib, ".1f", 1024)),
    ("start s", 7, lambda row: cell(row.startup_s, ".2f")),
    ("errors", 6, lambda row: str(row.errors())),
]


def print_table(config, report):
    run = report["result"]
    machine = report["machine"]
    print(f"\nmachine: {machine['cpu_model']}, {machine['cpus']} CPUs; server on CPU {config.server_cpu}, "
          f"load on CPU {config.load_cpus} ({config.wrk_threads} wrk thread(s)); {config.duration} s per run "
          f"after {config.warmup} s of warm-up, {config.connections} connections")
    print(f"load average (1, 5, 15 min) at the start {machine['load_average_at_start']}, "
          f"at the end {machine['load_average_at_end']}")
    print("signature ceiling at the start, one thread: " + ", ".join(
        f"{alg} {values['raw_signatures_per_second']:.0f}/s raw, {values['jwts_per_second']:.0f} JWT/s"
        for alg, values in report["ceiling"].items()))
    print("(% ceil: against the raw rate measured between slices of the row's run, column ceil/s; "
          f"o ...: oha, open loop, at {config.open_loop_share:.0%} of the row's tokens/s, column open/s)")
    if config.repeat > 1:
        print(f"every figure is the median of {config.repeat} passes of the whole matrix; errors are summed")
    header = " ".join(f"{name:>{width}}" if index else f"{name:{width}}"
                      for index, (name, width, _) in enumerate(COLUMNS))
    print(header)
    print("-" * len(header))
    for row in run.rows:
        print(" ".join(f"{text(row):>{width}}" if index else f"{text(row):{width}}"
                       for index, (_, width, text) in enumerate(COLUMNS)))
    for name, figures in run.endpoints.items():
        print(f"{name}: {figures['rps']:.0f} requests/s, p50 {figures['p50_us'] / 1000:.2f} ms, "
              f"p99 {figures['p99_us'] / 1000:.2f} ms")
    for change in run.changes:
        where = "the second of two nodes" if change.nodes == 2 else "the server"
        print(f"a CLI change reaching {where} ({change.backend}, {change.apps} apps): "
              f"{change.seen_after_cli_ms:.0f} ms after the command returned "
              f"(the command itself took {change.cli_ms:.0f} ms)")
    print("\ntargets:")
    for judgement in report["targets"]:
        print(f"  {'met   ' if judgement.met else 'MISSED'} {judgement.target}: {judgement.figure}")
