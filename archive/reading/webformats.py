"""Readers for web formats: HTML pages, RSS/Atom feeds and WARC/ARC web archives.

Called through ``archive.reading.files.read_file``; each reader has the signature
``(path, compressed, max_bytes, skip, warn) -> Iterator[Article]`` and follows the
contract in ``archive.reading.files``.  Only this module imports trafilatura, feedparser,
warcio and lxml. trafilatura, feedparser and warcio are imported by the readers that need
them (``files.py`` loads them first and skips a format whose library cannot be imported), so
a missing HTML extractor does not stop feeds from being read.

* HTML: trafilatura extracts the main text (navigation, footers and other
  boilerplate dropped) and the title, date, author, canonical URL and site name.
* Feeds: each entry is an article; its content (or else its summary) HTML is
  turned into text.  ``source`` is the feed's title.  A feed file may be at most
  ``FEED_FILE_FACTOR * max_bytes`` (feedparser needs the whole document); each
  entry is held to ``max_bytes``.
* WARC/ARC (plain or ``.warc.gz``): every successful (2xx) HTML response or
  resource record is extracted like an HTML page; ``url`` is the record's
  target URI.  ``date`` is the page's own publication date when it states one,
  else the capture date (``WARC-Date``).  Other records (requests, images,
  redirects, metadata) are not articles and are passed over silently.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import lxml.html
from lxml import etree

from archive.errors import ArticleFormatError
from archive.models import Article, Skipped
from archive.reading.files import SkipHandler, open_binary, read_limited, too_large
from archive.reading.records import (
    WarningHandler,
    clean_line,
    clean_text,
    date_or_warn,
    digest,
    make_id,
    title_from_text,
)

FEED_FILE_FACTOR = 10
_HTML_TYPES = ("text/html", "application/xhtml+xml")
_BLOCK_TAGS = frozenset(
    "p div br li ul ol h1 h2 h3 h4 h5 h6 blockquote pre table tr section article header footer figure".split()
)


# --- HTML pages -----------------------------------------------------------------


def read_html(path: Path, compressed: bool, max_bytes: int, skip: SkipHandler, warn: WarningHandler):
    """One article per HTML page, extracted with trafilatura."""
    data = read_limited(path, compressed, max_bytes)
    if data is None:
        skip(Skipped(str(path), too_large(max_bytes)))
        return
    if not data.strip():
        skip(Skipped(str(path), "empty file: no article text in it"))
        return
    article = extract_page(data, kind="html", origin=str(path), where=str(path), warn=warn)
    if article is None:
        skip(Skipped(str(path), "no article text found in the page (only navigation or boilerplate?)"))
        return
    yield article


def extract_page(
    data: bytes,
    *,
    kind: str,
    origin: str,
    where: str,
    warn: WarningHandler,
    url: str | None = None,
    fallback_date: dt.date | None = None,
) -> Article | None:
    """Main text and metadata of one HTML page as an Article, or None when it has no text.

    :param url: the address the page was fetched from (a WARC target URI); it wins
        over the page's canonical link.
    """
    import trafilatura  # loaded (or reported missing) by files.py before any HTML/WARC reader runs

    doc = trafilatura.bare_extraction(
        data,
        url=url,
        with_metadata=True,
        include_comments=False,
        include_tables=False,
        # Only dates the page states (meta tags, <time>, the URL): htmldate's extensive
        # search guesses from any year in the text, e.g. a footer's "Copyright 2016".
        date_extraction_params={"extensive_search": False, "original_date": True},
        as_dict=False,
    )
    if doc is None or isinstance(doc, dict) or not doc.text:  # as_dict=False: a Document, never a dict
        return None
    # trafilatura puts one paragraph per line; the archive separates paragraphs by a blank line.
    text = clean_text(doc.text.replace("\n", "\n\n"))
    title = clean_line(doc.title or "")
    if title and text.startswith(title):
        text = text[len(title) :].strip()
    if not title:
        title, text = title_from_text(text)
    if not text:
        return None
    page_url = url or doc.url or None
    date = date_or_warn(doc.date, where, warn) if doc.date else None
    return Article(
        id=make_id(kind, page_url, f"{title}\n{text}"),
        title=title,
        text=text,
        date=date or fallback_date,
        url=page_url,
        source=clean_line(doc.sitename or "") or None,
        author=clean_line(doc.author or "") or None,
        origin=origin,
    )


# --- RSS / Atom feeds -------------------------------------------------------------


def read_feed(path: Path, compressed: bool, max_bytes: int, skip: SkipHandler, warn: WarningHandler):
    """Each feed entry is an article; entry HTML becomes text."""
    origin = str(path)
    data = read_limited(path, compressed, max_bytes * FEED_FILE_FACTOR)
    if data is None:
        skip(Skipped(origin, too_large(max_bytes * FEED_FILE_FACTOR, "feed file")))
        return
    import feedparser

    parsed = feedparser.parse(data)
    if not parsed.entries:
        problem = f" ({parsed.bozo_exception})" if parsed.get("bozo") else ""
        what = "empty feed: no entries" if parsed.get("version") else "not an RSS or Atom feed"
        skip(Skipped(origin, f"{what}{problem}; nothing to read"))
        return
    if parsed.get("bozo"):
        warn(f"{origin}: feed is not well-formed ({parsed.bozo_exception}); read what feedparser recovered")
    source = clean_line(parsed.feed.get("title", "")) or None
    for n, entry in enumerate(parsed.entries, 1):
        try:
            article = _feed_entry(entry, n, origin, source, max_bytes, warn)
        except ArticleFormatError as e:
            skip(Skipped(origin, f"entry {n}: {e}"))
            continue
        yield article


def _feed_entry(entry, n: int, origin: str, source: str | None, max_bytes: int, warn: WarningHandler):
    contents = entry.get("content") or []
    body = max((c.get("value", "") for c in contents), key=len, default="") or entry.get("summary", "")
    if len(body.encode("utf-8", "surrogatepass")) > max_bytes:
        raise ArticleFormatError(too_large(max_bytes, "entry"))
    text = html_to_text(body)
    title = clean_line(html_to_text(entry.get("title", "")))
    if not text:
        text = title
    if not text:
        raise ArticleFormatError("has neither title nor text")
    if not title:
        title, text = title_from_text(text)
        text = text or title
    url = clean_line(entry.get("link", "")) or None
    guid = clean_line(entry.get("id", "") or "")
    # dict.get: FeedParserDict.get("updated*") falls back to "published*" with a DeprecationWarning.
    parsed_time = dict.get(entry, "published_parsed") or dict.get(entry, "updated_parsed")
    date: dt.date | None
    if parsed_time:
        date = dt.date(*parsed_time[:3])
    else:
        raw = dict.get(entry, "published") or dict.get(entry, "updated")
        date = date_or_warn(raw, f"{origin}: entry {n}", warn) if raw else None
    author = (entry.get("author_detail") or {}).get("name") or entry.get("author") or ""
    extra: dict[str, Any] = {}
    if guid:
        extra["guid"] = guid
    tags = [t.get("term") for t in entry.get("tags") or [] if t.get("term")]
    if tags:
        extra["tags"] = tags
    return Article(
        id=f"feed-{digest(guid)}" if guid else make_id("feed", url, f"{title}\n{text}"),
        title=title,
        text=text,
        date=date,
        url=url,
        source=source,
        author=clean_line(author) or None,
        origin=origin,
        extra=extra,
    )


def html_to_text(fragment: str) -> str:
    """Plain text of an HTML fragment: block elements become paragraphs, scripts are dropped."""
    if "<" not in fragment and "&" not in fragment:
        return clean_text(fragment)
    try:
        root = lxml.html.fragment_fromstring(fragment, create_parent="div")
    except (etree.ParserError, ValueError):
        return clean_text(fragment)
    for el in list(root.iter("script", "style", "noscript")):
        el.drop_tree()
    for el in root.iter():
        if el.tag == "br":
            el.tail = "\n" + (el.tail or "")
        elif el.tag in _BLOCK_TAGS:
            el.tail = "\n\n" + (el.tail or "")
            el.text = "\n\n" + (el.text or "")
    return clean_text(root.text_content())


# --- WARC / ARC -------------------------------------------------------------------


def read_warc(path: Path, compressed: bool, max_bytes: int, skip: SkipHandler, warn: WarningHandler):
    """HTML responses in a WARC or ARC file (gzip per record or not), extracted like pages."""
    from warcio.archiveiterator import ArchiveIterator
    from warcio.exceptions import ArchiveLoadFailed

    origin = str(path)
    # Decompress here rather than in warcio: gzip.open reads both record-wise gzip
    # (one member per record) and a whole file gzipped at once, which warcio rejects.
    pages = 0
    with open_binary(path, compressed) as f:
        try:
            for record in ArchiveIterator(f, arc2warc=True):
                is_page, article = _warc_record(record, origin, max_bytes, skip, warn)
                pages += is_page
                if article is not None:
                    yield article
        except ArchiveLoadFailed as e:
            detail = " ".join(str(e).split())
            reason = f"not a readable WARC/ARC archive ({detail}); the records before the damage were kept"
            raise ArticleFormatError(reason) from None
    if pages == 0:
        skip(Skipped(origin, "no HTML pages in the archive (only other records); nothing to index"))


def _warc_record(record, origin: str, max_bytes: int, skip: SkipHandler, warn: WarningHandler):
    """Return (is it an HTML page?, its Article or None)."""
    if record.rec_type not in ("response", "resource"):
        return False, None
    url = record.rec_headers.get_header("WARC-Target-URI") or None
    if record.http_headers is not None:
        status = record.http_headers.get_statuscode()
        if status and not status.startswith("2"):
            return False, None
        ctype = record.http_headers.get_header("Content-Type") or ""
    else:
        ctype = record.rec_headers.get_header("Content-Type") or ""
    if not ctype.lower().startswith(_HTML_TYPES):
        return False, None
    length = record.rec_headers.get_header("Content-Length")
    if length and length.isdigit() and int(length) > max_bytes:
        skip(Skipped(origin, f"record for {url}: {too_large(max_bytes, 'record')}"))
        return True, None
    data = record.content_stream().read(max_bytes + 1)
    if len(data) > max_bytes:
        skip(Skipped(origin, f"record for {url}: {too_large(max_bytes, 'record')}"))
        return True, None
    where = f"{origin}: record for {url}"
    captured = date_or_warn(record.rec_headers.get_header("WARC-Date"), where, warn)
    article = extract_page(data, kind="warc", origin=origin, where=where, warn=warn, url=url, fallback_date=captured)
    if article is None:
        skip(Skipped(origin, f"record for {url}: no article text found in the page"))
    return True, article
