"""Second thoughts on an article's resolved names, with the whole article in view.

:mod:`archive.geo.resolve` picks each name's most plausible place. The checks here look at the
article as a whole and either leave a name untagged, because a pin would likely be wrong
(a reader loses trust at one wrong pin and hardly notices a missing one), or give one
occurrence another sense than the article's ("Washington state"):

- a small place, a lone foreign province, or a foreign city known only by another of its
  names, in an article clearly set elsewhere (:func:`stray`);
- a foreign place whose namesake lies in the article's home country (:func:`torn`);
- a city written with a state it is not in ("Warrington, Pa."), or with a state, province
  or county written out that holds no place of its name ("Bradford, Ontario": not England's;
  :func:`drop_misplaced`);
- "City, State" pairs, but not lists of regions (:func:`find_pairs`);
- a landform named after a place ("Mississippi River"; :func:`landform_town`).
"""

from __future__ import annotations

import math
import re

from archive.geo.gazetteer import Gazetteer
from archive.geo.lexicon import Lexicon
from archive.geo.resolve import BESIDE_KM, Candidate, Context, prior

SMALL_PLACE = 100_000  # a settlement smaller than this is a village, for these checks
STRAY_ALT_POPULATION = 5_000_000
TORN_CITY = 1_000_000
TORN_SUPPORT = 3  # names in one country that make it the article's home (see torn)

_PAIR_GAP = (", ", ",")
# "Paris police in Tennessee", "Alexandria residents in Louisiana": a town's people in a state
_LOCAL_GAP = re.compile(r" (?:police|officials|residents|firefighters|authorities|council|voters|schools|deputies)"
                        r" (?:in|of) ")
_REGION_FEATURES = ("ADM1", "PCLI", "CONT")


def find_pairs(found: list, by_key: dict[str, list[Candidate]]) -> tuple[dict[str, list[Candidate]], set[str]]:
    """"City, State" pairs: the second name narrows the first.

    Returns the regions named after each name, and the names whose pair is certain (a state
    code or a dateline follows them) rather than possibly a list.
    """
    pairs: dict[str, list[Candidate]] = {}
    certain: set[str] = set()
    for (f1, t1, _, s1), (f2, _, _, s2) in zip(found, found[1:], strict=False):
        gap = t1[s1.end : s2.start] if f1 == f2 else ""
        if f1 == f2 and (gap in _PAIR_GAP or _LOCAL_GAP.fullmatch(gap)) and s2.key in by_key and s1.key in by_key \
                and (s1.dateline or s2.rows is not None or not _listed_regions(by_key[s1.key], by_key[s2.key])):
            region = [c for c in by_key[s2.key] if c.place.feature in ("ADM1", "PCLI")]
            if region:
                pairs.setdefault(s1.key, []).extend(region[:2])
                if s2.rows is not None or s1.dateline:
                    certain.add(s1.key)
    return pairs, certain


def drop_doubtful(chosen: dict[str, tuple[Candidate, float]], by_key: dict[str, list[Candidate]], ctx: Context,
                  pairs: dict[str, list[Candidate]], certain: set[str], datelines: set[str],
                  lexicon: Lexicon) -> None:
    """Remove from ``chosen`` the names whose pin would likely be wrong (see the module doc)."""
    strongest = max((len(v) for v in ctx.countries.values()), default=0)
    for k, (cand, _) in list(chosen.items()):
        if k not in datelines and stray(cand, ctx, k, strongest, lexicon):
            del chosen[k]
        elif k in certain and not any(_within(cand, r) for r in pairs[k]):
            del chosen[k]  # "Warrington, Pa." and no Warrington in Pennsylvania: not England's
        elif k not in datelines and k not in pairs and torn(cand, by_key[k], ctx, k, strongest):
            del chosen[k]


SURE = 0.8  # a region chosen this confidently says where the town written before it lies


def drop_misplaced(found: list, by_key: dict[str, list[Candidate]],
                   chosen: dict[str, tuple[Candidate, float]]) -> None:
    """Remove from ``chosen`` a town written just before a state, province or county it is
    not in, when no place of its name lies there: "Bradford, Ontario" or "Rockingham,
    Northamptonshire" mean a place the gazetteer lacks, not the Bradford in England or the
    Rockingham in North Carolina; when one does, it is the place meant ("Mylor, Cornwall":
    Mylor Bridge, not Mylor in Australia). The region must be the confident sense of its own name
    (a county, only when its name has one county sense), so that a list of towns
    ("Pomona, Ontario and Fontana") is no pair, nor a list of states ("New York, Ohio")."""
    for (f1, t1, _, s1), (f2, _, _, s2) in zip(found, found[1:], strict=False):
        if f1 != f2 or t1[s1.end : s2.start] != ", " or s1.key == s2.key \
                or s1.key not in chosen or s2.key not in chosen or s1.rows is not None:
            continue
        region, conf = chosen[s2.key]
        town = chosen[s1.key][0]
        r = region.place
        if conf < SURE or not town.place.feature.startswith("PPL") \
                or _listed_regions(by_key[s1.key], by_key[s2.key]):
            continue  # (or a list of states: "New York, Ohio")
        if r.feature == "ADM1":
            inside = [c for c in by_key[s1.key]
                      if c.place.country_code == r.country_code and c.admin1 == region.admin1]
        elif r.feature == "ADM2" and sum(c.place.feature == "ADM2" for c in by_key[s2.key]) == 1:
            inside = [c for c in by_key[s1.key] if c.admin2 == r.geonameid
                      or _km(c.place.lat, c.place.lon, r.lat, r.lon) <= BESIDE_KM]
        else:
            continue
        if not inside:
            del chosen[s1.key]
        elif town not in inside:  # "Mylor, Cornwall": Mylor Bridge there, not Mylor in Australia
            chosen[s1.key] = (max(inside, key=prior), chosen[s1.key][1])


def landform_town(cand: Candidate, ctx: Context, key: str) -> bool:
    """A landform or water named after a town ("Lake Manassas", "Tijuana River") is near the
    town when the story is set around it: in a state the story names or, when it names none
    of that country's, in a country it names. One named after a state or a country
    ("Mississippi River", "Niger Delta") lies somewhere in or beside it, not at its point, and
    one named after a town elsewhere ("Islington Bay" in a story set in New Zealand, "Plum
    Island" in one set in New York) is not at that town."""
    p = cand.place
    if p.feature in ("PCLI", "CONT", "ADM1") or not ctx.country_support(p.country_code, key):
        return False
    if ctx.admin1_support(p.country_code, cand.admin1, key):
        return True
    return not any(cc == p.country_code and names - {key} for (cc, _), names in ctx.admin1s.items())


def region_weights(gaz: Gazetteer) -> dict[tuple[str, str], float]:
    """Per admin1 region, 1 minus its share of its country's people (at least 0.1): a named
    place in England says little about which English town a name means, one in Vermont a lot."""
    totals: dict[str, int] = {}
    for (cc, _), row in gaz.admin1_rows.items():
        totals[cc] = totals.get(cc, 0) + gaz.population[row]
    return {(cc, code): max(0.1, 1.0 - gaz.population[row] / totals[cc]) if totals[cc] else 1.0
            for (cc, code), row in gaz.admin1_rows.items()}


_LIST_GAPS = (", ", " and ", ", and ", " or ")
# "Aleppo province", "Washington state", "the state of New York", "province of Idlib"
_REGION_WORDS = "state|province|governorate|region|oblast|prefecture|department"
# a governor governs a state or province, not a city: "New York Governor", "governor of Punjab"
_REGION_AFTER = re.compile(rf" ({_REGION_WORDS}|governor)(?![a-z])")
_REGION_BEFORE = re.compile(rf"({_REGION_WORDS}|governor) of $")
CITY_PART_KM = 30.0  # "Brooklyn, New York": a place this close to the city is part of it


def region_senses(found: list, by_key: dict[str, list[Candidate]],
                   chosen: dict[str, tuple[Candidate, float]]) -> dict[int, Candidate]:
    """Occurrences that the text itself says mean a state or province, not the city of the
    same name: "Washington state", "the state of New York", "Buffalo, New York", and
    "Ohio, New York and Texas". These override one sense per name for that occurrence."""
    out: dict[int, Candidate] = {}
    for k, (field_name, text, _, span) in enumerate(found):
        if span.key not in chosen:
            continue
        part = _city_part(k, found, by_key, chosen)
        if part is not None:  # "Brooklyn, New York": the city, whichever sense the name took
            out[k] = part
            continue
        if chosen[span.key][0].place.feature == "ADM1":
            continue
        regions = [c for c in by_key[span.key] if c.place.feature == "ADM1"]
        if not regions:
            continue
        after, before = text[span.end : span.end + 13].lower(), text[max(0, span.start - 15) : span.start].lower()
        said = _REGION_AFTER.match(after) or _REGION_BEFORE.search(before)
        if said:
            out[k] = max(regions, key=prior)
            continue
        if _before_own_state(k, found, chosen):
            continue  # "Florida and Washington, D.C.": the city its own state code follows
        for n in (k - 1, k + 1):
            if not 0 <= n < len(found) or found[n][0] != field_name or found[n][3].key not in chosen:
                continue
            other = found[n][3]
            gap = text[other.end : span.start] if n < k else text[span.end : other.start]
            near, _ = chosen[other.key]
            if n == k - 1 and gap == ", " and near.place.feature not in ("ADM1", "PCLI", "CONT"):
                inside = [c for c in regions if c.place.country_code == near.place.country_code
                          and c.admin1 and c.admin1 == near.admin1]
                if inside:  # "Buffalo, New York"
                    out[k] = inside[0]
                    break
            if gap in _LIST_GAPS and near.place.feature == "ADM1" and other.rows is None:
                same = [c for c in regions if c.place.country_code == near.place.country_code]
                if same:  # "Ohio, New York and Texas"
                    out[k] = max(same, key=prior)
                    break
    return out


def _city_part(k: int, found: list, by_key: dict[str, list[Candidate]],
               chosen: dict[str, tuple[Candidate, float]]) -> Candidate | None:
    """The city sense of a name written after one of the city's own parts ("Queens, New
    York", "Brooklyn, New York"): a borough or neighbourhood within :data:`CITY_PART_KM` of
    the city's point, not a town elsewhere in the state ("Buffalo, New York")."""
    if k == 0 or found[k - 1][0] != found[k][0]:
        return None
    _, text, _, before = found[k - 1]
    span = found[k][3]
    if before.key not in chosen or text[before.end : span.start] != ", ":
        return None
    near = chosen[before.key][0].place
    if near.feature in _REGION_FEATURES or not any(c.place.feature == "ADM1" for c in by_key[span.key]):
        return None
    cities = [c for c in by_key[span.key] if c.place.feature.startswith("PPL")
              and c.place.country_code == near.country_code and c.place.population > near.population
              and _km(c.place.lat, c.place.lon, near.lat, near.lon) <= CITY_PART_KM]
    return max(cities, key=prior) if cities else None


def _before_own_state(k: int, found: list, chosen: dict[str, tuple[Candidate, float]]) -> bool:
    """The occurrence's city is written with its own state or district after it ("Washington,
    D.C.", "New York, N.Y."), so a list of states before it does not make it one."""
    if k + 1 >= len(found) or found[k + 1][0] != found[k][0]:
        return False
    text, span, nxt = found[k][1], found[k][3], found[k + 1][3]
    if text[span.end : nxt.start] != ", " or nxt.key not in chosen:
        return False
    city, state = chosen[span.key][0], chosen[nxt.key][0]
    return state.place.feature == "ADM1" and city.place.feature.startswith("PPL") \
        and city.place.country_code == state.place.country_code and city.admin1 == state.admin1


def _km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    coslat = math.cos(math.radians((lat1 + lat2) / 2))
    return math.hypot(lat1 - lat2, (lon1 - lon2) * coslat) * 111.2


def _listed_regions(first: list[Candidate], second: list[Candidate]) -> bool:
    """A country, or a name that reads better as a region of the second name's country than
    as a town inside the second region: a list ("Canada, Mexico", "Arkansas, Louisiana,
    Missouri", "Ohio, Washington, Wisconsin"), not a "City, State" pair. "BEREA, Kentucky"
    stays a pair (the region called Berea is in Lesotho), and so does "Paris, Texas"."""
    best = max(first, key=prior)
    if best.place.feature in ("PCLI", "CONT"):
        return True
    countries = {c.place.country_code for c in second if c.place.feature in ("ADM1", "PCLI")}
    as_region = [prior(c) for c in first if c.place.feature in _REGION_FEATURES and c.place.country_code in countries]
    if not as_region:
        return False
    inside = [prior(c) for c in first if c.place.feature not in _REGION_FEATURES
              and any(_within(c, r) for r in second if r.place.feature in ("ADM1", "PCLI"))]
    return max(as_region) >= max(inside, default=float("-inf"))


def _within(cand: Candidate, region: Candidate) -> bool:
    """True when ``cand`` lies in ``region`` (a country or a state) or is a region itself."""
    p, r = cand.place, region.place
    if p.feature in ("ADM1", "PCLI", "CONT"):
        return True
    return p.country_code == r.country_code and (r.feature == "PCLI" or cand.admin1 == region.admin1)


def torn(cand: Candidate, cands: list[Candidate], ctx: Context, key: str, strongest: int) -> bool:
    """A place abroad that nothing else in the article points to, while a namesake lies in the
    country the article is plainly about ("Georgetown" in a Washington story is not Guyana's
    capital): the gazetteer probably lacks the place meant (a district, a university), so a
    pin at either namesake would likely be wrong."""
    if strongest < TORN_SUPPORT or cand.place.feature in ("PCLI", "CONT"):
        return False
    if ctx.country_support(cand.place.country_code, key):
        return False
    home = {cc for cc, names in ctx.countries.items() if len(names - {key}) >= strongest - 1}
    at_home = [c for c in cands if c is not cand and c.place.country_code in home]
    if not at_home:
        return False
    # a city of a million and ten times its namesake at home is meant even so ("London" in
    # an American story); a smaller one is not worth the risk ("San Felipe" in New Mexico
    # is not Venezuela's, though the gazetteer only has a hamlet of that name in the US)
    p = cand.place
    return p.population < TORN_CITY or any(c.place.population >= p.population / 10 for c in at_home)


def stray(cand: Candidate, ctx: Context, key: str, strongest: int, lexicon: Lexicon) -> bool:
    """A village abroad in an article that is clearly elsewhere: more likely a gap in the
    gazetteer (a county, a street) than a trip to that village, so leave it untagged. The
    same for a foreign town whose name is a frequent English word or surname ("Bush",
    Egypt) and for any foreign province, state or county the article gives no other sign of: news
    names the country of a province it means, so a lone "Mary" (Turkmenistan), "Nord"
    (Haiti, of "Nord Stream") or "Maritime" (Togo) is a homonym. Region codes ("Calif."
    after a city) are vouched for by their city and stay. A foreign city known here only by
    another of its names ("Whitehall" is listed for Atlanta) goes the same way."""
    p = cand.place
    if not cand.known_population or strongest < 2 or ctx.country_support(p.country_code, key):
        return False
    return (p.feature in ("PPL", "ADM2") and p.population < SMALL_PLACE) or \
        (p.feature == "PPL" and p.population < 1_000_000 and lexicon.zipf(key) >= 4.0) or \
        (p.feature in ("ADM1", "ADM2") and "#" not in key) or \
        (cand.alt and p.feature in ("PPL", "PPLA", "PPLC", "ADM2") and p.population < STRAY_ALT_POPULATION)
