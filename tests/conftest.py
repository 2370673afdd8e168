"""Shared pytest fixtures.

Geotagging fixtures: the real gazetteer, compiled once into the normal cache folder
(``$GEOARCHIVE_CACHE_DIR`` or ``~/.cache/geoarchive``) and loaded once per session, and a
local stand-in for Nominatim on 127.0.0.1 (no test reaches the internet).
"""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest


@pytest.fixture(scope="session")
def gazetteer():
    from archive.geo.gazetteer import load_gazetteer

    return load_gazetteer()


@pytest.fixture(scope="session")
def tagger(gazetteer):
    from archive.geo.geotag import Geotagger

    return Geotagger(gazetteer=gazetteer)


#: What the fake Nominatim knows: lower-cased query -> its JSON answer (Nominatim's shape).
NOMINATIM_PLACES = {
    "qamishli": [{"place_id": 1101, "osm_type": "relation", "osm_id": 1101, "lat": "37.0522", "lon": "41.2317",
                  "display_name": "Qamishli, Al-Hasakah Governorate, Syria", "class": "place", "type": "city",
                  "addresstype": "city", "name": "Qamishli"}],
    "jarabulus": [{"place_id": 1102, "osm_type": "node", "osm_id": 1102, "lat": "36.8175", "lon": "38.0111",
                   "display_name": "Jarabulus, Aleppo Governorate, Syria", "class": "place", "type": "town",
                   "addresstype": "town", "name": "Jarabulus"}],
}


class _FakeNominatim(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server's naming)
        url = urlparse(self.path)
        self.server.requests.append(self.path)
        if url.path.rstrip("/") != "/search":
            self.send_error(404)
            return
        query = parse_qs(url.query).get("q", [""])[0].strip().lower()
        if query == "server-error":
            self.send_error(500)
            return
        body = json.dumps(NOMINATIM_PLACES.get(query, [])).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def nominatim_server():
    """A Nominatim look-alike on 127.0.0.1; yields the server (``.domain``, ``.requests``)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeNominatim)
    server.requests = []
    server.domain = f"127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.fixture
def local_nominatim(nominatim_server):
    """A geopy Nominatim pointed at the local server, with system proxies disabled."""
    from geopy.geocoders import Nominatim

    return Nominatim(user_agent="geoarchive-tests", domain=nominatim_server.domain, scheme="http",
                     proxies={}, timeout=5)


# A throw-away PostgreSQL server for the session (tests/pgserver.py): pg_cluster, pg_server, pg_url,
# pg_replicated (a primary with two streaming replicas).
from pgserver import _pg_replicated_servers, pg_cluster, pg_replicated, pg_server, pg_url  # noqa: E402, F401

# The contract suite (tests/stores.py): store, make_store, archive_location, module_store_factory give
# a fresh Store of each kind (Whoosh, PostgreSQL), so one test runs against every engine.
from stores import archive_location, make_store, module_store_factory, store  # noqa: E402, F401
