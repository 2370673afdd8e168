"""A whole result set as CSV or JSON Lines, streamed, with a provenance record first.

Both formats are built from :meth:`archive.store.Store.iter_hits`, one hit at a time, so
memory stays flat however many articles match; the web app and the CLI write the same bytes.

* **JSON Lines**: the first line is ``{"kind": "provenance", ...}``; then one
  ``{"kind": "article", ...}`` line per article with its places (GeoNames id, name,
  coordinates, country) in order of first mention.
* **CSV**: one leading comment line ``# {"kind": "provenance", ...}`` (read it back with
  pandas ``skiprows=1``, R ``skip = 1``, DuckDB ``skip=1``, csvkit ``--skip-lines 1``),
  then a header and one row per (article, place) pair: the long, "tidy" layout that GIS
  tools (QGIS' delimited-text layer, kepler.gl) read as points straight from ``lat``/``lon``,
  and that ``groupby(geonameid)`` counts without splitting cells. An article without places
  still has one row, its place cells empty; ``place_rank`` is 1 for an article's first place.

Text cells that a spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return) get a leading apostrophe (OWASP's advice); cells that
are plain numbers (``-98.5``) are left as numbers.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import archive
from archive.errors import OverridesError
from archive.models import IndexStats, SearchHit, SearchRequest

FORMATS = ("csv", "jsonl")
MEDIA_TYPES = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson; charset=utf-8"}
CSV_COLUMNS = ("id", "title", "date", "source", "url", "score", "place_rank", "geonameid", "place",
               "country_code", "feature", "lat", "lon")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")


def request_params(req: SearchRequest) -> dict[str, Any]:
    """The query and filters of ``req`` (paging left out: an export is the whole result set)."""
    out: dict[str, Any] = {"q": req.q, "sort": req.sort}
    extra = {
        "from": req.date_from.isoformat() if req.date_from else None,
        "to": req.date_to.isoformat() if req.date_to else None,
        "place": req.place, "country": req.country, "source": req.source, "year": req.year,
        "bbox": list(req.bbox) if req.bbox else None, "near": list(req.near) if req.near else None,
        "radius_km": req.radius_km,
    }
    out.update({k: v for k, v in extra.items() if v is not None})
    return out


def file_sha256(path: str | Path | None) -> str | None:
    """The SHA-256 of a file's bytes (the overrides file), or None when there is no file."""
    if not path:
        return None
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 16), b""):
                digest.update(block)
    except OSError as e:
        raise OverridesError(f"Cannot read the overrides file {str(path)!r} for the export's provenance: "
                             f"{e.strerror or e}.") from None
    return digest.hexdigest()


def provenance(req: SearchRequest, stats: IndexStats, total: int, *, overrides: str | Path | None = None,
               now: dt.datetime | None = None, source: str | None = None) -> dict[str, Any]:
    """What a researcher needs to say exactly what they exported.

    :param total: how many articles the export holds.
    :param overrides: the geotagging overrides file in use, hashed (its path is not exported).
    :param source: where the export was asked for (a URL path or a command line).
    """
    from archive.geo.gazetteer import cache_key

    now = now or dt.datetime.now(dt.UTC)
    return {
        "kind": "provenance",
        "generator": f"GeoArchive {archive.__version__}",
        "exported_at": now.replace(microsecond=0).isoformat().replace("+00:00", "Z"),
        "request": request_params(req),
        "source": source,
        "results": total,
        "archive": {"articles": stats.articles, "places": stats.places, "mentions": stats.mentions},
        # The compiled gazetteer this installation geotags with: schema and package versions.
        "gazetteer": cache_key().removesuffix(".marshal"),
        "overrides_sha256": file_sha256(overrides),
    }


def article_record(hit: SearchHit) -> dict[str, Any]:
    """One JSON Lines record: the article's fields and its places."""
    return {
        "kind": "article",
        "id": hit.id,
        "title": hit.title,
        "date": hit.date.isoformat() if hit.date else None,
        "source": hit.source,
        "url": hit.url,
        "score": round(hit.score, 4),
        "places": [
            {"geonameid": p.geonameid, "name": p.name, "country_code": p.country_code, "feature": p.feature,
             "lat": p.lat, "lon": p.lon}
            for p in hit.places
        ],
    }


def jsonl_lines(prov: dict[str, Any], hits: Iterable[SearchHit]) -> Iterator[str]:
    """The provenance record, then one line per hit."""
    yield json.dumps(prov, ensure_ascii=False) + "\n"
    for hit in hits:
        yield json.dumps(article_record(hit), ensure_ascii=False) + "\n"


def neutralise(cell: str) -> str:
    """A cell a spreadsheet will show as text: formula-like text gets a leading apostrophe."""
    if cell.startswith(_FORMULA_START) and not _NUMBER.fullmatch(cell):
        return "'" + cell
    return cell


def csv_rows(hit: SearchHit) -> list[list[str]]:
    """The CSV rows of one hit: one per place, or one with empty place cells."""
    head = [hit.id, hit.title, hit.date.isoformat() if hit.date else "", hit.source or "", hit.url or "",
            f"{hit.score:.4f}"]
    if not hit.places:
        return [[neutralise(c) for c in head + [""] * 7]]
    return [
        [neutralise(c) for c in head + [str(rank), str(p.geonameid), p.name, p.country_code or "", p.feature,
                                        repr(p.lat), repr(p.lon)]]
        for rank, p in enumerate(hit.places, start=1)
    ]


def csv_lines(prov: dict[str, Any], hits: Iterable[SearchHit]) -> Iterator[str]:
    """The provenance comment line, the header, then each hit's rows (RFC 4180 quoting, CRLF)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    # One line: json.dumps escapes newlines, so the comment can never spill into the data.
    yield "# " + json.dumps(prov, ensure_ascii=False) + "\r\n"
    writer.writerow(CSV_COLUMNS)
    for hit in hits:
        writer.writerows(csv_rows(hit))
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue()


def export_lines(fmt: str, prov: dict[str, Any], hits: Iterable[SearchHit]) -> Iterator[str]:
    """The export in ``fmt`` ("csv" or "jsonl") as an iterator of text chunks."""
    if fmt == "csv":
        return csv_lines(prov, hits)
    if fmt == "jsonl":
        return jsonl_lines(prov, hits)
    raise ValueError(f"Unknown export format {fmt!r}; options are: {', '.join(FORMATS)}.")
