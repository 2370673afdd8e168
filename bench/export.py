"""Memory and time of whole-result-set exports (CSV, JSON Lines) and of the front page.

    .venv/bin/python bench/export.py --index DIR      # an index built by `geoarchive ingest`

For each export (a small result set and the whole archive, in both formats) the app
streams ``/api/search?…&format=…`` through Flask's test client, reading chunk by chunk as
a client would, and reports rows, bytes, seconds and the peak of Python's traced
memory (tracemalloc) during the download. Constant memory means the peak of the whole
archive stays close to the peak of the small set, however many more rows it writes.

The front page is timed cold (the first request after a commit: everything computed)
and warm (the per-generation cache), medians of --runs, beside /help as the baseline of a
page that reads nothing from the index.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from web import create_app  # noqa: E402


def stream(client, url: str) -> tuple[int, int, float, float]:
    """(lines, bytes, seconds, peak MB) of downloading ``url`` chunk by chunk."""
    tracemalloc.start()
    started = time.perf_counter()
    response = client.get(url, buffered=False)
    lines = size = 0
    try:
        for chunk in response.response:
            size += len(chunk)
            lines += chunk.count(b"\n") if isinstance(chunk, bytes) else chunk.count("\n")
    finally:
        response.close()
    seconds = time.perf_counter() - started
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return lines, size, seconds, peak / 2**20


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", required=True, help="an existing index (folder or postgresql:// URL)")
    parser.add_argument("--small", default="year=1987&country=CA", help="the small result set's query string")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    app = create_app({"TESTING": True, "INDEX": args.index, "LOG_REQUESTS": False})
    client = app.test_client()
    # Warm up: the first request opens the searcher and builds per-segment tables (not the export's cost).
    assert client.get(f"/api/search?{args.small}").status_code == 200
    print(f"{'export':<44} {'lines':>8} {'MB out':>8} {'s':>7} {'peak MB':>8}")
    for fmt in ("csv", "jsonl"):
        for label, query in (("small", args.small), ("whole archive", "sort=newest")):
            lines, size, seconds, peak = stream(client, f"/api/search?{query}&format={fmt}")
            print(f"{fmt + ' ' + label + ' (' + query + ')':<44} {lines:>8} {size / 2**20:>8.1f} {seconds:>7.2f} "
                  f"{peak:>8.1f}")

    def timed(url: str, cold: bool) -> float:
        if cold:  # what a commit does to the per-generation caches
            app.extensions.pop("geoarchive_map_cache", None)
        started = time.perf_counter()
        assert client.get(url).status_code == 200
        return (time.perf_counter() - started) * 1000

    rows = {"/ cold": [], "/ warm": [], "/help": []}
    for _ in range(args.runs):  # interleaved, so the shared machine's load hits all three alike
        rows["/ cold"].append(timed("/", cold=True))
        rows["/ warm"].append(timed("/", cold=False))
        rows["/help"].append(timed("/help", cold=False))
    base = statistics.median(rows["/help"])
    for name, values in rows.items():
        med = statistics.median(values)
        print(f"{name:<10} median {med:8.1f} ms   {med / base:6.1f} x /help")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
