"""Searching the PostgreSQL archive: one page of hits, facets over all matches, did-you-mean.

Per request: the query is compiled to one WHERE clause (compile.py); the page's hits are
ranked from the RUM index or with ``ts_rank`` (weights: title 1.0, body 0.4), or ordered by
date; the total and the facets from the matches' seq numbers, counted in the process over
cached facet values (facets.py); snippets are made by the project's highlighter on the page's hits only
(highlight.py), with the server's stemmer deciding which words matched. The hits, the seq numbers
and the stems go to the server together in one pipeline (one round trip), the facets' labels
and the body words' stems in a second.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg import errors as pg_errors

from archive.errors import QueryError
from archive.models import FacetCount, Place, SearchHit, SearchPage, SearchRequest
from archive.store.centrality import RANK_FLOOR, matched_first
from archive.store.facets import FACET_LIMITS, country_name, top_facets
from archive.store.postgres.compile import Compiled, cent_sql, compile_query, filters
from archive.store.postgres.facets import ARCHIVE_SQL, SEQS_SQL, Counts, cache_for, seqs_of
from archive.store.postgres.highlight import PageSnippets, stop_stems
from archive.store.postgres.ranked import HALF_FIRST, RANK_MAX, RankParts, merged, ranked_sql, split, split_point
from archive.store.postgres.schema import SCHEMA, TS_CONFIG, has_rum, partitioned
from archive.store.query import suggest_words
from archive.store.stored import fold

#: What a named place adds to a hit's text score (ts_rank of a word is about 0.1 to 0.7).
_PLACE_MATCH = 0.5
_HIT_COLUMNS = "id, title, body, date, source, url, places, mentions"
#: Runs a read on a second connection at the same time, or answers None (connections.Connections.beside).
Beside = Callable[[Callable[[psycopg.Connection], Any]], "Future[Any] | None"]


def where_clause(conn: psycopg.Connection, req: SearchRequest) -> tuple[Compiled | None, str, list]:
    """(compiled query or None, WHERE SQL, parameters) of a request."""
    compiled, where, _wheres = where_clauses(conn, req)
    return compiled, where[0], where[1]


def where_clauses(conn: psycopg.Connection, req: SearchRequest
                  ) -> tuple[Compiled | None, tuple[str, list], list[tuple[str, list]]]:
    """(compiled query or None, (WHERE SQL, parameters), the same matches as conditions each
    answered by indexes: a query's branches (Compiled.branches), else the one condition)."""
    compiled = compile_query(conn, req.q) if req.q else None
    parts, params = filters(req, conn)
    if compiled is None:
        where = (" AND ".join(parts) if parts else "TRUE", params)
        return compiled, where, [where]
    where, *branches = [(" AND ".join([q, *parts]), [*qp, *params])
                        for q, qp in [(compiled.where, compiled.params), *compiled.branches]]
    return compiled, where, branches or [where]


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
    central = _central(req, compiled)
    cent, cent_params = cent_sql(central)
    if req.sort == "relevance" and central and (compiled is None or not compiled.rank):
        return f"{cent} / 100.0", cent_params, f"{cent} DESC, day DESC NULLS LAST, seq", cent_params
    if compiled is not None and req.sort == "relevance" and compiled.rank:
        # Not for phrases: the RUM index (1.3) gives every match of a phrase the same distance and
        # streams them out of order; ts_rank ranks them, and reads only their few tsvectors.
        if compiled.ts is not None and not compiled.phrase and not central and _rum(conn):
            tq, params = compiled.ts
            # Streamed from the index only without filters; with them the plan may sort instead, and
            # a sort needs the tie-break to page consistently (equal ranks are common).
            order = f"tsv <=> {tq}" if not _filtered(req) else f"tsv <=> {tq}, seq"
            return f"1.0 / nullif(tsv <=> {tq}, 0)", params, order, params
        parts = rank_parts(compiled, central)
        rank, params = parts.score()
        return rank, params, "score DESC, seq", []
    # A query's matches are sorted (``day + 0`` is no index's order): the date indexes would be read
    # newest first until a page of matches turns up, which for a word of the past is most of the
    # archive; the facets read every match anyway.
    day = "day" if compiled is None else "(day + 0)"
    if req.sort == "oldest":
        return "0", [], f"{day} ASC NULLS LAST, seq", []
    return "0", [], f"{day} DESC NULLS LAST, seq", []


#: ts_rank's bound for words only in the body (weight 0.4), with a margin for float rounding.
_BODY_MAX = 0.41


def _central(req: SearchRequest, compiled: Compiled | None) -> list[int]:
    """The places whose centrality ranks the hits."""
    return sorted((compiled.gids if compiled is not None else set())
                  | {g for g in (req.place, req.about) if g is not None})


_BY_SEQ: dict[tuple, bool] = {}


def by_seq(conn: psycopg.Connection) -> bool:
    """Whether rows can be looked up by seq (ranked.py): a partitioned archive with the seq index
    (made by this version's first writer; an archive no writer has opened since has none)."""
    key = (conn.info.host, conn.info.port, conn.info.dbname)
    if not _BY_SEQ.get(key):  # remembered once seen: neither is ever undone
        row = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (f"{SCHEMA}.articles_seq",)).fetchone()
        _BY_SEQ[key] = partitioned(conn) and row is not None and bool(row[0])
    return _BY_SEQ[key]


def rank_parts(compiled: Compiled, central: list[int]) -> RankParts:
    """The ts_rank score of a query's matches (order_clause), in pieces (ranked.py)."""
    tq = "(" + " || ".join(sql for sql, _p in compiled.rank) + ")"
    params = [p for _s, ps in compiled.rank for p in ps]
    vector = "ttsv" if compiled.title_only else "tsv"  # a title's own vector is small
    parts = RankParts(f"ts_rank('{{0.1, 0.2, 0.4, 1.0}}', {vector}, {tq})", params,
                      bounded=not any(":*" in p for p in params if isinstance(p, str)) and ":*" not in tq)
    if parts.bounded and not compiled.title_only and len(compiled.rank) > 1:
        # Words joined by OR: below 0.4 when the title has none of them (ranked.py). Not for one word
        # (a place's name): reading ``ttsv`` costs more than it saves (it is TOASTed in most rows, kept
        # out of line by the large inline columns: Seattle's 2,580 matches 12,500 buffers against 2,500).
        parts.text_bound = f"CASE WHEN ts_rank(ttsv, {tq}) = 0 THEN {_BODY_MAX} ELSE {RANK_MAX} END"
        parts.text_bound_params = list(params)
    if compiled.gids:
        # A place the query names scores like a matched word (as the place field does in the
        # Whoosh store), so that its centrality, below, weighs in the ranking.
        parts.bonus = f"CASE WHEN pids && %s::int[] THEN {_PLACE_MATCH} ELSE 0 END"
        parts.bonus_params = [sorted(compiled.gids)]
    if central:
        cent, cent_params = cent_sql(central)
        parts.factor = f"{RANK_FLOOR} + {1.0 - RANK_FLOOR} * {cent} / 100.0"
        parts.factor_params = cent_params
    return parts


def _filtered(req: SearchRequest) -> bool:
    return any(v is not None for v in (req.place, req.about, req.country, req.source, req.year, req.date_from,
                                       req.date_to, req.bbox, req.near))


#: The settings of a search's transaction (one statement): plans that use the indexes (the
#: planner does not count the cost of reading each match's tsvector, which a seq scan reads for
#: every row), no JIT (it only slows these queries), and memory to count facets over tens of
#: thousands of matches.
_SETTINGS = ("SELECT set_config('enable_seqscan', 'off', true), set_config('jit', 'off', true), "
             "set_config('work_mem', '32MB', true)")


@contextmanager
def planned(conn: psycopg.Connection) -> Iterator[None]:
    """A read transaction whose plans use the indexes (see ``_SETTINGS``)."""
    with conn.transaction():
        conn.execute(_SETTINGS)
        yield


def _rejected(req: SearchRequest, e: psycopg.Error) -> QueryError:
    # The server rejected something the parser let through (a tsquery it cannot read ...).
    return QueryError(f"Could not run the query {req.q!r}: {e.diag.message_primary or 'rejected'}. "
                      'Check brackets and quotes; see the query help for AND/OR/NOT, "phrases", '
                      "field:word and word*.", param="q")


def batch(conn: psycopg.Connection, req: SearchRequest, queries: list[tuple[str, list] | None],
          transaction: bool = True, binary: frozenset[int] | set[int] = frozenset()) -> list[Any]:
    """The rows of each query (None for a None query), all sent at once in one pipeline: one
    round trip to the server, inside one planned transaction (``_SETTINGS``) when ``transaction``;
    the queries numbered in ``binary`` answer in binary."""
    try:
        with conn.pipeline():
            if transaction:
                with conn.transaction():
                    conn.execute(_SETTINGS)
                    cursors = [conn.execute(q[0], q[1], binary=i in binary) if q else None
                               for i, q in enumerate(queries)]
            else:
                cursors = [conn.execute(q[0], q[1], binary=i in binary) if q else None
                           for i, q in enumerate(queries)]
        return [c.fetchall() if c is not None else None for c in cursors]
    except (pg_errors.DataException, pg_errors.SyntaxErrorOrAccessRuleViolation) as e:
        raise _rejected(req, e) from None


def search(conn: psycopg.Connection, req: SearchRequest, beside: Beside | None = None) -> SearchPage:
    """One page of ranked hits with snippets, facets over the whole result set and a suggestion.

    Three round trips at most: the query's place names (compile.py, only when it has words);
    the hits, the facets and the query's stems in one pipeline; the labels of the facets and
    the stems of the hits' words not stemmed before, in another. With ``beside`` (connections.py)
    part of the second runs at the same time on another connection when one is idle: the
    matches' seqs and facets beside a RUM-ranked page, or half the partitions of a ts_rank one.
    """
    compiled, (where, params), wheres = where_clauses(conn, req)
    score, score_params, order, order_params = order_clause(conn, req, compiled)
    start = (req.page - 1) * req.per_page
    whole = whole_key(conn) if where == "TRUE" else None
    cached = _WHOLE.get(whole) if whole is not None else None
    snippets = PageSnippets(compiled, req)
    counted: Counts | None = None
    if compiled is not None and order == "score DESC, seq" and cached is None and by_seq(conn):
        rows, archive_rows, text_rows = _ranked(conn, req, rank_parts(compiled, _central(req, compiled)), wheres,
                                                snippets, beside)
        seq_rows = [(r[-1],) for r in rows if r[-2] == 1]
        rows = [r[:-3] for r in rows if r[-2] == 0]
    else:
        # Mentions (JSON, often TOASTed) only mark a queried place's spellings in the snippets.
        columns = _HIT_COLUMNS if snippets.marks_mentions() else _HIT_COLUMNS.replace("mentions", "NULL")
        hits_sql = (f"SELECT {columns}, {score} AS score FROM {SCHEMA}.articles "
                    f"WHERE {where} ORDER BY {order} LIMIT %s OFFSET %s",
                    [*score_params, *params, *order_params, req.per_page, start])
        # The matches' seqs and their facets on a second connection while this one reads the page
        # (the two queries scan the matches separately: two backends, two cores), when one is idle.
        side = beside(lambda c: _counted(c, req, where, params)) if beside and cached is None else None
        rows, seq_rows, archive_rows, text_rows = batch(conn, req, [
            hits_sql, None if cached is not None or side else (SEQS_SQL.format(where=where), params),
            None if cached is not None or side else (ARCHIVE_SQL, []), snippets.texts_query()], binary={1})
        if side is not None:
            try:
                seq_rows, archive_rows, counted = side.result()
            except psycopg.Error:  # e.g. that connection was lost: read them here, retried as any read
                seq_rows, archive_rows, counted = _counted(conn, req, where, params)
    snippets.add_texts(text_rows)
    # The facets' labels, kept until the next commit (None: asked, and the archive has no name).
    labels: dict[tuple[str, str], str | None] = {}
    if cached is None:
        cache = cache_for(archive_rows[0] if archive_rows else None, conn)
        if archive_rows:
            labels = cache.generation_memo(archive_rows[0][2], "labels")
        cached = counted if counted is not None else cache.count(conn, seqs_of(seq_rows[0][0] if seq_rows else None))
        if whole is not None:
            cache.trim(cached[0])
            if len(_WHOLE) >= 8:
                _WHOLE.clear()
            _WHOLE[whole] = cached
    total, counts = cached
    counts = _shown(counts, total, req)
    words_query = snippets.scan([r[2] for r in rows], stop_stems(conn))
    shown = [("place", v) for v in counts["place"]] + [("country", v) for v in counts["country"]]
    missing = [key for key in shown if key not in labels]
    gids = [int(v) for kind, v in missing if kind == "place" and v.lstrip("-").isdigit()]
    ccs = [v for kind, v in missing if kind == "country"]
    label_rows, word_rows = batch(conn, req, [(_LABELS_SQL, [gids, ccs]) if gids or ccs else None,
                                               words_query], transaction=False)
    labels.update({**dict.fromkeys(missing), **{(kind, v): name for kind, v, name in label_rows or ()}})
    snippets.add_words(word_rows)
    hits = tuple(_hit(row, req, snippets, i) for i, row in enumerate(rows))
    facets = _facets({key: name for key in shown if (name := labels.get(key))}, counts, req)
    suggestion = _suggest(conn, req.q) if req.q and total < 5 else None
    return SearchPage(query=req.q, hits=hits, total=total, page=req.page, per_page=req.per_page,
                      facets=facets, suggestion=suggestion)


def _ranked(conn: psycopg.Connection, req: SearchRequest, parts: RankParts, wheres: list[tuple[str, list]],
            snippets: PageSnippets, beside: Beside | None) -> tuple[list, list, list]:
    """The rows of ranked_sql, ARCHIVE_SQL and the snippets' stems query, in one pipeline.

    Ranked with ts_rank, the page and the matches' seqs come from one pass (ranked.py), which reads
    every match's tsvector: on a partitioned archive the partitions past the middle one are read
    on a second connection at the same time, when one is idle, and the two pages merged.
    """
    start = (req.page - 1) * req.per_page
    k = split_point(conn) if beside is not None else None  # by_seq: a partitioned archive
    halves = split(wheres, k) if k is not None else None
    needed = req.per_page + start

    def upper(c: psycopg.Connection) -> list:
        assert halves is not None
        return batch(c, req, [ranked_sql(parts, halves[1], needed, 0, HALF_FIRST)], binary={0})[0]

    side = beside(upper) if beside is not None and halves is not None else None
    if side is None or halves is None:
        rows, archive_rows, text_rows = batch(conn, req, [ranked_sql(parts, wheres, req.per_page, start),
                                                          (ARCHIVE_SQL, []), snippets.texts_query()], binary={0})
        return rows, archive_rows, text_rows
    rows, archive_rows, text_rows = batch(conn, req, [
        ranked_sql(parts, halves[0], needed, 0, HALF_FIRST), (ARCHIVE_SQL, []), snippets.texts_query()], binary={0})
    try:
        other = side.result()
    except psycopg.Error:  # e.g. that connection was lost: read that half here, retried as any read
        other = upper(conn)
    return merged(rows, other, req.per_page, start), archive_rows, text_rows


def _counted(conn: psycopg.Connection, req: SearchRequest, where: str, params: list
             ) -> tuple[list, list, Counts]:
    """(SEQS_SQL's rows, ARCHIVE_SQL's rows, the matches' total and facets) of ``where``."""
    seq_rows, archive_rows = batch(conn, req, [(SEQS_SQL.format(where=where), params), (ARCHIVE_SQL, [])],
                                   binary={0})
    cache = cache_for(archive_rows[0] if archive_rows else None, conn)
    return seq_rows, archive_rows, cache.count(conn, seqs_of(seq_rows[0][0] if seq_rows else None))


def iter_hits(conn: psycopg.Connection, req: SearchRequest) -> Iterator[SearchHit]:
    """Every hit in order, without snippets, streamed through a server-side cursor."""
    compiled, where, params = where_clause(conn, req)
    score, score_params, order, order_params = order_clause(conn, req, compiled)
    with planned(conn), conn.cursor(name="geoarchive_hits") as cur:
        cur.itersize = 500
        try:
            cur.execute(f"SELECT id, title, NULL, date, source, url, places, NULL, {score} AS score "
                        f"FROM {SCHEMA}.articles WHERE {where} ORDER BY {order}",
                        [*score_params, *params, *order_params])
        except (pg_errors.DataException, pg_errors.SyntaxErrorOrAccessRuleViolation) as e:
            raise QueryError(f"Could not run the query {req.q!r}: {e.diag.message_primary}.", param="q") from None
        for row in cur:
            yield _hit(row, req)


def places_of(rows_json) -> tuple[Place, ...]:
    """Places from an article's ``places`` JSON; rows written before divisions were kept have 7 fields."""
    return tuple(Place(r[0], r[1], r[2], r[3], r[4], r[5], r[6], admin1=_division(r, 7), admin2=_division(r, 8))
                 for r in rows_json or ())


def _division(row: list, i: int) -> tuple[int, str] | None:
    value = row[i] if len(row) > i else None
    return (int(value[0]), str(value[1])) if value else None


def _hit(row, req: SearchRequest, snippets: PageSnippets | None = None, i: int = 0) -> SearchHit:
    aid, title, body, date, source, url, places, mentions, score = row
    places = places_of(places)
    if snippets is not None:
        snippet = snippets.snippet(i, body or "", mentions or ())
        places = matched_first(places, snippets.gids, req)
    else:
        snippet = ""
    return SearchHit(id=aid, title=title, date=date, source=source, url=url, snippet=snippet,
                     score=float(score or 0.0), places=places)




_WHOLE: dict[tuple, Counts] = {}  # (database, generation) -> the whole archive's facets

#: The names of the places and countries a page's facets show.
_LABELS_SQL = (f"SELECT 'place', gid::text, name FROM {SCHEMA}.places WHERE gid = ANY(%s::int[]) "
               f"UNION ALL (SELECT DISTINCT ON (upper(cc)) 'country', upper(cc), name FROM {SCHEMA}.places "
               "WHERE upper(cc) = ANY(%s::text[]) AND feature LIKE 'PCL%%' ORDER BY upper(cc), gid)")

def whole_key(conn: psycopg.Connection) -> tuple:
    """The whole archive's facets change only with a commit: they are kept per generation.
    (The table's oid tells a database dropped and made again under the same name apart.)"""
    row = conn.execute(f"SELECT generation, '{SCHEMA}.meta'::regclass::oid FROM {SCHEMA}.meta").fetchone()
    return (conn.info.host, conn.info.port, conn.info.dbname, *(row or ()))


def _selected(req: SearchRequest) -> dict[str, str]:
    return {"country": (req.country or "").upper(), "place": str(req.place or ""),
            "source": req.source or "", "year": str(req.year or "")}


def _shown(counts: dict[str, Counter], total: int, req: SearchRequest) -> dict[str, Counter]:
    """The facets with the request's own filter values: every match has them (count = total)."""
    out = {name: Counter(c) for name, c in counts.items()}
    if total:
        for name, value in _selected(req).items():
            if value and value not in out[name]:
                out[name][value] = total
    return out


def _facets(labels: dict[tuple[str, str], str], counts: dict[str, Counter], req: SearchRequest
            ) -> dict[str, tuple[FacetCount, ...]]:
    def label(name: str, value: str) -> str:
        if name == "country":
            return labels.get((name, value)) or country_name(value)
        return labels.get((name, value), value)

    return top_facets(counts, _selected(req), FACET_LIMITS, label)


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
