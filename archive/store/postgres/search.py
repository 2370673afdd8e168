"""Searching the PostgreSQL archive: one page of hits, facets over all matches, did-you-mean.

Per request: the query is compiled to one WHERE clause (compile.py); the page's hits are
ranked with ``ts_rank`` (weights: title 1.0, body 0.4) or ordered by date; facets and the
total come from one pass over the matching rows' own arrays (no joins); snippets are made
by the project's highlighter (archive/store/snippet.py) on the page's hits only, with the
server's stemmer deciding which words matched.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg import errors as pg_errors

from archive.errors import QueryError
from archive.models import FacetCount, Place, SearchHit, SearchPage, SearchRequest
from archive.store.centrality import RANK_FLOOR, matched_first
from archive.store.facets import country_name, top_facets
from archive.store.postgres.compile import CENT_SQL, Compiled, compile_query, filters
from archive.store.postgres.schema import SCHEMA, TS_CONFIG, has_rum
from archive.store.query import STOP_WORDS, suggest_words
from archive.store.snippet import Highlighter, candidate_pattern
from archive.store.stored import fold

FACET_LIMITS = {"country": 15, "place": 20, "source": 15, "year": 40}
#: What a named place adds to a hit's text score (ts_rank of a word is about 0.1 to 0.7).
_PLACE_MATCH = 0.5
_HIT_COLUMNS = "id, title, body, date, source, url, places, mentions"


def where_clause(conn: psycopg.Connection, req: SearchRequest) -> tuple[Compiled | None, str, list]:
    """(compiled query or None, WHERE SQL, parameters) of a request."""
    compiled = compile_query(conn, req.q) if req.q else None
    parts, params = filters(req, conn)
    if compiled is not None:
        parts.insert(0, compiled.where)
        params = compiled.params + params
    return compiled, (" AND ".join(parts) if parts else "TRUE"), params


_RUM: dict[tuple, bool] = {}


def _rum(conn: psycopg.Connection) -> bool:
    key = (conn.info.host, conn.info.port, conn.info.dbname)
    if not _RUM.get(key):  # remembered once seen: the index is made with the tables, never dropped
        _RUM[key] = has_rum(conn)
    return _RUM[key]


def order_clause(conn: psycopg.Connection, req: SearchRequest, compiled: Compiled | None
                 ) -> tuple[str, list, str, list]:
    """(score SQL, its parameters, ORDER BY SQL, its parameters) for the request's sort.

    Relevance: with a RUM index and a query of words alone (one tsquery, compile.py), the index
    streams the matches best first (``tsv <=> q``, i.e. 1 / ts_rank with weights title 1.0,
    body 0.4), so only the page's rows are read; otherwise ``ts_rank`` orders every match (plus
    a little for the places the query named), ties by insertion order.

    When the request names places (``place=``, ``about=``, ``place:`` or place-name words), the
    hits rank by those places' centrality (archive.store.centrality), as in the Whoosh store:
    without text words by centrality, then newest, then insertion order; with them each text
    score is scaled by ``RANK_FLOOR + (1 - RANK_FLOOR) * centrality``.
    """
    central = sorted((compiled.gids if compiled is not None else set())
                     | {g for g in (req.place, req.about) if g is not None})
    if req.sort == "relevance" and central and (compiled is None or not compiled.rank):
        return (f"{CENT_SQL} / 100.0", [central], f"{CENT_SQL} DESC, day DESC NULLS LAST, seq", [central])
    if compiled is not None and req.sort == "relevance" and compiled.rank:
        if compiled.ts is not None and not central and _rum(conn):
            tq, params = compiled.ts
            # Streamed from the index only without filters; with them the plan may sort instead, and
            # a sort needs the tie-break to page consistently (equal ranks are common).
            order = f"tsv <=> {tq}" if not _filtered(req) else f"tsv <=> {tq}, seq"
            return f"1.0 / nullif(tsv <=> {tq}, 0)", params, order, params
        tq = "(" + " || ".join(sql for sql, _p in compiled.rank) + ")"
        params = [p for _s, ps in compiled.rank for p in ps]
        vector = "ttsv" if compiled.title_only else "tsv"  # a title's own vector is small and inline
        rank = f"ts_rank('{{0.1, 0.2, 0.4, 1.0}}', {vector}, {tq})"
        if compiled.gids:
            # A place the query names scores like a matched word (as the place field does in the
            # Whoosh store), so that its centrality, below, weighs in the ranking.
            rank += f" + CASE WHEN pids && %s::int[] THEN {_PLACE_MATCH} ELSE 0 END"
            params = [*params, sorted(compiled.gids)]
        if central:
            rank = f"({rank}) * ({RANK_FLOOR} + {1.0 - RANK_FLOOR} * {CENT_SQL} / 100.0)"
            params = [*params, central]
        return rank, params, "score DESC, seq", []
    if req.sort == "oldest":
        return "0", [], "day ASC NULLS LAST, seq", []
    return "0", [], "day DESC NULLS LAST, seq", []


def _filtered(req: SearchRequest) -> bool:
    return any(v is not None for v in (req.place, req.about, req.country, req.source, req.year, req.date_from,
                                       req.date_to, req.bbox, req.near))


@contextmanager
def planned(conn: psycopg.Connection) -> Iterator[None]:
    """A read transaction whose plans use the indexes: the planner does not count the cost of
    reading each match's tsvector (a seq scan reads them all), and JIT only slows these queries."""
    with conn.transaction():
        conn.execute("SET LOCAL enable_seqscan = off")
        conn.execute("SET LOCAL jit = off")
        conn.execute("SET LOCAL work_mem = '32MB'")  # facets over tens of thousands of matches in memory
        yield


def _execute(conn: psycopg.Connection, req: SearchRequest, sql: str, params: list):
    try:
        return conn.execute(sql, params)
    except (pg_errors.DataException, pg_errors.SyntaxErrorOrAccessRuleViolation) as e:
        # The server rejected something the parser let through (a tsquery it cannot read ...).
        raise QueryError(f"Could not run the query {req.q!r}: {e.diag.message_primary or 'rejected'}. "
                         'Check brackets and quotes; see the query help for AND/OR/NOT, "phrases", '
                         "field:word and word*.", param="q") from None


def search(conn: psycopg.Connection, req: SearchRequest) -> SearchPage:
    """One page of ranked hits with snippets, facets over the whole result set and a suggestion."""
    with planned(conn):
        return _search(conn, req)


def _search(conn: psycopg.Connection, req: SearchRequest) -> SearchPage:
    compiled, where, params = where_clause(conn, req)
    score, score_params, order, order_params = order_clause(conn, req, compiled)
    start = (req.page - 1) * req.per_page
    rows = _execute(conn, req, f"SELECT {_HIT_COLUMNS}, {score} AS score FROM {SCHEMA}.articles "
                               f"WHERE {where} ORDER BY {order} LIMIT %s OFFSET %s",
                    [*score_params, *params, *order_params, req.per_page, start]).fetchall()
    total, counts = _facet_counts(conn, req, where, params)
    highlight = _highlighter(conn, compiled, req, [r[2] for r in rows])
    hits = tuple(_hit(row, highlight, req) for row in rows)
    facets = _facets(conn, counts, req)
    suggestion = _suggest(conn, req.q) if req.q and total < 5 else None
    return SearchPage(query=req.q, hits=hits, total=total, page=req.page, per_page=req.per_page,
                      facets=facets, suggestion=suggestion)


def iter_hits(conn: psycopg.Connection, req: SearchRequest) -> Iterator[SearchHit]:
    """Every hit in order, without snippets, streamed through a server-side cursor."""
    compiled, where, params = where_clause(conn, req)
    score, score_params, order, order_params = order_clause(conn, req, compiled)
    with planned(conn), conn.cursor(name="geoarchive_hits") as cur:
        cur.itersize = 500
        try:
            cur.execute(f"SELECT id, title, NULL, date, source, url, places, mentions, {score} AS score "
                        f"FROM {SCHEMA}.articles WHERE {where} ORDER BY {order}",
                        [*score_params, *params, *order_params])
        except (pg_errors.DataException, pg_errors.SyntaxErrorOrAccessRuleViolation) as e:
            raise QueryError(f"Could not run the query {req.q!r}: {e.diag.message_primary}.", param="q") from None
        for row in cur:
            yield _hit(row, None, req)


def places_of(rows_json) -> tuple[Place, ...]:
    return tuple(Place(r[0], r[1], r[2], r[3], r[4], r[5], r[6]) for r in rows_json or ())


def _hit(row, highlight: Highlighter | None, req: SearchRequest) -> SearchHit:
    aid, title, body, date, source, url, places, mentions, score = row
    places = places_of(places)
    if highlight is not None:
        snippet = highlight(body or "", [tuple(m) for m in mentions or ()])
        places = matched_first(places, highlight.gids, req)
    else:
        snippet = ""
    return SearchHit(id=aid, title=title, date=date, source=source, url=url, snippet=snippet,
                     score=float(score or 0.0), places=places)




_WHOLE: dict[tuple, tuple[int, dict[str, Counter]]] = {}  # (database, generation) -> the archive's facets


def _facet_counts(conn, req, where: str, params: list) -> tuple[int, dict[str, Counter]]:
    if where == "TRUE":
        # The whole archive's counts change only with a commit: kept per generation (read in this
        # transaction's snapshot, so they match the rows it sees).
        # (The table's oid tells a database dropped and made again under the same name apart.)
        row = conn.execute(f"SELECT generation, '{SCHEMA}.meta'::regclass::oid FROM {SCHEMA}.meta").fetchone()
        key = (conn.info.host, conn.info.port, conn.info.dbname, *(row or ()))
        if key not in _WHOLE:
            if len(_WHOLE) >= 8:
                _WHOLE.clear()
            _WHOLE[key] = _count_facets(conn, req, where, params)
        total, counts = _WHOLE[key]
        return total, {name: Counter(c) for name, c in counts.items()}
    return _count_facets(conn, req, where, params)


def _count_facets(conn, req, where: str, params: list) -> tuple[int, dict[str, Counter]]:
    rows = _execute(conn, req, f"""
        WITH m AS MATERIALIZED (SELECT countries, pids, source, year FROM {SCHEMA}.articles WHERE {where})
        SELECT 't', NULL, count(*) FROM m
        UNION ALL SELECT 'country', c, count(*) FROM m, unnest(m.countries) c GROUP BY c
        UNION ALL SELECT 'place', p::text, count(*) FROM m, unnest(m.pids) p GROUP BY p
        UNION ALL SELECT 'source', source, count(*) FROM m WHERE source IS NOT NULL GROUP BY source
        UNION ALL SELECT 'year', year::text, count(*) FROM m WHERE year IS NOT NULL GROUP BY year""",
                    params).fetchall()
    counts: dict[str, Counter] = {name: Counter() for name in FACET_LIMITS}
    total = 0
    for kind, value, n in rows:
        if kind == "t":
            total = n
        else:
            counts[kind][value.upper() if kind == "country" else value] = n
    return total, counts


def _facets(conn, counts: dict[str, Counter], req: SearchRequest) -> dict[str, tuple[FacetCount, ...]]:
    selected = {"country": (req.country or "").upper(), "place": str(req.place or ""),
                "source": req.source or "", "year": str(req.year or "")}
    shown = {name: [v for v, _n in c.most_common(FACET_LIMITS[name])] + [selected[name]]
             for name, c in counts.items()}
    gids = [int(v) for v in shown["place"] if v.lstrip("-").isdigit()]
    ccs = [v for v in shown["country"] if v]
    names = dict(conn.execute(f"SELECT gid, name FROM {SCHEMA}.places WHERE gid = ANY(%s)", (gids,)).fetchall())
    countries: dict[str, str] = {}
    for cc, name in conn.execute(f"SELECT upper(cc), name FROM {SCHEMA}.places WHERE upper(cc) = ANY(%s) "
                                 "AND feature LIKE 'PCL%%' ORDER BY gid", (ccs,)).fetchall():
        countries.setdefault(cc, name)

    def label(name: str, value: str) -> str:
        if name == "country":
            return countries.get(value) or country_name(value)
        if name == "place":
            return names.get(int(value), value)
        return value

    return top_facets(counts, selected, FACET_LIMITS, label)


def _highlighter(conn, compiled: Compiled | None, req: SearchRequest, bodies: list[str]) -> Highlighter:
    """A Highlighter for the page: query stems from the server's stemmer, matched places by id."""
    stems: set[str] = set()
    placewords: set[str] = set()
    gids: set[int] = set()
    if compiled is not None:
        stems |= compiled.lexemes
        placewords |= compiled.placewords
        gids |= compiled.gids
        if compiled.texts:
            (found,) = conn.execute(
                f"SELECT array(SELECT DISTINCT unnest(tsvector_to_array(to_tsvector('{TS_CONFIG}', t))) "
                "FROM unnest(%s::text[]) t)", (compiled.texts,)).fetchone()
            stems |= set(found)
    stop = _stop_stems(conn)
    if stems - stop:
        stems -= stop  # mark "siege" and "Aleppo" of "siege of Aleppo", not every "of" (as Whoosh)
    if req.place is not None:
        gids.add(req.place)
    cache: dict[str, str | None] = {}
    pattern = candidate_pattern(stems | placewords)
    if pattern is not None and bodies:
        words = sorted({m.group(0).lower() for body in bodies for m in pattern.finditer(body or "")})
        if words:
            rows = conn.execute(
                f"SELECT w, (SELECT l.lexeme FROM unnest(to_tsvector('{TS_CONFIG}', w)) l "
                "ORDER BY l.positions[1] DESC LIMIT 1) FROM unnest(%s::text[]) w", (words,)).fetchall()
            cache.update(rows)

    def stem(word: str) -> str | None:
        return cache.get(word.lower())

    return Highlighter(stems, placewords, gids, stem)


_STOP_STEMS: set[str] = set()


def _stop_stems(conn: psycopg.Connection) -> set[str]:
    """The stop words as the server's stemmer indexes them (the same on every server)."""
    if not _STOP_STEMS:
        (found,) = conn.execute(
            f"SELECT array(SELECT DISTINCT unnest(tsvector_to_array(to_tsvector('{TS_CONFIG}', t))) "
            "FROM unnest(%s::text[]) t)", (sorted(STOP_WORDS),)).fetchone() or ([],)
        _STOP_STEMS.update(found)
    return _STOP_STEMS


def _suggest(conn: psycopg.Connection, text: str) -> str | None:
    """The query with unknown words replaced by the closest archive words or place names."""

    def known(word: str) -> bool:
        row = conn.execute(
            f"SELECT EXISTS (SELECT 1 FROM {SCHEMA}.vocab WHERE kind = 'l' AND word = ANY("
            f"tsvector_to_array(to_tsvector('{TS_CONFIG}', %s)))) "
            f"OR EXISTS (SELECT 1 FROM {SCHEMA}.vocab WHERE kind = 'p' AND word = %s)",
            (word, fold(word).replace(" ", ""))).fetchone()
        return row is not None and bool(row[0])

    def correct(word: str) -> str | None:
        for kind, probe in (("p", fold(word).replace(" ", "")), ("w", word.lower())):
            if not probe:
                continue
            row = conn.execute(
                f"SELECT word FROM {SCHEMA}.vocab WHERE kind = %s AND word %% %s AND left(word, 1) = left(%s, 1) "
                "AND levenshtein_less_equal(word, %s, 2) <= 2 "
                "ORDER BY levenshtein(word, %s), similarity(word, %s) DESC, word LIMIT 1",
                (kind, probe, probe, probe, probe, probe)).fetchone()
            if row:
                return row[0]
        return None

    return suggest_words(text, known, correct)
