"""Regression suite for the geotagger: sentences written for these tests.

Every "X is not a place" case names a real place in the same sentence that must be found
at its exact span (a control), so a tagger that finds nothing fails here; and absence is
checked by span, so a longer mention over the word ("Paris Hilton") fails a "Paris is
absent" check too. The sentences were checked against ../shared/eval (GeoWebNews and
GeoVirus, the tuning data): none repeats or paraphrases one of its articles.
"""

import re
from pathlib import Path

import pytest

from archive.geo.geotag import geotag_records
from archive.models import Article

SAMPLE = Path(__file__).resolve().parent.parent / "seeds" / "000_30476793be204b5a.txt"


def spans(text, word):
    """Every (start, end) where ``word`` occurs in ``text`` as a whole word."""
    found = [(m.start(), m.end()) for m in re.finditer(rf"(?<!\w){re.escape(word)}(?!\w)", text)]
    assert found, f"{word!r} is not in {text!r}"
    return found


def found_at(mentions, text, surface, country=None, after=0):
    """The mention at exactly the first span of ``surface`` (from ``after`` on); fails when there is none."""
    start, end = next((s, e) for s, e in spans(text, surface) if s >= after)
    at = [m for m in mentions if (m.start, m.end) == (start, end)]
    assert at, f"{surface!r} at {start}:{end} not tagged; got {[(m.surface, m.start, m.end) for m in mentions]}"
    assert at[0].surface == surface
    if country is not None:
        assert at[0].place.country_code == country, at[0].place
    return at[0]


def assert_absent(mentions, text, word):
    """No mention overlaps any occurrence of ``word``: neither the word nor a longer name over it."""
    for start, end in spans(text, word):
        over = [(m.surface, m.start, m.end) for m in mentions if m.start < end and start < m.end]
        assert not over, f"{word!r} at {start}:{end} is inside a mention: {over}"


def check_not_a_place(tagger, text, absent, control, country):
    """``absent`` is not tagged while the control place in the same sentence is, at its exact span."""
    mentions = tagger.tag_text(text)
    found_at(mentions, text, control, country)
    assert_absent(mentions, text, absent)
    return mentions


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
    "word, sentence, control",
    [
        # (word never tagged anywhere in the sample, the start of a sentence naming it, a place there)
        ("Obama", "Obama said he would ask", "Laos"),
        ("Putin", "Putin’s persistent support", "Moscow"),
        ("Erdogan", "Erdogan said he reiterated", "China"),
        ("Duterte", "Obama said he would ask", "Laos"),
        ("Xi", "Xi and Obama jointly", "Paris"),  # the Paris Agreement points to Paris
        ("Assad", "At a news conference", "Jarabulus"),  # that paragraph names no place: the next one's
        ("Share", "Share", "United States"),
        ("Advertisement", "Advertisement\n\nSpeaking in", "China"),
    ],
)
def test_sample_non_places(sample, word, sentence, control):
    text, mentions = sample
    found_at(mentions, text, control, after=text.index(sentence))
    assert_absent(mentions, text, word)


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
    assert len(mentions) >= 20
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
    "text, absent, control, country",
    [
        ("Paris Hilton arrived at the party in Madrid late.", "Paris", "Madrid", "ES"),
        ("President Obama met the press in Ottawa on Monday.", "Obama", "Ottawa", "CA"),
        ("Obama said the talks in Nairobi were useful.", "Obama", "Nairobi", "KE"),
        ("Share\n\nThe council met in Leeds on Tuesday.", "Share", "Leeds", "GB"),
        ("Reading is a pleasure for many children in Scotland.", "Reading", "Scotland", "GB"),
        ("May was a difficult month for the company in Toronto.", "May", "Toronto", "CA"),
        ("Nice weather is expected for the weekend in Portugal.", "Nice", "Portugal", "PT"),
        ("Of all the options in Kenya, this was the cheapest.", "Of", "Kenya", "KE"),
        ("Mobile phones were banned in class in Ireland.", "Mobile", "Ireland", "IE"),
        ("Bath time for the toddlers in Denmark.", "Bath", "Denmark", "DK"),
        ("NATO leaders gathered for the summit in Vilnius.", "NATO", "Vilnius", "LT"),
        ("The HIV infection rate fell in Malawi last year.", "HIV", "Malawi", "MW"),
        ("Advertisement\n\nThe storm moved east toward Cuba.", "Advertisement", "Cuba", "CU"),
        ("Officials in the South said roads to Atlanta were closed.", "South", "Atlanta", "US"),
        ("The fine in Singapore was US$10,000.", "US", "Singapore", "SG"),
        ("Mr. Ripley denied the claims in Denver.", "Ripley", "Denver", "US"),  # Ripley: towns in England, US
        ("Nelson Mandela was freed in 1990 near Cape Town.", "Mandela", "Cape Town", "ZA"),
        ("State Department official George Kent testified in Washington. Kent said he was worried.", "Kent",
         "Washington", "US"),
    ],
)
def test_not_places(tagger, text, absent, control, country):
    check_not_a_place(tagger, text, absent, control, country)


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
        ("The Houston Astros lost at home again.", "Houston", "US", 29.76, -95.36),
        ("Troops left the UAE and the UK.", "UAE", "AE", 24.0, 54.0),
    ],
)
def test_places(tagger, text, surface, country, lat, lon):
    place = found_at(tagger.tag_text(text), text, surface).place
    assert place.country_code == country
    assert near(place, lat, lon, tol=2.5 if place.feature in ("PCLI", "ADM1") else 0.3), place


def test_one_sense_per_name_per_article(tagger):
    text = "Paris, Texas, is small. Paris has a water tower. Many visit Paris each year."
    places = {m.place.geonameid for m in tagger.tag_text(text) if m.surface == "Paris"}
    assert len(places) == 1 and tagger.gazetteer.get(places.pop()).country_code == "US"


def test_person_seen_once_is_a_person_everywhere(tagger):
    text = "Barack Obama spoke first in Ohio. Later, Obama took questions."
    check_not_a_place(tagger, text, "Obama", "Ohio", "US")


def test_demonyms_are_off_by_default_and_can_be_switched_on(gazetteer, tagger):
    from archive.geo.geotag import Geotagger

    assert [m.surface for m in tagger.tag_text("Syrian troops entered Syria.")] == ["Syria"]
    with_adjectives = Geotagger(gazetteer=gazetteer, demonyms=True)
    assert [m.surface for m in with_adjectives.tag_text("Syrian troops entered Syria.")] == ["Syrian", "Syria"]


def test_scores_are_probabilities(sample):
    _, mentions = sample
    assert len(mentions) >= 20
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
        ("She lives in Fresno, Calif., now.", "Calif.", "California"),
        ("Floods in Lismore, NSW.", "NSW", "New South Wales"),
        ("Kelowna, BC, residents were evacuated.", "BC", "British Columbia"),
    ],
)
def test_city_state_codes(tagger, text, code, region):
    place = found_at(tagger.tag_text(text), text, code).place
    assert place.name == region and place.feature == "ADM1"


def test_codes_need_a_city(tagger):
    check_not_a_place(tagger, "WA officials met in Seattle on Monday.", "WA", "Seattle", "US")


@pytest.mark.parametrize(
    "text, surface, country",
    [
        ("Canadian officials agreed.", "Canadian", "CA"),
        ("South Korean exports rose.", "South Korean", "KR"),
    ],
)
def test_demonym_forms(demonym_tagger, text, surface, country):
    found_at(demonym_tagger.tag_text(text), text, surface, country)


@pytest.mark.parametrize(
    "text, absent, control, country",
    [
        ("Central American families walked north through Mexico.", "American", "Mexico", "MX"),
    ],
)
def test_adjectives_that_are_not_the_country(demonym_tagger, text, absent, control, country):
    check_not_a_place(demonym_tagger, text, absent, control, country)


@pytest.mark.parametrize(
    "text, absent, control, country",
    [
        ("The White House said on Monday that talks in Geneva would go on.", "White House", "Geneva", "CH"),
        ("Officials in Washington and Texas met; Chad Pergram reported it.", "Chad", "Texas", "US"),
        ("Senators from Iowa and Ohio met Mary in Washington.", "Mary", "Iowa", "US"),
        ("George W. Bush spoke in Texas.", "Bush", "Texas", "US"),
    ],
)
def test_more_non_places(tagger, text, absent, control, country):
    check_not_a_place(tagger, text, absent, control, country)


@pytest.mark.parametrize(
    "text, index, feature",
    [
        ("Dairy inspectors in Washington state said a calf had tested negative.", 0, "ADM1"),
        ("Lawmakers in Washington met the president.", 0, "PPLC"),
        ("She grew up in Buffalo, New York, and moved to New York later.", 1, "ADM1"),
        ("Cases rose in Ohio, New York and Texas.", 1, "ADM1"),
    ],
)
def test_state_or_city_by_occurrence(tagger, text, index, feature):
    mention = tagger.tag_text(text)[index]
    assert text[mention.start : mention.end] == mention.surface
    assert mention.place.feature == feature


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
    assert found_at(tagger.tag_text(text), text, surface).place.name == name


@pytest.mark.parametrize(
    "text, absent, control, country",
    [
        ("Israel and Hamas began a cease-fire in Gaza.", "Hamas", "Israel", "IL"),
        ("Hurricane Florence hit North Carolina and South Carolina.", "Florence", "North Carolina", "US"),
        ("Mr. Romney wants the Bush tax cuts in Ohio, Texas and Florida; John Bush agreed.", "Bush", "Ohio", "US"),
        ("GM's units Opel and Saab struggled in Germany.", "Opel", "Germany", "DE"),
        ("President Obama chose Judge Merrick Garland in Ohio.", "Garland", "Ohio", "US"),
    ],
)
def test_names_from_real_news(tagger, text, absent, control, country):
    check_not_a_place(tagger, text, absent, control, country)


def test_offsets_hold_on_random_text(tagger):
    import random

    rng = random.Random(7)
    words = ["Paris", "Texas", "US", "U.S.", "St.", "Louis", "New", "York", "Share", "Obama", "said", "Mr.",
             "of", "Syrian", "NSW", ",", "Calif.", "WA", "state", "Côte", "d'Ivoire", "-", "'s", "\n", "日本"]
    checked = 0
    for _ in range(300):
        text = " ".join(rng.choice(words) for _ in range(rng.randint(0, 30)))
        for m in tagger.tag_text(text):
            assert text[m.start : m.end] == m.surface and 0.0 <= m.score <= 1.0
            checked += 1
    assert checked >= 100  # the random texts name places often enough for the check to mean something


@pytest.mark.parametrize("text, surface, name", [("GM broke ground in Shanghai.", "Shanghai", "Shanghai"),
                                                 ("Prices rose in New York last year.", "New York", "New York City")])
def test_big_city_over_same_named_province(tagger, text, surface, name):
    place = found_at(tagger.tag_text(text), text, surface).place
    assert place.name == name and place.feature != "ADM1"


@pytest.mark.parametrize(
    "text, surface, country, feature",
    [
        ("Deputies in Maricopa County arrested two men.", "Maricopa County", "US", "ADM2"),
        ("Flooding closed roads in Surrey and Kent, England.", "Surrey", "GB", "ADM2"),
    ],
)
def test_counties(tagger, text, surface, country, feature):
    place = found_at(tagger.tag_text(text), text, surface).place
    assert place.country_code == country and place.feature == feature


@pytest.mark.parametrize(
    "title, text, name, control",
    [
        ("Kennedy vows lower fees", "The party leader Charles Kennedy spoke to students in Glasgow on Monday.",
         "Kennedy", "Glasgow"),
        ("Whitby warns of library cuts", "Councillor Anne Whitby told the council in Leeds that funds were short.",
         "Whitby", "Leeds"),
    ],
)
def test_person_in_the_text_is_a_person_in_the_title(tagger, title, text, name, control):
    out = tagger.geotag(Article(id="p", title=title, text=text))
    found_at([m for m in out.mentions if m.field == "text"], text, control, "GB")
    assert_absent([m for m in out.mentions if m.field == "title"], title, name)
    assert_absent([m for m in out.mentions if m.field == "text"], text, name)


def test_country_adjectives_place_the_article_without_being_tagged(tagger):
    text = "British ministers met at Westminster to discuss the budget."
    check_not_a_place(tagger, text, "British", "Westminster", "GB")


@pytest.mark.parametrize(
    "text, surface, country, min_population",
    [
        # one of four states named is weak evidence: Cleveland, Ohio, not a Texas village
        ("Governors from Texas, Florida, Nevada and Kansas spoke. A rally in Cleveland drew big crowds.",
         "Cleveland", "US", 300_000),
        # New York City is no reason to put Boston in New York state
        ("After winning in Athens the sprinter raced in New York, Boston and Chicago.", "Boston", "US", 500_000),
        # one English suburb does not move Melbourne to an English village
        ("The champion fears for Melbourne after a defeat at Wimbledon.", "Melbourne", "AU", 1_000_000),
    ],
)
def test_context_does_not_pick_a_village_over_a_big_namesake(tagger, text, surface, country, min_population):
    place = found_at(tagger.tag_text(text), text, surface).place
    assert place.country_code == country and place.population >= min_population, place


def test_a_local_story_still_picks_its_own_small_town(tagger):
    text = "Commuters from Reston, Herndon and Sterling in Virginia ride the bus to the train station at Vienna."
    found_at(tagger.tag_text(text), text, "Vienna", "US")


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
    place = found_at(tagger.tag_text(text), text, surface, country).place
    assert name is None or place.name == name


@pytest.mark.parametrize(
    "text, absent, control, country",
    [
        ("NATO, the alliance, met in Brussels.", "NATO", "Brussels", "BE"),
        # the state says where; with no Warrington in Pennsylvania, no pin in England either
        ("WARRINGTON, Pa, May 5 - The insurer said profits fell in Pittsburgh.", "WARRINGTON", "Pittsburgh", "US"),
    ],
)
def test_not_datelines(tagger, text, absent, control, country):
    check_not_a_place(tagger, text, absent, control, country)


def test_city_state_code_vouches_for_the_city(tagger):
    text = "Fans in Lowell, Mass. cheered."
    mentions = tagger.tag_text(text)
    assert [(m.start, m.end) for m in mentions] == spans(text, "Lowell") + spans(text, "Mass.")
    assert {m.place.country_code for m in mentions} == {"US"}


@pytest.mark.parametrize(
    "text, absent, control",
    [
        # a foreign province the article gives no other sign of is a homonym (Nord, Haiti)
        ("American officials in Washington and Chicago criticised the Nord Stream pipeline.", "Nord", "Chicago"),
        ("Executives in Texas and California and American investors met Peter Marion of Maritime Foods.",
         "Maritime", "Texas"),
        # Guyana's capital in a story set in America: the place meant is not in the gazetteer
        ("Students from Georgetown joined rallies in Washington, Baltimore and Chicago, and across America.",
         "Georgetown", "Baltimore"),
    ],
)
def test_no_pin_abroad_in_a_story_set_at_home(tagger, text, absent, control):
    check_not_a_place(tagger, text, absent, control, "US")


def test_a_world_city_abroad_is_still_tagged(tagger):
    text = "Reporters in Chicago, Boston and Washington covered the London talks."
    mentions = tagger.tag_text(text)
    found_at(mentions, text, "London", "GB")
    # London places the story in England, which says nothing about which Boston is meant
    assert found_at(mentions, text, "Boston", "US").place.population > 500_000


@pytest.mark.parametrize(
    "text, absent, control, country",
    [
        ("GENCORP <GY> TO STUDY A BID FOR OHIO PLANT", "GY", "OHIO", "US"),
        ("OCCIDENTAL <OXY> UNIT IN TEXAS TO REDEEM DEBT", "OCCIDENTAL", "TEXAS", "US"),
        ("Readers in Boston say the first entry in Merriam-Webster is short.", "Merriam", "Boston", "US"),
        # a road named after a town is seldom in it, even in a story that names the town's country
        ("Ireland beat South Africa, Cape Town fans watching, at Lansdowne Road in Dublin.", "Lansdowne", "Dublin",
         "IE"),
    ],
)
def test_small_place_names_inside_longer_names(tagger, text, absent, control, country):
    check_not_a_place(tagger, text, absent, control, country)


def test_a_college_town_keeps_its_pin(tagger):
    text = "He studied at Middlebury College in Vermont."
    found_at(tagger.tag_text(text), text, "Middlebury", "US")


@pytest.mark.parametrize(
    "text, absent, control, country",
    [
        ("Officials in Whitehall briefed ministers in London, Leeds and Manchester about the British budget.",
         "Whitehall", "London", "GB"),
        ("Barges on the Vistula reached Warsaw and Krakow in Poland.", "Vistula", "Warsaw", "PL"),
    ],
)
def test_no_foreign_city_through_another_of_its_names(tagger, text, absent, control, country):
    check_not_a_place(tagger, text, absent, control, country)


def test_confident_choices_help_the_doubtful_ones(tagger):
    # Barcelona is not clear-cut on its own, but once it is Spain's it helps Seville
    text = "American fans cheered the US team, but Spain beat the USA in Barcelona and again in Seville."
    mentions = tagger.tag_text(text)
    found_at(mentions, text, "Barcelona", "ES")
    found_at(mentions, text, "Seville", "ES")


def test_a_city_named_like_a_given_name_before_a_rare_surname_is_a_person(tagger):
    text = "The owner, Milan Mandaric, praised the players in Portsmouth and Leicester."
    mentions = check_not_a_place(tagger, text, "Milan", "Portsmouth", "GB")
    found_at(mentions, text, "Leicester", "GB")
    text = "The Denver Broncos played in Dallas."
    found_at(tagger.tag_text(text), text, "Denver", "US")


def test_a_list_of_states_is_not_a_city_state_pair(tagger):
    # "Louisiana, Missouri" inside a list must not make Louisiana a Missouri town elsewhere
    text = "Senators from Arkansas, Louisiana, Missouri and Texas met. A senator of Louisiana spoke first."
    mentions = tagger.tag_text(text)
    assert [m.surface for m in mentions] == ["Arkansas", "Louisiana", "Missouri", "Texas", "Louisiana"]
    assert all(m.place.feature == "ADM1" for m in mentions)


def test_no_foreign_capital_through_another_of_its_names(tagger):
    # "Amano" is listed as another name of Amman: a surname here, in a story set elsewhere
    text = "Yukiya Amano spoke in Japan, where Japanese and Chinese diplomats from China agreed."
    check_not_a_place(tagger, text, "Amano", "Japan", "JP")


def test_a_name_whose_close_senses_share_a_country_places_the_article(tagger):
    # Tokyo the city or the prefecture, Seoul, Beijing: either way their countries count
    text = "Yukiya Amano spoke in Tokyo; officials in Beijing and Seoul and Japanese diplomats agreed."
    check_not_a_place(tagger, text, "Amano", "Tokyo", "JP")


def test_one_city_does_not_make_a_namesake_village_in_its_state(tagger):
    text = "Traders in New York said Boston fund managers were selling."
    assert found_at(tagger.tag_text(text), text, "Boston", "US").place.population > 500_000


@pytest.mark.parametrize(
    "text, absent, control",
    [
        ("Ireland: G Murphy; R Corrigan, S Byrne, J Hayes; M Kelly.", "Corrigan", "Ireland"),
        ("Subs: Dowson, Haughton, Monye, Roques, P Sanderson. Referee: N Owens (Wales).", "Haughton", "Wales"),
        ("Subs: Dowson, Haughton, Monye, Roques, P Sanderson. Referee: N Owens (Wales).", "Roques", "Wales"),
        ("United: Okocha (Vaz Te 77), Hierro (Campo 64), Speed. Referee: N Owens (Wales).", "Campo", "Wales"),
        ("Subs: Stanley, Hyde (Pitman 105), Purdie (Mills 83), Brown. Referee: N Owens (Wales).", "Pitman",
         "Wales"),
    ],
)
def test_team_sheets_are_people(tagger, text, absent, control):
    check_not_a_place(tagger, text, absent, control, "IE" if control == "Ireland" else "GB")


def test_a_list_of_towns_is_still_towns(tagger):
    text = "Flights from Paris, Lyon and Toulouse were cancelled."
    mentions = tagger.tag_text(text)
    for town in ("Paris", "Lyon", "Toulouse"):
        found_at(mentions, text, town, "FR")


@pytest.mark.parametrize(
    "text, surface, country",
    [
        ("BEREA, Kentucky (Wire) - A Republican said he would run.", "BEREA", "US"),
        ("Floods hit Victoria, Texas, again.", "Victoria", "US"),
    ],
)
def test_a_place_best_known_as_a_region_still_pairs_with_a_foreign_state(tagger, text, surface, country):
    found_at(tagger.tag_text(text), text, surface, country)


def test_a_mid_sized_foreign_namesake_is_no_pin_in_a_story_set_at_home(tagger):
    text = "Floods hit the pueblo of San Felipe, officials in New Mexico, Texas and Arizona said."
    check_not_a_place(tagger, text, "San Felipe", "New Mexico", "US")
    text = "Athletes from Ohio, Texas and Iowa flew to London for the final."
    found_at(tagger.tag_text(text), text, "London", "GB")


@pytest.mark.parametrize(
    "text, surface, feature",
    [
        ("So far he has visited Arizona, Ohio, Washington, Wisconsin and Florida. "
         "Then he took a train back to Washington for votes.", "Washington", ("ADM1", "PPLC")),
        ("Senators will vote on the Canada, Mexico deal.", "Canada", ("PCLI",)),
    ],
)
def test_lists_of_states_and_countries_are_not_pairs(tagger, text, surface, feature):
    named = [m for m in tagger.tag_text(text) if m.surface == surface]
    assert [(m.start, m.end) for m in named] == spans(text, surface)
    assert all(m.place.feature in feature for m in named)


def test_a_given_name_before_a_surname_is_no_small_town(tagger):
    text = "It gives you a fuzzy Milton Friedman vibe in Ohio and Texas."
    mentions = check_not_a_place(tagger, text, "Milton", "Ohio", "US")
    found_at(mentions, text, "Texas", "US")


def test_a_capital_namesake_is_not_bigger_than_its_people(tagger):
    # San Jose, California has three times the people of San José, Costa Rica's capital
    text = ("Code for America is working with California cities, including Oakland, Los Angeles and San Jose, "
            "on a pilot.")
    found_at(tagger.tag_text(text), text, "San Jose", "US")


def test_a_given_name_before_a_surname_is_no_province_abroad(tagger):
    # "Russian" places the story in Russia too, but Vladimir here is a man, not the region
    text = "Russian officials said Vladimir Putin had phoned leaders in Texas, Ohio and Florida."
    check_not_a_place(tagger, text, "Vladimir", "Texas", "US")
    text = "Virginia Democrats met colleagues from Ohio, Texas and Florida."
    found_at(tagger.tag_text(text), text, "Virginia", "US")


def test_states_and_provinces_need_no_country_named(tagger):
    # Region names are also common-ish words; a story naming only regions still gets its pins.
    text = "Floods hit Texas and Ontario on Monday."
    mentions = tagger.tag_text(text)
    assert found_at(mentions, text, "Texas", "US").place.feature == "ADM1"
    found_at(mentions, text, "Ontario", "CA")


def test_the_checks_themselves_compare_spans():
    from archive.models import Mention, Place

    text = "Paris Hilton arrived in Madrid."
    paris = Place(2988507, "Paris", 48.85, 2.35, "FR", "PPLC", 2138551)
    longer = Mention("text", 0, 12, "Paris Hilton", paris, 0.9)
    with pytest.raises(AssertionError, match="inside a mention"):
        assert_absent([longer], text, "Paris")  # a longer mention over the word is no absence
    madrid = Place(3117735, "Madrid", 40.42, -3.70, "ES", "PPLC", 3255944)
    shifted = Mention("text", 23, 28, "Madri", madrid, 0.9)
    with pytest.raises(AssertionError, match="not tagged"):
        found_at([shifted], text, "Madrid")  # the control must sit at exactly its span
    found_at([Mention("text", 24, 30, "Madrid", madrid, 0.9)], text, "Madrid", "ES")
