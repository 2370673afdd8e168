"""Blueprint "api": JSON search, GeoJSON places, the OpenAPI document and the health check."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, jsonify, request, url_for

from archive.errors import IndexNotFoundError, QueryError, StoreUnavailableError
from archive.store.query import parse_request
from web import openapi
from web.cache import cached
from web.exports import export_format, export_response
from web.present import common_name
from web.views import run_search, search_args, source_homes, store

bp = Blueprint("api", __name__)


@bp.get("/api/search")
def search() -> Response:
    """One page of search results: the shape of ``SearchPage.to_dict()``; or, with
    ``format=csv|jsonl``, every result as a streamed download (web/exports.py)."""
    args = search_args()
    fmt = export_format(args.pop("format", None))
    req = parse_request(args)
    if fmt is not None:
        return export_response(store(), req, fmt)
    page = run_search(req)
    # the homes of the sources the facet lists, as the search page shows them
    homes = {name: home.to_dict() for name, home in source_homes(page).items()}
    return jsonify({**page.to_dict(), "source_homes": homes})


def feature(pc) -> dict:
    p = pc.place
    return {
        "type": "Feature",
        "id": p.geonameid,
        "geometry": {"type": "Point", "coordinates": [p.lon, p.lat]},
        "properties": {
            "geonameid": p.geonameid,
            "name": p.name,
            "country": p.country_code,
            "feature": p.feature,
            "articles": pc.count,
            "top": [{"id": i, "title": t} for i, t in pc.top],
        },
    }


@bp.get("/api/places")
def places() -> Response:
    """The places of any search as a GeoJSON FeatureCollection (``download=1`` for a file)."""
    args = search_args(per_page=False)
    download = (args.pop("download", None) or "").strip()
    if download not in ("", "0", "1"):
        raise QueryError(f"download must be 0 or 1, not {download!r}.", param="download")
    req = parse_request(args)
    limit = current_app.config["MAP_MAX_PLACES"]
    counts = cached(("places", req, limit), lambda: store().place_counts(req, limit=limit))
    response = jsonify({"type": "FeatureCollection", "features": [feature(pc) for pc in counts]})
    response.mimetype = "application/geo+json"
    if download == "1":
        response.headers["Content-Disposition"] = 'attachment; filename="geoarchive-places.geojson"'
    return response


@bp.get("/api/article/<path:article_id>")
def article(article_id: str) -> Response:
    """One article: its text, every place mention with its span and score, and its places."""
    doc = store().get_article(article_id) if len(article_id) <= 200 else None
    if doc is None:
        abort(404, f"Article {article_id!r} doesn't exist.")
    a = doc.article
    per_place: dict[int, list[float]] = {}
    for m in doc.mentions:
        per_place.setdefault(m.place.geonameid, []).append(m.score)
    mentions = sorted(doc.mentions, key=lambda m: (m.field != "title", m.start, m.end))
    return jsonify({
        "id": a.id, "title": a.title, "text": a.text, "date": a.date.isoformat() if a.date else None,
        "url": a.url, "source": a.source, "author": a.author,
        "mentions": [m.to_dict() for m in mentions],
        # In order of first mention, with how often and how confidently each was resolved.
        "places": [
            {"place": p.to_dict(), "mentions": len(per_place[p.geonameid]),
             "score": round(max(per_place[p.geonameid]), 3)}
            for p in doc.places
        ],
    })


# Signed: regions without a GeoNames id get stable negative ids (see views.place).
@bp.get("/api/place/<int(signed=True):geonameid>")
def place(geonameid: int) -> Response:
    """One place across the archive: its names, spellings, articles per month, co-mentioned places."""
    summary = store().place_summary(geonameid)
    if summary is None:
        abort(404, f"No article in the archive names the place {geonameid}.")
    return jsonify({
        "place": summary.place.to_dict(),
        "name": common_name(summary.place.name, summary.spellings),
        "articles": summary.articles,
        "spellings": [{"text": text, "count": n} for text, n in summary.spellings],
        "months": [{"month": month, "articles": n} for month, n in summary.months],
        "related": [{"place": pc.place.to_dict(), "articles": pc.count} for pc in summary.related],
        "links": {"page": url_for("pages.place", geonameid=geonameid),
                  "articles": url_for("api.search", place=geonameid)},
    })


@bp.get("/api/openapi.json")
def openapi_document() -> Response:
    """The OpenAPI 3 description of this API."""
    return jsonify(openapi.document(request.host_url.rstrip("/")))


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    """Whether the app is up and its index can be opened (503 if not)."""
    try:
        store().get_article("-healthz-")
    except (IndexNotFoundError, StoreUnavailableError) as error:
        return jsonify({"ok": False, "error": str(error), "status": 503, "param": None}), 503
    return jsonify({"ok": True, "status": 200}), 200
