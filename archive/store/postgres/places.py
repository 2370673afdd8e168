"""Articles and places read back from PostgreSQL: one article, map counts, place pages, stats."""

from __future__ import annotations

import psycopg

from archive.models import (
    Article,
    Coverage,
    GeotaggedArticle,
    IndexStats,
    Mention,
    Place,
    PlaceCount,
    PlaceSummary,
    SearchRequest,
)
from archive.store.postgres.facets import ARCHIVE_SQL, SEQS_SQL, cache_for, seqs_of
from archive.store.postgres.schema import SCHEMA
from archive.store.postgres.search import batch, by_seq, order_clause, places_of, where_clause, whole_key

_PLACE = "gid, name, lat, lon, cc, feature, population"


def _place(row) -> Place:
    return Place(row[0], row[1], row[2], row[3], row[4], row[5], int(row[6]))


_ARTICLE = "id, title, body, date, url, source, author, origin, places, mentions"


def get_article(conn: psycopg.Connection, article_id: str) -> GeotaggedArticle | None:
    row = conn.execute(f"SELECT {_ARTICLE} FROM {SCHEMA}.articles WHERE id = %s", (article_id,)).fetchone()
    return None if row is None else _article(row)


def articles_after(conn: psycopg.Connection, after: str | None, limit: int) -> list[GeotaggedArticle]:
    """Up to ``limit`` articles in id order, from the first id past ``after`` (None: the start)."""
    where, params = ("id > %s", [after]) if after is not None else ("true", [])
    rows = conn.execute(f"SELECT {_ARTICLE} FROM {SCHEMA}.articles WHERE {where} ORDER BY id LIMIT %s",
                        [*params, limit]).fetchall()
    return [_article(row) for row in rows]


def _article(row) -> GeotaggedArticle:
    aid, title, body, date, url, source, author, origin, places, mentions = row
    by_id = {p.geonameid: p for p in places_of(places)}
    ms = tuple(Mention(f, start, end, surface, by_id[gid], score)
               for f, start, end, surface, gid, score in mentions or () if gid in by_id)
    return GeotaggedArticle(Article(aid, title, body, date, url, source, author, origin), ms)


#: The whole archive's place counts change only with a commit: kept per generation, like its facets.
_WHOLE: dict[tuple, list[PlaceCount]] = {}


def place_counts(conn: psycopg.Connection, req: SearchRequest, limit: int = 20000, top: int = 3) -> list[PlaceCount]:
    """Places named by all matches, busiest first, each with up to ``top`` articles (ranked ones first)."""
    compiled, where, params = where_clause(conn, req)
    if where != "TRUE":
        return _place_counts(conn, req, compiled, where, params, limit, top)
    key = (*whole_key(conn), limit, top)
    if key not in _WHOLE:
        if len(_WHOLE) >= 8:
            _WHOLE.clear()
        _WHOLE[key] = _place_counts(conn, req, compiled, where, params, limit, top)
    return list(_WHOLE[key])


def _place_counts(conn: psycopg.Connection, req: SearchRequest, compiled, where: str, params: list, limit: int,
                  top: int) -> list[PlaceCount]:
    # One pass over the matches' own id arrays; the place rows only for the places counted.
    counts_sql = f"""
        SELECT c.n, p.{_PLACE.replace(', ', ', p.')}
        FROM (SELECT g AS gid, count(*) AS n FROM (SELECT unnest(pids) AS g FROM {SCHEMA}.articles
                                                    WHERE {where}) AS x GROUP BY g) AS c
        JOIN {SCHEMA}.places p USING (gid) ORDER BY c.n DESC, c.gid LIMIT %s"""
    if top <= 0:
        if by_seq(conn):
            return _counted_places(conn, req, where, params, limit)
        (rows,) = batch(conn, req, [(counts_sql, [*params, limit])])
        return [PlaceCount(_place(r), n) for n, *r in rows]
    score, score_params, order, order_params = order_clause(conn, req, compiled)
    rows, ranked = batch(conn, req, [
        (counts_sql, [*params, limit]),
        (f"SELECT id, {score} AS score FROM {SCHEMA}.articles WHERE {where} ORDER BY {order} LIMIT 200",
         [*score_params, *params, *order_params])])
    counts = [(n, _place(r)) for n, *r in rows]
    if not counts:
        return []
    best: dict[int, list[tuple[str, str]]] = {}
    chosen = [p.geonameid for _n, p in counts]
    # Each place's first ``top`` articles: those most central to it (archive.store.centrality),
    # ties by the request's ranking (ranked ones first), then in insertion order.
    (tops,) = batch(conn, req, [(f"""
            WITH r AS (SELECT id, rk FROM unnest(%s::text[]) WITH ORDINALITY AS r(id, rk)),
            m AS MATERIALIZED (SELECT a.id, a.title, a.seq, a.pids, a.pcent, r.rk FROM {SCHEMA}.articles a
                               LEFT JOIN r USING (id) WHERE {where}),
            c AS (SELECT unnest(%s::int[]) AS p),
            e AS (SELECT u.p, m.seq, row_number() OVER (PARTITION BY u.p ORDER BY u.pc DESC, m.rk NULLS LAST,
                                                           m.seq) AS rn
                  FROM m, unnest(m.pids, m.pcent) AS u(p, pc) JOIN c USING (p))
            SELECT e.p, m.id, m.title FROM e JOIN m USING (seq) WHERE e.rn <= %s ORDER BY e.p, e.rn""",
            [[r[0] for r in ranked], *params, chosen, top])])
    for gid, aid, title in tops:
        best.setdefault(gid, []).append((aid, title))
    return [PlaceCount(p, n, tuple(best.get(p.geonameid, ()))) for n, p in counts]


def _counted_places(conn: psycopg.Connection, req: SearchRequest, where: str, params: list,
                    limit: int) -> list[PlaceCount]:
    """The map's counts without the articles: the server returns the matches' seqs, the process
    counts their places over the facet cache (facets.py), then reads the rows of the ``limit``
    busiest places (a place without a row, which no writer leaves, is passed over as SQL's join
    would)."""
    seq_rows, archive_rows = batch(conn, req, [(SEQS_SQL.format(where=where), params), (ARCHIVE_SQL, [])],
                                   binary={0})
    cache = cache_for(archive_rows[0] if archive_rows else None, conn)
    counted = cache.places(conn, seqs_of(seq_rows[0][0] if seq_rows else None))
    # The places' rows, kept until the next commit (read after the generation: never older than it).
    known: dict[int, Place] = cache.generation_memo(archive_rows[0][2] if archive_rows else None, "places")
    out: list[PlaceCount] = []
    at = 0
    while len(out) < limit and at < len(counted):
        chunk = counted[at:at + (limit - len(out))]
        at += len(chunk)
        missing = [g for g, _n in chunk if g not in known]
        if missing:
            known.update((r[0], _place(r)) for r in conn.execute(
                f"SELECT {_PLACE} FROM {SCHEMA}.places WHERE gid = ANY(%s)", (missing,)))
        out += [PlaceCount(known[g], n) for g, n in chunk if g in known]
    return out


def place_summary(conn: psycopg.Connection, geonameid: int) -> PlaceSummary | None:
    """Spellings, articles per month and co-occurring places of one place, or None if unknown."""
    row = conn.execute(f"SELECT {_PLACE} FROM {SCHEMA}.places WHERE gid = %s", (geonameid,)).fetchone()
    if row is None:
        return None
    place = _place(row)
    rows = conn.execute(f"""
        WITH m AS MATERIALIZED (SELECT date, pids, spell FROM {SCHEMA}.articles WHERE pids @> ARRAY[%s]::int[])
        SELECT 'n', NULL, count(*), NULL::int FROM m
        UNION ALL SELECT 's', substr(x, %s), count(*), NULL FROM m, unnest(m.spell) x
            WHERE starts_with(x, %s) GROUP BY x
        UNION ALL SELECT 'm', to_char(date, 'YYYY-MM'), count(*), NULL FROM m WHERE date IS NOT NULL GROUP BY 2
        UNION ALL SELECT 'r', NULL, count(*), p FROM m, unnest(m.pids) p WHERE p <> %s GROUP BY p""",
                        (geonameid, len(f"{geonameid}|") + 1, f"{geonameid}|", geonameid)).fetchall()
    articles = next(n for kind, _v, n, _g in rows if kind == "n")
    if not articles:
        return None
    spellings = sorted(((v, n) for kind, v, n, _g in rows if kind == "s"), key=lambda vn: (-vn[1], vn[0]))
    months = sorted((v, n) for kind, v, n, _g in rows if kind == "m")
    counts = sorted(((n, g) for kind, _v, n, g in rows if kind == "r"), key=lambda ng: (-ng[0], ng[1]))
    places = {r[0]: _place(r) for r in conn.execute(
        f"SELECT {_PLACE} FROM {SCHEMA}.places WHERE gid = ANY(%s)", ([g for _n, g in counts[:20]],))}
    related = [PlaceCount(places[g], n) for n, g in counts[:20] if g in places][:12]
    return PlaceSummary(place=place, articles=articles, spellings=tuple(spellings), months=tuple(months),
                        related=tuple(related))


def stats(conn: psycopg.Connection) -> IndexStats:
    row = conn.execute(f"""
        SELECT (SELECT count(*) FROM {SCHEMA}.articles),
               (SELECT count(DISTINCT p) FROM {SCHEMA}.articles, unnest(pids) p),
               (SELECT coalesce(sum(nmentions), 0) FROM {SCHEMA}.articles),
               (SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c
                JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relkind = 'r')""",
                       (SCHEMA,)).fetchone()
    assert row is not None  # an aggregate without GROUP BY always answers one row
    return IndexStats(articles=row[0], places=row[1], mentions=int(row[2]), bytes=int(row[3] or 0))


def coverage(conn: psycopg.Connection) -> Coverage:
    """Sources with article counts, oldest and newest dates, undated articles: one aggregate query."""
    rows = conn.execute(f"""
        SELECT 's', source, count(*), NULL::date, NULL::date FROM {SCHEMA}.articles
            WHERE source IS NOT NULL AND source <> '' GROUP BY source
        UNION ALL SELECT 'd', NULL, count(*) FILTER (WHERE date IS NULL), min(date), max(date)
            FROM {SCHEMA}.articles""").fetchall()
    sources = sorted(((src, n) for kind, src, n, _f, _l in rows if kind == "s"), key=lambda sn: (-sn[1], sn[0]))
    undated, first, last = next((n, f, la) for kind, _s, n, f, la in rows if kind == "d")
    return Coverage(sources=tuple(sources), first=first, last=last, undated=int(undated))
