"""End-to-end ingest throughput on ../shared/corpus, side by side with a bare Whoosh build.

    .venv/bin/python bench/ingest.py                 # a mixed sample of 6,000 articles, 3 rounds
    .venv/bin/python bench/ingest.py --all --rounds 1  # the whole corpus once (several minutes)

Ours: ``geoarchive ingest`` in a subprocess (read, geotag on every core, index, commit),
timed from start to exit. Baseline: the same articles written by one plain Whoosh writer
with default settings (title and text stored, StemmingAnalyzer), no geotagging. The two
alternate within each round so that machine noise hits both; medians and the ratio are
reported. Target (issue 4): >= 150 articles/s end to end.
Exits 2 when ../shared/corpus is absent.
"""

from __future__ import annotations

import argparse
import gzip
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus"
TARGET = 150.0


def sample(files: list[Path], n: int | None, out: Path) -> int:
    """Write an interleaved sample (every corpus in proportion) to ``out``; return its size."""
    lines = []
    for f in files:
        with gzip.open(f, "rt", encoding="utf-8") as fh:
            lines.append(fh.readlines())
    total = sum(len(x) for x in lines)
    keep = total if n is None else min(n, total)
    picked = []
    for chunk in lines:
        share = round(keep * len(chunk) / total)
        step = max(1, len(chunk) // max(1, share))
        picked.extend(chunk[::step][:share])
    with gzip.open(out, "wt", encoding="utf-8") as fh:
        fh.writelines(picked)
    return len(picked)


def bare_whoosh(src: Path, index_dir: Path) -> float:
    from whoosh import fields, index
    from whoosh.analysis import StemmingAnalyzer

    schema = fields.Schema(
        id=fields.ID(stored=True, unique=True),
        title=fields.TEXT(stored=True, analyzer=StemmingAnalyzer()),
        text=fields.TEXT(stored=True, analyzer=StemmingAnalyzer()),
    )
    started = time.perf_counter()
    ix = index.create_in(index_dir, schema)
    with ix.writer() as w, gzip.open(src, "rt", encoding="utf-8") as fh:
        for line in fh:
            r = json.loads(line)
            w.add_document(id=r["id"], title=r.get("title") or "", text=r.get("text") or "")
    return time.perf_counter() - started


def ours(src: Path, index_dir: Path) -> float:
    cmd = [str(ROOT / ".venv" / "bin" / "geoarchive"), "ingest", "-q", "--index", str(index_dir), str(src)]
    started = time.perf_counter()
    result = subprocess.run(cmd, capture_output=True, text=True)
    took = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"geoarchive ingest failed:\n{result.stdout}\n{result.stderr}")
    print("   ", result.stdout.strip())
    return took


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--all", action="store_true", help="the whole corpus instead of a sample")
    ap.add_argument("--sample", type=int, default=6000)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    files = sorted(CORPUS.glob("*.jsonl.gz"))
    if not files:
        print(f"{CORPUS} is absent: ingest benchmark NOT run", file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="geoarchive-bench-"))
    try:
        src = work / "sample.jsonl.gz"
        n = sample(files, None if args.all else args.sample, src)
        words = 0
        with gzip.open(src, "rt", encoding="utf-8") as fh:
            for line in fh:
                words += len(json.loads(line).get("text", "").split())
        print(f"{n} articles, {words / n:.0f} words on average, from {len(files)} corpus files")
        # Warm the gazetteer cache so that no round pays for compiling it.
        subprocess.run([str(ROOT / ".venv" / "bin" / "geoarchive"), "geotag"], input="", text=True, check=True)
        rates = {"ours": [], "bare": []}
        for r in range(args.rounds):
            for name, fn in (("bare", bare_whoosh), ("ours", ours)):
                d = work / f"{name}-{r}"
                d.mkdir()
                took = fn(src, d)
                rates[name].append(n / took)
                print(f"round {r + 1} {name:4}: {took:7.1f} s  {n / took:7.1f} articles/s")
                shutil.rmtree(d)
        ours_med, bare_med = statistics.median(rates["ours"]), statistics.median(rates["bare"])
        print(f"median: ours {ours_med:.1f} articles/s (read+geotag+index+commit), "
              f"bare Whoosh {bare_med:.1f} articles/s (index only); ratio ours/bare {ours_med / bare_med:.2f}")
        ok = ours_med >= TARGET
        print(f"target >= {TARGET:.0f} articles/s: {'met' if ok else 'MISSED'}")
        return 0 if ok else 1
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
