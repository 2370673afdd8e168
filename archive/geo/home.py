"""A source's home inferred from its own articles: where its clear-cut mentions concentrate.

A local paper names its state's towns again and again. Once a source has
:data:`MIN_ARTICLES` articles with at least :data:`MIN_NAMES` mentions whose sense was clear
without context (one candidate, or one far ahead of the rest), and :data:`MIN_SHARE` of
them lie in one state or province, that region is the source's home for its later
articles, exactly as if the overrides file's ``[home]`` table named it. A home given by
the user (``[home]``, or a record's ``home`` field) always wins over an inferred one.
"""

from __future__ import annotations

from collections import Counter

MIN_ARTICLES = 3
MIN_NAMES = 6
MIN_SHARE = 0.6


class HomeInference:
    """Running counts, per source, of the regions its clear-cut mentions lie in."""

    def __init__(self) -> None:
        self._regions: dict[str, Counter] = {}
        self._articles: Counter = Counter()

    def add(self, source: str, regions: list[tuple[str, str]]) -> None:
        """Count one article of ``source`` whose clear-cut names lie in ``regions``
        ((country, admin1) per distinct name)."""
        key = source.strip().casefold()
        self._articles[key] += 1
        self._regions.setdefault(key, Counter()).update(regions)

    def home(self, source: str) -> tuple[str, str] | None:
        """The inferred home (country, admin1) of ``source``, or None while unsure."""
        key = source.strip().casefold()
        counts = self._regions.get(key)
        if not counts or self._articles[key] < MIN_ARTICLES:
            return None
        total = sum(counts.values())
        region, n = counts.most_common(1)[0]
        return region if total >= MIN_NAMES and n >= MIN_SHARE * total else None

    def homes(self) -> dict[str, tuple[str, str]]:
        """Every source whose home is inferred so far (keys case-folded)."""
        return {s: h for s in self._regions if (h := self.home(s)) is not None}
