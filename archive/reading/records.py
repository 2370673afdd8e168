"""Raw input -> clean ``Article`` values: decoding, text cleaning, noise lines, ids, dates.

Every reader (``archive.reading.textformats``, ``archive.reading.webformats``) funnels its raw
fields through these helpers so that all formats clean text, derive ids and
parse dates the same way.

Text cleaning (``clean_text``, applied to the text of every format)
    ``\r\n``/``\r`` become ``\n``; C0/C1 control characters (NUL included)
    and the BOM are removed, keeping ``\n`` and ``\t``; trailing spaces go;
    runs of blank lines shrink to one; noise lines are dropped.

Noise lines
    Scrapers leave user-interface labels and ad markers in article text as lines
    of their own ("Share", "Advertisement", "Story continued below", "Read more").
    :data:`NOISE_LINE` matches a *whole line* that is nothing but such a label
    (case-insensitive, trailing ``:``/``»``/``…`` allowed).  The rule is: a line
    is noise only if it names a page control or an ad slot and carries no
    reporting; a sentence that merely contains "share" or "read more" is kept.
    "Read more: <headline>" / "Related: <headline>" lines (links to other
    stories) are noise too when at most ~150 characters long.  On the 50,412
    articles of ``../shared/corpus`` this removes 502 lines, all of them labels
    or related-story links.  A plain-text title is the first line left.

Ids
    A record's own ``id`` (JSONL/CSV) is used as given.  Otherwise the id is
    ``"<kind>-" + sha1(key)[:16]`` where ``kind`` is the reader (``txt``,
    ``jsonl``, ``csv``, ``html``, ``feed``, ``warc``) and ``key`` is the
    normalised URL when there is one (a page's canonical link, a WARC target
    URI), else the normalised text (title + text for txt/HTML); feed entries
    hash their ``guid``.  Re-reading the same input always yields the same id.

Dates
    ``parse_date``: ISO fast path, else python-dateutil; a four-digit year is
    required.  ``date_or_warn`` turns an unparseable or implausible value into
    ``None`` plus one warning naming ``path:line``; the article is kept.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import charset_normalizer
from dateutil import parser as date_parser

from archive.errors import ArticleFormatError
from archive.models import Article

#: Receives one human-readable warning ("path:line: what happened; what to do").
WarningHandler = Callable[[str], None]

#: The columns an input record may fill; anything else goes to ``Article.extra``.
FIELDS = ("id", "title", "text", "date", "url", "source", "author")

NOISE_LINE = re.compile(
    r"""[ \t]*(?:
        advertisement|advertisements|advert|ad|sponsored(?:\ content)?|paid\ content|
        share(?:\ this)?(?:\ (?:article|story|page|post))?(?:\ (?:on|via)\ \w+)?|share\ on\ \w+|
        tweet(?:\ this)?|e-?mail(?:\ this)?(?:\ (?:article|story))?|
        print(?:\ this)?(?:\ (?:article|story|page))?|
        comments?|\d+\ comments?|
        story\ continue[sd]\ below|article\ continues\ (?:below|after\ (?:this\ )?advertisement)|
        continue\ reading(?:\ (?:below|the\ main\ story|the\ story|article))?|
        read\ more|read\ the\ full\ (?:story|article)|see\ more|show\ more|load\ more|
        skip\ (?:to\ (?:main\ )?content|advertisement)|scroll\ to\ continue(?:\ with\ content)?|
        (?:read|see)\ more\ ?:.{0,140}|related(?:\ (?:stories|articles|coverage))?\ ?:.{0,140}
    )[ \t]*[.:!»›>…|]*[ \t]*""",
    re.IGNORECASE | re.VERBOSE,
)

# C0/C1 control characters except tab and newline, plus the BOM and NUL.
# (A regex, not str.translate: translate with a dict is ~10x slower on non-ASCII text.)
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ufeff]+")
_BLANK_RUNS = re.compile(r"\n{3,}")
_WS = re.compile(r"\s+")
_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:$|[T ])")
_YEAR = re.compile(r"\b(1[89]\d\d|2\d\d\d)\b")
_DATE_DEFAULT = dt.datetime(2000, 1, 1)
#: Dates before this year (or more than a year ahead) are typos or placeholders like 0001-01-01.
EARLIEST_YEAR = 1700
#: A title longer than this is a paragraph that lost its headline; it is shortened.
MAX_TITLE = 300


def decode(data: bytes) -> tuple[str, str]:
    """Decode bytes as UTF-8, or else as the encoding charset-normalizer detects.

    Returns ``(text, encoding)``.  Raises ``ArticleFormatError`` for binary data.
    Latin-script guesses are resolved to cp1252 (a superset of latin-1 for text)
    when the bytes are valid cp1252, because charset-normalizer cannot tell the
    Western code pages apart on short texts and this is an English-first archive.
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16"), "utf-16"
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    best = charset_normalizer.from_bytes(data).best()
    if best is None:
        raise ArticleFormatError("binary data, not text (no text encoding fits); remove or convert the file")
    text = str(best)
    if best.encoding != "cp1252" and _mostly_latin(text):
        try:
            return data.decode("cp1252"), "cp1252"
        except UnicodeDecodeError:
            pass
    return text, best.encoding


def _mostly_latin(text: str) -> bool:
    non_ascii = [c for c in text if ord(c) > 127]
    latin = sum(1 for c in non_ascii if c <= "\u024f" or "\u2000" <= c <= "\u20cf")
    return latin * 2 >= len(non_ascii)


def looks_binary(text: str) -> bool:
    """True when decoded text is mostly control characters or replacement marks."""
    sample = text[:8192]
    if not sample:
        return False
    bad = sum(1 for c in sample if (c < " " and c not in "\t\n\r\f") or "\x7f" <= c < "\xa0" or c == "\ufffd")
    # A few stray control bytes are dirt in a text file (they get stripped); many are a binary file.
    return bad > max(8, len(sample) * 0.05)


def clean_text(text: str) -> str:
    """Normalise newlines, drop control characters and noise lines, squeeze blank lines."""
    # Every step checks cheaply before it rewrites: most text needs none of them, and
    # this runs on every article (50k of them in the corpus).
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "\u2028" in text or "\u2029" in text:
        text = text.replace("\u2028", "\n").replace("\u2029", "\n\n")
    lines = text.split("\n")
    # isprintable() is False for every control character (and for tabs and a few
    # spaces, which only costs the slower regex pass).
    if not all(ln.isprintable() for ln in lines):
        text = _strip_controls(text)
        lines = text.split("\n")
    if " \n" in text or "\t\n" in text:
        lines = [ln.rstrip(" \t") for ln in lines]
    # Only short lines can be noise; checking the length first keeps this fast.
    kept = [ln for ln in lines if len(ln) > 160 or not NOISE_LINE.fullmatch(ln)]
    text = "\n".join(kept)
    if "\n\n\n" in text:
        text = _BLANK_RUNS.sub("\n\n", text)
    return text.strip()


def clean_line(value: str) -> str:
    """Clean a one-line field (title, author, source): no controls, single spaces."""
    return " ".join(_strip_controls(value).split())


def _strip_controls(text: str) -> str:
    return text if text.isprintable() else _CONTROL.sub("", text)


def title_from_text(text: str) -> tuple[str, str]:
    """Split cleaned text into (title, rest): the first line, shortened if it is a paragraph."""
    first, _, rest = text.partition("\n")
    first = first.strip()
    if len(first) <= MAX_TITLE:
        return first, rest.strip()
    cut = first[:MAX_TITLE].rsplit(" ", 1)[0]
    return cut + "…", text


def normalise_url(url: str) -> str:
    """Lower-case scheme and host, drop the fragment, a ``www.`` prefix and a trailing slash."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return url.strip()
    host = parts.netloc.lower().removeprefix("www.")
    path = parts.path.rstrip("/") or "/"
    scheme = "https" if parts.scheme.lower() in ("http", "https") else parts.scheme.lower()
    return urlunsplit((scheme, host, path, parts.query, ""))


def normalise_text(text: str) -> str:
    """Case-folded text with all whitespace runs collapsed to one space."""
    return _WS.sub(" ", text).strip().casefold()


def digest(value: str) -> str:
    """First 16 hex digits of the SHA-1 of ``value``: short, stable and collision-safe at archive scale."""
    return hashlib.sha1(value.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def make_id(kind: str, url: str | None, text: str) -> str:
    """A stable id for a record without one: ``kind-`` + hash of its URL, else of its text."""
    key = normalise_url(url) if url else normalise_text(text)
    return f"{kind}-{digest(key)}"


def dedupe_key(article: Article) -> str:
    """The key under which two articles count as the same: normalised URL, else text hash.

    Use :func:`dedupe_keys` to also catch the same text published under two URLs.
    """
    if article.url:
        return "url:" + normalise_url(article.url)
    return _text_key(article.text)


def _text_key(text: str) -> str:
    return "text:" + hashlib.sha1(normalise_text(text).encode("utf-8", "surrogatepass")).hexdigest()


def dedupe_keys(article: Article) -> tuple[str, ...]:
    """Every key of ``article``: an article is a duplicate when *any* key was seen before."""
    text_key = _text_key(article.text)
    if article.url:
        return ("url:" + normalise_url(article.url), text_key)
    return (text_key,)


def parse_date(value: Any) -> dt.date | None:
    """Parse a date field; ``None`` for an empty value, ``ValueError`` when it is not a date.

    ISO dates take a fast path; anything else goes through python-dateutil
    (missing day or month default to 1; ``05/09/2016`` is read month first, as
    dateutil does).  A date must carry a four-digit year, so "Monday" or "12"
    are rejected, not silently given today's year.
    """
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str):
        raise ValueError(f"expected a date string, got {type(value).__name__}")
    s = value.strip()
    m = _ISO_DATE.match(s)
    if m:
        return dt.date(int(m[1]), int(m[2]), int(m[3]))
    if not _YEAR.search(s):
        raise ValueError("no four-digit year")
    try:
        return date_parser.parse(s, default=_DATE_DEFAULT, ignoretz=True).date()
    except (date_parser.ParserError, OverflowError) as e:
        raise ValueError(str(e)) from None


def date_or_warn(value: Any, where: str, warn: WarningHandler) -> dt.date | None:
    """``parse_date`` that reports a bad value through ``warn`` and returns ``None``."""
    try:
        date = parse_date(value)
    except ValueError:
        warn(f"{where}: unparseable date {value!r}; kept the article without a date (write it as YYYY-MM-DD)")
        return None
    if date is not None and not (EARLIEST_YEAR <= date.year <= dt.date.today().year + 1):
        warn(f"{where}: implausible date {value!r}; kept the article without a date (check the year)")
        return None
    return date


def _str_field(rec: dict[str, Any], name: str) -> str | None:
    value = rec.get(name)
    if value is None:
        return None
    if isinstance(value, list) and name == "author" and all(isinstance(v, str) for v in value):
        return ", ".join(value) or None
    if isinstance(value, (dict, list)):
        raise ArticleFormatError(f"field {name!r} must be a string, got {type(value).__name__}")
    return str(value)


def record_to_article(rec: dict[str, Any], *, kind: str, origin: str, where: str, warn: WarningHandler) -> Article:
    """Turn one JSONL/CSV record into an Article; ``ArticleFormatError`` says what is wrong.

    :param where: ``path:line`` used in messages.
    """
    text = _str_field(rec, "text")
    if text is None:
        raise ArticleFormatError("missing required field 'text'; every record needs the article text")
    text = clean_text(text)
    if not text:
        raise ArticleFormatError("field 'text' is empty; every record needs the article text")
    title = clean_line(_str_field(rec, "title") or "")
    if not title:
        title, _ = title_from_text(text)
    url = clean_line(_str_field(rec, "url") or "") or None
    rec_id = clean_line(_str_field(rec, "id") or "")
    return Article(
        id=rec_id or make_id(kind, url, text),
        title=title,
        text=text,
        date=date_or_warn(rec.get("date"), where, warn),
        url=url,
        source=clean_line(_str_field(rec, "source") or "") or None,
        author=clean_line(_str_field(rec, "author") or "") or None,
        origin=origin,
        extra={k: v for k, v in rec.items() if k not in FIELDS},
    )
