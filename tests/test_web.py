"""The web pages and API through Flask's test client, on a real archive of each kind (Whoosh, PostgreSQL)
built from webfixtures."""

from __future__ import annotations

import json
import re
from html import unescape

import pytest
import webfixtures as wf
from webfixtures import get, km

from web import create_app

# The shared fixtures (tests/webfixtures.py), registered in this module.
index_dir, app, client = wf.index_dir, wf.app, wf.client

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
    assert '<h1>Jarabulus <span class="geonames-name">GeoNames: Jarābulus</span></h1>' in html
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


def test_config_from_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("GEOARCHIVE_INDEX", str(tmp_path))
    monkeypatch.setenv("GEOARCHIVE_RESULTS_PER_PAGE", "5")
    app = create_app()
    assert app.config["INDEX_DIR"] == str(tmp_path) and app.config["RESULTS_PER_PAGE"] == 5
    from web import archive_store

    assert archive_store(app).location == str(tmp_path)


@pytest.mark.parametrize("caches", [{}, {"MAP_CACHE": False, "SEARCH_CACHE_SIZE": 0}], ids=["caches", "no-caches"])
def test_map_cache_sees_a_reindex(archive_location, caches):
    # Without the app's caches, the store's own whole-archive counts (kept per commit) must see it too.
    index_dir = wf.build_index(archive_location)
    client = create_app({"TESTING": True, "INDEX_DIR": index_dir, **caches}).test_client()
    ids = {f["id"] for f in get(client, "/api/places").get_json()["features"]}
    assert 2643743 not in ids
    assert "London" not in get(client, "/map").get_data(as_text=True)
    london = wf.Place(2643743, "London", 51.50853, -0.12574, "GB", "PPLC", 8961989)
    text = "Talks in London."
    wf.add_to(index_dir, [wf.GeotaggedArticle(
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


def test_search_page_date_form_keeps_the_other_filters(client):
    html = get(client, "/?q=jarabulus&country=SY&from=2016-01-01&page=1").get_data(as_text=True)
    form = html[html.index('<form class="daterange"'):]
    form = form[: form.index("</form>")]
    assert '<input type="hidden" name="q" value="jarabulus">' in form
    assert '<input type="hidden" name="country" value="SY">' in form
    assert 'name="from" value="2016-01-01"' in form and 'name="page"' not in form


def test_article_places_list_one_place_per_row(client):
    html = get(client, "/article/sample-jarabulus").get_data(as_text=True)
    box = html[html.index('<ul class="place-list">'):]
    box = box[: box.index("</ul>")]
    rows = re.findall(r"<li>(.*?)</li>", box, re.S)
    assert len(rows) == 6  # Jarabulus, Syria, Azaz, Moscow, United States, Laos
    jarabulus = next(r for r in rows if "/place/169179" in r)
    assert '<span class="cc">Syria</span>' in jarabulus
    assert '<span class="n">2 mentions</span>' in jarabulus  # title and text
    moscow = next(r for r in rows if "/place/524901" in r)
    assert '<span class="cc">Russia</span>' in moscow and "1 mention<" in moscow
    assert "Russian Federation" not in html
    assert "×" not in box
    # A country is not followed by its own name.
    syria = next(r for r in rows if "/place/163843" in r)
    assert 'class="cc"' not in syria
    assert rows.index(jarabulus) == 0  # most mentioned first


@pytest.mark.parametrize("url", ["/article/sample-jarabulus", "/?q=moscow", "/?q=moscow&country=RU",
                                 "/place/524901", "/map?q=moscow"])
def test_country_names_are_the_short_common_ones_everywhere(client, url):
    html = get(client, url).get_data(as_text=True)
    assert "Russian Federation" not in html
    assert "Russia" in html


def test_country_name_prefers_geonames_short_names():
    from web.present import country_name

    assert [country_name(c) for c in ("RU", "ru", "SY", "IR", "GB")] == [
        "Russia", "Russia", "Syria", "Iran", "United Kingdom"]
    assert country_name("ZZ") == "ZZ" and country_name(None) == ""


def test_place_page_heading_is_the_archive_spelling_with_the_geonames_name_beside(client):
    html = get(client, "/place/172082").get_data(as_text=True)
    assert '<h1>Azaz <span class="geonames-name">GeoNames: I‘zāz</span></h1>' in html
    assert "<title>Azaz · GeoArchive</title>" in html
    # The map labels the place as the heading does.
    assert re.search(r'bindTooltip\(\s*`<div>\s*Azaz\s*</div>`', html)
    script = re.search(r'<script nonce="[^"]+">(.*?)</script>', html, re.S)[1]
    assert "I‘zāz" not in script


def test_place_page_heading_keeps_the_geonames_name_when_it_is_the_spelling(client):
    html = get(client, "/place/524901").get_data(as_text=True)
    assert "<h1>Moscow</h1>" in html


@pytest.mark.parametrize("name, spellings, expected", [
    ("I‘zāz", [("Azaz", 3), ("A'zaz", 1)], "Azaz"),
    ("Jarābulus", [("Jarabulus", 9)], "Jarabulus"),
    ("Kyiv", [("Kiev", 3), ("Kyiv", 2)], "Kiev"),
    ("United States", [("US", 9), ("United States", 2)], "United States"),
    ("Myanmar", [("Burma", 2)], "Myanmar"),
    ("Moscow", [("MOSCOW", 5), ("Moscow", 1)], "Moscow"),
    ("Syria", [], "Syria"),
])
def test_common_name(name, spellings, expected):
    from web.present import common_name

    assert common_name(name, spellings) == expected


@pytest.mark.parametrize("gid, lat, lon, zoom", [(172082, 36.5866, 37.0463, 7), (163843, 35.0, 38.0, 5),
                                                 (6252001, 39.76, -98.5, 3)])
def test_place_map_centres_on_the_place(client, gid, lat, lon, zoom):
    html = get(client, f"/place/{gid}").get_data(as_text=True)
    m = re.search(r'L\.map\(\s*"map_\w+",\s*\{\s*center: \[([-\d.]+), ([-\d.]+)\],.*?"zoom": (\d+)', html, re.S)
    assert m, "the map is not centred on a point"
    assert (float(m[1]), float(m[2]), int(m[3])) == (lat, lon, zoom)
    assert "fitBounds" not in html
    assert f"ga-focus ga-place-{gid}" in html


def help_examples(client) -> list[str]:
    html = get(client, "/help").get_data(as_text=True)
    return [unescape(h) for h in re.findall(r'<a class="example" href="([^"]+)">', html)]


def test_help_documents_the_whole_query_language(client):
    from urllib.parse import parse_qsl, urlsplit

    from archive.store.whoosh.parsing import QUERY_FIELDS

    urls = help_examples(client)
    queries = [dict(parse_qsl(urlsplit(u).query)).get("q", "") for u in urls]
    params = {k for u in urls for k, _v in parse_qsl(urlsplit(u).query)}
    for field in QUERY_FIELDS:  # every field prefix the engine accepts has an example
        assert any(q.startswith(f"{field}:") or f" {field}:" in q for q in queries), field
    for needle in (" AND ", " OR ", " NOT ", " -", "+", '"', "(", "^", "*", "?", "~", "~2", "date:[", " TO "):
        assert any(needle in q for q in queries), needle
    assert params >= {"q", "place", "country", "source", "year", "from", "to", "bbox", "near", "radius_km",
                      "sort", "page", "per_page"}


def test_every_help_example_runs_without_error(client):
    urls = help_examples(client)
    assert len(urls) >= 30
    for url in urls:
        response = get(client, url)
        html = response.get_data(as_text=True)
        assert response.status_code == 200, url
        assert 'class="error"' not in html and "Could not understand" not in html, url
        assert 'class="total"' in html, url  # a results page, not the empty search form
        api = get(client, url.replace("/?", "/api/search?", 1))
        assert api.status_code == 200 and "error" not in api.get_json(), url


def test_hit_shows_source_date_and_snippet(client):
    html = get(client, "/?q=fighters").get_data(as_text=True)
    hit = html[html.index('<article class="hit">'):]
    hit = hit[: hit.index("</article>")]
    assert re.search(r'<span class="source">Example Wire</span>\s*<time datetime="2016-08-24">24 Aug 2016</time>', hit)
    assert re.search(r'<p class="snippet">[^<]*<mark>Fighters</mark>', hit)


def hit_places(client, url: str, article_id: str) -> list[str]:
    html = get(client, url).get_data(as_text=True)
    hit = html[html.index(f'href="/article/{article_id}"'):]
    hit = hit[hit.index('<ul class="places">') : hit.index("</article>")]
    return re.findall(r'href="/place/(\d+)"', hit)


@pytest.mark.parametrize("url, first", [
    ("/?q=rebels", "169179"),  # nothing matched a place: order of first mention
    ("/?q=moscow", "524901"),  # the place the query names
    ("/?q=azaz", "172082"),  # under another spelling
    ("/?q=place:Laos", "1655842"),
    ("/?q=rebels&place=172082", "172082"),  # the place filter
    ("/?q=moscow&place=1655842", "1655842"),  # the filter's place before the query's
    ("/?q=rebels&country=RU", "524901"),  # the country filter's places
])
def test_hit_place_chips_put_matched_places_first(client, url, first):
    places = hit_places(client, url, "sample-jarabulus")
    assert places[0] == first
    assert sorted(places) == sorted(["169179", "163843", "172082", "524901", "6252001", "1655842"])
    if "place=1655842" in url:
        assert places[1] == "524901"


def test_place_page_of_a_region_with_a_negative_id(archive_location):
    """Regions missing from GeoNames' tables get synthetic negative ids; their pages and links work."""
    from archive.models import Article, GeotaggedArticle, Place

    england = Place(-827503040, "England", 52.5, -1.5, "GB", "ADM1", 53000000)
    text = "Rain fell across England on Monday."
    doc = GeotaggedArticle(Article("rain-1", "Rain", text, None, None, "Wire"),
                           (wf.mention(text, "England", england),))
    client = create_app({"TESTING": True, "INDEX_DIR": wf.build_index(archive_location, [doc])}).test_client()
    html = get(client, "/article/rain-1").get_data(as_text=True)
    assert 'href="/place/-827503040"' in html
    response = get(client, "/place/-827503040")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<h1>England</h1>" in html and 'href="/article/rain-1"' in html


def test_article_ids_with_slashes_have_working_pages(archive_location):
    from archive.models import Article, GeotaggedArticle

    odd = GeotaggedArticle(Article(id="feeds/world/2016-09-05", title="Slash id", text="Filed from nowhere."))
    app = create_app({"TESTING": True, "INDEX_DIR": wf.build_index(archive_location, extra=[odd])})
    client = app.test_client()
    hits = get(client, "/api/search?q=slash").get_json()["results"]
    assert [h["id"] for h in hits] == ["feeds/world/2016-09-05"]
    page = get(client, "/?q=slash").get_data(as_text=True)
    assert 'href="/article/feeds/world/2016-09-05"' in page
    response = get(client, "/article/feeds/world/2016-09-05")
    assert response.status_code == 200 and "Slash id" in response.get_data(as_text=True)
    assert get(client, "/article/feeds%2Fworld%2F2016-09-05").status_code == 200


def test_result_cache_sees_a_new_ingest(archive_location):
    from archive.models import Article, GeotaggedArticle

    index_dir = wf.build_index(archive_location)
    client = create_app({"TESTING": True, "INDEX_DIR": index_dir, "SEARCH_CACHE_SIZE": 64}).test_client()
    before = get(client, "/api/search?q=zanzibar").get_json()["total"]
    assert get(client, "/api/search?q=zanzibar").get_json()["total"] == before  # answered from the cache
    wf.add_to(index_dir, [GeotaggedArticle(Article(id="z1", title="Zanzibar ferry", text="A ferry."))])
    assert get(client, "/api/search?q=zanzibar").get_json()["total"] == before + 1
    assert "Zanzibar ferry" in get(client, "/?q=zanzibar").get_data(as_text=True)


def test_regions_with_negative_ids_filter_like_any_place(archive_location):
    from archive.models import Article, GeotaggedArticle, Mention, Place

    england = Place(geonameid=-827503040, name="England", lat=52.9, lon=-1.5, country_code="GB", feature="ADM1")
    text = "Floods hit England again."
    ga = GeotaggedArticle(Article(id="e1", title="Floods", text=text),
                          (Mention("text", 11, 18, "England", england, 0.9),))
    client = create_app({"TESTING": True, "INDEX_DIR": wf.build_index(archive_location, extra=[ga])}).test_client()
    data = get(client, "/api/search?q=floods&place=-827503040").get_json()
    assert [h["id"] for h in data["results"]] == ["e1"]
    assert get(client, "/?place=-827503040").status_code == 200
    place_page = get(client, "/place/-827503040")
    assert place_page.status_code == 200
    assert "geonames.org/-827503040" not in place_page.get_data(as_text=True)  # no link to a made-up id
    bad = get(client, "/api/search?place=0")
    assert bad.status_code == 400 and bad.get_json()["param"] == "place"


def test_country_labels_are_short_names_everywhere(client):
    data = get(client, "/api/search?q=jarabulus").get_json()
    labels = {f["value"]: f["label"] for f in data["facets"]["country"]}
    assert labels.get("SY") == "Syria"
    from archive.store.facets import country_name

    assert country_name("RU") == "Russia" and country_name("IR") == "Iran"


def test_issue_4_checks_through_the_api_on_a_real_ingest(tmp_path, archive_location):
    """The sample and an A'zaz article, ingested for real (gazetteer, geotagger, index), then the API."""
    from pathlib import Path

    from archive.pipeline import IngestOptions, run_ingest

    folder = tmp_path / "in"
    folder.mkdir()
    seed = Path(__file__).resolve().parent.parent / "seeds" / "000_30476793be204b5a.txt"
    (folder / "sample.txt").write_text(seed.read_text(encoding="utf-8"), encoding="utf-8")
    (folder / "azaz.txt").write_text("Shelling near the border\n\nRebels in A'zaz, north of Aleppo in Syria, "
                                     "reported shelling overnight.", encoding="utf-8")
    run_ingest([folder], archive_location, IngestOptions(jobs=1))
    client = create_app({"TESTING": True, "INDEX_DIR": archive_location}).test_client()

    def api(query):
        return get(client, "/api/search?" + query).get_json()

    sample = api("q=Jarabulus")
    assert [r["title"] for r in sample["results"]] == [
        "Kremlin laments new United States sanctions after Putin-Obama meeting"]
    assert api("q=Azaz&place=172082")["total"] == 2  # the sample writes Azaz, the other A'zaz
    assert {r["title"] for r in api("q=A'zaz")["results"]} >= {"Shelling near the border"}
    assert sample["results"][0]["id"] in {r["id"] for r in api("bbox=36.5,36.0,38.5,37.2")["results"]}
    assert api("bbox=-82,-19,-68,0")["total"] == 0  # Peru
    assert api("q=Jarablus")["suggestion"] == "Jarabulus"
