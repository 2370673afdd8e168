"""The front page: the archive's numbers, busiest places, latest articles and example searches."""

from __future__ import annotations

import datetime as dt
import re
from html import unescape

import pytest
import webfixtures as wf

from archive.models import Article, Coverage, GeotaggedArticle, SearchRequest
from archive.store import open_store
from archive.store.base import Store
from web import create_app


@pytest.fixture
def index_dir(archive_location):
    """The web test articles in a new archive of each kind (tests/stores.py)."""
    return wf.build_index(archive_location)


def make_client(index_dir):
    return create_app({"TESTING": True, "INDEX_DIR": index_dir, "LOG_REQUESTS": False}).test_client()


def front(client) -> str:
    response = client.get("/")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def numbers(body: str) -> dict[str, str]:
    block = re.search(r'<ul class="front-numbers">(.*?)</ul>', body, re.S).group(1)
    return {m.group(2): m.group(1) for m in re.finditer(r"<strong>([\d,]+)</strong> (\w+?)s?</li>", block)}


def test_front_page_shows_the_archive(index_dir):
    client = make_client(index_dir)
    body = front(client)
    assert numbers(body) == {"article": "10", "place": "8", "source": "3"}
    assert '<time datetime="2016-03-01">1 Mar 2016</time>' in body and '<time datetime="2016-09-02">' in body
    # The busiest places, listed and on a map.
    places = re.findall(r'<ol class="front-place-list">(.*?)</ol>', body, re.S)[0]
    assert re.findall(r'href="/place/(\d+)"', places)[:2] == ["169179", "703448"]
    assert 'class="ga-map front-map"' in body
    # Latest articles, newest first, escaped.
    latest = re.findall(r'<li class="latest">\s*<a href="/article/([^"]+)"', body)
    assert latest[:3] == ["hostile-1", "sample-jarabulus", "update-5"]
    assert "<script>window.__pwned" not in body and "&lt;script&gt;window.__pwned" in body


def test_every_example_search_finds_articles(index_dir):
    client = make_client(index_dir)
    body = front(client)
    block = re.search(r'<div class="front-examples">(.*?)</div>', body, re.S).group(1)
    links = [unescape(h) for h in re.findall(r'href="([^"]+)"', block)]
    assert len(links) >= 4
    assert "/?place=169179" in links  # the busiest place that is not a country
    for link in links:
        data = client.get("/api/search" + link[1:]).get_json()
        assert data["total"] > 0, link


def test_front_page_follows_the_index(index_dir):
    client = make_client(index_dir)
    assert numbers(front(client))["article"] == "10"
    text = "Late news from Kyiv."
    late = GeotaggedArticle(Article("late-1", "Late Kyiv story", text, dt.date(2017, 5, 1), None, "Late Wire"),
                            (wf.mention(text, "Kyiv", wf.KYIV),))
    open_store(index_dir).add([late])
    body = front(client)
    assert numbers(body) == {"article": "11", "place": "8", "source": "4"}
    assert re.findall(r'<li class="latest">\s*<a href="/article/([^"]+)"', body)[0] == "late-1"


def test_front_page_is_computed_once_per_generation(index_dir):
    from web.cache import cached
    from web.views import build_front

    app = create_app({"TESTING": True, "INDEX_DIR": index_dir, "LOG_REQUESTS": False})
    with app.test_request_context("/"):
        first = cached(("front",), build_front)
        assert cached(("front",), build_front) is first
        open_store(index_dir).add([wf.sample()])  # a commit: a new generation
        assert cached(("front",), build_front) is not first


def test_missing_archive_says_so(archive_location):
    body = front(make_client(archive_location))  # nothing written there: no folder, no tables
    assert "The archive is empty" in body and "geoarchive ingest" in body
    assert "front-numbers" not in body


def test_empty_index_says_so(make_store):
    store = make_store()
    with store.writer():
        pass  # an index with no articles (every file skipped, say)
    assert store.stats().articles == 0
    assert store.coverage() == Coverage()
    body = front(make_client(store.location))
    assert "The archive is empty" in body and "no index has been built" not in body


def test_coverage_matches_the_interface_default(index_dir):
    store = open_store(index_dir)
    open_store(index_dir).add([GeotaggedArticle(Article("undated-x", "No date", "Nothing.", None, None, None))])
    fast = store.coverage()
    assert fast == Store.coverage(store)  # the generic implementation over iter_hits
    assert fast == Coverage(sources=(("Wire", 8), ("Example Wire", 1), (wf.hostile().article.source, 1)),
                            first=dt.date(2016, 3, 1), last=dt.date(2016, 9, 2), undated=1)
    assert store.search(SearchRequest(per_page=1)).total == 11
