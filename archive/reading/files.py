"""Files and folders -> ``Article`` objects, one reader per format.

Public API (the pipeline's entry points)::

    iter_files(paths) -> Iterator[Path]
    read_file(path, *, max_bytes=10_000_000, on_skip=None, on_warning=None) -> Iterator[Article]
    load_articles(paths, *, max_bytes=..., on_skip=None, on_warning=None) -> Iterator[Article]
    dedupe_key(article) -> str        (and dedupe_keys(article) -> tuple[str, ...])

Formats: ``.txt`` plain text, ``.jsonl``/``.ndjson`` JSON Lines, ``.csv`` with a
header, ``.html``/``.htm`` pages, ``.rss``/``.atom``/``.xml`` feeds,
``.warc``/``.arc`` web archives, and any of them gzip-compressed (``.gz``).  The
extension picks the reader, but the first bytes win when they clearly say
otherwise (gzip magic, ``WARC/``, an ``<rss>``/``<feed>`` or ``<html>`` root, a
JSON object), so a mislabelled file is still read.

Where things live: this module finds files, detects formats and enforces the
contract below; ``archive.reading.textformats`` reads txt/JSONL/CSV,
``archive.reading.webformats`` reads HTML/feeds/WARC, and ``archive.reading.records`` holds
what all readers share (decoding, text cleaning and the noise-line pattern,
ids, dates, dedupe keys).

Contract:

* Reading never raises for bad input.  A file or record that cannot be used is
  reported once through ``on_skip(Skipped(path, reason, line))`` and reading
  goes on with the next record or file.  ``on_skip=None`` logs a warning.
* Problems that do not lose the article (an unparseable date, a non-UTF-8
  JSONL line) go to ``on_warning(message)``, a ``str`` of the form
  ``"path:line: what happened; what to do"`` (``IngestReport.warnings`` holds
  them).  ``on_warning=None`` logs them.
* ``Article.origin`` is ``str(path)`` of the file the article came from, for
  every record of multi-record files too, so ``--prune`` can tell which
  articles a vanished file held.  A WARC record's URL is in ``Article.url``.
* Ids: see ``archive.reading.records``.  Dates are ``datetime.date`` or ``None``.
* ``max_bytes`` limits one article (a whole ``.txt``/``.html`` file, one JSONL
  line, one CSV row, one WARC record); larger input is skipped without being
  read into memory.
"""

from __future__ import annotations

import functools
import gzip
import importlib
import io
import json
import logging
import os
import stat
import zlib
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, cast

from archive.errors import ArticleFormatError
from archive.models import Article, Skipped
from archive.reading.records import WarningHandler, dedupe_key, dedupe_keys

# dedupe_key/dedupe_keys live with the id rules in records.py; re-exported for the pipeline.
__all__ = ["dedupe_key", "dedupe_keys", "iter_files", "load_articles", "read_file", "SUPPORTED"]

log = logging.getLogger(__name__)

SkipHandler = Callable[[Skipped], None]
DEFAULT_MAX_BYTES = 10_000_000

#: Extension (after removing ``.gz``) -> reader kind.
SUPPORTED = {
    ".txt": "txt",
    ".text": "txt",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".csv": "csv",
    ".html": "html",
    ".htm": "html",
    ".xhtml": "html",
    ".rss": "feed",
    ".atom": "feed",
    ".xml": "feed",
    ".warc": "warc",
    ".arc": "warc",
}
_GZIP_MAGIC = b"\x1f\x8b"
_COMPRESSED_SUFFIXES = (".gz", ".gzip")


def iter_files(paths: Iterable[Path]) -> Iterator[Path]:
    """Yield every file under ``paths``: files as given, folders recursively in sorted order.

    Hidden files and folders (names starting with ``.``) inside folders are
    skipped.  Symlinked folders are followed once: a folder already visited (same
    device and inode) is not entered again, so symlink loops end.  A path that does
    not exist is yielded as is, so that ``read_file`` reports it.
    """
    seen_dirs: set[tuple[int, int]] = set()
    for p in paths:
        p = Path(p)
        if p.is_dir():
            yield from _walk(p, seen_dirs)
        else:
            yield p


def _walk(folder: Path, seen: set[tuple[int, int]]) -> Iterator[Path]:
    try:
        st = folder.stat()
    except OSError:
        return
    key = (st.st_dev, st.st_ino)
    if key in seen:
        return
    seen.add(key)
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError:
        yield folder  # read_file reports it, so the summary names the folder it could not list
        return
    for entry in entries:
        if entry.name.startswith("."):
            continue
        path = Path(entry.path)
        try:
            is_dir = entry.is_dir()  # follows symlinks; loops are stopped by `seen`
        except OSError:
            is_dir = False
        if is_dir:
            yield from _walk(path, seen)
        else:
            yield path


def load_articles(
    paths: Iterable[Path],
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    on_skip: SkipHandler | None = None,
    on_warning: WarningHandler | None = None,
) -> Iterator[Article]:
    """Read every article in ``paths`` (files or folders): ``iter_files`` + ``read_file``."""
    for path in iter_files(paths):
        yield from read_file(path, max_bytes=max_bytes, on_skip=on_skip, on_warning=on_warning)


def read_file(
    path: Path,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    on_skip: SkipHandler | None = None,
    on_warning: WarningHandler | None = None,
) -> Iterator[Article]:
    """Yield the articles in one file; report what cannot be read through ``on_skip``.

    See the module docstring for formats, ``origin``, ids and the callbacks.
    """
    path = Path(path)
    skip = on_skip or _log_skip
    warn = on_warning or _log_warning
    try:
        kind, compressed = detect_kind(path)
    except OSError as e:
        reason = f"cannot open ({e.strerror or e}); check that it exists and is readable"
        skip(Skipped(str(path), reason))
        return
    except ArticleFormatError as e:
        skip(Skipped(str(path), str(e)))
        return
    if kind is None:
        exts = ", ".join(sorted(SUPPORTED))
        ext = path.suffix or "(none)"
        skip(Skipped(str(path), f"unsupported file type {ext!r}; supported: {exts} (and .gz)"))
        return
    reader, missing = _reader(kind)
    if reader is None:
        skip(Skipped(str(path), missing or f"the {kind} reader cannot be loaded"))
        return
    try:
        yield from reader(path, compressed, max_bytes, skip, warn)
    except ArticleFormatError as e:
        skip(Skipped(str(path), str(e)))
    except (OSError, EOFError, zlib.error) as e:
        # A truncated or corrupt gzip stream, or a file that vanished mid-read:
        # the articles already yielded stand, the rest of the file is reported.
        skip(Skipped(str(path), f"cannot read file ({e}); the articles before the damage were kept"))
    except Exception as e:  # noqa: BLE001 - a parser crash on one file must not stop the batch
        log.exception("%s: unexpected error while reading", path)
        reason = f"unexpected {type(e).__name__} while reading ({e}); the articles before it were kept"
        skip(Skipped(str(path), reason + " - please report this file"))


def _log_skip(s: Skipped) -> None:
    log.warning("skipped %s", s)


def _log_warning(message: str) -> None:
    log.warning("%s", message)


# --- format detection -------------------------------------------------------


def detect_kind(path: Path) -> tuple[str | None, bool]:
    """Return (reader kind or None, gzip-compressed?) from the name and the first bytes."""
    mode = path.stat().st_mode
    if stat.S_ISDIR(mode):
        with os.scandir(path):  # raises the OSError (e.g. permission denied) that read_file reports
            pass
        raise ArticleFormatError("a folder, not a file; read folders with load_articles() or iter_files()")
    if not stat.S_ISREG(mode):
        # Opening a FIFO would block forever; devices and sockets hold no articles.
        raise ArticleFormatError("not a regular file (a pipe, socket or device); nothing to read")
    with open(path, "rb") as f:
        head = f.read(4096)
    compressed = head.startswith(_GZIP_MAGIC)
    if compressed:
        try:
            head = gzip.GzipFile(fileobj=io.BytesIO(head)).read(2048)
        except (OSError, EOFError, zlib.error):
            head = head[:0]  # too little to decompress; trust the name
    name = path.name.lower()
    for suffix in _COMPRESSED_SUFFIXES:
        name = name.removesuffix(suffix)
    declared = SUPPORTED.get(os.path.splitext(name)[1])
    sniffed = sniff(head)
    if sniffed is None or sniffed == declared:
        return declared, compressed
    if sniffed == "jsonl" and declared not in (None, "txt"):
        return declared, compressed  # a CSV cell or a feed may start with "{"; trust the name
    return sniffed, compressed


def sniff(head: bytes) -> str | None:
    """Guess the reader kind from the first bytes of (decompressed) content, or None."""
    if head.startswith((b"WARC/", b"filedesc://")):
        return "warc"
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if start.startswith(b"{"):
        line = start.split(b"\n", 1)[0]
        try:
            return "jsonl" if isinstance(json.loads(line), dict) else None
        except ValueError:
            return None
    if not start.startswith(b"<"):
        return None
    root = _first_element(start)
    if root in (b"rss", b"feed", b"rdf:rdf"):
        return "feed"
    if root == b"html" or start.startswith(b"<!doctype html"):
        return "html"
    return None


def _first_element(start: bytes) -> bytes:
    i = 0
    while True:
        i = start.find(b"<", i)
        if i < 0 or i + 1 >= len(start):
            return b""
        if start[i + 1 : i + 2] in (b"?", b"!"):
            end = start.find(b">", i)
            if end < 0:
                return b""
            i = end + 1
            continue
        j = i + 1
        while j < len(start) and start[j : j + 1] not in b" \t\r\n>/":
            j += 1
        return start[i + 1 : j]


def open_binary(path: Path, compressed: bool) -> IO[bytes]:
    """Open ``path`` for reading bytes, decompressing gzip transparently."""
    if compressed:
        return cast(IO[bytes], gzip.open(path, "rb"))  # a GzipFile reads bytes like any binary file
    return open(path, "rb")


def read_limited(path: Path, compressed: bool, max_bytes: int) -> bytes | None:
    """The whole (decompressed) content, or None when it exceeds ``max_bytes``.

    An uncompressed file is checked by size before anything is read; a gzip
    file is read at most ``max_bytes + 1`` bytes.
    """
    if not compressed and path.stat().st_size > max_bytes:
        return None
    with open_binary(path, compressed) as f:
        data = f.read(max_bytes + 1)
    return None if len(data) > max_bytes else data


def too_large(max_bytes: int, what: str = "article") -> str:
    """The skip reason for input over the size limit."""
    return f"{what} is larger than the {max_bytes:,}-byte limit; split it or raise the size limit"


#: Reader kind -> (module, function, the third-party modules it needs). The modules are
#: imported when such a file first turns up; a format whose library cannot be imported is
#: skipped file by file with the package to install, and every other format is still read.
_READERS = {
    "txt": ("archive.reading.textformats", "read_txt", ()),
    "jsonl": ("archive.reading.textformats", "read_jsonl", ()),
    "csv": ("archive.reading.textformats", "read_csv", ()),
    "html": ("archive.reading.webformats", "read_html", ("trafilatura",)),
    "feed": ("archive.reading.webformats", "read_feed", ("feedparser",)),
    "warc": ("archive.reading.webformats", "read_warc", ("warcio", "trafilatura")),
}
_KIND_NAMES = {"txt": "text files", "jsonl": "JSON Lines files", "csv": "CSV files", "html": "HTML pages",
               "feed": "RSS/Atom feeds", "warc": "WARC/ARC archives"}
#: Import name -> the package pip installs it from (where they differ, or where the error names a module
#: another package needs: justext, used by trafilatura, needs lxml.html.clean = lxml_html_clean).
_PACKAGES = {"lxml_html_clean": "lxml_html_clean", "lxml.html.clean": "lxml_html_clean", "dateutil": "python-dateutil",
             "charset_normalizer": "charset-normalizer", "justext": "jusText"}


@functools.cache
def _reader(kind: str) -> tuple[Callable | None, str | None]:
    """(reader function, None), or (None, why it cannot run) when a library it needs fails to import.

    Remembered per process: a failed import is not retried for every file.
    """
    module, name, needs = _READERS[kind]
    try:
        for dependency in needs:
            importlib.import_module(dependency)
        return getattr(importlib.import_module(module), name), None
    except ImportError as e:
        log.debug("cannot load the %s reader", kind, exc_info=True)
        return None, _missing_reason(kind, e)


def _missing_reason(kind: str, error: ImportError) -> str:
    """One line: which format cannot be read, which package is missing, and the command that fixes it."""
    detail = " ".join(str(error).split()) or type(error).__name__
    missing = error.name or ""
    package = next((p for m, p in _PACKAGES.items() if m == missing or m in detail), None)
    package = package or (missing.split(".")[0] if missing else None)
    what = _KIND_NAMES.get(kind, kind)
    if package:
        return (f"cannot read {what}: the Python package {package!r} is missing or broken ({detail}); "
                f"install it with: pip install {package}")
    return f"cannot read {what}: a library it needs failed to import ({detail}); reinstall geoarchive"
