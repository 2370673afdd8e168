"""Search behaviour (archive.store.query and every Store): one suite run against each engine on a small
real archive written by the tests (tests/stores.py)."""

import datetime as dt

import pytest

from archive.errors import QueryError
from archive.models import Article, GeotaggedArticle, Mention, Place, SearchRequest
from archive.store.query import parse_request

JARABULUS = Place(169179, "Jarābulus", 36.8175, 38.01111, "SY", "PPLA2", 24997)
AZAZ = Place(172082, "I‘zāz", 36.58662, 37.04628, "SY", "PPLA2", 31534)
SYRIA = Place(163843, "Syria", 35.0, 38.0, "SY", "PCLI", 22198110)
MOSCOW = Place(524901, "Moscow", 55.75222, 37.61556, "RU", "PPLC", 10381222)
LIMA = Place(3936456, "Lima", -12.04318, -77.02824, "PE", "PPLC", 7737002)
PERU = Place(3932488, "Peru", -10.0, -76.0, "PE", "PCLI", 29907003)


def _article(aid, title, text, date, source, places):
    mentions = []
    for surface, place in places:
        field, body = ("title", title) if surface in title and surface not in text else ("text", text)
        start = body.index(surface)
        mentions.append(Mention(field, start, start + len(surface), surface, place, 0.9))
    return GeotaggedArticle(Article(aid, title, text, date, f"https://news.example/{aid}", source,
                                    origin=f"seed/{aid}.txt"), tuple(mentions))


ARTICLES = [
    _article("jar", "Turkish tanks roll into Jarabulus",
             "Turkish tanks crossed the border into Jarabulus on Wednesday while rebels held A'zaz. "
             "The Kremlin lamented new United States sanctions.", dt.date(2016, 8, 24), "Reuters",
             [("Jarabulus", JARABULUS), ("A'zaz", AZAZ)]),
    _article("izaz", "Calm returns to northern town",
             "Residents of I‘zāz said the market reopened. Aid convoys reached the town by evening.",
             dt.date(2016, 9, 2), "CNN (Web News)", [("I‘zāz", AZAZ)]),
    _article("azaz", "Azaz hospital reopens",
             "Doctors in Azaz reopened the hospital after months of fighting in Syria.",
             dt.date(2017, 1, 15), "Reuters", [("Azaz", AZAZ), ("Syria", SYRIA)]),
    _article("moscow", "Kremlin answers sanctions",
             "Moscow said the sanctions were a mistake. Officials in Moscow promised a measured response.",
             dt.date(2016, 9, 30), "TASS", [("Moscow", MOSCOW)]),
    _article("lima", "Copper exports climb in Peru",
             "Mining companies in Lima reported record copper exports. Peru expects more growth.",
             dt.date(2015, 5, 5), "Reuters", [("Lima", LIMA), ("Peru", PERU)]),
    _article("bbc", "Running shoes and the marathon economy",
             "Sports retailers said the marathon boom lifted sales of running shoes.",
             None, "BBC News", []),
    _article("xss", "<script>alert('t')</script> & <b>bold</b> market news",
             "The <img src=x onerror=alert(1)> market rallied & traders cheered <script>steal()</script>.",
             dt.date(2018, 3, 3), "Evil <Source>", []),
]
ARTICLES += [
    _article(f"filler{i}", f"Grain harvest report {i}", f"Farmers reported a grain harvest of {i} tonnes.",
             dt.date(2019, 1, 1) + dt.timedelta(days=i), "Reuters", [])
    for i in range(25)
]


@pytest.fixture(scope="module")
def ix(module_store_factory):
    """A Store of each kind holding ARTICLES."""
    store = module_store_factory()
    store.add(ARTICLES)
    return store


def run(ix, **params):
    return ix.search(parse_request({k: str(v) for k, v in params.items()}))


def ids(page):
    return [h.id for h in page.hits]


def test_word_finds_article_with_snippet_and_places(ix):
    page = run(ix, q="Jarabulus")
    assert ids(page) == ["jar"]
    hit = page.hits[0]
    assert "<mark>Jarabulus</mark>" in hit.snippet
    assert {p.geonameid for p in hit.places} == {JARABULUS.geonameid, AZAZ.geonameid}
    assert hit.url == "https://news.example/jar" and hit.date == dt.date(2016, 8, 24)


def test_stemming(ix):
    assert "moscow" in ids(run(ix, q="sanction"))
    assert "<mark>reopened</mark>" in run(ix, q="reopening").hits[0].snippet


def test_title_weighted_above_body(ix):
    # "sanctions" is in the title of one article and the body of another.
    assert ids(run(ix, q="sanctions"))[0] == "moscow"


def test_phrase(ix):
    assert ids(run(ix, q='"copper exports"')) == ["lima"]
    assert ids(run(ix, q='"exports copper"')) == []


def test_fuzzy_term(ix):
    assert ids(run(ix, q="kremlim~")) != []
    assert set(ids(run(ix, q="kremlim~"))) == {"jar", "moscow"}
    assert ids(run(ix, q="kremlim")) == []


@pytest.mark.parametrize(("q", "expected"), [
    ("sanctions AND Moscow", {"moscow"}),
    ("copper OR marathon", {"lima", "bbc"}),
    ("sanctions NOT Moscow", {"jar"}),
    ("sanctions -Moscow", {"jar"}),
    ("Syria", {"azaz"}),
])
def test_boolean_operators(ix, q, expected):
    assert set(ids(run(ix, q=q))) == expected


@pytest.mark.parametrize(("q", "expected"), [
    ("title:sanctions", {"moscow"}),
    ("source:tass", {"moscow"}),
    ("country:PE", {"lima"}),
    ("country:peru", {"lima"}),
    ("place:Moscow", {"moscow"}),
    ("place:Azaz", {"jar", "izaz", "azaz"}),
    ("place:172082", {"jar", "izaz", "azaz"}),
])
def test_field_prefixes(ix, q, expected):
    assert set(ids(run(ix, q=q))) == expected


def test_wildcards(ix):
    assert set(ids(run(ix, q="sanc*"))) == {"jar", "moscow"}
    assert set(ids(run(ix, q="marat?on"))) == {"bbc"}
    with pytest.raises(QueryError) as err:
        run(ix, q="s*")
    assert err.value.param == "q"


def test_date_range_in_query_and_parameters(ix):
    assert set(ids(run(ix, q="date:[2016-01-01 TO 2016-12-31]"))) == {"jar", "izaz", "moscow"}
    assert set(ids(run(ix, q="town", **{"from": "2016-09-01", "to": "2016-12-31"}))) == {"izaz"}
    assert set(ids(run(ix, q="Azaz", year=2017))) == {"azaz"}


def test_sort_orders(ix):
    newest = ids(run(ix, q="Azaz", sort="newest"))
    assert newest == ["azaz", "izaz", "jar"]
    assert ids(run(ix, q="Azaz", sort="oldest")) == ["jar", "izaz", "azaz"]
    # Undated articles come last whichever way dates run.
    assert ids(run(ix, q="marathon OR copper", sort="newest")) == ["lima", "bbc"]
    assert ids(run(ix, q="marathon OR copper", sort="oldest")) == ["lima", "bbc"]


def test_paging_and_total(ix):
    first = run(ix, q="grain", per_page=10)
    third = run(ix, q="grain", per_page=10, page=3)
    assert first.total == third.total == 25 and first.pages == 3
    assert len(first.hits) == 10 and len(third.hits) == 5
    assert not set(ids(first)) & set(ids(third))


def test_empty_query_browses_newest_first_with_filters(ix):
    page = run(ix, source="Reuters", per_page=100)
    assert page.total == 28
    assert ids(page)[0] == "filler24" and ids(page)[-1] == "lima"
    assert run(ix).total == len(ARTICLES)


def test_facets_count_the_whole_result_set(ix):
    page = run(ix, q="Azaz OR grain", per_page=2, country="SY")
    assert page.total == 3
    facets = page.facets
    assert [(f.value, f.label, f.count, f.selected) for f in facets["country"]] == [("SY", "Syria", 3, True)]
    places = {f.value: (f.label, f.count) for f in facets["place"]}
    assert places[str(AZAZ.geonameid)] == ("I‘zāz", 3)
    assert places[str(JARABULUS.geonameid)] == ("Jarābulus", 1)
    assert {f.value: f.count for f in facets["source"]} == {"Reuters": 2, "CNN (Web News)": 1}
    assert [(f.value, f.count) for f in facets["year"]] == [("2017", 1), ("2016", 2)]


def test_place_filter_matches_every_spelling(ix):
    page = run(ix, q="Azaz", place=AZAZ.geonameid)
    assert set(ids(page)) == {"jar", "izaz", "azaz"}
    snippets = {h.id: h.snippet for h in page.hits}
    assert "<mark>A&#x27;zaz</mark>" in snippets["jar"] or "<mark>A'zaz</mark>" in snippets["jar"]
    assert "<mark>I‘zāz</mark>" in snippets["izaz"]


def test_bbox_filter(ix):
    northern_syria = run(ix, bbox="35.5,35.8,38.5,37.2")
    assert set(ids(northern_syria)) == {"jar", "izaz", "azaz"}
    assert set(ids(run(ix, q="Jarabulus", bbox="-82,-19,-68,0"))) == set()
    assert set(ids(run(ix, bbox="-82,-19,-68,0"))) == {"lima"}


def test_radius_filter(ix):
    # Azaz is 89.9 km from Jarabulus (geodesic): the radius edge decides.
    assert set(ids(run(ix, near="36.8175,38.0111", radius_km=30))) == {"jar"}
    assert set(ids(run(ix, near="36.8175,38.0111", radius_km=89))) == {"jar"}
    assert set(ids(run(ix, near="36.8175,38.0111", radius_km=91))) == {"jar", "izaz", "azaz"}


def test_misspelled_place_suggestion(ix):
    page = run(ix, q="Jarablus")
    assert page.total == 0 and page.suggestion == "Jarabulus"
    assert run(ix, q="tanks Jarablus").suggestion == "tanks Jarabulus"
    assert run(ix, q="Jarabulus").suggestion is None


def test_hostile_text_is_escaped_in_snippets(ix):
    page = run(ix, q="market rallied")
    snippet = page.hits[0].snippet
    assert "<script>" not in snippet and "<img" not in snippet
    assert "&lt;img src=x onerror=alert(1)&gt;" in snippet and "&lt;script&gt;" in snippet
    assert "<mark>market</mark>" in snippet and "&amp;" in snippet
    assert page.hits[0].title.startswith("<script>")  # titles are plain text; templates escape them


@pytest.mark.parametrize(("q", "message"), [
    ("AND OR", "has no words to search for"),
    # ("the" is a query now: stop words are indexed, see test_stopwords.py)
    ('"', "has no words to search for"),
    ("(((", "has no words to search for"),
    ('title:"', "has no words to search for"),
    ("\\", "has no words to search for"),
    ("date:[soon TO later]", "Dates look like date:[2016-01-01 TO 2016-12-31]"),
    ("date:>2016", "Dates look like date:[2016-01-01 TO 2016-12-31]"),
])
def test_unusable_query_gives_a_helpful_error(ix, q, message):
    with pytest.raises(QueryError) as err:
        run(ix, q=q)
    assert err.value.param == "q"
    assert message in str(err.value) and repr(q) in str(err.value)


@pytest.mark.parametrize(("q", "expected"), [
    ('country:"united states"', set()),
    ('places:"east germany"', set()),
    ("foo:bar", set()),
    ('"unbalanced', set()),
    ("x" * 60 + "~", set()),
    ("U.S.-Mexico border", set()),
    ("NOT Jarabulus", {a.article.id for a in ARTICLES} - {"jar"}),
    ("*", {a.article.id for a in ARTICLES}),
    ("<script>alert(1)</script>", {"xss"}),
    ("title:(tanks OR copper)", {"jar", "lima"}),
])
def test_odd_queries_never_crash(ix, q, expected):
    page = run(ix, q=q, per_page=100)
    assert page.total == len(expected)
    assert set(ids(page)) == expected


@pytest.mark.parametrize(("params", "param"), [
    ({"page": "0"}, "page"),
    ({"page": "x"}, "page"),
    ({"per_page": "101"}, "per_page"),
    ({"sort": "random"}, "sort"),
    ({"from": "2016-13-01"}, "from"),
    ({"to": "yesterday"}, "to"),
    ({"from": "2017-01-01", "to": "2016-01-01"}, "from"),
    ({"place": "Azaz"}, "place"),
    ({"country": "Syria"}, "country"),
    ({"year": "20x6"}, "year"),
    ({"bbox": "1,2,3"}, "bbox"),
    ({"bbox": "0,50,10,40"}, "bbox"),
    ({"bbox": "0,0,200,10"}, "bbox"),
    ({"near": "36.8"}, "near"),
    ({"near": "91,0"}, "near"),
    ({"near": "nan,0"}, "near"),
    ({"near": "36,38", "radius_km": "-5"}, "radius_km"),
    ({"radius_km": "10"}, "near"),
    ({"q": "x" * 501}, "q"),
])
def test_bad_parameters_name_the_parameter(params, param):
    with pytest.raises(QueryError) as err:
        parse_request(params)
    assert err.value.param == param


def test_parse_request_defaults_and_values():
    assert parse_request({}) == SearchRequest(sort="newest")
    req = parse_request({"q": " Azaz ", "page": "2", "per_page": "50", "country": "sy", "bbox": "35,35,39,37.5",
                         "near": "36.8,38", "radius_km": "25", "from": "2016-01-01", "place": "172082"})
    assert (req.q, req.page, req.per_page, req.sort, req.country) == ("Azaz", 2, 50, "relevance", "SY")
    assert req.bbox == (35.0, 35.0, 39.0, 37.5) and req.near == (36.8, 38.0) and req.radius_km == 25.0
    assert req.date_from == dt.date(2016, 1, 1) and req.place == 172082


def test_place_counts_cover_all_matches(ix):
    counts = ix.place_counts(parse_request({"q": "Azaz OR Moscow", "per_page": "1"}))
    by_id = {c.place.geonameid: c for c in counts}
    assert by_id[AZAZ.geonameid].count == 3 and by_id[MOSCOW.geonameid].count == 1
    assert len(by_id[AZAZ.geonameid].top) == 3
    assert ("moscow", "Kremlin answers sanctions") in by_id[MOSCOW.geonameid].top
    assert counts[0].place == AZAZ
    assert len(ix.place_counts(parse_request({}), limit=2)) == 2


def test_place_summary(ix):
    summary = ix.place_summary(AZAZ.geonameid)
    assert summary.place == AZAZ and summary.articles == 3
    assert dict(summary.spellings) == {"A'zaz": 1, "I‘zāz": 1, "Azaz": 1}
    assert summary.months == (("2016-08", 1), ("2016-09", 1), ("2017-01", 1))
    assert {c.place.geonameid for c in summary.related} == {JARABULUS.geonameid, SYRIA.geonameid}
    assert ix.place_summary(1) is None


def test_place_counts_without_top_articles(ix):
    counts = ix.place_counts(parse_request({"q": "Azaz"}), top=0)
    assert {c.place.geonameid: c.count for c in counts}[AZAZ.geonameid] == 3
    assert all(c.top == () for c in counts)


def test_concurrent_searches_while_writing(store):
    import threading

    store.add(ARTICLES)
    errors = []

    def reader():
        try:
            for _ in range(15):
                assert run(store, q="Azaz").total >= 3
                assert run(store, q="grain", per_page=5).total >= 25
        except Exception as e:  # noqa: BLE001 - collected and reported below
            errors.append(e)

    threads = [threading.Thread(target=reader) for _ in range(4)]
    for t in threads:
        t.start()
    for i in range(5):
        store.add([_article(f"new{i}", "Grain news", "More grain arrived.", None, "Reuters", [])])
    for t in threads:
        t.join()
    assert not errors
    assert run(store, q="grain").total == 30


def test_cached_segment_data_survives_new_commits(store):
    store.add(ARTICLES[:5])
    before = {c.place.geonameid: c.top for c in store.place_counts(parse_request({}))}
    store.add([_article("late", "Late news from Lima", "Lima again.", None, "Reuters", [("Lima", LIMA)])])
    after = {c.place.geonameid: c for c in store.place_counts(parse_request({}))}
    assert after[AZAZ.geonameid].top == before[AZAZ.geonameid]
    assert after[LIMA.geonameid].count == 2
    assert run(store, q="Azaz", sort="newest").total == 3


@pytest.mark.parametrize("q", ["date:[2016", "date:[yesterday TO now]"])
def test_unparseable_dates_get_a_readable_message(ix, q):
    with pytest.raises(QueryError) as e:
        run(ix, q=q)
    message = str(e.value)
    assert "date:[2016-01-01 TO 2016-12-31]" in message and "int()" not in message
    assert e.value.param == "q"
