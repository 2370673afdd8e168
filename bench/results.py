"""What the search page and the map show for every query, as JSON, to compare two versions of the code.

    .venv/bin/python bench/results.py --index DIR OUT.json                 # this checkout's results
    /other/checkout/.venv/bin/python /other/checkout/bench/results.py ...  # another version's
    .venv/bin/python bench/results.py --diff A.json B.json                 # what differs

Per query of ../shared/corpus/queries.txt (plus a few with operators, phrases, fields and
filters): total, the top-20 ids, scores and snippets, the hits' places, facets and the
did-you-mean suggestion, pages 1 and 2; map counts with each place's top articles for the
first 40 queries and the whole archive. ``--exhaustive`` makes Whoosh score every match
(no block-quality skipping, which can miss top hits) for a reference ranking.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus"
EXTRA = ['"human rights"', '"new york" police', "aleppo -syria", "syria OR iraq", "sanc*", "kremlim~",
         "title:election", "place:Aleppo", '"the who"', 'trump "white house"', "place:London bank",
         "obama AND (iran OR iraq)", 'elect* "prime minister"', "country:Syria rebels"]


def _page(p) -> dict:
    return {"total": p.total, "ids": [h.id for h in p.hits], "scores": [h.score for h in p.hits],
            "snippets": [h.snippet for h in p.hits], "places": [[pl.geonameid for pl in h.places] for h in p.hits],
            "facets": {k: [dataclasses.astuple(f) for f in v] for k, v in p.facets.items()},
            "suggestion": p.suggestion}


def _counts(pcs) -> list:
    return [[pc.place.geonameid, pc.count, [list(t) for t in pc.top]] for pc in pcs]


def dump(index: str, out: Path, exhaustive: bool) -> int:
    from archive.models import SearchRequest
    from archive.store import open_store

    if exhaustive:
        import archive.store.whoosh.search as ws

        class Exhaustive(ws.TopCollector):
            def __init__(self, limit=10, **_ignored):
                super().__init__(limit=limit, usequality=False, replace=0)

        ws.TopCollector = Exhaustive
        if hasattr(ws, "ranking"):  # this version's numpy ranking: off
            ws.ranking.score_segment = lambda *_args: None
    store = open_store(index)
    queries = [line.strip() for line in (CORPUS / "queries.txt").open(encoding="utf-8") if line.strip()]
    res: dict = {}
    for q in queries + EXTRA:
        reqs = {"": SearchRequest(q=q), "p2": SearchRequest(q=q, page=2)}
        if q in EXTRA:
            reqs.update(country=SearchRequest(q=q, country="US"), place=SearchRequest(q=q, place=2643743))
        for key, req in reqs.items():
            try:
                res[f"{q}|{key}"] = _page(store.search(req))
            except Exception as e:  # noqa: BLE001 - a refused query is a result too
                res[f"{q}|{key}"] = {"error": repr(e)}
        if q in queries[:40] or q in EXTRA:
            res[f"{q}|map"] = _counts(store.place_counts(SearchRequest(q=q)))
    res["|map"] = _counts(store.place_counts(SearchRequest()))
    out.write_text(json.dumps(res))
    print(f"{len(res)} results -> {out}")
    return 0


def diff(a_path: Path, b_path: Path) -> int:
    a, b = json.loads(a_path.read_text()), json.loads(b_path.read_text())
    keys = sorted(set(a) | set(b))
    bad = [k for k in keys if a.get(k) != b.get(k)]
    print(f"{len(keys)} results compared, {len(bad)} differ")
    for k in bad:
        x, y = a.get(k), b.get(k)
        fields = [f for f in (x or {}) if isinstance(x, dict) and isinstance(y, dict) and x.get(f) != y.get(f)]
        print(f"  {k}: {', '.join(fields) or 'differs'}")
    return 1 if bad else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", help="the archive to query (a Whoosh folder or a postgresql:// URL)")
    parser.add_argument("--exhaustive", action="store_true", help="Whoosh scores every match (reference ranking)")
    parser.add_argument("--diff", nargs=2, type=Path, metavar=("A", "B"), help="compare two dumps")
    parser.add_argument("out", nargs="?", type=Path, help="where to write the dump")
    args = parser.parse_args()
    if args.diff:
        return diff(*args.diff)
    if not args.index or not args.out:
        parser.error("give --index and OUT (or --diff A B)")
    if not (CORPUS / "queries.txt").exists():
        print(f"no {CORPUS / 'queries.txt'}: nothing to query", file=sys.stderr)
        return 2
    return dump(args.index, args.out, args.exhaustive)


if __name__ == "__main__":
    sys.exit(main())
