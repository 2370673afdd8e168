"""Opening the Whoosh index for reading, and its searchers reused across calls and threads.

:func:`searching` lends an up-to-date searcher plus caches that live as long as the index
generation (``Lease.derived``) or the segment (``Lease.segments``); the search modules build
their tables there.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from io import BytesIO
from pathlib import Path

from whoosh.filedb.filestore import FileStorage
from whoosh.filedb.structfile import BufferFile
from whoosh.index import EmptyIndexError

from archive.errors import IndexNotFoundError
from archive.store.whoosh.schema import open_checked


def _buffer_files_without_copies() -> None:
    """Stop Whoosh copying every memory-mapped file it opens (a fix to whoosh 2.7's BufferFile).

    ``BufferFile.__init__`` wraps the mmap slice in ``BytesIO(buf)``, which copies it: each new
    searcher copied each column file it read, ~430 MB for the 50,000-article corpus, so a
    server's eight threads held ~7 GB and a new searcher cost ~0.5 s of CPU. Reads by position
    use the slice itself; the BytesIO only serves seek/read, so it is now made on first use.
    """
    if getattr(BufferFile, "_lazy_bytesio", False):
        return

    def __init__(self, buf, name=None, onclose=None):
        self._buf, self._name, self.onclose = buf, name, onclose
        self.is_real = self.is_closed = False

    def get_file(self):
        if "_bytesio" not in self.__dict__:
            self.__dict__["_bytesio"] = BytesIO(self._buf)
        return self.__dict__["_bytesio"]

    def set_file(self, value):
        self.__dict__["_bytesio"] = value

    def close(self):
        if self.is_closed:
            raise ValueError(f"{self._name!r} is already closed")
        if self.onclose:
            self.onclose(self)
        if "_bytesio" in self.__dict__:
            self.__dict__["_bytesio"].close()
        self.is_closed = True

    BufferFile.__init__ = __init__
    BufferFile.file = property(get_file, set_file)
    BufferFile.close = close
    BufferFile.flush = lambda self: None  # read-only: nothing to flush
    BufferFile._lazy_bytesio = True


_buffer_files_without_copies()
_MISSING_MSG = "No search index in {dir!r}. Build one with: geoarchive ingest seeds/"


def open_index(index_dir: Path):
    """Open an existing index or raise IndexNotFoundError (returns a Whoosh index; internal)."""
    index_dir = Path(index_dir)
    try:
        if not index_dir.is_dir():
            raise EmptyIndexError
        return open_checked(FileStorage(str(index_dir)), index_dir)
    except EmptyIndexError:
        raise IndexNotFoundError(_MISSING_MSG.format(dir=f"{index_dir}/")) from None


class _Shelf:
    """Open searchers of one index, reused across calls and threads (one searcher per thread at a time).

    Whoosh searchers hold open files and are not safe to share between threads, so each
    call leases one; a new index generation (another commit) retires the old ones.
    """

    def __init__(self, index_dir: Path):
        self.index_dir = index_dir
        self.lock = threading.Lock()
        self.build_lock = threading.RLock()
        self.ix = None
        self.generation = None
        self.idle: list = []
        self.derived: dict = {}  # per-generation data computed by parsing.py (place tables ...)
        self.segments: dict = {}  # per-segment data (facet arrays), kept while the segment lives

    def lease(self):
        with self.lock:
            if self.ix is None:
                self.ix = open_index(self.index_dir)
            latest = self.ix.latest_generation()
            if latest < 0:
                self._retire()
                self.ix = None
                raise IndexNotFoundError(_MISSING_MSG.format(dir=f"{self.index_dir}/"))
            if latest != self.generation:
                self._retire()
                self.generation = latest
                self.derived = {}
            if self.idle:
                return self.idle.pop(), self.generation
            generation = self.generation
        try:
            return self.ix.searcher(), generation
        except EmptyIndexError:
            raise IndexNotFoundError(_MISSING_MSG.format(dir=f"{self.index_dir}/")) from None

    def give_back(self, searcher, generation) -> None:
        with self.lock:
            if generation == self.generation and searcher.up_to_date() and len(self.idle) < 8:
                self.idle.append(searcher)
                return
        searcher.close()

    def _retire(self) -> None:
        for s in self.idle:
            s.close()
        self.idle = []


_SHELVES: dict[str, _Shelf] = {}
_SHELVES_LOCK = threading.Lock()


class Lease:
    """A searcher borrowed from the shelf plus the shelf's caches (internal to the whoosh package)."""

    def __init__(self, shelf: _Shelf, searcher):
        self.searcher = searcher
        self.derived = shelf.derived
        self.segments = shelf.segments
        self.build_lock = shelf.build_lock


@contextmanager
def searching(index_dir: Path) -> Iterator[Lease]:
    """Borrow an up-to-date searcher of the index (internal to the whoosh package)."""
    key = os.path.realpath(index_dir)
    with _SHELVES_LOCK:
        shelf = _SHELVES.get(key)
        if shelf is None:
            shelf = _SHELVES[key] = _Shelf(Path(index_dir))
    searcher, generation = shelf.lease()
    try:
        yield Lease(shelf, searcher)
    finally:
        shelf.give_back(searcher, generation)
