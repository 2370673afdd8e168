"""Search the index: parse a query, filter, rank, page, facet, highlight and suggest.

Every function takes an index directory and returns plain values from ``models.py``.
Opened searchers are cached per directory and refreshed when the index changes
(see ``index.searching``), so these calls are cheap enough for each web request.

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
masks straight from the posting lists (totals, facets, filters and date sorts all use
them), and Whoosh ranks only the page's top hits.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
from whoosh import query as wq
from whoosh.analysis import StemmingAnalyzer
from whoosh.collectors import FilterCollector, TopCollector
from whoosh.qparser import AndGroup, FieldsPlugin, FuzzyTermPlugin, MultifieldParser, PlusMinusPlugin
from whoosh.query.qcore import QueryError as WhooshQueryError

from archive.errors import QueryError
from archive.models import (
    FacetCount,
    GeotaggedArticle,
    Place,
    PlaceCount,
    PlaceSummary,
    SearchHit,
    SearchPage,
    SearchRequest,
)
from archive.store import geohash
from archive.store.facets import Column, country_name, month_counts, order_by_day, top_facets
from archive.store.query import STOP_WORDS, parse_request, suggest_words
from archive.store.snippet import Highlighter
from archive.store.stored import article_from_stored, fold, parse_place_term, places_from_stored
from archive.store.whoosh import about
from archive.store.whoosh.index import searching, term_ids

__all__ = ["get_article", "iter_hits", "parse_request", "place_counts", "place_summary", "search"]

QUERY_FIELDS = ("title", "text", "place", "country", "source", "date", "year", "places", "id")
FACET_FIELDS = {"country": "country", "place": "pid", "source": "src", "year": "year"}
FACET_LIMITS = {"country": 15, "place": 20, "source": 15, "year": 40}
_UNDATED = 2**31 - 1
_NO_POSITIONS = frozenset({"country", "places", "year", "id", "pid"})
#: The stop words as the title/text analyzer indexes them (stemmed: "this" -> "thi").
_STOP_STEMS = frozenset(t.text for w in STOP_WORDS for t in StemmingAnalyzer(stoplist=None)(w))


# ---------------------------------------------------------------- per-index tables


def _tables(lease) -> dict:
    """Place table and name lookups read from the index lexicon (cached per index generation)."""
    t = lease.derived.get("tables")
    if t is not None:
        return t
    with lease.build_lock:
        reader = lease.searcher.reader()
        place_words = lease.searcher.schema["place"].analyzer

        def key(name: str) -> str:
            return " ".join(t.text for t in place_words(name))

        places: dict[int, Place] = {}
        names: dict[str, set[int]] = {}
        for term in reader.lexicon("pinfo"):
            p = parse_place_term(term.decode("utf-8"))
            places[p.geonameid] = p
            names.setdefault(key(p.name), set()).add(p.geonameid)
        for term in reader.lexicon("pspell"):
            gid, _, surface = term.decode("utf-8").partition("|")
            names.setdefault(key(surface), set()).add(int(gid))
        countries: dict[str, str] = {}
        for p in places.values():
            if p.country_code and p.feature.startswith("PCL"):
                countries.setdefault(p.country_code.upper(), p.name)
        country_names = {key(name): cc.lower() for cc, name in countries.items()}
        t = {"places": places, "names": names, "countries": countries, "country_names": country_names,
             "parser": _make_parser(lease.searcher.schema)}
        lease.derived["tables"] = t
    return t


def _leaves(lease) -> list[tuple[Any, int, dict]]:
    """(sub-searcher, offset, per-segment data) for each segment; the data is built once per segment."""
    out = []
    for sub, offset in lease.searcher.leaf_searchers():
        reader = sub.reader()
        if not reader.doc_count_all():
            # A fresh index (or an ingest whose files were all skipped) has one empty reader;
            # Whoosh's EmptyReader has no columns. No segment: every count is 0, every list empty.
            continue
        seg = reader.segment()
        key = seg.segment_id() if seg is not None else id(reader)
        data = lease.segments.get(key)
        if data is None:
            with lease.build_lock:
                data = lease.segments.get(key) or _leaf_data(reader)
                lease.segments[key] = data
        out.append((sub, offset, data))
    if len(lease.segments) > 2 * len(out) + 8:  # forget segments merged away by later commits
        with lease.build_lock:
            segments = [sub.reader().segment() for sub, _o, _d in out]
            live_ids = {seg.segment_id() for seg in segments if seg is not None}
            for key in [k for k in lease.segments if k not in live_ids]:
                lease.segments.pop(key, None)
    return out


def _leaf_data(reader) -> dict:
    n = reader.doc_count_all()
    data: dict = {"n": n}
    for name, field in FACET_FIELDS.items():
        vocab, postings = [], []
        for term in reader.lexicon(field):
            vocab.append(term.decode("utf-8"))
            postings.append(term_ids(reader, field, term))
        data[name] = Column.build(vocab, postings)
    days = np.fromiter(iter(reader.column_reader("sort_old")), dtype=np.int64, count=n)
    data["day"] = np.where(days >= _UNDATED, 0, days)
    # Nothing here may hold the reader's files: the data outlives the searcher that built it.
    return data


def _live(sub, n: int) -> np.ndarray:
    mask = np.ones(n, dtype=bool)
    reader = sub.reader()
    if reader.has_deletions():
        mask[np.fromiter(reader.deleted_docs_set, dtype=np.int64)] = False
    return mask


def _term_mask(sub, n: int, fieldname: str, text) -> np.ndarray:
    mask = np.zeros(n, dtype=bool)
    schema = sub.schema
    if fieldname in schema:
        btext = text if isinstance(text, bytes) else schema[fieldname].to_bytes(text)
        mask[term_ids(sub.reader(), fieldname, btext)] = True
    return mask


def _mask(sub, n: int, node) -> np.ndarray:
    """Docs of one segment matching ``node`` (deleted docs included), computed on whole posting lists."""
    if isinstance(node, wq.Term):
        return _term_mask(sub, n, node.fieldname, node.text)
    if isinstance(node, wq.Or):
        out = np.zeros(n, dtype=bool)
        for child in node.subqueries:
            out |= _mask(sub, n, child)
        return out
    if isinstance(node, wq.And):
        out = np.ones(n, dtype=bool)
        for child in sorted(node.subqueries, key=lambda c: isinstance(c, wq.Phrase)):
            if not out.any():
                break
            out &= _mask(sub, n, child)
        return out
    if isinstance(node, (wq.AndNot, wq.Require)):
        out = _mask(sub, n, node.a)
        if out.any():
            other = _mask(sub, n, node.b)
            out &= ~other if isinstance(node, wq.AndNot) else other
        return out
    if isinstance(node, wq.AndMaybe):
        return _mask(sub, n, node.a)
    if isinstance(node, wq.Not):
        return ~_mask(sub, n, node.query)
    if isinstance(node, wq.Every):
        return np.ones(n, dtype=bool)
    if isinstance(node, (wq.Wildcard, wq.Prefix, wq.FuzzyTerm, wq.TermRange)):
        out = np.zeros(n, dtype=bool)
        for btext in node._btexts(sub.reader()):
            out[term_ids(sub.reader(), node.fieldname, btext)] = True
        return out
    out = np.zeros(n, dtype=bool)  # phrases, numeric and date ranges: let Whoosh find them
    out[np.fromiter(node.docs(sub), dtype=np.int64)] = True
    return out


# ---------------------------------------------------------------- query language


def _make_parser(schema) -> MultifieldParser:
    parser = MultifieldParser(["title", "text", "place"], schema, fieldboosts={"place": 0.5}, group=AndGroup)
    parser.remove_plugin_class(FieldsPlugin)
    parser.add_plugin(FieldsPlugin(expr=rf"(?P<text>{'|'.join(QUERY_FIELDS)}):"))
    parser.add_plugin(FuzzyTermPlugin())
    # Only a leading +/- is an operator: "U.S.-Mexico" stays one clause.
    parser.add_plugin(PlusMinusPlugin(plusexpr=r"(?:(?<=\s)|^)\+(?=[\w\"(])",
                                      minusexpr=r"(?:(?<=\s)|^)-(?=[\w\"(])"))
    return parser


def _walk(q):
    yield q
    for child in q.children():
        yield from _walk(child)


def _unparsed(text: str) -> str:
    hint = ("Dates look like date:[2016-01-01 TO 2016-12-31] (or use the from and to filters)"
            if "date:" in text.lower() else
            'Check brackets and quotes; see the query help for AND/OR/NOT, "phrases", field:word and word*')
    return f"Could not understand the query {text!r}. {hint}."


def _parse_q(lease, text: str):
    """Parse the user's query into (Whoosh query, GeoNames ids its ``place:`` clauses name), or raise QueryError."""
    tables = _tables(lease)
    if text.split() and all(w in ("AND", "OR", "NOT", "ANDNOT") for w in text.split()):
        # Operators alone (the shared query language reads them so; Whoosh would search "and").
        raise QueryError(f"The query {text!r} has no words to search for.", param="q")
    try:
        q = tables["parser"].parse(text)
    except Exception:  # Whoosh raises bare exceptions for some range and date syntax
        raise QueryError(_unparsed(text), param="q") from None
    for node in _walk(q):
        if getattr(node, "error", None):
            # Whoosh's own text ("invalid literal for int() ...") would mean nothing to a reader.
            raise QueryError(_unparsed(text), param="q")
        if isinstance(node, (wq.Wildcard, wq.Prefix)):
            stem = re.split(r"[*?]", node.text)[0]
            if len(stem) < 2:
                raise QueryError(f"Wildcards need at least two letters before * or ? (got {node.text!r}).",
                                 param="q")
    if q is wq.NullQuery or isinstance(q, type(wq.NullQuery)):
        raise QueryError(f"The query {text!r} has no words to search for.", param="q")
    q = _drop_stop_words(q)
    named: set[int] = set()
    q = _rewrite_tree(q, tables, named)
    for node in _walk(q):
        if isinstance(node, wq.Or) and len(node.subqueries) < 64:
            # Whoosh preloads small segments' Ors into arrays sized to the segment; a union tree
            # is much cheaper for the few clauses a typed query has.
            node.matcher_type = wq.Or.DEFAULT_MATCHER
    return q, named


def _is_stop_clause(node) -> bool:
    """Whether ``node`` is one bare stop word (its title/text terms; place names drop stop words)."""
    if isinstance(node, wq.Term):
        return node.fieldname in ("title", "text") and node.text in _STOP_STEMS
    return isinstance(node, wq.Or) and bool(node.subqueries) and all(_is_stop_clause(c) for c in node.subqueries)


def _drop_stop_words(node):
    """Drop bare stop words from AND groups that have other clauses (phrases keep theirs)."""
    if isinstance(node, wq.And):
        kept = [c for c in node.subqueries if not _is_stop_clause(c)]
        if kept and len(kept) < len(node.subqueries):
            node = wq.And(kept, boost=node.boost) if len(kept) > 1 else kept[0]
    if node.is_leaf():
        return node
    return node.apply(_drop_stop_words)


def _place_ids(node, tables) -> set[int]:
    if isinstance(node, wq.Term):
        return {int(node.text)} if node.text.isdigit() else tables["names"].get(node.text, set())
    if isinstance(node, wq.Phrase):
        return tables["names"].get(" ".join(node.words), set())
    return set()


def _rewrite_tree(node, tables, named: set[int]):
    """Rewrite the parsed tree: place words become GeoNames ids (see :func:`_rewrite`).

    A plain word is parsed as ``title:w OR text:w OR place:w``; its place clause is replaced
    by the ids of the places of that name (so Azaz finds A'zaz and I‘zāz) or dropped when no
    place has that name, which keeps common words cheap to rank.
    """
    subs = node.subqueries if isinstance(node, wq.Or) else ()
    if subs and all(isinstance(c, (wq.Term, wq.Phrase)) for c in subs) and \
            {c.fieldname for c in subs} == {"title", "text", "place"}:
        kids = []
        for child in subs:
            if child.fieldname != "place":
                kids.append(child)
            elif ids := _place_ids(child, tables):
                kids.append(wq.Or([wq.Term("pid", str(i)) for i in sorted(ids)], boost=child.boost))
        return wq.Or(kids, boost=node.boost)
    if node.is_leaf():
        return _rewrite(node, tables, named)
    if isinstance(node, wq.Not):
        return node.apply(lambda child: _rewrite_tree(child, tables, set()))  # excluded places rank nothing
    return node.apply(lambda child: _rewrite_tree(child, tables, named))


def _rewrite(node, tables, named: set[int]):
    """Resolve ``place:`` names to GeoNames ids (added to ``named``) and ``country:`` names to ISO codes."""
    if isinstance(node, wq.Term) and node.fieldname == "place":
        if node.text.isdigit():
            named.add(int(node.text))
            return wq.Term("pid", node.text)
        ids = tables["names"].get(node.text)
        if ids:
            named.update(ids)
            return wq.Or([node] + [wq.Term("pid", str(i)) for i in sorted(ids)], boost=node.boost)
    elif isinstance(node, wq.Phrase) and node.fieldname == "place":
        ids = tables["names"].get(" ".join(node.words))
        if ids:
            named.update(ids)
            return wq.Or([node] + [wq.Term("pid", str(i)) for i in sorted(ids)], boost=node.boost)
    elif isinstance(node, (wq.Term, wq.Phrase)) and node.fieldname == "country":
        words = node.text if isinstance(node, wq.Term) else " ".join(node.words)
        cc = tables["country_names"].get(words)
        if cc:
            return wq.Term("country", cc)
    if isinstance(node, wq.Phrase) and node.fieldname in _NO_POSITIONS:
        # These fields hold whole values, not running text: "a b" can only match as one value.
        return wq.Term(node.fieldname, " ".join(node.words), boost=node.boost)
    return node


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


def _geo_mask(reader, n: int, area) -> np.ndarray:
    """Docs with a place in the area, from the geohash terms (exact edge test per place)."""
    boxes, inside = area
    mask = np.zeros(n, dtype=bool)
    seen = set()
    for box in boxes:
        for prefix in geohash.cover(*box):
            for term in reader.expand_prefix("geo", prefix):
                if term not in seen:
                    seen.add(term)
                    if inside(*geohash.decode(term.decode("ascii"))):
                        mask[term_ids(reader, "geo", term)] = True
    return mask


# ---------------------------------------------------------------- search


def _stemmer(lease):
    cache = lease.derived.setdefault("stems", {})  # shared by threads: only get/set, never clear
    analyzer = lease.searcher.schema["text"].analyzer

    def stem(word: str) -> str | None:
        key = word.lower()
        try:
            return cache[key]
        except KeyError:
            tokens = [t.text for t in analyzer(key)]
            value = tokens[-1] if tokens else None
            if len(cache) < 500_000:
                cache[key] = value
            return value

    return stem


def _existing_terms(reader, q):
    """(field, term) pairs of ``q`` found in the index, wildcards and fuzzy terms expanded.

    (Whoosh's own ``Query.existing_terms`` stops after the first field it sees.)
    """
    schema = reader.schema
    out = set()
    for leaf in q.leaves():
        try:
            pairs = list(leaf.expanded_terms(reader, phrases=True))
        except Exception:  # an expansion this reader cannot do: keep the literal terms
            pairs = list(leaf.terms(phrases=True))
        for fieldname, text in pairs[:500]:
            if fieldname not in schema:
                continue
            btext = text if isinstance(text, bytes) else schema[fieldname].to_bytes(text)
            if (fieldname, btext) in reader:
                out.add((fieldname, btext))
    return out


def _highlighter(lease, q) -> Highlighter:
    """Marks what matched ``q``: its title/text stems, place-name words and places (by id)."""
    stems, placewords, gids = set(), set(), set()
    if q is not None:
        for fieldname, text in _existing_terms(lease.searcher.reader(), q):
            text = text.decode("utf-8")
            if fieldname in ("title", "text"):
                stems.add(text)
            elif fieldname == "place":
                placewords.add(text)
            elif fieldname == "pid":
                gids.add(int(text))
    if stems - _STOP_STEMS:
        stems -= _STOP_STEMS  # mark "siege" and "Aleppo" of "siege of Aleppo", not every "of"
    return Highlighter(stems, placewords, gids, _stemmer(lease))


def _facets(lease, leaves, masks, req: SearchRequest) -> dict[str, tuple[FacetCount, ...]]:
    tables = _tables(lease)
    counts: dict[str, Counter[str]] = {name: Counter() for name in FACET_FIELDS}
    for (_sub, _off, data), mask in zip(leaves, masks, strict=True):
        if mask.any():
            for name in FACET_FIELDS:
                counts[name].update(data[name].count(mask))
    selected = {"country": (req.country or "").upper(), "place": str(req.place or ""),
                "source": req.source or "", "year": str(req.year or "")}

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
    """Return (leaves, per-segment masks of all matches, ranked docnums up to limit, scores, query)."""
    s = lease.searcher
    leaves = _leaves(lease)
    fmasks = _filter_masks(req, leaves)
    q, named = _parse_q(lease, req.q) if req.q else (None, set())
    # The places the request is about rank its hits by their centrality (archive.store.centrality).
    central = named | {g for g in (req.place, req.about) if g is not None}
    live = fmasks or [_live(sub, d["n"]) for sub, _off, d in leaves]
    if q is None and central and req.sort == "relevance":
        cents = [about.percents(sub.reader(), d["n"], central) for sub, _off, d in leaves]
        ranked, scores = about.order_by_centrality(live, [off for _s, off, _d in leaves], cents,
                                                   [d["day"] for _s, _o, d in leaves], limit)
        return leaves, live, ranked, scores, q
    by_date = q is None or req.sort in ("newest", "oldest")
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
        highlight = _highlighter(lease, q)
        hits = []
        for docnum, score in zip(ranked[start:], scores[start:], strict=True):
            stored = s.stored_fields(docnum)
            date_s, url, source, _author, _origin = stored.get("meta") or (None,) * 5
            hits.append(SearchHit(
                id=stored["id"], title=stored.get("title", ""),
                date=dt.date.fromisoformat(date_s) if date_s else None, source=source, url=url,
                snippet=highlight(stored.get("text", ""), stored.get("m", ())), score=float(score),
                places=_matched_first(places_from_stored(stored), highlight.gids, req),
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


def _matched_first(places: tuple[Place, ...], gids: set[int], req: SearchRequest) -> tuple[Place, ...]:
    """A hit's places, those the request matched first: the place (or about) filter's, the query's,
    the country filter's; each group (and the rest) most central to the article first."""
    country = (req.country or "").upper()

    def rank(p: Place) -> int:
        if p.geonameid in (req.place, req.about):
            return 0
        if p.geonameid in gids:
            return 1
        return 2 if country and (p.country_code or "").upper() == country else 3

    return tuple(sorted(places, key=rank))


def _suggest(lease, text: str) -> str | None:
    """The query with unknown words replaced by the closest index words or place names."""
    reader = lease.searcher.reader()
    stem = _stemmer(lease)

    def known(word: str) -> bool:
        st = stem(word)
        if st and (reader.doc_frequency("text", st) or reader.doc_frequency("title", st)):
            return True
        return bool(reader.doc_frequency("place", fold(word).replace(" ", "")))

    def correct(word: str) -> str | None:
        for field, probe in (("place", fold(word).replace(" ", "")), ("title", word.lower())):
            found = reader.corrector(field).suggest(probe, limit=1, maxdist=2, prefix=1)
            if found:
                return found[0]
        return None

    return suggest_words(text, known, correct)


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


# ---------------------------------------------------------------- places


def place_counts(index_dir: Path, request: SearchRequest, limit: int = 20000, top: int = 3) -> list[PlaceCount]:
    """Places named by all articles matching the request, with article counts and up to ``top`` top articles."""
    with searching(index_dir) as lease:
        tables = _tables(lease)
        leaves, masks, ranked, _scores, _q = _run(lease, request, 200)
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
