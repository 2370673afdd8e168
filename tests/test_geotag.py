"""Regression suite for the geotagger: sentences written for these tests."""

from pathlib import Path

import pytest

from archive.geotag import geotag_records
from archive.models import Article

SAMPLE = Path(__file__).resolve().parent.parent / "seeds" / "000_30476793be204b5a.txt"


def tags(tagger, text):
    return {m.surface: m.place for m in tagger.tag_text(text)}


def near(place, lat, lon, tol=0.2):
    return abs(place.lat - lat) <= tol and abs(place.lon - lon) <= tol


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


def test_sample_demonyms_denote_countries(sample):
    _, mentions = sample
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
    assert set(top) == {"start", "end", "name", "lat", "lon", "geonameid", "country_code", "feature", "score"}
    assert [n for n, _ in errors] == [2, 3, 5]
