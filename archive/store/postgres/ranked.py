"""A page of hits ranked with ``ts_rank`` and the seq numbers of every match, in one statement.

When the RUM index cannot stream the best matches first (phrases, NOT, title: words, a place the
query names), every match is ranked with ``ts_rank``, which reads the match's tsvector (TOASTed:
tens of kilobytes each). The search then needs the matches twice, for the page and for the facets'
seq numbers (facets.py); here both come from one pass (``m``), so the WHERE clause, which may read
the tsvector too, runs once per match.

With places in the ranking (archive.store.centrality) a hit's score is ``(text + bonus) * f`` with
``f = RANK_FLOOR + (1 - RANK_FLOOR) * centrality``, and ``f`` and ``bonus`` are read from the row's
small inline columns. ``ts_rank`` of a tsquery without prefixes is at most (1 + pi^2/6) / (pi^2/6)
< 1.61 (PostgreSQL's calc_rank_or; calc_rank_and is at most 1), so ``(RANK_MAX + bonus) * f`` bounds
a match's score. Tighter, when the ranked words are joined by OR (calc_rank_or: each word adds
``(wjm + resj - wjm / (jm + 1)^2) / (pi^2/6)`` and the sum is divided by their number): a word only
in the body has every position weighted 0.4, so ``jm`` = 0 and it adds ``resj / (pi^2/6)`` < 0.4; a
match whose title (``ttsv``, small) has none of the words scores below 0.4 (``text_bound``).
The matches with the ``K`` highest bounds are ranked exactly, and of the others only
those whose bound reaches the page's last score among them, which for a place's name skips the many
articles that mention it in passing. The page is exactly the one ranking every match would give
(ties by seq).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import psycopg

from archive.store.postgres.schema import SCHEMA

#: An upper bound of ts_rank without prefix terms (1.608..., with a margin for float rounding).
RANK_MAX = 1.7
#: Matches ranked exactly first (by their bound), at least.
_FIRST = 200
#: The same for each half of a split archive (split): together they rank as many exactly first.
HALF_FIRST = _FIRST // 2


@dataclass
class RankParts:
    """The pieces of a ts_rank score: ``(text + bonus) * factor`` (SQL, each with its parameters)."""

    text: str
    text_params: list = field(default_factory=list)
    bonus: str | None = None  # a place the query names
    bonus_params: list = field(default_factory=list)
    factor: str | None = None  # centrality of the places in the ranking
    factor_params: list = field(default_factory=list)
    bounded: bool = False  # whether RANK_MAX bounds ``text`` (no prefix terms)
    #: A tighter bound of ``text`` per row (SQL over the row's small columns), or None for RANK_MAX.
    text_bound: str | None = None
    text_bound_params: list = field(default_factory=list)

    def score(self, row: str = "") -> tuple[str, list]:
        """The score's SQL over a row of the articles (``row``: the alias of ``m``'s columns, or
        "" to compute everything from the row itself), as order_clause ranks."""
        sql, params = self.text, list(self.text_params)
        if self.bonus is not None:
            sql = f"{sql} + {row}b" if row else f"{sql} + {self.bonus}"
            params += [] if row else self.bonus_params
        if self.factor is not None:
            sql = f"({sql}) * {row}f" if row else f"({sql}) * ({self.factor})"
            params += [] if row else self.factor_params
        return sql, params


_COLS = ("id", "title", "body", "date", "source", "url", "places", "mentions")


def ranked_sql(parts: RankParts, wheres: list[tuple[str, list]], limit: int, offset: int,
               first: int = _FIRST) -> tuple[str, list]:
    """One statement: the page's rows (``_COLS``, score, seq, ``k`` = 0, NULL) ordered best first, then
    one row (NULLs, ``k`` = 1, the matches' seqs as facets.SEQS_SQL gives them). The matches are those
    of any of ``wheres`` (conditions with their parameters), each row once (_union)."""
    a_cols = ", ".join(f"a.{c}" for c in _COLS)
    nulls = ", ".join(["NULL"] * (len(_COLS) - 1))
    seqs = f"SELECT NULL, {nulls}, NULL, NULL, 1, (SELECT string_agg(int8send(seq), ''::bytea) FROM m)"
    if parts.factor is None or not parts.bounded:
        score, score_params = parts.score()
        sql = (f"WITH {_union(f'seq, part, {score} AS score', wheres)}, "
               f"top AS (SELECT seq, part, score FROM m ORDER BY score DESC, seq LIMIT %s OFFSET %s) "
               f"(SELECT {a_cols}, top.score::float8, top.seq, 0 AS k, NULL::bytea FROM top CROSS JOIN LATERAL "
               f"(SELECT * FROM {SCHEMA}.articles a WHERE a.seq = top.seq AND a.part = top.part LIMIT 1) a "
               f"ORDER BY top.score DESC, top.seq) UNION ALL ({seqs})")
        return sql, [*(p for _w, ps in wheres for p in (*score_params, *ps)), limit, offset]
    rescore, rescore_params = parts.score("x.")
    bonus = parts.bonus if parts.bonus is not None else "0"
    bound = "(t + b) * f"
    tb = parts.text_bound or str(RANK_MAX)
    sql = (f"WITH {_union(f'seq, part, {bonus} AS b, {parts.factor} AS f, {tb} AS t', wheres)}, "
           f"c AS MATERIALIZED (SELECT seq, part, b, f FROM m ORDER BY {bound} DESC LIMIT %s), "
           f"r AS MATERIALIZED (SELECT x.seq, x.part, {rescore} AS score FROM c x CROSS JOIN LATERAL "
           f"(SELECT tsv, ttsv FROM {SCHEMA}.articles a WHERE a.seq = x.seq AND a.part = x.part LIMIT 1) a), "
           "s AS (SELECT coalesce(min(score), 0) AS low FROM (SELECT score FROM r ORDER BY score DESC LIMIT %s) y), "
           f"e AS (SELECT x.seq, x.part, {rescore} AS score FROM (SELECT * FROM m WHERE {bound} >= "
           "(SELECT low FROM s) AND seq NOT IN (SELECT seq FROM c)) x CROSS JOIN LATERAL "
           f"(SELECT tsv, ttsv FROM {SCHEMA}.articles a WHERE a.seq = x.seq AND a.part = x.part LIMIT 1) a), "
           "top AS (SELECT seq, part, score FROM (SELECT * FROM r UNION ALL SELECT * FROM e) u "
           "ORDER BY score DESC, seq LIMIT %s OFFSET %s) "
           f"(SELECT {a_cols}, top.score::float8, top.seq, 0 AS k, NULL::bytea FROM top CROSS JOIN LATERAL "
           f"(SELECT * FROM {SCHEMA}.articles a WHERE a.seq = top.seq AND a.part = top.part LIMIT 1) a "
           f"ORDER BY top.score DESC, top.seq) UNION ALL ({seqs})")
    needed = limit + offset
    m_params = [p for _w, ps in wheres
                for p in (*parts.bonus_params, *parts.factor_params, *parts.text_bound_params, *ps)]
    return sql, [*m_params, max(first, needed),
                 *rescore_params, needed, *rescore_params, limit, offset]


def split(wheres: list[tuple[str, list]], k: int) -> tuple[list[tuple[str, list]], list[tuple[str, list]]]:
    """``wheres`` restricted to the partitions up to ``k``, and to those after it (the server prunes
    the others; a partition made later falls in the second)."""
    return ([(f"({w}) AND part <= %s", [*ps, k]) for w, ps in wheres],
            [(f"({w}) AND part > %s", [*ps, k]) for w, ps in wheres])


def merged(first: list[tuple], second: list[tuple], limit: int, offset: int) -> list[tuple]:
    """The rows of ranked_sql over the whole archive from its rows over each half (:func:`split`,
    each with ``limit + offset`` hits from 0): the page in the same order (score, then seq), then
    the seqs of both halves' matches in one row."""
    # ORDER BY score DESC, seq: a NULL score first, as the server sorts it
    page = sorted((r for r in (*first, *second) if r[-2] == 0),
                  key=lambda r: (r[-4] is not None, -(r[-4] or 0.0), r[-3]))
    seqs = b"".join(r[-1] or b"" for r in (*first, *second) if r[-2] == 1)
    blank = (None,) * (len(_COLS) + 2)
    return [*page[offset:offset + limit], (*blank, 1, seqs or None)]


#: Seconds a split point stays in use before the partitions' sizes are read again.
_SPLIT_TTL = 60.0
_SPLITS: dict[tuple, tuple[float, int | None]] = {}
_SPLIT_SQL = (f"SELECT substring(c.relname FROM '_p([0-9]+)$')::int, greatest(c.reltuples, 0) FROM pg_inherits i "
              f"JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = to_regclass('{SCHEMA}.articles')")


def split_point(conn: psycopg.Connection) -> int | None:
    """The partition number that splits the archive's rows into two halves nearest in size (by the
    server's row estimates, read again after _SPLIT_TTL), or None for an archive of fewer than two
    partitions with rows, or none at all."""
    key = (conn.info.host, conn.info.port, conn.info.dbname)
    now = time.monotonic()
    known = _SPLITS.get(key)
    if known is not None and now - known[0] < _SPLIT_TTL:
        return known[1]
    sizes = sorted((n, rows) for n, rows in conn.execute(_SPLIT_SQL).fetchall() if n is not None and rows > 0)
    best: int | None = None
    if len(sizes) >= 2:
        total, below, gap = sum(r for _n, r in sizes), 0.0, float("inf")
        for n, rows in sizes[:-1]:
            below += rows
            if abs(2 * below - total) < gap:
                best, gap = n, abs(2 * below - total)
    if len(_SPLITS) >= 16:
        _SPLITS.clear()
    _SPLITS[key] = (now, best)
    return best


def _union(columns: str, wheres: list[tuple[str, list]]) -> str:
    """The CTE ``m``: the ``columns`` of the rows of any of ``wheres``, one SELECT per condition (UNION
    ALL), each leaving out the rows of those before it by seq (a hash, no condition read again)."""
    if len(wheres) == 1:
        return f"m AS MATERIALIZED (SELECT {columns} FROM {SCHEMA}.articles WHERE {wheres[0][0]})"
    ctes = []
    for i, (w, _p) in enumerate(wheres):
        seen = "".join(f" AND seq NOT IN (SELECT seq FROM m{j})" for j in range(i))
        ctes.append(f"m{i} AS MATERIALIZED (SELECT {columns} FROM {SCHEMA}.articles WHERE {w}{seen})")
    union = " UNION ALL ".join(f"SELECT * FROM m{i}" for i in range(len(wheres)))
    return ", ".join(ctes) + f", m AS MATERIALIZED ({union})"
