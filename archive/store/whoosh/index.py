"""The Whoosh index's writing side: the writer (lock, batches), stats and generation.

The schema is in ``schema.py``, opening the index for search in ``shelf.py``. Only this
package imports Whoosh; everything leaving it is a plain value from ``models.py``.
"""

from __future__ import annotations

import fcntl
import logging
import os
import socket
import time
from collections.abc import Iterable
from pathlib import Path

from whoosh.filedb.filestore import FileStorage
from whoosh.index import LockError

from archive.errors import IndexLockedError
from archive.models import GeotaggedArticle, IndexStats
from archive.store.base import StoreWriter
from archive.store.stored import content_hash, to_document
from archive.store.whoosh.schema import FoldFilter, make_schema, open_checked  # noqa: F401 (FoldFilter: see schema.py)
from archive.store.whoosh.shelf import open_index

__all__ = ["IndexWriter", "add_articles", "content_hash", "open_writer", "stats"]

log = logging.getLogger(__name__)

_LOCKNAME = "GEOARCHIVE.lock"


class IndexWriter(StoreWriter):
    """Writes GeotaggedArticles in batches; use :func:`open_writer` to get one.

    Holds an exclusive lock file for its whole life, so batches from one ingest are
    never interleaved with another's. Each :meth:`commit` makes everything added so far
    durable; closing commits what is left.
    """

    def __init__(self, index_dir: Path, lock_fd: int, procs: int = 1, multisegment: bool = False,
                 limitmb: int = 256):
        self.index_dir = Path(index_dir)
        self._lock_fd = lock_fd
        self._procs = procs
        self._multisegment = multisegment
        self._limitmb = limitmb
        storage = FileStorage(str(self.index_dir))
        # Any table of contents means an index is there (whoosh's exists_in would unpickle it
        # unguarded); open_checked refuses an older one, so schemas never mix in one index.
        if any(self.index_dir.glob("_MAIN_*.toc")):
            self._ix = open_checked(storage, self.index_dir)
        else:
            self._ix = storage.create_index(make_schema())
        self._writer = None
        self._pending = 0
        self._batch_ids: set[str] = set()
        self._committed_ids: set[str] | None = None  # ids in the committed index, loaded on first add
        self.committed = 0

    def _w(self):
        if self._writer is None:
            kwargs = {"limitmb": self._limitmb}
            if self._procs > 1:
                kwargs.update(procs=self._procs, multisegment=self._multisegment)
            try:
                self._writer = self._ix.writer(timeout=5.0, **kwargs)
            except LockError:
                raise IndexLockedError(
                    f"Index {str(self.index_dir)!r} is locked by another Whoosh writer."
                ) from None
        return self._writer

    def add(self, ga: GeotaggedArticle) -> None:
        """Add or replace (by id) one article."""
        if ga.article.id in self._batch_ids:
            # Whoosh only replaces documents of committed segments, so a second copy of an id
            # within one batch would be kept twice: commit the first one before replacing it.
            self.commit()
        if self._committed_ids is None:
            self.known()
        assert self._committed_ids is not None  # known() fills it
        if ga.article.id in self._committed_ids:
            self._w().update_document(**to_document(ga))
        else:
            # Known to be new: skip update_document's look-up of the id in every segment.
            self._w().add_document(**to_document(ga))
        self._batch_ids.add(ga.article.id)
        self._pending += 1

    def delete(self, article_id: str) -> None:
        """Delete an article by id (takes effect at the next commit)."""
        if article_id in self._batch_ids:
            self.commit()  # as in add(): Whoosh cannot delete a document of the batch in flight
        self._w().delete_by_term("id", article_id)
        if self._committed_ids is not None:
            self._committed_ids.discard(article_id)
        self._pending += 1

    def commit(self) -> None:
        """Durably commit what was added since the last commit, then carry on writing."""
        if self._writer is not None:
            self._writer.commit()
            self._writer = None
            self.committed += self._pending
            self._pending = 0
            if self._committed_ids is not None:
                self._committed_ids |= self._batch_ids
            self._batch_ids.clear()

    def known(self) -> dict[str, tuple[str | None, str]]:
        """Return id -> (origin, content hash) for every committed article."""
        out: dict[str, tuple[str | None, str]] = {}
        with self._ix.reader() as reader:
            for sub, _offset in reader.leaf_readers():
                if not sub.doc_count():
                    continue
                ids = sub.column_reader("id", translate=True)
                origins = sub.column_reader("origin")
                hashes = sub.column_reader("chash")
                for docnum in sub.all_doc_ids():
                    origin = origins[docnum].decode("utf-8") or None
                    out[ids[docnum]] = (origin, hashes[docnum].decode("ascii"))
        self._committed_ids = set(out)
        return out

    def close(self) -> None:
        """Commit what is left and release the lock."""
        try:
            self.commit()
            if self._multisegment:
                # Multisegment batches leave many small segments behind; merge them once at the end.
                w = self._ix.writer(timeout=5.0)
                w.commit(merge=True)
        finally:
            self._release()

    def cancel(self) -> None:
        """Drop uncommitted changes and release the lock."""
        try:
            if self._writer is not None:
                self._writer.cancel()
                self._writer = None
        finally:
            self._release()

    def _release(self) -> None:
        if self._lock_fd >= 0:
            os.close(self._lock_fd)  # closing the descriptor drops the flock
            self._lock_fd = -1


def open_writer(index_dir: Path, *, timeout: float = 0.0, procs: int = 1, multisegment: bool = False,
                limitmb: int = 256) -> IndexWriter:
    """Open the index at ``index_dir`` for writing, creating it if missing.

    :param timeout: seconds to wait for another writer to finish before raising IndexLockedError.
    :param procs: Whoosh writer processes. With 1, indexing runs in the calling thread (here
        ~250-320 long articles/s when it has a core to itself). With 2, the caller only queues
        documents (its CPU use drops ~15x, which helps when it also feeds a geotagging pool),
        but every commit starts and joins the processes again: use it with large batches.
    :param multisegment: with ``procs > 1``, let each process write its own segment instead of
        merging at every commit (the small segments are merged once when the writer closes).
    :param limitmb: memory per writer process for sorting postings.
    """
    index_dir = Path(index_dir)
    index_dir.mkdir(parents=True, exist_ok=True)
    lock_path = index_dir / _LOCKNAME
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    deadline = time.monotonic() + max(0.0, timeout)
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if time.monotonic() >= deadline:
                holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip() or "another process"
                os.close(fd)
                raise IndexLockedError(
                    f"Index {str(index_dir)!r} is being written by {holder}; waited {timeout:g} s. "
                    "Try again when that ingest has finished, or pass a longer lock timeout."
                ) from None
            time.sleep(min(0.1, max(0.0, deadline - time.monotonic())))
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"pid {os.getpid()} on {socket.gethostname()}".encode(), 0)
    try:
        return IndexWriter(index_dir, fd, procs=procs, multisegment=multisegment, limitmb=limitmb)
    except BaseException:
        os.close(fd)
        raise


def add_articles(index_dir: Path, articles: Iterable[GeotaggedArticle]) -> int:
    """Index articles (replacing same ids) in one commit; return how many were written."""
    n = 0
    with open_writer(index_dir) as w:
        for ga in articles:
            w.add(ga)
            n += 1
    return n


def stats(index_dir: Path) -> IndexStats:
    """Numbers of articles, distinct places and mentions, and the index size in bytes."""
    ix = open_index(index_dir)
    try:
        with ix.reader() as reader:
            articles = reader.doc_count()
            places = 0
            for _term, info in reader.iter_field("pid"):
                places += 1 if info.doc_frequency() else 0
            mentions = 0
            for sub, _offset in reader.leaf_readers():
                if sub.doc_count():
                    col = sub.column_reader("nmentions")
                    mentions += sum(col[d] for d in sub.all_doc_ids())
    finally:
        ix.close()
    size = sum(p.stat().st_size for p in Path(index_dir).iterdir() if p.is_file())
    return IndexStats(articles=articles, places=places, mentions=mentions, bytes=size)


def generation(index_dir: Path) -> tuple:
    """What changes when the index is written: its TOC files' names, sizes and times."""
    try:
        with os.scandir(index_dir) as entries:
            return tuple(
                sorted((e.name, e.stat().st_mtime_ns, e.stat().st_size) for e in entries if e.name.endswith(".toc"))
            )
    except OSError:
        return ()

