"""The web package's pure helpers, without a server."""

from __future__ import annotations

import pytest
import webfixtures as wf

from web import maps, present, security


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


def _without_ids(text: str) -> str:
    import re

    return re.sub(r"_[0-9a-f]{32}(?![0-9a-f])", "_ID", str(text))


@pytest.mark.parametrize("places, heatmap", [
    ([wf.JARABULUS, wf.MOSCOW, wf.LAOS], False),  # a box: fitBounds
    ([wf.MOSCOW, wf.LAOS, wf.USA, wf.KYIV], True),  # another box, with the heatmap layer
    ([wf.SYRIA], False),  # one point: centred at zoom 7
    ([wf.HOSTILE_PLACE, wf.AZAZ], True),
])
def test_fast_map_from_its_cached_script_is_the_one_folium_draws(places, heatmap):
    """A fast map's script is rendered once per shape and reused with its own bounds and new names:
    each map must read exactly as folium draws it for the same places."""
    from archive.models import PlaceCount
    from web import create_app

    app = create_app({"TESTING": True, "INDEX_DIR": "unused"})
    shapes = [[wf.AZAZ, wf.KYIV], [wf.USA, wf.LAOS], [wf.JARABULUS]]  # fill the cache with other bounds first
    with app.test_request_context("/?q=x"):
        for other in shapes:
            maps.places_map([PlaceCount(p, 2) for p in other], heatmap=heatmap, fast=True)
        counts = [PlaceCount(p, i + 1) for i, p in enumerate(places)]
        first = maps.places_map(counts, heatmap=heatmap, fast=True)
        second = maps.places_map(counts, heatmap=heatmap, fast=True)
        drawn = maps._folium_map(counts, narrow=None, heatmap=heatmap, focused=None, fast=True)
    assert app.extensions["geoarchive_map_skeletons"]  # the cached scripts were used
    for parts in (first, second):
        for name in ("header", "html", "script", "rows", "countries", "most", "attribution", "fallback_url"):
            assert _without_ids(getattr(parts, name)) == _without_ids(getattr(drawn, name)), name
        assert parts.name in str(parts.script) and parts.name in str(parts.html)
        assert parts.cluster_name in str(parts.script)
        assert (parts.heat_name in str(parts.script)) if heatmap else not parts.heat_name
    assert first.name != second.name and first.cluster_name != second.cluster_name  # each map its own names
    lats = [p.lat for p in places]
    if len(places) > 1:
        assert f"[[{min(lats)}, " in str(first.script) and "fitBounds" in str(first.script)
    else:
        assert f"center: [{places[0].lat}, {places[0].lon}]" in str(first.script)
