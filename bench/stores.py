"""Whoosh and PostgreSQL side by side in one run, on ../shared/corpus: ingest, search, load.

    .venv/bin/python bench/stores.py                      # everything (about an hour on 2 cores)
    .venv/bin/python bench/stores.py --phases ingest,search50k,load
    .venv/bin/python bench/stores.py --sample 5000        # a quick run on part of the corpus

Both stores are built and measured in the same run, so the ratios hold however fast the
machine is that day. PostgreSQL is a throw-away cluster this script starts (initdb in a
temporary folder, 127.0.0.1, a free port: tests/pgserver.py), with durable settings
(fsync and synchronous commit on) and more memory than the test server; it is stopped
and removed at the end.

Phases, in order:

* ``ingest``: ``geoarchive ingest`` of the whole corpus (50k) into a new Whoosh index and
  into the PostgreSQL database, timed end to end (read, geotag, store); articles/s and the ratio.
* ``copy``: a new PostgreSQL database filled from the Whoosh index with ``geoarchive copy``
  (stored mentions, no geotagging), timed: to measure the current PostgreSQL store on a kept
  ``--work`` folder without ingesting again (``--phases copy,search50k``).
* ``search50k``: the 300 queries of queries.txt through ``Store.search`` exactly as the
  search page asks (20 hits, snippets, facets over all matches, suggestion; the web app's
  result caches are not involved), each store in a process of its own, one warm-up pass each,
  then the stores taking turns every 25 queries (``--interleave``: see search_times); p50/p95
  of wall time per query and the ratios.
* ``costs``: where a request's CPU goes in each store, one request at a time (bench/costs.py):
  the web layer's own part (the store's answers memoized), the store's part in the web process
  and the database server's part, per request kind and for the load mix.
* ``load``: bench/load.py's locust mix (search page, API, map) against ``geoarchive serve``
  with result and map caches off, first on Whoosh, then on PostgreSQL with two streaming
  replicas (pg_basebackup -R) of which one is stopped halfway. Requests per server CPU
  second (the serve processes' CPU plus, for PostgreSQL, every postgres process's), p99, failures.
* ``grow``: both stores grow to the corpus six times over (copies 1-5 with new ids and dates
  shifted by k x 40 years, written from the stored articles without geotagging again). It
  changes the stores in place: give it a --work folder of its own.
* ``search300k``: the same 300 queries on the grown stores (after ``grow``, in this run or an
  earlier one on the same --work folder).
* ``load300k``: the load mix on the grown stores, PostgreSQL's primary alone (two replicas of
  a 300k archive would need twice its disk again).

Writes bench/out/stores.json and prints a table. Exits 2 when ../shared/corpus is absent.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "bench")]
CORPUS = ROOT.parent / "shared" / "corpus"

from costs import process_cpu  # noqa: E402  (bench/costs.py: found through the path above)

OUT = ROOT / "bench" / "out"
PHASES = ("ingest", "copy", "search50k", "costs", "load", "grow", "search300k", "load300k")
#: The bench server's settings: durable, and memory for a 300k archive (the machine has 24 GB).
PG_SETTINGS = {"fsync": "on", "synchronous_commit": "on", "full_page_writes": "on", "shared_buffers": "2GB",
               "effective_cache_size": "8GB", "work_mem": "32MB", "maintenance_work_mem": "512MB",
               "max_wal_size": "8GB", "checkpoint_timeout": "15min", "max_connections": "200"}


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


# -- the corpus --------------------------------------------------------------
def corpus_inputs(sample: int | None, work: Path) -> list[Path]:
    files = sorted(CORPUS.glob("*.jsonl.gz"))
    if sample is None:
        return files
    import gzip

    out = work / "sample.jsonl"
    per_file = max(1, sample // len(files))
    with out.open("w", encoding="utf-8") as f:
        for path in files:
            with gzip.open(path, "rt", encoding="utf-8") as fh:
                for n, line in enumerate(fh):
                    if n >= per_file:
                        break
                    f.write(line)
    return [out]


def queries() -> list[str]:
    return [q.strip() for q in (CORPUS / "queries.txt").read_text().splitlines() if q.strip()]


# -- phases -------------------------------------------------------------------
def ingest(location: str, inputs: list[Path]) -> dict:
    cmd = [sys.executable, "-m", "archive", "ingest", "-q", "--index", location, *map(str, inputs)]
    started = time.perf_counter()
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode not in (0, 1):  # 1: some records skipped
        sys.exit(f"error: ingest into {location} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    log(done.stdout.strip())
    from archive.store import open_store

    store = open_store(location)
    articles = store.stats().articles
    store.close()
    return {"articles": articles, "seconds": round(seconds, 1), "per_s": round(articles / seconds, 1)}


#: Queries per turn when the stores take turns by block (search_times).
BLOCK = 25


def _searcher(location: str, qs: list[str], pipe) -> None:
    """A store in a process of its own (search_times): a warm-up pass, then the queries it is sent,
    answering each batch with (wall ms, total) per query, timed here."""
    from archive.store import open_store
    from archive.store.query import parse_request

    store = open_store(location)
    requests = [parse_request({"q": q}) for q in qs]
    started = time.perf_counter()
    for r in requests:
        store.search(r)
    pipe.send(time.perf_counter() - started)
    while (batch := pipe.recv()) is not None:
        out = []
        for i in batch:
            t = time.perf_counter()
            page = store.search(requests[i])
            out.append((1000 * (time.perf_counter() - t), page.total))
        pipe.send(out)
    store.close()


def search_times(locations: dict[str, str], qs: list[str], interleave: str = "block") -> dict:
    """Per store: wall ms of each query, each store searched in a process of its own (as a server
    of one store runs), after one warm-up pass of each.

    ``interleave="block"``: the stores take turns every BLOCK queries, the first store of each
    turn alternating, so both see the same drift of the machine. ``"query"``: turns after every
    query (on two cores one store's work then displaces the other's from the CPU caches just
    before each of its queries). ``"query-one-process"``: turns after every query with both
    stores in this process (the measure of earlier runs; measured on 300k, it adds about a fifth
    to PostgreSQL's p50, its query following Whoosh's hundreds of MB of index in the same process).
    """
    import multiprocessing

    names = list(locations)
    times: dict[str, list[float]] = {name: [0.0] * len(qs) for name in names}
    totals: dict[str, list[int]] = {name: [0] * len(qs) for name in names}
    size = BLOCK if interleave == "block" else 1
    if interleave == "query-one-process":
        _one_process(locations, qs, times, totals)
    else:
        ctx = multiprocessing.get_context("spawn")
        pipes, procs = {}, []
        try:
            for name in names:
                here, there = ctx.Pipe()
                proc = ctx.Process(target=_searcher, args=(locations[name], qs, there), daemon=True)
                proc.start()
                procs.append(proc)
                pipes[name] = here
                log(f"warm-up {name}: {here.recv():.1f} s")  # one store at a time, as the turns below
            for turn, first in enumerate(range(0, len(qs), size)):
                batch = list(range(first, min(first + size, len(qs))))
                for name in (names if turn % 2 == 0 else names[::-1]):
                    pipes[name].send(batch)
                    for i, (ms, total) in zip(batch, pipes[name].recv(), strict=True):
                        times[name][i], totals[name][i] = ms, total
            for pipe in pipes.values():
                pipe.send(None)
        finally:
            for proc in procs:
                proc.join(60)
                if proc.is_alive():
                    proc.kill()
    out: dict = {name: {"p50_ms": round(statistics.median(t), 1), "p95_ms": round(pct(t, 95), 1),
                        "mean_ms": round(statistics.fmean(t), 1)} for name, t in times.items()}
    out["interleave"] = interleave
    differ = [(q, a, b) for q, a, b in zip(qs, totals[names[0]], totals[names[1]], strict=True) if a != b]
    out["same_total"] = f"{len(qs) - len(differ)}/{len(qs)}"
    out["differing_totals"] = [{"q": q, names[0]: a, names[1]: b} for q, a, b in differ]
    return out


def _one_process(locations: dict[str, str], qs: list[str], times: dict, totals: dict) -> None:
    """search_times' "query-one-process": both stores in this process, turns after every query."""
    from archive.store import open_store
    from archive.store.query import parse_request

    stores = {name: open_store(location) for name, location in locations.items()}
    requests = [parse_request({"q": q}) for q in qs]
    try:
        for name, store in stores.items():
            started = time.perf_counter()
            for r in requests:
                store.search(r)
            log(f"warm-up {name}: {time.perf_counter() - started:.1f} s")
        for i, r in enumerate(requests):
            for name, store in stores.items():
                started = time.perf_counter()
                page = store.search(r)
                times[name][i] = 1000 * (time.perf_counter() - started)
                totals[name][i] = page.total
    finally:
        for store in stores.values():
            store.close()


def shifted(date, years: int):
    """``date`` moved by ``years``; 29 February becomes the 28th where the new year has none (2100)."""
    try:
        return date.replace(year=date.year + years)
    except ValueError:
        return date.replace(year=date.year + years, day=28)


def grow(store, copies: int, batch: int = 10_000) -> int:
    """Add ``copies`` copies of every stored article: new ids, dates shifted by k x 40 years."""
    originals = list(store.iter_articles())
    added = 0
    with store.writer(timeout=60) as w:
        for k in range(1, copies + 1):
            for ga in originals:
                a = ga.article
                date = shifted(a.date, 40 * k) if a.date else None
                w.add(dataclasses.replace(ga, article=dataclasses.replace(a, id=f"{a.id}~{k}", date=date)))
                added += 1
                if added % batch == 0:
                    w.commit()
    return added


# -- load ---------------------------------------------------------------------
def postmaster_pid(server) -> int:
    return int((server.datadir / "postmaster.pid").read_text().split()[0])


def serve(location: str, replicas: list[str], port: int, log_path: Path, threads: int = 8) -> subprocess.Popen:
    import load

    env = {**os.environ, "GEOARCHIVE_SEARCH_CACHE_SIZE": "0", "GEOARCHIVE_MAP_CACHE": "false"}
    cmd = [sys.executable, "-m", "archive", "serve", "--index", location, "--port", str(port),
           "--workers", str(os.cpu_count() or 1), "--threads", str(threads)]
    for url in replicas:
        cmd += ["--read-replica", url]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log_path.open("w"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"error: serve exited ({proc.returncode}); see {log_path}")
        try:
            if load.get(f"http://127.0.0.1:{port}/healthz", timeout=5)[0] == 200:
                return proc
        except OSError:
            pass
        time.sleep(0.3)
    proc.kill()
    sys.exit(f"error: serve did not answer within 120 s; see {log_path}")


def load_run(name: str, location: str, replicas: list[str], pg_pids: list[int], args, stop_halfway=None,
             extra_cpu=lambda: 0.0) -> dict:
    """One locust run against ``geoarchive serve``; server CPU = serve's processes + ``pg_pids``' process trees.

    ``extra_cpu()`` adds the CPU of processes that ended during the run (a stopped replica).
    """
    import load

    port = load.free_port()
    proc = serve(location, replicas, port, OUT / f"stores-{name}-server.log", args.threads)
    base = f"http://127.0.0.1:{port}"
    try:
        load.warm_up(base, queries()[: args.warm_up])
        pids = [proc.pid, *pg_pids]
        before = sum(process_cpu(p) for p in pids)
        timer = None
        if stop_halfway is not None:
            timer = threading.Timer(args.duration / 2, stop_halfway)
            timer.start()
        stats = load.run_locust(base, args.users, args.duration, 0.0, 0, OUT / f"stores-{name}")
        if timer is not None:
            timer.join()
        cpu = sum(process_cpu(p) for p in pids) + extra_cpu() - before
    finally:
        proc.terminate()
        proc.wait(30)
    s = stats["all"]
    return {"requests": s["requests"], "failures": s["failures"], "rps": round(s["rps"], 1), "p50_ms": s["p50"],
            "p99_ms": s["p99"], "server_cpu_s": round(cpu, 1),
            "req_per_cpu_s": round(s["requests"] / cpu, 1) if cpu else None,
            "per_endpoint": {k: v for k, v in stats.items() if k != "all"}}


# -- main ---------------------------------------------------------------------
def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--phases", default=",".join(PHASES), help=f"comma-separated, of {', '.join(PHASES)}")
    parser.add_argument("--sample", type=int, help="use about this many corpus articles instead of all")
    parser.add_argument("--copies", type=int, default=5, help="extra copies of the corpus for search300k (5)")
    parser.add_argument("--grow", default="whoosh,postgres", help="the stores the grow phase grows (both)")
    parser.add_argument("--users", type=int, default=32)
    parser.add_argument("--duration", type=int, default=60, help="seconds per load run (60)")
    parser.add_argument("--threads", type=int, default=8,
                        help="threads per serve worker in the load runs, both stores (8, serve's default)")
    parser.add_argument("--warm-up", type=int, default=60, help="queries sent to each endpoint before a load run")
    parser.add_argument("--interleave", choices=("block", "query", "query-one-process"), default="block",
                        help="the search phases' turns: every 25 queries (default) or every query, each store in "
                             "a process of its own; or every query with both in this process (search_times)")
    parser.add_argument("--work", type=Path, help="keep the Whoosh index and cluster here (default: a temp folder)")
    args = parser.parse_args()
    phases = [p for p in args.phases.split(",") if p]
    unknown = set(phases) - set(PHASES)
    if unknown:
        parser.error(f"unknown phase(s) {sorted(unknown)}; choose from {', '.join(PHASES)}")
    if not (CORPUS / "queries.txt").exists():
        print(f"{CORPUS} is absent: nothing to measure (this benchmark reads the shared corpus).", file=sys.stderr)
        return 2
    OUT.mkdir(parents=True, exist_ok=True)

    from pgserver import PgCluster

    from archive.store import open_store

    work = args.work or Path(tempfile.mkdtemp(prefix="geoarchive-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    cluster = PgCluster(work / "pg")
    os.environ["PGPASSFILE"] = str(cluster.passfile)
    results: dict = {"started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "cpus": os.cpu_count(),
                     "sample": args.sample, "phases": phases}
    try:
        if (work / "pg" / "primary").exists():  # a kept --work folder: the stores of an earlier run
            if "ingest" in phases:
                sys.exit(f"error: {work} holds the stores of an earlier run; leave out the ingest phase or "
                         "give a new --work folder")
            primary = cluster.existing("primary")
            primary.start(**PG_SETTINGS)
        else:
            primary = cluster.init_primary()
            primary.stop()
            primary.start(**PG_SETTINGS)
            cluster.create_database(primary, "bench")
        pg_url = primary.url("bench")
        whoosh_dir = str(work / "whoosh")
        inputs = corpus_inputs(args.sample, work)

        if "ingest" in phases:
            log("ingest: Whoosh ...")
            w = ingest(whoosh_dir, inputs)
            log(f"ingest Whoosh: {w}")
            log("ingest: PostgreSQL ...")
            p = ingest(pg_url, inputs)
            log(f"ingest PostgreSQL: {p}")
            results["ingest"] = {"whoosh": w, "postgres": p, "ratio": round(p["per_s"] / w["per_s"], 2)}
            primary.execute("VACUUM ANALYZE", dbname="bench")
        if "copy" in phases:
            primary.execute("DROP DATABASE IF EXISTS bench WITH (FORCE)")
            cluster.create_database(primary, "bench")
            started = time.perf_counter()
            done = subprocess.run([sys.executable, "-m", "archive", "copy", "-q", whoosh_dir, pg_url], cwd=ROOT,
                                  capture_output=True, text=True)
            if done.returncode != 0:
                sys.exit(f"error: copy failed ({done.returncode}):\n{done.stderr[-2000:]}")
            seconds = time.perf_counter() - started
            log(done.stdout.strip())
            primary.execute("VACUUM ANALYZE", dbname="bench")
            results["copy"] = {"seconds": round(seconds, 1)}
        locations = {"whoosh": whoosh_dir, "postgres": pg_url}
        stores = {name: open_store(location) for name, location in locations.items()}
        results["articles"] = {n: s.stats().articles for n, s in stores.items()}

        if "search50k" in phases:
            log("search at 50k ...")
            results["search50k"] = search_times(locations, queries(), args.interleave)
            log(f"search50k: {results['search50k']}")

        if "costs" in phases:
            import costs

            log("costs: one request at a time, each store in a process of its own ...")
            results["costs"] = costs.measure(locations, queries(), {"postgres": postmaster_pid(primary)})
            log(costs.report(results["costs"]))
        if "load" in phases:
            log("load: Whoosh ...")
            results["load_whoosh"] = load_run("whoosh", whoosh_dir, [], [], args)
            log(f"load Whoosh: {results['load_whoosh']}")
            replicas = [primary.make_replica(f"replica{k}") for k in range(2)]
            for r in replicas:
                cluster.servers.append(r)  # stopped with the cluster
                r.start(**PG_SETTINGS)
            log("load: PostgreSQL with two replicas, one stopped halfway ...")
            pids = [postmaster_pid(s) for s in (primary, *replicas)]
            stopped_cpu = []

            def stop_one():
                stopped_cpu.append(process_cpu(pids[1]))  # its CPU so far still counts
                replicas[0].stop("fast")

            results["load_postgres"] = load_run("postgres", pg_url, [r.url("bench") for r in replicas], pids, args,
                                                stop_halfway=stop_one, extra_cpu=lambda: sum(stopped_cpu))
            log(f"load PostgreSQL: {results['load_postgres']}")
            for r in replicas:
                r.stop("immediate")
                cluster.servers.remove(r)
                shutil.rmtree(r.datadir, ignore_errors=True)

        if "grow" in phases:
            for name, store in stores.items():
                if name not in args.grow.split(","):
                    continue
                started = time.perf_counter()
                n = grow(store, args.copies)
                log(f"grew {name} by {n} articles in {time.perf_counter() - started:.0f} s")
            primary.execute("VACUUM ANALYZE", dbname="bench")
        if "search300k" in phases:
            results["articles300k"] = {n: s.stats().articles for n, s in stores.items()}
            log("search at 300k ...")
            results["search300k"] = search_times(locations, queries(), args.interleave)
            log(f"search300k: {results['search300k']}")
        if "load300k" in phases:
            results["articles300k"] = {n: s.stats().articles for n, s in stores.items()}
            log("load at 300k: Whoosh ...")
            results["load300k_whoosh"] = load_run("whoosh", whoosh_dir, [], [], args)
            log(f"load300k Whoosh: {results['load300k_whoosh']}")
            log("load at 300k: PostgreSQL, the primary alone ...")
            results["load300k_postgres"] = load_run("postgres", pg_url, [], [postmaster_pid(primary)], args)
            log(f"load300k PostgreSQL: {results['load300k_postgres']}")
        for store in stores.values():
            store.close()
    finally:
        cluster.close(remove=args.work is None)  # a --work folder keeps both stores for later phases
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    (OUT / "stores.json").write_text(json.dumps(results, indent=2) + "\n")
    print(report(results))
    return 0


def report(r: dict) -> str:
    lines = [f"bench/stores.py, {r['started']}, {r['cpus']} CPUs" + (f", sample {r['sample']}" if r["sample"] else "")]
    if "copy" in r:
        lines.append(f"copy Whoosh -> PostgreSQL: {r['copy']['seconds']} s "
                     f"({r['articles']['postgres'] / r['copy']['seconds']:.0f} articles/s)")
    if "ingest" in r:
        i = r["ingest"]
        lines.append(f"ingest end to end: Whoosh {i['whoosh']['per_s']}/s ({i['whoosh']['articles']} in "
                     f"{i['whoosh']['seconds']} s), "
                     f"PostgreSQL {i['postgres']['per_s']}/s ({i['postgres']['seconds']} s)"
                     f": ratio {i['ratio']}x")
    for key in ("search50k", "search300k"):
        if key in r:
            s = r[key]
            w, p = s["whoosh"], s["postgres"]
            n = r.get("articles300k" if key == "search300k" else "articles", {}).get("whoosh", 0)
            lines.append(f"{key} ({n} articles): Whoosh p50/p95 {w['p50_ms']}/{w['p95_ms']} ms, "
                         f"PostgreSQL {p['p50_ms']}/{p['p95_ms']} ms"
                         f": ratios {p['p50_ms'] / w['p50_ms']:.2f} / {p['p95_ms'] / w['p95_ms']:.2f}"
                         f" (same totals {s['same_total']}; turns: {s.get('interleave', 'query-one-process')})")
    if "costs" in r:
        import costs

        lines.append(costs.report(r["costs"]))
    for load in ("load", "load300k"):
        for key in (f"{load}_whoosh", f"{load}_postgres"):
            if key in r:
                s = r[key]
                lines.append(f"{key}: {s['requests']} requests, {s['failures']} failures, {s['rps']} req/s, "
                             f"p50/p99 {s['p50_ms']}/{s['p99_ms']} ms, {s['req_per_cpu_s']} req per server CPU-s")
        w, p = r.get(f"{load}_whoosh"), r.get(f"{load}_postgres")
        if w and p and w["req_per_cpu_s"]:
            sizes = (f" (Whoosh {r['articles300k']['whoosh']} articles, PostgreSQL {r['articles300k']['postgres']})"
                     if load == "load300k" and "articles300k" in r else "")
            lines.append(f"{load} ratio (req per server CPU-s): {p['req_per_cpu_s'] / w['req_per_cpu_s']:.2f}x{sizes}")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
