"""Blueprint "api": JSON search, GeoJSON places, the OpenAPI document and the health check."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, request

from archive.errors import IndexNotFoundError, QueryError, StoreUnavailableError
from archive.store.query import parse_request
from web import openapi
from web.cache import cached
from web.views import run_search, search_args, store

bp = Blueprint("api", __name__)


@bp.get("/api/search")
def search() -> Response:
    """One page of search results: the shape of ``SearchPage.to_dict()``."""
    req = parse_request(search_args())
    return jsonify(run_search(req).to_dict())


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
