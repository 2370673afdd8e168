"""The optional online fallback, against a Nominatim look-alike on 127.0.0.1."""

import pytest

from archive.geo.fallback import CachedGeocoder, nominatim_fallback
from archive.geo.geotag import Geotagger


@pytest.fixture
def cached(local_nominatim, tmp_path):
    geocoder = CachedGeocoder(local_nominatim, tmp_path / "geocache.sqlite", min_delay_seconds=0)
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


def test_tagger_uses_fallback_for_names_the_gazetteer_lacks(gazetteer, cached):
    tagger = Geotagger(gazetteer=gazetteer, fallback=cached.geocode)
    mentions = tagger.tag_text("Kurdish forces clashed with rebels in Qamishli and Aleppo on Sunday.")
    by_surface = {m.surface: m.place for m in mentions}
    assert by_surface["Qamishli"].lat == pytest.approx(37.0522)
    assert by_surface["Qamishli"].country_code is None  # Nominatim's raw has no country code here
    assert by_surface["Aleppo"].country_code == "SY"  # still from the gazetteer


def test_fallback_is_off_by_default(tagger):
    assert tagger.fallback is None
    assert "Qamishli" not in {m.surface for m in tagger.tag_text("Fighting broke out in Qamishli.")}


def test_nominatim_needs_a_real_user_agent(tmp_path):
    with pytest.raises(ValueError, match="user agent"):
        nominatim_fallback("", tmp_path / "c.sqlite")
