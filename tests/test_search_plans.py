"""Searches whose PostgreSQL plans were rewritten for speed give what they gave before, on
every engine (tests/stores.py): place-name words beside other words, phrases ranked by
score, facet labels when counts tie, the whole archive's map after a commit; and the
PostgreSQL highlighter's fast scan finds exactly what the snippet regex finds.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archive.models import Article, GeotaggedArticle, Mention, Place, SearchRequest
from archive.store.query import parse_request
from archive.store.snippet import candidate_pattern

LIMA = Place(3936456, "Lima", -12.04318, -77.02824, "PE", "PPLC", 7737002)
CUSCO = Place(3941584, "Cusco", -13.52264, -71.96734, "PE", "PPLA", 312140)


def _doc(aid, title, text, mentions=(), date=dt.date(2020, 1, 1)):
    ms = []
    for surface, place in mentions:
        start = text.index(surface)
        ms.append(Mention("text", start, start + len(surface), surface, place, 0.9))
    return GeotaggedArticle(Article(aid, title, text, date, None, "Wire"), tuple(ms))


DOCS = [
    _doc("named", "Ferry news", "The ferry reached Lima at dawn.", [("Lima", LIMA)]),
    # Lima by another name: found by its GeoNames id, not by the word.
    _doc("other-name", "Ferry news", "The ferry reached the City of Kings.", [("City of Kings", LIMA)]),
    _doc("word-only", "Beans", "A ferry of lima beans.", []),
    _doc("no-ferry", "Harbour", "Lima's harbour was quiet.", [("Lima", LIMA)]),
    _doc("no-lima", "Ferry news", "The ferry stayed home.", []),
    _doc("both-places", "Rail news", "Trains from Lima to Cusco ran late.", [("Lima", LIMA), ("Cusco", CUSCO)]),
    _doc("cusco-only", "Rail news", "Trains to Cusco ran late.", [("Cusco", CUSCO)]),
]


@pytest.fixture(scope="module")
def filled(module_store_factory):
    store = module_store_factory()
    store.add(DOCS)
    return store


def ids(store, **params) -> set[str]:
    page = store.search(parse_request({k: str(v) for k, v in params.items()}))
    return {h.id for h in page.hits}


def test_a_place_name_beside_other_words_matches_by_word_or_by_place(filled):
    assert ids(filled, q="ferry lima") == {"named", "other-name", "word-only"}
    assert ids(filled, q="ferry") == {"named", "other-name", "word-only", "no-lima"}  # positive control
    assert ids(filled, q="lima cusco trains") == {"both-places"}
    assert ids(filled, q="trains cusco") == {"both-places", "cusco-only"}
    assert ids(filled, q="ferry lima -dawn") == {"other-name", "word-only"}


def test_place_counts_of_a_place_name_beside_other_words(filled):
    counts = {pc.place.geonameid: pc.count for pc in filled.place_counts(parse_request({"q": "ferry lima"}))}
    assert counts == {LIMA.geonameid: 2}


def test_phrase_hits_come_best_first(store):
    texts = ["the grain harvest", "grain harvest grain harvest grain harvest", "a harvest of grain",
             "grain harvest came in; the grain harvest was large", "the grain harvest " + "word " * 80]
    store.add([_doc(f"p{i}", "News", t) for i, t in enumerate(texts)])
    page = store.search(parse_request({"q": '"grain harvest"'}))
    scores = [h.score for h in page.hits]
    assert len(scores) == 4 and "p2" not in {h.id for h in page.hits}  # the words apart do not match
    assert len(set(scores)) > 1, scores  # positive control: the scores differ
    assert scores == sorted(scores, reverse=True), scores


def test_every_place_facet_is_labelled_with_its_name_when_counts_tie(store):
    places = [Place(8000000 + i, f"Town{chr(65 + i)}", 10.0 + i, 20.0, "PE", "PPL", 100) for i in range(25)]
    docs = [_doc(f"t{i}", "Fair", f"The fair came to {p.name}.", [(p.name, p)]) for i, p in enumerate(places)]
    store.add(docs)
    facet = store.search(parse_request({"q": "fair"})).facets["place"]
    names = {str(p.geonameid): p.name for p in places}
    assert len(facet) == 20 and all(f.count == 1 for f in facet)
    assert [f.label for f in facet] == [names[f.value] for f in facet]


def test_the_whole_archives_map_follows_every_commit(store):
    store.add(DOCS[:1])
    assert [(pc.place.geonameid, pc.count) for pc in store.place_counts(SearchRequest(), top=0)] == [
        (LIMA.geonameid, 1)]
    store.add(DOCS[5:7])
    counts = [(pc.place.geonameid, pc.count) for pc in store.place_counts(SearchRequest(), top=0)]
    assert counts == [(LIMA.geonameid, 2), (CUSCO.geonameid, 2)]  # ties by id
    with store.writer() as w:
        w.delete("cusco-only")
    assert [pc.count for pc in store.place_counts(SearchRequest(), top=0)] == [2, 1]


# -- the PostgreSQL highlighter's scan (no server needed) ------------------------------------
def _both(stems, text):
    from archive.store.postgres.highlight import candidates

    pattern = candidate_pattern(stems)
    assert pattern is not None
    want = [(m.start(), m.end(), m.group(0)) for m in pattern.finditer(text)]
    return want, candidates(pattern, text)


def test_the_fast_scan_finds_the_snippet_regexs_words_and_no_others():
    text = "Removed, moving MOVES; remove’s move’s _move move_ Mover istanbul moved “Move” 3move"
    want, got = _both({"move", "istanbul"}, text)
    assert got == want
    assert [w for _s, _e, w in got][:3] == ["moving", "MOVES", "move’s"]  # found in any case, whole words
    assert all(not w.lower().startswith("remov") for _s, _e, w in got)  # never inside a word


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="moveMOVEİıß_’' .,3-é", max_size=60), st.sampled_from([{"move"}, {"mo", "é"}, {"ss"}]))
def test_the_fast_scan_agrees_with_the_regex_on_any_text(text, stems):
    want, got = _both(stems, text)
    assert got == want


def test_the_fast_scan_keeps_the_regex_when_lower_case_changes_lengths():
    from archive.store.postgres.highlight import candidates

    pattern = candidate_pattern({"istanbul"})
    text = "İstanbul and istanbul"
    assert len(text.lower()) != len(text)
    assert candidates(pattern, text) == [(m.start(), m.end(), m.group(0)) for m in pattern.finditer(text)]
    assert re.search("istanbul", text)  # positive control: there is something to find


def test_the_highlighter_asks_each_word_once_and_marks_as_before():
    """A page repeats its words: the highlighter stems each once, and marks stems and
    place-name words (folded: "Aleppo's" spelled "ALEPPO") as it did word by word."""
    from archive.store.snippet import Highlighter

    asked = []

    def stem(word: str) -> str | None:
        asked.append(word)
        return {"sieges": "sieg", "siege": "sieg", "besieged": "besieg"}.get(word.lower())

    mark = Highlighter({"sieg"}, {"aleppo"}, set(), stem)
    text = "Siege of ALEPPO. The siege went on; sieges, siege, Aleppo and Alepposhire."
    html = mark(text)
    assert html.count("<mark>") == 6  # positive control: Siege, ALEPPO, siege, sieges, siege, Aleppo
    assert "Alepposhire" in html and "<mark>Alepposhire" not in html
    assert sorted(asked) == sorted(set(asked)) and "siege" in asked  # each word asked once
    assert [mark.matches(w) for w in ("Siege", "ALEPPO", "Aleppo’s", "Alepposhire", "besieged")] == [
        "sieg", "aleppo", None, None, None]


def test_date_ranges_include_both_ends_and_pages_of_a_word_by_date_are_in_order(store):
    days = [dt.date(2019, 12, 31), dt.date(2020, 1, 1), dt.date(2020, 1, 2), dt.date(2020, 1, 3), None]
    store.add([_doc(f"d{i}", "Fair", "The fair opened.", date=day) for i, day in enumerate(days)])
    assert ids(store, q="date:[2020-01-01 TO 2020-01-02]") == {"d1", "d2"}
    assert ids(store, q="fair", **{"from": "2020-01-01", "to": "2020-01-02"}) == {"d1", "d2"}
    assert ids(store, q="fair", **{"from": "2020-01-02"}) == {"d2", "d3"}
    assert ids(store, q="fair") == {"d0", "d1", "d2", "d3", "d4"}  # positive control
    for sort, want in (("newest", ["d3", "d2", "d1", "d0", "d4"]), ("oldest", ["d0", "d1", "d2", "d3", "d4"])):
        pages = [store.search(parse_request({"q": "fair", "sort": sort, "per_page": "2", "page": str(n)}))
                 for n in (1, 2, 3)]
        assert [h.id for p in pages for h in p.hits] == want, sort


def _mixed(i: int) -> GeotaggedArticle:
    """Lima more central as ``i`` grows, the word "ferry" more frequent as it shrinks."""
    lima, cusco, ferry = 1 + i % 7, 7 - i % 7, 1 + (59 - i) // 6
    text = " ".join(["Lima had news."] * lima + ["Cusco had news."] * cusco + ["The ferry ran."] * ferry)
    title = "Ferry news" if i % 3 == 0 else f"Report {i}"
    ms = []
    for n in range(lima):
        ms.append(Mention("text", text.index("Lima", n * 15), text.index("Lima", n * 15) + 4, "Lima", LIMA, 0.9))
    for n in range(cusco):
        start = text.index("Cusco", lima * 15 + n * 16)
        ms.append(Mention("text", start, start + 5, "Cusco", CUSCO, 0.9))
    return GeotaggedArticle(Article(f"m{i:02d}", title, text, dt.date(2020, 1, 1 + i % 28), None, "Wire"), tuple(ms))


def test_a_place_names_pages_rank_every_match_as_ranking_them_all_would(store, monkeypatch):
    from archive.store.postgres import ranked

    monkeypatch.setattr(ranked, "_FIRST", 5)  # PostgreSQL: few matches ranked before the bound decides
    store.add([_mixed(i) for i in range(60)])
    for q in ("ferry Lima", "Lima", '"ferry ran" Lima'):
        everything = [(h.id, round(h.score, 5)) for h in store.iter_hits(parse_request({"q": q}))]
        assert len(everything) == 60, q
        scores = [s for _id, s in everything]
        assert len(set(scores)) > 5 and scores == sorted(scores, reverse=True), q  # positive control
        for page in (1, 2, 3):
            got = store.search(parse_request({"q": q, "page": str(page)}))
            assert got.total == 60
            assert [(h.id, round(h.score, 5)) for h in got.hits] == everything[(page - 1) * 20:page * 20], (q, page)


def test_a_place_names_branches_find_its_matches(pg_url):
    """PostgreSQL ranks a place's name beside other words (spread over them: compile._spread)
    from one SELECT per branch of the OR, each answered by indexes: together they find the query's
    matches (the page leaves out a row found before by its seq, ranked.py)."""
    import psycopg

    from archive.store import open_store
    from archive.store.postgres.schema import SCHEMA
    from archive.store.postgres.search import where_clauses

    store = open_store(pg_url)
    try:
        store.add(DOCS)
        with psycopg.connect(pg_url) as conn:
            def found(where, params) -> set[str]:
                return {r[0] for r in conn.execute(f"SELECT id FROM {SCHEMA}.articles WHERE {where}", params)}

            for q, want in (("ferry lima", {"named", "other-name", "word-only"}),
                            ("lima cusco trains", {"both-places"}), ("ferry lima -dawn", {"other-name", "word-only"})):
                _compiled, where, wheres = where_clauses(conn, parse_request({"q": q}))
                assert found(*where) == want, q  # the one condition, as the other plans use it
                assert len(wheres) > 1, q
                assert set().union(*(found(*w) for w in wheres)) == want, q
                page = store.search(parse_request({"q": q}))  # ranked from the branches, each row once
                assert sorted(h.id for h in page.hits) == sorted(want) and page.total == len(want), q
            _compiled, where, wheres = where_clauses(conn, parse_request({"q": "ferry"}))
            assert wheres == [where] and found(*where) == {"named", "other-name", "word-only", "no-lima"}
    finally:
        store.close()
