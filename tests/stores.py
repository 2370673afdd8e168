"""The contract suite's fixtures: a fresh Store of every kind, so one test runs against each engine.

As geopy runs one suite against every geocoder, the search, ingest, web and API tests take
``store`` (or ``make_store``, or ``archive_location`` for code that opens the store itself)
and run once per engine: ``[whoosh]`` with an index in a temporary folder, ``[postgres]``
with a new database on the session's throw-away PostgreSQL server (tests/pgserver.py;
under CI=true a server that cannot start fails the run instead of skipping).
"""

from __future__ import annotations

import pytest

STORE_KINDS = ("whoosh", "postgres")


class StoreFactory:
    """Makes empty stores (or their locations) of one kind; drops what it made afterwards."""

    def __init__(self, kind: str, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
        self.kind = kind
        self._request = request
        self._tmp = tmp_path_factory
        self._stores = []
        self._databases: list[str] = []

    def location(self) -> str:
        """Where a new, empty archive of this kind goes: a folder path or a postgresql:// URL."""
        if self.kind == "whoosh":
            return str(self._tmp.mktemp("store") / "index")
        cluster = self._request.getfixturevalue("pg_cluster")
        url = cluster.create_database(cluster.primary)
        self._databases.append(url)
        return url

    def __call__(self):
        from archive.store import open_store

        store = open_store(self.location())
        self._stores.append(store)
        return store

    def close(self) -> None:
        for store in self._stores:
            store.close()
        if self._databases:
            cluster = self._request.getfixturevalue("pg_cluster")
            if cluster.primary.running():
                for url in self._databases:
                    cluster.primary.execute(f"DROP DATABASE IF EXISTS {url.rsplit('/', 1)[1]} WITH (FORCE)")


@pytest.fixture(params=STORE_KINDS)
def make_store(request, tmp_path_factory):
    """Call it for a new, empty Store of the test's kind (several if the test needs them)."""
    factory = StoreFactory(request.param, request, tmp_path_factory)
    yield factory
    factory.close()


@pytest.fixture
def store(make_store):
    """A new, empty Store of each kind."""
    return make_store()


@pytest.fixture
def archive_location(make_store) -> str:
    """The location (folder or URL) of a new, empty archive of each kind, for code that opens it itself."""
    return make_store.location()


@pytest.fixture(scope="module", params=STORE_KINDS)
def module_store_factory(request, tmp_path_factory):
    """A StoreFactory of each kind for one test module (for stores filled once per module)."""
    factory = StoreFactory(request.param, request, tmp_path_factory)
    yield factory
    factory.close()
