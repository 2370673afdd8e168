"""The GeoArchive web app: search pages, article and place pages, the map and a JSON API.

Build it with :func:`create_app`; serve it in production with :func:`serve`.
"""

from __future__ import annotations

import os
from typing import Any

from flask import Flask

from archive.store import Store, open_store

#: OpenStreetMap's standard tiles: the default basemap (loaded by the browser, never the server).
OSM_TILES = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
OSM_ATTRIBUTION = '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors'
#: The value of MAP_TILES that selects the offline basemap: country outlines served by this app.
OFFLINE = "offline"


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Create and configure the app; ``test_config`` replaces the environment's settings."""
    app = Flask(__name__)
    app.config.from_mapping(
        # The archive: a Whoosh index folder or a postgresql:// URL (INDEX_DIR is the older name).
        INDEX=None,
        INDEX_DIR=os.environ.get("GEOARCHIVE_INDEX", "index"),
        # PostgreSQL streaming replicas that answer searches (URLs; writes always go to INDEX).
        READ_REPLICAS=(),
        RESULTS_PER_PAGE=20,
        # A Leaflet tile URL template, or "offline" for the country-outline basemap.
        MAP_TILES=OSM_TILES,
        # HTML (it is the map's attribution line); escaped nowhere, so it is a trusted setting.
        MAP_TILES_ATTRIBUTION=OSM_ATTRIBUTION,
        # Without a first tile this long (or after repeated tile errors) maps switch to the offline basemap.
        MAP_TILES_TIMEOUT_MS=10000,
        # Most places one map shows (the busiest first).
        MAP_MAX_PLACES=20000,
        # From this many places on, markers are built in the browser from a compact array. Below it
        # each marker is a folium object, which costs about 1 ms of server CPU (branca compiles every
        # rendered marker, tooltip and popup as a Jinja template): 300 places took 200+ ms a page.
        # Result pages kept per server process for repeated searches; 0 turns the cache off.
        SEARCH_CACHE_SIZE=512,
        MAP_FAST_CLUSTER_FROM=50,
        # Keep /map and /api/places results per app until the index changes (web/cache.py).
        MAP_CACHE=True,
        MAP_CACHE_SIZE=256,
        # Longest query string accepted, in characters, before any parsing: room for the longest
        # valid q (500 characters) and source (200) percent-encoded, up to 12 characters each.
        MAX_QUERY_STRING=12288,
        LOG_REQUESTS=True,
        # The geotagging overrides file (GEOARCHIVE_OVERRIDES, as for ingest): exports carry its hash.
        OVERRIDES=None,
        # List beside each source the home its articles point to (GEOARCHIVE_INFER_HOMES=false: off);
        # a [home] in OVERRIDES is listed either way.
        INFER_HOMES=True,
    )
    if test_config is None:
        app.config.from_prefixed_env("GEOARCHIVE")
    else:
        app.config.update(test_config)

    from web import api, assets, errors, feeds, security, views

    app.register_blueprint(views.bp)
    app.register_blueprint(feeds.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(assets.bp)
    errors.register(app)
    security.register(app)
    return app


def archive_store(app: Flask) -> Store:
    """The app's Store, opened on first use and again whenever INDEX (or INDEX_DIR) changes."""
    location = str(app.config.get("INDEX") or app.config["INDEX_DIR"])
    replicas = tuple(app.config.get("READ_REPLICAS") or ())
    if isinstance(replicas, str):
        replicas = tuple(u for u in replicas.split(",") if u.strip())
    key = (location, replicas)
    held = app.extensions.get("geoarchive_store")
    if held is None or held[0] != key:
        if held is not None:
            held[1].close()
        held = (key, open_store(location, read_replicas=replicas))
        app.extensions["geoarchive_store"] = held
    return held[1]


def make_server(app: Flask, host: str = "127.0.0.1", port: int = 5000, threads: int = 8):
    """A waitress server for ``app``, bound but not yet running (port 0 picks a free port)."""
    from waitress.server import create_server

    return create_server(app, host=host, port=port, threads=threads, ident="geoarchive")


def serve(app: Flask, host: str = "127.0.0.1", port: int = 5000, threads: int = 8, workers: int = 1) -> None:
    """Serve ``app`` with waitress, a production WSGI server (blocks until interrupted).

    Logs one line per request to stderr (logger ``web.requests``) unless logging is
    already configured. ``workers`` > 1 forks that many server processes sharing one
    listening socket: one process runs Python on one core at a time, so this is how a
    busy server uses every core.
    """
    import logging

    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if workers > 1:
        from web.workers import serve_forked

        serve_forked(app, host=host, port=port, threads=threads, workers=workers)
        return
    server = make_server(app, host=host, port=port, threads=threads)
    server.print_listen("GeoArchive listening on http://{}:{}/")
    server.run()
