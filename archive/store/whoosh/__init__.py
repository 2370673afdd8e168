"""The Whoosh store: an archive in one folder, no server needed (the default).

This package is the only place that imports ``whoosh``; :class:`WhooshStore` is its face
to the rest of the archive (see :mod:`archive.store.base`).
"""

from __future__ import annotations

import threading
from collections.abc import Hashable, Iterator
from pathlib import Path

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
from archive.store.whoosh import index as _index
from archive.store.whoosh import places as _places
from archive.store.whoosh import search as _search

#: One search at a time per process. A Whoosh search is Python and numpy on one core, and it
#: lets go of the interpreter lock hundreds of times (every zlib block, most numpy calls): with
#: a server's eight threads searching at once, each of those became a hand-over between threads
#: (about 1,800 futex calls per search), which cost more CPU than the search itself. Taken in
#: turn, searches use the same core as fast as before, and the threads still overlap everything
#: else (reading requests, writing pages). Streamed reads (iter_hits, iter_articles) do not take it.
_SEARCHING = threading.RLock()


class WhooshStore(Store):
    """An archive kept as a Whoosh index in ``path`` (created by the first writer)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.location = str(self.path)

    def writer(self, *, timeout: float = 0.0, procs: int = 1) -> StoreWriter:
        return _index.open_writer(self.path, timeout=timeout, procs=procs, multisegment=procs > 1)

    def search(self, request: SearchRequest) -> SearchPage:
        with _SEARCHING:
            return _search.search(self.path, request)

    def iter_hits(self, request: SearchRequest) -> Iterator[SearchHit]:
        return _search.iter_hits(self.path, request)

    def get_article(self, article_id: str) -> GeotaggedArticle | None:
        return _search.get_article(self.path, article_id)

    def iter_articles(self) -> Iterator[GeotaggedArticle]:
        return _search.iter_articles(self.path)

    def place_counts(self, request: SearchRequest, limit: int = 20000, top: int = 3) -> list[PlaceCount]:
        with _SEARCHING:
            return _places.place_counts(self.path, request, limit=limit, top=top)

    def place_summary(self, geonameid: int) -> PlaceSummary | None:
        with _SEARCHING:
            return _places.place_summary(self.path, geonameid)

    def stats(self) -> IndexStats:
        return _index.stats(self.path)

    def coverage(self) -> Coverage:
        from archive.store.whoosh.coverage import coverage

        return coverage(self.path)

    def generation(self) -> Hashable:
        return _index.generation(self.path)

    def __repr__(self) -> str:
        return f"WhooshStore({self.location!r})"
