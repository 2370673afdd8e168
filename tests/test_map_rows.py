"""A fast map's rows (web/maprows.py): the text of the data-rows attribute, written without |tojson.

What the browser parses must be what ``rows|tojson|forceescape`` gave: the same numbers (four
decimals), the same names (braces made inert), nothing that ends the attribute or runs. Checked
on the text itself, through the real app's /map page (both store kinds) and in real Chromium.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from html.parser import HTMLParser

import pytest
import webfixtures as wf
from browserkit import CHROMIUM, CHROMIUM_ARGS, live_server, require_chromium, watched_page

from archive.models import Article, GeotaggedArticle, Place, PlaceCount
from web import create_app, maprows, maps
from web.maprows import fast_rows, jinja_inert

#: Names that end a script or an attribute, start a character reference, look like templates,
#: or break JavaScript string literals (U+2028/2029 in old engines), and ordinary foreign ones.
HOSTILE_NAMES = [
    "</script><script>window.__pwned='script'</script>",
    "\"><img src=x onerror=\"window.__pwned='img'\">",
    "' onmouseover='window.__pwned=1' x='",
    "AT&T &amp; &lt;b&gt; &#34; &quot",
    "{{ 7*7 }} {% raw %}x{% endraw %} {#c#}",
    "Line\u2028Sep\u2029Para",
    "Back\\slash \\\" \\u0041 `${window.__pwned='literal'}`",
    "S\u00e3o Tom\u00e9 \U0001f4a3 \u5317\u4eac \u200b<!-- -->",
]
LATS = [-45.5, 10.25, 36.81754999, 12.34565, -0.00004, 0.00005, 89.9999, -89.99995]
LONS = [179.95, -179.95, 38.011115, -0.25, 100.0, -12.5, 0.00005, -179.99995]
CODES = ["ZZ", "SY", None, "", "FR", "ZZ", "SY", "RU"]
PLACES = [Place(995000 + i, name, lat, lon, cc, "PPL", 10)
          for i, (name, lat, lon, cc) in enumerate(zip(HOSTILE_NAMES, LATS, LONS, CODES, strict=True))]
IDS = {p.geonameid for p in PLACES}


def reference_rows(counts):
    """The rows as web/maps.py built them before (a list per place, for |tojson|forceescape)."""
    return [[round(pc.place.lat, 4), round(pc.place.lon, 4), pc.place.geonameid, jinja_inert(pc.place.name),
             pc.count, pc.place.country_code or ""] for pc in counts]


def attribute_value(page: str, name: str = "data-rows") -> str:
    """The value of the .ga-map element's attribute ``name``, decoded by an HTML parser as a browser would."""
    found = []

    class Finder(HTMLParser):
        def handle_starttag(self, tag, attrs):
            attrs = dict(attrs)
            if "ga-map" in (attrs.get("class") or "").split():
                found.append(attrs.get(name))

    Finder().feed(page)
    assert len(found) == 1 and found[0] is not None, found
    return found[0]


def test_hostile_input_is_hostile():
    """The positive control for the checks below: the names carry every dangerous character."""
    text = "".join(HOSTILE_NAMES)
    for char in ("<", ">", '"', "'", "&", "{", "}", "\\", "\u2028", "\u2029", "`", "$"):
        assert char in text, char


def test_rows_parse_to_what_tojson_gave():
    counts = [PlaceCount(p, i * 7 + 1) for i, p in enumerate(PLACES)]
    app = create_app({"TESTING": True, "INDEX_DIR": "unused"})
    with app.test_request_context("/map"):
        from flask import render_template_string

        old = render_template_string("{{ rows|tojson|forceescape }}", rows=reference_rows(counts))
    text = str(fast_rows(counts).rows)
    assert json.loads(html.unescape(text)) == json.loads(html.unescape(old)) == reference_rows(counts)
    names = [row[3] for row in json.loads(html.unescape(text))]
    assert names and names[0] == HOSTILE_NAMES[0] and "\uff5b\uff5b 7*7 \uff5d\uff5d" in names[4]
    # Safe as the value of a double-quoted attribute, and in any script: nothing but ASCII, no
    # character that ends the attribute or a tag, and every & starts a quote's character reference.
    assert text.isascii()
    assert not set(text) & set("<>\"'{}")
    assert text.count("&") == text.count("&#34;") > 0
    assert "\\u2028" in text and "\\u003c/script" in text


def test_every_coordinate_has_four_decimals_as_round_gives():
    counts = [PlaceCount(p, 1) for p in PLACES]
    text = html.unescape(str(fast_rows(counts).rows))
    rows = re.findall(r"\[(-?\d+\.\d+),(-?\d+\.\d+),(\d+),", text)
    assert len(rows) == len(PLACES)
    for (lat, lon, gid), place in zip(rows, PLACES, strict=True):
        assert len(lat.split(".")[1]) == len(lon.split(".")[1]) == 4, (lat, lon)
        assert (float(lat), float(lon), int(gid)) == (round(place.lat, 4), round(place.lon, 4), place.geonameid)
    assert rows[2][:2] == ("36.8175", "38.0111") and rows[6][:2] == ("89.9999", "0.0001")


def test_bounds_across_the_antimeridian_and_below_zero_as_before():
    counts = [PlaceCount(p, 2) for p in PLACES[:4]]
    data = fast_rows(counts)
    assert data.bounds == maps._bounds(counts) == [[-45.5, -179.95], [36.81754999, 179.95]]
    assert fast_rows([PlaceCount(PLACES[4], 1)]).bounds == [[-0.00004, 100.0]] * 2
    assert fast_rows([]).bounds is None and str(fast_rows([]).rows) == "[]"
    # Drawn into the map's script as the box to fit (one reused script, its bounds swapped in).
    app = create_app({"TESTING": True, "INDEX_DIR": "unused"})
    with app.test_request_context("/map"):
        maps.places_map([PlaceCount(wf.MOSCOW, 1), PlaceCount(wf.LAOS, 1)], fast=True, heatmap=True)  # cached
        script = str(maps.places_map(counts, fast=True, heatmap=True).script)
    assert "fitBounds" in script and "[[-45.5, -179.95], [36.81754999, 179.95]]" in script


def test_largest_count_and_countries_as_before():
    counts = [PlaceCount(p, c) for p, c in zip(PLACES, [3, 9, 1, 4, 9, 2, 5, 1], strict=True)]
    data = fast_rows(counts)
    assert data.most == 9 and fast_rows([]).most == 1
    assert data.country_codes == {"ZZ", "SY", "FR", "RU"}  # None and "" left out
    app = create_app({"TESTING": True, "INDEX_DIR": "unused"})
    with app.test_request_context("/map"):
        parts = maps.places_map(counts, fast=True)
    assert parts.most == 9 and set(parts.countries) == {"ZZ", "SY", "FR", "RU"}


def test_kept_rows_follow_a_changed_place(monkeypatch):
    base = Place(996001, "Before", 1.0, 2.0, "SY")
    first = html.unescape(str(fast_rows([PlaceCount(base, 1)]).rows))
    assert json.loads(first) == [[1.0, 2.0, 996001, "Before", 1, "SY"]]
    changes = [Place(996001, "After", 1.0, 2.0, "SY"), Place(996001, "Before", 1.5, 2.0, "SY"),
               Place(996001, "Before", 1.0, -2.0, "SY"), Place(996001, "Before", 1.0, 2.0, None)]
    for changed in [base, *changes]:
        again = json.loads(html.unescape(str(fast_rows([PlaceCount(changed, 4)]).rows)))
        assert again == reference_rows([PlaceCount(changed, 4)]), changed
    monkeypatch.setattr(maprows, "PLACES_KEPT", 3)
    counts = [PlaceCount(Place(997000 + i, f"P{i}", i, -i, "ZZ"), i + 1) for i in range(10)]
    for _ in range(2):
        assert json.loads(html.unescape(str(fast_rows(counts).rows))) == reference_rows(counts)
        assert 0 < len(maprows._KEPT) <= 3


# The same names through a real archive (each store kind), the real app's /map, and Chromium.


def articles() -> list[GeotaggedArticle]:
    out = []
    for i, place in enumerate(PLACES):
        title = f"Maprows story {i}"
        text = f"Maprows report {i} from {place.name} today."
        article = Article(f"maprows-{i}", title, text, dt.date(2016, 5, 1 + i), None, "Maprows Wire")
        out.append(GeotaggedArticle(article, (wf.mention(text, place.name, place),)))
    return out


@pytest.fixture(scope="module")
def index_dir(module_store_factory):
    return wf.build_index(module_store_factory.location(), extra=articles())


@pytest.fixture(scope="module")
def app(index_dir):
    return create_app({"TESTING": True, "INDEX_DIR": index_dir, "LOG_REQUESTS": False, "MAP_TILES": "offline",
                       "MAP_CACHE": False})


MAP_URLS = ["/map", "/map?q=maprows", "/?q=maprows"]


def expected_names(app, query: str) -> dict[int, str]:
    """The hostile places' names as the store gives them (checked hostile), braces made inert."""
    from archive.store.query import parse_request
    from web import archive_store

    with app.app_context():
        counts = archive_store(app).place_counts(parse_request({"q": query}), limit=20000, top=0)
    names = {pc.place.geonameid: pc.place.name for pc in counts if pc.place.geonameid in IDS}
    assert sorted(names.values()) == sorted(HOSTILE_NAMES)
    return {gid: jinja_inert(name) for gid, name in names.items()}


@pytest.mark.parametrize("url", MAP_URLS)
def test_map_pages_rows_parse_back_to_the_names(app, url):
    page = app.test_client().get(url).get_data(as_text=True)
    rows = json.loads(attribute_value(page))
    by_id = {row[2]: row for row in rows}
    want = expected_names(app, "" if url == "/map" else "maprows")
    assert {gid: by_id[gid][3] for gid in want} == want
    for place in PLACES:
        assert by_id[place.geonameid][:2] == [round(place.lat, 4), round(place.lon, 4)]
    assert "<script>window.__pwned" not in page and "<img src=x" not in page


@pytest.mark.browser
def test_hostile_names_reach_the_browser_unchanged_and_inert(app):
    require_chromium()
    from playwright.sync_api import sync_playwright

    want = {str(k): v for k, v in expected_names(app, "").items()}
    with live_server(app) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page, watch = watched_page(browser.new_context(), {base})
            for url in MAP_URLS:
                page.goto(base + url)
                page.wait_for_selector(".ga-map.ga-ready")
                seen = page.evaluate("""() => {
                    const box = document.querySelector('.ga-map');
                    const rows = JSON.parse(box.dataset.rows);
                    const markers = window[box.dataset.cluster].getLayers();
                    const heat = box.dataset.heat ? window[box.dataset.heat]._latlngs.length : null;
                    return {
                        rows: Object.fromEntries(rows.map(r => [r[2], r[3]])), n: rows.length, heat: heat,
                        markers: Object.fromEntries(markers.map(m => [m.gaRow[2], m.gaRow[3]])),
                        coords: Object.fromEntries(markers.map(m => [m.gaRow[2], [m.getLatLng().lat,
                                                                                  m.getLatLng().lng]])),
                    };
                }""")
                assert {k: seen["rows"][k] for k in want} == want, url
                assert seen["heat"] == (seen["n"] if url.startswith("/map") else None), url  # /map's heatmap
                assert {k: seen["markers"][k] for k in want} == want, url
                for place in PLACES:
                    assert seen["coords"][str(place.geonameid)] == [round(place.lat, 4), round(place.lon, 4)]
                # The popup static/map.js builds shows the name as text.
                found = page.evaluate("""id => new Promise(resolve => {
                    setTimeout(() => resolve("timeout"), 10000);
                    if (!GeoArchive.reveal(id, () => resolve(true))) resolve("no marker");
                })""", PLACES[0].geonameid)
                assert found is True, (url, found)
                marker = page.locator(f"path.ga-place-{PLACES[0].geonameid}")
                marker.hover(timeout=10000)  # its tooltip, then its popup: the name as text
                assert page.locator(".leaflet-tooltip").text_content() == HOSTILE_NAMES[0]
                marker.click(timeout=10000)
                assert page.locator(".leaflet-popup .ga-popup-place").text_content() == HOSTILE_NAMES[0]
                page.wait_for_load_state("networkidle")
                assert page.evaluate("window.__pwned") is None, url
                assert page.locator(".ga-map img, .leaflet-popup img").count() == 0
            assert watch.page_errors == [] and watch.dialogs == [] and watch.blocked == []
        finally:
            browser.close()
