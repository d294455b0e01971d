"""The bench's one configuration object: `Config`, built once from the command line and passed
to everything that measures, so that no module keeps settings of its own."""
import argparse
import pathlib
from dataclasses import dataclass

ROOT = pathlib.Path(__file__).resolve().parents[2]
BACKENDS = ("sqlite", "postgres")
ALGS = ("RS256", "ES256", "EdDSA")


def app_counts(text):
    counts = tuple(int(count) for count in text.split(","))
    if not counts or min(counts) < 1:
        raise argparse.ArgumentTypeError("app counts are positive integers, comma-separated")
    return counts


def backends(text):
    names = tuple(text.split(","))
    unknown = [name for name in names if name not in BACKENDS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"backends are {' and '.join(BACKENDS)}, comma-separated")
    return names


@dataclass(frozen=True)
class Config:
    """Everything a run is told, and where it finds what it runs."""

    backends: tuple
    peer: bool
    app_counts: tuple
    duration: int
    warmup: int
    slices: int
    repeat: int
    load_cpus: str
    wrk_threads: int
    # PostgreSQL to create the bench's databases in (each one fresh, dropped at the end).
    postgres_url: str
    # Only the rows that compare the per-request limits off and on (wrk alone, no oha).
    checks_only: bool = False
    server_cpu: str = "0"
    # The second node of the two-node row, and the load sent to the first one.
    second_cpu: str = "1"
    connections: int = 64
    # The open-loop run's offered load, as a share of the capacity the closed loop measured.
    open_loop_share: float = 0.7
    latchkey_port: int = 18480
    second_node_port: int = 18481
    # The third server of the metrics rows, and the metrics listeners.
    third_server_port: int = 18482
    metrics_port: int = 18483
    peer_port: int = 18490
    # Token reuse: every app opted in at this percentage, over this many apps.
    reuse_percent: int = 80
    reuse_apps: int = 10000
    # The peer is given its clients as a list in its configuration, built at start; it is measured
    # up to this many apps (the targets compare it with latchkey at 1 and 10,000 apps).
    peer_max_apps: int = 10000
    root: pathlib.Path = ROOT

    @property
    def binary(self):
        return self.root / "target" / "release" / "latchkey"

    @property
    def xtask(self):
        return self.root / "target" / "release" / "xtask"

    @property
    def sigrate(self):
        return self.root / "target" / "release" / "examples" / "sigrate"

    @property
    def peer_dir(self):
        return self.root / "target" / "bench-peer"

    @property
    def results_dir(self):
        return self.root / "bench" / "results"

    @property
    def targets_file(self):
        return self.root / "bench" / "targets.json"

    @property
    def wrk_script(self):
        return self.root / "bench" / "wrk.lua"

    @staticmethod
    def parser(description):
        parser = argparse.ArgumentParser(description=description)
        parser.add_argument("--backend", type=backends, default=("sqlite",), dest="backends",
                            help="sqlite, postgres, or both comma-separated to compare them in one run "
                                 "(default sqlite)")
        parser.add_argument("--peer", action="store_true", help="also measure node-oidc-provider")
        parser.add_argument("--full", action="store_true", help="add the 1,000,000-app rows")
        parser.add_argument("--apps", type=app_counts, default=None,
                            help="comma-separated app counts (default 1,10000)")
        parser.add_argument("--duration", type=int, default=10, help="seconds per load run (default 10)")
        parser.add_argument("--warmup", type=int, default=2,
                            help="seconds of unrecorded load before each token run (default 2)")
        parser.add_argument("--slices", type=int, default=4,
                            help="slices per token run, the signature rate measured between them (default 4)")
        parser.add_argument("--repeat", type=int, default=1,
                            help="run the whole matrix this many times and report each figure's median (default 1)")
        parser.add_argument("--load-cpus", default="1",
                            help="CPUs for wrk and oha, as taskset takes them (default 1; the server has CPU 0)")
        parser.add_argument("--wrk-threads", type=int, default=1,
                            help="wrk threads (default 1); give it as many as --load-cpus has CPUs")
        parser.add_argument("--checks-only", action="store_true",
                            help="only the rows that measure the per-request limits off and on")
        parser.add_argument("--postgres", default="postgres://postgres@127.0.0.1:5432/postgres",
                            help="PostgreSQL where --backend postgres creates (and drops) its databases")
        return parser

    @classmethod
    def from_args(cls, argv, description=""):
        args = cls.parser(description).parse_args(argv)
        if args.duration < 1:
            raise SystemExit("--duration is at least 1 s: every load run is bounded by it")
        return cls(
            backends=args.backends,
            peer=args.peer,
            app_counts=args.apps or ((1, 10000, 1000000) if args.full else (1, 10000)),
            duration=args.duration,
            warmup=max(0, args.warmup),
            slices=max(1, args.slices),
            repeat=max(1, args.repeat),
            load_cpus=args.load_cpus,
            wrk_threads=max(1, min(64, args.wrk_threads)),
            postgres_url=args.postgres,
            checks_only=args.checks_only,
        )
