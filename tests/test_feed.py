"""The Atom feed of a search (/search.atom), parsed with feedparser."""

from __future__ import annotations

import datetime as dt
import re
from xml.etree import ElementTree

import feedparser
import pytest
import webfixtures as wf

from archive.models import Article, GeotaggedArticle
from web import create_app

ATOM = "{http://www.w3.org/2005/Atom}"
#: A headline with characters XML 1.0 cannot carry, CDATA's end and markup.
ODD_TITLE = "Odd \x01\x0b headline ]]> <b>&amp; Kyiv</b> \ufffe"


def odd_articles() -> list[GeotaggedArticle]:
    text = "Controls \x02 in the body, reported from Kyiv."
    odd = GeotaggedArticle(Article("odd-1", ODD_TITLE, text, dt.date(2016, 12, 1), None, "Odd <Wire>"),
                           (wf.mention(text, "Kyiv", wf.KYIV),))
    undated = GeotaggedArticle(Article("undated-1", "Undated Kyiv note", "From Kyiv, no date.", None, None, "W"),
                               (wf.mention("From Kyiv, no date.", "Kyiv", wf.KYIV),))
    return [odd, undated]


@pytest.fixture(scope="module")
def client(module_store_factory):
    """The app over the test articles in an archive of each kind (tests/stores.py)."""
    index_dir = wf.build_index(module_store_factory.location(), extra=odd_articles())
    return create_app({"TESTING": True, "INDEX_DIR": index_dir, "LOG_REQUESTS": False}).test_client()


def feed(client, query: str):
    response = client.get("/search.atom?" + query)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/atom+xml; charset=utf-8"
    body = response.get_data()
    ElementTree.fromstring(body)  # well-formed XML, or this raises
    parsed = feedparser.parse(body)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    return parsed, body


def test_feed_is_valid_atom_newest_first(client):
    parsed, body = feed(client, "q=jarabulus")
    entries = parsed.entries
    assert len(entries) == 9
    dates = [e.updated_parsed for e in entries]
    assert dates == sorted(dates, reverse=True)
    first = entries[0]
    assert first.title == "Turkish-backed rebels take Jarabulus from Islamic State"
    assert first.link == "http://localhost/article/sample-jarabulus"
    assert first.id == "http://localhost/article/sample-jarabulus"
    assert first.author == "Example Wire"
    # The snippet, as escaped HTML (feedparser's sanitiser then drops the <mark> it does not know).
    assert first.summary_detail.type == "text/html" and "town of Jarabulus on" in first.summary
    assert b"&lt;mark&gt;Jarabulus&lt;/mark&gt;" in body
    assert {t.term for t in first.tags} >= {"169179", "6252001"}
    assert parsed.feed.updated.startswith("2016-08-24")
    # Atom's required elements: feed id, title, updated; each entry's id, title, updated.
    root = ElementTree.fromstring(body)
    for name in ("id", "title", "updated"):
        assert root.find(ATOM + name) is not None
    for entry in root.findall(ATOM + "entry"):
        assert all(entry.find(ATOM + name) is not None for name in ("id", "title", "updated", "author"))


def test_feed_applies_filters_and_ignores_sort(client):
    parsed, _ = feed(client, "q=jarabulus&place=703448&sort=oldest&per_page=3")
    assert [e.title for e in parsed.entries] == [f"Jarabulus update {i}" for i in (5, 4, 3)]  # Aug, Jul, Jun 2016
    assert "place=703448" in parsed.feed.title


def test_hostile_and_odd_text_is_escaped(client):
    parsed, body = feed(client, "q=hostile OR odd")
    titles = [e.title for e in parsed.entries]
    assert "Odd  headline ]]> <b>&amp; Kyiv</b>" in titles  # text, controls dropped, markup kept as text
    assert any("<script>window.__pwned='script'</script>" in t for t in titles)
    assert b"<script" not in body and b"<img" not in body  # only ever as &lt;script
    odd = next(e for e in parsed.entries if e.title.startswith("Odd"))
    assert odd.author == "Odd <Wire>"
    hostile = next(e for e in parsed.entries if e.title.startswith("Hostile"))
    assert all(link.href.startswith("http://localhost/") for link in hostile.links)  # no javascript: link


def test_undated_articles_are_left_out(client):
    parsed, _ = feed(client, "q=kyiv&per_page=100")
    ids = [e.id for e in parsed.entries]
    assert "http://localhost/article/odd-1" in ids  # control: dated Kyiv articles are in
    assert "http://localhost/article/undated-1" not in ids


def test_an_empty_search_is_a_valid_empty_feed(client):
    parsed, _ = feed(client, "q=zzyzx")
    assert parsed.entries == [] and parsed.feed.title == "GeoArchive: zzyzx"


def test_bad_parameters_get_400(client):
    response = client.get("/search.atom?q=kyiv&bbox=1,2")
    assert response.status_code == 400


def test_results_page_links_to_its_feed(client):
    body = client.get("/?q=jarabulus&place=703448&sort=oldest").get_data(as_text=True)
    links = re.findall(r'<link rel="alternate" type="application/atom\+xml"[^>]*href="([^"]+)"', body)
    assert links == ["/search.atom?q=jarabulus&amp;place=703448"]
    assert 'class="feed" href="/search.atom?q=jarabulus&amp;place=703448"' in body
    assert client.get("/help").get_data(as_text=True).count("application/atom+xml") == 0  # only on results


def test_place_page_links_its_feed_and_exports(client):
    body = client.get("/place/703448").get_data(as_text=True)
    assert ('<link rel="alternate" type="application/atom+xml" title="GeoArchive: Kyiv" '
            'href="/search.atom?place=703448">') in body
    assert 'href="/api/search?place=703448&amp;sort=newest&amp;format=csv"' in body
    parsed, _ = feed(client, "place=703448")
    assert parsed.entries and all("703448" in {t.term for t in e.tags} for e in parsed.entries)
