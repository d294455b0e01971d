"""The bench's databases: `Databases` makes each one fresh (a SQLite file in the run's
temporary folder, or a new database on the machine's PostgreSQL), fills it through the store
with N bench apps
(client ids `bench-<i>`, secrets `secret-<i>`, scope `bench`) and drops every PostgreSQL
database it created on the way out, also after an error."""
import os
import subprocess
import time
import urllib.parse
from dataclasses import dataclass

# How long a CLI command or a fill may take: filling 1,000,000 apps takes a while.
COMMAND_TIMEOUT_S = 900


@dataclass
class Database:
    """One bench database and what every latchkey command on it needs."""

    backend: str
    url: str
    # LATCHKEY_MASTER_KEY (PostgreSQL requires one; SQLite would otherwise write a key file).
    env: dict
    binary: object

    def cli(self, args):
        """Runs `latchkey --database URL ARGS`; fails, with what it printed, unless it exits 0."""
        done = subprocess.run([str(self.binary), "--database", self.url, *args], capture_output=True, text=True,
                              env={**os.environ, **self.env}, timeout=COMMAND_TIMEOUT_S)
        if done.returncode != 0:
            raise RuntimeError(f"latchkey {' '.join(args)} exited with {done.returncode}: {done.stderr.strip()}")
        return done


def psql(admin_url, sql):
    subprocess.run(["psql", admin_url, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c", sql], check=True,
                   capture_output=True, timeout=60)


class Databases:
    """Makes, fills and (for PostgreSQL) drops the bench's databases."""

    def __init__(self, config, workdir, master_key):
        self.config, self.workdir = config, workdir
        self.env = {"LATCHKEY_MASTER_KEY": master_key, "LATCHKEY_LOG": "warn"}
        self.created = []
        # Names unique to this run, so that two runs on one PostgreSQL never collide.
        self.prefix = f"latchkey_bench_{os.getpid()}_{time.time_ns() % 10**9}"

    def __enter__(self):
        return self

    def __exit__(self, *_):
        self.drop_all()

    def new(self, backend, label):
        """A fresh, empty database (latchkey creates its tables on first use)."""
        if backend == "sqlite":
            url = f"sqlite://{self.workdir / f'{label}.db'}"
        else:
            name = f"{self.prefix}_{label}"
            psql(self.config.postgres_url, f'CREATE DATABASE "{name}"')
            self.created.append(name)
            parts = urllib.parse.urlsplit(self.config.postgres_url)
            url = urllib.parse.urlunsplit(parts._replace(path=f"/{name}"))
        return Database(backend=backend, url=url, env=self.env, binary=self.config.binary)

    def filled(self, backend, apps, reuse_percent=None, rate_limit=None):
        """A fresh database holding `apps` bench apps (with token reuse at `reuse_percent`, and
        each app's `--rate-limit` when given); returns it and the seconds the fill took."""
        limited = "_limited" if rate_limit else ""
        database = self.new(backend, f"apps_{apps}_reuse_{reuse_percent or 0}{limited}")
        started = time.monotonic()
        fill(self.config, database, apps, reuse_percent)
        for app in range(apps if rate_limit else 0):
            database.cli(["app", "update", f"bench-{app}", "--rate-limit", rate_limit])
        return database, time.monotonic() - started

    def drop_all(self):
        for name in self.created:
            # FORCE ends a connection a stopped server might have left behind.
            psql(self.config.postgres_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.created.clear()


def fill(config, database, apps, reuse_percent):
    """Writes the bench apps into `database` through latchkey's own store (`cargo xtask
    bench-fill`, built in release mode by run.sh: it builds each app as `latchkey app create`
    does and hands them all to `Store::import`), so every backend is filled the same way. The
    store creates the tables of a new database itself."""
    subprocess.run([str(config.xtask), "bench-fill", "--database", database.url, "--apps", str(apps),
                    "--reuse", str(reuse_percent or 0)], check=True, timeout=COMMAND_TIMEOUT_S)
