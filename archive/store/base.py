"""The Store interface: what every engine (Whoosh, PostgreSQL) answers.

The pipeline writes through a :class:`StoreWriter`; the web app and the CLI read through a
:class:`Store`. Both take and return only the dataclasses of :mod:`archive.models`, so no
engine type (a Whoosh hit, a psycopg row) ever leaves the engine's sub-package.

Open one with :func:`archive.store.open_store` (a path means Whoosh, a ``postgresql://``
URL means PostgreSQL).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Hashable, Iterator
from types import TracebackType

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

#: id -> (origin, content hash) of every stored article: what incremental ingest compares against.
Known = dict[str, tuple[str | None, str]]


class StoreWriter(ABC):
    """Adds, replaces and deletes articles in batches; :meth:`commit` makes a batch durable.

    A context manager: leaving the block normally commits what is left; leaving it on an
    error drops the batch in flight and keeps every batch committed before it.
    """

    #: Articles per commit when the caller does not say (None: archive.pipeline.DEFAULT_BATCH).
    default_batch: int | None = None

    @abstractmethod
    def known(self) -> Known:
        """id -> (origin, content hash) of every committed article."""

    @abstractmethod
    def add(self, ga: GeotaggedArticle) -> None:
        """Add one article, or replace the stored article with the same id."""

    @abstractmethod
    def delete(self, article_id: str) -> None:
        """Delete an article by id (takes effect at the next commit)."""

    @abstractmethod
    def commit(self) -> None:
        """Durably commit everything written since the last commit."""

    def commit_later(self) -> None:
        """Start committing everything written since the last commit, and return.

        For engines whose server does the writing (PostgreSQL), the caller goes on (reading and
        geotagging the next batch) while the batch is written; the next ``commit_later``,
        :meth:`commit` or :meth:`close` first waits for it and raises its error, if any. So at
        most two batches are in flight. The default commits at once.
        """
        self.commit()

    @abstractmethod
    def close(self) -> None:
        """Commit what is left and release the store."""

    @abstractmethod
    def cancel(self) -> None:
        """Drop what was written since the last commit and release the store."""

    def __enter__(self) -> StoreWriter:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if exc_type is None or exc_type is KeyboardInterrupt:
            self.close()
        else:
            self.cancel()


class Store(ABC):
    """One archive: its articles, their place mentions, and search over both."""

    #: Where the archive is, safe to print (a path, or a URL without its password).
    location: str

    # -- writing --------------------------------------------------------------
    @abstractmethod
    def writer(self, *, timeout: float = 0.0, procs: int = 1) -> StoreWriter:
        """A writer; waits up to ``timeout`` s for another writer where the engine has only one.

        ``procs`` is a hint for engines that can index on several processes (Whoosh).
        Raises IndexLockedError when the store stays busy past the timeout.
        """

    def add(self, articles: list[GeotaggedArticle]) -> int:
        """Store ``articles`` (replacing same ids) in one commit; return how many were written."""
        with self.writer() as w:
            for ga in articles:
                w.add(ga)
        return len(articles)

    # -- reading --------------------------------------------------------------
    @abstractmethod
    def search(self, request: SearchRequest) -> SearchPage:
        """One page of ranked hits with snippets, facets over the whole result set, and a suggestion.

        Raises QueryError (with ``param``) for a query the engine cannot run,
        IndexNotFoundError when there is no archive at :attr:`location`.
        """

    @abstractmethod
    def iter_hits(self, request: SearchRequest) -> Iterator[SearchHit]:
        """Every hit of ``request`` (not one page), in its order, without snippets; streamed.

        For exports: memory stays flat however many articles match.
        """

    @abstractmethod
    def get_article(self, article_id: str) -> GeotaggedArticle | None:
        """One stored article with its mentions, or None."""

    @abstractmethod
    def iter_articles(self) -> Iterator[GeotaggedArticle]:
        """Every stored article with its mentions, streamed in an engine-defined order.

        For copying an archive to another store (``geoarchive copy``): memory stays flat.
        """

    @abstractmethod
    def place_counts(self, request: SearchRequest, limit: int = 20000, top: int = 3) -> list[PlaceCount]:
        """The places named by the request's hits, busiest first, each with up to ``top`` articles."""

    @abstractmethod
    def place_summary(self, geonameid: int) -> PlaceSummary | None:
        """What the place page shows about one place across the archive, or None."""

    @abstractmethod
    def stats(self) -> IndexStats:
        """Numbers of articles, distinct places and mentions, and the store's size in bytes."""

    def coverage(self) -> Coverage:
        """The archive's sources (with article counts) and the dates of its oldest and newest article.

        This default reads every article through :meth:`iter_hits` (correct, O(articles));
        engines override it with an aggregate (the Whoosh store counts its facet columns).
        """
        sources: dict[str, int] = {}
        first = last = None
        undated = 0
        for hit in self.iter_hits(SearchRequest(sort="newest")):
            if hit.source:
                sources[hit.source] = sources.get(hit.source, 0) + 1
            if hit.date is None:
                undated += 1
                continue
            first = hit.date if first is None or hit.date < first else first
            last = hit.date if last is None or hit.date > last else last
        ranked = tuple(sorted(sources.items(), key=lambda kv: (-kv[1], kv[0])))
        return Coverage(sources=ranked, first=first, last=last, undated=undated)

    @abstractmethod
    def generation(self) -> Hashable:
        """A value that changes whenever a commit lands: caches of results key on it."""

    def close(self) -> None:  # noqa: B027 - optional: stores without connections have nothing to release
        """Release connections and open files (the store may be used again after)."""
