"""latchkey's benchmark (bench/run.sh builds what it needs and runs this): the signature
ceiling, the token endpoint with 1 and 10,000 apps (1,000,000 with --full) per algorithm on
SQLite and/or PostgreSQL (--backend), closed and open loop, introspection, JWKS, change
propagation, token reuse, two nodes on one PostgreSQL, and with --peer node-oidc-provider in
the same rows. The program is the package bench/latchkey_bench; `--help` lists the flags."""
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

from latchkey_bench.main import main  # noqa: E402 (the path above is what finds it)

if __name__ == "__main__":
    main()
