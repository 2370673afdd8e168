"""Where a request's CPU goes, per store: the web layer, the store's work in the web process,
and the database server's work. bench/stores.py's ``costs`` phase runs it; it can also run alone:

    .venv/bin/python bench/costs.py --work DIR     # the stores of an earlier `bench/stores.py --work DIR`

The requests are bench/locustfile.py's mix (4 search pages, 4 API searches, 1.5 maps of a query
and 0.5 maps of the whole archive in every 10), with the 300 queries of queries.txt, sent one
at a time through the real Flask app in-process (no HTTP server, no client on the same cores),
result and map caches off, each store in a process of its own. For each request kind:

* **total**: this process's CPU per request plus, for PostgreSQL, every postgres process's;
* **web floor**: the same requests again with the store's answers memoized (recorded on a
  pass before): routing, templates, JSON, the map's rows, with a store that costs nothing;
* **store, client**: total minus floor minus server: the store's own work in the web process
  (compiling the query, snippets, facets, the driver);
* **store, server**: the postgres processes' CPU.

A busy server process runs one query per search (connections.py's second connection is for an
idle process), so it is turned off here, as it is under load. These are sequential figures:
under bench/load.py's 32 users both stores cost more per request (contention for the GIL and
the two cores), Whoosh more than PostgreSQL. Exits 2 when ../shared/corpus is absent.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench"), str(ROOT / "tests")]  # bench/stores.py, not tests/stores.py

#: bench/locustfile.py's mix: request kind -> share of requests.
MIX = {"/": 0.4, "/api/search": 0.4, "/map?q=": 0.15, "/map": 0.05}
#: The store methods whose answers the floor pass memoizes.
_MEMOIZED = ("search", "place_counts", "place_summary", "get_article", "generation", "stats", "coverage")
WHOLE_MAPS = 20


def process_cpu(pid: int) -> float:
    """CPU seconds of a process, the children it has reaped, and its live descendants."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        kids = []
        for task in Path(f"/proc/{pid}/task").iterdir():
            kids += (task / "children").read_text().split()
    except OSError:
        return 0.0
    own = sum(int(x) for x in fields[11:15]) / os.sysconf("SC_CLK_TCK")
    return own + sum(process_cpu(int(k)) for k in kids)


def _paths(qs: list[str]) -> dict[str, list[str]]:
    quoted = [urllib.parse.urlencode({"q": q}) for q in qs]
    return {"/": [f"/?{q}" for q in quoted], "/api/search": [f"/api/search?{q}" for q in quoted],
            "/map?q=": [f"/map?{q}" for q in quoted], "/map": ["/map"] * WHOLE_MAPS}


def _memoize(store) -> None:
    """Replace the store's read methods by ones answering from a memo filled on first call."""
    memo: dict = {}
    for name in _MEMOIZED:
        method = getattr(store, name)

        def remembered(*args, _method=method, _name=name, **kwargs):
            key = (_name, repr(args), repr(sorted(kwargs.items())))
            if key not in memo:
                memo[key] = _method(*args, **kwargs)
            return memo[key]

        setattr(store, name, remembered)


def _costs_of(location: str, qs: list[str], server_pid: int | None, pipe) -> None:
    """One store, in a process of its own: ms of CPU per request of each kind (see the module)."""
    from archive.store.postgres.connections import Connections
    from web import archive_store, create_app

    Connections.beside = lambda self, fn: None  # type: ignore[method-assign]  # as under load (module doc)
    app = create_app({"INDEX": location, "SEARCH_CACHE_SIZE": 0, "MAP_CACHE": False, "LOG_REQUESTS": False})
    client = app.test_client()
    paths = _paths(qs)

    def one_pass() -> dict[str, tuple[float, float]]:
        out = {}
        for kind, ps in paths.items():
            cpu, server = time.process_time(), process_cpu(server_pid) if server_pid else 0.0
            for p in ps:
                response = client.get(p)
                if response.status_code != 200:
                    raise SystemExit(f"error: {p} answered {response.status_code}")
            out[kind] = (1000 * (time.process_time() - cpu) / len(ps),
                         1000 * ((process_cpu(server_pid) if server_pid else 0.0) - server) / len(ps))
        return out

    one_pass()  # warm-up: the indexes' pages in memory, the process's tables filled
    real = one_pass()
    with app.app_context():
        _memoize(archive_store(app))
    one_pass()  # fills the memo
    floor = one_pass()
    pipe.send({kind: {"total": round(real[kind][0] + real[kind][1], 2), "floor": round(floor[kind][0], 2),
                      "client": round(real[kind][0] - floor[kind][0], 2), "server": round(real[kind][1], 2)}
               for kind in paths})


def measure(locations: dict[str, str], qs: list[str], server_pids: dict[str, int | None]) -> dict:
    """{store: {kind: {total, floor, client, server}} plus "mix"} for each store, one after the other."""
    ctx = multiprocessing.get_context("spawn")
    out: dict = {}
    for name, location in locations.items():
        here, there = ctx.Pipe()
        proc = ctx.Process(target=_costs_of, args=(location, qs, server_pids.get(name), there), daemon=True)
        proc.start()
        try:
            out[name] = here.recv()
        except EOFError:
            raise SystemExit(f"error: the {name} costs process failed (exit {proc.exitcode})") from None
        finally:
            proc.join(60)
        out[name]["mix"] = {part: round(sum(MIX[k] * out[name][k][part] for k in MIX), 2)
                            for part in ("total", "floor", "client", "server")}
    return out


def report(costs: dict) -> str:
    lines = ["costs: ms of CPU per request, one at a time, in-process, caches off "
             "(total = web floor + store in the web process + database server)"]
    for name, kinds in costs.items():
        for kind, c in kinds.items():
            label = "mix" if kind == "mix" else kind
            lines.append(f"  {name:8} {label:12} total {c['total']:6.2f} = floor {c['floor']:5.2f} "
                         f"+ store {c['client']:5.2f} + server {c['server']:5.2f}")
    if {"whoosh", "postgres"} <= costs.keys():
        w, p = costs["whoosh"]["mix"], costs["postgres"]["mix"]
        budget = w["total"] / 2 - p["floor"]
        lines.append(f"  ratio of the mix's totals: {w['total'] / p['total']:.2f}x; at 2x PostgreSQL's store "
                     f"(client + server) would have {budget:.2f} ms per request, it takes "
                     f"{p['client'] + p['server']:.2f}")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, required=True, help="a --work folder of bench/stores.py")
    args = parser.parse_args()
    from stores import CORPUS, PG_SETTINGS, postmaster_pid, queries

    if not (CORPUS / "queries.txt").exists():
        print(f"{CORPUS} is absent: nothing to measure (this benchmark reads the shared corpus).", file=sys.stderr)
        return 2
    from pgserver import PgCluster

    cluster = PgCluster(args.work / "pg")
    os.environ["PGPASSFILE"] = str(cluster.passfile)
    primary = cluster.existing("primary")
    primary.start(**PG_SETTINGS)
    try:
        costs = measure({"whoosh": str(args.work / "whoosh"), "postgres": primary.url("bench")}, queries(),
                        {"postgres": postmaster_pid(primary)})
    finally:
        cluster.close(remove=False)
    print(report(costs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
