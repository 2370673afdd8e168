"""Place questions answered from the index: map counts (place_counts) and place pages (place_summary)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np

from archive.models import PlaceCount, PlaceSummary, SearchRequest
from archive.store.facets import month_counts
from archive.store.whoosh import about
from archive.store.whoosh.parsing import _tables
from archive.store.whoosh.search import _run
from archive.store.whoosh.segments import _leaves, _live, _term_mask, term_ids
from archive.store.whoosh.shelf import searching

__all__ = ["place_counts", "place_summary"]


def place_counts(index_dir: Path, request: SearchRequest, limit: int = 20000, top: int = 3) -> list[PlaceCount]:
    """Places named by all articles matching the request, with article counts and up to ``top`` top articles.

    The whole archive's counts (no query, no filter, ``top`` 0: the bare map) are kept until the
    next commit, as the PostgreSQL store keeps them.
    """
    whole = top <= 0 and not request.q.strip() and request == SearchRequest(
        q=request.q, page=request.page, per_page=request.per_page, sort=request.sort)
    with searching(index_dir) as lease:
        if whole:
            key = ("whole_place_counts", limit)
            kept = lease.derived.get(key)
            if kept is None:
                kept = lease.derived[key] = _place_counts(lease, request, limit, top)
            return list(kept)
        return _place_counts(lease, request, limit, top)


def _place_counts(lease, request: SearchRequest, limit: int, top: int) -> list[PlaceCount]:
    """The counts of :func:`place_counts`, computed."""
    tables = _tables(lease)
    leaves, masks, ranked, _scores, _q = _run(lease, request, 200 if top > 0 else 0)
    counts: Counter[str] = Counter()
    for (_sub, _off, data), mask in zip(leaves, masks, strict=True):
        if mask.any():
            counts.update(data["place"].count(mask))
    chosen = {int(gid): n for gid, n in counts.most_common(limit) if int(gid) in tables["places"]}
    if top <= 0:  # finding each place's best articles is most of the work on a big result set
        return [PlaceCount(tables["places"][gid], n)
                for gid, n in sorted(chosen.items(), key=lambda kv: (-kv[1], kv[0]))]

    # Each place's best articles: those most about it (archive.store.centrality), ties broken
    # by the request's ranking (the ranked ones first, then the rest in index order).
    best: dict[int, list[tuple[tuple[int, int], int, int]]] = {}
    for i, ((sub, off, data), mask) in enumerate(zip(leaves, masks, strict=True)):
        n = data["n"]
        keys = np.arange(n, dtype=np.int64) + off + len(ranked)
        local = np.array(ranked, dtype=np.int64) - off
        inside = (local >= 0) & (local < n)
        keys[local[inside]] = np.flatnonzero(inside)
        if "cent" not in data:
            with lease.build_lock:
                data["cent"] = about.pairs(sub.reader(), data["place"].vocab)
        for gid, docs in about.top_docs(data["cent"], data["place"].vocab, mask, keys, top).items():
            if int(gid) in chosen:
                best.setdefault(int(gid), []).extend((key, i, doc) for key, doc in docs)

    columns = [(sub.reader().column_reader("id", translate=True), sub.reader().column_reader("ctitle"))
               for sub, _off, _data in leaves]

    def titles(entries) -> tuple[tuple[str, str], ...]:
        out = []
        for _key, i, doc in sorted(entries)[:top]:
            ids, ctitles = columns[i]
            out.append((ids[doc], ctitles[doc].decode("utf-8")))
        return tuple(out)

    return [PlaceCount(tables["places"][gid], n, titles(best.get(gid, ())))
            for gid, n in sorted(chosen.items(), key=lambda kv: (-kv[1], kv[0]))]


def place_summary(index_dir: Path, geonameid: int) -> PlaceSummary | None:
    """Spellings, articles per month and co-occurring places of one place, or None if unknown."""
    with searching(index_dir) as lease:
        tables = _tables(lease)
        place = tables["places"].get(geonameid)
        if place is None:
            return None
        leaves = _leaves(lease)
        masks = [_live(sub, d["n"]) & _term_mask(sub, d["n"], "pid", str(geonameid)) for sub, _o, d in leaves]
        spellings: Counter[str] = Counter()
        months: Counter[str] = Counter()
        related: Counter[str] = Counter()
        for (sub, _off, data), mask in zip(leaves, masks, strict=True):
            if not mask.any():
                continue
            reader = sub.reader()
            for term in reader.expand_prefix("pspell", f"{geonameid}|"):
                n = int(mask[term_ids(reader, "pspell", term)].sum())
                if n:
                    spellings[term.decode("utf-8").partition("|")[2]] += n
            related.update(data["place"].count(mask))
            months.update(month_counts(data["day"][mask]))
        related.pop(str(geonameid), None)
        rel = tuple(PlaceCount(tables["places"][int(g)], n) for g, n in related.most_common(12)
                    if int(g) in tables["places"])
        return PlaceSummary(place=place, articles=int(sum(int(m.sum()) for m in masks)),
                            spellings=tuple(sorted(spellings.items(), key=lambda kv: (-kv[1], kv[0]))),
                            months=tuple(sorted(months.items())), related=rel)
