"""Compile a parsed query (archive.store.querylang) and a request's filters to SQL.

The SQL text is made only of this module's own fragments; every value that came from
the user (words, names, dates, coordinates) is a bound ``%s`` parameter. What matched
is recorded as well: the tsqueries that rank, the query's words for the highlighter, and
the places (by GeoNames id) the query named.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import psycopg

from archive.errors import QueryError
from archive.models import SearchRequest
from archive.store import querylang as ql
from archive.store.centrality import ABOUT_THRESHOLD, percent
from archive.store.postgres.schema import SCHEMA, TS_CONFIG
from archive.store.query import STOP_WORDS
from archive.store.stored import fold

_TQ = f"phraseto_tsquery('{TS_CONFIG}', %s)"
_PTQ = "phraseto_tsquery('simple', %s)"
_WEIGHT = {"title": "a", "text": "b"}
_MAX_EXPANSIONS = 500

#: (SQL, params) of a condition.
Sql = tuple[str, list]
#: (SQL, params, ts): ``ts`` is (tsquery SQL, params) when the condition is ``tsv @@ ts``.
Cond = tuple[str, list, Sql | None]


@dataclass
class Compiled:
    """A WHERE clause with its parameters, and what ranking and highlighting need."""

    where: str = "TRUE"
    params: list = field(default_factory=list)
    #: The whole query as one tsquery (SQL, params) when it is only words on title and body:
    #: then ``tsv @@ q`` is the WHERE clause and a RUM index can stream ``tsv <=> q`` best first.
    ts: tuple[str, list] | None = None
    rank: list[tuple[str, list]] = field(default_factory=list)  # (tsquery SQL, params)
    title_only: bool = False  # every ranked word was a title: word (rank on the title's own vector)
    phrase: bool = False  # a ranked text is several words (a phrase's tsquery)
    texts: list[str] = field(default_factory=list)  # words/phrases to stem for the highlighter
    lexemes: set[str] = field(default_factory=set)  # expanded wildcard/fuzzy lexemes
    placewords: set[str] = field(default_factory=set)
    gids: set[int] = field(default_factory=set)
    #: A spread query's (_spread) branches: conditions whose matches together are ``where``'s, each
    #: answered by indexes (the OR's filter reads every match's tsvector).
    branches: list[tuple[str, list]] = field(default_factory=list)


_POSSESSIVE = re.compile(r"(\w)['’]s\b")
_SEVERAL_WORDS = re.compile(r"\w\W+\w")
#: Up to this many place-name words in one AND are spread over its other words (_spread).
_MAX_SPREAD = 3


class _Either(str):
    """The SQL ``(pids && ids OR tsv @@ ts)`` of a word that names places, with its parts."""

    ids: list[int]
    ts: Sql | None


def _spread(ts: Sql | None, rest: list[Sql]) -> tuple[Sql, list[Sql]] | None:
    """An AND of words ``ts`` and conditions ``rest`` where some are place-name words
    (``pids && ids OR tsv @@ w``), rewritten as an OR of conditions each index can answer:
    ``tsv @@ (ts && w)`` OR ``(tsv @@ ts AND pids && ids)`` (one branch per choice, for up to
    _MAX_SPREAD such words). Left as it is, the planner reads every row of the other words and
    checks each one's tsvector for ``w``, which costs a read of each tsvector. None: nothing to spread.
    Also the branches, each with ``rest``'s other conditions (Compiled.branches)."""
    eithers = [sql for sql, _p in rest if isinstance(sql, _Either) and sql.ts is not None]
    if not eithers or len(eithers) > _MAX_SPREAD or (ts is None and len(eithers) < 2):
        return None
    others = [(sql, ps) for sql, ps in rest if not (isinstance(sql, _Either) and sql.ts is not None)]
    branches: list[Sql] = []
    for mask in range(1 << len(eithers)):
        words = [ts] if ts is not None else []
        places: list[Sql] = []
        for i, e in enumerate(eithers):
            if mask >> i & 1:
                places.append(("pids && %s::int[]", [e.ids]))
            else:
                assert e.ts is not None  # eithers keeps only those with words
                words.append(e.ts)
        parts: list[Sql] = []
        if words:
            parts.append(("tsv @@ (" + " && ".join(w[0] for w in words) + ")", [p for w in words for p in w[1]]))
        parts += places
        branches.append(_and(parts))
    spread = ("(" + " OR ".join(sql for sql, _p in branches) + ")", [p for _s, ps in branches for p in ps])
    return (_and([spread, *others]) if others else spread), [_and([b, *others]) for b in branches]


def _and(parts: list[Sql]) -> Sql:
    return "(" + " AND ".join(sql for sql, _p in parts) + ")", [p for _s, ps in parts for p in ps]


def drop_possessive(text: str) -> str:
    """"Britain's" -> "Britain": what the stored vectors drop (schema.py, as the Whoosh analyzer does)."""
    return _POSSESSIVE.sub(r"\1", text)


def tsquery_literal(words) -> str:
    """A tsquery matching any of ``words`` (lexemes, written as quoted tsquery values)."""
    return " | ".join("'" + w.replace("\\", "\\\\").replace("'", "''") + "'" for w in words)


def _like(pattern: str) -> str:
    out = pattern.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return out.replace("*", "%").replace("?", "_")


class _Compiler:
    def __init__(self, conn: psycopg.Connection, tree):
        self.conn = conn
        self.out = Compiled()
        self.names: dict[str, set[int]] = {}
        self._titles: list[bool] = []  # per ranked word: whether it was a title: word
        self.countries: dict[str, str] = {}
        self.branches: dict[int, list[Sql]] = {}  # id(And node) -> its spread's branches
        self._lookup_names(tree)

    def _lookup_names(self, tree) -> None:
        keys = set()
        for node in ql.walk(tree):
            if isinstance(node, (ql.Term, ql.Phrase)) and node.field in (None, "place", "country"):
                keys.add(fold(node.text))
        keys.discard("")
        if not keys:
            return
        rows = self.conn.execute(
            f"SELECT n.key, n.gid, p.cc, p.feature FROM {SCHEMA}.place_names n "
            f"JOIN {SCHEMA}.places p USING (gid) WHERE n.key = ANY(%s)", (sorted(keys),)).fetchall()
        for key, gid, cc, feature in rows:
            self.names.setdefault(key, set()).add(gid)
            if cc and feature.startswith("PCL"):
                self.countries.setdefault(key, cc.lower())

    def node(self, node, positive: bool = True) -> tuple[str, list]:
        """(SQL, params) of ``node``."""
        return self._sql(self.cond(node, positive))

    @staticmethod
    def _sql(cond: Cond) -> Sql:
        sql, params, ts = cond
        return (f"tsv @@ {ts[0]}", list(ts[1])) if ts is not None else (sql, params)

    def cond(self, node, positive: bool = True) -> Cond:
        """(SQL, params, ts): ``ts`` is (tsquery SQL, params) when the condition is ``tsv @@ ts``.

        Word conditions joined by AND and OR become one tsquery (``&&``, ``||``), so the text index
        answers the whole query in one scan.
        """
        if isinstance(node, (ql.And, ql.Or)):
            kids = [self.cond(c, positive) for c in node.children]
            op_ts, op_sql = (" && ", " AND ") if isinstance(node, ql.And) else (" || ", " OR ")
            ts_kids = [k[2] for k in kids if k[2] is not None]
            ts: Sql | None = None
            if ts_kids:
                ts = ("(" + op_ts.join(t[0] for t in ts_kids) + ")", [p for t in ts_kids for p in t[1]])
            rest = [(k[0], k[1]) for k in kids if k[2] is None]
            if not rest:
                return "", [], ts
            if isinstance(node, ql.And):
                spread = _spread(ts, rest)
                if spread is not None:
                    self.branches[id(node)] = spread[1]
                    return (*spread[0], None)
            parts = ([(f"tsv @@ {ts[0]}", ts[1])] if ts else []) + rest
            return "(" + op_sql.join(p for p, _ in parts) + ")", [x for _, ps in parts for x in ps], None
        if isinstance(node, ql.Not):
            # Never a ``!!`` tsquery: the RUM index (1.3, Debian's postgresql-15-rum) crashes the
            # server process on a negated tsquery; NOT over the match is a filter on the rows.
            sql, params = self._sql(self.cond(node.child, not positive))
            return f"(NOT coalesce({sql}, false))", params, None
        if isinstance(node, ql.DateRange):
            return (*self._dates(node.start, node.end), None)
        if isinstance(node, ql.Every):
            return "TRUE", [], None
        if isinstance(node, (ql.Term, ql.Phrase)):
            return self._term(node, positive)
        if isinstance(node, ql.Wildcard):
            return self._expanded(node.field, node.pattern, positive, fuzzy=None)
        if isinstance(node, ql.Fuzzy):
            return self._expanded(node.field, node.text, positive, fuzzy=node.distance)
        raise QueryError(ql.unparsed(str(node)), param="q")

    @staticmethod
    def _dates(start, end) -> tuple[str, list]:
        # On ``day`` (the date's ordinal, set with it by the writer): its B-tree indexes answer a
        # date range, and a page of one ordered by date reads only the range.
        parts, params = [], []
        if start is not None:
            parts.append("day >= %s")
            params.append(start.toordinal())
        if end is not None:
            parts.append("day <= %s")
            params.append(end.toordinal())
        return ("(" + " AND ".join(parts) + ")" if parts else "day IS NOT NULL"), params

    def _text(self, fieldname, tq: str, tq_params: list, positive: bool) -> Cond:
        if positive:
            self.out.rank.append((tq, tq_params))
            self._titles.append(fieldname == "title")
        if fieldname == "title":  # the title's own small vector: no need to read the body's
            return f"ttsv @@ {tq}", list(tq_params), None
        if fieldname == "text":
            return f"(tsv @@ {tq} AND ts_filter(tsv, '{{b}}') @@ {tq})", tq_params * 2, None
        return "", [], (tq, list(tq_params))

    def _term(self, node, positive: bool) -> Cond:
        # The server's parser would read "<script>alert" as an HTML tag and drop it (an empty
        # tsquery, which matches anything under AND): angle brackets are only punctuation here.
        f, text = node.field, re.sub(r"[<>]", " ", node.text)
        if f in (None, "title", "text"):
            text = drop_possessive(text)
        if f in (None, "title", "text"):
            if positive:
                self.out.texts.append(text)
                self.out.phrase |= isinstance(node, ql.Phrase) or _SEVERAL_WORDS.search(text) is not None
            cond = self._text(f, _TQ, [text], positive)
            ids = self.names.get(fold(text)) if f is None else None
            if ids:
                if positive:
                    self.out.gids |= ids
                    self.out.placewords.update(fold(text).split())
                sql, params = self._sql(cond)
                # The ids first: a row the place index found then needs no look at its tsvector.
                either = _Either(f"(pids && %s::int[] OR {sql})")
                either.ids, either.ts = sorted(ids), cond[2]
                return either, [sorted(ids), *params], None
            return cond
        if f == "place":
            if text.strip().lstrip("-").isdigit():
                gid = int(text.strip())
                if positive:
                    self.out.gids.add(gid)
                return "pids @> ARRAY[%s]::int[]", [gid], None
            key = fold(text)
            found = sorted(self.names.get(key, ()))
            if positive:
                self.out.gids |= set(found)
                self.out.placewords.update(key.split())
            return f"(pids && %s::int[] OR ptsv @@ {_PTQ})", [found, key], None
        if f == "country":
            key = fold(text)
            cc = self.countries.get(key) or (key if re.fullmatch(r"[a-z]{2}", key) else key.replace(" ", ""))
            return "countries @> ARRAY[%s]::text[]", [cc], None
        if f == "source":
            return f"stsv @@ {_TQ}", [text], None
        if f == "year":
            return ("year = %s", [int(text)], None) if text.isdigit() and len(text) < 6 else ("FALSE", [], None)
        if f == "places":
            return "tags @> ARRAY[%s]::text[]", [text.lower().replace(" ", "-")], None
        if f == "id":
            return "id = %s", [text], None
        raise QueryError(ql.unparsed(text), param="q")

    def _vocab(self, kind: str, pattern: str, fuzzy: int | None) -> list[str]:
        if fuzzy is None:
            rows = self.conn.execute(
                f"SELECT word FROM {SCHEMA}.vocab WHERE kind = %s AND word LIKE %s ORDER BY word LIMIT %s",
                (kind, _like(pattern), _MAX_EXPANSIONS)).fetchall()
        else:
            rows = self.conn.execute(
                f"SELECT word FROM {SCHEMA}.vocab WHERE kind = %s AND word LIKE %s "
                "AND levenshtein_less_equal(word, %s, %s) <= %s ORDER BY word LIMIT %s",
                (kind, _like(pattern[:1]) + "%", pattern, fuzzy, fuzzy, _MAX_EXPANSIONS)).fetchall()
        return [w for (w,) in rows]

    def _expanded(self, f, pattern: str, positive: bool, fuzzy: int | None) -> Cond:
        if f in (None, "title", "text", "source"):
            words = self._vocab("l", pattern, fuzzy)
            if positive:
                self.out.lexemes.update(words)
            prefix = pattern[:-1]
            if fuzzy is None and pattern.endswith("*") and not re.search(r"[*?]", prefix):
                # sanc*: the index matches the prefix itself (the words found only mark the snippets).
                literal = tsquery_literal([prefix]) + ":*"
            elif not words:
                return "FALSE", [], None
            else:
                literal = tsquery_literal(words)
            if f == "source":
                return "stsv @@ %s::tsquery", [literal], None
            return self._text(f, "%s::tsquery", [literal], positive)
        if f == "place":
            words = self._vocab("p", fold(pattern) if fuzzy else pattern, fuzzy)
            if positive:
                self.out.placewords.update(words)
            return ("ptsv @@ %s::tsquery", [tsquery_literal(words)], None) if words else ("FALSE", [], None)
        if fuzzy is not None:
            return "FALSE", [], None
        column = {"country": "countries", "places": "tags"}.get(f)
        if column:
            return f"EXISTS (SELECT 1 FROM unnest({column}) v WHERE v LIKE %s)", [_like(pattern)], None
        if f == "year":
            return "year::text LIKE %s", [_like(pattern)], None
        if f == "id":
            return "id LIKE %s", [_like(pattern)], None
        return "FALSE", [], None


def compile_query(conn: psycopg.Connection, text: str) -> Compiled:
    """The query ``text`` as SQL (QueryError for a query that cannot be read)."""
    tree = ql.drop_stop_words(ql.parse(text), STOP_WORDS)
    c = _Compiler(conn, tree)
    sql, params, ts = c.cond(tree)
    c.out.ts = ts
    c.out.where, c.out.params = c._sql((sql, params, ts))
    c.out.title_only = bool(c._titles) and all(c._titles)
    c.out.branches = c.branches.get(id(tree), [])
    return c.out


#: The highest centrality (percent) an article gives any of the places of the ``%s::int[]`` parameter.
CENT_SQL = "(SELECT coalesce(max(u.c), 0) FROM unnest(pids, pcent) AS u(p, c) WHERE u.p = ANY(%s::int[]))"
#: Up to this many places, cent_sql() looks each one up in the article's arrays instead.
_CENT_LOOKUPS = 8


def cent_sql(gids) -> tuple[str, list]:
    """(SQL, params) of the highest centrality (percent) an article gives any of ``gids``.

    A few places are looked up in the article's own arrays (``array_position``: no subquery per
    row, which costs more than the rest of ranking a row); more go through CENT_SQL. An article
    names each place once (``pids`` is a set), so the first position is the only one.
    """
    gids = sorted(gids)
    if not 0 < len(gids) <= _CENT_LOOKUPS:
        return CENT_SQL, [gids]
    parts = ["coalesce(pcent[array_position(pids, %s::int)], 0)"] * len(gids)
    return (parts[0] if len(parts) == 1 else "GREATEST(" + ", ".join(parts) + ")"), gids

#: Up to this many places in a bbox or radius, the filter is "names one of these places" (the
#: places' GiST index, then the articles' GIN on pids); past it, the articles' own GiST index
#: on the MultiPoint of their places is cheaper.
MAX_AREA_PLACES = 300


def filters(req: SearchRequest, conn: psycopg.Connection | None = None) -> tuple[list[str], list]:
    """The request's filters (place, country, source, year, dates, bbox, near) as SQL conditions."""
    parts: list[str] = []
    params: list = []
    if req.place is not None:
        parts.append("pids @> ARRAY[%s]::int[]")
        params.append(req.place)
    if req.about is not None:
        # The GIN index on pids finds the place's articles; their own arrays say how central it is.
        cent, cent_params = cent_sql([req.about])
        parts.append(f"(pids @> ARRAY[%s]::int[] AND {cent} >= %s)")
        params += [req.about, *cent_params, percent(ABOUT_THRESHOLD)]
    if req.country:
        parts.append("countries @> ARRAY[%s]::text[]")
        params.append(req.country.lower())
    if req.source:
        parts.append("source = %s")
        params.append(req.source)
    if req.year is not None:
        parts.append("year = %s")
        params.append(req.year)
    if req.date_from is not None or req.date_to is not None:
        sql, ps = _Compiler._dates(req.date_from, req.date_to)
        parts.append(sql)
        params += ps
    for column_sql, area_params in _areas(req):
        ids = None
        if conn is not None:
            rows = conn.execute(f"SELECT gid FROM {SCHEMA}.places WHERE {column_sql.format(col='pt')} LIMIT %s",
                                [*area_params, MAX_AREA_PLACES + 1]).fetchall()
            ids = [gid for (gid,) in rows] if len(rows) <= MAX_AREA_PLACES else None
        if ids is not None:
            parts.append("pids && %s::int[]")
            params.append(ids)
        else:
            parts.append(column_sql.format(col="geom"))
            params += area_params
    return parts, params


def _areas(req: SearchRequest) -> list[tuple[str, list]]:
    """(SQL with ``{col}`` for a geometry column, params) of the request's bbox and radius."""
    out = []
    if req.bbox is not None:
        west, south, east, north = req.bbox
        boxes = [(west, east)] if west <= east else [(west, 180.0), (-180.0, east)]  # across the antimeridian
        ors, params = [], []
        for w, e in boxes:
            ors.append("ST_Intersects({col}, ST_MakeEnvelope(%s, %s, %s, %s, 4326))")
            params += [w, south, e, north]
        out.append(("(" + " OR ".join(ors) + ")", params))
    if req.near is not None:
        lat, lon = req.near
        out.append(("ST_DWithin({col}::geography, ST_SetSRID(ST_MakePoint(%s, %s), 4326)::geography, %s)",
                    [lon, lat, (req.radius_km or 50.0) * 1000.0]))
    return out
