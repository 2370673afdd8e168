"""How fast a map of 20,000 distinct places becomes interactive in headless Chromium.

Builds (once, cached in bench/out/) a real index of synthetic articles naming
20,000 distinct synthetic places, serves the app on 127.0.0.1 with the offline
basemap (no network), and measures for ``/map``:

* server: time to answer GET /map, and the HTML's size (target < 4 MB);
* browser: time from navigation start until the clustered markers are drawn and the
  next animation frame runs (target <= 2 s), then the time a zoom takes to redraw.

Run: .venv/bin/python bench/map.py [--places 20000] [--runs 5]
     .venv/bin/python bench/map.py --index bench/out/corpus-index   # an existing index, as is
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import shutil
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from browserkit import CHROMIUM, CHROMIUM_ARGS, live_server  # noqa: E402

from archive.models import Article, GeotaggedArticle, Mention, Place  # noqa: E402
from archive.store.whoosh.index import add_articles  # noqa: E402
from web import create_app  # noqa: E402

PLACES_PER_ARTICLE = 5


def synthetic_articles(n_places: int, seed: int = 7):
    """Articles naming ``n_places`` distinct places, each place in 1+ articles (some in many)."""
    rng = random.Random(seed)
    places = [
        Place(10_000_000 + i, f"Place {i}", round(rng.uniform(-60, 70), 5), round(rng.uniform(-180, 180), 5),
              "ZZ", "PPL", rng.randint(500, 100_000))
        for i in range(n_places)
    ]
    order = list(range(n_places))
    rng.shuffle(order)
    n_articles = n_places // PLACES_PER_ARTICLE
    start = dt.date(2015, 1, 1)
    for a in range(n_articles):
        chosen = [places[order[a * PLACES_PER_ARTICLE + k]] for k in range(PLACES_PER_ARTICLE)]
        chosen += rng.sample(places[:200], 2)  # a few busy places named again and again
        words, mentions, pos = [], [], 0
        for p in chosen:
            words.append(f"News from {p.name}.")
            begin = pos + len("News from ")
            mentions.append(Mention("text", begin, begin + len(p.name), p.name, p, 0.9))
            pos += len(words[-1]) + 1
        text = " ".join(words)
        article = Article(f"bench-{a}", f"Bench story {a}", text, start + dt.timedelta(days=a % 900), None, "Bench")
        yield GeotaggedArticle(article, tuple(mentions))


def build_index(index_dir: Path, n_places: int) -> None:
    marker = index_dir / f".built-{n_places}"
    if marker.exists():
        return
    shutil.rmtree(index_dir, ignore_errors=True)
    index_dir.mkdir(parents=True)
    t = time.perf_counter()
    count = add_articles(index_dir, synthetic_articles(n_places))
    print(f"indexed {count} synthetic articles in {time.perf_counter() - t:.1f} s")
    marker.touch()


def measure_server(client) -> tuple[float, int]:
    t = time.perf_counter()
    response = client.get("/map")
    ms = (time.perf_counter() - t) * 1000
    assert response.status_code == 200, response.status_code
    return ms, len(response.data)


INTERACTIVE_JS = """
() => new Promise(resolve => {
  function ready() {
    const box = document.querySelector('.ga-map.ga-ready');
    if (box && document.querySelector('.marker-cluster, path.ga-place')) {
      requestAnimationFrame(() => setTimeout(() => resolve(performance.now()), 0));
    } else {
      setTimeout(ready, 10);
    }
  }
  ready();
})
"""

ZOOM_JS = """
() => new Promise(resolve => {
  const m = window[document.querySelector('.ga-map').dataset.map];
  const t = performance.now();
  m.once('zoomend', () => requestAnimationFrame(() => resolve(performance.now() - t)));
  m.setZoom(m.getZoom() + 1, {animate: false});
})
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--places", type=int, default=20000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--index", type=Path,
                        help="measure this existing index as it is (default: synthetic, built in bench/out/)")
    args = parser.parse_args()

    if args.index is None:
        args.index = ROOT / "bench" / "out" / "map-index"
        build_index(args.index, args.places)
    elif not any(args.index.glob("*.toc")):
        sys.exit(f"error: no index in {args.index}/")
    # MAP_CACHE off: every measured request counts and renders the places afresh.
    app = create_app({"INDEX_DIR": args.index, "MAP_TILES": "offline", "LOG_REQUESTS": False,
                      "MAP_MAX_PLACES": args.places, "MAP_CACHE": False})
    client = app.test_client()
    measure_server(client)  # warm caches
    server = [measure_server(client) for _ in range(args.runs)]
    html_bytes = server[-1][1]
    places = client.get("/api/places").get_json()["features"]

    from playwright.sync_api import sync_playwright

    load_before = os.getloadavg()[0]
    interactive, zoom = [], []
    with live_server(app) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for _ in range(args.runs + 1):
            page = browser.new_page(viewport={"width": 1280, "height": 860})
            page.goto(base + "/map", wait_until="commit")
            interactive.append(page.evaluate(INTERACTIVE_JS))
            zoom.append(page.evaluate(ZOOM_JS))
            page.close()
        browser.close()
    interactive, zoom = interactive[1:], zoom[1:]  # the first run warms the browser's cache

    median_ms = statistics.median(interactive)
    print(f"load average before/after:   {load_before:.1f} / {os.getloadavg()[0]:.1f} (2 cores)")
    print(f"places on the map:           {len(places)}")
    print(f"GET /map (server), median:   {statistics.median(s for s, _ in server):.0f} ms")
    print(f"HTML size:                   {html_bytes / 1e6:.2f} MB (target < 4 MB)")
    print(f"interactive in Chromium:     median {median_ms:.0f} ms, runs {[round(v) for v in interactive]} "
          "(target <= 2000 ms)")
    print(f"zoom redraw, median:         {statistics.median(zoom):.0f} ms")
    ok = median_ms <= 2000 and html_bytes < 4e6
    print("target met" if ok else "TARGET MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
