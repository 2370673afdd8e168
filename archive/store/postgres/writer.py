"""Writing articles to PostgreSQL: each batch one transaction, upserted by article id.

Several writers (processes, machines) may write the same archive at once: rows are
written in id order so overlapping batches wait for each other instead of deadlocking,
and a batch that still meets a deadlock or serialization failure is retried whole. A
killed writer loses only its batch in flight; every committed batch stays.

Partitions (the layout of schema.py): RUM, the text index that ranks hits, has no pending list,
so adding a row inserts each of its lexemes one by one, about 16 times the cost per row of
building the index in bulk (2,088 articles: 5.1 s inserted with the RUM index, 0.95 s without it;
building it for them 0.26 s). So new rows go to the partition ``meta.part``, whose text index is
GIN (with its pending list), and searches read it with the others. When it holds ``_ROTATE_ROWS``
articles (or a third of the archive, if more), a writer makes a new, empty partition the one rows
go to (attached with a SHARE UPDATE EXCLUSIVE lock: searches go on) and builds the filled one's
RUM index in bulk with CREATE INDEX CONCURRENTLY, which blocks neither searches nor writers, then drops
its GIN index (phrases are checked from RUM's positions; schema.seal_partition). When a
writer closes, the partition being filled gets its RUM index too, so a finished ingest leaves every
article ranked from a RUM index (later rows into that partition are then added to it one by one).

An article lives in one partition: a batch deletes its ids from the others and upserts them into
the current one (the primary key is (id, part)). Batches hold a shared advisory lock that a switch
of partition takes exclusively, so every batch in flight writes to the same partition and two
writers adding one id meet on its primary key, as before.
"""

from __future__ import annotations

import json
import logging
import re
import threading

import psycopg
from psycopg import errors as pg_errors

from archive.models import GeotaggedArticle, Place
from archive.store.base import Known, StoreWriter
from archive.store.centrality import centrality, percent
from archive.store.postgres.schema import (
    SCHEMA,
    add_partition,
    check_version,
    ensure_schema,
    gin_indexed,
    has_rum,
    partition,
    partitioned,
    partitions,
    schema_exists,
    seal_partition,
    up_to_date,
)
from archive.store.stored import content_hash, fold

log = logging.getLogger(__name__)

_TITLE_WORD = re.compile(r"\w+", re.UNICODE)
_RETRIES = 5
#: A batch this large, and at least 1/_ANALYZE_SHARE of the rows the planner thinks the table
#: has, changes the table's statistics: ANALYZE it (autovacuum may lag a bulk load). Smaller
#: shares are left to autovacuum (an ANALYZE after every 2,000-article batch of a 50k load costs more).
_ANALYZE_ROWS = 1000
_ANALYZE_SHARE = 5
#: New rows go to a new partition once the current one holds this many, or 1/_ROTATE_SHARE of
#: the archive if that is more (so an archive of n articles has O(log n) partitions).
_ROTATE_ROWS = 10_000
_ROTATE_SHARE = 3
#: A writer's first batch of this many articles or more goes to a new partition when the current
#: one already has its RUM index (sealed when the last writer closed), rather than into it row by row.
_FRESH_ROWS = 1000
#: pg_advisory_xact_lock key: batches hold it shared, a switch of partition exclusively.
_ROTATE_KEY = 0x6A0A1C12
#: pg_try_advisory_lock key: one writer builds RUM indexes at a time (the others leave it to it).
_SEAL_KEY = 0x6A0A1C13

_COLUMNS = ("id", "title", "body", "date", "day", "year", "url", "source", "author", "origin", "chash",
            "placetext", "pids", "pcent", "countries", "tags", "spell", "places", "mentions", "nmentions", "geom")


def article_row(ga: GeotaggedArticle) -> tuple:
    """The ``articles`` row of one article (see schema.py)."""
    a = ga.article
    scores = centrality(ga)
    order = {p.geonameid: i for i, p in enumerate(ga.places)}
    # Most central first (as the Whoosh store keeps them): a hit's places lead with the story's own.
    places = sorted(ga.places, key=lambda p: (-scores.get(p.geonameid, 0.0), order[p.geonameid]))
    names = [p.name for p in places] + [m.surface for m in ga.mentions]
    tags = a.extra.get("places") if a.extra else None
    tags = [str(t).lower().replace(" ", "-") for t in tags] if isinstance(tags, list) else []
    geom = None
    if places:
        geom = "SRID=4326;MULTIPOINT(" + ",".join(f"({p.lon!r} {p.lat!r})" for p in places) + ")"
    return (
        a.id, a.title, a.text, a.date, a.date.toordinal() if a.date else None, a.date.year if a.date else None,
        a.url, a.source, a.author, a.origin, content_hash(a),
        " ; ".join(fold(n) for n in dict.fromkeys(names)),
        [p.geonameid for p in places],
        [percent(scores.get(p.geonameid, 0.0)) for p in places],
        sorted({p.country_code.lower() for p in places if p.country_code}),
        tags,
        sorted({f"{m.place.geonameid}|{m.surface}" for m in ga.mentions}),
        json.dumps([[p.geonameid, p.name, p.lat, p.lon, p.country_code, p.feature, p.population, p.admin1, p.admin2]
                    for p in places], ensure_ascii=False),
        json.dumps([[m.field, m.start, m.end, m.surface, m.place.geonameid, round(m.score, 3)]
                    for m in ga.mentions], ensure_ascii=False),
        len(ga.mentions),
        geom,
    )


class PostgresWriter(StoreWriter):
    """Buffers adds and deletes; :meth:`commit` writes them in one transaction."""

    #: An ingest's batch: written on a thread of its own while the next one is geotagged
    #: (commit_later), so smaller batches than Whoosh's overlap the two more closely and leave
    #: less to write after the last article is tagged.
    default_batch = 2_000

    def __init__(self, connections, location: str = ""):
        self._connections = connections
        self._location = location
        self._ops: dict[str, GeotaggedArticle | None] = {}  # id -> article, or None to delete
        self._ready = False
        self._parts = False  # the partitioned layout (else an older archive's one table)
        self._rum = False
        self._fresh = False  # whether the first big batch has been given a partition without RUM
        self.committed = 0
        self._flight: threading.Thread | None = None  # commit_later's batch being written
        self._error: BaseException | None = None

    def _ensure(self, conn) -> None:
        if not self._ready:
            if not schema_exists(conn) or not up_to_date(conn):
                ensure_schema(conn)
            check_version(conn, self._location)  # never writes new rows beside old ones
            self._parts = partitioned(conn)
            self._rum = self._parts and has_rum(conn)
            self._ready = True

    def known(self) -> Known:
        with self._connections.write() as conn:
            self._ensure(conn)
            rows = conn.execute(f"SELECT id, origin, chash FROM {SCHEMA}.articles").fetchall()
        return {aid: (origin, chash) for aid, origin, chash in rows}

    def add(self, ga: GeotaggedArticle) -> None:
        self._ops.pop(ga.article.id, None)  # the latest of two copies wins, as in Whoosh
        self._ops[ga.article.id] = ga

    def delete(self, article_id: str) -> None:
        self._ops.pop(article_id, None)
        self._ops[article_id] = None

    def commit(self) -> None:
        self._wait()
        if not self._ops:
            if not self._ready:  # a writer that wrote nothing still leaves an (empty) archive, as in Whoosh
                with self._connections.write() as conn:
                    self._ensure(conn)
            return
        ops, self._ops = self._ops, {}
        try:
            self._write(ops)
        except (pg_errors.DeadlockDetected, pg_errors.SerializationFailure, pg_errors.UniqueViolation):
            self._ops = ops  # still to write: a later commit or close tries again
            raise

    def commit_later(self) -> None:
        """Write the batch on a thread of its own: the server does the work, so the caller's
        next batch is read and geotagged meanwhile (see :meth:`StoreWriter.commit_later`)."""
        self._wait()
        if not self._ops:
            return
        ops, self._ops = self._ops, {}
        self._flight = threading.Thread(target=self._write_in_flight, args=(ops,), name="pg-commit", daemon=True)
        self._flight.start()

    def _write_in_flight(self, ops: dict[str, GeotaggedArticle | None]) -> None:
        try:
            self._write(ops)
        except BaseException as e:  # noqa: BLE001 - raised again by _wait in the caller's thread
            self._error = e

    def _wait(self) -> None:
        """Wait for the batch in flight; raise its error (its articles are not committed)."""
        if self._flight is not None:
            self._flight.join()
            self._flight = None
        error, self._error = self._error, None
        if error is not None:
            raise error

    def _write(self, ops: dict[str, GeotaggedArticle | None]) -> None:
        if not self._ready:
            with self._connections.write() as conn:
                self._ensure(conn)
        if self._rum and not self._fresh and len(ops) >= _FRESH_ROWS:
            self._fresh = True
            self._guarded(lambda: self._rotate(fresh=True))
        for attempt in range(_RETRIES):
            try:
                with self._connections.write() as conn:
                    self._ensure(conn)
                    part = None
                    if self._parts:
                        conn.execute("SELECT pg_advisory_xact_lock_shared(%s)", (_ROTATE_KEY,))
                        part = conn.execute(f"SELECT part FROM {SCHEMA}.meta").fetchone()[0]
                    with conn.transaction():
                        _write_batch(conn, ops, part)
                break
            except (pg_errors.DeadlockDetected, pg_errors.SerializationFailure, pg_errors.UniqueViolation) as e:
                if attempt == _RETRIES - 1:
                    raise
                log.info("batch of %d retried after %s", len(ops), type(e).__name__)
        self.committed += len(ops)
        self._guarded(lambda: self._upkeep(len(ops)))

    @staticmethod
    def _guarded(upkeep) -> None:
        try:
            upkeep()
        except (pg_errors.DeadlockDetected, pg_errors.LockNotAvailable) as e:
            # ANALYZE, a switch of partition and CREATE INDEX CONCURRENTLY of several writers can wait for
            # each other; the server then cancels one. All three are upkeep: the next batch or close tries again
            # (an index left invalid is built again, see seal_partition).
            log.info("upkeep deferred: %s", type(e).__name__)

    def _upkeep(self, batch: int) -> None:
        """Statistics, and with RUM a new partition when the current one is full (after a batch)."""
        if batch >= _ANALYZE_ROWS:
            with self._connections.write() as conn:
                conn.execute("SET LOCAL lock_timeout = '2s'")
                row = conn.execute(  # the planner's row count of the table or of its partitions
                    "SELECT sum(greatest(c.reltuples, 0)) FROM pg_class c WHERE c.oid IN "
                    "(SELECT inhrelid FROM pg_inherits WHERE inhparent = to_regclass(%s)) "
                    "OR (c.oid = to_regclass(%s) AND c.relkind = 'r')",
                    (f"{SCHEMA}.articles", f"{SCHEMA}.articles")).fetchone()
                if row is None or row[0] is None or row[0] < batch * _ANALYZE_SHARE:
                    conn.execute(f"ANALYZE {SCHEMA}.articles")
        if self._rum:
            self._rotate()

    def _rotate(self, fresh: bool = False) -> None:
        """Make a new partition the one rows go to when the current one is full (or, ``fresh``,
        has its RUM index already and any rows), and build the full one's RUM index (see the
        module's docstring)."""
        with self._connections.write() as conn:
            part = conn.execute(f"SELECT part FROM {SCHEMA}.meta").fetchone()[0]
            rows = conn.execute(f"SELECT count(*) FROM {SCHEMA}.{partition(part)}").fetchone()[0]
            total = conn.execute(
                "SELECT sum(greatest(c.reltuples, 0)) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                "WHERE i.inhparent = to_regclass(%s)", (f"{SCHEMA}.articles",)).fetchone()[0] or 0
            if fresh:
                if not rows or not dict(partitions(conn)).get(part):
                    return
            elif rows < max(_ROTATE_ROWS, total / _ROTATE_SHARE):
                return
            # Waits for the batches in flight (they hold the lock shared); later ones wait for this.
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_ROTATE_KEY,))
            if conn.execute(f"SELECT part FROM {SCHEMA}.meta").fetchone()[0] != part:
                return  # another writer switched meanwhile
            add_partition(conn, part + 1)
            log.info("partition %d (%d articles) is full; new rows go to partition %d", part, rows, part + 1)
        self._seal(last=False)

    def _seal(self, last: bool) -> None:
        """Build the RUM index of every partition that rows no longer go to (and, ``last``, of the
        current one) that has none, unless another writer is building them."""
        with self._connections.maintenance() as conn:
            if not conn.execute("SELECT pg_try_advisory_lock(%s)", (_SEAL_KEY,)).fetchone()[0]:
                return
            try:
                current = conn.execute(f"SELECT part FROM {SCHEMA}.meta").fetchone()[0]
                gin = gin_indexed(conn)
                for n, rum in partitions(conn):
                    if rum and n in gin:  # sealed before GIN indexes were dropped, or killed in between
                        seal_partition(conn, n)
                        log.info("partition %d: its GIN text index dropped (RUM answers)", n)
                    if rum or (n == current and not last):
                        continue
                    if n == current and not conn.execute(
                            f"SELECT EXISTS (SELECT 1 FROM {SCHEMA}.{partition(n)})").fetchone()[0]:
                        continue  # nothing to index yet
                    seal_partition(conn, n)
                    conn.execute(f"ANALYZE {SCHEMA}.{partition(n)}")  # the planner's counts for it
                    log.info("partition %d has its RUM index", n)
            finally:
                conn.execute("SELECT pg_advisory_unlock(%s)", (_SEAL_KEY,))

    def close(self) -> None:
        self.commit()
        if self._rum and self.committed:
            try:
                self._seal(last=True)
            except (pg_errors.DeadlockDetected, pg_errors.LockNotAvailable) as e:
                log.warning("the RUM index of the newest articles is left to the next writer: %s", type(e).__name__)

    def cancel(self) -> None:
        self._ops = {}
        try:
            self._wait()  # the batch in flight commits or fails on its own; nothing is left running
        except Exception:  # noqa: BLE001 - cancel runs while another error propagates
            log.warning("the batch in flight failed while the ingest stopped", exc_info=True)


def _write_batch(conn: psycopg.Connection, ops: dict[str, GeotaggedArticle | None], part: int | None) -> None:
    """One batch; ``part`` is the partition new rows go to (None: an older archive's one table)."""
    deletes = sorted(aid for aid, ga in ops.items() if ga is None)
    adds = [ga for _aid, ga in sorted(ops.items(), key=lambda kv: kv[0]) if ga is not None]
    if deletes:
        conn.execute(f"DELETE FROM {SCHEMA}.articles WHERE id = ANY(%s)", (deletes,))
    if adds:
        _write_places(conn, adds)
        cols = ", ".join(_COLUMNS)
        conn.execute(f"CREATE TEMP TABLE IF NOT EXISTS ga_batch ON COMMIT DELETE ROWS AS "
                     f"SELECT {cols} FROM {SCHEMA}.articles WITH NO DATA")
        with conn.cursor().copy(f"COPY ga_batch ({cols}) FROM STDIN") as copy:
            for ga in adds:
                copy.write_row(article_row(ga))
        updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in _COLUMNS if c != "id")
        if part is None:
            conn.execute(
                f"INSERT INTO {SCHEMA}.articles ({cols}) SELECT {cols} FROM ga_batch ORDER BY id "
                f"ON CONFLICT (id) DO UPDATE SET {updates}, seq = nextval('{SCHEMA}.article_seq')")
            where = "TRUE"
        else:
            # Changed articles leave the partitions rows no longer go to; in the current one they
            # are updated in place (and two writers adding one id meet on its primary key).
            conn.execute(f"DELETE FROM {SCHEMA}.articles WHERE id = ANY(%s) AND part <> %s",
                         ([ga.article.id for ga in adds], part))
            conn.execute(
                f"INSERT INTO {SCHEMA}.articles ({cols}, part) SELECT {cols}, %s FROM ga_batch ORDER BY id "
                f"ON CONFLICT (id, part) DO UPDATE SET {updates}, seq = nextval('{SCHEMA}.article_seq')", (part,))
            where = f"a.part = {int(part)}"
        conn.execute(
            f"INSERT INTO {SCHEMA}.vocab (kind, word) SELECT DISTINCT 'l', w FROM {SCHEMA}.articles a, "
            f"unnest(tsvector_to_array(a.tsv)) w WHERE {where} AND a.id IN (SELECT id FROM ga_batch) "
            "AND length(w) < 60 ORDER BY 2 ON CONFLICT DO NOTHING")
        words: set[tuple[str, str]] = set()
        for ga in adds:
            words.update(("w", w.lower()) for w in _TITLE_WORD.findall(ga.article.title) if len(w) < 60)
        _insert_vocab(conn, words)
    conn.execute(f"UPDATE {SCHEMA}.meta SET generation = generation + 1")


def _write_places(conn: psycopg.Connection, adds: list[GeotaggedArticle]) -> None:
    places: dict[int, Place] = {}
    names: set[tuple[str, int]] = set()
    words: set[tuple[str, str]] = set()
    for ga in adds:
        for p in ga.places:
            places[p.geonameid] = p
            names.add((fold(p.name), p.geonameid))
        for m in ga.mentions:
            names.add((fold(m.surface), m.place.geonameid))
    for key, _gid in names:
        words.update(("p", w) for w in key.split() if len(w) < 60)
    if places:
        rows = [places[g] for g in sorted(places)]
        conn.execute(
            f"INSERT INTO {SCHEMA}.places (gid, name, lat, lon, cc, feature, population) "
            "SELECT * FROM unnest(%s::int[], %s::text[], %s::float8[], %s::float8[], %s::text[], %s::text[], "
            "%s::int8[]) ON CONFLICT DO NOTHING",
            ([p.geonameid for p in rows], [p.name for p in rows], [p.lat for p in rows], [p.lon for p in rows],
             [p.country_code for p in rows], [p.feature for p in rows], [p.population for p in rows]))
    keyed = sorted(n for n in names if n[0])
    if keyed:
        conn.execute(
            f"INSERT INTO {SCHEMA}.place_names (key, gid) SELECT * FROM unnest(%s::text[], %s::int[]) "
            "ON CONFLICT DO NOTHING", ([k for k, _g in keyed], [g for _k, g in keyed]))
    _insert_vocab(conn, words)


def _insert_vocab(conn: psycopg.Connection, words: set[tuple[str, str]]) -> None:
    if words:
        rows = sorted(words)
        conn.execute(
            f"INSERT INTO {SCHEMA}.vocab (kind, word) SELECT * FROM unnest(%s::\"char\"[], %s::text[]) "
            "ON CONFLICT DO NOTHING", ([k for k, _w in rows], [w for _k, w in rows]))
