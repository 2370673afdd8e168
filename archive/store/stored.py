"""How an article is stored in the index: the document written and the model rebuilt from it.

Plain Python (no Whoosh): the Whoosh engine writes :func:`to_document`'s dict (``whoosh/index.py``)
and turns stored fields back into models with the other functions here (``whoosh/search.py``,
``whoosh/places.py``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json

from unidecode import unidecode

from archive.models import Article, GeotaggedArticle, Mention, Place
from archive.store import geohash
from archive.store.centrality import centrality, percent

SEP = "\x1f"  # separates the values of the multi-term fields (src, pinfo, pspell, pcent)


def fold(text: str) -> str:
    """Fold a name to lower-case ASCII without punctuation; spaces are kept between words."""
    out = unidecode(text).lower().replace("'", "").replace("`", "")
    return " ".join("".join(c if c.isalnum() else " " for c in out).split())


def content_hash(article: Article) -> str:
    """A stable hash of what an article says (not where it came from), for incremental ingest."""
    d = article.to_dict()
    d.pop("origin", None)
    return hashlib.sha1(json.dumps(d, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def place_term(p: Place) -> str:
    """The ``pinfo`` term of a place (``|`` cannot occur in GeoNames names we index; it is replaced)."""
    name = p.name.replace("|", "/").replace(SEP, " ")
    return f"{p.geonameid}|{name}|{p.lat:.5f}|{p.lon:.5f}|{p.country_code or ''}|{p.feature}|{p.population}"


def parse_centrality_term(term: str) -> tuple[int, int]:
    """(geonameid, centrality in percent) of a ``pcent`` term ``gid|NNN``."""
    gid, _, pct = term.rpartition("|")
    return int(gid), int(pct)


def parse_place_term(term: str) -> Place:
    """Inverse of :func:`place_term`."""
    gid, name, lat, lon, cc, feature, pop = term.split("|")
    return Place(int(gid), name, float(lat), float(lon), cc or None, feature, int(pop))


def to_document(ga: GeotaggedArticle) -> dict:
    """The Whoosh document (field -> value) for one article; see ``index.make_schema``."""
    a = ga.article
    scores = centrality(ga)
    # Most central first, so that a hit's places (rebuilt from "pl") lead with what the story is about.
    order = {p.geonameid: i for i, p in enumerate(ga.places)}
    places = sorted(ga.places, key=lambda p: (-scores.get(p.geonameid, 0.0), order[p.geonameid]))
    spellings = sorted({f"{m.place.geonameid}|{m.surface.replace(SEP, ' ')}" for m in ga.mentions})
    names = [p.name for p in places] + [m.surface for m in ga.mentions]
    doc = {
        "id": a.id,
        "title": a.title,
        "text": a.text,
        "place": " ; ".join(dict.fromkeys(names)),
        "country": " ".join(sorted({p.country_code.lower() for p in places if p.country_code})),
        "pid": " ".join(str(p.geonameid) for p in places),
        "pinfo": SEP.join(place_term(p) for p in places),
        "pspell": SEP.join(spellings),
        "pcent": SEP.join(f"{p.geonameid}|{percent(scores.get(p.geonameid, 0.0)):03d}" for p in places),
        "geo": " ".join(sorted({geohash.encode(p.lat, p.lon) for p in places})),
        "ctitle": a.title.encode("utf-8"),
        "origin": (a.origin or "").encode("utf-8"),
        "chash": content_hash(a).encode("ascii"),
        "nmentions": len(ga.mentions),
        "meta": (a.date.isoformat() if a.date else None, a.url, a.source, a.author, a.origin),
        "m": tuple(
            (m.field, m.start, m.end, m.surface, m.place.geonameid, round(m.score, 3)) for m in ga.mentions
        ),
        "pl": tuple(
            (p.geonameid, p.name, p.lat, p.lon, p.country_code, p.feature, p.population, p.admin1, p.admin2)
            for p in places
        ),
    }
    if a.source:
        doc["source"] = a.source
        doc["src"] = a.source.replace(SEP, " ")
    if a.date:
        doc["date"] = dt.datetime(a.date.year, a.date.month, a.date.day)
        doc["year"] = str(a.date.year)
        doc["sort_old"] = a.date.toordinal()
        doc["sort_new"] = -a.date.toordinal()
    tags = a.extra.get("places") if a.extra else None
    if isinstance(tags, list) and tags:
        doc["places"] = " ".join(str(t).replace(" ", "-") for t in tags)
    return {k: v for k, v in doc.items() if v not in ("", None)}


def article_from_stored(stored: dict) -> GeotaggedArticle:
    """Rebuild a GeotaggedArticle from a document's stored fields."""
    date_s, url, source, author, origin = stored.get("meta") or (None, None, None, None, None)
    places = {row[0]: _stored_place(row) for row in stored.get("pl", ())}
    mentions = tuple(
        Mention(f, start, end, surface, places[gid], score)
        for f, start, end, surface, gid, score in stored.get("m", ())
        if gid in places
    )
    article = Article(
        id=stored["id"],
        title=stored.get("title", ""),
        text=stored.get("text", ""),
        date=dt.date.fromisoformat(date_s) if date_s else None,
        url=url,
        source=source,
        author=author,
        origin=origin,
    )
    return GeotaggedArticle(article, mentions)


def places_from_stored(stored: dict) -> tuple[Place, ...]:
    """The distinct places of a stored document, most central first (see ``archive.store.centrality``)."""
    return tuple(_stored_place(r) for r in stored.get("pl", ()))


def _stored_place(r) -> Place:
    """A Place from its stored row; rows written before divisions were kept have 7 fields."""
    a1, a2 = (tuple(r[7]) if r[7] else None, tuple(r[8]) if r[8] else None) if len(r) > 8 else (None, None)
    return Place(r[0], r[1], r[2], r[3], r[4], r[5], r[6], admin1=a1, admin2=a2)
