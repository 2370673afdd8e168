"""Small per-app caches for maps and result pages, invalidated whenever the index changes.

Counting the places of the whole archive takes a good part of a second on a real
corpus, and /map and /api/places ask for the same few searches again and again; a
newsroom asks the search page and the API for the same popular queries too (like a
search engine's query-result cache).
Entries are keyed by the index's table-of-contents files (rewritten on every commit),
so a re-ingest is seen at the next request.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import TypeVar

from flask import current_app

T = TypeVar("T")

#: Map entries kept per app by default (MAP_CACHE_SIZE); a whole-archive map of 20,000
#: places is a few MB, a search's map a few tens of KB.
SIZE = 256


class MapCache:
    """A thread-safe LRU of computed values, keyed by the index's state and a request key."""

    def __init__(self, size: int = SIZE):
        self.size = size
        self._items: OrderedDict[Hashable, object] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_compute(self, generation: Hashable, key: Hashable, compute: Callable[[], T]) -> T:
        full = (generation, key)
        with self._lock:
            if full in self._items:
                self._items.move_to_end(full)
                return self._items[full]  # type: ignore[return-value]
        value = compute()  # outside the lock: two threads may compute the same entry once each
        with self._lock:
            self._items[full] = value
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return value


def cached(key: Hashable, compute: Callable[[], T]) -> T:
    """``compute()``, or its value from an earlier request on the same index."""
    config = current_app.config
    if not config.get("MAP_CACHE", True):
        return compute()
    cache = current_app.extensions.setdefault("geoarchive_map_cache", MapCache(config.get("MAP_CACHE_SIZE", SIZE)))
    return cache.get_or_compute(_generation(), key, compute)


def cached_result(key: Hashable, compute: Callable[[], T]) -> T:
    """Like :func:`cached`, for search result pages: ``SEARCH_CACHE_SIZE`` entries (0 = off)."""
    config = current_app.config
    size = int(config.get("SEARCH_CACHE_SIZE", 0) or 0)
    if size <= 0:
        return compute()
    cache = current_app.extensions.setdefault("geoarchive_search_cache", MapCache(size))
    return cache.get_or_compute(_generation(), key, compute)


def _generation() -> Hashable:
    """The archive's current generation: every commit to it empties both caches."""
    from web import archive_store

    return archive_store(current_app).generation()
