"""The optional online fallback, against a Nominatim look-alike on 127.0.0.1."""

import json
import sqlite3

import pytest

from archive.geo.fallback import CachedGeocoder, nominatim_fallback
from archive.geo.geotag import Geotagger


@pytest.fixture
def cached(local_nominatim, tmp_path):
    geocoder = CachedGeocoder(local_nominatim, tmp_path / "geocache.sqlite", min_delay_seconds=0)
    yield geocoder
    geocoder.close()


@pytest.fixture
def fallback(nominatim_server, tmp_path, monkeypatch):
    """The fallback as the CLI builds it (nominatim_fallback), pointed at the local server."""
    for name in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    geocoder = nominatim_fallback("geoarchive-tests/0.1 (tests@example.org)", tmp_path / "nominatim.sqlite",
                                  domain=nominatim_server.domain, scheme="http", min_delay_seconds=0)
    yield geocoder
    geocoder.close()


def test_answers_from_the_service_then_from_the_cache(cached, nominatim_server):
    first = cached.geocode("Qamishli")
    assert first.latitude == pytest.approx(37.0522)
    assert len(nominatim_server.requests) == 1
    again = cached.geocode("Qamishli", exactly_one=False)
    assert [loc.raw["place_id"] for loc in again] == [1101]
    assert len(nominatim_server.requests) == 1


def test_negative_answers_are_cached(cached, nominatim_server):
    assert cached.geocode("Nowhere at all") is None
    assert cached.geocode("Nowhere at all") is None
    assert len(nominatim_server.requests) == 1


def test_cache_persists_across_instances(local_nominatim, nominatim_server, tmp_path):
    path = tmp_path / "geocache.sqlite"
    one = CachedGeocoder(local_nominatim, path, min_delay_seconds=0)
    one.geocode("Qamishli")
    one.close()
    two = CachedGeocoder(local_nominatim, path, min_delay_seconds=0)
    assert two.geocode("Qamishli").address.startswith("Qamishli")
    two.close()
    assert len(nominatim_server.requests) == 1


def test_service_errors_give_none_and_are_not_cached(local_nominatim, nominatim_server, tmp_path):
    geocoder = CachedGeocoder(local_nominatim, tmp_path / "c.sqlite", min_delay_seconds=0, max_retries=0)
    assert geocoder.geocode("server-error") is None
    assert geocoder.geocode("server-error") is None
    geocoder.close()
    assert len(nominatim_server.requests) == 2


def test_tagger_uses_fallback_for_names_the_gazetteer_lacks(gazetteer, fallback):
    tagger = Geotagger(gazetteer=gazetteer, fallback=fallback.geocode)
    text = "Kurdish forces clashed with rebels in Qamishli and Aleppo on Sunday."
    by_surface = {m.surface: m for m in tagger.tag_text(text)}
    qamishli = by_surface["Qamishli"]
    assert (qamishli.start, qamishli.end) == (text.index("Qamishli"), text.index("Qamishli") + len("Qamishli"))
    assert qamishli.place.lat == pytest.approx(37.0522)
    assert qamishli.place.country_code == "SY"  # from Nominatim's address details
    assert by_surface["Aleppo"].place.country_code == "SY"  # still from the gazetteer


def test_nominatim_is_asked_for_address_details_and_the_country_is_kept(fallback, nominatim_server, tmp_path):
    found = fallback.geocode("Qamishli")
    assert found.raw["country_code"] == "SY"
    assert found.raw["address"]["country"] == "Syria"
    (params,) = nominatim_server.params
    assert params["addressdetails"] == "1" and params["q"] == "Qamishli" and params["format"] in ("json", "jsonv2")
    # the cache keeps the country: a new process answers with it and asks nothing
    again = nominatim_fallback("geoarchive-tests/0.1 (tests@example.org)", tmp_path / "nominatim.sqlite",
                               domain=nominatim_server.domain, scheme="http", min_delay_seconds=0)
    assert again.geocode("Qamishli", exactly_one=False)[0].raw["country_code"] == "SY"
    again.close()
    assert len(nominatim_server.requests) == 1
    with sqlite3.connect(tmp_path / "nominatim.sqlite") as db:
        ((stored,),) = db.execute("SELECT result FROM geocode WHERE query = 'Qamishli'").fetchall()
    assert json.loads(stored)[0]["raw"]["country_code"] == "SY"


def test_the_local_server_answers_for_the_parameters_it_gets(cached, nominatim_server):
    # without addressdetails Nominatim sends no address, so no country can be known
    found = cached.geocode("Jarabulus")
    assert "address" not in found.raw and "country_code" not in found.raw
    assert nominatim_server.params[-1].get("addressdetails") is None


def test_fallback_is_off_by_default(tagger):
    assert tagger.fallback is None
    assert "Qamishli" not in {m.surface for m in tagger.tag_text("Fighting broke out in Qamishli.")}


def test_nominatim_needs_a_real_user_agent(tmp_path):
    with pytest.raises(ValueError, match="user agent"):
        nominatim_fallback("", tmp_path / "c.sqlite")
