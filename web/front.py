"""The front page's picture of the archive: numbers, date span, busiest places, latest articles, examples.

Everything here is computed once per index generation (:func:`web.cache.cached` keys on
``store.generation()``), so the first screen costs one dictionary lookup on 50,000
articles until the next commit. Built only on the Store interface, so every engine answers.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass, field

from archive.errors import IndexNotFoundError
from archive.models import Coverage, IndexStats, PlaceCount, SearchHit, SearchRequest
from archive.store import Store
from web import present

#: Places on the front page's map and in its list.
TOP_PLACES = 20
LATEST = 6


@dataclass(frozen=True)
class Example:
    """A search built from the archive's own places, sources and dates: a label and its arguments."""

    label: str
    args: dict[str, str]
    hint: str = ""


@dataclass(frozen=True)
class Front:
    """What the front page shows; ``stats.articles == 0`` means an empty archive."""

    stats: IndexStats
    coverage: Coverage = field(default_factory=Coverage)
    places: tuple[PlaceCount, ...] = ()
    latest: tuple[SearchHit, ...] = ()
    examples: tuple[Example, ...] = ()
    missing: str | None = None  # why there is no archive at all (no index yet)


def build(store: Store) -> Front:
    """The front page's data for ``store`` (an empty Front for an empty or missing archive)."""
    try:
        stats = store.stats()
    except IndexNotFoundError as error:
        return Front(IndexStats(0, 0, 0, 0), missing=str(error))
    if stats.articles == 0:
        return Front(stats)
    coverage = store.coverage()
    places = tuple(store.place_counts(SearchRequest(), limit=TOP_PLACES, top=3))
    latest = store.search(SearchRequest(sort="newest", per_page=LATEST)).hits
    return Front(stats, coverage, places, latest, tuple(examples(store, places, coverage)))


def examples(store: Store, places: tuple[PlaceCount, ...], coverage: Coverage) -> list[Example]:
    """A few searches that each find something: the busiest place, it with its most frequent
    companion, another place in its busiest month, a country, a source."""
    out: list[Example] = []
    towns = [pc for pc in places if not (pc.place.feature or "").startswith(("PCL", "CONT"))] or list(places)
    if towns:
        first = towns[0]
        summary = store.place_summary(first.place.geonameid)
        name = present.common_name(first.place.name, summary.spellings) if summary else first.place.name
        out.append(Example(name, {"place": str(first.place.geonameid)}, f"{_articles(first.count)}"))
        if summary and summary.related:
            other = summary.related[0]
            out.append(Example(f"{name} with {other.place.name}",
                               {"place": str(first.place.geonameid), "q": f"place:{other.place.geonameid}"},
                               f"{_articles(other.count)} name both"))
    if len(towns) > 1:
        second = towns[1]
        summary = store.place_summary(second.place.geonameid)
        if summary and summary.months:
            month, n = max(summary.months, key=lambda mc: (mc[1], mc[0]))
            year, mon = int(month[:4]), int(month[5:])
            last = calendar.monthrange(year, mon)[1]
            name = present.common_name(second.place.name, summary.spellings)
            out.append(Example(f"{name} in {dt.date(year, mon, 1):%B %Y}",
                               {"place": str(second.place.geonameid), "from": f"{month}-01",
                                "to": f"{month}-{last:02d}"}, f"{_articles(n)}, its busiest month"))
    countries = [pc for pc in places if (pc.place.feature or "").startswith("PCL") and pc.place.country_code]
    if countries:
        c = countries[0].place
        out.append(Example(f"Anywhere in {present.country_name(c.country_code)}",
                           {"country": c.country_code or ""}, "every place in the country"))
    if coverage.sources:
        source, n = coverage.sources[0]
        out.append(Example(f"From {source}", {"source": source, "sort": "newest"}, _articles(n)))
    return out



def _articles(n: int) -> str:
    """'1 article', '2 articles'."""
    return f"{n:,} article" if n == 1 else f"{n:,} articles"
