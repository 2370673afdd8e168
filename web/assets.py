"""Blueprint "assets": third-party scripts, styles and the offline basemap, served by the app.

Pages reference nothing outside the app's own origin except map tiles: Leaflet,
Leaflet.markercluster and jQuery come from their ``xstatic`` packages, the heatmap
script from the folium wheel, and the offline basemap's country outlines from
``countryinfo`` (Natural Earth shapes, public domain).
"""

from __future__ import annotations

import importlib.resources
import json
from pathlib import Path

from flask import Blueprint, Response, abort, current_app, send_from_directory

bp = Blueprint("assets", __name__)

#: Cached for a day: the files change only when a package is upgraded.
MAX_AGE = 86400


def _vendor_dirs() -> dict[str, Path]:
    import xstatic.pkg.jquery
    import xstatic.pkg.leaflet
    import xstatic.pkg.leaflet_markercluster

    return {
        "leaflet": Path(xstatic.pkg.leaflet.BASE_DIR),
        "markercluster": Path(xstatic.pkg.leaflet_markercluster.BASE_DIR),
        "jquery": Path(xstatic.pkg.jquery.BASE_DIR),
        # folium ships Leaflet.heat's script in its wheel, beside its templates.
        "heat": Path(str(importlib.resources.files("folium") / "templates")),
    }


@bp.get("/vendor/<package>/<path:filename>")
def vendor(package: str, filename: str) -> Response:
    """One file of a vendored front-end package."""
    dirs = current_app.extensions.setdefault("geoarchive_vendor", _vendor_dirs())
    if package not in dirs or not filename.endswith((".js", ".css", ".png", ".svg")):
        abort(404, f"No vendored file {package}/{filename}.")
    return send_from_directory(dirs[package], filename, max_age=MAX_AGE)


def _country_outlines() -> bytes:
    import countryinfo

    features = []
    for country in countryinfo.all_countries():
        shape = country.geo_json() or {}
        iso = country.iso()
        code = iso.get("alpha2") if isinstance(iso, dict) else None
        for feature in shape.get("features") or ():
            features.append(
                {
                    "type": "Feature",
                    "properties": {"name": country.name(), "iso": code},
                    "geometry": feature["geometry"],
                }
            )
    collection = {"type": "FeatureCollection", "features": features}
    return json.dumps(collection, separators=(",", ":")).encode()


@bp.get("/basemap/countries.geojson")
def countries() -> Response:
    """Country outlines as GeoJSON: the offline basemap."""
    body = current_app.extensions.get("geoarchive_countries")
    if body is None:
        body = current_app.extensions["geoarchive_countries"] = _country_outlines()
    response = Response(body, mimetype="application/geo+json")
    response.cache_control.max_age = MAX_AGE
    response.cache_control.public = True
    return response
