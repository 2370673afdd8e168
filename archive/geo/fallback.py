"""Optional online fallback for names the offline gazetteer lacks (off by default).

Wraps any geopy geocoder (for example Nominatim, which requires a descriptive user agent)
behind geopy's :class:`~geopy.extra.rate_limiter.RateLimiter` and a persistent SQLite
cache, so each distinct query reaches the service at most once, and at most one request
is made per ``min_delay_seconds``. Failed requests are logged and answered with None
(and not cached, so a later run retries them). Nominatim is asked for address details,
whose ISO country code becomes the result's ``country_code`` (as the gazetteer's rows have).

    from archive.geo.fallback import nominatim_fallback
    fallback = nominatim_fallback("geoarchive/0.1 (you@example.org)", Path("geocache.sqlite"))
    tagger = Geotagger(fallback=fallback.geocode)
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from pathlib import Path
from typing import Any

from geopy.extra.rate_limiter import RateLimiter
from geopy.geocoders.base import DEFAULT_SENTINEL, Geocoder
from geopy.location import Location

logger = logging.getLogger(__name__)

__all__ = ("CachedGeocoder", "nominatim_fallback")

_SCHEMA = """CREATE TABLE IF NOT EXISTS geocode (
    service TEXT NOT NULL, query TEXT NOT NULL, result TEXT NOT NULL,
    PRIMARY KEY (service, query))"""


class CachedGeocoder:
    """A geopy-style geocoder answering from an on-disk cache, else from ``geocoder``.

    :param geocoder: any geopy geocoder instance (its ``geocode`` is rate-limited).
    :param cache_path: SQLite file; created when missing; safe to share between runs.
    :param min_delay_seconds: minimum pause between two requests to the service.
    :param max_retries: retries on a failing request before giving up on it.
    :param addressdetails: ask for the address parts (Nominatim's ``addressdetails``), which
        carry the country code; only for geocoders whose ``geocode`` takes that option.
    """

    def __init__(self, geocoder: Geocoder, cache_path: str | Path, *, min_delay_seconds: float = 1.0,
                 max_retries: int = 2, addressdetails: bool = False):
        self.geocoder = geocoder
        self.addressdetails = addressdetails
        # answers cached without address details have no country: keep them apart
        self.service = type(geocoder).__name__ + ("+address" if addressdetails else "")
        self._failed = object()
        self._limited = RateLimiter(geocoder.geocode, min_delay_seconds=min_delay_seconds, max_retries=max_retries,
                                    error_wait_seconds=max(min_delay_seconds, 0.0), swallow_exceptions=True,
                                    return_value_on_exception=self._failed)
        self._lock = threading.Lock()
        path = Path(cache_path)
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False)
        with self._db:
            self._db.execute(_SCHEMA)

    def close(self) -> None:
        """Close the cache database."""
        with self._lock:
            self._db.close()

    def _cached(self, query: str) -> list[dict] | None:
        with self._lock:
            row = self._db.execute("SELECT result FROM geocode WHERE service = ? AND query = ?",
                                   (self.service, query)).fetchone()
        return None if row is None else json.loads(row[0])

    def _store(self, query: str, results: list[dict]) -> None:
        with self._lock, self._db:
            self._db.execute("INSERT OR REPLACE INTO geocode (service, query, result) VALUES (?, ?, ?)",
                             (self.service, query, json.dumps(results)))

    def geocode(self, query, *, exactly_one=True, timeout=DEFAULT_SENTINEL):
        """Return ``None``, one ``Location`` (``exactly_one``), or a non-empty list, like geopy."""
        key = " ".join(str(query).split())
        results = self._cached(key)
        if results is None:
            if self.addressdetails:
                found = self._limited(key, exactly_one=False, timeout=timeout, addressdetails=True)
            else:
                found = self._limited(key, exactly_one=False, timeout=timeout)
            if found is self._failed:
                logger.warning("fallback geocoder %s failed for %r; not cached", self.service, key)
                return None
            found = [] if found is None else found if isinstance(found, list) else [found]
            results = [_to_json(loc) for loc in found]
            self._store(key, results)
        if not results:
            return None
        locations = [Location(r["address"], (r["lat"], r["lon"]), r["raw"]) for r in results]
        return locations[0] if exactly_one else locations


def _to_json(loc: Location) -> dict[str, Any]:
    raw = dict(loc.raw) if isinstance(loc.raw, dict) else {}
    address = raw.get("address")
    if not raw.get("country_code") and isinstance(address, dict) and address.get("country_code"):
        raw["country_code"] = str(address["country_code"]).upper()  # Nominatim's is lower case
    return {"address": loc.address, "lat": loc.latitude, "lon": loc.longitude,
            "raw": json.loads(json.dumps(raw, default=str))}


def nominatim_fallback(user_agent: str, cache_path: str | Path, *, domain: str = "nominatim.openstreetmap.org",
                       scheme: str = "https", min_delay_seconds: float = 1.0) -> CachedGeocoder:
    """A cached, rate-limited Nominatim (OpenStreetMap) fallback.

    :param user_agent: identifies your application to the service, as its usage policy
        requires, e.g. ``"geoarchive/0.1 (you@example.org)"``.
    """
    from geopy.geocoders import Nominatim

    if not user_agent or "geopy" in user_agent.lower():
        raise ValueError(f"Nominatim needs a user agent naming your application, got {user_agent!r}; "
                         "for example 'geoarchive/0.1 (you@example.org)'")
    geocoder = Nominatim(user_agent=user_agent, domain=domain, scheme=scheme)
    return CachedGeocoder(geocoder, cache_path, min_delay_seconds=min_delay_seconds, addressdetails=True)
