"""Shared pytest fixtures.

Geotagging fixtures: the real gazetteer, compiled once into the normal cache folder
(``$GEOARCHIVE_CACHE_DIR`` or ``~/.cache/geoarchive``) and loaded once per session, and a
local stand-in for Nominatim on 127.0.0.1 (no test reaches the internet).
"""

import copy
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


#: What the fake Nominatim knows: lower-cased query -> its JSON answers (Nominatim's format=json
#: shape, with the "address" that only addressdetails=1 returns).
NOMINATIM_PLACES = {
    "qamishli": [{"place_id": 1101, "licence": "Data © OpenStreetMap contributors, ODbL 1.0.", "osm_type": "relation",
                  "osm_id": 1101, "lat": "37.0522", "lon": "41.2317", "class": "place", "type": "city",
                  "place_rank": 16, "importance": 0.52, "addresstype": "city", "name": "Qamishli",
                  "display_name": "Qamishli, Al-Hasakah Governorate, Syria",
                  "address": {"city": "Qamishli", "state": "Al-Hasakah Governorate", "ISO3166-2-lvl4": "SY-HA",
                              "country": "Syria", "country_code": "sy"},
                  "boundingbox": ["36.9922", "37.1122", "41.1717", "41.2917"]}],
    "jarabulus": [{"place_id": 1102, "licence": "Data © OpenStreetMap contributors, ODbL 1.0.", "osm_type": "node",
                   "osm_id": 1102, "lat": "36.8175", "lon": "38.0111", "class": "place", "type": "town",
                   "place_rank": 18, "importance": 0.41, "addresstype": "town", "name": "Jarabulus",
                   "display_name": "Jarabulus, Aleppo Governorate, Syria",
                   "address": {"town": "Jarabulus", "state": "Aleppo Governorate", "ISO3166-2-lvl4": "SY-HL",
                               "country": "Syria", "country_code": "sy"},
                   "boundingbox": ["36.7775", "36.8575", "37.9711", "38.0511"]}],
}


class _FakeNominatim(BaseHTTPRequestHandler):
    """Answers /search as Nominatim does for the parameters it is given.

    ``format`` json or jsonv2 (jsonv2 names ``class`` ``category``); ``limit``; ``addressdetails=1``
    adds each result's ``address`` (with the lower-case ISO ``country_code``), which is otherwise
    left out. A missing ``q`` is a 400, as on the real service; ``q=server-error`` a 500.
    """

    def do_GET(self):  # noqa: N802 (http.server's naming)
        url = urlparse(self.path)
        self.server.requests.append(self.path)
        if url.path.rstrip("/") != "/search":
            self.send_error(404)
            return
        params = {k: v[-1] for k, v in parse_qs(url.query).items()}
        self.server.params.append(params)
        query = params.get("q", "").strip().lower()
        fmt = params.get("format", "jsonv2")
        if not query or fmt not in ("json", "jsonv2"):
            self._send(400, {"error": {"code": 400, "message": "Nothing to search for or unsupported format."}})
            return
        if query == "server-error":
            self.send_error(500)
            return
        answers = copy.deepcopy(NOMINATIM_PLACES.get(query, []))[: int(params.get("limit", "10"))]
        for answer in answers:
            if params.get("addressdetails") != "1":
                del answer["address"]
            if fmt == "jsonv2":
                answer["category"] = answer.pop("class")
        self._send(200, answers)

    def _send(self, status, payload):
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def nominatim_server():
    """A Nominatim look-alike on 127.0.0.1; yields the server (``.domain``, ``.requests``, ``.params``)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeNominatim)
    server.requests = []
    server.params = []
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
