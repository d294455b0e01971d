"""What one pass of the bench measures, as types: a `Row` per server, backend, app count and
algorithm (with its kind, so that no code tells a token-reuse row from a signing one by its
name), the `Change` figures of change propagation, and a `Pass` holding them. Measuring fills
the measured fields; `stats.derive` fills the derived ones; nothing here does IO."""
from dataclasses import dataclass, field, fields
from enum import Enum
from typing import Optional


class Kind(str, Enum):
    """What a row measures."""

    # Token requests, each one signed.
    TOKEN = "token"
    # Token requests to apps that opted into token reuse: most answers are handed out again.
    REUSE = "token_reuse"
    # One of two latchkey nodes on one database, both under load at once.
    TWO_NODES = "two_nodes"
    # Token requests with the per-request limits on (the failed-login throttle, the app's rate
    # limit) or off, the two servers' slices interleaved: what the limits cost.
    CHECKS = "checks"
    # Token requests with metrics off, on (`--metrics-listen`), and on with the request log
    # written at `info` as JSON: what counting and logging cost.
    METRICS = "metrics"


LATCHKEY = "latchkey"
PEER = "oidc-provider"


@dataclass
class Row:
    """One row of the table: a server's token endpoint under load."""

    kind: Kind
    server: str
    # `sqlite` or `postgres` for latchkey; empty for the peer, which keeps its apps in memory.
    backend: str
    apps: int
    alg: str
    # `A` or `B` in a two-node row, else empty.
    node: str = ""
    # `on` or `off` in a checks row; `off`, `on` or `logs` in a metrics row; else empty.
    checks: str = ""
    # Closed loop (wrk, 64 connections), the slices pooled.
    requests: int = 0
    duration_us: int = 0
    rps: float = 0.0
    p50_us: int = 0
    p90_us: int = 0
    p99_us: int = 0
    non_2xx: int = 0
    socket_errors: int = 0
    slices: int = 0
    # What the signature rates measured around this row's slices would have signed in its time.
    ceiling_rps: Optional[float] = None
    # The server's CPU time over the measured runs, as a share of one core.
    server_cpu_pct: Optional[float] = None
    idle_rss_kib: int = 0
    rss_under_load_kib: int = 0
    startup_s: float = 0.0
    # Open loop (oha) at a fixed offered load: a share of `rps` above.
    open_offered_qps: Optional[float] = None
    open_rps: Optional[float] = None
    open_p50_us: Optional[int] = None
    open_p99_us: Optional[int] = None
    open_p999_us: Optional[int] = None
    open_errors: Optional[int] = None
    # Derived (stats.derive); not rounded, so that targets are judged on exact values.
    share_of_ceiling_pct: Optional[float] = None
    p99_over_p50: Optional[float] = None
    open_p99_over_p50: Optional[float] = None
    ratio_to_peer: Optional[float] = None
    idle_rss_mb: Optional[float] = None
    # Change of the share of the ceiling against the same server's 1-app row, in percent.
    share_vs_one_app_pct: Optional[float] = None
    # A PostgreSQL row against the SQLite row of the same apps and algorithm, in percent: the
    # share of the ceiling, and the idle RSS.
    share_vs_sqlite_pct: Optional[float] = None
    idle_rss_vs_sqlite_pct: Optional[float] = None
    # A two-node row's tokens/s against one node's on the same database, in percent.
    rps_vs_one_node_pct: Optional[float] = None
    # The server's CPU time per token, in microseconds: what a token costs, whatever share of
    # the core the machine's other tenants left the server.
    cpu_us_per_token: Optional[float] = None
    # A checks row with the limits on, or a metrics row with metrics (and logs) on: how much
    # more CPU time per token than the row with them off, in percent (positive: dearer).
    checks_cost_pct: Optional[float] = None

    def key(self):
        """What identifies the row across repeats."""
        return (self.kind, self.server, self.backend, self.apps, self.alg, self.node, self.checks)

    def errors(self):
        return self.non_2xx + self.socket_errors + (self.open_errors or 0)


@dataclass
class Change:
    """Milliseconds from a `latchkey app disable` returning to a server refusing that app."""

    backend: str
    apps: int
    # 1, or 2 when the server that saw it is the second node of a two-node row.
    nodes: int
    cli_ms: float
    seen_after_cli_ms: float

    def key(self):
        return (self.backend, self.apps, self.nodes)


@dataclass
class Pass:
    """One pass over the matrix."""

    rows: list = field(default_factory=list)
    changes: list = field(default_factory=list)
    # Other endpoints by name (`introspection`, `jwks`) and backend: a Row of kind TOKEN is not
    # what they are, so they keep their closed-loop figures as plain dicts.
    endpoints: dict = field(default_factory=dict)


# Fields that are counts over the whole run: over repeats they add up instead of taking medians.
SUMMED = {"requests", "duration_us", "non_2xx", "socket_errors", "slices", "open_errors"}
# Fields that say what a record is rather than what was measured.
KEY_FIELDS = {"kind", "server", "backend", "apps", "alg", "node", "nodes", "checks"}


def measured_fields(record):
    """The names of a record's figures: every field but those of its key."""
    return [item.name for item in fields(record) if item.name not in KEY_FIELDS]
