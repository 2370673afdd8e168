"""Readers for text formats: plain text, JSON Lines and CSV.

Called through ``archive.reading.files.read_file``; each reader has the signature
``(path, compressed, max_bytes, skip, warn) -> Iterator[Article]`` and follows the
contract described in ``archive.reading.files``.

* ``.txt``: one article per file.  Title = the first line that is not scraping
  noise (see ``archive.reading.records.NOISE_LINE``).  Within the next six lines a short
  line that is only a date ("September 5, 2016", "Published: 2016-09-05") sets
  the date and a "By Jane Roe" line sets the author; both are removed from the
  text.  A cp1252 file records ``extra["encoding"]``.
* ``.jsonl``/``.ndjson``: one JSON object per line, fields as in
  ``archive.reading.records.FIELDS``; unknown fields go to ``Article.extra``.  Blank
  lines are ignored; a line that is not a JSON object is skipped with its number.
* ``.csv``: a header row naming the same columns (case-insensitive; ``text``
  required), one article per row; quoted fields may hold newlines.  Skipped
  rows are reported with the physical line where they start.
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

from archive.errors import ArticleFormatError
from archive.models import Article, Skipped
from archive.reading.files import SkipHandler, open_binary, read_limited, too_large
from archive.reading.records import (
    WarningHandler,
    clean_line,
    clean_text,
    date_or_warn,
    decode,
    looks_binary,
    make_id,
    record_to_article,
    title_from_text,
)

# --- plain text ---------------------------------------------------------------


def read_txt(path: Path, compressed: bool, max_bytes: int, skip: SkipHandler, warn: WarningHandler):
    """One article per file: title = first non-noise line, then an optional date/byline."""
    data = read_limited(path, compressed, max_bytes)
    if data is None:
        skip(Skipped(str(path), too_large(max_bytes)))
        return
    text, encoding = decode(data)
    if looks_binary(text):
        raise ArticleFormatError(f"binary data, not text (read as {encoding}); remove the file or convert it")
    text = clean_text(text)
    if not text:
        skip(Skipped(str(path), "empty file: no article text in it"))
        return
    title, body = title_from_text(text)
    body, date, author = _header_lines(body, str(path), warn)
    if not body:
        body = title
    yield Article(
        id=make_id("txt", None, f"{title}\n{body}"),
        title=title,
        text=body,
        date=date,
        author=author,
        origin=str(path),
        extra={"encoding": encoding} if encoding != "utf-8" else {},
    )


def _header_lines(body: str, where: str, warn: WarningHandler):
    """Take a date line and a "By ..." line from the first lines after the title.

    A line labelled "Published:", "Posted:", "Updated:" or "Date:" must hold a
    date (else a warning); an unlabelled short line counts only if it parses as
    a date with more than a bare year.
    """
    lines = body.split("\n")
    date = author = None
    for i, line in enumerate(lines[:6]):
        s = line.strip()
        if not s or len(s) > 60:
            continue
        if author is None and _BYLINE.fullmatch(s):
            author, lines[i] = clean_line(s[3:]), ""
            continue
        if date is not None:
            continue
        labelled = _DATE_LABEL.match(s)
        if labelled:
            date, lines[i] = date_or_warn(s[labelled.end() :], where, warn), ""
        elif not _BARE_YEAR.fullmatch(s):
            date = date_or_warn(s, where, lambda _msg: None)  # a short line that is not a date is just text
            if date is not None:
                lines[i] = ""
    return clean_text("\n".join(lines)), date, author


_BYLINE = re.compile(r"[Bb]y [A-Z]\S*(?: \S+){0,5}")  # "By Jane Roe", not "By the numbers"
_DATE_LABEL = re.compile(r"(?:published|posted|updated|date)\s*:?\s*", re.IGNORECASE)
_BARE_YEAR = re.compile(r"\d{4}")


# --- JSON Lines -----------------------------------------------------------------


def read_jsonl(path: Path, compressed: bool, max_bytes: int, skip: SkipHandler, warn: WarningHandler):
    """One JSON object per line; a bad line is skipped and reading continues."""
    origin = str(path)
    with open_binary(path, compressed) as f:
        lineno = records = 0
        while True:
            raw = f.readline(max_bytes + 1)
            if not raw:
                break
            lineno += 1
            if lineno == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]  # a UTF-8 BOM, which json.loads rejects
            if len(raw) > max_bytes and not raw.endswith(b"\n"):
                while (chunk := f.readline(1 << 20)) and not chunk.endswith(b"\n"):
                    pass  # drain the oversize line without holding it
                skip(Skipped(origin, too_large(max_bytes, "record"), lineno))
                continue
            if not raw.strip():
                continue
            records += 1
            where = f"{origin}:{lineno}"
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError:
                line, encoding = decode(raw)
                warn(f"{where}: line is not UTF-8; read it as {encoding} (save the file as UTF-8)")
            try:
                rec = json.loads(line)
            except ValueError as e:
                msg = getattr(e, "msg", str(e))
                col = getattr(e, "colno", None)
                at = f" at column {col}" if col else ""
                skip(Skipped(origin, f"not valid JSON ({msg}{at}); fix or remove the line", lineno))
                continue
            if not isinstance(rec, dict):
                skip(Skipped(origin, f"expected a JSON object, got {type(rec).__name__}", lineno))
                continue
            try:
                yield record_to_article(rec, kind="jsonl", origin=origin, where=where, warn=warn)
            except ArticleFormatError as e:
                skip(Skipped(origin, str(e), lineno))
    if records == 0:
        skip(Skipped(origin, "empty file: no records in it"))


# --- CSV ------------------------------------------------------------------------


def read_csv(path: Path, compressed: bool, max_bytes: int, skip: SkipHandler, warn: WarningHandler):
    """A header row, then one article per row; quoted fields may span lines."""
    origin = str(path)
    with open_binary(path, compressed) as raw:
        head = raw.read(65536)
        raw.seek(0)
        encoding = _stream_encoding(head)
        # The csv module's field limit is process-wide; raising it to max_bytes only widens it.
        csv.field_size_limit(max(csv.field_size_limit(), max_bytes))
        f = io.TextIOWrapper(raw, encoding=encoding, errors="replace", newline="")
        reader = csv.reader(f)
        try:
            header = next(reader)
        except StopIteration:
            skip(Skipped(origin, "empty file: no header row"))
            return
        except csv.Error as e:
            raise ArticleFormatError(f"cannot read the CSV header ({e})") from None
        names = [clean_line(h).lower() for h in header]
        if "text" not in names:
            raise ArticleFormatError(
                f"no 'text' column in the header (found: {', '.join(names) or 'nothing'}); "
                "the first row must name the columns, including text"
            )
        start = reader.line_num + 1
        rows = 0
        while True:
            try:
                row = next(reader)
            except StopIteration:
                break
            except csv.Error as e:
                skip(Skipped(origin, f"malformed CSV row ({e}); fix the quoting", start))
                start = reader.line_num + 1
                continue
            lineno, start = start, reader.line_num + 1
            if not any(cell.strip() for cell in row):
                continue
            rows += 1
            if len(row) != len(names):
                skip(Skipped(origin, f"row has {len(row)} fields but the header has {len(names)}", lineno))
                continue
            if sum(len(c) for c in row) > max_bytes:
                skip(Skipped(origin, too_large(max_bytes, "row"), lineno))
                continue
            rec = {k: (v if v != "" else None) for k, v in zip(names, row, strict=True)}
            try:
                yield record_to_article(rec, kind="csv", origin=origin, where=f"{origin}:{lineno}", warn=warn)
            except ArticleFormatError as e:
                skip(Skipped(origin, str(e), lineno))
        if rows == 0:
            skip(Skipped(origin, "empty file: a header row but no articles"))


def _stream_encoding(head: bytes) -> str:
    try:
        head.decode("utf-8")
        return "utf-8-sig"
    except UnicodeDecodeError as e:
        if e.start >= len(head) - 3:  # a multi-byte character cut by the sample's end
            return "utf-8-sig"
    return decode(head)[1]
