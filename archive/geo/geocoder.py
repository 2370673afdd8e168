"""GazetteerGeocoder: a geopy Geocoder over the offline GeoNames gazetteer (no network)."""

from __future__ import annotations

from geopy.geocoders.base import DEFAULT_SENTINEL, Geocoder
from geopy.location import Location

from archive.geo.gazetteer import Gazetteer, fold, load_gazetteer

__all__ = ("GazetteerGeocoder",)


class GazetteerGeocoder(Geocoder):
    """Geocode place names against the compiled gazetteer.

    Results are ordered by prominence (countries, continents, regions, capitals, then
    population). ``Location.raw`` is a plain dict: ``geonameid``, ``name``,
    ``country_code``, ``feature``, ``population``, ``admin1_code`` and ``alternate``
    (True when only an alternate name matched).
    """

    def __init__(self, gazetteer: Gazetteer | None = None):
        """Load the gazetteer once (or use the one given)."""
        super().__init__()
        self.gazetteer = gazetteer if gazetteer is not None else load_gazetteer()

    def geocode(self, query, *, exactly_one=True, timeout=DEFAULT_SENTINEL):
        """Return ``None``, one ``Location`` (``exactly_one``), or a non-empty list.

        :param query: a place name; case, diacritics and punctuation are folded.
        :param timeout: accepted for interface compatibility; no network is used.
        """
        gaz = self.gazetteer
        key = fold(str(query))
        codes = gaz.index.get(key, ())
        alt_only: dict[int, bool] = {}
        for code in codes:
            row = code >> 1
            alt_only[row] = alt_only.get(row, True) and bool(code & 1)
        demonym = gaz.demonyms.get(key)
        if demonym is not None and demonym not in alt_only:
            alt_only[demonym] = False
        if not alt_only:
            return None
        rows = sorted(alt_only, key=gaz.prominence, reverse=True)
        if exactly_one:
            rows = rows[:1]
        locations = [self._location(row, alt_only[row]) for row in rows]
        return locations[0] if exactly_one else locations

    def _location(self, row: int, alternate: bool) -> Location:
        gaz = self.gazetteer
        raw = {
            "geonameid": gaz.ids[row],
            "name": gaz.names[row],
            "country_code": gaz.cc[row] or None,
            "feature": gaz.feature[row],
            "population": gaz.population[row],
            "admin1_code": gaz.admin1[row] or None,
            "admin2_id": gaz.ids[gaz.adm2[row]] if gaz.adm2[row] >= 0 else None,
            "admin1_place": None, "admin2_place": None,  # (GeoNames id, name) of its divisions
            "alternate": alternate,
        }
        for key, r in zip(("admin1_place", "admin2_place"), gaz.divisions(row), strict=True):
            if r is not None:
                raw[key] = (gaz.ids[r], gaz.names[r])
        address = gaz.names[row]
        country = gaz.country(gaz.cc[row]) if gaz.feature[row] != "PCLI" else None
        if country is not None:
            address = f"{address}, {country.name}"
        return Location(address, (gaz.lat[row], gaz.lon[row]), raw)
