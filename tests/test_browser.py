"""The map, place and article pages in real headless Chromium (Debian's, driven by Playwright).

No request may leave 127.0.0.1: tiles come from a fake tile server on another local
port (the configured tile server), or not at all with the offline basemap.
"""

from __future__ import annotations

import re

import pytest
import webfixtures as wf
from browserkit import (
    CHROMIUM,
    CHROMIUM_ARGS,
    live_server,
    require_chromium,
    screenshot,
    tile_app,
    watched_page,
)

from web import create_app

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def index_dir(module_store_factory):
    """The pages' archive, of each kind (Whoosh, PostgreSQL)."""
    return wf.build_index(module_store_factory.location())


@pytest.fixture(scope="module")
def tiles():
    with live_server(tile_app) as url:
        yield url


def _server(index_dir, **config):
    app = create_app({"TESTING": True, "INDEX_DIR": index_dir, "LOG_REQUESTS": False, **config})
    return live_server(app)


@pytest.fixture(scope="module")
def site(index_dir, tiles):
    """The app with tiles from the local fake tile server."""
    with _server(index_dir, MAP_TILES=tiles + "/tiles/{z}/{x}/{y}.png", MAP_TILES_ATTRIBUTION="Test tiles") as url:
        yield url


@pytest.fixture(scope="module")
def offline_site(index_dir):
    with _server(index_dir, MAP_TILES="offline") as url:
        yield url


@pytest.fixture(scope="module")
def fast_site(index_dir):
    """Every map drawn with the in-browser (FastMarkerCluster) layer."""
    with _server(index_dir, MAP_TILES="offline", MAP_FAST_CLUSTER_FROM=1) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def context(browser):
    ctx = browser.new_context(viewport={"width": 1280, "height": 860})
    yield ctx
    ctx.close()


def clean(watch):
    """Nothing blocked, no script error, no CSP complaint, no dialog."""
    assert watch.blocked == [], watch.blocked
    assert watch.page_errors == [], watch.page_errors
    assert [e for e in watch.console_errors if "Content Security Policy" in e or "Refused" in e] == []
    assert watch.dialogs == []


def reveal(page, geonameid):
    page.wait_for_selector(".ga-map.ga-ready")
    found = page.evaluate(
        """id => new Promise(resolve => {
            setTimeout(() => resolve("timeout"), 10000);
            if (!GeoArchive.reveal(id, () => resolve(true))) resolve(false);
        })""",
        geonameid,
    )
    assert found is True, f"marker of place {geonameid}: {found}"
    marker = page.locator(f"path.ga-place-{geonameid}")
    marker.wait_for()
    return marker


def test_map_marker_popup_and_place_link(context, site, tiles):
    page, watch = watched_page(context, {site, tiles})
    page.goto(site + "/map")
    page.wait_for_selector(".ga-map.ga-ready")
    page.wait_for_selector(".marker-cluster, path.ga-place")
    assert page.locator(".marker-cluster").count() + page.locator("path.ga-place").count() > 0
    page.wait_for_load_state("networkidle")
    screenshot(page, "map.png")
    assert "GeoNames" in page.locator(".leaflet-control-attribution").inner_text()

    reveal(page, 169179).click()
    popup = page.locator(".leaflet-popup .ga-popup")
    popup.locator("li a").first.wait_for()  # /map's markers are built in the browser: headlines fetched on opening
    assert "Jarābulus" in popup.inner_text()
    # Its articles most about Jarabulus (archive.store.centrality): three of the short updates (headline
    # and text; ties newest first), not the sample story that names six places.
    assert popup.locator("a[href^='/article/update-']").count() == 3
    assert popup.locator("a[href='/article/sample-jarabulus']").count() == 0
    with page.expect_navigation():
        popup.locator("a.ga-popup-place").click()
    assert page.url == site + "/place/169179"
    assert page.locator("h1").inner_text() == "Jarabulus GeoNames: Jarābulus"

    assert watch.to(tiles), "the map should load tiles from the configured tile server"
    assert {watch.origin(u) for u in watch.requests} <= {site, tiles}
    clean(watch)


def test_heatmap_layer_and_date_range(context, site, tiles):
    page, watch = watched_page(context, {site, tiles})
    page.goto(site + "/map")
    page.wait_for_selector(".ga-map.ga-ready")
    page.locator(".leaflet-control-layers label", has_text="Heatmap").locator("input").check()
    page.wait_for_selector("canvas.leaflet-heatmap-layer")
    before = page.locator(".map-tools .summary").inner_text()
    page.fill("input[name=from]", "2016-08-01")
    page.fill("input[name=to]", "2016-08-31")
    with page.expect_navigation():
        page.click(".map-tools button[type=submit]")
    assert "from=2016-08-01" in page.url and "to=2016-08-31" in page.url
    page.wait_for_selector(".ga-map.ga-ready")
    assert page.locator(".map-tools .summary").inner_text() != before
    clean(watch)


def test_search_this_area_keeps_only_articles_inside_the_view(context, site, tiles):
    page, watch = watched_page(context, {site, tiles})
    page.goto(site + "/?q=jarabulus")
    page.wait_for_selector(".ga-map.ga-ready")
    total_before = page.evaluate("fetch('/api/search' + location.search).then(r => r.json()).then(d => d.total)")
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(300)  # let the opening zoom animation end: Leaflet ignores moves during one
    west = page.evaluate(
        "() => { const m = window[document.querySelector('.ga-map').dataset.map];"
        " m.fitBounds([[49.8, 29.8], [51.2, 31.2]], {animate: false}); return m.getBounds().getWest(); }"
    )
    assert 25 < west < 30
    with page.expect_navigation():
        page.click("#search-area")
    assert "bbox=" in page.url
    west, south, east, north = (float(v) for v in re.search(r"bbox=([^&]+)", page.url).group(1).replace("%2C", ",")
                                .split(","))
    data = page.evaluate("fetch('/api/search' + location.search + '&per_page=100').then(r => r.json())")
    assert 0 < data["total"] < total_before, (page.url, data["total"], [h["id"] for h in data["results"]])
    for hit in data["results"]:
        assert any(west <= p["lon"] <= east and south <= p["lat"] <= north for p in hit["places"]), hit["id"]
    assert "sample-jarabulus" not in {h["id"] for h in data["results"]}
    clean(watch)


def test_clicking_a_place_on_the_results_map_narrows_the_results(context, site, tiles):
    page, watch = watched_page(context, {site, tiles})
    page.goto(site + "/?q=jarabulus")
    assert page.locator("article.hit").count() == 9
    reveal(page, 703448).click()  # Kyiv
    popup = page.locator(".leaflet-popup .ga-popup")
    with page.expect_navigation():
        popup.locator("a.ga-narrow").click()
    assert "place=703448" in page.url and "q=jarabulus" in page.url
    hits = page.locator("article.hit")
    assert hits.count() == 8
    for i in range(hits.count()):
        assert hits.nth(i).locator("a[href='/place/703448']").count() == 1
    assert page.locator(".chip", has_text="place").count() == 1
    page.wait_for_load_state("networkidle")
    screenshot(page, "search.png")
    clean(watch)


def test_place_page_timeline(context, site, tiles):
    page, watch = watched_page(context, {site, tiles})
    page.goto(site + "/place/169179")
    bars = page.locator(".timeline rect.bar")
    assert bars.count() >= 6
    heights = [bars.nth(i).bounding_box()["height"] for i in range(bars.count())]
    assert max(heights) > 20 and min(heights) >= 0
    page.wait_for_selector(".ga-map.ga-ready")
    # The map centres on the place, its marker highlighted and labelled as the heading is.
    label = page.locator(".leaflet-tooltip.ga-focus-label")
    label.wait_for()
    assert label.inner_text() == "Jarabulus"
    assert page.locator("path.ga-focus").count() == 1
    centre = page.evaluate("() => { const m = window[document.querySelector('.ga-map').dataset.map];"
                           " const c = m.getCenter(); return [c.lat, c.lng, m.getZoom()]; }")
    assert abs(centre[0] - 36.8175) < 0.01 and abs(centre[1] - 38.0111) < 0.01 and centre[2] == 7
    page.wait_for_load_state("networkidle")
    screenshot(page, "place.png")
    clean(watch)


def test_article_mentions_hover_and_link(context, site, tiles):
    page, watch = watched_page(context, {site, tiles})
    page.goto(site + "/article/sample-jarabulus")
    page.wait_for_selector(".ga-map.ga-ready")
    mention = page.locator('.text a.mention[data-geonameid="172082"]')
    assert mention.inner_text() == "Azaz"
    mention.hover()
    card = mention.evaluate("el => getComputedStyle(el, '::after').content")
    assert "I‘zāz" in card and "Syria" in card and "confidence 0.88" in card
    page.wait_for_load_state("networkidle")
    screenshot(page, "article.png")
    with page.expect_navigation():
        mention.click()
    assert page.url == site + "/place/172082"
    clean(watch)


def test_offline_basemap_makes_no_request_off_the_app(context, offline_site, tiles):
    page, watch = watched_page(context, {offline_site})
    page.goto(offline_site + "/map")
    page.wait_for_selector(".ga-basemap-ready")
    assert page.locator(".leaflet-pane.leaflet-basemap-pane path").count() > 100
    reveal(page, 169179).click()
    page.locator(".leaflet-popup .ga-popup").wait_for()
    page.wait_for_load_state("networkidle")
    screenshot(page, "map-offline.png")
    assert {watch.origin(u) for u in watch.requests} == {offline_site}
    assert not watch.to(tiles)
    clean(watch)


def test_fast_cluster_layer_popups(context, fast_site):
    page, watch = watched_page(context, {fast_site})
    page.goto(fast_site + "/map")
    reveal(page, 169179).click()
    popup = page.locator(".leaflet-popup .ga-popup")
    popup.locator("li a").first.wait_for()  # headlines fetched from /api/search
    assert "Jarābulus" in popup.inner_text()
    assert popup.locator(".cc").inner_text().strip() == "Syria"  # the country's name, not its code
    with page.expect_navigation():
        popup.locator("a.ga-popup-place").click()
    assert page.url == fast_site + "/place/169179"
    clean(watch)


def test_fast_map_layers_built_from_the_page_data(context, fast_site):
    """The fast map's script carries no places: static/map.js builds the markers and heatmap from data-rows."""
    page, watch = watched_page(context, {fast_site})
    page.goto(fast_site + "/map")
    page.wait_for_selector(".ga-map.ga-ready")
    rows = page.evaluate("JSON.parse(document.querySelector('.ga-map').dataset.rows)")
    assert len(rows) > 1 and any(r[2] == 169179 for r in rows)
    counts = page.evaluate("""() => {
        const box = document.querySelector('.ga-map');
        return [window[box.dataset.cluster].getLayers().length, window[box.dataset.heat]._latlngs.length];
    }""")
    assert counts == [len(rows), len(rows)]  # every place a marker, and (under 5,000) a heat point
    page.locator(".leaflet-control-layers label", has_text="Heatmap").locator("input").check()
    page.wait_for_selector("canvas.leaflet-heatmap-layer")
    clean(watch)


HOSTILE_URLS = ["/?q=hostile", "/article/hostile-1", "/place/990001", "/place/703448", "/map?q=hostile"]


@pytest.mark.parametrize("which", ["site", "fast_site"])
def test_hostile_content_never_runs(context, which, request, tiles, index_dir):
    base = request.getfixturevalue(which)  # (index_dir: run against each store kind)
    page, watch = watched_page(context, {base, tiles})
    for path in HOSTILE_URLS:
        page.goto(base + path)
        page.wait_for_load_state("networkidle")
        for link in page.locator("a.mention").all():
            link.hover()
        assert page.evaluate("window.__pwned") is None, path
        assert page.locator("script:not([src]):not([nonce])").count() == 0
    # The hostile place's tooltip and popup, on the map.
    page.goto(base + "/map")
    marker = reveal(page, 990001)
    marker.hover()
    page.wait_for_selector(".leaflet-tooltip")
    assert "<img" in page.locator(".leaflet-tooltip").inner_text()
    marker.click()
    popup = page.locator(".leaflet-popup .ga-popup")
    popup.wait_for()
    # Shown as text (braces in place names may come back as full-width look-alikes: web.maprows.jinja_inert).
    assert "window.__pwned='literal'" in popup.inner_text()
    page.wait_for_load_state("networkidle")
    assert page.evaluate("window.__pwned") is None
    assert page.locator(".leaflet-popup img").count() == 0
    clean(watch)


def test_csp_blocks_scripts_without_the_nonce(context, site, tiles):
    """Even if markup slipped through, an inline script or handler without the nonce would not run."""
    page, watch = watched_page(context, {site, tiles})
    page.goto(site + "/map")
    page.wait_for_selector(".ga-map.ga-ready")
    page.evaluate(
        """() => {
            const s = document.createElement('script');
            s.textContent = "window.__csp = 'inline'";
            document.body.appendChild(s);
            const img = document.createElement('img');
            img.setAttribute('onerror', "window.__csp = 'handler'");
            img.src = 'data:,broken';
            document.body.appendChild(img);
        }"""
    )
    page.wait_for_timeout(200)
    assert page.evaluate("window.__csp") is None
    assert any("Content Security Policy" in e for e in watch.console_errors)
    handlers = page.evaluate(
        "() => [...document.querySelectorAll('*')].flatMap(e => [...e.attributes].map(a => a.name))"
        ".filter(n => n.startsWith('on'))"
    )
    assert handlers == ["onerror"]  # only the one this test added


LAYOUT_PAGES = ["/?q=jarabulus", "/article/sample-jarabulus", "/place/169179", "/map", "/help"]


def _overlap(a, b) -> bool:
    return not (a["x"] + a["width"] <= b["x"] or b["x"] + b["width"] <= a["x"]
                or a["y"] + a["height"] <= b["y"] or b["y"] + b["height"] <= a["y"])


@pytest.mark.parametrize("width", [390, 1024])
def test_pages_fit_narrow_screens(browser, offline_site, width):
    """No sideways scrolling, the search box's controls on one line, map credits clear of the scale."""
    ctx = browser.new_context(viewport={"width": width, "height": 800})
    try:
        page, watch = watched_page(ctx, {offline_site})
        for url in LAYOUT_PAGES:
            page.goto(offline_site + url)
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, f"{url} at {width}px scrolls sideways by {overflow}px"
            box = page.locator(".searchbox input[type=search]").bounding_box()
            button = page.locator(".searchbox button").bounding_box()
            assert abs((box["y"] + box["height"] / 2) - (button["y"] + button["height"] / 2)) <= 2, url
            assert box["width"] >= 150, url
            if page.locator(".ga-map").count():
                page.wait_for_selector(".ga-map.ga-ready")
                credits = page.locator(".ga-map .leaflet-control-attribution").first.bounding_box()
                scale = page.locator(".ga-map .leaflet-control-scale").first.bounding_box()
                assert not _overlap(credits, scale), f"{url}: the map credits cover the scale bar"
            if url == "/place/169179":
                screenshot(page, f"place-{width}.png")
        clean(watch)
    finally:
        ctx.close()


# -- issue 12 (web side): the basemap without network, and the front page ---------------------------


@pytest.fixture(scope="module")
def dead_tiles():
    """A tile server origin that refuses every connection (a port bound, then closed)."""
    import socket

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return f"http://127.0.0.1:{port}"


@pytest.fixture(scope="module")
def hanging_tiles():
    """A tile server origin that accepts connections and never answers (a firewall that drops)."""
    import socket

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    sock.close()


def _attribution(page) -> str:
    return page.locator(".ga-map .leaflet-control-attribution").first.inner_text()


@pytest.mark.parametrize("which", ["dead_tiles", "hanging_tiles"])
def test_map_falls_back_to_the_offline_basemap_when_tiles_fail(context, index_dir, request, which):
    origin = request.getfixturevalue(which)
    config = {"MAP_TILES": origin + "/tiles/{z}/{x}/{y}.png", "MAP_TILES_ATTRIBUTION": "Unreachable tiles",
              "MAP_TILES_TIMEOUT_MS": 1500}
    with _server(index_dir, **config) as base:
        page, watch = watched_page(context, {base, origin})
        page.goto(base + "/map")
        page.wait_for_selector(".ga-map.ga-tiles-offline", timeout=15000)
        page.wait_for_selector(".ga-basemap-ready")
        assert page.locator(".leaflet-pane.leaflet-basemap-pane path").count() > 100
        assert watch.to(origin), "the map should have tried the configured tile server first"
        assert page.locator(".leaflet-tile-pane img").count() == 0
        credits = _attribution(page)
        assert "Tile server unreachable: offline basemap" in credits and "Natural Earth" in credits
        assert "Unreachable tiles" not in credits and "GeoNames" in credits
        reveal(page, 169179).click()  # the markers still work
        page.locator(".leaflet-popup .ga-popup").wait_for()
        screenshot(page, f"map-fallback-{which}.png")
        # The next page of the session goes straight to the offline basemap, without waiting.
        page.goto(base + "/place/169179")
        page.wait_for_selector(".ga-map.ga-tiles-offline", timeout=1000)
        assert "Tile server unreachable" in _attribution(page)
        assert watch.blocked == [] and watch.page_errors == [] and watch.dialogs == []


def test_map_keeps_working_tiles(context, site, tiles):
    """The positive control: tiles that load are kept, with their own attribution."""
    page, watch = watched_page(context, {site, tiles})
    page.goto(site + "/map")
    page.wait_for_selector(".ga-map.ga-ready")
    page.wait_for_selector(".leaflet-tile-pane img.leaflet-tile-loaded")
    page.wait_for_timeout(800)
    assert page.locator(".ga-map.ga-tiles-offline").count() == 0
    assert "Test tiles" in _attribution(page) and "unreachable" not in _attribution(page)
    assert page.locator(".leaflet-pane.leaflet-basemap-pane").count() == 0
    clean(watch)


def test_front_page_shows_the_archive_and_invites_exploration(context, site, tiles):
    page, watch = watched_page(context, {site, tiles})
    page.goto(site + "/")
    numbers = page.locator(".front-numbers").inner_text()
    assert "10 articles" in numbers and "8 places" in numbers and "3 sources" in numbers
    assert "1 Mar 2016" in numbers and "2 Sep 2016" in numbers
    page.wait_for_selector(".ga-map.front-map.ga-ready")
    marker = reveal(page, 169179)  # the busiest place, on the small map
    marker.click()
    popup = page.locator(".leaflet-popup .ga-popup")
    popup.wait_for()
    assert "Jarābulus" in popup.inner_text() and popup.locator("li a").count() >= 1
    assert page.evaluate("window.__pwned") is None  # the hostile story is among the latest
    assert page.locator(".front-latest li.latest").count() == 6
    page.wait_for_load_state("networkidle")
    screenshot(page, "front.png")
    # An example search leads to results.
    example = page.locator(".front-examples a").first
    label = example.inner_text()
    with page.expect_navigation():
        example.click()
    assert page.locator("article.hit").count() > 0, label
    assert page.locator(".chip", has_text="place").count() == 1
    clean(watch)


def test_front_page_of_an_empty_archive(browser, tmp_path):
    ctx = browser.new_context(viewport={"width": 390, "height": 800})
    try:
        with _server(tmp_path / "no-index", MAP_TILES="offline") as base:
            page, watch = watched_page(ctx, {base})
            response = page.goto(base + "/")
            assert response.status == 200
            assert "The archive is empty" in page.locator("main").inner_text()
            assert page.locator(".ga-map").count() == 0
            assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
            clean(watch)
    finally:
        ctx.close()


def test_front_page_fits_a_phone(browser, offline_site):
    ctx = browser.new_context(viewport={"width": 390, "height": 800})
    try:
        page, watch = watched_page(ctx, {offline_site})
        page.goto(offline_site + "/")
        page.wait_for_selector(".ga-map.front-map.ga-ready")
        assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
        clean(watch)
    finally:
        ctx.close()


@pytest.fixture(scope="module")
def homes_site(module_store_factory, tmp_path_factory):
    """An archive with a local paper, a national wire and a source whose home is configured."""
    from test_source_homes import archive_docs

    location = module_store_factory.location()
    wf.add_to(location, archive_docs())
    overrides = tmp_path_factory.mktemp("homes") / "overrides.toml"
    overrides.write_text('[home]\n"Valley <i>Gazette</i>" = "Corbin, Kentucky"\n', encoding="utf-8")
    with _server(location, MAP_TILES="offline", OVERRIDES=str(overrides)) as url:
        yield url


def test_search_page_lists_each_sources_home(context, homes_site, module_store_factory, request):
    from test_source_homes import LOCAL, NATIONAL

    page, watch = watched_page(context, {homes_site})
    page.goto(homes_site + "/?q=council")
    facet = page.locator("section.facet", has=page.locator("h3", has_text="Source"))
    local = facet.locator("li", has_text=LOCAL)
    assert local.locator(".home").inner_text() == "home: Kentucky (United States), inferred"
    assert facet.locator("li", has_text=NATIONAL).locator(".home").count() == 0  # listed, no home
    given = facet.locator("li", has_text="Valley <i>Gazette</i>")  # the name shown as text, not markup
    assert given.locator(".home").inner_text() == "home: Corbin, Kentucky, configured"
    assert page.evaluate("document.querySelectorAll('.facet i').length") == 0
    clean(watch)
