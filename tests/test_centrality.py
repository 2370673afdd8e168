"""A place's articles ranked by how much they are about it (archive.store.centrality).

Stories written here where the main place and a passing mention differ: a passing mention, and
"Lavrentiy Beria" (Beria, an old name of Aleppo, read into a person's name), must rank below
the stories about Aleppo for ``place=``, ``place:Aleppo``, the place page and map popups, and
``about=`` keeps only the stories about it. Mentions are built by hand so the ranking does not
depend on the geotagger's choices; one test runs the real geotagger end to end.
"""

from __future__ import annotations

import datetime as dt

import pytest
from click.testing import CliRunner

from archive.cli import cli
from archive.errors import QueryError
from archive.models import Article, GeotaggedArticle, Mention, Place, SearchRequest
from archive.store import open_store
from archive.store.centrality import ABOUT_THRESHOLD, centrality, dateline_end, main_first
from archive.store.query import parse_request

ALEPPO = Place(170063, "Aleppo", 36.20124, 37.16117, "SY", "PPLA", 1602264)
SYRIA = Place(163843, "Syria", 35.0, 38.0, "SY", "PCLI", 22198110)
LONDON = Place(2643743, "London", 51.50853, -0.12574, "GB", "PPLC", 7556900)
PARIS = Place(2988507, "Paris", 48.85341, 2.3488, "FR", "PPLC", 2138551)
TOKYO = Place(1850147, "Tokyo", 35.6895, 139.69171, "JP", "PPLC", 8336599)
MOSCOW = Place(524901, "Moscow", 55.75222, 37.61556, "RU", "PPLC", 10381222)
TBILISI = Place(611717, "Tbilisi", 41.69411, 44.83368, "GE", "PPLC", 1049498)


def tagged(aid: str, title: str, text: str, date: dt.date, places: dict[str, Place],
           scores: dict[str, float] | None = None) -> GeotaggedArticle:
    """An article whose every occurrence of each surface in ``places`` is a mention of that place."""
    mentions = []
    for field, value in (("title", title), ("text", text)):
        for surface, place in places.items():
            start = value.find(surface)
            while start >= 0:
                mentions.append(Mention(field, start, start + len(surface), surface, place,
                                        (scores or {}).get(surface, 0.9)))
                start = value.find(surface, start + 1)
    mentions.sort(key=lambda m: (m.field != "title", m.start))
    return GeotaggedArticle(Article(aid, title, text, date, source="Wire"), tuple(mentions))


def stories() -> dict[str, GeotaggedArticle]:
    return {
        "report": tagged(
            "report", "Rebels shell Aleppo as the siege tightens",
            "ALEPPO, Syria (Reuters) - Rebels shelled western Aleppo on Monday, the war monitor said. "
            "Residents of Aleppo said it was the worst war damage in weeks; the army vowed to retake Aleppo.",
            dt.date(2016, 1, 10), {"Aleppo": ALEPPO, "ALEPPO": ALEPPO, "Syria": SYRIA}),
        "convoy": tagged(
            "convoy", "Aid convoy waits at the edge of the city",
            "An aid convoy waited outside Aleppo for a second day as the war went on. Drivers said "
            "they had not been told when the road into Aleppo would open.",
            dt.date(2016, 2, 10), {"Aleppo": ALEPPO}),
        "passing": tagged(
            "passing", "London shares rally as war fears ease",
            "Shares rose in London on Tuesday and Paris followed. Traders in Tokyo and London cheered. "
            "One fund manager, who once worked in Aleppo before the war, said oil helped. London closed higher.",
            dt.date(2016, 12, 1), {"London": LONDON, "Paris": PARIS, "Tokyo": TOKYO, "Aleppo": ALEPPO}),
        "beria": tagged(
            "beria", "The secret police chief and the war",
            "Lavrentiy Beria ran the secret police in Moscow during the war. Beria was shot in 1953, "
            "historians in Moscow and Tbilisi recall.",
            dt.date(2016, 12, 20), {"Beria": ALEPPO, "Moscow": MOSCOW, "Tbilisi": TBILISI}, {"Beria": 0.97}),
    }


ABOUT_ALEPPO = ["report", "convoy"]
MENTION_ALEPPO = ["passing", "beria"]


@pytest.fixture(scope="module")
def store(module_store_factory):
    """The stories in a store of each kind (tests/stores.py): both engines rank alike."""
    s = module_store_factory()
    s.add(list(stories().values()))
    return s


def ids(page) -> list[str]:
    return [h.id for h in page.hits]


# ------------------------------------------------------------------ the score itself


@pytest.mark.parametrize("text, end", [
    ("ALEPPO, Syria (Reuters) - Rebels shelled", len("ALEPPO, Syria (Reuters) - ")),
    ("WASHINGTON, March 3 - The Treasury said", len("WASHINGTON, March 3 - ")),
    ("BEIRUT — Fighting resumed", len("BEIRUT — ")),
    ("Rebels shelled Aleppo - again", 0),
    ("An aid convoy waited outside Aleppo", 0),
])
def test_dateline(text, end):
    assert dateline_end(text) == end


def test_scores_rank_the_main_place_above_passing_mentions():
    s = {k: centrality(ga) for k, ga in stories().items()}
    assert all(0.0 <= v <= 1.0 for scores in s.values() for v in scores.values()) and s["report"]
    about = [s[k][ALEPPO.geonameid] for k in ABOUT_ALEPPO]
    passing = [s[k][ALEPPO.geonameid] for k in MENTION_ALEPPO]
    assert min(about) >= ABOUT_THRESHOLD > max(passing), (about, passing)
    assert s["passing"][LONDON.geonameid] >= ABOUT_THRESHOLD  # ... and that story is about London
    assert s["beria"][MOSCOW.geonameid] > s["beria"][ALEPPO.geonameid]
    assert centrality(GeotaggedArticle(Article("e", "t", "x"))) == {}


def test_a_place_named_only_in_a_persons_name_is_not_central():
    # The corpus's real case: one mention, "Lavrentiy Beria", the article's only place.
    text = "Dershowitz said: it reminds me of Lavrentiy Beria, head of the secret police, who made up crimes."
    alone = tagged("x", "Dershowitz on the secret police", text, dt.date(2017, 1, 1), {"Beria": ALEPPO},
                   {"Beria": 0.97})
    control = tagged("y", "Dershowitz on the secret police", text.replace("Lavrentiy Beria", "old Beria"),
                     dt.date(2017, 1, 1), {"Beria": ALEPPO}, {"Beria": 0.97})
    assert centrality(alone)[ALEPPO.geonameid] < 0.15 < 0.3 < centrality(control)[ALEPPO.geonameid]


def test_name_like_mentions_count_less():
    beria = stories()["beria"]
    as_place = tagged("x", beria.article.title, beria.article.text.replace("Lavrentiy Beria", "In Beria"),
                      dt.date(2016, 1, 1), {"Beria": ALEPPO, "Moscow": MOSCOW, "Tbilisi": TBILISI})
    assert centrality(as_place)[ALEPPO.geonameid] > 2 * centrality(beria)[ALEPPO.geonameid]


def test_a_headline_the_text_never_takes_up_counts_less():
    quip = tagged("quip", "Candidate asks 'What is Aleppo?' on live television",
                  "The candidate stumbled in an interview in London, then spoke about taxes in Paris. "
                  "Aides in London said he was tired.", dt.date(2016, 9, 8),
                  {"Aleppo": ALEPPO, "London": LONDON, "Paris": PARIS})
    report = stories()["convoy"]  # no headline mention, but the text is about Aleppo
    assert centrality(quip)[ALEPPO.geonameid] < ABOUT_THRESHOLD <= centrality(report)[ALEPPO.geonameid]
    # The headline alone weighs what one mention in the lead does.
    in_lead = tagged("lead", "Candidate stumbles on live television", "Asked about Aleppo, " + quip.article.text,
                     dt.date(2016, 9, 8), {"Aleppo": ALEPPO, "London": LONDON, "Paris": PARIS})
    assert centrality(quip)[ALEPPO.geonameid] == centrality(in_lead)[ALEPPO.geonameid] > 0
    taken_up = tagged("x", quip.article.title, quip.article.text + " Aleppo itself was not discussed.",
                      dt.date(2016, 9, 8), {"Aleppo": ALEPPO, "London": LONDON, "Paris": PARIS})
    assert centrality(taken_up)[ALEPPO.geonameid] > centrality(quip)[ALEPPO.geonameid]


def test_more_places_and_less_confidence_lower_the_score():
    one = tagged("a", "News", "Talks were held in Paris today.", dt.date(2016, 1, 1), {"Paris": PARIS})
    crowded = tagged("b", "News", "Talks were held in Paris, London, Tokyo and Moscow today.", dt.date(2016, 1, 1),
                     {"Paris": PARIS, "London": LONDON, "Tokyo": TOKYO, "Moscow": MOSCOW})
    unsure = tagged("c", "News", "Talks were held in Paris today.", dt.date(2016, 1, 1), {"Paris": PARIS},
                    {"Paris": 0.2})
    c1, c2, c3 = (centrality(g)[PARIS.geonameid] for g in (one, crowded, unsure))
    assert c1 > c2 and c1 > c3


def test_main_first():
    assert main_first(stories()["passing"])[0] == LONDON.geonameid
    assert main_first(stories()["beria"])[0] == MOSCOW.geonameid
    assert [p.geonameid for p in stories()["passing"].places][0] == LONDON.geonameid  # first mention too
    assert main_first(stories()["report"]) == [ALEPPO.geonameid, SYRIA.geonameid]


# ------------------------------------------------------------------ ranking in the store


def test_place_filter_ranks_stories_about_the_place_first(store):
    page = store.search(parse_request({"place": str(ALEPPO.geonameid)}))
    assert page.total == 4
    assert ids(page)[:2] == ABOUT_ALEPPO and set(ids(page)[2:]) == set(MENTION_ALEPPO)
    assert [h.score for h in page.hits] == sorted((h.score for h in page.hits), reverse=True)
    # Control: by date, the passing mentions (the newest stories) come first.
    newest = store.search(parse_request({"place": str(ALEPPO.geonameid), "sort": "newest"}))
    assert ids(newest)[:2] == ["beria", "passing"]


@pytest.mark.parametrize("q", ["place:Aleppo", "place:170063", "war place:Aleppo", '"the war" place:Aleppo'])
def test_place_clauses_rank_by_centrality(store, q):
    page = store.search(SearchRequest(q=q))
    assert page.total == 4, q
    assert sorted(ids(page)[:2]) == sorted(ABOUT_ALEPPO), ids(page)


def test_plain_words_keep_text_ranking(store):
    # Only place clauses and filters rank by centrality; "war" alone is ranked by the text.
    plain = store.search(SearchRequest(q="war"))
    assert plain.total == 4
    scores = {h.id: h.score for h in plain.hits}
    assert scores["beria"] > 0 and scores["passing"] > 0


def test_about_filter_keeps_only_stories_about_the_place(store):
    page = store.search(parse_request({"about": str(ALEPPO.geonameid)}))
    assert ids(page) == ABOUT_ALEPPO
    assert ids(store.search(parse_request({"about": str(LONDON.geonameid)}))) == ["passing"]
    assert ids(store.search(parse_request({"q": "war", "about": str(ALEPPO.geonameid)}))) != []
    assert set(ids(store.search(parse_request({"q": "war", "about": str(ALEPPO.geonameid)})))) == set(ABOUT_ALEPPO)
    assert [h.id for h in store.iter_hits(parse_request({"about": str(ALEPPO.geonameid)}))] == ABOUT_ALEPPO


def test_map_popups_list_the_most_central_articles(store):
    counts = {pc.place.geonameid: pc for pc in store.place_counts(SearchRequest(), top=2)}
    assert counts[ALEPPO.geonameid].count == 4
    assert [i for i, _t in counts[ALEPPO.geonameid].top] == ABOUT_ALEPPO
    assert [i for i, _t in counts[LONDON.geonameid].top] == ["passing"]
    # Within a search too: "war" matches all four.
    counts = {pc.place.geonameid: pc for pc in store.place_counts(SearchRequest(q="war"), top=2)}
    assert sorted(i for i, _t in counts[ALEPPO.geonameid].top) == sorted(ABOUT_ALEPPO)


def test_hits_list_their_main_places_first(store):
    hits = {h.id: h for h in store.search(SearchRequest(q="shares")).hits}
    assert [p.geonameid for p in hits["passing"].places][0] == LONDON.geonameid
    hits = {h.id: h for h in store.search(SearchRequest(q="Lavrentiy")).hits}
    assert [p.name for p in hits["beria"].places] == ["Moscow", "Tbilisi", "Aleppo"]
    # A place filter's place still leads: it says why the article matched.
    hits = {h.id: h for h in store.search(parse_request({"place": str(ALEPPO.geonameid)})).hits}
    assert hits["beria"].places[0].geonameid == ALEPPO.geonameid


@pytest.mark.parametrize("value, message", [
    ("0", "about must be a GeoNames id, not 0."),
    ("Aleppo", "about must be a whole number, not 'Aleppo'."),
])
def test_about_parameter_validation(value, message):
    with pytest.raises(QueryError) as e:
        parse_request({"about": value})
    assert (str(e.value), e.value.param) == (message, "about")
    assert parse_request({"about": "170063"}).sort == "relevance"
    assert parse_request({}).sort == "newest"


def test_cli_about_option(store):
    result = CliRunner().invoke(cli, ["search", "--about", str(ALEPPO.geonameid), "--index", store.location])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("2 results") and "[report]" in result.output and "[beria]" not in result.output
    result = CliRunner().invoke(cli, ["search", "--place", str(ALEPPO.geonameid), "--index", store.location])
    assert result.output.startswith("4 results") and result.output.index("[report]") < result.output.index("[beria]")


def test_web_about_filter_place_page_and_openapi(store):
    from web import create_app

    client = create_app({"TESTING": True, "INDEX_DIR": store.location}).test_client()
    with client.get(f"/api/search?about={ALEPPO.geonameid}") as r:
        assert r.status_code == 200 and [h["id"] for h in r.get_json()["results"]] == ABOUT_ALEPPO
    with client.get("/api/search?about=x") as r:
        assert r.status_code == 400 and r.get_json()["param"] == "about"
    with client.get(f"/?about={ALEPPO.geonameid}") as r:
        html = " ".join(r.get_data(as_text=True).split())
        assert '<li class="chip"><span class="k">about:</span> Aleppo' in html
    with client.get(f"/place/{ALEPPO.geonameid}") as r:
        html = r.get_data(as_text=True)
        assert r.status_code == 200
        assert f'href="/?about={ALEPPO.geonameid}">only the articles about Aleppo</a>' in html
        order = [html.index(f"/article/{i}") for i in ("report", "convoy", "passing", "beria")]
        assert order[0] < order[2] and order[1] < order[2] and order[0] < order[3] and order[1] < order[3]
    with client.get("/article/passing") as r:
        html = r.get_data(as_text=True)
        rows = html[html.index('class="place-list"'):]
        assert rows.index(">London<") < rows.index(">Aleppo<")
    with client.get("/api/openapi.json") as r:
        params = {p["name"] for p in r.get_json()["paths"]["/api/search"]["get"]["parameters"]}
        assert {"about", "place"} <= params


def test_real_geotagger_ranks_reporting_above_beria(tmp_path, tagger):
    texts = {
        "beria": ("Stalin's secret police chief",
                  "Lavrentiy Beria ran the NKVD under Stalin in Moscow. Beria was executed in 1953, historians in "
                  "Moscow and Tbilisi recall."),
        "report": ("Rebels shell Aleppo as siege tightens",
                   "ALEPPO, Syria (Reuters) - Rebels shelled government-held western Aleppo on Monday. Residents of "
                   "Aleppo said the bombardment was the heaviest in weeks."),
    }
    s = open_store(tmp_path / "index")
    s.add([tagger.geotag(Article(k, t, x, dt.date(2016, 1, 1 if k == "report" else 2))) for k, (t, x) in texts.items()])
    found = ids(s.search(SearchRequest(q="place:Aleppo")))
    if "beria" not in found:
        pytest.skip("the geotagger no longer reads 'Beria' as Aleppo; the hand-built stories above cover ranking")
    assert found == ["report", "beria"]


def test_older_postgres_archive_is_refused_with_a_clear_message(pg_url, pg_cluster):
    """A database written before centrality was stored (schema 1, no ``pcent``) is refused, not misread."""
    from archive.errors import IndexSchemaError
    from archive.store.postgres import schema

    store = open_store(pg_url)
    store.add([stories()["report"]])
    assert store.search(SearchRequest(place=ALEPPO.geonameid)).total == 1  # positive control
    dbname = pg_url.rsplit("/", 1)[1]
    pg_cluster.primary.execute("ALTER TABLE geoarchive.articles DROP COLUMN pcent", dbname=dbname)
    pg_cluster.primary.execute("UPDATE geoarchive.meta SET version = 1", dbname=dbname)
    schema._CHECKED.clear()  # a database is checked once per process: this one changed under it
    old = open_store(pg_url)
    want = f"The archive in the database {old.location!r} was built by an older GeoArchive (schema 1"
    for call in (lambda: old.search(SearchRequest(q="convoy")), old.stats, lambda: old.place_summary(1),
                 lambda: list(old.iter_hits(SearchRequest())), lambda: old.add([stories()["convoy"]])):
        with pytest.raises(IndexSchemaError) as e:
            call()
        assert str(e.value).startswith(want) and "geoarchive ingest --index postgresql://" in str(e.value)
    store.close()
    old.close()
