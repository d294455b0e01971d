"""The bench's arithmetic, kept pure so that it is unit-tested (bench/tests): pooling the slices
of a run into one distribution, the ceiling a row's slices would have signed, the derived
figures of each row (share of the ceiling, tails, ratios to the peer, to 1 app, to SQLite, to
one node), and the median of every figure over repeated passes."""
import dataclasses
import statistics

from .rows import LATCHKEY, PEER, SUMMED, Kind, Pass, measured_fields


def percentile(points, share):
    """The value at `share` (0 to 1) of a weighted distribution: `points` are (value, weight),
    weights counting requests; the smallest value whose cumulative weight reaches the share."""
    points = sorted(points)
    total = sum(weight for _, weight in points)
    reached = 0.0
    for value, weight in points:
        reached += weight
        if reached >= share * total:
            return value
    return points[-1][0]


def pooled(parts):
    """One closed-loop result from consecutive runs (each a dict with `requests`,
    `duration_us`, `non_2xx`, `socket_errors` and `quantiles_us`, evenly spaced quantiles of its
    latency): counts and time add up, and percentiles come from the runs' distributions pooled by
    request count, since percentiles of separate runs do not average."""
    requests = sum(part["requests"] for part in parts)
    duration_us = sum(part["duration_us"] for part in parts)
    points = [(value, part["requests"] / len(part["quantiles_us"]))
              for part in parts for value in part["quantiles_us"]]
    return {
        "requests": requests,
        "duration_us": duration_us,
        "rps": requests / (duration_us / 1e6) if duration_us else 0.0,
        "p50_us": percentile(points, 0.50),
        "p90_us": percentile(points, 0.90),
        "p99_us": percentile(points, 0.99),
        "non_2xx": sum(part["non_2xx"] for part in parts),
        "socket_errors": sum(part["socket_errors"] for part in parts),
        "slices": len(parts),
    }


def sliced_ceiling(slices):
    """Signatures per second a row's slices could have made: `slices` are (duration_us, rate
    before, rate after), each slice taken at the mean of the rates measured on either side of
    it, so that a machine whose speed drifts during the run is judged slice by slice."""
    duration_us = sum(duration for duration, _, _ in slices)
    signable = sum(duration * (before + after) / 2 for duration, before, after in slices)
    return signable / duration_us if duration_us else None


def ratio(ours, theirs):
    """`ours / theirs`, or None when either is missing or `theirs` is zero."""
    if ours is None or not theirs:
        return None
    return ours / theirs


def change_pct(ours, base):
    """How much `ours` is above (positive) or below `base`, in percent."""
    value = ratio(ours, base)
    return None if value is None else (value - 1) * 100


def derive(run):
    """Fills every row's derived figures from the measured ones, in place, and returns `run`."""
    for row in run.rows:
        # A reused token is not signed, so its row has no share of the signature rate.
        share = None if row.kind == Kind.REUSE else ratio(row.rps, row.ceiling_rps)
        row.share_of_ceiling_pct = None if share is None else share * 100
        row.p99_over_p50 = ratio(row.p99_us, row.p50_us)
        row.open_p99_over_p50 = ratio(row.open_p99_us, row.open_p50_us)
        row.idle_rss_mb = row.idle_rss_kib * 1024 / 1e6 if row.idle_rss_kib else None
        busy = ratio(row.server_cpu_pct, row.rps)
        row.cpu_us_per_token = None if busy is None else busy / 100 * 1e6

    def find(kind, server, backend, apps, alg):
        return next((row for row in run.rows if (row.kind, row.server, row.backend, row.apps, row.alg)
                     == (kind, server, backend, apps, alg)), None)

    peer_rs256 = {row.apps: row.rps for row in run.rows if row.server == PEER and row.alg == "RS256"}
    for row in run.rows:
        if row.server != LATCHKEY:
            continue
        if row.kind == Kind.TOKEN:
            peer = find(Kind.TOKEN, PEER, "", row.apps, row.alg)
            row.ratio_to_peer = ratio(row.rps, peer.rps if peer else None)
            one = find(Kind.TOKEN, LATCHKEY, row.backend, 1, row.alg)
            if one is not None and row.apps != 1:
                row.share_vs_one_app_pct = change_pct(row.share_of_ceiling_pct, one.share_of_ceiling_pct)
            sqlite = find(Kind.TOKEN, LATCHKEY, "sqlite", row.apps, row.alg)
            if sqlite is not None and row.backend == "postgres":
                row.share_vs_sqlite_pct = change_pct(row.share_of_ceiling_pct, sqlite.share_of_ceiling_pct)
                row.idle_rss_vs_sqlite_pct = change_pct(row.idle_rss_kib, sqlite.idle_rss_kib)
        elif row.kind == Kind.REUSE and peer_rs256:
            # Reuse rows compare with the peer signing every token, at the same app count when the
            # peer was measured there, else at its fastest.
            row.ratio_to_peer = ratio(row.rps, peer_rs256.get(row.apps, max(peer_rs256.values())))
        elif row.kind == Kind.TWO_NODES:
            one = find(Kind.TOKEN, LATCHKEY, row.backend, row.apps, row.alg)
            share = ratio(row.rps, one.rps if one else None)
            row.rps_vs_one_node_pct = None if share is None else share * 100
        elif row.kind in (Kind.CHECKS, Kind.METRICS) and row.checks in ("on", "logs"):
            # CPU time per token, not tokens/s: on a shared machine the share of the core each
            # server got in its slices differs by more than what is measured.
            off = next((other for other in run.rows if other.kind == row.kind and other.checks == "off"
                        and (other.backend, other.apps, other.alg) == (row.backend, row.apps, row.alg)), None)
            row.checks_cost_pct = change_pct(row.cpu_us_per_token, off.cpu_us_per_token if off else None)
    return run


def median(values):
    """The median of the values that were measured (None when none was)."""
    present = [value for value in values if value is not None]
    return statistics.median(present) if present else None


def merge(records):
    """One record from the same record of several passes: counts summed, every other figure the
    median over the passes (derived figures too, taken per pass first, so that a median ratio is
    the ratio of one pass rather than of two medians)."""
    merged = dataclasses.replace(records[0])
    for name in measured_fields(merged):
        values = [getattr(record, name) for record in records]
        if name in SUMMED:
            setattr(merged, name, sum(value or 0 for value in values))
        else:
            setattr(merged, name, median(values))
    return merged


def combine(runs):
    """One pass from several: each row and change, the merge of its occurrences (matched by
    key; a record missing from some passes is merged over those that have it); each endpoint
    figure, its median. One pass comes back as it is."""
    if len(runs) == 1:
        return runs[0]

    def merge_all(records):
        by_key = {}
        for record in records:
            by_key.setdefault(record.key(), []).append(record)
        return [merge(group) for group in by_key.values()]

    endpoints = {}
    for name, figures in runs[0].endpoints.items():
        present = [run.endpoints[name] for run in runs if name in run.endpoints]
        endpoints[name] = {field: (sum(item[field] for item in present) if field in SUMMED
                                   else median([item[field] for item in present]))
                           for field in figures}
    return Pass(rows=merge_all([row for run in runs for row in run.rows]),
                changes=merge_all([change for run in runs for change in run.changes]),
                endpoints=endpoints)

