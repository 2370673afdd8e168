"""Geotagging speed: articles/s and words/s on ../shared/corpus, plus cold-start time.

    .venv/bin/python bench/geotag.py [--articles 3000] [--runs 3]

Throughput is measured in this process, pinned to one CPU core, over a fixed sample of
articles taken evenly from every corpus file; each run uses a new Geotagger (the
gazetteer is loaded once). Cold start is the wall time of a fresh Python subprocess that
imports the package, loads the cached gazetteer and tags one article. Every figure is
the median of several runs. Exits 1 when ../shared/corpus is absent.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from archive.geo.gazetteer import load_gazetteer  # noqa: E402
from archive.geo.geotag import Geotagger  # noqa: E402
from archive.models import Article  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpus"

COLD = """
import json, sys
from archive.geo.geotag import Geotagger
from archive.models import Article
rec = json.loads(sys.argv[1])
n = len(Geotagger().geotag(Article(id="x", title=rec["title"], text=rec["text"])).mentions)
print(n)
"""


def sample(n: int) -> list[Article]:
    """About ``n`` articles, the same share from each corpus file (deterministic)."""
    files = sorted(CORPUS.glob("*.jsonl.gz"))
    per_file = max(1, n // len(files))
    out = []
    for path in files:
        with gzip.open(path, "rt", encoding="utf-8") as f:
            for k, line in enumerate(f):
                if k >= per_file:
                    break
                rec = json.loads(line)
                out.append(Article(id=rec["id"], title=rec.get("title") or "", text=rec.get("text") or ""))
    return out


def throughput(articles: list[Article], gazetteer) -> tuple[float, float, int]:
    """(articles/s, words/s, mentions) for one pass with a new Geotagger."""
    tagger = Geotagger(gazetteer=gazetteer)
    words = sum(len(a.title.split()) + len(a.text.split()) for a in articles)
    mentions = 0
    t0 = time.perf_counter()
    for a in articles:
        mentions += len(tagger.geotag(a).mentions)
    dt = time.perf_counter() - t0
    return len(articles) / dt, words / dt, mentions


def cold_start(article: Article, runs: int) -> list[float]:
    """Wall seconds for fresh subprocesses to import, load the cache and tag one article."""
    payload = json.dumps({"title": article.title, "text": article.text})
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", COLD, payload], check=True, env=env, capture_output=True)
        times.append(time.perf_counter() - t0)
    return times


def main(argv: list[str] | None = None) -> int:
    """Print the benchmark; return 1 when the corpus is missing."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--articles", type=int, default=3000)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args(argv)
    if not CORPUS.is_dir() or not list(CORPUS.glob("*.jsonl.gz")):
        print(f"{CORPUS} absent: no articles to benchmark on", file=sys.stderr)
        return 1
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    articles = sample(args.articles)
    words = sum(len(a.title.split()) + len(a.text.split()) for a in articles)
    gazetteer = load_gazetteer()  # compiles the cache on a first run
    cold = cold_start(articles[0], max(3, args.runs + 2))
    results = [throughput(articles, gazetteer) for _ in range(args.runs)]
    aps = statistics.median(r[0] for r in results)
    wps = statistics.median(r[1] for r in results)
    print(f"sample: {len(articles)} articles, {words} words, {results[0][2]} mentions "
          f"(from {CORPUS.name}/*.jsonl.gz, one core)")
    print("throughput runs: " + ", ".join(f"{r[0]:.0f} art/s {r[1]:,.0f} w/s" for r in results))
    print(f"median: {aps:,.0f} articles/s, {wps:,.0f} words/s")
    print(f"cold start (fresh process: import + load cache + tag first article): "
          f"median {statistics.median(cold):.2f} s over {len(cold)} runs "
          f"[{', '.join(f'{t:.2f}' for t in cold)}]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
