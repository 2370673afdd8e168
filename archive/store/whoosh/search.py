"""Search the index: parse a query, filter, rank, page, facet, highlight and suggest.

Every function takes an index directory and returns plain values from ``models.py``.
Opened searchers are cached per directory and refreshed when the index changes
(see ``shelf.searching``), so these calls are cheap enough for each web request.

Query language (``q``), ranked with BM25F, titles weighted twice the body, English stemming:

* ``words`` (all must match), ``"exact phrase"``, ``a AND b``, ``a OR b``, ``a NOT b``, ``-word``,
  ``(grouping)``, ``word^2`` (boost);
* ``title:`` ``text:`` ``source:`` ``place:`` ``country:`` ``year:`` ``places:`` (Reuters tags) and
  ``date:[2016-01-01 TO 2016-12-31]`` (also ``date:2016-08``);
* ``place:Azaz`` or ``place:172082`` matches the place by GeoNames id, whatever the spelling
  in the text; a plain word that names a place does the same; ``country:SY`` or ``country:Syria``;
* wildcards ``sanc*``, ``colo?r`` (two letters at least before them), fuzzy ``kremlim~`` (``~2``
  for two edits).

Stop words ("the", "to", "be", "of" ..., ``archive.store.query.STOP_WORDS``) are indexed
with their positions, so ``"The Who"`` and ``"to be or not to be"`` find exactly those words in
that order, and ``"siege of Aleppo"`` does not match "siege in Aleppo". Outside quotes, a stop word
in a query with other words is ignored (neither required nor scored), as Lucene's common-terms
query treats very frequent words; a query of stop words only (``Let It Be``) requires them all.

Places: ``place=<id>`` filters and ``place:`` clauses rank by how central the place is to each
article, and ``about=<id>`` keeps the articles about it (``archive.store.centrality``).

How a request is answered: the query's matches are computed per index segment as numpy
masks straight from the posting lists (``segments.py``; totals, facets, filters and date
sorts all use them), and every match is scored in numpy from Whoosh's own matcher tree
(``ranking.py``; Whoosh collects them one by one only for trees it does not cover). The query is parsed in
``parsing.py``; snippets and did-you-mean are in ``words.py``, place counts and place pages in
``places.py``.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_left
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
from whoosh import query as wq
from whoosh.collectors import FilterCollector, TopCollector
from whoosh.query.qcore import QueryError as WhooshQueryError

from archive.errors import QueryError
from archive.models import (
    FacetCount,
    GeotaggedArticle,
    SearchHit,
    SearchPage,
    SearchRequest,
)
from archive.store import geohash
from archive.store.centrality import matched_first
from archive.store.facets import FACET_LIMITS, country_name, order_by_day, top_facets
from archive.store.query import parse_request
from archive.store.stored import article_from_stored, places_from_stored
from archive.store.whoosh import about, ranking
from archive.store.whoosh.parsing import _parse_q, _tables, _walk
from archive.store.whoosh.segments import FACET_FIELDS, _geo_mask, _leaves, _live, _mask, _term_mask
from archive.store.whoosh.shelf import searching
from archive.store.whoosh.words import _highlighter, _suggest

__all__ = ["get_article", "iter_hits", "parse_request", "search"]


def _filter_masks(req: SearchRequest, leaves) -> list[np.ndarray] | None:
    """Per segment, the docs allowed by the request's filters (None when there are none)."""
    terms = []
    if req.place is not None:
        terms.append(("pid", str(req.place)))
    if req.country:
        terms.append(("country", req.country.lower()))
    if req.source:
        terms.append(("src", req.source))
    if req.year is not None:
        terms.append(("year", str(req.year)))
    areas = []
    if req.bbox is not None:
        areas.append(geohash.bbox_area(req.bbox))
    if req.near is not None:
        areas.append(geohash.radius_area(req.near, req.radius_km or 50.0))
    dated = req.date_from is not None or req.date_to is not None
    if not (terms or areas or dated or req.about is not None):
        return None
    masks = []
    for sub, _offset, data in leaves:
        n = data["n"]
        mask = _live(sub, n)
        for fieldname, text in terms:
            mask &= _term_mask(sub, n, fieldname, text)
        if req.about is not None and mask.any():
            mask &= about.about_mask(sub.reader(), n, req.about)
        if dated:
            day = data["day"]
            mask &= day > 0
            if req.date_from:
                mask &= day >= req.date_from.toordinal()
            if req.date_to:
                mask &= day <= req.date_to.toordinal()
        for area in areas:
            if mask.any():
                mask &= _geo_mask(sub.reader(), n, area)
        masks.append(mask)
    return masks


def _facet_vocab(lease, leaves) -> dict:
    """Per facet, the sorted values of all segments and each segment's codes -> index into them.

    Kept per index generation; lets the counts of all segments add up as one numpy array.
    """
    datas = tuple(id(d) for _s, _o, d in leaves)
    fv = lease.derived.get("facet_vocab")
    if fv is None or fv["datas"] != datas:
        with lease.build_lock:
            fv = {"datas": datas, "vocab": {}, "remaps": {}}
            for name in FACET_FIELDS:
                vocab = sorted({v for _s, _o, d in leaves for v in d[name].vocab})
                index = {v: i for i, v in enumerate(vocab)}
                fv["vocab"][name] = vocab
                fv["remaps"][name] = [np.array([index[v] for v in d[name].vocab], dtype=np.int64)
                                      for _s, _o, d in leaves]
            lease.derived["facet_vocab"] = fv
    return fv


def _top_counts(lease, leaves, masks, name: str, limit: int, selected: str) -> Counter[str]:
    """The ``limit`` values ``facets.top_facets`` keeps of one facet (and the selected one), with counts."""
    fv = _facet_vocab(lease, leaves)
    vocab = fv["vocab"][name]
    total = np.zeros(len(vocab), dtype=np.int64)
    for (_sub, _off, data), mask, remap in zip(leaves, masks, fv["remaps"][name], strict=True):
        col = data[name]
        if len(col.owner) and mask.any():
            total += np.bincount(remap[col.codes[mask[col.owner]]], minlength=len(vocab))
    found = np.flatnonzero(total)  # in value order
    # Years newest first; the others most frequent first, then by value (as top_facets orders them).
    order = found[::-1] if name == "year" else found[np.lexsort((found, -total[found]))]
    out = Counter({vocab[i]: int(total[i]) for i in order[:limit].tolist()})
    where = bisect_left(vocab, selected) if selected else len(vocab)
    if where < len(vocab) and vocab[where] == selected and total[where]:
        out[selected] = int(total[where])
    return out


def _facets(lease, leaves, masks, req: SearchRequest) -> dict[str, tuple[FacetCount, ...]]:
    tables = _tables(lease)
    selected = {"country": (req.country or "").upper(), "place": str(req.place or ""),
                "source": req.source or "", "year": str(req.year or "")}
    counts: dict[str, Counter[str]] = {
        name: _top_counts(lease, leaves, masks, name, FACET_LIMITS[name],
                          selected[name].lower() if name == "country" else selected[name])
        for name in FACET_FIELDS}

    def label(name: str, value: str) -> str:
        if name == "country":
            return tables["countries"].get(value) or country_name(value)
        if name == "place":
            p = tables["places"].get(int(value))
            return p.name if p else value
        return value

    counts["country"] = Counter({k.upper(): v for k, v in counts["country"].items()})
    return top_facets(counts, selected, FACET_LIMITS, label)


class _RecordingCollector(TopCollector):
    """Top-N by score that also records every match (one pass for queries Whoosh must verify)."""

    def __init__(self, limit: int):
        super().__init__(limit=limit, usequality=False, replace=0)
        self.seen: list[int] = []

    def _collect(self, global_docnum, score):
        self.seen.append(global_docnum)
        return super()._collect(global_docnum, score)


def _run(lease, req: SearchRequest, limit: int):
    """Return (leaves, per-segment masks of all matches, ranked docnums up to limit, scores, query).

    With ``limit`` 0 only the matches are computed (what place counts need).
    """
    s = lease.searcher
    leaves = _leaves(lease)
    fmasks = _filter_masks(req, leaves)
    q, named = _parse_q(lease, req.q) if req.q else (None, set())
    # The places the request is about rank its hits by their centrality (archive.store.centrality).
    central = named | {g for g in (req.place, req.about) if g is not None}
    live = fmasks or [_live(sub, d["n"]) for sub, _off, d in leaves]
    if q is None and limit <= 0:  # only the matches (map counts): nothing to rank
        return leaves, live, [], [], q
    if q is None and central and req.sort == "relevance":
        cents = [about.percents(sub.reader(), d["n"], central) for sub, _off, d in leaves]
        ranked, scores = about.order_by_centrality(live, [off for _s, off, _d in leaves], cents,
                                                   [d["day"] for _s, _o, d in leaves], limit)
        return leaves, live, ranked, scores, q
    by_date = q is None or req.sort in ("newest", "oldest")
    if not by_date:
        ranked_all = _rank_all(lease, leaves, live, q, req, central, limit)
        if ranked_all is not None:
            return (leaves, *ranked_all, q)
    # Phrases need positions checked doc by doc: let the ranking pass find all matches too.
    one_pass = not by_date and any(isinstance(n, wq.Phrase) for n in _walk(q))
    if q is None:
        masks = live
    elif not one_pass:
        try:
            masks = [_mask(sub, d["n"], q) & f for (sub, _off, d), f in zip(leaves, live, strict=True)]
        except WhooshQueryError as e:
            raise QueryError(f"Could not run the query {req.q!r}: {e}", param="q") from None
    if by_date:
        ranked = order_by_day(masks, [off for _s, off, _d in leaves], [d["day"] for _s, _o, d in leaves],
                              newest=req.sort != "oldest", limit=limit)
        return leaves, masks, ranked, [0.0] * len(ranked), q
    if not one_pass and not any(m.any() for m in masks):
        return leaves, masks, [], [], q
    # Rank with Whoosh; only the request's filters restrict it (finding the matches is its job).
    limit = max(limit, 1)  # (a TopCollector needs room for one hit even when only the matches are wanted)
    top_class: Any = _RecordingCollector if one_pass else TopCollector
    if central:
        top_class = about.weighted(top_class, about.rank_factors(leaves, s.doc_count_all(), central))
    top = top_class(limit) if one_pass else top_class(limit=limit, replace=0 if _expands(q) else 10)
    collector = top
    if fmasks is not None:
        allowed = {int(i) for m, (_s, off, _d) in zip(fmasks, leaves, strict=True) for i in np.flatnonzero(m) + off}
        collector = FilterCollector(top, allow=allowed)
    try:
        s.search_with_collector(q, collector)
    except WhooshQueryError as e:
        raise QueryError(f"Could not run the query {req.q!r}: {e}", param="q") from None
    results = collector.results()
    if one_pass:
        seen = np.array(top.seen, dtype=np.int64)
        masks = []
        for (_sub, off, d), f in zip(leaves, live, strict=True):
            mask = np.zeros(d["n"], dtype=bool)
            mask[seen[(seen >= off) & (seen < off + d["n"])] - off] = True
            masks.append(mask & f)
    ranked = [results.docnum(i) for i in range(results.scored_length())]
    scores = [results.score(i) or 0.0 for i in range(results.scored_length())]
    return leaves, masks, ranked, scores, q


def _rank_all(lease, leaves, live, q, req: SearchRequest, central: set[int], limit: int):
    """(masks, ranked, scores) with every match scored by ``ranking.py``, or None to let Whoosh rank.

    The same order as Whoosh's TopCollector (score, then docnum), without visiting matches one by one.
    """
    s = lease.searcher
    context = s.context()
    scored = []
    try:
        for sub, _off, d in leaves:
            one = ranking.score_segment(sub, q, context, d, lease.build_lock)
            if one is None:
                return None
            scored.append(one)
    except WhooshQueryError as e:
        raise QueryError(f"Could not run the query {req.q!r}: {e}", param="q") from None
    masks = [m & f for (m, _s), f in zip(scored, live, strict=True)]
    if limit <= 0:
        return masks, [], []
    factors = about.rank_factors(leaves, s.doc_count_all(), central) if central else None
    ranked, scores = ranking.top_docs(masks, [sc for _m, sc in scored], [off for _s, off, _d in leaves],
                                      limit, factors)
    return masks, ranked, scores


def _expands(q) -> bool:
    """Whether the query has wildcard or fuzzy terms (Whoosh's matcher replacement only slows those)."""
    return any(isinstance(n, (wq.Wildcard, wq.Prefix, wq.FuzzyTerm, wq.TermRange)) for n in _walk(q))


def search(index_dir: Path, request: SearchRequest) -> SearchPage:
    """Run a search and return one page of hits with total, facets and a did-you-mean suggestion."""
    req = request
    with searching(index_dir) as lease:
        s = lease.searcher
        leaves, masks, ranked, scores, q = _run(lease, req, req.page * req.per_page)
        total = int(sum(int(m.sum()) for m in masks))
        start = (req.page - 1) * req.per_page
        highlight = _highlighter(lease, q, req.place)
        hits = []
        for docnum, score in zip(ranked[start:], scores[start:], strict=True):
            stored = s.stored_fields(docnum)
            date_s, url, source, _author, _origin = stored.get("meta") or (None,) * 5
            hits.append(SearchHit(
                id=stored["id"], title=stored.get("title", ""),
                date=dt.date.fromisoformat(date_s) if date_s else None, source=source, url=url,
                snippet=highlight(stored.get("text", ""), stored.get("m", ())), score=float(score),
                places=matched_first(places_from_stored(stored), highlight.gids, req),
            ))
        facets = _facets(lease, leaves, masks, req)
        suggestion = _suggest(lease, req.q) if req.q and total < 5 else None
        return SearchPage(query=req.q, hits=tuple(hits), total=total, page=req.page,
                          per_page=req.per_page, facets=facets, suggestion=suggestion)


def iter_hits(index_dir: Path, request: SearchRequest) -> Iterator[SearchHit]:
    """Every hit of the request in its order, without snippets (for exports); holds one searcher."""
    req = request
    with searching(index_dir) as lease:
        s = lease.searcher
        _leaves_, masks, ranked, scores, _q = _run(lease, req, 1)
        total = int(sum(int(m.sum()) for m in masks))
        if total > len(ranked):
            _leaves_, masks, ranked, scores, _q = _run(lease, req, total)
        for docnum, score in zip(ranked, scores, strict=True):
            stored = s.stored_fields(docnum)
            date_s, url, source, _author, _origin = stored.get("meta") or (None,) * 5
            yield SearchHit(
                id=stored["id"], title=stored.get("title", ""),
                date=dt.date.fromisoformat(date_s) if date_s else None, source=source, url=url,
                snippet="", score=float(score), places=places_from_stored(stored),
            )




def get_article(index_dir: Path, article_id: str) -> GeotaggedArticle | None:
    """The stored article with this id and its mentions, or None."""
    with searching(index_dir) as lease:
        docnum = lease.searcher.document_number(id=article_id)
        if docnum is None:
            return None
        return article_from_stored(lease.searcher.stored_fields(docnum))


def iter_articles(index_dir: Path) -> Iterator[GeotaggedArticle]:
    """Every stored article (deleted ones skipped), in index order; holds one searcher."""
    with searching(index_dir) as lease:
        for stored in lease.searcher.reader().all_stored_fields():
            yield article_from_stored(stored)
