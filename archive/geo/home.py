"""A source's home inferred from its own articles: where its clear-cut mentions concentrate.

A local paper names its state's towns again and again. Once a source has
:data:`MIN_ARTICLES` articles with at least :data:`MIN_NAMES` mentions whose sense was clear
without context (one candidate, or one far ahead of the rest), and :data:`MIN_SHARE` of
them lie in one state or province, that region is the source's home for its later
articles, exactly as if the overrides file's ``[home]`` table named it. A home given by
the user (``[home]``, or a record's ``home`` field) always wins over an inferred one.

:func:`source_homes` answers the same question for an archive already stored, from the
confident mentions of each source's newest articles: what the web app lists beside each
source ("Kentucky, inferred"), with the ``[home]`` entries of the overrides file first.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Iterable
from itertools import islice
from typing import Any

from archive.models import GeotaggedArticle, SearchRequest, SourceHome

MIN_ARTICLES = 3
MIN_NAMES = 6
MIN_SHARE = 0.6
#: a mention this confident is clear-cut (the tagger's own bar for its second look)
MIN_SCORE = 0.8
#: the newest articles read per source when inferring its home from a stored archive
SAMPLE = 20
_AREAS = frozenset(("PCLI", "CONT", "ADM1"))


class HomeInference:
    """Running counts, per source, of the regions its clear-cut mentions lie in."""

    def __init__(self) -> None:
        self._regions: dict[str, Counter] = {}
        self._articles: Counter = Counter()

    def add(self, source: str, regions: Iterable[Hashable]) -> None:
        """Count one article of ``source`` whose clear-cut names lie in ``regions`` (one
        state or province per distinct name: (country, admin1 code) while tagging)."""
        key = source.strip().casefold()
        self._articles[key] += 1
        self._regions.setdefault(key, Counter()).update(regions)

    def home(self, source: str) -> Any:
        """The inferred home (country, admin1) of ``source``, or None while unsure."""
        key = source.strip().casefold()
        counts = self._regions.get(key)
        if not counts or self._articles[key] < MIN_ARTICLES:
            return None
        total = sum(counts.values())
        region, n = counts.most_common(1)[0]
        return region if total >= MIN_NAMES and n >= MIN_SHARE * total else None

    def homes(self) -> dict[str, Any]:
        """Every source whose home is inferred so far (keys case-folded)."""
        return {s: h for s in self._regions if (h := self.home(s)) is not None}


def stored_regions(ga: GeotaggedArticle) -> list[tuple[str, int, str]]:
    """(country, state id, state name) of each distinct place a stored article names
    confidently, towns and counties only: the evidence :class:`HomeInference` counts."""
    seen: set[int] = set()
    out = []
    for m in ga.mentions:
        p = m.place
        if m.score < MIN_SCORE or p.admin1 is None or not p.country_code or p.feature in _AREAS \
                or p.geonameid in seen:
            continue
        seen.add(p.geonameid)
        out.append((p.country_code, p.admin1[0], p.admin1[1]))
    return out


def source_homes(store: Any, sources: Iterable[str], overrides: Any = None, infer: bool = True,
                 sample: int = SAMPLE) -> dict[str, SourceHome]:
    """The home of each of ``sources`` that has one: the overrides file's ``[home]`` entry, or
    (unless ``infer`` is false) the state or province the confident mentions of its
    ``sample`` newest stored articles concentrate in, by :class:`HomeInference`'s rule.

    :param store: an :class:`archive.store.Store` (read through ``iter_hits`` and ``get_article``).
    :param overrides: an :class:`archive.geo.overrides.Overrides`, or None.
    """
    out: dict[str, SourceHome] = {}
    for source in sources:
        given = overrides.home(source) if overrides is not None else None
        if given not in (None, ""):
            out[source] = SourceHome(source, str(given), "configured")
            continue
        if not infer:
            continue
        hits = store.iter_hits(SearchRequest(source=source, sort="newest"))
        try:
            ids = [hit.id for hit in islice(hits, sample)]
        finally:  # a generator left open would hold the engine's searcher or cursor
            getattr(hits, "close", lambda: None)()
        counts = HomeInference()
        for article_id in ids:
            ga = store.get_article(article_id)
            if ga is not None:
                counts.add(source, stored_regions(ga))
        region = counts.home(source)
        if region is not None:
            cc, gid, name = region
            out[source] = SourceHome(source, name, "inferred", cc, gid)
    return out
