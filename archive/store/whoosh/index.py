"""The Whoosh index: schema, writing GeotaggedArticles, and opening it for search.

Only this module and ``search.py`` import Whoosh; everything leaving them is a plain
value from ``models.py``.

Besides the text fields, every article carries its places in several forms so that
search can answer place questions from the index alone:

* ``pid``: GeoNames ids (filters, place facet, map counts);
* ``pinfo``: one term per place, ``gid|name|lat|lon|cc|feature|population`` (the place
  table, read back from the lexicon);
* ``pspell``: ``gid|surface`` (spellings seen and how many articles used each);
* ``place``: the place names and spellings, folded to ASCII (``place:`` queries, did-you-mean);
* ``geo``: a geohash per place (bbox and radius filters by prefix lookup);
* ``pcent``: ``gid|NNN``, how central each place is to the article in percent
  (``archive.store.centrality``): ``about=`` filters and place ranking.

Title and text keep every word, stop words included ("to be or not to be", "The Who"), with
positions, so phrases match exactly (schema 2). An index written with schema 1 (stop words
dropped, no ``pcent``) is refused with :class:`IndexSchemaError` naming the rebuild command.
"""

from __future__ import annotations

import fcntl
import logging
import os
import socket
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from io import BytesIO
from pathlib import Path

import numpy as np
from whoosh import columns, fields, index
from whoosh.analysis import Filter, LowercaseFilter, RegexTokenizer, StemmingAnalyzer, StopFilter
from whoosh.filedb.filestore import FileStorage
from whoosh.filedb.structfile import BufferFile
from whoosh.index import EmptyIndexError, LockError

from archive.errors import IndexLockedError, IndexNotFoundError, IndexSchemaError
from archive.models import GeotaggedArticle, IndexStats
from archive.store.base import StoreWriter
from archive.store.stored import content_hash, fold, to_document

__all__ = ["IndexWriter", "add_articles", "content_hash", "open_writer", "stats"]

log = logging.getLogger(__name__)

_LOCKNAME = "GEOARCHIVE.lock"


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


class FoldFilter(Filter):
    """Fold a token to lower-case ASCII letters and digits (A'zaz, I‘zāz -> azaz, izaz)."""

    def __call__(self, tokens):
        for t in tokens:
            t.text = fold(t.text)
            if t.text:
                yield t


def place_analyzer():
    """Words of place names: apostrophes kept inside words, folded to ASCII, stop words dropped."""
    return RegexTokenizer(r"\w+(?:['‘’`]\w+)*") | LowercaseFilter() | FoldFilter() | StopFilter()


def _terms_field() -> fields.KEYWORD:
    """A field that indexes SEP-separated values verbatim (one term each, no scoring)."""
    f = fields.KEYWORD(scorable=False)
    f.analyzer = RegexTokenizer(r"[^\x1f]+")
    return f


#: Present (as an empty stored field) in every index with schema 2; schema 1 indexes lack it.
SCHEMA_MARK = "schema_2"
_OLD_SCHEMA_MSG = (
    "The index in {dir!r} was built by an older GeoArchive (index schema 1: stop words were not indexed "
    "and places have no centrality), so phrases and place ranking would be wrong. Rebuild it from your "
    "files into a new folder: geoarchive ingest --index {new} <your files>; then use --index {new} "
    "(or move it in place of {dir!r})."
)


def make_schema() -> fields.Schema:
    """The archive's Whoosh schema (schema 2)."""
    # No stop list: every word is indexed with its position, so "The Who" and "to be or not to
    # be" can be found and phrases match exactly. Queries drop stop words outside quotes
    # (search.py), as Lucene's common-terms handling does, so they do not sway ranking. Only the
    # possessive "s" that the tokenizer splits off "Trump's" is dropped (positions renumbered, as
    # Lucene's EnglishPossessiveFilter does): "Trump's" finds Trump, and "Trump administration"
    # finds "Trump's administration".
    stem = StemmingAnalyzer(stoplist=frozenset({"s"}), minsize=1)
    return fields.Schema(
        id=fields.ID(unique=True, stored=True, sortable=True),
        title=fields.TEXT(analyzer=stem, stored=True, field_boost=2.0, spelling=True),
        text=fields.TEXT(analyzer=stem, stored=True),
        place=fields.TEXT(analyzer=place_analyzer()),
        country=fields.KEYWORD(lowercase=True, scorable=False),
        source=fields.TEXT(analyzer=stem),
        src=_terms_field(),  # exact source name: filter and facet
        year=fields.ID(),
        date=fields.DATETIME(),
        sort_old=fields.COLUMN(columns.NumericColumn("i", default=2**31 - 1)),
        sort_new=fields.COLUMN(columns.NumericColumn("i", default=0)),
        places=fields.KEYWORD(lowercase=True, scorable=False),  # Reuters PLACES tags, if any
        pid=fields.KEYWORD(scorable=False),
        pinfo=_terms_field(),
        pspell=_terms_field(),
        geo=fields.KEYWORD(scorable=False),
        ctitle=fields.COLUMN(columns.VarBytesColumn()),
        origin=fields.COLUMN(columns.VarBytesColumn()),
        chash=fields.COLUMN(columns.VarBytesColumn()),
        nmentions=fields.COLUMN(columns.NumericColumn("I", default=0)),
        meta=fields.STORED(),  # date, url, source, author, origin
        m=fields.STORED(),  # mentions: (field, start, end, surface, gid, score)
        pl=fields.STORED(),  # places, most central first: (gid, name, lat, lon, cc, feature, population)
        pcent=_terms_field(),
        **{SCHEMA_MARK: fields.STORED()},
    )


def check_schema(ix, index_dir: Path):
    """Return the Whoosh index ``ix`` if this version can read it, else raise IndexSchemaError."""
    if SCHEMA_MARK not in ix.schema.names():
        ix.close()
        folder = str(index_dir).rstrip("/")
        raise IndexSchemaError(_OLD_SCHEMA_MSG.format(dir=f"{folder}/", new=f"{folder}-v2"))
    return ix


def term_ids(reader, fieldname: str, btext: bytes) -> np.ndarray:
    """Docnums (deleted ones included) of a term in one segment reader, as a numpy array.

    Reads Whoosh's posting blocks directly (a pickled tuple of delta-encoded ids each) instead
    of stepping a matcher one id at a time (1.3-3x faster here; more where there are no positions).
    """
    if (fieldname, btext) not in reader:
        return np.zeros(0, dtype=np.int64)
    m = reader.postings(fieldname, btext)
    while hasattr(m, "child"):  # FilterMatcher wraps segments with deletions
        m = m.child
    if not (hasattr(m, "_read_data") and hasattr(m, "_next_block") and not getattr(m, "_byteids", True)):
        return np.fromiter(m.all_ids(), dtype=np.int64)  # inlined short lists and other codecs
    chunks = []
    while m.is_active():
        if m._data is None:
            m._read_data()
        deltas = m._data[0]
        chunks.append(np.cumsum(np.fromiter(deltas, dtype=np.int64, count=len(deltas))))
        m._next_block()
    return np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.int64)


def open_index(index_dir: Path):
    """Open an existing index or raise IndexNotFoundError (returns a Whoosh index; internal)."""
    index_dir = Path(index_dir)
    try:
        if not index_dir.is_dir():
            raise EmptyIndexError
        return check_schema(FileStorage(str(index_dir)).open_index(), index_dir)
    except EmptyIndexError:
        raise IndexNotFoundError(_MISSING_MSG.format(dir=f"{index_dir}/")) from None


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
        if index.exists_in(str(self.index_dir)):
            self._ix = check_schema(storage.open_index(), self.index_dir)  # never mix schemas in one index
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
        self.derived: dict = {}  # per-generation data computed by search.py (place tables ...)
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
    """A searcher borrowed from the shelf plus the shelf's caches (internal to index/search)."""

    def __init__(self, shelf: _Shelf, searcher):
        self.searcher = searcher
        self.derived = shelf.derived
        self.segments = shelf.segments
        self.build_lock = shelf.build_lock


@contextmanager
def searching(index_dir: Path) -> Iterator[Lease]:
    """Borrow an up-to-date searcher of the index (internal to index.py and search.py)."""
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
