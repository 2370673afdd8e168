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
