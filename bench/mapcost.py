"""Server CPU per map request: this tree against another checkout, interleaved in one run.

Builds (once, cached) a Whoosh index of bench/map.py's synthetic articles naming
``--places`` distinct places, then runs worker processes in turn, one on this tree and one
on ``--baseline`` (another checkout of the project, e.g. ``git archive main | tar -x -C DIR``),
round after round, so both meet the same machine load. Each worker serves the same URLs
in-process through Flask's test client with the map and result caches off and measures,
with ``time.process_time()`` (no profiler), each request's CPU:

* ``request``: the whole request, the store's place counts included;
* ``web``: the same request with the store's answers kept from the first one (in the worker
  only), so what is left is the web side: the map's rows, bounds, script and the page;
* ``fresh``: as ``web``, with each request's place counts made of new Place objects and name
  strings (made before the clock starts), as a store that reads them anew for each answer
  gives them (PostgreSQL's query maps; Whoosh, and PostgreSQL's whole-archive map, hand out
  the same objects again).

It prints per URL the median of each over all rounds, both trees side by side and the ratio,
and checks that both trees give the browser the same places (the parsed ``data-rows``).

Run: .venv/bin/python bench/mapcost.py --baseline /tmp/base [--places 8256] [--rounds 5] [--requests 10]
     .venv/bin/python bench/mapcost.py            # this tree alone
"""

from __future__ import annotations

import argparse
import hashlib
import html
import json
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
URLS = ("/map", "/map?q=news", "/map?q=news&year=2016", "/?q=news")


def _worker(root: Path, index: Path, requests: int) -> dict:
    """Measure ``URLS`` on the project at ``root``; return {url: {...}} (run in a process of its own)."""
    sys.path.insert(0, str(root))
    from web import archive_store, create_app

    app = create_app({"INDEX_DIR": str(index), "MAP_TILES": "offline", "LOG_REQUESTS": False,
                      "MAP_CACHE": False, "SEARCH_CACHE_SIZE": 0, "MAP_MAX_PLACES": 20000})
    client = app.test_client()

    def cpu(url: str) -> tuple[float, str]:
        t = time.process_time()
        response = client.get(url)
        ms = (time.process_time() - t) * 1000
        assert response.status_code == 200, (url, response.status_code)
        return ms, response.get_data(as_text=True)

    out: dict = {}
    for url in URLS:
        for _ in range(2):
            cpu(url)  # warm up (imports, the map's cached script, memos)
        out[url] = {"request": [cpu(url)[0] for _ in range(requests)]}
    with app.app_context():
        store = archive_store(app)
    fresh: dict = {}  # place_counts' answers made anew, one per request to come (the "fresh" measure)
    kept_counts: dict = {}
    used: list = []  # the keys the last request asked for
    for name in ("place_counts", "search"):  # the store's answers kept: only the web side's CPU is left
        real, kept = getattr(store, name), kept_counts if name == "place_counts" else {}

        def keep(*args, _real=real, _kept=kept, _name=name, **kwargs):
            key = (_name, args, tuple(sorted(kwargs.items())))
            used.append(key)
            if key not in _kept:
                _kept[key] = _real(*args, **kwargs)
            return fresh[key].pop() if fresh.get(key) else _kept[key]

        setattr(store, name, keep)
    for url in URLS:
        cpu(url)
        out[url]["web"] = [cpu(url)[0] for _ in range(requests)]
        page = cpu(url)[1]
        found = re.search(r'data-rows="([^"]*)"', page)
        rows = json.loads(html.unescape(found.group(1))) if found else []
        out[url]["places"] = len(rows)
        out[url]["rows_sha"] = hashlib.sha256(json.dumps(rows).encode()).hexdigest()[:16]
        out[url]["bytes"] = len(page.encode())
    # As a store that builds its places anew for each answer gives them (PostgreSQL's query maps):
    # new Place objects and name strings, made before the clock starts.
    from dataclasses import replace

    from archive.models import PlaceCount

    for url in URLS:
        used.clear()
        cpu(url)
        for key in {k for k in used if k in kept_counts}:
            fresh[key] = [[PlaceCount(replace(pc.place, name=pc.place.name.encode().decode()), pc.count, pc.top)
                           for pc in kept_counts[key]] for _ in range(requests)]
        out[url]["fresh"] = [cpu(url)[0] for _ in range(requests)]
        fresh.clear()
    out["web_module"] = sys.modules["web"].__file__
    return out


def _run(root: Path, index: Path, requests: int) -> dict:
    cmd = [sys.executable, __file__, "--worker", str(root), "--index", str(index), "--requests", str(requests)]
    done = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", type=Path, help="another checkout of the project to compare with")
    parser.add_argument("--places", type=int, default=8256)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=10, help="measured requests per URL per worker")
    parser.add_argument("--index", type=Path, help="a Whoosh index to use (default: synthetic, in bench/out/)")
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(_worker(args.worker, args.index, args.requests)))
        return 0
    if args.baseline and not (args.baseline / "web" / "maps.py").is_file():
        sys.exit(f"error: --baseline {args.baseline}: no web/maps.py there")
    if args.index is None:
        sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "bench")]
        from map import build_index  # bench/map.py's synthetic archive

        args.index = ROOT / "bench" / "out" / f"mapcost-index-{args.places}"
        build_index(args.index, args.places)
    trees = {"this": ROOT} | ({"baseline": args.baseline.resolve()} if args.baseline else {})
    runs: dict[str, list[dict]] = {name: [] for name in trees}
    for r in range(args.rounds):
        for name in (list(trees) if r % 2 else list(trees)[::-1]):  # alternate which tree goes first
            runs[name].append(_run(trees[name], args.index, args.requests))
        print(f"round {r + 1}/{args.rounds} done", file=sys.stderr)
    for name in trees:
        print(f"{name}: web imported from {runs[name][0]['web_module']}")
    kinds = ("request", "web", "fresh")
    print(f"{'URL':22} {'places':>6} {'KB':>5}  "
          + "  ".join(f"{n[:4] + ' ' + k[:5]:>11}" for n in trees for k in kinds)
          + ("  " + "  ".join(f"{'ratio ' + k[:5]:>11}" for k in kinds) if len(trees) == 2 else ""))
    same = True
    for url in URLS:
        med = {n: {k: statistics.median(v for run in runs[n] for v in run[url][k]) for k in kinds} for n in trees}
        first = runs["this"][0][url]
        line = f"{url:22} {first['places']:>6} {first['bytes'] / 1000:>5.0f}  "
        line += "  ".join(f"{med[n][k]:>8.2f} ms" for n in trees for k in kinds)
        if len(trees) == 2:
            base = runs["baseline"][0][url]
            line += "  " + "  ".join(f"{med['this'][k] / med['baseline'][k]:>11.2f}" for k in kinds)
            line += f"  (baseline {base['bytes'] / 1000:.0f} KB)"
            if base["rows_sha"] != first["rows_sha"]:
                same = False
                line += "  ROWS DIFFER"
        print(line)
    if len(trees) == 2:
        print("the browser gets the same rows from both trees" if same else "ROWS DIFFER between the trees")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
