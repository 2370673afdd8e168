"""Regression suite for the geotagger: sentences written for these tests."""

from pathlib import Path

import pytest

from archive.geo.geotag import geotag_records
from archive.models import Article

SAMPLE = Path(__file__).resolve().parent.parent / "seeds" / "000_30476793be204b5a.txt"


def tags(tagger, text):
    return {m.surface: m.place for m in tagger.tag_text(text)}


def near(place, lat, lon, tol=0.2):
    return abs(place.lat - lat) <= tol and abs(place.lon - lon) <= tol


@pytest.fixture(scope="module")
def demonym_tagger(gazetteer):
    from archive.geo.geotag import Geotagger

    return Geotagger(gazetteer=gazetteer, demonyms=True)


@pytest.fixture(scope="module")
def sample(tagger):
    text = SAMPLE.read_text(encoding="utf-8")
    return text, tagger.tag_text(text)


@pytest.mark.parametrize(
    "surface, lat, lon",
    [
        ("Laos", 18.0, 105.0),
        ("Jarabulus", 36.82, 38.01),
        ("Azaz", 36.59, 37.05),
        ("Syria", 35.0, 38.0),
        ("China", 35.0, 105.0),
        ("Ukraine", 49.0, 32.0),
        ("Moscow", 55.75, 37.62),
        ("Russian Federation", 60.0, 100.0),
    ],
)
def test_sample_places(sample, surface, lat, lon):
    _, mentions = sample
    found = [m for m in mentions if m.surface == surface]
    assert found, f"{surface} not found"
    assert all(near(m.place, lat, lon) for m in found), [m.place for m in found]


def test_sample_united_states_every_spelling(sample):
    _, mentions = sample
    us = {m.surface for m in mentions if m.place.country_code == "US" and m.place.feature == "PCLI"}
    assert {"United States", "U.S.", "US"} <= us


def test_sample_glued_us(sample):
    text, mentions = sample
    pos = text.index("U.S.to")
    assert any(m.start == pos and m.end == pos + 4 for m in mentions)


@pytest.mark.parametrize(
    "word", ["Obama", "Putin", "Erdogan", "Duterte", "Xi", "Assad", "Share", "Advertisement"]
)
def test_sample_non_places(sample, word):
    _, mentions = sample
    assert not [m for m in mentions if word in m.surface]


def test_sample_laos_is_the_country(sample):
    _, mentions = sample
    laos = [m.place for m in mentions if m.surface == "Laos"]
    assert laos and all(p.feature == "PCLI" and p.country_code == "LA" for p in laos)


def test_sample_demonyms_denote_countries_when_asked(gazetteer):
    from archive.geo.geotag import Geotagger

    mentions = Geotagger(gazetteer=gazetteer, demonyms=True).tag_text(SAMPLE.read_text(encoding="utf-8"))
    by_surface = {m.surface: m.place for m in mentions}
    assert by_surface["Syrian"].country_code == "SY"
    assert by_surface["Russian"].country_code == "RU"


def test_offsets_match_surface(sample):
    text, mentions = sample
    for m in mentions:
        assert text[m.start : m.end] == m.surface


def test_article_title_and_text(tagger):
    art = Article(id="a", title="Floods hit Jarabulus", text="Rescuers reached Jarabulus in Syria.")
    out = tagger.geotag(art)
    fields = {(m.field, m.surface) for m in out.mentions}
    assert ("title", "Jarabulus") in fields and ("text", "Jarabulus") in fields
    assert out.places[0].geonameid == 169179


def test_geotag_records_reports_bad_lines(tagger):
    errors = []
    lines = ['{"id": 1, "text": "Talks in Moscow."}', "not json", '{"text": "no id"}', "", '{"id": 2}']
    out = list(geotag_records(lines, tagger, lambda n, msg: errors.append((n, msg))))
    assert [r["id"] for r in out] == [1]
    top = out[0]["toponyms"][0]
    assert set(top) == {"start", "end", "name", "lat", "lon", "geonameid", "country_code", "feature", "score",
                        "admin1", "admin2"}
    assert [n for n, _ in errors] == [2, 3, 5]


# --- sentences written for the regression suite -----------------------------------------


@pytest.mark.parametrize(
    "text, absent",
    [
        ("Paris Hilton arrived at the party late.", "Paris"),
        ("President Obama met the press on Monday.", "Obama"),
        ("Obama said the talks were useful.", "Obama"),
        ("Share\n\nThe council met on Tuesday.", "Share"),
        ("Reading is a pleasure for many children.", "Reading"),
        ("May was a difficult month for the company.", "May"),
        ("Nice weather is expected for the weekend.", "Nice"),
        ("Of all the options, this was the cheapest.", "Of"),
        ("Mobile phones were banned in class.", "Mobile"),
        ("Bath time for the toddlers.", "Bath"),
        ("NATO leaders gathered for the summit.", "NATO"),
        ("The HIV epidemic slowed last year.", "HIV"),
        ("Advertisement\n\nThe storm moved east.", "Advertisement"),
        ("Officials in the South said roads were closed.", "South"),
        ("The fine was US$10,000.", "US"),
        ("Mr. Heiden denied the claims.", "Heiden"),
        ("Nelson Mandela was freed in 1990.", "Mandela"),
        ("State Department official George Kent testified. Kent said he was worried.", "Kent"),
    ],
)
def test_not_places(tagger, text, absent):
    assert absent not in {m.surface for m in tagger.tag_text(text)}


@pytest.mark.parametrize(
    "text, surface, country, lat, lon",
    [
        ("Police in Paris, Texas, closed the highway.", "Paris", "US", 33.66, -95.56),
        ("The museum in Paris reopened after the strike.", "Paris", "FR", 48.85, 2.35),
        ("He moved to Springfield, Illinois, last year.", "Springfield", "US", 39.80, -89.64),
        ("WASHINGTON (Reuters) - The Senate voted on Tuesday.", "WASHINGTON", "US", 38.90, -77.04),
        ("Lawmakers in Washington debated the bill.", "Washington", "US", 38.90, -77.04),
        ("Talks in Moscow ended without a deal.", "Moscow", "RU", 55.75, 37.62),
        ("Residents of Rio de Janeiro voted on Sunday.", "Rio de Janeiro", "BR", -22.9, -43.2),
        ("Floods hit New South Wales again.", "New South Wales", "AU", -32.5, 147.5),
        ("Syria's army advanced.", "Syria", "SY", 35.0, 38.0),
        ("Officials in Kyiv and Kiev alike denied it.", "Kiev", "UA", 50.45, 30.52),
        ("Shelling near A'zaz continued.", "A'zaz", "SY", 36.59, 37.05),
        ("The Houston Rockets won again.", "Houston", "US", 29.76, -95.36),
        ("Troops left the UAE and the UK.", "UAE", "AE", 24.0, 54.0),
    ],
)
def test_places(tagger, text, surface, country, lat, lon):
    found = {m.surface: m.place for m in tagger.tag_text(text)}
    assert surface in found, found
    place = found[surface]
    assert place.country_code == country
    assert near(place, lat, lon, tol=2.5 if place.feature in ("PCLI", "ADM1") else 0.3), place


def test_one_sense_per_name_per_article(tagger):
    text = "Paris, Texas, is small. Paris has a water tower. Many visit Paris each year."
    places = {m.place.geonameid for m in tagger.tag_text(text) if m.surface == "Paris"}
    assert len(places) == 1 and tagger.gazetteer.get(places.pop()).country_code == "US"


def test_person_seen_once_is_a_person_everywhere(tagger):
    text = "Barack Obama spoke first. Later, Obama took questions."
    assert not [m for m in tagger.tag_text(text) if "Obama" in m.surface]


def test_demonyms_are_off_by_default_and_can_be_switched_on(gazetteer, tagger):
    from archive.geo.geotag import Geotagger

    assert [m.surface for m in tagger.tag_text("Syrian troops entered Syria.")] == ["Syria"]
    with_adjectives = Geotagger(gazetteer=gazetteer, demonyms=True)
    assert [m.surface for m in with_adjectives.tag_text("Syrian troops entered Syria.")] == ["Syrian", "Syria"]


def test_scores_are_probabilities(sample):
    _, mentions = sample
    assert all(0.0 <= m.score <= 1.0 for m in mentions)


def test_module_level_geotag_accepts_any_geocoder():
    from geopy.location import Location

    from archive.geo.geotag import geotag

    def fake(query, exactly_one=True, timeout=None):
        loc = Location(query, (1.0, 2.0), {})
        return loc if exactly_one else [loc]

    out = geotag(Article(id="x", title="", text="Shelling hit Jarabulus."), geocode=fake)
    assert [(m.surface, m.place.lat, m.place.lon) for m in out.mentions] == [("Jarabulus", 1.0, 2.0)]


@pytest.mark.parametrize(
    "text, code, region",
    [
        ("Fires near Perth, WA, spread.", "WA", "Western Australia"),
        ("Rain in Spokane, WA, again.", "WA", "Washington"),
        ("She lives in Santa Ana, Calif., now.", "Calif.", "California"),
        ("Floods in Lismore, NSW.", "NSW", "New South Wales"),
        ("Kelowna, BC, residents were evacuated.", "BC", "British Columbia"),
    ],
)
def test_city_state_codes(tagger, text, code, region):
    found = {m.surface: m.place for m in tagger.tag_text(text)}
    assert found[code].name == region and found[code].feature == "ADM1"


def test_codes_need_a_city(tagger):
    assert "WA" not in {m.surface for m in tagger.tag_text("WA officials met on Monday.")}


@pytest.mark.parametrize(
    "text, surface, country",
    [
        ("Canadian officials agreed.", "Canadian", "CA"),
        ("South Korean exports rose.", "South Korean", "KR"),
    ],
)
def test_demonym_forms(demonym_tagger, text, surface, country):
    found = {m.surface: m.place for m in demonym_tagger.tag_text(text)}
    assert found[surface].country_code == country


@pytest.mark.parametrize("text, absent", [("Ships crossed the Indian Ocean.", "Indian"),
                                          ("Central American migrants walked north.", "American")])
def test_adjectives_that_are_not_the_country(demonym_tagger, text, absent):
    assert absent not in {m.surface for m in demonym_tagger.tag_text(text)}


@pytest.mark.parametrize(
    "text, absent",
    [
        ("The White House said on Monday that talks would go on.", "White House"),
        ("Officials in Washington and Texas met; Chad Pergram reported it.", "Chad"),
        ("Senators from Iowa and Ohio met Mary in Washington.", "Mary"),
        ("George W. Bush spoke in Texas.", "Bush"),
    ],
)
def test_more_non_places(tagger, text, absent):
    assert absent not in {m.surface for m in tagger.tag_text(text)}


@pytest.mark.parametrize(
    "text, index, feature",
    [
        ("A cow from a Washington state farm tested positive.", 0, "ADM1"),
        ("Lawmakers in Washington met the president.", 0, "PPLC"),
        ("She grew up in Buffalo, New York, and moved to New York later.", 1, "ADM1"),
        ("Cases rose in Ohio, New York and Texas.", 1, "ADM1"),
    ],
)
def test_state_or_city_by_occurrence(tagger, text, index, feature):
    assert tagger.tag_text(text)[index].place.feature == feature


@pytest.mark.parametrize(
    "text, surface, name",
    [
        ("The Cardinals play in St. Louis tonight.", "St. Louis", "St. Louis"),
        ("Cocoa from Côte d'Ivoire is cheaper.", "Côte d'Ivoire", "Ivory Coast"),
        ("Bushfires spread across NSW overnight.", "NSW", "New South Wales"),
        ("Korea and Japan signed the deal.", "Korea", "South Korea"),
    ],
)
def test_more_name_forms(tagger, text, surface, name):
    assert {m.surface: m.place.name for m in tagger.tag_text(text)}.get(surface) == name


@pytest.mark.parametrize(
    "text, absent",
    [
        ("Israel and Hamas began a cease-fire in Gaza.", "Hamas"),
        ("Hurricane Florence hit North Carolina and South Carolina.", "Florence"),
        ("Mr. Romney wants the Bush tax cuts in Ohio, Texas and Florida; John Bush agreed.", "Bush"),
        ("GM's units Opel and Saab struggled in Germany.", "Opel"),
        ("President Obama chose Judge Merrick Garland in Ohio.", "Garland"),
    ],
)
def test_names_from_real_news(tagger, text, absent):
    assert absent not in {m.surface for m in tagger.tag_text(text)}


def test_offsets_hold_on_random_text(tagger):
    import random

    rng = random.Random(7)
    words = ["Paris", "Texas", "US", "U.S.", "St.", "Louis", "New", "York", "Share", "Obama", "said", "Mr.",
             "of", "Syrian", "NSW", ",", "Calif.", "WA", "state", "Côte", "d'Ivoire", "-", "'s", "\n", "日本"]
    for _ in range(300):
        text = " ".join(rng.choice(words) for _ in range(rng.randint(0, 30)))
        for m in tagger.tag_text(text):
            assert text[m.start : m.end] == m.surface and 0.0 <= m.score <= 1.0


@pytest.mark.parametrize("text, name", [("GM broke ground in Shanghai.", "Shanghai"),
                                        ("Prices rose in New York last year.", "New York City")])
def test_big_city_over_same_named_province(tagger, text, name):
    place = tagger.tag_text(text)[0].place
    assert place.name == name and place.feature != "ADM1"


@pytest.mark.parametrize(
    "text, surface, country, feature",
    [
        ("Deputies in Cuyahoga County arrested two men.", "Cuyahoga County", "US", "ADM2"),
        ("Flooding closed roads in Surrey and Kent, England.", "Surrey", "GB", "ADM2"),
    ],
)
def test_counties(tagger, text, surface, country, feature):
    place = {m.surface: m.place for m in tagger.tag_text(text)}[surface]
    assert place.country_code == country and place.feature == feature


@pytest.mark.parametrize(
    "title, text, name",
    [
        ("Kennedy pledges to cut fees", "The party leader Charles Kennedy spoke to students on Monday.", "Kennedy"),
        ("Whitby warns of library cuts", "Councillor Anne Whitby told the meeting that funds were short.",
         "Whitby"),
    ],
)
def test_person_in_the_text_is_a_person_in_the_title(tagger, title, text, name):
    out = tagger.geotag(Article(id="p", title=title, text=text))
    assert name not in {m.surface for m in out.mentions}, out.mentions


def test_country_adjectives_place_the_article_without_being_tagged(tagger):
    text = "British ministers met at Westminster to discuss the budget."
    found = {m.surface: m.place for m in tagger.tag_text(text)}
    assert "British" not in found
    assert found["Westminster"].country_code == "GB"


@pytest.mark.parametrize(
    "text, surface, country, min_population",
    [
        # one of four states named is weak evidence: Cleveland, Ohio, not a Texas village
        ("Governors of Texas, Florida, Nevada and Kansas spoke. A rally in Cleveland drew big crowds.",
         "Cleveland", "US", 300_000),
        # New York City is no reason to put Boston in New York state
        ("After winning in Athens the sprinter raced in New York, Boston and Chicago.", "Boston", "US", 500_000),
        # one English suburb does not move Melbourne to an English village
        ("The champion fears for Melbourne after a defeat at Wimbledon.", "Melbourne", "AU", 1_000_000),
    ],
)
def test_context_does_not_pick_a_village_over_a_big_namesake(tagger, text, surface, country, min_population):
    place = {m.surface: m.place for m in tagger.tag_text(text)}[surface]
    assert place.country_code == country and place.population >= min_population, place


def test_a_local_story_still_picks_its_own_small_town(tagger):
    text = "Commuters from Fairfax, Manassas and Centreville in Virginia drive to the Metro station at Vienna."
    place = {m.surface: m.place for m in tagger.tag_text(text)}["Vienna"]
    assert place.country_code == "US"


def _context(tagger, names):
    from archive.geo.resolve import Context, lookup, prior

    ctx = Context()
    for name in names:
        ctx.add(name.lower(), max(lookup(tagger.geocode, name), key=prior))
    return ctx


@pytest.mark.parametrize(
    "name, context, country, not_name",
    [
        # "Bush" is an alternate name of a Texas hamlet: American context must not pick it
        ("Bush", ["United States", "Pennsylvania", "Hawaii", "Texas"], None, "Bushland"),
        # "Frankfurt" is listed for several small Frankforts in the US
        ("Frankfurt", ["United States", "New York", "Japan"], "DE", None),
        # GeoNames records no population for London's Twickenham: unknown is not empty
        ("Twickenham", ["England", "Scotland", "Wales", "France"], "GB", None),
    ],
)
def test_resolution_with_article_context(tagger, name, context, country, not_name):
    from archive.geo.resolve import choose, lookup

    place = choose(lookup(tagger.geocode, name), _context(tagger, context), own=name.lower())[0].place
    if country:
        assert place.country_code == country, place
    if not_name:
        assert place.name != not_name, place


@pytest.mark.parametrize(
    "text, surface, country, name",
    [
        ("OSLO, May 5 - The central bank raised its key rate.", "OSLO", "NO", None),
        ("FRANKFURT, May 5 - Bankers watched New York as U.S. officials met in Washington.", "FRANKFURT", "DE",
         None),
        ("SALVADOR, Feb 3 - Farmers said rain had helped the crop.", "SALVADOR", "BR", "Salvador"),
        ("HORSHAM, Pa., May 5 - The builder said sales rose.", "HORSHAM", "US", None),
        ("GREENWICH, CONN, May 5 - The fund said it would buy shares.", "GREENWICH", "US", None),
        ("LONDON (Wire) - Shares rose in early trade.", "LONDON", "GB", "London"),
    ],
)
def test_wire_datelines(tagger, text, surface, country, name):
    found = {m.surface: m.place for m in tagger.tag_text(text)}
    assert surface in found, found
    assert found[surface].country_code == country and (name is None or found[surface].name == name)


@pytest.mark.parametrize(
    "text, absent",
    [
        ("NATO, the alliance, met in Brussels.", "NATO"),
        # the state says where; with no Warrington in Pennsylvania, no pin in England either
        ("WARRINGTON, Pa, May 5 - The insurer said profits fell.", "WARRINGTON"),
    ],
)
def test_not_datelines(tagger, text, absent):
    assert absent not in {m.surface for m in tagger.tag_text(text)}


def test_city_state_code_vouches_for_the_city(tagger):
    assert {m.surface for m in tagger.tag_text("Fans in Lowell, Mass. cheered.")} == {"Lowell", "Mass."}


@pytest.mark.parametrize(
    "text, absent",
    [
        # a foreign province the article gives no other sign of is a homonym (Nord, Haiti)
        ("American officials in Washington and Chicago criticised the Nord Stream pipeline.", "Nord"),
        ("Executives in Texas and California and American investors met Peter Marion of Maritime Foods.",
         "Maritime"),
        # Guyana's capital in a story set in America: the place meant is not in the gazetteer
        ("Students from Georgetown joined rallies in Washington, Baltimore and Chicago, and across America.",
         "Georgetown"),
    ],
)
def test_no_pin_abroad_in_a_story_set_at_home(tagger, text, absent):
    assert absent not in {m.surface for m in tagger.tag_text(text)}


def test_a_world_city_abroad_is_still_tagged(tagger):
    found = {m.surface: m.place for m in tagger.tag_text(
        "Reporters in Chicago, Boston and Washington covered the London talks.")}
    assert found["London"].country_code == "GB"
    # London places the story in England, which says nothing about which Boston is meant
    assert found["Boston"].country_code == "US" and found["Boston"].population > 500_000


@pytest.mark.parametrize(
    "text, absent",
    [
        ("GENCORP <GY> TO STUDY A BID", "GY"),
        ("OCCIDENTAL <OXY> UNIT TO REDEEM DEBT", "OCCIDENTAL"),
        ("The first entry in Merriam-Webster is short.", "Merriam"),
        # a road named after a town is seldom in it, even in a story that names the town's country
        ("Ireland beat South Africa, Cape Town fans watching, at Lansdowne Road in Dublin.", "Lansdowne"),
    ],
)
def test_small_place_names_inside_longer_names(tagger, text, absent):
    assert absent not in {m.surface for m in tagger.tag_text(text)}


def test_a_college_town_keeps_its_pin(tagger):
    assert "Middlebury" in {m.surface for m in tagger.tag_text("He studied at Middlebury College in Vermont.")}


@pytest.mark.parametrize(
    "text, absent",
    [
        ("Officials in Whitehall briefed ministers in London, Leeds and Manchester about the British budget.",
         "Whitehall"),
        ("Barges on the Vistula reached Warsaw and Krakow in Poland.", "Vistula"),
    ],
)
def test_no_foreign_city_through_another_of_its_names(tagger, text, absent):
    assert absent not in {m.surface for m in tagger.tag_text(text)}


def test_confident_choices_help_the_doubtful_ones(tagger):
    # Barcelona is not clear-cut on its own, but once it is Spain's it helps Seville
    text = "American fans cheered the US team, but Spain beat the USA in Barcelona and again in Seville."
    found = {m.surface: m.place for m in tagger.tag_text(text)}
    assert found["Barcelona"].country_code == "ES" and found["Seville"].country_code == "ES"


def test_a_city_named_like_a_given_name_before_a_rare_surname_is_a_person(tagger):
    found = {m.surface for m in tagger.tag_text(
        "The owner, Milan Mandaric, praised the players in Portsmouth and Leicester.")}
    assert "Milan" not in found and {"Portsmouth", "Leicester"} <= found
    assert "Denver" in {m.surface for m in tagger.tag_text("The Denver Broncos played in Dallas.")}


def test_a_list_of_states_is_not_a_city_state_pair(tagger):
    # "Louisiana, Missouri" inside a list must not make Louisiana a Missouri town elsewhere
    text = "Senators from Arkansas, Louisiana, Missouri and Texas met. A senator of Louisiana spoke first."
    assert all(m.place.feature == "ADM1" for m in tagger.tag_text(text))


def test_no_foreign_capital_through_another_of_its_names(tagger):
    # "Amano" is listed as another name of Amman: a surname here, in a story set elsewhere
    text = "Yukiya Amano spoke in Japan, where Japanese and Chinese diplomats from China agreed."
    assert "Amano" not in {m.surface for m in tagger.tag_text(text)}


def test_a_name_whose_close_senses_share_a_country_places_the_article(tagger):
    # Tokyo the city or the prefecture, Seoul, Beijing: either way their countries count
    text = "Yukiya Amano spoke in Tokyo; officials in Beijing and Seoul and Japanese diplomats agreed."
    assert "Amano" not in {m.surface for m in tagger.tag_text(text)}


def test_one_city_does_not_make_a_namesake_village_in_its_state(tagger):
    found = {m.surface: m.place for m in tagger.tag_text("Traders in New York said Boston fund managers were selling.")}
    assert found["Boston"].population > 500_000


@pytest.mark.parametrize(
    "text, absent",
    [
        ("Ireland: G Murphy; R Corrigan, S Byrne, J Hayes; M Kelly.", "Corrigan"),
        ("Subs: Dowson, Haughton, Monye, Roques, P Sanderson.", "Haughton"),
        ("Subs: Dowson, Haughton, Monye, Roques, P Sanderson.", "Roques"),
        ("United: Okocha (Vaz Te 77), Hierro (Campo 64), Speed.", "Campo"),
        ("Subs: Stanley, Hyde (Pitman 105), Purdie (Mills 83), Brown.", "Pitman"),
    ],
)
def test_team_sheets_are_people(tagger, text, absent):
    assert absent not in {m.surface for m in tagger.tag_text(text)}


def test_a_list_of_towns_is_still_towns(tagger):
    found = {m.surface for m in tagger.tag_text("Flights from Paris, Lyon and Toulouse were cancelled.")}
    assert {"Paris", "Lyon", "Toulouse"} <= found


@pytest.mark.parametrize(
    "text, surface, country",
    [
        ("BEREA, Kentucky (Wire) - A Republican said he would run.", "BEREA", "US"),
        ("Floods hit Victoria, Texas, again.", "Victoria", "US"),
    ],
)
def test_a_place_best_known_as_a_region_still_pairs_with_a_foreign_state(tagger, text, surface, country):
    assert {m.surface: m.place for m in tagger.tag_text(text)}[surface].country_code == country


def test_a_mid_sized_foreign_namesake_is_no_pin_in_a_story_set_at_home(tagger):
    text = "Floods hit the pueblo of San Felipe, officials in New Mexico, Texas and Arizona said."
    assert "San Felipe" not in {m.surface for m in tagger.tag_text(text)}
    text = "Athletes from Ohio, Texas and Iowa flew to London for the final."
    assert {m.surface: m.place for m in tagger.tag_text(text)}["London"].country_code == "GB"


@pytest.mark.parametrize(
    "text, surface, feature",
    [
        ("So far he has visited Arizona, Ohio, Washington, Wisconsin and Florida. "
         "Then he took a train back to Washington for votes.", "Washington", ("ADM1", "PPLC")),
        ("Senators will vote on the Canada, Mexico deal.", "Canada", ("PCLI",)),
    ],
)
def test_lists_of_states_and_countries_are_not_pairs(tagger, text, surface, feature):
    assert all(m.place.feature in feature for m in tagger.tag_text(text) if m.surface == surface)


def test_a_given_name_before_a_surname_is_no_small_town(tagger):
    found = {m.surface for m in tagger.tag_text("It gives you a fuzzy Milton Friedman vibe in Ohio and Texas.")}
    assert "Milton" not in found and {"Ohio", "Texas"} <= found


def test_a_capital_namesake_is_not_bigger_than_its_people(tagger):
    # San Jose, California has three times the people of San José, Costa Rica's capital
    text = ("Code for America is working with California cities, including Oakland, Los Angeles and San Jose, "
            "on a pilot.")
    assert {m.surface: m.place for m in tagger.tag_text(text)}["San Jose"].country_code == "US"


def test_a_given_name_before_a_surname_is_no_province_abroad(tagger):
    # "Russian" places the story in Russia too, but Vladimir here is a man, not the region
    text = "Russian officials said Vladimir Putin had phoned leaders in Texas, Ohio and Florida."
    assert "Vladimir" not in {m.surface for m in tagger.tag_text(text)}
    text = "Virginia Democrats met colleagues from Ohio, Texas and Florida."
    assert "Virginia" in {m.surface for m in tagger.tag_text(text)}


def test_states_and_provinces_need_no_country_named(tagger):
    # Region names are also common-ish words; a story naming only regions still gets its pins.
    found = {m.surface: m.place for m in tagger.tag_text("Floods hit Texas and Ontario on Monday.")}
    assert found["Texas"].country_code == "US" and found["Texas"].feature == "ADM1"
    assert found["Ontario"].country_code == "CA"
