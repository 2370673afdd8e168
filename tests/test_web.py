"""The web app through Flask's test client, on a real index built from webfixtures' articles."""

from __future__ import annotations

import json
import logging
import math
import re
from html.parser import HTMLParser

import pytest
import webfixtures as wf

from web import create_app, maps, present, security


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory):
    return wf.build_index(tmp_path_factory.mktemp("web-index"))


@pytest.fixture(scope="module")
def app(index_dir):
    return create_app({"TESTING": True, "INDEX_DIR": index_dir})


@pytest.fixture
def client(app):
    return app.test_client()


def get(client, url):
    with client.get(url) as response:
        response.get_data()
        return response


def km(lat1, lon1, lat2, lon2):
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 6371 * 2 * math.asin(math.sqrt(a))


PAGES = ["/", "/?q=jarabulus", "/article/sample-jarabulus", "/place/169179", "/map", "/map?q=kyiv", "/help"]


@pytest.mark.parametrize("url", PAGES)
def test_pages_render(client, url):
    response = get(client, url)
    assert response.status_code == 200
    assert response.mimetype == "text/html"


def test_api_search_finds_sample_with_places(client):
    data = get(client, "/api/search?q=Jarabulus").get_json()
    assert data["total"] >= 1
    hit = next(r for r in data["results"] if r["id"] == "sample-jarabulus")
    assert set(hit) >= {"id", "title", "date", "snippet", "places"}
    places = {p["geonameid"]: p for p in hit["places"]}
    for gid, (lat, lon) in {169179: (36.82, 38.01), 172082: (36.59, 37.05)}.items():
        p = places[gid]
        assert set(p) >= {"geonameid", "name", "lat", "lon", "country_code"}
        assert km(p["lat"], p["lon"], lat, lon) < 10
    assert set(data) >= {"total", "results", "facets", "suggestion"}


def test_search_page_shows_hits_places_and_map(client):
    html = get(client, "/?q=jarabulus").get_data(as_text=True)
    assert 'href="/article/sample-jarabulus"' in html
    assert "<mark>" in html
    assert 'href="/place/169179"' in html
    assert 'class="ga-map results-map"' in html
    assert "/api/places?q=jarabulus&amp;download=1" in html


def test_facet_links_and_chips(client):
    html = get(client, "/?q=jarabulus&country=SY").get_data(as_text=True)
    assert 'class="chip"' in html
    assert 'href="/?q=jarabulus"' in html  # the chip's remove link


class AssetCollector(HTMLParser):
    """Every URL a page makes the browser fetch as script, style, font or image."""

    def __init__(self):
        super().__init__()
        self.urls: list[str] = []
        self.inline: list[str] = []
        self._in: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "script" and a.get("src"):
            self.urls.append(a["src"])
        elif tag == "link" and a.get("href") and (a.get("rel") or "") not in ("canonical",):
            self.urls.append(a["href"])
        elif tag in ("img", "iframe", "source", "embed") and a.get("src"):
            self.urls.append(a["src"])
        if a.get("style"):
            self.inline.append(a["style"])
        if tag in ("script", "style"):
            self._in = tag

    def handle_endtag(self, tag):
        self._in = None

    def handle_data(self, data):
        if self._in:
            self.inline.append(data)


def same_origin(url: str) -> bool:
    """A path on this origin, or an inline data: URL (no request at all)."""
    return (url.startswith("/") and not url.startswith("//")) or url.startswith("data:")


@pytest.mark.parametrize("url", ["/", "/?q=jarabulus", "/map", "/article/sample-jarabulus", "/place/169179"])
def test_no_external_scripts_styles_or_fonts(client, url):
    parser = AssetCollector()
    parser.feed(get(client, url).get_data(as_text=True))
    assert parser.urls, "expected the page to load its own assets"
    assert all(same_origin(u) for u in parser.urls), parser.urls
    inline = "\n".join(parser.inline)
    # Inline code may name the tile server (a setting) and credit links, but loads nothing off-origin.
    urls = set(re.findall(r"(?:https?:)?//[^\s\"'`)\\]+", inline))
    assert {u for u in urls if re.search(r"\.(js|css|woff2?|ttf|otf|eot)\b|cdn", u)} == set()
    assert {u for u in urls if "{z}" in u} <= {"https://tile.openstreetmap.org/{z}/{x}/{y}.png"}
    assert "@import" not in inline and "@font-face" not in inline
    for asset in [u for u in parser.urls if u.endswith(".css")]:
        css = get(client, asset).get_data(as_text=True)
        assert not re.search(r"url\(\s*['\"]?(https?:)?//", css), asset
        assert "@import" not in css


def test_stylesheet_uses_no_web_fonts(client):
    css = get(client, "/static/style.css").get_data(as_text=True)
    assert "@font-face" not in css and "http" not in css


@pytest.mark.parametrize(
    "asset",
    ["/vendor/leaflet/leaflet.js", "/vendor/markercluster/leaflet.markercluster.js", "/vendor/jquery/jquery.min.js",
     "/vendor/heat/leaflet_heat.min.js", "/vendor/leaflet/images/marker-icon.png"],
)
def test_vendored_assets_are_served(client, asset):
    response = get(client, asset)
    assert response.status_code == 200 and len(response.data) > 100


def test_vendor_route_refuses_other_files(client):
    assert get(client, "/vendor/leaflet/../../../__init__.py").status_code == 404
    assert get(client, "/vendor/nope/leaflet.js").status_code == 404


HOSTILE_PAGES = [
    "/?q=hostile", "/article/hostile-1", "/place/990001", "/map?q=hostile", "/map", "/place/703448"
]
RAW_PAYLOADS = [wf.SCRIPT, wf.IMG, wf.TEXTAREA, "onerror=\"window"]


@pytest.mark.parametrize("url", HOSTILE_PAGES)
def test_hostile_text_is_escaped(client, url):
    response = get(client, url)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    for payload in RAW_PAYLOADS:
        assert payload not in html, (url, payload)
    assert 'href="javascript:' not in html.lower()
    # ${...} is only dangerous inside a JavaScript template literal, i.e. in inline scripts.
    for script in re.findall(r"<script[^>]*>(.*?)</script>", html, flags=re.S):
        assert "${" not in script and "<img src=x" not in script and "<script>window" not in script


def test_hostile_article_shows_text_not_links(client):
    html = get(client, "/article/hostile-1").get_data(as_text=True)
    assert "&lt;script&gt;window.__pwned=&#39;script&#39;&lt;/script&gt;" in html
    assert 'class="original"' not in html  # a javascript: URL is shown as text, not linked
    assert "javascript:window.__pwned" in html


def test_folium_template_literals_are_neutralised(client):
    # folium puts popups inside `...` in the map script; ${...} there would run.
    html = get(client, "/map?q=hostile").get_data(as_text=True)
    script = html[html.index("L.map("):]
    assert "${" not in script
    assert "&#36;&#123;window.__pwned" in script


def test_fast_cluster_rows_are_json_escaped(index_dir):
    app = create_app({"TESTING": True, "INDEX_DIR": index_dir, "MAP_FAST_CLUSTER_FROM": 1})
    html = get(app.test_client(), "/map").get_data(as_text=True)
    assert "GeoArchive.placeMarker" in html
    assert "\\u003cimg src=x" in html
    assert wf.IMG not in html


def test_api_json_is_not_sniffable(client):
    response = get(client, "/api/search?q=hostile")
    assert response.mimetype == "application/json"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    "query, param",
    [
        ("page=0", "page"),
        ("page=x", "page"),
        ("per_page=100000", "per_page"),
        ("sort=sideways", "sort"),
        ("from=yesterday", "from"),
        ("to=2016-13-45", "to"),
        ("bbox=1,2,3", "bbox"),
        ("near=abc", "near"),
        ("q=" + "x" * 600, "q"),
        ("place=jarabulus", "place"),
        ("year=twenty", "year"),
    ],
)
def test_bad_parameters_get_400_naming_them(client, query, param):
    response = get(client, "/api/search?" + query)
    assert response.status_code == 400
    body = response.get_json()
    assert body["ok"] is False and body["status"] == 400 and body["param"] == param and body["error"]
    page = get(client, "/?" + query)
    assert page.status_code == 400 and page.mimetype == "text/html"
    assert f"<code>{param}</code>" in page.get_data(as_text=True)


@pytest.mark.parametrize(
    "url",
    ["/?endpoint=x&q=a", "/?_anchor=x&q=a", "/map?values=1", "/api/places?download=1&download=2",
     "/place/169179?page=2&_external=1", "/?q=%00", "/?q=AND+OR", "/?q=*", "/?q=%22unclosed", "/?q=title:"],
)
def test_odd_arguments_never_500(client, url):
    assert get(client, url).status_code in (200, 400)


def test_query_string_limit(client):
    response = get(client, "/api/search?q=a&junk=" + "y" * 13000)
    assert response.status_code == 400 and response.get_json()["ok"] is False
    assert response.get_json()["param"] == "junk"


def test_not_found_shapes(client):
    assert get(client, "/article/nope").status_code == 404
    body = get(client, "/api/nope").get_json()
    assert body == {"ok": False, "error": body["error"], "status": 404, "param": None}
    assert get(client, "/place/1").status_code == 404


def test_missing_index_is_503_not_500(tmp_path):
    app = create_app({"TESTING": True, "INDEX_DIR": tmp_path / "none"})
    client = app.test_client()
    assert get(client, "/?q=x").status_code == 503
    health = get(client, "/healthz")
    assert health.status_code == 503 and health.get_json()["ok"] is False
    assert get(client, "/api/search?q=x").get_json()["status"] == 503


def test_healthz(client):
    response = get(client, "/healthz")
    assert response.status_code == 200 and response.get_json()["ok"] is True


def test_security_headers_and_nonce(client):
    response = get(client, "/map")
    csp = response.headers["Content-Security-Policy"]
    nonce = re.search(r"'nonce-([^']+)'", csp).group(1)
    script_src = next(d for d in csp.split(";") if d.strip().startswith("script-src"))
    assert "unsafe-inline" not in script_src and "unsafe-eval" not in script_src
    assert "frame-ancestors 'none'" in csp and "https://tile.openstreetmap.org" in csp
    html = response.get_data(as_text=True)
    inline = re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", html)
    assert inline and all(f'nonce="{nonce}"' in attrs for attrs in inline)
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert get(client, "/map").headers["Content-Security-Policy"] != csp  # a new nonce each time


def test_article_mentions_link_to_places_with_hover_card(client):
    html = get(client, "/article/sample-jarabulus").get_data(as_text=True)
    links = re.findall(r'<a class="mention" href="/place/(\d+)"[^>]*data-card="([^"]*)"', html)
    cards = {int(g): card for g, card in links}
    assert {169179, 172082, 524901, 6252001, 1655842} <= set(cards)
    assert "Syria (SY)" in cards[169179]
    assert "confidence 0.93" in cards[169179] or "confidence 0.95" in cards[169179]
    assert "ga-place-169179" in html  # the article's places on its map


def test_place_page_timeline_related_and_articles(client):
    html = get(client, "/place/169179").get_data(as_text=True)
    assert "<h1>Jarābulus</h1>" in html
    assert len(re.findall(r'<rect class="bar"', html)) >= 6
    assert 'href="/place/703448"' in html  # Kyiv, named alongside
    assert 'href="/article/update-0"' in html or 'rel="next"' in html


def test_api_places_geojson(client):
    response = get(client, "/api/places?q=jarabulus")
    assert response.mimetype == "application/geo+json"
    data = response.get_json()
    assert data["type"] == "FeatureCollection"
    feature = next(f for f in data["features"] if f["properties"]["geonameid"] == 169179)
    lon, lat = feature["geometry"]["coordinates"]
    assert km(lat, lon, 36.82, 38.01) < 10
    assert feature["properties"]["articles"] >= 1 and feature["properties"]["country"] == "SY"
    download = get(client, "/api/places?q=jarabulus&download=1")
    assert "attachment" in download.headers["Content-Disposition"]


def test_openapi_describes_every_route(client):
    doc = get(client, "/api/openapi.json").get_json()
    assert doc["openapi"].startswith("3.")
    assert {"/api/search", "/api/places", "/api/openapi.json", "/healthz"} <= set(doc["paths"])
    json.dumps(doc)


def test_offline_basemap(index_dir):
    app = create_app({"TESTING": True, "INDEX_DIR": index_dir, "MAP_TILES": "offline"})
    client = app.test_client()
    response = get(client, "/map")
    html = response.get_data(as_text=True)
    assert 'data-basemap="/basemap/countries.geojson"' in html
    assert "tile.openstreetmap.org" not in html
    assert "img-src 'self' data:;" in response.headers["Content-Security-Policy"]
    outlines = get(client, "/basemap/countries.geojson").get_json()
    assert outlines["type"] == "FeatureCollection" and len(outlines["features"]) > 150


def test_request_log_line(client, caplog):
    with caplog.at_level(logging.INFO, logger="web.requests"):
        get(client, "/healthz")
    assert re.search(r"GET /healthz 200 \d+\.\dms", caplog.text)


def test_config_from_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("GEOARCHIVE_INDEX", str(tmp_path))
    monkeypatch.setenv("GEOARCHIVE_RESULTS_PER_PAGE", "5")
    app = create_app()
    assert app.config["INDEX_DIR"] == tmp_path and app.config["RESULTS_PER_PAGE"] == 5


# Pure helpers


@pytest.mark.parametrize(
    "url, ok",
    [("https://example.org/a?b=1", True), ("http://x.y/", True), ("javascript:alert(1)", False),
     ("JaVaScRiPt:alert(1)", False), ("data:text/html,x", False), ("//evil.example/", False),
     ("https://x.y/\"onmouseover=", False), ("", False), (None, False), ("ftp://x.y/", False)],
)
def test_http_url(url, ok):
    assert (present.http_url(url) is not None) is ok


@pytest.mark.parametrize(
    "snippet, expected",
    [("a <mark>b</mark> &amp; c", "a <mark>b</mark> &amp; c"),
     ("<script>x</script> <mark>y</mark>", "&lt;script&gt;x&lt;/script&gt; <mark>y</mark>"),
     ("<mark onclick=x>z</mark> & ok", "&lt;mark onclick=x&gt;z</mark> &amp; ok")],
)
def test_clean_snippet(snippet, expected):
    assert str(present.clean_snippet(snippet)) == expected


def test_literal_safe():
    assert str(maps.literal_safe("a`b${c}\\")) == "a&#96;b&#36;&#123;c&#125;&#92;"


def test_segments_skip_overlaps_and_bad_offsets():
    text = "Jarabulus and Azaz"
    good = wf.mention(text, "Jarabulus", wf.JARABULUS)
    overlap = wf.Mention("text", 3, 12, "abulus an", wf.AZAZ, 0.5)
    outside = wf.Mention("text", 10, 99, "x", wf.AZAZ, 0.5)
    segs = present.segments(text, [overlap, good, outside], "text")
    assert "".join(s.text for s in segs) == text
    assert [s.mention for s in segs if s.mention] == [good]


def test_timeline_fills_gaps():
    bars = present.timeline([("2016-11", 2), ("2017-02", 4)])
    assert [b.month for b in bars] == ["2016-11", "2016-12", "2017-01", "2017-02"]
    assert bars[-1].height == 120 and bars[1].height == 0


@pytest.mark.parametrize(
    "tiles, origin",
    [("https://tile.openstreetmap.org/{z}/{x}/{y}.png", "https://tile.openstreetmap.org"),
     ("https://{s}.tile.example.com:8080/{z}/{x}/{y}.png", "https://*.tile.example.com:8080"),
     ("offline", None), ("javascript:alert(1)", None)],
)
def test_tile_origin(tiles, origin):
    assert security.tile_origin(tiles) == origin


def test_marker_scale():
    assert maps.marker_radius(1) < maps.marker_radius(10) < maps.marker_radius(1000) <= 20
    assert maps.marker_color(1, 100) != maps.marker_color(100, 100)


def test_waitress_server_serves_with_headers_and_logs(app, caplog):
    import threading
    import urllib.request

    from web import make_server

    server = make_server(app, host="127.0.0.1", port=0, threads=2)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        with caplog.at_level(logging.INFO, logger="web.requests"):
            url = f"http://127.0.0.1:{server.effective_port}/api/search?q=jarabulus"
            with urllib.request.urlopen(url, timeout=10) as response:
                body = json.loads(response.read())
                headers = response.headers
        assert body["total"] >= 1
        assert "nonce-" in headers["Content-Security-Policy"] and headers["Server"] == "geoarchive"
        assert re.search(r"GET /api/search\?q=jarabulus 200 \d+\.\dms", caplog.text)
    finally:
        server.task_dispatcher.shutdown()
        server.close()
        thread.join(timeout=5)


def test_map_cache_sees_a_reindex(tmp_path):
    from archive.index import add_articles

    index_dir = wf.build_index(tmp_path / "index")
    client = create_app({"TESTING": True, "INDEX_DIR": index_dir}).test_client()
    ids = {f["id"] for f in get(client, "/api/places").get_json()["features"]}
    assert 2643743 not in ids
    assert "London" not in get(client, "/map").get_data(as_text=True)
    london = wf.Place(2643743, "London", 51.50853, -0.12574, "GB", "PPLC", 8961989)
    text = "Talks in London."
    add_articles(index_dir, [wf.GeotaggedArticle(
        wf.Article("london-1", "London talks", text), (wf.mention(text, "London", london),))])
    ids = {f["id"] for f in get(client, "/api/places").get_json()["features"]}
    assert 2643743 in ids
    assert "London" in get(client, "/map").get_data(as_text=True)


def test_did_you_mean_links_to_the_suggestion(client):
    html = get(client, "/?q=jarabuls").get_data(as_text=True)
    assert 'Did you mean <a href="/?q=jarabulus">jarabulus</a>' in html


def test_paging_and_sort_links(index_dir):
    client = create_app({"TESTING": True, "INDEX_DIR": index_dir, "RESULTS_PER_PAGE": 3}).test_client()
    first = get(client, "/?q=jarabulus&sort=newest").get_data(as_text=True)
    assert 'rel="next" href="/?q=jarabulus&amp;sort=newest&amp;page=2"' in first
    assert len(re.findall(r'<article class="hit">', first)) == 3
    second = get(client, "/?q=jarabulus&sort=newest&page=2").get_data(as_text=True)
    assert 'rel="prev"' in second and "Page 2 of 3" in second
    assert 'href="/?q=jarabulus&amp;sort=oldest"' in second  # changing the order goes back to page 1
    place = get(client, "/place/169179?page=3").get_data(as_text=True)
    assert "Page 3 of 3" in place and 'href="/place/169179?page=2"' in place
