"""Safe serving: escaping of hostile fields, no external assets, CSP and headers, limits, waitress."""

from __future__ import annotations

import json
import logging
import re
from html.parser import HTMLParser

import pytest
import webfixtures as wf
from webfixtures import get

from web import create_app

# The shared fixtures (tests/webfixtures.py), registered in this module.
index_dir, app, client = wf.index_dir, wf.app, wf.client


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
    for script in re.findall(r"<script[^>]*>(.*?)</script>", html, flags=re.S):
        assert "<img src=x" not in script and "<script>window" not in script
        # ${...} only runs inside a template literal: folium's popups $(`...`) and tooltips.
        literals = re.findall(r"\$\(`(.*?)`\)\[0\]|bindTooltip\(\s*`(.*?)`", script, flags=re.S)
        for literal in (a or b for a, b in literals):
            assert "${" not in literal and "{{" not in literal


def test_hostile_article_shows_text_not_links(client):
    html = get(client, "/article/hostile-1").get_data(as_text=True)
    assert "&lt;script&gt;window.__pwned=&#39;script&#39;&lt;/script&gt;" in html
    assert 'class="original"' not in html  # a javascript: URL is shown as text, not linked
    assert "javascript:window.__pwned" in html


def test_folium_template_literals_are_neutralised(index_dir):
    # folium puts popups and tooltips inside `...` in the map script; ${...} there would run.
    # (The /map page builds its markers in the browser; the front page's and place pages' small
    # maps are drawn by folium, with these popups.)
    from archive.models import PlaceCount
    from web import maps

    app = create_app({"TESTING": True, "INDEX_DIR": index_dir})
    counts = [PlaceCount(wf.HOSTILE_PLACE, 2, (("hostile-1", f"Headline {wf.LITERAL}"),))]
    with app.test_request_context("/map?q=hostile"):
        script = str(maps.places_map(counts, narrow={"q": "hostile"}, fast=False).script)
    assert "${" not in script
    assert "&#36;&#123;window.__pwned" in script and "Headline &#96;&#36;&#123;" in script


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


def test_query_string_limit(client):
    response = get(client, "/api/search?q=a&junk=" + "y" * 13000)
    assert response.status_code == 400 and response.get_json()["ok"] is False
    assert response.get_json()["param"] == "junk"


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


def test_request_log_line(client, caplog):
    with caplog.at_level(logging.INFO, logger="web.requests"):
        get(client, "/healthz")
    assert re.search(r"GET /healthz 200 \d+\.\dms", caplog.text)


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
        # Closed by its own loop (closing the socket from here could pull it from under the
        # loop's select: EBADF in the server thread), which then ends with nothing to watch.
        server.trigger.pull_trigger(server.close)
        thread.join(timeout=5)
        server.task_dispatcher.shutdown()
    assert not thread.is_alive()
