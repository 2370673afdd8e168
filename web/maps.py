"""Places -> folium map parts for the templates; the only module that imports folium.

A map is returned as :class:`MapParts`, folium's "components" recipe: the Figure is
rendered once and its header (links to scripts and styles, all served by this
app), its html (the map's ``<div>``) and its script are handed to
``templates/_map.html``, which runs the script under the page's CSP nonce.

Two ways to draw markers:

* below ``MAP_FAST_CLUSTER_FROM`` places, each place is a folium ``CircleMarker`` in a
  ``MarkerCluster`` with a popup rendered from ``_popup.html``;
* past that, the map's script holds an empty ``FastMarkerCluster`` (and heatmap): the places
  travel as one compact JSON array in the map's ``data-rows`` attribute, and ``static/map.js``
  builds each marker (and, when opened, its popup) with DOM calls, never innerHTML, and fills
  the heatmap from the same rows. Rendering 20,000 folium rows cost the server ~0.2 s of CPU
  per map (folium validates every row, branca compiles the rendered script as a template).
  ``web/maprows.py`` writes that attribute's text in one pass over the places.

Untrusted text (place names, headlines) is escaped with ``markupsafe.escape``
(Jinja's autoescape in ``_popup.html``). folium 0.20 then puts popup and tooltip
HTML inside a JavaScript template literal without escaping ``${`` or (for
tooltips) backticks, so :func:`literal_safe` also turns ``$``, backtick and
backslash into character references, which read the same once parsed as HTML.
It does the same to ``{`` and ``}``: branca compiles each rendered element as a
Jinja template again, so a headline with ``{{ ... }}`` would otherwise run on the
server when the map is rendered.
"""

from __future__ import annotations

import json
import math
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import folium
import xyzservices
from branca.element import Figure
from flask import current_app, has_request_context, render_template, request, url_for
from folium.plugins import FastMarkerCluster, HeatMap, MarkerCluster
from markupsafe import Markup, escape

from archive.models import Place, PlaceCount
from web import OFFLINE
from web.maprows import fast_rows
from web.present import country_area, country_name

GEONAMES_CREDIT = (
    'Places: <a href="https://www.geonames.org/">GeoNames</a> '
    '(<a href="https://creativecommons.org/licenses/by/4.0/">CC BY 4.0</a>)'
)
OFFLINE_CREDIT = "Country outlines: Natural Earth (public domain), via countryinfo"
#: The attribution line once static/map.js has given up on the tile server (no network).
FALLBACK_CREDIT = "Tile server unreachable: offline basemap. " + OFFLINE_CREDIT
FOCUS_COLOR = "#c0392b"
#: Most places fed to the heatmap layer.
HEATMAP_PLACES = 5000


@dataclass(frozen=True)
class MapParts:
    """What ``_map.html`` needs to embed one map."""

    header: Markup  # <script src> and <link> tags, all on this app's origin
    html: Markup  # the map's <div>
    script: Markup  # inline JavaScript, run under the page's CSP nonce
    name: str  # the map's JavaScript variable (and element id)
    attribution: str  # HTML credits added by static/map.js (GeoNames; the offline basemap)
    basemap_url: str | None  # the offline basemap's GeoJSON, when tiles are off
    fast: bool  # markers built in the browser from an array
    most: int  # the largest article count among the places (for shading)
    #: ISO code -> country name for the popups static/map.js builds (fast maps only)
    countries: dict[str, str] = field(default_factory=dict)
    #: Fast maps: the places as JSON text ready for a double-quoted HTML attribute (data-rows), one
    #: array per place, [lat, lon, geonameid, name, count, country] (static/map.js): web/maprows.py
    rows: Markup = Markup("[]")
    #: Fast maps: the JavaScript variables of the (empty) marker cluster and heatmap layers
    cluster_name: str = ""
    heat_name: str = ""
    heat_places: int = HEATMAP_PLACES
    #: With online tiles: the offline basemap static/map.js switches to when tiles fail to load,
    #: the attribution it then shows, and how long it waits for a first tile (ms).
    fallback_url: str | None = None
    fallback_attribution: str = FALLBACK_CREDIT
    tile_timeout_ms: int = 10000


def literal_safe(html: str) -> Markup:
    """Make already-escaped HTML safe inside a JavaScript template literal and in branca's second Jinja pass."""
    text = str(html).replace("\\", "&#92;").replace("`", "&#96;").replace("$", "&#36;")
    text = text.replace("{", "&#123;").replace("}", "&#125;")
    return Markup(text)


def marker_radius(count: int) -> float:
    """Circle radius in pixels for a place named by ``count`` articles."""
    return round(min(5 + 2.5 * math.log2(max(count, 1)), 20), 1)


def marker_color(count: int, most: int) -> str:
    """A shade from light to dark blue by share of the busiest place's count."""
    share = math.log1p(count) / math.log1p(max(most, 1))
    light, dark = (158, 202, 225), (8, 48, 107)
    rgb = (round(a + (b - a) * share) for a, b in zip(light, dark, strict=True))
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def _asset(package: str, filename: str) -> str:
    return url_for("assets.vendor", package=package, filename=filename)


def _new_map(bounds: list[list[float]] | None, jquery: bool) -> folium.Map:
    config = current_app.config
    m = folium.Map(location=[20, 0], zoom_start=2, tiles=None, control_scale=True)
    # Zoom limits on the map itself: without a tile layer Leaflet has none, and markercluster needs one.
    m.options.update(minZoom=1, maxZoom=18)
    m.default_js = [("leaflet", _asset("leaflet", "leaflet.js"))]
    if jquery:  # folium builds its popups with $(...); the in-browser layer does not need it
        m.default_js.append(("jquery", _asset("jquery", "jquery.min.js")))
    m.default_css = [("leaflet_css", _asset("leaflet", "leaflet.css"))]
    if config["MAP_TILES"] != OFFLINE:
        # A TileProvider, not the URL string: given a string, folium first looks it up among
        # xyzservices' ~250 named providers, ~2 ms per map; the layer it builds is the same.
        tiles = xyzservices.TileProvider(name="Basemap", url=config["MAP_TILES"],
                                         attribution=config["MAP_TILES_ATTRIBUTION"])
        folium.TileLayer(tiles=tiles, attr=config["MAP_TILES_ATTRIBUTION"], name="Basemap", control=False).add_to(m)
    if bounds:
        (south, west), (north, east) = bounds
        if south == north and west == east:
            m.location, m.options["zoom"] = [south, west], 7
        else:
            m.fit_bounds(bounds, max_zoom=9, padding=(20, 20))
    return m


def focus_zoom(place: Place) -> int:
    """A zoom that shows ``place`` whole with some surroundings: a continent, a country, a region, a town."""
    feature = place.feature or ""
    if feature == "CONT":
        return 3
    if feature.startswith("PCL"):
        # Russia or Canada need a wider view than Syria, Syria than Belgium.
        area = country_area(place.country_code)
        return 3 if area > 3_000_000 else 4 if area > 600_000 else 5 if area > 60_000 else 6
    if feature in ("ADM1", "RGN"):
        return 6
    # Towns at 7, not closer: the offline basemap draws only country borders, and the
    # places around a town are what tell a reader where it is.
    return 7


def _bounds(counts: Sequence[PlaceCount]) -> list[list[float]] | None:
    if not counts:
        return None
    lats = [c.place.lat for c in counts]
    lons = [c.place.lon for c in counts]
    return [[min(lats), min(lons)], [max(lats), max(lons)]]


def _cluster(cluster: MarkerCluster) -> MarkerCluster:
    cluster.default_js = [("markerclusterjs", _asset("markercluster", "leaflet.markercluster.js"))]
    cluster.default_css = [
        ("markerclustercss", _asset("markercluster", "MarkerCluster.css")),
        ("markerclusterdefaultcss", _asset("markercluster", "MarkerCluster.Default.css")),
    ]
    return cluster


def _popup_html(count: PlaceCount, narrow_url: str | None) -> Markup:
    html = render_template("_popup.html", pc=count, narrow_url=narrow_url)
    return literal_safe(html)


def _add_markers(
    m: folium.Map, counts: Sequence[PlaceCount], narrow: dict[str, str] | None, focus: int | None
) -> None:
    cluster = _cluster(MarkerCluster(name="Places", show=True)).add_to(m)
    most = max(c.count for c in counts)
    for pc in counts:
        color = FOCUS_COLOR if pc.place.geonameid == focus else marker_color(pc.count, most)
        values: dict[str, Any] = {**(narrow or {}), "place": pc.place.geonameid}
        narrow_url = url_for("pages.index", **values) if narrow else None
        folium.CircleMarker(
            [pc.place.lat, pc.place.lon],
            radius=marker_radius(pc.count),
            color="#08306b",
            weight=1,
            fill=True,
            fill_color=color,
            fill_opacity=0.85,
            class_name=f"ga-place ga-place-{pc.place.geonameid}",
            tooltip=folium.Tooltip(literal_safe(escape(pc.place.name)), sticky=False),
            popup=folium.Popup(_popup_html(pc, narrow_url), max_width=320),
        ).add_to(cluster)


def _add_focus_marker(m: folium.Map, pc: PlaceCount) -> None:
    folium.CircleMarker(
        [pc.place.lat, pc.place.lon],
        radius=max(marker_radius(pc.count), 9),
        color="#ffffff",
        weight=3,
        fill=True,
        fill_color=FOCUS_COLOR,
        fill_opacity=0.95,
        class_name=f"ga-place ga-focus ga-place-{pc.place.geonameid}",
        tooltip=folium.Tooltip(literal_safe(escape(pc.place.name)), permanent=True, direction="right",
                               offset=[12, 0], class_name="ga-focus-label"),
    ).add_to(m)


def _add_fast_markers(m: folium.Map) -> str:
    """An empty in-browser cluster layer (static/map.js adds the rows' markers); returns its variable."""
    # Clustering stops at city zoom: fewer cluster levels to build for 20,000 places (~15% faster).
    cluster = FastMarkerCluster(
        [], callback="GeoArchive.placeMarker", name="Places", chunkedLoading=True, disableClusteringAtZoom=12
    )
    _cluster(cluster).add_to(m)
    return cluster.get_name()


def places_map(
    counts: Sequence[PlaceCount],
    *,
    narrow: dict[str, str] | None = None,
    heatmap: bool = False,
    focus: int | None = None,
    fast: bool | None = None,
) -> MapParts:
    """A clustered map of places sized and shaded by article count.

    :param narrow: the current search's arguments; when given, each popup links to
        the same search narrowed to that place.
    :param heatmap: add a heatmap layer (off until chosen in the layer control).
    :param focus: the geonameid of the place page's place: the map centres on it (see
        :func:`focus_zoom`) and draws it above the others, in a colour of its own, labelled.
    :param fast: build markers in the browser (True), as folium objects (False), or by
        ``MAP_FAST_CLUSTER_FROM`` (None).
    """
    config = current_app.config
    if fast is None:
        fast = len(counts) >= config["MAP_FAST_CLUSTER_FROM"]
    focused = None if focus is None else next((pc for pc in counts if pc.place.geonameid == focus), None)
    if fast and focused is None:
        return _fast_map(counts, heatmap)
    return _folium_map(counts, narrow=narrow, heatmap=heatmap, focused=focused, fast=fast)


def _folium_map(counts: Sequence[PlaceCount], *, narrow: dict[str, str] | None, heatmap: bool,
                focused: PlaceCount | None, fast: bool, bounds: list[list[float]] | None = None,
                center: list[float] | None = None) -> MapParts:
    """The map drawn by folium (every marker a folium object unless ``fast``).

    ``bounds`` or ``center`` replace the ones ``counts`` give (:func:`_fast_map`'s stand-ins).
    """
    focus = focused.place.geonameid if focused else None
    others = [pc for pc in counts if pc is not focused] if focused else counts
    data = fast_rows(others) if fast else None  # (without a focus, others are all of counts)
    if not (focused or center or bounds):
        bounds = data.bounds if data else _bounds(counts)
    m = _new_map(None if focused or center else bounds, jquery=bool(counts) and not fast)
    if center is not None:
        m.location, m.options["zoom"] = center, 7  # as _new_map does for a single point
    if focused:
        # The page's own place: centred at a zoom for its kind, drawn above the others and
        # never clustered away, with its name always shown.
        m.location, m.options["zoom"] = [focused.place.lat, focused.place.lon], focus_zoom(focused.place)
    cluster_name = heat_name = ""
    if others:
        if fast:
            cluster_name = _add_fast_markers(m)
        else:
            _add_markers(m, others, narrow, focus)
    if focused:
        _add_focus_marker(m, focused)
    if heatmap and counts:
        # The busiest places carry a heatmap; the long tail of single mentions adds bytes, not heat.
        # On a fast map static/map.js fills it from the rows (the same HEATMAP_PLACES busiest).
        busiest = [] if fast else sorted(counts, key=lambda pc: -pc.count)[:HEATMAP_PLACES]
        heat = HeatMap(
            [[round(pc.place.lat, 3), round(pc.place.lon, 3), round(math.log1p(pc.count), 2)] for pc in busiest],
            name="Heatmap",
            show=False,
            radius=18,
            min_opacity=0.3,
        )
        heat.default_js = [("leaflet-heat.js", _asset("heat", "leaflet_heat.min.js"))]
        heat.add_to(m)
        heat_name = heat.get_name() if fast else ""
        folium.LayerControl(collapsed=False).add_to(m)
    codes = set(data.country_codes) if data else set()
    if data and focused:
        codes.add(focused.place.country_code or "")
    countries = {cc: country_name(cc) for cc in codes if cc}
    parts = _parts(m, fast=fast, most=max((c.count for c in counts), default=1), countries=countries)
    if data:
        parts = replace(parts, rows=data.rows, cluster_name=cluster_name, heat_name=heat_name)
    return parts


#: Stand-in bounds and centre drawn into a fast map's cached script, replaced by each map's own.
_STAND_IN_BOUNDS = [[-1.234567891, -2.345678912], [3.456789123, 4.567891234]]
_STAND_IN_CENTER = [-5.678912345, -6.789123456]


@dataclass(frozen=True)
class _Skeleton:
    """A fast map's folium output with stand-ins for what differs from map to map."""

    parts: MapParts
    names: tuple[str, ...]  # folium's element names in it, made anew for each map
    stand_in: str  # the JSON of the stand-in bounds or centre in its script ("" for none)


def _fast_map(counts: Sequence[PlaceCount], heatmap: bool) -> MapParts:
    """A map whose markers static/map.js builds from rows, without rendering folium each time.

    Such a map's script is the same for every search but for its bounds (or centre) and
    folium's element names: it is rendered once per app and shape, with stand-ins that are
    replaced here (a folium render costs a few ms of server CPU; this, microseconds).
    """
    data = fast_rows(counts)
    bounds = data.bounds
    point = bool(bounds) and bounds[0] == bounds[1]  # type: ignore[index]
    view = "none" if not bounds else "point" if point else "box"
    config = current_app.config
    key = (view, bool(heatmap and counts), bool(counts), config["MAP_TILES"], config["MAP_TILES_ATTRIBUTION"],
           config.get("MAP_TILES_TIMEOUT_MS", 10000), request.script_root if has_request_context() else "")
    skeletons = current_app.extensions.setdefault("geoarchive_map_skeletons", {})
    skeleton = skeletons.get(key)
    if skeleton is None:
        skeleton = skeletons[key] = _skeleton(counts, heatmap, view) or False
    if skeleton is False:  # the stand-in could not be found in folium's output: render this map whole
        return _folium_map(counts, narrow=None, heatmap=heatmap, focused=None, fast=True)
    parts = skeleton.parts
    renamed = {name: f"{name.rsplit('_', 1)[0]}_{uuid.uuid4().hex}" for name in skeleton.names}
    header, html, script = str(parts.header), str(parts.html), str(parts.script)
    if skeleton.stand_in:
        actual = bounds if view == "box" else bounds[0]  # type: ignore[index]
        script = script.replace(skeleton.stand_in, json.dumps(actual))
    for old, new in renamed.items():
        header, html, script = header.replace(old, new), html.replace(old, new), script.replace(old, new)
    return replace(parts, header=Markup(header), html=Markup(html), script=Markup(script),
                   name=renamed.get(parts.name, parts.name), most=data.most,
                   countries={cc: country_name(cc) for cc in data.country_codes}, rows=data.rows,
                   cluster_name=renamed.get(parts.cluster_name, parts.cluster_name),
                   heat_name=renamed.get(parts.heat_name, parts.heat_name))


def _skeleton(counts: Sequence[PlaceCount], heatmap: bool, view: str) -> _Skeleton | None:
    """Render a fast map of ``counts``' shape with stand-ins; None when they do not show in the script."""
    stand_in = {"box": _STAND_IN_BOUNDS, "point": _STAND_IN_CENTER}.get(view)
    parts = _folium_map(counts, narrow=None, heatmap=heatmap, focused=None, fast=True,
                        bounds=_STAND_IN_BOUNDS if view == "box" else None,
                        center=_STAND_IN_CENTER if view == "point" else None)
    text = json.dumps(stand_in) if stand_in else ""
    names = [n for n in (parts.name, parts.cluster_name, parts.heat_name) if n]
    names += [n for n in re.findall(r"\b[a-z_]+_[0-9a-f]{32}(?![0-9a-f])", str(parts.script)) if n not in names]
    if (text and str(parts.script).count(text) != 1) or str(parts.script).count(parts.name) < 1:
        return None
    return _Skeleton(parts=replace(parts, rows=Markup("[]"), countries={}), names=tuple(dict.fromkeys(names)),
                     stand_in=text)


def _parts(m: folium.Map, *, fast: bool, most: int, countries: dict[str, str]) -> MapParts:
    root = m.get_root()
    assert isinstance(root, Figure)  # a Map's root is always its Figure (header, html, script)
    root.render()
    # The map's own header block sets html/body to 100% height and defines an inline
    # script; the page's stylesheet sizes the map instead, so drop that block.
    root.header._children.pop(m.get_name(), None)
    root.header._children.pop("meta_http", None)
    offline = current_app.config["MAP_TILES"] == OFFLINE
    credit = GEONAMES_CREDIT + (" | " + OFFLINE_CREDIT if offline else "")
    return MapParts(
        header=Markup(root.header.render()),
        html=Markup(root.html.render()),
        script=Markup(root.script.render()),
        name=m.get_name(),
        attribution=credit,
        basemap_url=url_for("assets.countries") if offline else None,
        fallback_url=None if offline else url_for("assets.countries"),
        tile_timeout_ms=int(current_app.config.get("MAP_TILES_TIMEOUT_MS", 10000)),
        fast=fast,
        most=most,
        countries=countries,
    )
