"""Facets over a whole result set, counted in the web process with numpy.

Counting facets in SQL (unnest every match's year, source, countries and places, then GROUP BY)
is executor work per match: for the 149,000 matches of "others" among 302,442 articles, 700 to
1,000 ms, where returning their seq numbers takes 130 to 150 ms (measured in one run). So the
server returns only the matches' ``seq`` numbers (one binary value, in the same pipeline as the
hits) and the total is their number; each process keeps every article's facet values by ``seq`` (:class:`FacetCache`)
and counts with numpy, as the Whoosh store does with its columns (archive.store.facets).

Why it stays exact: a row's ``seq`` is never reused and its facet values never change under it (the
writer gives a changed article a new ``seq``: ``seq = nextval(...)`` in its upsert, and a moved one
a new row), so a cached entry is either right or belongs to a row that no longer matches anything.
Matching ``seq``s the cache does not know yet (new articles, on this server or on a replica, in any
commit order) are read by their ``seq`` from the same connection before counting. Caches are per
archive (``meta.uid``, the same on the primary and its physical replicas), not per server.

Memory: about 40 bytes per article plus 4 per place and country it names and 4 per seq number
(a 300,000-article archive: see docs/scaling.md), per process; deleted and changed articles' old entries stay until the
cache is rebuilt: when a search of the whole archive finds them more than a third of it.
"""

from __future__ import annotations

import heapq
import threading
from collections import Counter
from dataclasses import dataclass

import numpy as np
import psycopg

from archive.store.facets import FACET_LIMITS
from archive.store.postgres.schema import SCHEMA

Counts = tuple[int, dict[str, Counter]]  # (total, facet -> value -> count)

#: The matches' seq numbers, as 8-byte big-endian integers in one bytea (no per-value parsing).
#: ``{where}`` is compiled SQL (compile.py), never the user's text.
SEQS_SQL = f"SELECT string_agg(int8send(seq), ''::bytea) FROM {SCHEMA}.articles WHERE {{where}}"
#: The archive's identity (schema.py's ``meta.uid``; older archives: the meta table's oid) and generation.
ARCHIVE_SQL = f"SELECT to_jsonb(m) ->> 'uid', '{SCHEMA}.meta'::regclass::oid, m.generation FROM {SCHEMA}.meta m"
_ROWS_SQL = f"SELECT seq, year, source, countries, pids FROM {SCHEMA}.articles"
_BY_SEQ_SQL = _ROWS_SQL + " WHERE seq = ANY(%s::bigint[])"
_SEGMENTS = 8  # more segments than this are merged into one (at most 15: the index's 4 bits)


@dataclass
class _Segment:
    """Facet values of some articles, sorted by seq: single values as codes, multiple ones in CSR form."""

    seqs: np.ndarray  # int64, sorted
    year: np.ndarray  # int32 code per row (-1: none)
    source: np.ndarray
    c_off: np.ndarray  # int64 offsets into c_codes (len rows + 1)
    c_codes: np.ndarray  # int32 country codes
    p_off: np.ndarray
    p_codes: np.ndarray  # int32 place codes

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in (self.seqs, self.year, self.source, self.c_off, self.c_codes,
                                      self.p_off, self.p_codes))


class _Vocab:
    def __init__(self) -> None:
        self.values: list[str] = []
        self.codes: dict[str, int] = {}

    def code(self, value: str | None) -> int:
        if value is None:
            return -1
        c = self.codes.get(value)
        if c is None:
            c = self.codes[value] = len(self.values)
            self.values.append(value)
        return c


def _concat(parts: list[np.ndarray], dtype) -> np.ndarray:
    return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype=dtype)


def _gather(off: np.ndarray, codes: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """The codes of ``rows`` (CSR), with repeats, as SQL's unnest gives them."""
    if len(rows) * 4 > len(off):  # many rows: one pass over every code
        mask = np.zeros(len(off) - 1, dtype=bool)
        mask[rows] = True
        return codes[np.repeat(mask, np.diff(off))]
    starts, lens = off[rows], off[rows + 1] - off[rows]
    total = int(lens.sum())
    if not total:
        return codes[:0]
    return codes[np.repeat(starts - (np.cumsum(lens) - lens), lens) + np.arange(total)]


class FacetCache:
    """Every article's facet values by seq, for one archive, filled as matches show unknown seqs."""

    def __init__(self) -> None:
        self.segments: list[_Segment] = []
        self.vocab = {name: _Vocab() for name in FACET_LIMITS}
        self.lock = threading.Lock()
        self.rows = 0
        #: seq -> row * 16 + segment (-1: not cached): a match's row in one gather, however many match.
        self.index = np.zeros(0, dtype=np.int32)
        self._memo: tuple[object, dict[str, dict]] = (None, {})

    def generation_memo(self, generation: object, name: str) -> dict:
        """The dict ``name`` kept with this archive's cache until its generation (any commit)
        changes: for rows that a commit may change, such as the places' (places.py) and the
        facets' labels (search.py)."""
        with self.lock:
            if self._memo[0] != generation or generation is None:
                self._memo = (generation, {})
            return self._memo[1].setdefault(name, {})

    @property
    def nbytes(self) -> int:
        return sum(s.nbytes for s in self.segments) + self.index.nbytes

    def _index(self, k: int) -> None:
        """Point the index at segment ``k``'s rows."""
        seqs = self.segments[k].seqs
        top = int(seqs.max()) + 1 if len(seqs) else 0
        if top > len(self.index):
            grown = np.full(max(top, len(self.index) * 5 // 4), -1, dtype=np.int32)
            grown[:len(self.index)] = self.index
            self.index = grown
        self.index[seqs] = np.arange(len(seqs), dtype=np.int32) * 16 + k

    def _add(self, rows: list[tuple]) -> None:
        rows.sort(key=lambda r: r[0])
        years, sources, countries, places = (self.vocab[n] for n in ("year", "source", "country", "place"))
        c_codes = [[countries.code(c.upper()) for c in r[3] or () if c is not None] for r in rows]
        p_codes = [[places.code(str(p)) for p in r[4] or () if p is not None] for r in rows]
        seg = _Segment(
            seqs=np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows)),
            year=np.fromiter((years.code(None if r[1] is None else str(r[1])) for r in rows), np.int32, len(rows)),
            source=np.fromiter((sources.code(r[2]) for r in rows), np.int32, len(rows)),
            c_off=np.r_[0, np.cumsum([len(c) for c in c_codes], dtype=np.int64)],
            c_codes=np.fromiter((c for cs in c_codes for c in cs), np.int32),
            p_off=np.r_[0, np.cumsum([len(p) for p in p_codes], dtype=np.int64)],
            p_codes=np.fromiter((p for ps in p_codes for p in ps), np.int32))
        self.segments.append(seg)
        self.rows += len(rows)
        if len(self.segments) > _SEGMENTS:
            self._merge()
            self._index(0)
        else:
            self._index(len(self.segments) - 1)

    def _merge(self) -> None:
        segs = self.segments
        seqs = np.concatenate([s.seqs for s in segs])
        order = np.argsort(seqs, kind="stable")

        def csr(off_codes: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
            lens = np.concatenate([np.diff(o) for o, _c in off_codes])[order]
            starts = np.concatenate([o[:-1] + base for (o, _c), base in
                                     zip(off_codes, np.cumsum([0] + [len(c) for _o, c in off_codes[:-1]]),
                                         strict=True)])[order]
            codes = _concat([c for _o, c in off_codes], np.int32)
            idx = np.repeat(starts - (np.cumsum(lens) - lens), lens) + np.arange(int(lens.sum()))
            return np.r_[0, np.cumsum(lens)].astype(np.int64), codes[idx]

        c_off, c_codes = csr([(s.c_off, s.c_codes) for s in segs])
        p_off, p_codes = csr([(s.p_off, s.p_codes) for s in segs])
        self.segments = [_Segment(seqs[order], np.concatenate([s.year for s in segs])[order],
                                  np.concatenate([s.source for s in segs])[order], c_off, c_codes, p_off, p_codes)]

    def trim(self, articles: int) -> None:
        """Forget everything when the archive has ``articles`` and the cache holds many more
        (entries of deleted and changed articles): the next count reads the archive again."""
        with self.lock:
            if self.rows > 1.5 * articles + 1000:
                self.segments, self.rows, self.index = [], 0, np.zeros(0, dtype=np.int32)
                self.vocab = {name: _Vocab() for name in FACET_LIMITS}

    def locate(self, seqs: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
        """(rows of each segment, seqs found in none)."""
        known = (seqs >= 0) & (seqs < len(self.index))
        codes = np.full(len(seqs), -1, dtype=np.int32)
        codes[known] = self.index[seqs[known]]
        hit = codes >= 0
        codes = codes[hit]
        if len(self.segments) == 1:
            return [codes >> 4], seqs[~hit]
        segment = codes & 15
        return [codes[segment == k] >> 4 for k in range(len(self.segments))], seqs[~hit]

    def _tallies(self, conn: psycopg.Connection, seqs: np.ndarray, names: tuple[str, ...]
                 ) -> tuple[dict[str, _Vocab], dict[str, np.ndarray]]:
        """(vocabularies, facet -> count per value code) of the articles ``seqs``, for ``names``."""
        with self.lock:
            found, missing = self.locate(seqs)
            if len(missing):
                # The whole archive the first time (one scan), then only the new seqs (by the seq index).
                rows = (conn.execute(_ROWS_SQL, binary=True).fetchall() if not self.segments
                        else conn.execute(_BY_SEQ_SQL, (missing.tolist(),), binary=True).fetchall())
                self._add(rows)
                found, _deleted_since = self.locate(seqs)
            segments, vocab = list(self.segments), self.vocab
        attrs = {"year": "year", "source": "source", "country": "c", "place": "p"}
        tallies: dict[str, np.ndarray] = {}
        for name in names:
            attr, size = attrs[name], len(vocab[name].values)
            total = np.zeros(size, dtype=np.int64)
            for seg, at in zip(segments, found, strict=False):
                if not len(at):
                    continue
                codes = (getattr(seg, attr)[at] if attr in ("year", "source")
                         else _gather(getattr(seg, attr + "_off"), getattr(seg, attr + "_codes"), at))
                codes = codes[(codes >= 0) & (codes < size)]
                total += np.bincount(codes, minlength=size)
            tallies[name] = total
        return vocab, tallies

    def count(self, conn: psycopg.Connection, seqs: np.ndarray) -> Counts:
        """(total, facet -> value -> count) of the articles ``seqs``, the facets cut to what can be shown."""
        vocab, tallies = self._tallies(conn, seqs, tuple(FACET_LIMITS))
        return len(seqs), {name: _cut(name, tallies[name], vocab[name].values) for name in FACET_LIMITS}

    def places(self, conn: psycopg.Connection, seqs: np.ndarray) -> list[tuple[int, int]]:
        """(GeoNames id, articles) of every place the articles ``seqs`` name, busiest first, ties
        by id: the map's counts, as SQL's unnest and GROUP BY over the same matches give them."""
        vocab, tallies = self._tallies(conn, seqs, ("place",))
        counts, values = tallies["place"], vocab["place"].values
        nz = np.flatnonzero(counts)
        return sorted(((int(values[i]), int(counts[i])) for i in nz.tolist()), key=lambda gn: (-gn[1], gn[0]))


def _cut(name: str, counts: np.ndarray, values: list[str]) -> Counter:
    """The values top_facets can show: the limit's most frequent, ties by value (years: newest)."""
    limit = FACET_LIMITS[name]
    nz = np.flatnonzero(counts)
    if name != "year" and len(nz) > limit:
        floor = np.partition(counts[nz], len(nz) - limit)[len(nz) - limit]
        nz = nz[counts[nz] >= floor]  # every value that can be among the first ``limit``
    items = [(values[i], int(counts[i])) for i in nz.tolist()]
    if name == "year":
        kept = heapq.nlargest(limit, items)
    else:
        kept = heapq.nsmallest(limit, items, key=lambda vn: (-vn[1], vn[0]))
    return Counter(dict(kept))


_CACHES: dict[tuple, FacetCache] = {}
_CACHES_LOCK = threading.Lock()


def cache_for(archive_row: tuple | None, conn: psycopg.Connection) -> FacetCache:
    """The cache of the archive ``archive_row`` (a row of ARCHIVE_SQL) names."""
    uid, oid = (archive_row or (None, None))[:2]
    key: tuple = ("uid", uid) if uid else (conn.info.host, conn.info.port, conn.info.dbname, oid)
    with _CACHES_LOCK:
        cache = _CACHES.get(key)
        if cache is None:
            if len(_CACHES) >= 4:
                _CACHES.clear()
            cache = _CACHES[key] = FacetCache()
        return cache


def seqs_of(value: bytes | None) -> np.ndarray:
    """The seq numbers of SEQS_SQL's value."""
    if not value:
        return np.zeros(0, dtype=np.int64)
    return np.frombuffer(value, dtype=">i8").astype(np.int64)
