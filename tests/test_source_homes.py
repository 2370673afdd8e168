"""A source's home where sources are listed (issue 10): configured in the overrides file's
``[home]``, or inferred from the confident mentions of the source's stored articles, and
switchable off. Real stores of each kind, the real Flask app; articles written for this suite.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
import webfixtures as wf

from archive.geo.home import source_homes
from archive.geo.overrides import load_overrides
from archive.models import Article, GeotaggedArticle, Place
from web import create_app

KENTUCKY = (6254925, "Kentucky")
OHIO = (5165418, "Ohio")
LONDON_KY = Place(4298960, "London", 37.12898, -84.08326, "US", "PPL", 8126, admin1=KENTUCKY)
CORBIN = Place(4289445, "Corbin", 36.94870, -84.09688, "US", "PPL", 7304, admin1=KENTUCKY)
SOMERSET = Place(4308122, "Somerset", 37.09202, -84.60411, "US", "PPL", 11456, admin1=KENTUCKY)
LEXINGTON = Place(4297983, "Lexington", 37.98869, -84.47772, "US", "PPL", 322570, admin1=KENTUCKY)
COLUMBUS = Place(4509177, "Columbus", 39.96118, -82.99879, "US", "PPLA", 850106, admin1=OHIO)
AUSTIN = Place(4671654, "Austin", 30.26715, -97.74306, "US", "PPLA", 931830, admin1=(4736286, "Texas"))
DENVER = Place(5419384, "Denver", 39.73915, -104.9847, "US", "PPLA", 682545, admin1=(5417618, "Colorado"))
BOSTON = Place(4930956, "Boston", 42.35843, -71.05977, "US", "PPLA", 667137, admin1=(6254926, "Massachusetts"))
SEATTLE = Place(5809844, "Seattle", 47.60621, -122.33207, "US", "PPL", 684451, admin1=(5815135, "Washington"))

LOCAL, NATIONAL, GIVEN = "Laurel Ledger", "Continental Wire", "Valley <i>Gazette</i>"


def story(source: str, n: int, places: list[Place], score: float = 0.95) -> GeotaggedArticle:
    """An article of ``source`` naming each of ``places`` once (text written for this suite)."""
    text = "The county council met again. " + " ".join(f"Crews worked in {p.name} on Monday." for p in places)
    mentions = tuple(wf.mention(text, f"in {p.name}", p, score=score) for p in places)
    # the mention spans "in X"; move them onto the name itself
    mentions = tuple(type(m)(m.field, m.start + 3, m.end, m.surface[3:], m.place, m.score) for m in mentions)
    article = Article(f"{source[:6]}-{n}", f"Council story {n}", text, dt.date(2024, 5, n + 1), source=source)
    return GeotaggedArticle(article=article, mentions=mentions)


def archive_docs() -> list[GeotaggedArticle]:
    kentucky = [LONDON_KY, CORBIN, SOMERSET, LEXINGTON]
    docs = [story(LOCAL, n, kentucky[n:] + kentucky[:n][:1] + ([COLUMBUS] if n == 0 else [])) for n in range(4)]
    spread = [[AUSTIN, DENVER], [BOSTON, SEATTLE], [COLUMBUS, AUSTIN], [DENVER, BOSTON]]
    docs += [story(NATIONAL, n, spread[n]) for n in range(4)]
    docs += [story(GIVEN, n, [SEATTLE, DENVER]) for n in range(3)]
    return docs


@pytest.fixture(scope="module")
def location(module_store_factory):
    loc = module_store_factory.location()
    wf.add_to(loc, archive_docs())
    return loc


@pytest.fixture(scope="module")
def overrides_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("homes") / "overrides.toml"
    path.write_text('[home]\n"Valley <i>Gazette</i>" = "Corbin, Kentucky"\n', encoding="utf-8")
    return path


def needs_divisions(request, factory) -> None:
    """Inference reads each stored place's state (Place.admin1), which the PostgreSQL store
    does not keep yet: expected to fail there until it does (then it passes as XPASS)."""
    if factory.kind == "postgres":
        request.applymarker(pytest.mark.xfail(
            reason="the PostgreSQL store keeps no divisions (Place.admin1) yet, so no home can be inferred"))


@pytest.fixture
def archive(location, module_store_factory, request):
    from archive.store import open_store

    needs_divisions(request, module_store_factory)

    store = open_store(location)
    yield store
    store.close()


def test_a_home_is_inferred_for_a_local_source_only(archive):
    homes = source_homes(archive, [LOCAL, NATIONAL])
    assert set(homes) == {LOCAL}  # the national wire's places are spread over five states
    home = homes[LOCAL]
    assert (home.home, home.how, home.country_code, home.geonameid) == ("Kentucky", "inferred", "US", KENTUCKY[0])


def test_unsure_mentions_are_no_evidence(archive, module_store_factory):
    from archive.store import open_store

    loc = module_store_factory.location()
    wf.add_to(loc, [story("Hazy Herald", n, [LONDON_KY, CORBIN, SOMERSET], score=0.6) for n in range(4)]
              + [story("Clear Herald", n, [LONDON_KY, CORBIN, SOMERSET]) for n in range(4)])
    store = open_store(loc)
    try:
        homes = source_homes(store, ["Hazy Herald", "Clear Herald"])
    finally:
        store.close()
    assert list(homes) == ["Clear Herald"]


def test_a_configured_home_is_listed_and_inference_can_be_turned_off(archive, overrides_file):
    overrides = load_overrides(overrides_file)
    homes = source_homes(archive, [LOCAL, NATIONAL, GIVEN], overrides)
    assert (homes[GIVEN].home, homes[GIVEN].how) == ("Corbin, Kentucky", "configured")
    assert homes[LOCAL].how == "inferred"
    off = source_homes(archive, [LOCAL, NATIONAL, GIVEN], overrides, infer=False)
    assert set(off) == {GIVEN}  # the configured home stays; nothing is inferred


def facet_items(html: str) -> dict[str, str]:
    """Source name (as shown) -> the HTML of its item in the source facet."""
    section = re.search(r'<section class="facet">\s*<h3>Source</h3>(.*?)</section>', html, re.S)
    assert section, "the search page lists sources"
    items = re.findall(r"<li[^>]*>(.*?)</li>", section.group(1), re.S)
    assert items
    return {re.search(r"<a [^>]*>(.*?)</a>", item, re.S).group(1).strip(): item for item in items}


def test_the_search_pages_source_facet_shows_each_home(location, overrides_file, module_store_factory, request):
    needs_divisions(request, module_store_factory)
    app = create_app({"TESTING": True, "INDEX": location, "OVERRIDES": str(overrides_file)})
    html = app.test_client().get("/?q=council").get_data(as_text=True)
    items = facet_items(html)
    assert "home: Kentucky (United States), inferred" in items[LOCAL]
    assert "home:" not in items[NATIONAL]  # the control: listed, with no home
    given = items["Valley &lt;i&gt;Gazette&lt;/i&gt;"]  # a source name is escaped, and so is its home
    assert "home: Corbin, Kentucky, configured" in given


def test_the_facet_lists_no_inferred_home_when_switched_off(location, overrides_file):
    app = create_app({"TESTING": True, "INDEX": location, "OVERRIDES": str(overrides_file), "INFER_HOMES": False})
    items = facet_items(app.test_client().get("/?q=council").get_data(as_text=True))
    assert "home:" not in items[LOCAL]
    assert "home: Corbin, Kentucky, configured" in items["Valley &lt;i&gt;Gazette&lt;/i&gt;"]  # the control


def test_the_api_lists_the_homes_of_the_facets_sources(location, overrides_file, module_store_factory, request):
    needs_divisions(request, module_store_factory)
    app = create_app({"TESTING": True, "INDEX": location, "OVERRIDES": str(overrides_file)})
    body = app.test_client().get("/api/search?q=council").get_json()
    assert NATIONAL in [f["value"] for f in body["facets"]["source"]]  # listed, with no home
    assert set(body["source_homes"]) == {LOCAL, GIVEN}
    assert body["source_homes"][LOCAL] == {"source": LOCAL, "home": "Kentucky", "how": "inferred",
                                           "country_code": "US", "geonameid": KENTUCKY[0]}
    assert body["source_homes"][GIVEN]["how"] == "configured"


def test_a_home_listed_follows_new_articles(tmp_path):
    location = str(tmp_path / "index")
    kentucky = [LONDON_KY, CORBIN, SOMERSET, LEXINGTON]
    wf.add_to(location, [story("Fresh Ledger", 0, kentucky), story(NATIONAL, 0, [AUSTIN, DENVER])])
    client = create_app({"TESTING": True, "INDEX": location}).test_client()
    items = facet_items(client.get("/?q=council").get_data(as_text=True))
    assert NATIONAL in items and "home:" not in items["Fresh Ledger"]  # one article says too little
    wf.add_to(location, [story("Fresh Ledger", n, kentucky) for n in (1, 2)])
    items = facet_items(client.get("/?q=council").get_data(as_text=True))
    assert "home: Kentucky (United States), inferred" in items["Fresh Ledger"]  # read again after the commit
