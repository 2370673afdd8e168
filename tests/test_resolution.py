"""Resolution quality (issue 10): GeoNames' own points and ids for areas, seas and regions,
counties, state abbreviations, a city before its namesake province, containment and
nearness, and a source's home.

Every sentence here was written for this suite. The real gazetteer is used throughout;
spans are compared exactly, and every check that something is *not* tagged has a place in
the same text that must be found.
"""

import json
import math

import pytest

from archive.geo.geotag import Geotagger, geotag_records
from archive.geo.overrides import load_overrides
from archive.models import Article

# GeoNames ids used below
LONDON_KY, LONDON_GB, LAUREL_COUNTY_KY, KNOX_COUNTY_KY = 4298960, 2643743, 4297480, 4297187
KENTUCKY, OHIO, FRANKLIN_COUNTY_OH, DUBLIN_OH = 6254925, 5165418, 4512214, 5152333
PARIS_FR, PARIS_TX, TEXAS = 2988507, 4717560, 4736286
ALEPPO_CITY, ALEPPO_GOVERNORATE = 170063, 170062


def km(lat1, lon1, lat2, lon2):
    p1, p2 = math.radians(lat1), math.radians(lat2)
    h = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(h))


def spans(mentions):
    """(surface, start, end) -> GeoNames id of every mention."""
    return {(m.surface, m.start, m.end): m.place.geonameid for m in mentions}


def at(text, surface, nth=0):
    """(surface, start, end) of the nth occurrence of ``surface`` in ``text``."""
    start = -1
    for _ in range(nth + 1):
        start = text.index(surface, start + 1)
    return surface, start, start + len(surface)


# --- GeoNames' own points and ids --------------------------------------------------------


@pytest.mark.parametrize(
    "name, geonameid, lat, lon",
    [
        ("Canada", 6251999, 60.10867, -113.64258),  # GeoNames' country point, not a capital or centroid
        ("Alberta", 5883102, 52.28333, -117.469),
        ("Virginia", 6254928, 37.54812, -77.44675),
        ("England", 6269131, 52.16045, -0.70312),  # a GeoNames id, no longer a made-up negative one
    ],
)
def test_areas_carry_geonames_points_and_ids(gazetteer, name, geonameid, lat, lon):
    place = gazetteer.get(geonameid)
    assert place is not None and place.name == name
    assert km(place.lat, place.lon, lat, lon) < 1.0
    assert geonameid in [p.geonameid for p in gazetteer.candidates(name)]


def test_a_country_in_a_story_sits_on_its_geonames_point(tagger):
    text = "Wildfires in Alberta forced thousands from their homes, Canada's government said."
    found = {m.surface: m.place for m in tagger.tag_text(text)}
    assert found["Canada"].geonameid == 6251999 and km(found["Canada"].lat, found["Canada"].lon, 60.1, -113.6) < 5
    assert found["Alberta"].geonameid == 5883102


# --- seas, oceans and regions -------------------------------------------------------------


@pytest.mark.parametrize(
    "text, surface, geonameid",
    [
        ("Pirates seized a tanker in the Gulf of Aden on Sunday.", "Gulf of Aden", 80303),
        ("China built islands in the South China Sea, officials in Manila said.", "South China Sea", 12218168),
        ("Drought across the Sahel has left millions hungry.", "Sahel", 2425938),
        ("Famine returned to the Horn of Africa this year.", "Horn of Africa", 11820342),
        ("Tourism in the Caribbean recovered after the storms.", "Caribbean", 7729891),
        ("Migrants crossed the Balkans on foot last winter.", "Balkans", 12216908),
        ("Oil prices rose on fears of war in the Middle East.", "Middle East", 6269133),
        ("Unrest spread across North Africa after the elections.", "North Africa", 7729887),
        ("The storm weakened as it moved across the Atlantic toward Ireland.", "Atlantic", 3373405),
    ],
)
def test_seas_and_regions_are_tagged(tagger, text, surface, geonameid):
    assert spans(tagger.tag_text(text)).get(at(text, surface)) == geonameid


def test_the_indian_ocean_is_the_ocean_not_india(gazetteer):
    # moved from test_geotag's adjective checks: the ocean is now a place of its own
    tagger = Geotagger(gazetteer=gazetteer, demonyms=True, infer_homes=False)
    text = "Ships crossed the Indian Ocean to reach Mombasa."
    found = spans(tagger.tag_text(text))
    assert found.get(at(text, "Mombasa")) == 186301
    assert found.get(at(text, "Indian Ocean")) == 1545739
    assert 1269750 not in found.values()  # India


def test_compass_words_alone_are_still_no_region(tagger):
    text = "Traffic headed South past the Middle East Cafe and into the Middle East market in Leeds."
    found = spans(tagger.tag_text(text))
    assert found.get(at(text, "Leeds")) == 2644688  # the control
    assert not [s for s in found if s[0] == "South"]


# --- counties -----------------------------------------------------------------------------


def test_london_police_and_the_laurel_county_jail_are_in_kentucky(tagger):
    text = ("London police arrested a Corbin man on Friday after a chase on Interstate 75. "
            "He was lodged in the Laurel County detention center, the sheriff said.")
    found = spans(tagger.tag_text(text))
    assert found.get(at(text, "London")) == LONDON_KY
    assert found.get(at(text, "Laurel County")) == LAUREL_COUNTY_KY


def test_london_without_local_context_stays_in_england(tagger):
    text = "London police arrested a man after a chase near the Thames on Friday."
    assert spans(tagger.tag_text(text)).get(at(text, "London")) == LONDON_GB


@pytest.mark.parametrize(
    "text",
    [
        "The Dublin school board, which serves part of Franklin County, voted to delay the start of classes.",
        "Dublin voters in Ohio approved a new levy for the city's parks on Tuesday.",
    ],
)
def test_dublin_with_franklin_county_or_ohio_is_dublin_ohio(tagger, text):
    mentions = tagger.tag_text(text)
    assert spans(mentions).get(at(text, "Dublin")) == DUBLIN_OH
    dublin = next(m for m in mentions if m.surface == "Dublin")
    assert dublin.place.admin1 == (OHIO, "Ohio") and dublin.place.admin2 == (FRANKLIN_COUNTY_OH, "Franklin County")


def test_a_story_listing_counties_tags_each_county(tagger):
    text = ("Flash floods closed roads in Laurel and Knox counties overnight, and schools in Whitley County "
            "opened late.")
    found = spans(tagger.tag_text(text))
    assert found.get(at(text, "Laurel")) == LAUREL_COUNTY_KY
    assert found.get(at(text, "Knox")) == KNOX_COUNTY_KY  # the neighbour, not Knox County, Tennessee
    assert found.get(at(text, "Whitley County")) == 4313367  # Whitley County, Kentucky


def test_county_abbreviated_co(tagger):
    text = "Deer season opens in Plymouth Co. next week, wardens in Massachusetts said."
    mentions = tagger.tag_text(text)
    assert spans(mentions).get(at(text, "Plymouth Co.")) == 4947607
    county = next(m for m in mentions if m.surface == "Plymouth Co.")
    assert county.place.feature == "ADM2" and county.place.country_code == "US"


@pytest.mark.parametrize("company", ["Idaho Power Co.", "Sherwin-Williams Co.", "British Petroleum Co Plc"])
def test_a_company_is_no_county(tagger, company):
    text = f"Shares of {company} rose in Chicago trading on Friday."
    found = spans(tagger.tag_text(text))
    assert found.get(at(text, "Chicago")) == 4887398  # the control
    assert not [s for s in found if s[0].endswith(("Co.", "Co"))]


def test_athens_clarke_county_is_athens_georgia(tagger):
    text = "Athens-Clarke County commissioners met in Athens on Monday to approve the budget."
    found = spans(tagger.tag_text(text))
    assert found.get(at(text, "Athens", 1)) == 4180386  # Athens, Georgia, not the Greek capital


def test_london_police_in_ontario(tagger):
    text = "London police in Ontario said a student at Western University was missing."
    found = spans(tagger.tag_text(text))
    assert found.get(at(text, "London")) == 6058560  # London, Ontario
    assert found.get(at(text, "Ontario")) == 6093943


@pytest.mark.parametrize(
    "text, surface, geonameid",
    [
        ("Paris police in Tennessee said the suspect was caught near the lake.", "Paris", 4647963),
        ("Alexandria residents in Louisiana braced for the storm on Sunday.", "Alexandria", 4314550),
    ],
)
def test_a_towns_people_in_a_named_state(tagger, text, surface, geonameid):
    mentions = tagger.tag_text(text)
    found = spans(mentions)
    assert found.get(at(text, surface)) == geonameid
    assert [m.place.feature for m in mentions if m.surface not in (surface,)] == ["ADM1"]


def test_a_city_police_force_at_the_start_of_a_sentence(tagger):
    text = "Manchester police in New Hampshire arrested two men on Elm Street."
    found = spans(tagger.tag_text(text))
    assert found.get(at(text, "Manchester")) == 5089178  # Manchester, New Hampshire
    assert found.get(at(text, "New Hampshire")) == 5090174


def test_a_dateline_with_a_state_code_is_the_town_not_the_country(tagger):
    text = "LEBANON, Pa. - The Lebanon County commissioners approved the budget on Monday."
    found = spans(tagger.tag_text(text))
    assert found.get(at(text, "LEBANON")) == 5197517  # Lebanon, Pennsylvania
    assert found.get(at(text, "Lebanon County")) == 5197522


def test_a_country_is_not_a_namesake_town_near_the_story(tagger):
    text = "Farmers near Houston and Beaumont in Texas said tariffs on China hurt soybean sales."
    found = spans(tagger.tag_text(text))
    assert found.get(at(text, "Beaumont")) == 4672989  # the control: Beaumont, Texas
    assert found.get(at(text, "China")) == 1814991  # the country, not China, Texas


# --- state and province abbreviations -----------------------------------------------------


@pytest.mark.parametrize(
    "text, surface, geonameid",
    [
        ("Coal miners in W.Va. rallied on Monday.", "W.Va.", 4826850),
        ("Primary voters in S.C. go to the polls in February.", "S.C.", 4597040),
        ("Lawmakers in D.C. passed the budget late.", "D.C.", 4138106),
        ("Wildfire smoke from Calif. drifted east on Sunday.", "Calif.", 5332921),
        ("A storm dumped snow on Mass. overnight.", "Mass.", 6254926),
        ("Evacuations in B.C. continued as fires spread.", "B.C.", 5909050),
        ("Hydro crews in Ont. restored power to most homes.", "Ont.", 6093943),
        ("Apple growers in Washington state expect a big harvest.", "Washington", 5815135),
    ],
)
def test_each_state_abbreviation(tagger, text, surface, geonameid):
    assert spans(tagger.tag_text(text)).get(at(text, surface)) == geonameid


def test_a_party_label_is_no_place(tagger):
    text = "Sen. Rand Paul (R-Ky.) and Sen. Bernie Sanders (Ind.) spoke in Louisville, Ky., on Monday."
    found = spans(tagger.tag_text(text))
    assert found.get(at(text, "Ky.", 1)) == KENTUCKY  # the control: after a city it is the state
    assert at(text, "Ky.") not in found and at(text, "Ind.") not in found


def test_country_abbreviations_dprk_and_rok(tagger):
    text = "Talks between the DPRK and the ROK resumed in Panmunjom."
    found = spans(tagger.tag_text(text))
    assert found.get(at(text, "DPRK")) == 1873107 and found.get(at(text, "ROK")) == 1835841


def test_an_abbreviation_that_is_a_word_needs_a_sentence_around_it(tagger):
    text = "On Sunday the family went to Mass. The priest in Boston spoke about the flood."
    found = spans(tagger.tag_text(text))
    assert found.get(at(text, "Boston")) == 4930956  # the control
    assert not [s for s in found if s[0].startswith("Mass")]


# --- a city before its namesake province --------------------------------------------------


def test_dateline_city_and_its_namesake_province(tagger):
    text = "ALEPPO, Syria - Families fled eastern Aleppo on Tuesday as shelling intensified."
    found = spans(tagger.tag_text(text))
    assert found.get(at(text, "ALEPPO")) == ALEPPO_CITY
    assert found.get(at(text, "Aleppo")) == ALEPPO_CITY


def test_the_province_when_the_text_says_so(tagger):
    text = "Fighting spread across Aleppo province, while the state of New York sent doctors."
    found = spans(tagger.tag_text(text))
    assert found.get(at(text, "Aleppo")) == ALEPPO_GOVERNORATE
    assert found.get(at(text, "New York")) == 5128638


# --- a source's home ----------------------------------------------------------------------


@pytest.fixture
def overrides_with_home(tmp_path):
    path = tmp_path / "overrides.toml"
    path.write_text('[home]\n"The Paris News" = "Paris, Texas"\n"Corbin Times" = "Kentucky"\n', encoding="utf-8")
    return load_overrides(path)


def test_a_configured_home_keeps_namesakes_at_home(gazetteer, overrides_with_home):
    tagger = Geotagger(gazetteer=gazetteer, overrides=overrides_with_home, infer_homes=False)
    text = "Paris police said the suspect was arrested downtown on Friday."
    local = tagger.geotag(Article(id="1", title="Arrest", text=text, source="The Paris News"))
    assert spans(local.mentions).get(at(text, "Paris")) == PARIS_TX
    elsewhere = tagger.geotag(Article(id="2", title="Arrest", text=text, source="Wire"))
    assert spans(elsewhere.mentions).get(at(text, "Paris")) == PARIS_FR


def test_a_misleading_home_yields_to_the_story(gazetteer, overrides_with_home):
    tagger = Geotagger(gazetteer=gazetteer, overrides=overrides_with_home, infer_homes=False)
    text = ("French police in Paris arrested two men near the Eiffel Tower, and the interior ministry "
            "in France said more raids would follow.")
    found = spans(tagger.geotag(Article(id="3", title="", text=text, source="The Paris News")).mentions)
    assert found.get(at(text, "Paris")) == PARIS_FR
    assert found.get(at(text, "France")) == 3017382


def test_an_unknown_home_is_an_error_naming_the_file(tmp_path, gazetteer):
    from archive.errors import OverridesError

    path = tmp_path / "bad.toml"
    path.write_text('[home]\n"Gazette" = "Nowhereville Xq"\n', encoding="utf-8")
    with pytest.raises(OverridesError, match=r"bad\.toml: \[home\] 'gazette'"):
        Geotagger(gazetteer=gazetteer, overrides=load_overrides(path))


def _records(*rows):
    return [json.dumps(r) for r in rows]


def test_a_record_may_give_its_home(tagger):
    text = "Paris police said the suspect was arrested downtown on Friday."
    lines = _records({"id": "tx", "text": text, "home": "Texas"}, {"id": "none", "text": text})
    out = {r["id"]: r["toponyms"] for r in geotag_records(lines, tagger, lambda n, m: None)}
    assert [(t["name"], t["geonameid"]) for t in out["tx"]] == [("Paris", PARIS_TX)]
    assert out["tx"][0]["admin1"] == {"geonameid": TEXAS, "name": "Texas"}
    assert [(t["name"], t["geonameid"]) for t in out["none"]] == [("Paris", PARIS_FR)]


def test_a_home_is_inferred_from_a_sources_articles(gazetteer):
    local = [
        "Crews from Williamsburg helped in Somerset after the storm; roads to Barbourville were closed.",
        "The Somerset council and the mayor of Barbourville met in Williamsburg on Tuesday.",
        "A Williamsburg man was arrested near Barbourville; he lives outside Somerset.",
    ]
    story = "London police said the suspect fled on foot."
    tagger = Geotagger(gazetteer=gazetteer)
    for k, text in enumerate(local):
        tagged = tagger.geotag(Article(id=f"l{k}", title="", text=text, source="Tri-County Weekly"))
        barbourville = [m.place for m in tagged.mentions if (m.surface, m.start, m.end) == at(text, "Barbourville")]
        assert barbourville and barbourville[0].admin1 == (KENTUCKY, "Kentucky")
    assert tagger.inferred_homes() == {"tri-county weekly": ("US", "KY")}
    home = tagger.geotag(Article(id="s1", title="", text=story, source="Tri-County Weekly"))
    assert spans(home.mentions).get(at(story, "London")) == LONDON_KY
    other = tagger.geotag(Article(id="s2", title="", text=story, source="Another Paper"))
    assert spans(other.mentions).get(at(story, "London")) == LONDON_GB


def test_geotag_command_infers_and_reports_a_home(tmp_path):
    from click.testing import CliRunner

    from archive.cli import cli

    local = ["Crews from Williamsburg helped in Somerset after the storm; roads to Barbourville were closed.",
             "The Somerset council and the mayor of Barbourville met in Williamsburg on Tuesday.",
             "A Williamsburg man was arrested near Barbourville; he lives outside Somerset."]
    rows = [{"id": f"l{k}", "source": "Tri-County Weekly", "text": t} for k, t in enumerate(local)]
    rows.append({"id": "s", "source": "Tri-County Weekly", "text": "London police said the suspect fled on foot."})
    lines = "\n".join(json.dumps(r) for r in rows) + "\n"
    result = CliRunner().invoke(cli, ["geotag"], input=lines)
    assert result.exit_code == 0, result.output
    out = {json.loads(line)["id"]: json.loads(line) for line in result.stdout.splitlines()}
    assert [(t["name"], t["geonameid"]) for t in out["s"]["toponyms"]] == [("London", LONDON_KY)]
    assert "source 'tri-county weekly': home inferred as Kentucky (US.KY)" in result.stderr
    off = CliRunner().invoke(cli, ["geotag", "--no-infer-home"], input=lines)
    out = {json.loads(line)["id"]: json.loads(line) for line in off.stdout.splitlines()}
    assert [(t["name"], t["geonameid"]) for t in out["s"]["toponyms"]] == [("London", LONDON_GB)]
    assert "home inferred" not in off.stderr


def test_home_inference_can_be_switched_off(gazetteer):
    tagger = Geotagger(gazetteer=gazetteer, infer_homes=False)
    text = "Crews from Williamsburg helped in Somerset after the storm; roads to Barbourville were closed."
    for k in range(4):
        tagger.geotag(Article(id=str(k), title="", text=text, source="Tri-County Weekly"))
    assert tagger.inferred_homes() == {}
    story = "London police said the suspect fled on foot."
    found = spans(tagger.geotag(Article(id="s", title="", text=story, source="Tri-County Weekly")).mentions)
    assert found.get(at(story, "London")) == LONDON_GB


# --- divisions in the output and on the page ----------------------------------------------


def test_geotag_output_names_each_toponyms_divisions(tagger):
    text = "London police took him to the Laurel County detention center."
    out = list(geotag_records(_records({"id": 1, "text": text}), tagger, lambda n, m: None))
    toponyms = {t["name"]: t for t in out[0]["toponyms"]}
    assert toponyms["London"]["admin1"] == {"geonameid": KENTUCKY, "name": "Kentucky"}
    assert toponyms["London"]["admin2"] == {"geonameid": LAUREL_COUNTY_KY, "name": "Laurel County"}
    sea = next(geotag_records(_records({"id": 2, "text": "Pirates in the Gulf of Aden."}), tagger, lambda n, m: None))
    assert [(t["name"], t["admin1"], t["admin2"]) for t in sea["toponyms"]] == [("Gulf of Aden", None, None)]


def test_the_mention_hover_shows_the_divisions(tmp_path, tagger):
    import re
    from html import unescape

    from webfixtures import build_index

    from web import create_app

    text = "London police took him to the Laurel County detention center."
    tagged = tagger.geotag(Article(id="laurel-1", title="Arrest in London", text=text, source="Sentinel"))
    app = create_app({"TESTING": True, "INDEX_DIR": build_index(tmp_path / "index", [tagged])})
    with app.test_client().get("/article/laurel-1") as response:
        html = response.get_data(as_text=True)
    cards = {int(g): unescape(c) for g, c in
             re.findall(r'<a class="mention" href="/place/(-?\d+)"[^>]*data-card="([^"]*)"', html)}
    assert LONDON_KY in cards and LAUREL_COUNTY_KY in cards
    assert cards[LONDON_KY].startswith("London, Laurel County, Kentucky, United States (US)")
    assert cards[LAUREL_COUNTY_KY].startswith("Laurel County, Kentucky, United States (US)")


# --- namesakes a careful reader tells apart (issue 10, second round) ----------------------
NEW_YORK_STATE, NEW_YORK_CITY = 5128638, 5128581
AUSTIN_TX, AUSTIN_IN, SCOTT_COUNTY_IN = 4671654, 4254010, 4264540
PITTSBURGH_PA, PITTSBURG_CA, LOS_ANGELES = 5206379, 5383465, 5368361
BULACAN_LUZON, BULACAN_MINDANAO = 1723066, 1723070


def test_a_governor_governs_the_state_not_the_city(tagger):
    text = "New York Governor Ann Reyes closed the schools, and traffic in New York was light on Monday."
    found = spans(tagger.tag_text(text))
    assert found.get(at(text, "New York")) == NEW_YORK_STATE
    assert found.get(at(text, "New York", 1)) == NEW_YORK_CITY


def test_a_borough_before_the_name_makes_it_the_city(tagger):
    text = "Nurses from a clinic in Brooklyn, New York flew to Buffalo, New York on Sunday."
    found = spans(tagger.tag_text(text))
    assert found.get(at(text, "New York")) == NEW_YORK_CITY
    assert found.get(at(text, "New York", 1)) == NEW_YORK_STATE  # Buffalo is far from the city


def test_a_town_in_a_county_of_a_named_state(tagger):
    text = ("Doctors traced the outbreak to Austin, in Scott County, Indiana, where needles were shared. "
            "Louisville, Kentucky, lies to the south.")
    found = spans(tagger.tag_text(text))
    assert found.get(at(text, "Austin")) == AUSTIN_IN
    assert found.get(at(text, "Scott County")) == SCOTT_COUNTY_IN


def test_a_common_county_name_alone_does_not_move_a_big_city(tagger):
    text = "Doctors in Austin compared notes with a clinic in Scott County last spring."
    found = spans(tagger.tag_text(text))
    assert found.get(at(text, "Scott County"))  # the county is found ...
    assert found.get(at(text, "Austin")) == AUSTIN_TX  # ... but no state says which one


def test_another_spelling_does_not_beat_the_place_of_that_name(tagger):
    text = "A surgeon from Pittsburgh spoke in Los Angeles and San Diego, California, last week."
    found = spans(tagger.tag_text(text))
    assert found.get(at(text, "Los Angeles")) == LOS_ANGELES
    assert found.get(at(text, "Pittsburgh")) == PITTSBURGH_PA
    text = "A surgeon from Pittsburg, California, spoke in Los Angeles last week."
    assert spans(tagger.tag_text(text)).get(at(text, "Pittsburg")) == PITTSBURG_CA


def test_a_name_written_after_a_town_is_the_one_beside_it(tagger):
    text = "Hogs at a farm in Malolos, Bulacan fell ill, and so did pigs in Davao del Sur and South Cotabato."
    found = spans(tagger.tag_text(text))
    assert found.get(at(text, "Malolos"))
    assert found.get(at(text, "Bulacan")) == BULACAN_LUZON
    text = "Hogs at a farm in Bulacan fell ill, and so did pigs in Davao del Sur and South Cotabato."
    assert spans(tagger.tag_text(text)).get(at(text, "Bulacan")) == BULACAN_MINDANAO  # no town beside it


NEWPORT_SHROPSHIRE, NEWPORT_WALES, SHROPSHIRE = 2641595, 2641598, 2638655


def test_a_town_written_before_its_county_is_the_one_in_it(tagger):
    text = "A barn fire broke out in Newport, Shropshire, on Sunday night."
    found = spans(tagger.tag_text(text))
    assert found.get(at(text, "Shropshire")) == SHROPSHIRE
    assert found.get(at(text, "Newport")) == NEWPORT_SHROPSHIRE
    text = "A barn fire broke out in Newport on Sunday night."
    assert spans(tagger.tag_text(text)).get(at(text, "Newport")) == NEWPORT_WALES  # no county beside it


WASHINGTON_DC, WASHINGTON_STATE = 4140963, 5815135


def test_a_city_with_its_own_district_after_it_is_no_state_in_a_list(tagger):
    text = ("The team flew to Alaska, Hawaii and Washington, D.C., this year; "
            "next spring it visits Oregon, Idaho and Washington.")
    found = spans(tagger.tag_text(text))
    assert found.get(at(text, "Washington")) == WASHINGTON_DC
    assert found.get(at(text, "Washington", 1)) == WASHINGTON_STATE  # a state among states


DAVAO_DEL_SUR = 1715345


def test_a_county_in_a_national_list_says_less_about_a_town(tagger):
    text = ("Sick hogs were culled in Bulacan and Nueva Ecija this week; farms in Laguna, "
            "Pangasinan, Davao del Sur and South Cotabato were also tested.")
    found = spans(tagger.tag_text(text))
    assert found.get(at(text, "Davao del Sur")) == DAVAO_DEL_SUR
    # Davao del Sur holds a village called Bulacan, but provinces named all over the country
    # do not make the bigger Bulacan of Luzon that village
    assert found.get(at(text, "Bulacan")) == BULACAN_LUZON
