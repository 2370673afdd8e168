"""Contract tests every geocoder passes (as geopy's BaseTestGeocoder), plus tagging through each.

The same cases run against the real GazetteerGeocoder, the real online fallback (built by
``nominatim_fallback`` as the CLI builds it, talking to the Nominatim look-alike on 127.0.0.1
that conftest.py starts) and, to show the contract asks nothing our classes alone could
give, a three-line fake.
"""

import inspect

import pytest
from geopy.geocoders.base import Geocoder
from geopy.location import Location

from archive.geo.fallback import nominatim_fallback
from archive.geo.geocoder import GazetteerGeocoder
from archive.geo.geotag import Geotagger


class FakeGeocoder:
    """The smallest geopy-compatible geocoder: a dict of names."""

    PLACES = {"jarabulus": (36.8175, 38.0111)}

    def geocode(self, query, *, exactly_one=True, timeout=None):
        point = self.PLACES.get(str(query).strip().lower())
        if point is None:
            return None
        loc = Location(str(query), point, {"name": str(query), "country_code": "SY"})
        return loc if exactly_one else [loc]


class GeocoderContract:
    """Subclasses provide a ``geocoder`` fixture; KNOWN is a query it must answer."""

    KNOWN = ("Jarabulus", 36.8175, 38.0111)
    UNKNOWN = "Xqzvvlwp"

    def test_exactly_one_returns_a_location(self, geocoder):
        name, lat, lon = self.KNOWN
        loc = geocoder.geocode(name)
        assert isinstance(loc, Location)
        assert loc.latitude == pytest.approx(lat, abs=0.05) and loc.longitude == pytest.approx(lon, abs=0.05)
        assert isinstance(loc.address, str) and loc.address

    def test_list_is_never_empty(self, geocoder):
        found = geocoder.geocode(self.KNOWN[0], exactly_one=False)
        assert isinstance(found, list) and found
        assert all(isinstance(loc, Location) for loc in found)

    def test_the_list_starts_with_the_single_answer(self, geocoder):
        one = geocoder.geocode(self.KNOWN[0])
        first = geocoder.geocode(self.KNOWN[0], exactly_one=False)[0]
        assert (first.latitude, first.longitude, first.address) == (one.latitude, one.longitude, one.address)

    def test_raw_has_the_iso_country(self, geocoder):
        assert geocoder.geocode(self.KNOWN[0]).raw["country_code"] == "SY"

    def test_surrounding_spaces_are_ignored(self, geocoder):
        loc = geocoder.geocode(f"  {self.KNOWN[0]} ")
        assert loc is not None and loc.latitude == pytest.approx(self.KNOWN[1], abs=0.05)

    @pytest.mark.parametrize("exactly_one", [True, False])
    def test_unknown_is_none(self, geocoder, exactly_one):
        assert geocoder.geocode(self.UNKNOWN, exactly_one=exactly_one) is None

    def test_raw_is_a_plain_dict(self, geocoder):
        assert isinstance(geocoder.geocode(self.KNOWN[0]).raw, dict)

    def test_timeout_keyword(self, geocoder):
        assert geocoder.geocode(self.KNOWN[0], timeout=3) is not None

    def test_options_are_keyword_only(self, geocoder):
        params = inspect.signature(geocoder.geocode).parameters
        assert params["exactly_one"].kind is inspect.Parameter.KEYWORD_ONLY

    def test_tagger_resolves_through_it(self, geocoder, gazetteer):
        tagger = Geotagger(gazetteer=gazetteer, geocode=geocoder.geocode)
        text = "Shelling continued near Jarabulus on Tuesday."
        mentions = tagger.tag_text(text)
        assert [(m.surface, m.start) for m in mentions] == [("Jarabulus", text.index("Jarabulus"))]
        assert mentions[0].place.lat == pytest.approx(36.8175, abs=0.05)
        assert mentions[0].place.country_code == "SY"


class TestGazetteerGeocoder(GeocoderContract):
    @pytest.fixture
    def geocoder(self, gazetteer):
        return GazetteerGeocoder(gazetteer)

    def test_is_a_geopy_geocoder(self, geocoder):
        assert isinstance(geocoder, Geocoder)

    def test_raw_fields(self, geocoder):
        raw = geocoder.geocode("Azaz").raw
        assert raw["geonameid"] == 172082 and raw["country_code"] == "SY"
        assert {"name", "feature", "population"} <= set(raw)

    def test_most_prominent_first(self, geocoder):
        found = geocoder.geocode("Laos", exactly_one=False)
        assert found[0].raw["feature"] == "PCLI"
        assert (found[0].latitude, found[0].longitude) == (18.0, 105.0)

    @pytest.mark.parametrize("query", ["JARABULUS", "jarābulus", "  Jarabulus "])
    def test_folding(self, geocoder, query):
        assert geocoder.geocode(query).raw["geonameid"] == 169179


class TestFakeGeocoder(GeocoderContract):
    @pytest.fixture
    def geocoder(self):
        return FakeGeocoder()


class TestFallbackGeocoder(GeocoderContract):
    @pytest.fixture
    def geocoder(self, nominatim_server, tmp_path, monkeypatch):
        for name in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
            monkeypatch.delenv(name, raising=False)
        fallback = nominatim_fallback("geoarchive-tests/0.1 (tests@example.org)", tmp_path / "cache.sqlite",
                                      domain=nominatim_server.domain, scheme="http", min_delay_seconds=0)
        yield fallback
        fallback.close()

    def test_each_name_is_asked_once(self, geocoder, nominatim_server):
        for _ in range(3):
            geocoder.geocode(self.KNOWN[0])
            geocoder.geocode(self.UNKNOWN, exactly_one=False)
        assert len(nominatim_server.requests) == 2
