"""latchkey's benchmark as a small program (bench/run.sh runs it through bench/run.py). Each
module owns one thing:

- `config`: `Config`, the one configuration object, built from the command line;
- `servers`: starting and stopping latchkey and the peer, readiness polled with a deadline;
- `databases`: fresh databases on SQLite or PostgreSQL, filled with the bench apps;
- `load`: wrk (closed loop), oha (open loop, a fixed offered load) and the signature ceiling;
- `measure`: one pass over the matrix of rows;
- `rows`: what a pass measured, as types; `stats`: pooling, medians, derived ratios;
- `targets`: the targets of bench/targets.json, judged; `report`: the table and latest.json;
- `main`: the run from start to end.
"""
