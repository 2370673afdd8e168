"""Search latency and index size on ../shared/corpus, against a bare Whoosh index.

    .venv/bin/python bench/search.py                  # build both indexes (cached in bench/out/), then query
    .venv/bin/python bench/search.py --index index/   # use an index built by `geoarchive ingest`
    .venv/bin/python bench/search.py --rebuild        # rebuild the cached indexes
    .venv/bin/python bench/search.py --check          # exit 1 when a target is missed

Our side runs each of the 300 queries in ../shared/corpus/queries.txt through
``archive.store.whoosh.search.search`` exactly as the search page does (20 hits, snippets, facets over
the whole result set, suggestion). The bare side runs the same query strings on a Whoosh
index with default settings (title and text stored, StemmingAnalyzer; plus the source,
places and date fields that the field queries name), parsed with a MultifieldParser over
title and text, 20 hits with Whoosh's own highlights and the total count (and once more
without highlights, for reference). All run interleaved in the same process, after one
warm-up pass each. CPU time is reported next to wall time because these machines are
shared: wall time includes waiting for a CPU.

Targets (issue 4): p50 <= 30 ms, p95 <= 120 ms, index size <= 1.5 x the bare index.
Exits 2 when ../shared/corpus is absent.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import json
import multiprocessing
import os
import shutil
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from whoosh import fields as wf  # noqa: E402
from whoosh import index as wi  # noqa: E402
from whoosh.analysis import StemmingAnalyzer  # noqa: E402
from whoosh.qparser import MultifieldParser  # noqa: E402

from archive.errors import QueryError  # noqa: E402
from archive.models import Article  # noqa: E402
from archive.store.whoosh import index as archive_index  # noqa: E402
from archive.store.whoosh.search import parse_request, search  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpus"
OUT = ROOT / "bench" / "out"
TARGET_P50_MS, TARGET_P95_MS, TARGET_SIZE_RATIO = 30.0, 120.0, 1.5


def corpus_files() -> list[Path]:
    return sorted(CORPUS.glob("*.jsonl.gz"))


def read_corpus():
    """Yield Articles from every corpus file (the Reuters PLACES tags kept in ``extra``)."""
    for path in corpus_files():
        with gzip.open(path, "rt", encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                r = json.loads(line)
                extra = {k: r[k] for k in ("places", "corpus") if k in r}
                yield Article(r["id"], r["title"], r["text"],
                              dt.date.fromisoformat(r["date"]) if r.get("date") else None,
                              r.get("url"), r.get("source"), origin=f"{path.name}:{n}", extra=extra)


_TAGGER = None


def _geotag(article):
    global _TAGGER
    if _TAGGER is None:
        from archive.geo.geotag import Geotagger

        _TAGGER = Geotagger()
    return _TAGGER.geotag(article)


def build_ours(index_dir: Path, jobs: int) -> dict:
    """Geotag the corpus on ``jobs`` processes and write it with archive.store.whoosh.index.

    Commits every DEFAULT_BATCH (10,000) articles, as ``geoarchive ingest`` does, so the index
    measured has the segments an ingested one has.
    """
    from archive.pipeline import DEFAULT_BATCH

    try:
        import archive.geo.geotag  # noqa: F401
        tagging = True
    except ImportError:
        tagging = False
        print("archive/geo/geotag.py is not there yet: indexing articles without mentions.")
    started = time.perf_counter()
    write_s = 0.0
    n = mentions = 0
    with archive_index.open_writer(index_dir) as w:
        ctx = multiprocessing.get_context("fork")
        pool = ctx.Pool(jobs) if tagging and jobs > 1 else None
        if pool is not None:
            tagged = pool.imap(_geotag, read_corpus(), chunksize=32)
        elif tagging:
            tagged = map(_geotag, read_corpus())
        else:
            from archive.models import GeotaggedArticle

            tagged = (GeotaggedArticle(a) for a in read_corpus())
        for ga in tagged:
            t = time.thread_time()
            w.add(ga)
            n += 1
            mentions += len(ga.mentions)
            if n % DEFAULT_BATCH == 0:
                w.commit()
            write_s += time.thread_time() - t
            if n % 10000 == 0:
                print(f"  {n} articles, {n / (time.perf_counter() - started):.0f}/s", flush=True)
        t = time.thread_time()
        w.close()
        write_s += time.thread_time() - t
        if pool is not None:
            pool.close()
            pool.join()
    total = time.perf_counter() - started
    return {"articles": n, "mentions": mentions, "seconds": total, "write_seconds": write_s}


def bare_schema() -> wf.Schema:
    return wf.Schema(
        id=wf.ID(unique=True, stored=True),
        title=wf.TEXT(analyzer=StemmingAnalyzer(), stored=True),
        text=wf.TEXT(analyzer=StemmingAnalyzer(), stored=True),
        source=wf.TEXT(analyzer=StemmingAnalyzer()),
        places=wf.KEYWORD(),
        date=wf.ID(),
    )


def build_bare(index_dir: Path) -> dict:
    started = time.perf_counter()
    index_dir.mkdir(parents=True, exist_ok=True)
    ix = wi.create_in(str(index_dir), bare_schema())
    w = ix.writer(procs=2, limitmb=256, multisegment=True)
    n = 0
    for a in read_corpus():
        w.add_document(id=a.id, title=a.title, text=a.text, source=a.source or "",
                       places=" ".join(a.extra.get("places", [])), date=a.date.isoformat() if a.date else "")
        n += 1
    w.commit()
    ix.close()
    return {"articles": n, "seconds": time.perf_counter() - started}


def size_of(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.name.endswith(".lock"))


def read_queries() -> list[tuple[str, str]]:
    tsv = CORPUS / "queries.tsv"
    if tsv.exists():
        rows = [line.split("\t", 1) for line in tsv.read_text("utf-8").splitlines()[1:] if line.strip()]
        return [(cat, q) for cat, q in rows]
    return [("all", q) for q in (CORPUS / "queries.txt").read_text("utf-8").splitlines() if q.strip()]


def run_ours(index_dir: Path, q: str) -> tuple[float, float, int]:
    t, c = time.perf_counter(), time.process_time()
    try:
        page = search(index_dir, parse_request({"q": q}))
        total = page.total
    except QueryError:
        total = -1
    return (time.perf_counter() - t) * 1000, (time.process_time() - c) * 1000, total


class Bare:
    def __init__(self, index_dir: Path):
        self.ix = wi.open_dir(str(index_dir))
        self.parser = MultifieldParser(["title", "text"], self.ix.schema)
        self.searcher = self.ix.searcher()  # kept open, as the store keeps its own (whoosh/shelf.py)

    def run(self, q: str, snippets: bool = True) -> tuple[float, float, int]:
        t, c = time.perf_counter(), time.process_time()
        results = self.searcher.search(self.parser.parse(q), limit=20)
        if snippets:
            for hit in results:
                hit.highlights("text")
        total = len(results)
        return (time.perf_counter() - t) * 1000, (time.process_time() - c) * 1000, total


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--index", type=Path, help="an index built by `geoarchive ingest` (default: build one)")
    ap.add_argument("--rebuild", action="store_true", help="rebuild the cached indexes in bench/out/")
    ap.add_argument("--jobs", type=int, default=2, help="geotagging processes when building")
    ap.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = ap.parse_args()

    if not (CORPUS / "queries.txt").exists() or not corpus_files():
        print(f"No corpus at {CORPUS}: this benchmark needs ../shared/corpus (*.jsonl.gz and queries.txt).")
        return 2

    from archive.pipeline import DEFAULT_BATCH

    # named by its commit size, so an index built with another one (2,000 before) is not reused
    ours_dir = args.index or OUT / f"search-index-commit{DEFAULT_BATCH}"
    bare_dir = OUT / "bare-index"
    if args.rebuild:
        for d in ([] if args.index else [ours_dir]) + [bare_dir]:
            shutil.rmtree(d, ignore_errors=True)
    if args.index is None and not wi.exists_in(str(ours_dir)):
        print(f"Building our index in {ours_dir} (geotag on {args.jobs} processes, our index writer) ...")
        b = build_ours(ours_dir, args.jobs)
        print(f"  {b['articles']} articles, {b['mentions']} mentions in {b['seconds']:.0f} s "
              f"({b['articles'] / b['seconds']:.0f} articles/s end to end on this shared machine; the writer "
              f"thread used {b['write_seconds']:.0f} s of CPU = {b['articles'] / max(b['write_seconds'], 1e-9):.0f} "
              "articles per CPU-second)")
    if not wi.exists_in(str(bare_dir)):
        print(f"Building the bare Whoosh index in {bare_dir} (procs=2, multisegment) ...")
        b = build_bare(bare_dir)
        print(f"  {b['articles']} articles in {b['seconds']:.0f} s ({b['articles'] / b['seconds']:.0f} articles/s)")

    stats = archive_index.stats(ours_dir)
    queries = read_queries()
    bare = Bare(bare_dir)
    for _cat, q in queries:  # warm-up: open files, build caches, fill the OS page cache
        run_ours(ours_dir, q)
        bare.run(q)
    ours_ms, bare_ms, ours_cpu, bare_cpu, plain_ms, by_cat = [], [], [], [], [], defaultdict(list)
    errors, empty = [], 0
    load_before = os.getloadavg()[0]
    for cat, q in queries:
        ms, cpu, total = run_ours(ours_dir, q)
        bms, bcpu, _btotal = bare.run(q)
        plain_ms.append(bare.run(q, snippets=False)[0])
        ours_ms.append(ms)
        bare_ms.append(bms)
        ours_cpu.append(cpu)
        bare_cpu.append(bcpu)
        by_cat[cat].append((ms, bms))
        if total < 0:
            errors.append(q)
        elif total == 0:
            empty += 1

    ours_size, bare_size = size_of(ours_dir), size_of(bare_dir)
    p50, p95 = pct(ours_ms, 50), pct(ours_ms, 95)
    b50, b95 = pct(bare_ms, 50), pct(bare_ms, 95)
    print(f"\nMachine: {os.cpu_count()} CPUs, load average {load_before:.1f} before and "
          f"{os.getloadavg()[0]:.1f} after the timed pass (wall times include waiting for the CPU)")
    print(f"Index: {stats.articles} articles, {stats.places} places, {stats.mentions} mentions")
    print(f"Queries: {len(queries)} ({empty} with no hits, {len(errors)} rejected{': ' if errors else ''}"
          f"{', '.join(map(repr, errors[:5]))})\n")
    print(f"{'category':<12} {'n':>4} {'ours p50':>9} {'ours p95':>9} {'bare p50':>9} {'bare p95':>9}")
    for cat, rows in by_cat.items():
        o = [r[0] for r in rows]
        b = [r[1] for r in rows]
        print(f"{cat:<12} {len(rows):>4} {pct(o, 50):>9.1f} {pct(o, 95):>9.1f} {pct(b, 50):>9.1f} {pct(b, 95):>9.1f}")
    print(f"\n{'':<24} {'ours':>10} {'bare':>10} {'ratio':>7}  target")
    print(f"{'latency p50 (ms)':<24} {p50:>10.1f} {b50:>10.1f} {p50 / b50:>7.2f}  <= {TARGET_P50_MS:g} ms")
    print(f"{'latency p95 (ms)':<24} {p95:>10.1f} {b95:>10.1f} {p95 / b95:>7.2f}  <= {TARGET_P95_MS:g} ms")
    print(f"{'latency max (ms)':<24} {max(ours_ms):>10.1f} {max(bare_ms):>10.1f} {max(ours_ms) / max(bare_ms):>7.2f}")
    p50p, p95p = pct(plain_ms, 50), pct(plain_ms, 95)
    print(f"{'bare, no snippets p50':<24} {p50:>10.1f} {p50p:>10.1f} {p50 / p50p:>7.2f}")
    print(f"{'bare, no snippets p95':<24} {p95:>10.1f} {p95p:>10.1f} {p95 / p95p:>7.2f}")
    print(f"{'mean (ms)':<24} {statistics.mean(ours_ms):>10.1f} {statistics.mean(bare_ms):>10.1f}")
    c50, c95, bc50, bc95 = pct(ours_cpu, 50), pct(ours_cpu, 95), pct(bare_cpu, 50), pct(bare_cpu, 95)
    print(f"{'CPU time p50 (ms)':<24} {c50:>10.1f} {bc50:>10.1f} {c50 / bc50:>7.2f}")
    print(f"{'CPU time p95 (ms)':<24} {c95:>10.1f} {bc95:>10.1f} {c95 / bc95:>7.2f}")
    print(f"{'index size (MB)':<24} {ours_size / 1e6:>10.1f} {bare_size / 1e6:>10.1f} "
          f"{ours_size / bare_size:>7.2f}  <= {TARGET_SIZE_RATIO:g} x bare")
    met = p50 <= TARGET_P50_MS and p95 <= TARGET_P95_MS and ours_size <= TARGET_SIZE_RATIO * bare_size
    print("\nAll targets met." if met else "\nSome targets missed.")
    return 1 if args.check and not met else 0


if __name__ == "__main__":
    sys.exit(main())
