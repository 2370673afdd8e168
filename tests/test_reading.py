"""Reading a story's own words (issue 10): a landform named after a place, a compass word
before a region's name, a town written with a province or county that holds no town of its
name, one name shared by two countries, and a region GeoNames names only with its neighbours.

Every sentence here was written for this suite. The real gazetteer is used throughout;
spans are compared exactly, and every check that something is *not* tagged has a place in
the same text that must be found.
"""

import pytest

KINGSTON_ON, ONTARIO = 5992500, 6093943
CORNWALL_GB, FALMOUTH_GB, MYLOR_BRIDGE_GB, MYLOR_AU = 2652355, 2649715, 2641931, 2065115
CINCINNATI, OHIO, MOAB = 4508722, 5165418, 5543307
SANDUSKY_OH, SUNSHINE_COAST, QUEENSLAND = 5170691, 10630449, 2152274
DR_CONGO, REP_CONGO, NORTH_KIVU, BRAZZAVILLE = 203312, 2260494, 206938, 2260535
UNITED_STATES, LATIN_AMERICA = 6252001, 7730009
ENGLAND, TEXAS, LAREDO = 6269131, 4736286, 4705349


def spans(mentions):
    """(surface, start, end) -> GeoNames id of every mention."""
    return {(m.surface, m.start, m.end): m.place.geonameid for m in mentions}


def at(text, surface, nth=0):
    """(surface, start, end) of the nth occurrence of ``surface`` in ``text``."""
    start = -1
    for _ in range(nth + 1):
        start = text.index(surface, start + 1)
    return surface, start, start + len(surface)


def untagged(found, text, surface, nth=0):
    """No mention overlaps the nth occurrence of ``surface``."""
    _, start, end = at(text, surface, nth)
    return not [s for s in found if s[1] < end and start < s[2]]


# --- landforms and waters named after a place -----------------------------------------------


@pytest.mark.parametrize(
    "text, landform, control, control_id",
    [
        # a river named after a state is not at the state's point (nor in the state's middle)
        ("Grain barges waited on the Ohio River near Cincinnati while farmers across Ohio "
         "counted their losses.", "Ohio", "Cincinnati", CINCINNATI),
        ("Rafters drifted down the Colorado River past Moab, in Utah, all week.", "Colorado",
         "Moab", MOAB),
        # a bay named like a Melbourne suburb, in a story set in Queensland
        ("Kayakers paddled across Hampton Bay to Noosa, on the Sunshine Coast of Queensland, on "
         "Sunday.", "Hampton", "Sunshine Coast", SUNSHINE_COAST),
    ],
)
def test_a_landform_is_not_the_place_it_is_named_after(tagger, text, landform, control, control_id):
    found = spans(tagger.tag_text(text))
    assert found.get(at(text, control)) == control_id  # the control
    assert untagged(found, text, landform)


def test_the_state_itself_is_still_tagged_beside_its_river(tagger):
    text = "Grain barges waited on the Ohio River near Cincinnati while farmers across Ohio counted their losses."
    found = spans(tagger.tag_text(text))
    assert found.get(at(text, "Ohio", 1)) == OHIO  # the state, written alone
    assert untagged(found, text, "Ohio", 0)  # the river


def test_a_bay_named_after_a_town_the_story_is_set_around_keeps_the_town(tagger):
    text = "Ice fishermen stranded on Sandusky Bay were brought ashore, the sheriff in Ohio said."
    found = spans(tagger.tag_text(text))
    assert found.get(at(text, "Sandusky")) == SANDUSKY_OH
    assert found.get(at(text, "Ohio")) == OHIO


# --- a compass word before a name ------------------------------------------------------------


def test_a_compass_part_of_a_region_abroad_is_not_that_region(tagger):
    # no "East Midlands" in the gazetteer; its "Midlands" is Zimbabwe's province
    text = ("Flood warnings were issued across the East Midlands on Tuesday, the Environment Agency "
            "in England said.")
    found = spans(tagger.tag_text(text))
    assert found.get(at(text, "England")) == ENGLAND  # the control
    assert untagged(found, text, "Midlands")


def test_a_compass_part_of_a_region_the_story_is_in_keeps_the_region(tagger):
    text = "Ranchers in South Texas said the drought near Laredo was the worst in years."
    found = spans(tagger.tag_text(text))
    assert found.get(at(text, "Texas")) == TEXAS
    assert found.get(at(text, "Laredo")) == LAREDO


# --- "Town, Province" and "Town, County" --------------------------------------------------


def test_a_town_written_with_a_province_that_holds_none_of_its_name_is_untagged(tagger):
    # the gazetteer has no Blyth in Ontario: not the one in England
    text = "A Blyth, Ontario farmer sold his herd to a dairy in Kingston, Ontario last week."
    found = spans(tagger.tag_text(text))
    assert found.get(at(text, "Kingston")) == KINGSTON_ON  # the control
    assert found.get(at(text, "Ontario")) == ONTARIO
    assert untagged(found, text, "Blyth")


def test_a_town_written_with_a_county_that_holds_none_of_its_name_is_untagged(tagger):
    text = "Fishermen from Newport, Cornwall joined the protest in Falmouth."
    found = spans(tagger.tag_text(text))
    assert found.get(at(text, "Falmouth")) == FALMOUTH_GB  # the control
    assert found.get(at(text, "Cornwall")) == CORNWALL_GB
    assert untagged(found, text, "Newport")


def test_a_town_written_with_its_county_is_the_one_there(tagger):
    text = "Fishermen from Mylor, Cornwall and Falmouth joined the protest."
    found = spans(tagger.tag_text(text))
    assert found.get(at(text, "Mylor")) == MYLOR_BRIDGE_GB
    assert MYLOR_AU not in found.values()
    assert found.get(at(text, "Falmouth")) == FALMOUTH_GB


def test_a_list_of_towns_is_no_town_province_pair(tagger):
    text = "The team played in Pomona, Ontario and Fontana before heading home to Los Angeles, California."
    found = spans(tagger.tag_text(text))
    assert found.get(at(text, "Pomona")) == 5384170  # Pomona, California, kept
    assert found.get(at(text, "Ontario")) == 5379439  # Ontario, California


# --- one name, two countries ---------------------------------------------------------------


@pytest.mark.parametrize(
    "text, congo, control, control_id",
    [
        ("Ebola cases rose in Butembo, in North Kivu province, Congo's health ministry said.",
         DR_CONGO, "North Kivu", NORTH_KIVU),
        ("Tankers left the oil port of Congo after Brazzaville lifted the ban.", REP_CONGO,
         "Brazzaville", BRAZZAVILLE),
    ],
)
def test_congo_is_the_congo_the_story_is_in(tagger, text, congo, control, control_id):
    found = spans(tagger.tag_text(text))
    assert found.get(at(text, control)) == control_id
    assert found.get(at(text, "Congo")) == congo


# --- a region GeoNames names with its neighbours --------------------------------------------


def test_latin_america_is_the_region_not_the_united_states(tagger):
    text = "Remittances from migrants in America to families in Latin America rose for a fifth year."
    found = spans(tagger.tag_text(text))
    assert found.get(at(text, "America")) == UNITED_STATES  # the control
    assert found.get(at(text, "Latin America")) == LATIN_AMERICA
    assert [s for s in found if s[0] == "America"] == [at(text, "America")]
