"""Choose one place for a name: prominence first, then what the article says.

Candidates come from any geopy-style ``geocode(query, exactly_one=False)`` callable. When
its ``Location.raw`` carries our gazetteer fields (``geonameid``, ``feature``,
``population``, ``country_code``, ``admin1_code``) they feed the score; a foreign geocoder's
raw (Nominatim's, say) is read for what it has, and otherwise the geocoder's own order
is the prior.

Context is bounded so that a reader never sees a village picked over a city by hearsay:
a named state counts in proportion to its share of the country's states the article
names, and without a "City, State" pair context chooses only among settlements within
:data:`MAX_PRIOR_GAP` of the most prominent one, unless the article is set in the
candidate's own region (:func:`_local`).

Issue 10 added, in order of strength: a town-in-county pairing the names allow only one
way (:meth:`Context.contained`: "London" and "Laurel County"), the source's home
(:meth:`Context.at_home`, only when the story does not point abroad), nearness for counties
(:meth:`Context.near`: "Laurel and Knox counties"), and a city before its namesake province
(:data:`CITY_SHARE`: "ALEPPO, Syria"). A small town is considered over a far bigger
namesake only at home or in a county whose name has one sense; a country's own name never
yields to a town by context alone.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from archive.geo.gazetteer import FEATURE_BONUS
from archive.models import Place

W_COUNTRY = 1.0  # per other name in the article placed in the candidate's country (up to 3)
MAX_COUNTRY_SUPPORT = 3
W_ADMIN1 = 3.0  # candidate lies in a state/province the article names (times its share)
W_PAIR = 6.0  # "City, State" / "City, Country" written next to each other
W_ALT = 1.0  # matched only through an alternate name
W_CONTAIN = 6.0  # a town inside a county the article names, or a county holding a town it names
W_HOME = 6.0  # a place in the source's home state, when the story gives no other country
W_NEAR = 2.5  # a county within NEAR_KM of a town or county the article names whose sense is clear
NEAR_KM = 120.0
BESIDE_KM = 60.0  # "Town, County" / "Town, District": about a county's breadth
CITY_SHARE = 0.25  # a city with this share of its namesake province's people is what news means
MAX_PRIOR_GAP = 1.75  # without a "City, State" pair, context never picks a place ~50x smaller
LOCAL_NAMES = 2  # ... unless this many other names lie in the candidate's own region
BIG_CITY = 1_000_000  # a city this big beats a same-named state or province
ALT_MIN_POPULATION = 30_000  # smaller places are not chosen through an alternate name alone
UNKNOWN_POPULATION = 500  # assumed for a settlement whose population GeoNames leaves at 0

_REGIONS = frozenset(("PCLI", "CONT", "ADM1"))
_NOMINATIM_TYPES = {"country": "PCLI", "state": "ADM1", "continent": "CONT", "city": "PPL"}


@dataclass(frozen=True)
class Candidate:
    """One possible place for a name, with what the scorer needs beyond ``Place``."""

    place: Place
    admin1: str | None = None
    rank: int = 0  # position in the geocoder's answer
    alt: bool = False  # the query matched an alternate name only
    known_population: bool = True
    admin2: int | None = None  # GeoNames id of the county (second-level division) it lies in


@dataclass
class Context:
    """What the article says about where it is: for each country and admin1 region, the
    (folded) names in the article whose sense is clear and that lie there."""

    countries: dict[str, set[str]] = field(default_factory=dict)
    admin1s: dict[tuple[str, str], set[str]] = field(default_factory=dict)
    #: (country, admin1) -> how much naming a place there says about the region, in (0, 1]:
    #: low for a region holding most of its country (England), 1 when unknown
    weights: dict[tuple[str, str], float] = field(default_factory=dict)
    #: town GeoNames id -> names of counties in the article that hold it, where that
    #: town-in-county pairing is the only one the two names allow (see geotag._add_counties)
    counties: dict[int, set[str]] = field(default_factory=dict)
    #: county GeoNames id -> names in the article of the towns it holds, likewise
    inside: dict[int, set[str]] = field(default_factory=dict)
    #: counties named by a name that has no other county sense ("Laurel County")
    sure_counties: set[int] = field(default_factory=set)
    #: how many states or provinces the sure counties lie in: a county says less about a
    #: town's place when the story names counties all over the country
    county_regions: int = 1
    #: the source's home (country, admin1 or ""), when the story does not point elsewhere
    home: tuple[str, str] | None = None
    #: (name, lat, lon) of the towns and counties whose sense is clear: namesakes close to
    #: them are likelier than far ones (one coherent geography per story)
    points: list[tuple[str, float, float]] = field(default_factory=list)
    #: name -> points of the clearly placed towns written just before it ("Pandi, Bulacan")
    beside: dict[str, list[tuple[float, float]]] = field(default_factory=dict)

    def near(self, c: Candidate, own: str = "") -> bool:
        """The candidate lies within :data:`NEAR_KM` of a clearly placed town or county."""
        p = c.place
        if not self.points or p.feature in ("PCLI", "CONT", "ADM1"):
            return False
        coslat = math.cos(math.radians(p.lat))
        for key, lat, lon in self.points:
            if key != own and math.hypot(lat - p.lat, (lon - p.lon) * coslat) * 111.2 <= NEAR_KM:
                return True
        return False

    def beside_near(self, c: Candidate, own: str) -> bool:
        """The candidate lies within :data:`BESIDE_KM` of a clearly placed town written just
        before the name ("Pandi, Bulacan": the Bulacan next to Pandi, not Mindanao's) or of a
        clearly placed county written just after it ("Newport, Shropshire")."""
        p = c.place
        if p.feature in _REGIONS:
            return False
        coslat = math.cos(math.radians(p.lat))
        return any(math.hypot(lat - p.lat, (lon - p.lon) * coslat) * 111.2 <= BESIDE_KM
                   for lat, lon in self.beside.get(own, ()))

    def contained(self, c: Candidate, own: str = "") -> bool:
        """The candidate lies in a county the article names, or is a county holding a place
        the article names ("London" and "Laurel County": London, Kentucky)."""
        if c.place.feature == "ADM2":
            return bool(self.inside.get(c.place.geonameid, set()) - {own})
        return bool(self.counties.get(c.place.geonameid, set()) - {own})

    def surely_contained(self, c: Candidate, own: str = "") -> bool:
        """Contained, and in a county whose name has no other sense: reason enough to
        consider a small town over a far bigger namesake (London, Kentucky)."""
        return c.admin2 in self.sure_counties and self.contained(c, own)

    def at_home(self, c: Candidate) -> bool:
        """The candidate lies in the source's home state (or home country, when that is all)."""
        if self.home is None or c.place.feature in ("PCLI", "CONT"):
            return False
        cc, admin1 = self.home
        return c.place.country_code == cc and (not admin1 or c.admin1 == admin1)

    def add(self, key: str, cand: Candidate) -> None:
        """Record that the name ``key`` places the article in ``cand``'s country/region."""
        p = cand.place
        if p.country_code:
            self.countries.setdefault(p.country_code, set()).add(key)
            if cand.admin1 and p.feature not in ("PCLI", "CONT"):
                self.admin1s.setdefault((p.country_code, cand.admin1), set()).add(key)

    def country_support(self, cc: str | None, own: str = "") -> int:
        """How many other names in the article lie in country ``cc``."""
        names = self.countries.get(cc or "", ())
        return len(names) - (own in names)

    def admin1_support(self, cc: str | None, admin1: str | None, own: str = "") -> int:
        """How many other names lie in the admin1 region (cc, admin1)."""
        names = self.admin1s.get((cc or "", admin1 or ""), ())
        return len(names) - (own in names)

    def admin1_share(self, cc: str | None, admin1: str | None, own: str = "") -> float:
        """The region's share of the regions of its country the article names (0 when it
        names none of this one): one state named in a local story is strong evidence; one
        of nine states listed in a national story is weak."""
        if not self.admin1_support(cc, admin1, own):
            return 0.0
        regions = sum(1 for (c, _), names in self.admin1s.items() if c == cc and names - {own})
        return self.weights.get((cc or "", admin1 or ""), 1.0) / max(regions, 1)


def _stable_id(text: str) -> int:
    return -(zlib.crc32(text.encode("utf-8")) & 0x7FFFFFFF) or -1


def _division(value: Any) -> tuple[int, str] | None:
    try:
        gid, name = value
        return int(gid), str(name)
    except (TypeError, ValueError):
        return None


def candidate_from_location(loc: Any, rank: int) -> Candidate:
    """Turn a geopy Location (ours or a foreign geocoder's) into a Candidate."""
    raw = loc.raw if isinstance(getattr(loc, "raw", None), dict) else {}
    address = getattr(loc, "address", None) or str(raw.get("name") or "")
    gid: Any = raw.get("geonameid")  # an id of any type a foreign geocoder sends, made int below
    if gid is None:
        gid = raw.get("place_id") or raw.get("osm_id")
    try:
        gid = int(gid)
    except (TypeError, ValueError):
        gid = _stable_id(f"{address}|{loc.latitude:.4f}|{loc.longitude:.4f}")
    cc = raw.get("country_code")
    if cc is None and isinstance(raw.get("address"), dict):
        cc = raw["address"].get("country_code")
    kind = str(raw.get("addresstype") or raw.get("type"))
    feature = raw.get("feature") or _NOMINATIM_TYPES.get(kind, "PPL")
    pop = raw.get("population")
    name = raw.get("name") or address.split(",")[0].strip() or address
    place = Place(
        geonameid=gid,
        name=str(name),
        lat=float(loc.latitude),
        lon=float(loc.longitude),
        country_code=str(cc).upper() if cc else None,
        feature=str(feature),
        population=int(pop or 0),
        admin1=_division(raw.get("admin1_place")),
        admin2=_division(raw.get("admin2_place")),
    )
    admin2 = raw.get("admin2_id")
    return Candidate(place, raw.get("admin1_code"), rank, bool(raw.get("alternate")), pop is not None,
                     int(admin2) if admin2 is not None else None)


def lookup(geocode: Callable[..., Any], query: str) -> list[Candidate]:
    """Ask a geopy-style geocode callable for every candidate; [] when it knows none."""
    found = geocode(query, exactly_one=False)
    if found is None:
        return []
    if not isinstance(found, list | tuple):
        found = [found]
    return [candidate_from_location(loc, k) for k, loc in enumerate(found)]


def prior(c: Candidate) -> float:
    """Context-free plausibility of a candidate."""
    p = c.place
    if not c.known_population:
        return FEATURE_BONUS.get(p.feature, 0.0) - c.rank
    # GeoNames' 0 means unrecorded (London's Twickenham), and cities500 lists places of 500+
    pop = p.population or UNKNOWN_POPULATION
    if c.alt:
        # another language's or a former name: the place's rank as a capital or region does
        # not carry over ("Philadelphia" is Amman's ancient name, "Victoria" Hong Kong's)
        bonus = FEATURE_BONUS.get(p.feature, 0.0) if p.feature in ("PCLI", "CONT") else 0.0
        return bonus + math.log10(pop + 1) - W_ALT
    return FEATURE_BONUS.get(p.feature, 0.0) + math.log10(pop + 1)


def score(c: Candidate, ctx: Context, pair: Iterable[Candidate] = (), own: str = "") -> float:
    """Prior plus context: the countries, states and neighbouring names in the article.

    ``own`` is the name being resolved, so that it does not vouch for itself.
    """
    s = prior(c)
    p = c.place
    cc = p.country_code
    if p.feature not in ("PCLI", "CONT"):
        s += W_COUNTRY * min(ctx.country_support(cc, own), MAX_COUNTRY_SUPPORT)
        if c.admin1 and p.feature != "ADM1":
            s += W_ADMIN1 * ctx.admin1_share(cc, c.admin1, own)
        if ctx.counties and ctx.contained(c, own):
            s += W_CONTAIN / max(ctx.county_regions, 1)
        if ctx.at_home(c):
            s += W_HOME
        if p.feature == "ADM2" and ctx.points and ctx.near(c, own):
            s += W_NEAR  # counties only: in national news a town near another named one is chance
        if ctx.beside and ctx.beside_near(c, own):
            s += W_PAIR
    for other in pair:
        o = other.place
        if o.feature == "PCLI" and cc == o.country_code and p.feature != "PCLI":
            s += W_PAIR
        elif (o.feature == "ADM1" and cc == o.country_code and c.admin1 == other.admin1
              and p.feature != "ADM1"):
            s += W_PAIR
    return s


def _size(c: Candidate) -> float | None:
    p = c.place
    if p.feature in _REGIONS or not c.known_population or p.population <= 0:
        return None
    return math.log10(p.population)  # people only: a capital's prominence is the prior's business


def _local(c: Candidate, ctx: Context, own: str) -> bool:
    """The article is set in the candidate's state or province: two or more other names lie
    there, and it names few other regions of that country (Vienna among Virginia's towns);
    or it is at the source's home, in a surely named county, or a county next to one."""
    cc, admin1 = c.place.country_code, c.admin1
    # (nearness is no reason to consider a far smaller namesake: a story naming Orlando and
    # Tampa does not make "Cleveland" the Florida village)
    if ctx.at_home(c) or (ctx.counties and ctx.surely_contained(c, own)):
        return True
    if ctx.counties and ctx.contained(c, own) and ctx.admin1_support(cc, admin1, own):
        return True  # "Austin, in Scott County, Indiana": of many Scott Counties, the one holding
        # an Austin, in a state the story names too
    if c.place.feature == "ADM2" and ctx.points and ctx.near(c, own):
        return True  # a county next to a county the story names ("Laurel and Knox counties")
    if ctx.beside and ctx.beside_near(c, own):
        return True  # "Pandi, Bulacan": the town's own district or a neighbour written with it
    return bool(admin1) and ctx.admin1_support(cc, admin1, own) >= LOCAL_NAMES \
        and ctx.admin1_share(cc, admin1, own) >= 0.5


def choose(cands: list[Candidate], ctx: Context, pair: Iterable[Candidate] = (),
           own: str = "", certain: bool = False) -> tuple[Candidate, float]:
    """Best candidate and a confidence in [0, 1] from its margin over the runner-up.

    ``certain``: the pair is a state code or a dateline's ("LEBANON, Pa."), so a place
    inside the state it names is meant whenever there is one.
    """
    pair = list(pair)
    if certain:
        states = [(o.place.country_code, o.admin1) for o in pair if o.place.feature == "ADM1"]
        inside = [c for c in cands if c.place.feature not in ("PCLI", "CONT", "ADM1")
                  and (c.place.country_code, c.admin1) in states]
        cands = inside or cands
    if len(cands) > 1:
        # a small place matched only through another of its names ("Bush" for Bushland,
        # "Frankfurt" for a Frankfort) is likelier a quirk of the alternate-name lists
        named = [c for c in cands if not (c.alt and c.known_population and c.place.feature not in _REGIONS
                                          and c.place.population < ALT_MIN_POPULATION)]
        cands = named or cands
    if not pair and len(cands) > 1:
        # nor is a place the name only spells another way over a bigger namesake it is the
        # own name of: "Pittsburgh" in a story about California is still Pennsylvania's, not
        # Pittsburg, California (by context alone; "Pittsburgh, Calif." may say otherwise)
        own_names = [c.place.population for c in cands if not c.alt and c.known_population
                     and c.place.feature not in _REGIONS]
        top = max(own_names, default=0)
        cands = [c for c in cands if not (c.alt and c.known_population and c.place.feature not in _REGIONS
                                          and c.place.population < top)] or cands
    nations = [c for c in cands if c.place.feature == "PCLI"]
    if len(nations) > 1:
        # one name, two countries ("Congo"): the one the story's other places lie in
        most = max(ctx.country_support(c.place.country_code, own) for c in nations)
        cands = [c for c in cands if c.place.feature != "PCLI"
                 or ctx.country_support(c.place.country_code, own) == most]
    if not pair and len(cands) > 1 and any(c.place.feature in ("PCLI", "CONT") for c in cands) \
            and max(cands, key=prior).place.feature in ("PCLI", "CONT"):
        # a country's own name is the country: nearness and states named in the story do not
        # make "China" the Texas town near Houston (a county or the source's home may)
        cands = [c for c in cands if c.place.feature in ("PCLI", "CONT", "ADM1") or ctx.at_home(c)
                 or (ctx.counties and ctx.surely_contained(c, own))]
    if not pair and len(cands) > 1:
        # context may pick among comparable places, but not a village over a far bigger
        # namesake: mentions of Texas elsewhere do not make "Cleveland" a Texas village
        # (by population, among settlements and counties of known size; states and countries
        # have their own rules, and a population of 0 in GeoNames means unknown, not empty)
        # A place known here only by another name ("Salisbury" for Harare) sets no floor.
        sizes = [_size(c) for c in cands]
        main = [z for z, c in zip(sizes, cands, strict=True) if z is not None and not c.alt]
        floor = max(main or [z for z in sizes if z is not None] or [0.0]) - MAX_PRIOR_GAP
        cands = [c for c, z in zip(cands, sizes, strict=True)
                 if z is None or z >= floor or _local(c, ctx, own)]
    scored = sorted(((score(c, ctx, pair, own), -c.rank, c) for c in cands), key=lambda t: t[:2], reverse=True)
    best_s, _, best = scored[0]
    margin = best_s - scored[1][0] if len(scored) > 1 else 3.0
    if best.place.feature == "ADM1":
        # a province named after its own big city is the city unless the text says
        # "province" (see geotag's region senses): "ALEPPO, Syria - ... eastern Aleppo"
        for _s, _, c in scored[1:]:
            p = c.place
            if p.feature in ("PPLC", "PPLA", "PPL") and p.country_code == best.place.country_code \
                    and c.admin1 == best.admin1 and p.population >= CITY_SHARE * best.place.population \
                    and not c.alt:
                return c, round(1.0 / (1.0 + math.exp(-0.5)), 3)
    if best.place.feature == "ADM1" and not pair:
        # a state or province named like its country's big city: news means the city
        # ("New York", "Shanghai"), unless the text says otherwise (see geotag's region senses)
        for _s, _, c in scored[1:]:
            p = c.place
            if p.feature in ("PPLC", "PPLA", "PPL") and p.country_code == best.place.country_code \
                    and p.population >= BIG_CITY:
                return c, round(1.0 / (1.0 + math.exp(-0.5)), 3)
    return best, round(1.0 / (1.0 + math.exp(-(0.5 + margin))), 3)
