"""How central each place is to an article: a score in [0, 1] per place, engine-neutral.

A story *about* Aleppo names it in its headline or dateline, early and often, with a confident
resolution, and shares the story with few other places; a story that *mentions* Aleppo in
passing names it once, late, among many places. Every store computes the same scores with
:func:`centrality` at write time and uses them in the same ways:

* ``place=<id>`` filters and the ``place:``/place-name words of a query rank their hits by the
  place's centrality: without query words, by centrality (highest first), then newest, then id;
  with query words, each hit's text score is multiplied by ``RANK_FLOOR + (1 - RANK_FLOOR) * c``
  (``c`` the highest centrality among the places the request names);
* ``about=<id>`` keeps only the articles whose centrality for that place is at least
  :data:`ABOUT_THRESHOLD` ("articles about Aleppo", not only "mentioning" it);
* a place's top articles (map popups, the place page) are its most central ones;
* an article's places are listed most central first (:func:`main_first`).

The Whoosh store keeps the score to two decimals (:func:`percent`); a store keeping the float
must round it the same way for both stores to rank alike.
"""

from __future__ import annotations

import re

from archive.models import GeotaggedArticle, Mention, Place, SearchRequest

#: ``about=`` keeps articles whose centrality for the place is at least this.
ABOUT_THRESHOLD = 0.5
#: With query words, a hit's text score is scaled by ``RANK_FLOOR + (1 - RANK_FLOOR) * centrality``.
RANK_FLOOR = 0.1
#: A first mention in the text before this many characters counts as "in the lead".
LEAD_CHARS = 400

# Weights of the parts of the score (they sum to 1).
_W_PROMINENCE, _W_SHARE, _W_REPEAT = 0.35, 0.35, 0.30
#: Where a place is first named. A headline that the text never takes up again (a quip, "What is
#: Aleppo?") counts as a lead mention only.
_PROMINENCE = {"title": 1.0, "title only": 0.5, "dateline": 0.9, "lead": 0.5, "body": 0.0}
_REPEATS = 5  # mentions after which naming a place again adds nothing
_NAME_LIKE = 0.25  # weight of a mention that looks like part of a longer proper name

# "ALEPPO, Syria (Reuters) - ", "WASHINGTON, March 3 - ", "BEIRUT — ": capitals, an optional
# ", Region" or date, an optional (Agency), then a dash.
_DATELINE = re.compile(
    r"\s*[A-Z][A-Z.'’\- ]{1,40}(?:,\s*[A-Z][\w.'’ ]{0,30})?\s*(?:\([^()\n]{1,40}\)\s*)?(?:-{1,2}|–|—)\s"
)
# Capitalised words that may stand before a place without making it part of a person's name.
_BEFORE_PLACE = frozenset(
    "a an the in at of from to for on by near and or but with into across around outside inside "
    "east west north south eastern western northern southern central greater old new upper lower rural "
    "downtown city province county district state region rebel rebels besieged government "
    "today yesterday now when while as if after before since like all both".split()
)
_DESCRIPTOR_ENDINGS = ("-held", "-controlled", "-run", "-torn", "-based", "-occupied", "-hit")
_WORD_BEFORE = re.compile(r"([A-Za-z][\w'’-]*)\s+$")


def dateline_end(text: str) -> int:
    """Where the dateline ("ALEPPO, Syria (Reuters) - ") ends in ``text``, or 0 when it has none."""
    m = _DATELINE.match(text[:120])
    return m.end() if m else 0


def _name_like(m: Mention, text: str, covered: set[int]) -> bool:
    """Whether a text mention looks like part of a longer name: "Lavrentiy Beria", "Jack London".

    True when the word right before it (nothing but spaces between) is capitalised, is not a
    function, direction or time word ("In", "Eastern", "Besieged", "Rebel-held"), and is not
    itself (part of) a place mention ("New York", "Aleppo, Syria"). English puts a preposition
    before a place far more often than a bare capitalised word, so this holds at the start of
    a sentence too ("Lavrentiy Beria ran the NKVD").
    """
    before = text[max(0, m.start - 40):m.start]
    found = _WORD_BEFORE.search(before)
    if not found:
        return False
    word = found.group(1)
    if not word[:1].isupper() or word.lower() in _BEFORE_PLACE or word.lower().endswith(_DESCRIPTOR_ENDINGS):
        return False
    return m.start - len(before) + found.start(1) not in covered


def centrality(ga: GeotaggedArticle) -> dict[int, float]:
    """GeoNames id -> how central that place is to the article, in [0, 1] (two decimals).

    The parts: where the place is first named (0.35: headline and text 1, headline only 0.5,
    dateline 0.9, lead 0.5, later 0), its share of all the article's mentions (0.35: places
    sharing a story dilute each other), how often it is named (0.30: up to five times); scaled
    by how confidently the mentions were resolved (``0.7 + 0.3 * mean score``). A text mention
    that looks like part of a person's or organisation's name ("Lavrentiy Beria" read as Beria =
    Aleppo) counts a quarter, and a place named only so keeps a quarter of its score.
    """
    text = ga.article.text
    if not ga.mentions:
        return {}
    dateline = dateline_end(text)
    covered = {i for m in ga.mentions if m.field == "text" for i in range(m.start, m.end)}
    # A surname repeats alone ("Beria was executed"): once a spelling looked like part of a name,
    # every text mention spelled so counts as one.
    names = {m.surface for m in ga.mentions if m.field == "text" and _name_like(m, text, covered)}
    weight: dict[int, float] = {}
    confidence: dict[int, list[float]] = {}
    prominence: dict[int, float] = {}
    real: dict[int, float] = {}  # 1 when some mention is not name-like
    in_text = {m.place.geonameid for m in ga.mentions if m.field == "text"}
    for m in ga.mentions:
        gid = m.place.geonameid
        w = 1.0
        if m.field == "title":
            where = "title" if gid in in_text else "title only"
        elif m.start < dateline:
            where = "dateline"
        else:
            where = "lead" if m.start < LEAD_CHARS else "body"
            if m.surface in names:
                w = _NAME_LIKE
        weight[gid] = weight.get(gid, 0.0) + w
        confidence.setdefault(gid, []).append(min(1.0, max(0.0, m.score)))
        prominence[gid] = max(prominence.get(gid, 0.0), _PROMINENCE[where] * w)
        real[gid] = max(real.get(gid, 0.0), w)
    total = sum(weight.values())
    out = {}
    for gid, w in weight.items():
        parts = (_W_PROMINENCE * prominence[gid] + _W_SHARE * (w / total) + _W_REPEAT * min(w, _REPEATS) / _REPEATS)
        sure = 0.7 + 0.3 * sum(confidence[gid]) / len(confidence[gid])
        out[gid] = round(min(1.0, max(0.0, parts * sure * real[gid])), 2)
    return out


def percent(score: float) -> int:
    """A centrality as a whole number 0-100 (how the Whoosh store keeps it)."""
    return max(0, min(100, round(score * 100)))


def main_first(ga: GeotaggedArticle) -> list[int]:
    """The article's GeoNames ids, most central first (ties: order of first mention)."""
    scores = centrality(ga)
    order = {p.geonameid: i for i, p in enumerate(ga.places)}
    return sorted(order, key=lambda gid: (-scores.get(gid, 0.0), order[gid]))


def matched_first(places: tuple[Place, ...], gids: set[int], req: SearchRequest) -> tuple[Place, ...]:
    """A hit's places, those the request matched first: the place (or about) filter's, the query's
    (``gids``), the country filter's; each group (and the rest) keeps its order, most central first."""
    country = (req.country or "").upper()

    def rank(p: Place) -> int:
        if p.geonameid in (req.place, req.about):
            return 0
        if p.geonameid in gids:
            return 1
        return 2 if country and (p.country_code or "").upper() == country else 3

    return tuple(sorted(places, key=rank))
