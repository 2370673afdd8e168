"""Name folding and the small name tables shared by the gazetteer and its build step.

Kept apart from :mod:`archive.geo.gazetteer` so that the build step
(:mod:`archive.geo.gazetteer_build`) and the loader import the same helpers without
importing each other.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from unidecode import unidecode

#: A word token: a dotted abbreviation ("U.S.") or letters/digits with inner apostrophes;
#: a possessive "'s" is not part of the word ("Syria's" -> "Syria", "s").
TOKEN_RE = re.compile(r"(?:[^\W\d_]\.){2,}|[^\W_]+(?:['’‘ʻʼ`](?![sS]\b)[^\W_]+)*")
_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "ʻ": "'", "ʼ": "'", "`": "'"})

#: Everyday English names and abbreviations that none of the source packages lists for
#: its place (keys: ISO alpha-2, or "continent:<name>"). The EU is put on Europe's point.
EXTRA_NAMES = {
    "US": ["US", "U.S.", "USA", "U.S.A.", "America"],
    "GB": ["U.K.", "Britain"],
    "AE": ["U.A.E."],
    "KP": ["DPRK"],
    "KR": ["ROK"],
    "CD": ["Congo"],  # news' "Congo" is either Congo; the story's other places decide (resolve.choose)
    "continent:Europe": ["EU", "E.U."],
}


def fold_token(token: str) -> str:
    """Fold one token: lower case, diacritics removed, apostrophes unified."""
    if not token.isascii():
        token = unidecode(token.translate(_APOSTROPHES))
    return token.lower()


@lru_cache(maxsize=65536)
def fold(name: str) -> str:
    """Normalise a name for lookup: tokens folded with :func:`fold_token`, joined by spaces."""
    return " ".join(fold_token(t) for t in TOKEN_RE.findall(name))


def is_latin(name: str) -> bool:
    """True when every letter of ``name`` is a Latin letter (accents allowed)."""
    for ch in name:
        if ch.isascii() or not ch.isalpha():
            continue
        if not unicodedata.name(ch, "").startswith("LATIN"):
            return False
    return True

#: Short names news gives the oceans, seas and regions of GeoNames' no-country file ("across
#: the Atlantic"), keyed by GeoNames id. GeoNames has no "Latin America" of its own: its
#: "Latin America and the Caribbean" is the place meant, not America (the United States).
AREA_NAMES = {3373405: ["Atlantic"], 2363254: ["Pacific"], 363196: ["Mediterranean"], 7730009: ["Latin America"]}

#: GeoNames' current country points where pyowm's (older) GeoNames snapshot still has the
#: previous ones: India was 20, 77 and Libya 25, 17 there. Keyed by GeoNames id.
CURRENT_POINTS = {1269750: (22.0, 79.0), 2215636: (28.0, 17.0)}
