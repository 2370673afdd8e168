"""What every Store must do beyond tests/test_search.py: run against each engine (tests/stores.py).

Ranking by field, the antimeridian, hostile query text and values, streaming every hit in
the page order, and the PostgreSQL store's own promises (no password shown, user text only
ever a bound parameter).
"""

from __future__ import annotations

import datetime as dt

import pytest

from archive.models import Article, GeotaggedArticle, Mention, Place
from archive.store.query import parse_request

EAST = Place(9000001, "Eastisle", -16.80, 179.90, "FJ", "PPL", 100)  # just west of the antimeridian
WEST = Place(9000002, "Westisle", -16.80, -179.80, "FJ", "PPL", 100)  # just east of it
LIMA = Place(3936456, "Lima", -12.04318, -77.02824, "PE", "PPLC", 7737002)
HOSTILE = "O'Brien said \"100% _done_\" \\ ; DROP TABLE articles; -- $$ %s {0} <b>"


def _doc(aid, title, text, places=(), date=None, source="Wire"):
    mentions = []
    for place in places:
        start = text.index(place.name)
        mentions.append(Mention("text", start, start + len(place.name), place.name, place, 0.9))
    return GeotaggedArticle(Article(aid, title, text, date, None, source), tuple(mentions))


DOCS = [
    _doc("t", "Copper prices", "Markets moved on Monday.", date=dt.date(2020, 1, 1)),
    _doc("b", "Markets", "Copper prices moved on Monday.", date=dt.date(2020, 1, 2)),
    _doc("east", "Ferry news", "The ferry reached Eastisle at dawn.", [EAST], dt.date(2020, 1, 3)),
    _doc("west", "Ferry news", "The ferry reached Westisle at dawn.", [WEST], dt.date(2020, 1, 4)),
    _doc("lima", "Ferry news", "No ferry reaches Lima.", [LIMA], dt.date(2020, 1, 5)),
    _doc("grain", "Grain", "The grain harvest was large.", date=dt.date(2020, 1, 6)),
    _doc("evil", HOSTILE, f"Quoted: {HOSTILE} and the grain.", date=dt.date(2020, 1, 7), source=HOSTILE),
]


@pytest.fixture(scope="module")
def filled(module_store_factory):
    store = module_store_factory()
    store.add(DOCS)
    return store


def run(store, **params):
    return store.search(parse_request({k: str(v) for k, v in params.items()}))


def ids(page):
    return [h.id for h in page.hits]


def test_a_word_in_the_title_ranks_above_the_same_word_in_the_body(filled):
    assert ids(run(filled, q="copper")) == ["t", "b"]
    assert ids(run(filled, q="copper", sort="newest")) == ["b", "t"]  # positive control: both match


def test_bbox_across_the_antimeridian(filled):
    assert set(ids(run(filled, bbox="179,-18,-179,-15"))) == {"east", "west"}
    assert set(ids(run(filled, bbox="179.5,-18,180,-15"))) == {"east"}
    assert set(ids(run(filled, bbox="-180,-18,-179.5,-15"))) == {"west"}
    assert set(ids(run(filled, bbox="-100,-20,-60,0"))) == {"lima"}


def test_radius_across_the_antimeridian(filled):
    # Eastisle and Westisle are about 32 km apart, on either side of 180 degrees.
    assert set(ids(run(filled, near="-16.8,179.9", radius_km=40))) == {"east", "west"}
    assert set(ids(run(filled, near="-16.8,179.9", radius_km=20))) == {"east"}


@pytest.mark.parametrize("q", ["gr_*", "gr%", "100%", "_done_", "\\", "';", "$$", "%s", "{0}"])
def test_like_and_sql_characters_in_queries_are_plain_text(filled, q):
    try:
        page = run(filled, q=q)
    except Exception as e:  # noqa: BLE001 - only a reader's QueryError is allowed
        from archive.errors import QueryError

        assert isinstance(e, QueryError) and e.param == "q"
    else:
        assert "grain" not in ids(page)
    assert set(ids(run(filled, q="gr*"))) == {"grain", "evil"}  # positive control: the wildcard itself works


def test_hostile_values_in_filters_match_exactly(filled):
    assert ids(run(filled, source=HOSTILE)) == ["evil"]
    assert ids(run(filled, source=HOSTILE[:-1])) == []
    assert ids(run(filled, q='"drop table articles"')) == ["evil"]
    assert filled.stats().articles == len(DOCS)  # the table is still there


def test_iter_hits_streams_every_hit_in_the_page_order(filled):
    for params in ({"q": "ferry"}, {"q": "ferry OR grain", "sort": "oldest"}, {}):
        pages = [run(filled, per_page=2, page=n, **params) for n in (1, 2, 3, 4)]
        in_pages = [h.id for p in pages for h in p.hits]
        streamed = [h.id for h in filled.iter_hits(parse_request(params))]
        assert streamed and streamed == in_pages


def test_generation_changes_with_every_commit(store):
    store.add(DOCS[:1])
    first = store.generation()
    assert store.generation() == first
    store.add(DOCS[1:2])
    assert store.generation() != first


def test_postgres_location_never_shows_the_password():
    from archive.store import open_store

    store = open_store("postgresql://reader:s3cret-pw@127.0.0.1:9/archive?sslmode=disable")
    try:
        assert "s3cret" not in store.location and "s3cret" not in repr(store)
        assert store.location.startswith("postgresql://reader@127.0.0.1:9/archive")
    finally:
        store.close()


@pytest.mark.parametrize("max_places", [0, 300])
def test_area_filters_by_place_lookup_or_by_article_geometry_agree(filled, monkeypatch, max_places):
    # PostgreSQL answers a small area through the places in it and a large one through each
    # article's own MultiPoint; both must give the same articles (Whoosh has one way).
    from archive.store.postgres import compile as pg_compile

    monkeypatch.setattr(pg_compile, "MAX_AREA_PLACES", max_places)
    assert set(ids(run(filled, bbox="179,-18,-179,-15"))) == {"east", "west"}
    assert set(ids(run(filled, bbox="-100,-20,-60,0"))) == {"lima"}
    assert set(ids(run(filled, near="-16.8,179.9", radius_km=40))) == {"east", "west"}
    assert set(ids(run(filled, near="-16.8,179.9", radius_km=20))) == {"east"}
    assert ids(run(filled, bbox="0,0,1,1")) == []


def test_pages_of_equally_ranked_hits_neither_overlap_nor_skip(store):
    docs = [_doc(f"g{i:02d}", "Grain", "Grain arrived.", date=dt.date(2020, 2, 1), source="Wire")
            for i in range(30)]
    store.add(docs)
    for params in ({"q": "grain"}, {"q": "grain", "source": "Wire"}, {"q": "grain", "year": "2020"}):
        pages = [ids(run(store, per_page=7, page=n, **params)) for n in range(1, 6)]
        seen = [i for page in pages for i in page]
        assert len(seen) == 30 and set(seen) == {d.article.id for d in docs}, params


def test_negated_words_alone_and_beside_others(filled):
    # (PostgreSQL: a negated tsquery crashed the server process on a RUM index; NOT is a row filter.)
    assert set(ids(run(filled, q="ferry -dawn"))) == {"lima"}
    assert set(ids(run(filled, q="ferry"))) == {"east", "west", "lima"}  # positive control
    assert "grain" in ids(run(filled, q="NOT ferry", per_page=20)) and run(filled, q="NOT ferry").total == 4


def test_whole_archive_facets_follow_every_commit(store):
    store.add(DOCS[:2])
    before = run(store)
    assert before.total == 2 and {f.value: f.count for f in before.facets["source"]} == {"Wire": 2}
    store.add([DOCS[4]])  # Lima, Peru
    after = run(store)
    assert after.total == 3 and {f.value: f.count for f in after.facets["source"]} == {"Wire": 3}
    assert [f.value for f in after.facets["country"]] == ["PE"]
    with store.writer() as w:
        w.delete("lima")
    assert run(store).total == 2 and run(store).facets["country"] == ()


def test_a_places_divisions_come_back_with_the_article_and_its_hits(store):
    """issue 10: a mention's first- and second-level divisions are kept by every engine."""
    london_ky = Place(4298960, "London", 37.12898, -84.08326, "US", "PPLA2", 8126,
                      admin1=(6254925, "Kentucky"), admin2=(4297055, "Laurel County"))
    store.add([_doc("ky", "Jail news", "London police said the jail in London was full.", [london_ky]),
               _doc("plain", "Lima news", "No ferry reaches Lima.", [LIMA])])
    got = {m.place.geonameid: m.place for m in store.get_article("ky").mentions}
    assert got[4298960].admin1 == (6254925, "Kentucky")
    assert got[4298960].admin2 == (4297055, "Laurel County")
    hit_places = {p.geonameid: p for h in run(store, q="jail").hits for p in h.places}
    assert hit_places[4298960].admin1 == (6254925, "Kentucky")
    # Control: a place stored without divisions comes back without them, not with another's.
    plain = {m.place.geonameid: m.place for m in store.get_article("plain").mentions}
    assert plain[LIMA.geonameid].admin1 is None


KYIV = Place(703448, "Kyiv", 50.45466, 30.5238, "UA", "PPLC", 2797553)


def test_a_queried_place_is_marked_in_the_snippet_under_the_spelling_the_article_uses(module_store_factory):
    """Kyiv asked for (by name or by id) marks the article's "Kiev": its stored mention, not the word."""
    text = "Talks in Kiev ended late. The grain deal was signed."
    start = text.index("Kiev")
    doc = GeotaggedArticle(Article("kiev", "Talks end", text, dt.date(2020, 2, 1), None, "Wire"),
                           (Mention("text", start, start + 4, "Kiev", KYIV, 0.9),))
    store = module_store_factory()
    store.add([doc, DOCS[5]])
    by_name, by_id, plain = run(store, q="Kyiv"), run(store, place=KYIV.geonameid), run(store, q="grain")
    newest = run(store, q="Kyiv", sort="newest")  # ranked or in date order: the same marks
    assert ids(by_name) == ids(by_id) == ids(newest) == ["kiev"]
    assert "<mark>Kiev</mark>" in by_name.hits[0].snippet
    assert "<mark>Kiev</mark>" in newest.hits[0].snippet
    assert "<mark>Kiev</mark>" in by_id.hits[0].snippet
    # A control: a word query marks the word, not the place.
    assert sorted(ids(plain)) == ["grain", "kiev"]
    snippet = next(h.snippet for h in plain.hits if h.id == "kiev")
    assert "<mark>grain</mark>" in snippet and "<mark>Kiev</mark>" not in snippet
