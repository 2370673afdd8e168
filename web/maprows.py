"""A fast map's places as the text of its ``data-rows`` attribute, written in one pass.

The whole archive's map has thousands of places and is drawn again for every visitor (and
every broad query): building a list per place and passing them through the template's
``|tojson|forceescape`` cost ~20 ms of server CPU for 8,000 places. :func:`fast_rows` writes
the same JSON text itself, with what else the map needs from the places (bounds, countries,
largest count) from the same loop, and keeps each place's part of its row between maps.

What the browser reads is unchanged: ``JSON.parse`` of the attribute gives the rows
``[lat, lon, geonameid, name, count, country]`` it gave before, coordinates rounded to four
decimals and names encoded exactly as ``|tojson|forceescape`` encodes them (see
:func:`attribute_json_string`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass

from jinja2.utils import htmlsafe_json_dumps
from markupsafe import Markup, escape

from archive.models import Place, PlaceCount

#: Places whose part of a row is kept (by GeoNames id), then all forgotten at once. About 300
#: bytes each (measured: 15 MB for 50,000 places of ~17-character names) at most per process.
#: More than MAP_MAX_PLACES (20,000 by default), so the largest map fits whole.
PLACES_KEPT = 50_000
#: geonameid -> (lat, lon, name, country_code, the row's text before the count, after it)
_KEPT: dict[int, tuple[float, float, str, str | None, str, str]] = {}


def jinja_inert(text: str) -> str:
    """``text`` with braces swapped for full-width look-alikes (｛｝).

    branca compiles each rendered map script as a Jinja template again, so ``{{``/``{%``
    in data would run (or fail) on the server; inside JSON no character reference can
    stand in for a brace, and place names (GeoNames, overrides, a geocoder) never need one.
    """
    return text.replace("{", "\uff5b").replace("}", "\uff5d")


def attribute_json_string(text: str) -> str:
    """``text`` as a JSON string inside a double-quoted HTML attribute, as ``|tojson|forceescape`` writes it.

    Jinja's ``htmlsafe_json_dumps`` (what Flask's ``tojson`` filter runs) over ``json.dumps``
    with ASCII output (so U+2028/2029 and every other non-ASCII character come out as
    ``\\uXXXX``, and ``<``, ``>``, ``&``, ``'`` too), then ``markupsafe.escape`` for the
    attribute (``"`` as ``&#34;``): the only ``&`` left start ``&#34;``. Braces become
    :func:`jinja_inert` look-alikes first, as they always have in these rows.
    """
    inert = jinja_inert(text) if "{" in text or "}" in text else text
    return str(escape(str(htmlsafe_json_dumps(inert, dumps=json.dumps))))  # str(): escape leaves Markup as is


def _keep(p: Place) -> tuple[float, float, str, str | None, str, str]:
    """Write (and keep) ``p``'s part of a row: everything but its count."""
    # %.4f rounds as round(x, 4) does, so the browser parses the numbers it parsed from
    # round()'s JSON; %d and %.4f raise on a string, so only digits, sign and point get in as is.
    head = "[%.4f,%.4f,%d,%s," % (p.lat, p.lon, p.geonameid, attribute_json_string(p.name))  # noqa: UP031
    tail = "," + attribute_json_string(p.country_code or "") + "]"
    if len(_KEPT) >= PLACES_KEPT:
        _KEPT.clear()
    kept = _KEPT[p.geonameid] = (p.lat, p.lon, p.name, p.country_code, head, tail)
    return kept


@dataclass(frozen=True)
class FastRows:
    """A fast map's places, gone over once: its rows' text and what else the map needs from them."""

    rows: Markup  # the data-rows attribute's value: JSON, HTML-escaped for a double-quoted attribute
    bounds: list[list[float]] | None  # [[south, west], [north, east]]: the places' extremes; None without places
    country_codes: frozenset[str]  # the places' countries (None and "" left out)
    most: int  # the largest article count (1 without places)


def fast_rows(counts: Sequence[PlaceCount]) -> FastRows:
    """The rows of a map whose markers static/map.js builds, and its bounds, countries and largest count.

    A place's part of its row is written once and kept by GeoNames id, and used again only
    while the place's coordinates, name and country are the ones it was written from (so an
    override or a new gazetteer shows at once); the count is written for each map.
    """
    kept = _KEPT.get
    texts: list[str] = []
    add = texts.append
    codes: set[str | None] = set()
    south = west = math.inf
    north = east = -math.inf
    most = counts[0].count if counts else 1
    for pc in counts:
        p, count = pc.place, pc.count
        lat, lon, name, code = p.lat, p.lon, p.name, p.country_code
        if lat < south:
            south = lat
        if lat > north:
            north = lat
        if lon < west:
            west = lon
        if lon > east:
            east = lon
        if count > most:
            most = count
        codes.add(code)
        row = kept(p.geonameid)
        if row is None or row[0] != lat or row[1] != lon or row[2] != name or row[3] != code:
            row = _keep(p)
        add("%s%d%s" % (row[4], count, row[5]))  # noqa: UP031 (measured faster than an f-string here)
    bounds = [[south, west], [north, east]] if texts else None
    return FastRows(Markup("[" + ",".join(texts) + "]"), bounds, frozenset(c for c in codes if c), most)
