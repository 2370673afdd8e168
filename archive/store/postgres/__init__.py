"""The PostgreSQL store: an archive in a PostgreSQL + PostGIS database, for archives that
outgrow one Whoosh index, written by many ingest processes and read through replicas.

This package is the only place that imports ``psycopg``; :class:`PostgresStore` is its
face to the rest of the archive (see :mod:`archive.store.base`). The password comes from
the URL, ``PGPASSWORD`` or ``~/.pgpass`` and is never shown: :attr:`location` is the URL
without it.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Hashable, Iterator
from typing import TypeVar

import psycopg
from psycopg import errors as pg_errors

from archive.errors import IndexNotFoundError, StoreUnavailableError
from archive.models import (
    Coverage,
    GeotaggedArticle,
    IndexStats,
    PlaceCount,
    PlaceSummary,
    SearchHit,
    SearchPage,
    SearchRequest,
)
from archive.store.base import Store, StoreWriter
from archive.store.postgres import places as _places
from archive.store.postgres import search as _search
from archive.store.postgres.connections import Connections, display_url
from archive.store.postgres.schema import SCHEMA, check_version
from archive.store.postgres.writer import PostgresWriter

__all__ = ["PostgresStore"]

T = TypeVar("T")


class PostgresStore(Store):
    """An archive in the PostgreSQL database at ``url`` (tables created by the first writer).

    ``read_replicas`` are URLs of streaming replicas of it: searches are spread over them.
    """

    def __init__(self, url: str, read_replicas: tuple[str, ...] | list[str] = ()):
        self.url = url
        self.location = display_url(url)
        self.read_replicas = tuple(read_replicas)
        self.connections = Connections(url, self.read_replicas)
        self._checked: weakref.WeakSet[psycopg.Connection] = weakref.WeakSet()

    def __repr__(self) -> str:
        return f"PostgresStore({self.location!r})"

    def _check(self, conn: psycopg.Connection) -> None:
        """The schema version check, once per connection: a connection that passed it stays on that
        database for its life (dropping the database ends its connections), so each read need not
        ask again (one round trip fewer per read)."""
        if conn not in self._checked:
            check_version(conn, self.location)  # no tables yet: UndefinedTable, asked again next time
            self._checked.add(conn)

    def _missing(self) -> IndexNotFoundError:
        return IndexNotFoundError(f"No archive in the database {self.location!r} yet. "
                                  f"Build one with: geoarchive ingest seeds/ --index {self.location}")

    def _read(self, fn: Callable[[psycopg.Connection], T]) -> T:
        def checked(conn: psycopg.Connection) -> T:
            self._check(conn)
            return fn(conn)

        try:
            return self.connections.run_read(checked)
        except pg_errors.UndefinedTable:
            raise self._missing() from None

    # -- writing --------------------------------------------------------------
    def writer(self, *, timeout: float = 0.0, procs: int = 1) -> StoreWriter:
        """A writer; any number may write at once (``timeout`` and ``procs`` do not apply)."""
        return PostgresWriter(self.connections, self.location)

    # -- reading --------------------------------------------------------------
    def search(self, request: SearchRequest) -> SearchPage:
        return self._read(lambda conn: _search.search(conn, request, beside=self.connections.beside))

    def iter_hits(self, request: SearchRequest) -> Iterator[SearchHit]:
        """Every hit, streamed. A server that fails before the first hit is left for the next
        one (as every other read); one that fails mid-stream ends it with StoreUnavailableError,
        since the hits already given cannot be taken back."""
        servers = 1 + len(self.connections.replicas)
        for attempt in range(servers):
            given = 0
            try:
                with self.connections.read() as conn:
                    self._check(conn)
                    for hit in _search.iter_hits(conn, request):
                        given += 1
                        yield hit
                return
            except pg_errors.UndefinedTable:
                raise self._missing() from None
            except psycopg.OperationalError as e:
                if given or attempt == servers - 1:
                    raise StoreUnavailableError(
                        f"The database server stopped answering after {given} hits of this search; "
                        "run it again (the other servers take over).") from e

    def get_article(self, article_id: str) -> GeotaggedArticle | None:
        return self._read(lambda conn: _places.get_article(conn, article_id))

    def iter_articles(self, batch: int = 500) -> Iterator[GeotaggedArticle]:
        """Every article in id order, ``batch`` per query (each one a retried read, so a
        replica failing half-way costs nothing)."""
        after: str | None = None
        while True:
            def read(conn: psycopg.Connection, after: str | None = after) -> list[GeotaggedArticle]:
                return _places.articles_after(conn, after, batch)

            rows = self._read(read)
            yield from rows
            if len(rows) < batch:
                return
            after = rows[-1].article.id

    def place_counts(self, request: SearchRequest, limit: int = 20000, top: int = 3) -> list[PlaceCount]:
        return self._read(lambda conn: _places.place_counts(conn, request, limit=limit, top=top))

    def place_summary(self, geonameid: int) -> PlaceSummary | None:
        return self._read(lambda conn: _places.place_summary(conn, geonameid))

    def stats(self) -> IndexStats:
        return self._read(_places.stats)

    def coverage(self) -> Coverage:
        """Sources and date span in one aggregate query (not the base class's pass over every hit)."""
        return self._read(_places.coverage)

    def generation(self) -> Hashable:
        def read(conn: psycopg.Connection) -> int:
            row = conn.execute(f"SELECT generation FROM {SCHEMA}.meta").fetchone()
            return row[0] if row else 0

        try:
            return self.connections.run_read(read)
        except pg_errors.UndefinedTable:
            return -1

    def close(self) -> None:
        self.connections.close()

    def __del__(self) -> None:
        # Close the pools from the thread dropping the store: left to the garbage collector, a
        # pool may be finalized in one of its own worker threads, which cannot join itself.
        connections = getattr(self, "connections", None)
        if connections is not None:
            try:
                connections.close()
            except Exception:  # noqa: BLE001 - interpreter shutdown: nothing left to release
                pass
