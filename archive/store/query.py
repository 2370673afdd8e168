"""Turn the string parameters of the web page, the API and the CLI into a SearchRequest.

Every bad value raises QueryError naming the parameter, so callers can answer 400 with
``{"error": ..., "param": ...}`` instead of failing later inside the search engine.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Mapping

from archive.errors import QueryError
from archive.models import SearchRequest

MAX_QUERY_CHARS = 500
MAX_PER_PAGE = 100
MAX_PAGE = 1000
MAX_RADIUS_KM = 20_000.0
SORTS = ("relevance", "newest", "oldest")

#: Words every store indexes (with positions, so phrases match exactly) but ignores outside quotes
#: when a query has other words: they are neither required nor scored ("the war in Syria" = "war
#: Syria"), as Lucene's common-terms query treats very frequent words. A query of these words only
#: ("Let It Be" unquoted) requires them all. (Whoosh's English stop list, so both stores agree.)
STOP_WORDS = frozenset(
    "a an and are as at be by can for from have if in is it may not of on or tbd that the this to us we "
    "when will with yet you your".split()
)


def _int(args: Mapping[str, str], name: str, default: int | None, lo: int, hi: int) -> int | None:
    raw = (args.get(name) or "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise QueryError(f"{name} must be a whole number, not {raw!r}.", param=name) from None
    if not lo <= value <= hi:
        raise QueryError(f"{name} must be between {lo} and {hi}, not {value}.", param=name)
    return value


def _floats(raw: str, name: str, count: int, example: str) -> list[float]:
    parts = [p.strip() for p in raw.split(",")]
    try:
        values = [float(p) for p in parts]
    except ValueError:
        values = []
    if len(values) != count or not all(math.isfinite(v) for v in values):
        raise QueryError(f"{name} must be {count} comma-separated numbers like {example!r}, not {raw!r}.",
                         param=name)
    return values


def _date(args: Mapping[str, str], name: str) -> dt.date | None:
    raw = (args.get(name) or "").strip()
    if not raw:
        return None
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw):
            raise ValueError
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise QueryError(f"{name} must be a date as YYYY-MM-DD, not {raw!r}.", param=name) from None


def parse_request(args: Mapping[str, str]) -> SearchRequest:
    """Validate string parameters (q, page, per_page, sort, from, to, place, about, country, source,
    year, bbox, near, radius_km) and return a SearchRequest; raise QueryError naming the bad one.

    ``sort`` defaults to relevance when there is a query or a place to rank by (``place``,
    ``about``: most central first, see ``archive.store.centrality``), else to newest.
    """
    q = (args.get("q") or "").strip()
    if len(q) > MAX_QUERY_CHARS:
        raise QueryError(f"The query is {len(q)} characters long; the limit is {MAX_QUERY_CHARS}.", param="q")
    if "\x00" in q:
        raise QueryError("The query contains a NUL character.", param="q")

    page = _int(args, "page", 1, 1, MAX_PAGE)
    per_page = _int(args, "per_page", 20, 1, MAX_PER_PAGE)
    assert page is not None and per_page is not None  # both have a default

    # Negative ids are regions the gazetteer adds where GeoNames' city data has none (England).
    place = _int(args, "place", None, -(2**31), 2**31 - 1)
    if place == 0:
        raise QueryError("place must be a GeoNames id, not 0.", param="place")
    about = _int(args, "about", None, -(2**31), 2**31 - 1)
    if about == 0:
        raise QueryError("about must be a GeoNames id, not 0.", param="about")

    ranked = q or place is not None or about is not None
    sort = (args.get("sort") or "").strip().lower() or ("relevance" if ranked else "newest")
    if sort not in SORTS:
        raise QueryError(f"sort must be one of {', '.join(SORTS)}, not {sort!r}.", param="sort")

    date_from = _date(args, "from")
    date_to = _date(args, "to")
    if date_from and date_to and date_from > date_to:
        raise QueryError(f"from ({date_from}) is after to ({date_to}).", param="from")

    country = (args.get("country") or "").strip()
    if country:
        if not re.fullmatch(r"[A-Za-z]{2}", country):
            raise QueryError(f"country must be a two-letter ISO 3166 code like 'SY', not {country!r}.",
                             param="country")
        country = country.upper()

    source = (args.get("source") or "").strip() or None
    if source and len(source) > 200:
        raise QueryError("source is too long (limit 200 characters).", param="source")

    year = _int(args, "year", None, 1, 9999)

    bbox = None
    raw = (args.get("bbox") or "").strip()
    if raw:
        west, south, east, north = _floats(raw, "bbox", 4, "35.5,35.8,38.5,37.2")
        if not (-180 <= west <= 180 and -180 <= east <= 180 and -90 <= south <= 90 and -90 <= north <= 90):
            raise QueryError(f"bbox is out of range (west,south,east,north in degrees): {raw!r}.",
                             param="bbox")
        if south > north:
            raise QueryError(f"bbox south ({south}) is north of its north ({north}).", param="bbox")
        bbox = (west, south, east, north)

    near = None
    raw = (args.get("near") or "").strip()
    if raw:
        lat, lon = _floats(raw, "near", 2, "36.8,38.0")
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise QueryError(f"near must be lat,lon within -90..90 and -180..180, not {raw!r}.", param="near")
        near = (lat, lon)

    radius_km = None
    raw = (args.get("radius_km") or "").strip()
    if raw:
        (radius_km,) = _floats(raw, "radius_km", 1, "50")
        if not 0 < radius_km <= MAX_RADIUS_KM:
            raise QueryError(f"radius_km must be more than 0 and at most {MAX_RADIUS_KM:g}, not {raw!r}.",
                             param="radius_km")
    if near and radius_km is None:
        radius_km = 50.0
    if radius_km is not None and near is None:
        raise QueryError("radius_km needs near=lat,lon as well.", param="near")

    return SearchRequest(
        q=q, page=page, per_page=per_page, sort=sort, date_from=date_from, date_to=date_to, place=place, about=about,
        country=country or None, source=source, year=year, bbox=bbox, near=near, radius_km=radius_km,
    )


_OPERATORS = frozenset({"AND", "OR", "NOT", "TO", "ANDNOT", "ANDMAYBE"})


def suggest_words(text: str, known: Callable[[str], bool], correct: Callable[[str], str | None]) -> str | None:
    """``text`` with each unknown plain word replaced by ``correct(word)``; None if nothing changed.

    Only bare words are touched: operators, field names, wildcard/fuzzy terms and numbers stay.
    """
    changed = False

    def fix(m: re.Match) -> str:
        nonlocal changed
        word = m.group(0)
        if word in _OPERATORS or len(word) < 3 or known(word):
            return word
        best = correct(word)
        if not best or best.lower() == word.lower():
            return word
        changed = True
        return best.capitalize() if word[:1].isupper() else best

    out = re.sub(r"(?<![\w:])[^\W\d_]+(?![\w:~*?])", fix, text)
    return out if changed else None
