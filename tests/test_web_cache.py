"""The per-app result and map caches (web/cache.py) really cache, forget on a commit, and store nothing at size 0.

Calls into the real search are counted by wrapping ``archive.store.whoosh.search.search`` and
``archive.store.whoosh.places.place_counts``
(the wrapped function still runs on the real index); a cached answer makes no call.
"""

from __future__ import annotations

import pytest
import webfixtures as wf
from webfixtures import get

from archive.models import Article, GeotaggedArticle
from archive.store.whoosh import places as archive_places
from archive.store.whoosh import search as archive_search
from archive.store.whoosh.index import add_articles
from web import create_app
from web.cache import MapCache


@pytest.fixture
def calls(monkeypatch):
    """Counts of calls into the library's search and place_counts, made through the web app."""
    counts = {"search": 0, "place_counts": 0}
    modules = {"search": archive_search, "place_counts": archive_places}
    for name in counts:
        real = getattr(modules[name], name)

        def counting(*args, _real=real, _name=name, **kwargs):
            counts[_name] += 1
            return _real(*args, **kwargs)

        monkeypatch.setattr(modules[name], name, counting)
    return counts


def make_client(tmp_path, **config):
    index_dir = wf.build_index(tmp_path / "index")
    app = create_app({"TESTING": True, "INDEX_DIR": index_dir, **config})
    return app.test_client(), index_dir


def add_zanzibar(index_dir, n=1):
    add_articles(index_dir, [GeotaggedArticle(Article(id=f"z{n}", title=f"Zanzibar ferry {n}", text="A ferry."))])


def total(client, url):
    response = get(client, url)
    assert response.status_code == 200
    return response.get_json()["total"]


def test_a_repeated_search_is_answered_from_the_result_cache(tmp_path, calls):
    client, _ = make_client(tmp_path, SEARCH_CACHE_SIZE=64)
    first = total(client, "/api/search?q=jarabulus")
    assert first > 0 and calls["search"] == 1
    assert total(client, "/api/search?q=jarabulus") == first
    assert get(client, "/?q=jarabulus").status_code == 200  # the page and the API share one entry
    assert calls["search"] == 1
    total(client, "/api/search?q=kyiv")
    total(client, "/api/search?q=jarabulus&page=2")
    assert calls["search"] == 3  # another query, another page: entries of their own


def test_a_commit_empties_the_result_cache(tmp_path, calls):
    client, index_dir = make_client(tmp_path, SEARCH_CACHE_SIZE=64)
    assert total(client, "/api/search?q=zanzibar") == 0
    assert total(client, "/api/search?q=zanzibar") == 0
    assert calls["search"] == 1
    add_zanzibar(index_dir)
    assert total(client, "/api/search?q=zanzibar") == 1
    assert calls["search"] == 2
    assert total(client, "/api/search?q=zanzibar") == 1
    assert calls["search"] == 2


def test_a_result_cache_of_size_0_never_stores(tmp_path, calls):
    client, _ = make_client(tmp_path, SEARCH_CACHE_SIZE=0)
    for n in range(1, 4):
        total(client, "/api/search?q=jarabulus")
        assert calls["search"] == n
    assert "geoarchive_search_cache" not in client.application.extensions


def test_the_result_cache_keeps_at_most_its_size(tmp_path, calls):
    client, _ = make_client(tmp_path, SEARCH_CACHE_SIZE=2)
    for q in ("jarabulus", "kyiv", "moscow", "jarabulus"):  # jarabulus was evicted by moscow
        total(client, f"/api/search?q={q}")
    assert calls["search"] == 4
    total(client, "/api/search?q=moscow")
    assert calls["search"] == 4


def test_a_repeated_map_is_answered_from_the_map_cache(tmp_path, calls):
    client, _ = make_client(tmp_path)
    first = get(client, "/map").get_data(as_text=True)
    made = calls["place_counts"]
    assert made >= 1 and "Jar" in first
    assert get(client, "/map").get_data(as_text=True).count("Jar") == first.count("Jar")
    features = get(client, "/api/places?q=jarabulus").get_json()["features"]
    assert get(client, "/api/places?q=jarabulus").get_json()["features"] == features
    assert calls["place_counts"] == made + 1
    get(client, "/map?q=kyiv")
    assert calls["place_counts"] > made + 1


def test_a_commit_empties_the_map_cache(tmp_path, calls):
    client, index_dir = make_client(tmp_path)
    ids = {f["id"] for f in get(client, "/api/places").get_json()["features"]}
    get(client, "/api/places")
    assert calls["place_counts"] == 1
    london = wf.Place(2643743, "London", 51.50853, -0.12574, "GB", "PPLC", 8961989)
    text = "Talks in London."
    add_articles(index_dir, [wf.GeotaggedArticle(wf.Article("london-1", "London talks", text),
                                                 (wf.mention(text, "London", london),))])
    assert {f["id"] for f in get(client, "/api/places").get_json()["features"]} == ids | {2643743}
    assert calls["place_counts"] == 2


@pytest.mark.parametrize("config", [{"MAP_CACHE_SIZE": 0}, {"MAP_CACHE": False}])
def test_a_map_cache_of_size_0_or_off_never_stores(tmp_path, calls, config):
    client, _ = make_client(tmp_path, **config)
    for n in range(1, 4):
        assert get(client, "/api/places").status_code == 200
        assert calls["place_counts"] == n


def test_map_cache_unit(tmp_path):
    computed = []

    def compute(value):
        computed.append(value)
        return value

    cache = MapCache(size=2)
    assert [cache.get_or_compute(tmp_path, k, lambda k=k: compute(k)) for k in "aaba"] == list("aaba")
    assert computed == ["a", "b"]
    cache.get_or_compute(tmp_path, "c", lambda: compute("c"))  # evicts b, the least recently used
    cache.get_or_compute(tmp_path, "a", lambda: compute("a"))
    cache.get_or_compute(tmp_path, "b", lambda: compute("b"))
    assert computed == ["a", "b", "c", "b"]

    nothing = MapCache(size=0)
    for _ in range(3):
        assert nothing.get_or_compute(tmp_path, "a", lambda: compute("z")) == "z"
    assert computed.count("z") == 3


def test_the_load_benchmarks_uncached_server_has_no_caches(tmp_path, calls, monkeypatch):
    """bench/load.py measures its uncached figure with these variables: they must turn both caches off."""
    import importlib.util
    from pathlib import Path

    spec = importlib.util.spec_from_file_location("bench_load", Path(__file__).parent.parent / "bench" / "load.py")
    load = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(load)
    index_dir = wf.build_index(tmp_path / "index")
    monkeypatch.setenv("GEOARCHIVE_INDEX", str(index_dir))
    for name, value in load.MODES["uncached"].items():
        monkeypatch.setenv(name, value)
    client = create_app().test_client()  # settings from the environment, as geoarchive serve reads them
    for n in range(1, 3):
        total(client, "/api/search?q=jarabulus")
        get(client, "/api/places")
        assert calls == {"search": n, "place_counts": n}
    assert load.MODES["cached"] == {}  # the other server: the app's defaults, caches on
