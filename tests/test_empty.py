"""An archive with no articles (fresh, or every file skipped) answers 0 everywhere, never 500.

Real parts only: a real archive of each kind (a Whoosh index, a database on the tests' own
PostgreSQL server) created by a writer that wrote nothing (what an ingest whose files were all
skipped leaves behind), the real CLI and the real Flask app. Each check has a
positive control: the same calls on an index holding one article find it.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from click.testing import CliRunner

from archive.cli import cli
from archive.models import Article, GeotaggedArticle, Mention, Place, SearchRequest
from archive.store import open_store

ALEPPO = Place(170063, "Aleppo", 36.20124, 37.16117, "SY", "PPLA", 1602264)

REQUESTS = [
    SearchRequest(q="Syria"),
    SearchRequest(q='"siege of Aleppo"'),  # phrases take Whoosh's own path
    SearchRequest(q="place:Aleppo"),
    SearchRequest(place=ALEPPO.geonameid, sort="newest"),
    SearchRequest(sort="newest"),
    SearchRequest(q="Aleppo", country="SY", year=2016, bbox=(30.0, 30.0, 40.0, 40.0)),
]


def _one_article() -> GeotaggedArticle:
    text = "The siege of Aleppo ended, officials in Aleppo said."
    start = text.index("Aleppo")
    a = Article("one", "Siege of Aleppo ends in Syria", text, dt.date(2016, 12, 22), source="Wire")
    return GeotaggedArticle(a, (Mention("text", start, start + 6, "Aleppo", ALEPPO, 0.9),))


@pytest.fixture(scope="module")
def empty_index(module_store_factory) -> str:
    """The location of an empty archive of each kind (tests/stores.py)."""
    store = module_store_factory()
    with store.writer():
        pass  # a writer that writes nothing: what an ingest of only skipped files leaves
    if module_store_factory.kind == "whoosh":
        assert any(Path(store.location).glob("*.toc")), "the index exists (it is empty, not missing)"
    return store.location


@pytest.fixture(scope="module")
def one_index(module_store_factory) -> str:
    """The location of an archive of the same kind holding one article."""
    store = module_store_factory()
    store.add([_one_article()])
    return store.location


@pytest.mark.parametrize("req", REQUESTS, ids=lambda r: r.q or f"filters-{r.place or r.sort}")
def test_store_search_on_empty_index_is_zero(empty_index, one_index, req):
    page = open_store(empty_index).search(req)
    assert (page.total, page.hits) == (0, ())
    assert all(values == () for values in page.facets.values()) and page.facets
    assert list(open_store(empty_index).iter_hits(req)) == []
    control = open_store(one_index).search(req)
    assert control.total == 1 and control.hits[0].id == "one"


def test_store_places_and_stats_on_empty_index(empty_index, one_index):
    store = open_store(empty_index)
    assert store.place_counts(SearchRequest()) == []
    assert store.place_counts(SearchRequest(q="Aleppo"), top=0) == []
    assert store.place_summary(ALEPPO.geonameid) is None
    assert store.get_article("one") is None
    s = store.stats()
    assert (s.articles, s.places, s.mentions) == (0, 0, 0) and s.bytes > 0
    control = open_store(one_index)
    assert [pc.place.geonameid for pc in control.place_counts(SearchRequest())] == [ALEPPO.geonameid]
    assert control.place_summary(ALEPPO.geonameid).articles == 1
    assert control.stats().articles == 1


def test_cli_on_empty_index(empty_index, one_index):
    runner = CliRunner()
    result = runner.invoke(cli, ["search", "Aleppo", "--index", str(empty_index)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("0 results (page 1 of 1)\n")
    assert f"The archive at {empty_index} holds 0 articles; add some with: geoarchive ingest" in result.output
    result = runner.invoke(cli, ["search", "--place", str(ALEPPO.geonameid), "--json", "--index", str(empty_index)])
    assert result.exit_code == 0, result.output
    assert '"total": 0' in result.output
    result = runner.invoke(cli, ["stats", "--json", "--index", str(empty_index)])
    assert result.exit_code == 0 and '"articles": 0' in result.output
    control = runner.invoke(cli, ["search", "Aleppo", "--index", str(one_index)])
    assert control.exit_code == 0 and control.output.startswith("1 results") and "holds 0" not in control.output


@pytest.mark.parametrize("url, expect", [
    ("/api/search?q=Aleppo", '"total":0'),
    ("/api/search?place=170063", '"total":0'),
    ("/api/search?q=%22siege+of+Aleppo%22", '"total":0'),
    ("/api/places?q=Aleppo", '"features":[]'),
    ("/api/places", '"features":[]'),
    ("/?q=Aleppo", "0 articles for <q>Aleppo</q>"),
    ("/?place=170063", "0 articles"),
    ("/map", "0 places"),
    ("/map?q=Aleppo", "0 places"),
])
def test_web_on_empty_index(empty_index, one_index, url, expect):
    from web import create_app

    for index, want in ((empty_index, expect), (one_index, None)):
        client = create_app({"TESTING": True, "INDEX_DIR": index}).test_client()
        with client.get(url) as response:
            body = response.get_data(as_text=True).replace(" ", "").replace("\n", "") \
                if url.startswith("/api") else " ".join(response.get_data(as_text=True).split())
            assert response.status_code == 200, body[:500]
            if want is not None:
                assert want in body, body[:2000]
            else:
                assert expect not in body  # the control finds the article


def test_web_place_page_on_empty_index_is_404_not_500(empty_index, one_index):
    from web import create_app

    client = create_app({"TESTING": True, "INDEX_DIR": empty_index}).test_client()
    with client.get("/place/170063") as response:
        assert response.status_code == 404
        assert "No article in the archive names the place 170063" in response.get_data(as_text=True)
    control = create_app({"TESTING": True, "INDEX_DIR": one_index}).test_client()
    with control.get("/place/170063") as response:
        assert response.status_code == 200 and "Siege of Aleppo ends" in response.get_data(as_text=True)
