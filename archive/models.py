"""Plain, typed values passed between the stages of the archive.

Every stage (ingest -> geotag -> index -> search -> web) takes and returns these
frozen dataclasses, so no library type (Whoosh hit, geopy Location, folium
object) crosses a module boundary.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Article:
    """One news article as read from a file, before geotagging."""

    id: str
    title: str
    text: str
    date: dt.date | None = None
    url: str | None = None
    source: str | None = None
    author: str | None = None
    #: Where the article came from: a file path (``file.jsonl:12`` for a line) or a URL.
    origin: str | None = None
    #: Fields of the input record that the archive has no column for, kept as they were.
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "text": self.text,
            "date": self.date.isoformat() if self.date else None,
            "url": self.url,
            "source": self.source,
            "author": self.author,
            "origin": self.origin,
        }


@dataclass(frozen=True)
class Place:
    """A resolved GeoNames place."""

    geonameid: int
    name: str
    lat: float
    lon: float
    country_code: str | None = None
    #: GeoNames feature code: ``PCLI`` (country), ``ADM1`` (state/province),
    #: ``PPLC`` (capital), ``PPLA``/``PPL`` (towns), ``CONT`` (continent), ``RGN`` ...
    feature: str = "PPL"
    population: int = 0
    #: the first-level division (state, province) it lies in, or is: (GeoNames id, name);
    #: the id is negative where GeoNames has none. None when unknown.
    admin1: tuple[int, str] | None = field(default=None, compare=False)
    #: the second-level division (county, district), likewise
    admin2: tuple[int, str] | None = field(default=None, compare=False)

    def to_dict(self) -> dict[str, Any]:
        d = {
            "geonameid": self.geonameid,
            "name": self.name,
            "lat": self.lat,
            "lon": self.lon,
            "country_code": self.country_code,
            "feature": self.feature,
            "population": self.population,
        }
        for key in ("admin1", "admin2"):
            value = getattr(self, key)
            if value is not None:
                d[key] = {"geonameid": value[0], "name": value[1]}
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Place:
        return cls(
            geonameid=int(d["geonameid"]),
            name=d["name"],
            lat=float(d["lat"]),
            lon=float(d["lon"]),
            country_code=d.get("country_code"),
            feature=d.get("feature") or "PPL",
            population=int(d.get("population") or 0),
            admin1=_division(d.get("admin1")),
            admin2=_division(d.get("admin2")),
        )


def _division(d: Any) -> tuple[int, str] | None:
    return (int(d["geonameid"]), str(d["name"])) if isinstance(d, dict) and "geonameid" in d else None


@dataclass(frozen=True)
class Mention:
    """One place mention: a span of an article's title or text resolved to a Place."""

    field: str  # "title" or "text"
    start: int  # character offsets into that field
    end: int
    surface: str  # the text as written, e.g. "U.S." or "A'zaz"
    place: Place
    score: float  # confidence in [0, 1]

    def to_dict(self) -> dict[str, Any]:
        return {
            "field": self.field,
            "start": self.start,
            "end": self.end,
            "surface": self.surface,
            "score": round(self.score, 3),
            "place": self.place.to_dict(),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Mention:
        return cls(
            field=d["field"],
            start=int(d["start"]),
            end=int(d["end"]),
            surface=d["surface"],
            place=Place.from_dict(d["place"]),
            score=float(d["score"]),
        )


@dataclass(frozen=True)
class GeotaggedArticle:
    """An article with the place mentions found in its title and text."""

    article: Article
    mentions: tuple[Mention, ...] = ()

    @property
    def places(self) -> tuple[Place, ...]:
        """Distinct places in order of first mention."""
        seen: dict[int, Place] = {}
        for m in sorted(self.mentions, key=lambda m: (m.field != "title", m.start)):
            seen.setdefault(m.place.geonameid, m.place)
        return tuple(seen.values())


@dataclass(frozen=True)
class FacetCount:
    """One value of a facet (country, place, source, year) and its number of hits."""

    value: str  # the filter value: ISO code, geonameid, source name or year
    label: str  # what a person reads: "Syria", "Jarābulus", "Reuters", "2016"
    count: int
    selected: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"value": self.value, "label": self.label, "count": self.count, "selected": self.selected}


@dataclass(frozen=True)
class SearchHit:
    """One search result: an article's summary, not its whole text."""

    id: str
    title: str
    date: dt.date | None
    source: str | None
    url: str | None
    #: HTML: article text escaped, matched terms wrapped in <mark>. Safe to render as is.
    snippet: str
    score: float
    #: The article's places, those the request matched first, then most central to the story first
    #: (``archive.store.centrality``).
    places: tuple[Place, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "date": self.date.isoformat() if self.date else None,
            "source": self.source,
            "url": self.url,
            "snippet": self.snippet,
            "score": round(self.score, 4),
            "places": [p.to_dict() for p in self.places],
        }


@dataclass(frozen=True)
class SearchPage:
    """One page of results plus what the page needs around them."""

    query: str
    hits: tuple[SearchHit, ...]
    total: int
    page: int
    per_page: int
    facets: dict[str, tuple[FacetCount, ...]] = field(default_factory=dict, compare=False, hash=False)
    suggestion: str | None = None

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    def to_dict(self) -> dict[str, Any]:
        return {
            "query": self.query,
            "total": self.total,
            "page": self.page,
            "per_page": self.per_page,
            "pages": self.pages,
            "results": [h.to_dict() for h in self.hits],
            "facets": {k: [f.to_dict() for f in v] for k, v in self.facets.items()},
            "suggestion": self.suggestion,
        }


@dataclass(frozen=True)
class SearchRequest:
    """Everything that selects and orders results; shared by the page, the API and the CLI."""

    q: str = ""
    page: int = 1
    per_page: int = 20
    sort: str = "relevance"  # "relevance" | "newest" | "oldest"
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    place: int | None = None  # geonameid
    #: geonameid: only articles about this place (centrality >= archive.store.centrality.ABOUT_THRESHOLD).
    about: int | None = None
    country: str | None = None  # ISO 3166 alpha-2
    source: str | None = None
    year: int | None = None
    bbox: tuple[float, float, float, float] | None = None  # west, south, east, north
    near: tuple[float, float] | None = None  # lat, lon
    radius_km: float | None = None


@dataclass(frozen=True)
class PlaceCount:
    """A place with the number of matching articles that name it (for maps and GeoJSON)."""

    place: Place
    count: int
    #: A few of its matching articles as (id, title), best first.
    top: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class PlaceSummary:
    """What the place page shows about one place across the whole archive."""

    place: Place
    articles: int
    spellings: tuple[tuple[str, int], ...]  # surface form, count
    months: tuple[tuple[str, int], ...]  # "YYYY-MM", articles
    related: tuple[PlaceCount, ...]  # places most often named alongside it


@dataclass(frozen=True)
class IndexStats:
    articles: int
    places: int
    mentions: int
    bytes: int

    def to_dict(self) -> dict[str, int]:
        return {"articles": self.articles, "places": self.places, "mentions": self.mentions, "bytes": self.bytes}


@dataclass(frozen=True)
class Coverage:
    """What the archive spans: its sources and its dates (the front page's numbers)."""

    #: (source name, articles), busiest first; articles without a source are not counted.
    sources: tuple[tuple[str, int], ...] = ()
    first: dt.date | None = None  # the oldest article's date
    last: dt.date | None = None  # the newest article's date
    undated: int = 0  # articles without a date

    def to_dict(self) -> dict[str, Any]:
        return {
            "sources": len(self.sources),
            "first": self.first.isoformat() if self.first else None,
            "last": self.last.isoformat() if self.last else None,
            "undated": self.undated,
        }


@dataclass(frozen=True)
class SourceHome:
    """Where a source is at home, as listed beside the source: a local paper's namesakes are
    read as its state's (see :mod:`archive.geo.home`)."""

    source: str
    #: what a person reads: the state or province inferred, or the ``[home]`` value as written
    home: str
    #: "configured" (the overrides file's ``[home]`` table) or "inferred" (from its articles)
    how: str
    country_code: str | None = None
    geonameid: int | None = None  # the inferred state or province

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "home": self.home, "how": self.how,
                "country_code": self.country_code, "geonameid": self.geonameid}


@dataclass(frozen=True)
class Skipped:
    """An input that did not go into the index, and why."""

    path: str
    reason: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line is not None else self.path
        return f"{where}: {self.reason}"

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "line": self.line, "reason": self.reason}


@dataclass
class IngestReport:
    """What one ingest run did; the CLI prints it as the summary."""

    files: int = 0
    read: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    duplicates: int = 0
    pruned: int = 0
    mentions: int = 0
    seconds: float = 0.0
    skipped: list[Skipped] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.skipped

    def to_dict(self) -> dict[str, Any]:
        return {
            "files": self.files,
            "read": self.read,
            "added": self.added,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "duplicates": self.duplicates,
            "pruned": self.pruned,
            "mentions": self.mentions,
            "seconds": round(self.seconds, 3),
            "skipped": [s.to_dict() for s in self.skipped],
            "warnings": list(self.warnings),
        }
