"""Searching through streaming replicas (pg_basebackup -R) of a real primary: after an ingest on
the primary, with the primary stopped, and with one of two replicas stopped under load."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import pytest
import webfixtures as wf
from pgserver import wait_replayed

from archive.store import open_store
from archive.store.query import parse_request
from web import create_app

STORY = {"id": "repl-1", "title": "Ferry service resumes in Jarabulus",
         "text": "The ferry across the Euphrates at Jarabulus carried its first passengers in years on Monday."}


@pytest.fixture
def replicated_db(pg_cluster, pg_replicated):
    """(primary URL, replica URLs) of a new database on the replicated primary; dropped after."""
    primary, replicas = pg_replicated
    url = pg_cluster.create_database(primary)
    name = url.rsplit("/", 1)[1]
    yield url, [r.url(name) for r in replicas]
    if not primary.running():
        primary.start()
    primary.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _fill_and_replay(primary, replicas, primary_url):
    """Store the sample articles on the primary and wait until every replica has replayed them."""
    store = open_store(primary_url)
    store.add(wf.articles())
    store.close()
    for replica in replicas:
        wait_replayed(primary, replica)


def _app(primary_url, replica_urls):
    return create_app({"TESTING": True, "INDEX": primary_url, "READ_REPLICAS": tuple(replica_urls),
                       "SEARCH_CACHE_SIZE": 0, "MAP_CACHE": False, "LOG_REQUESTS": False})


def _search_ids(client, q):
    response = client.get("/api/search", query_string={"q": q})
    assert response.status_code == 200, response.get_data(as_text=True)
    return [hit["id"] for hit in response.get_json()["results"]]


def test_an_article_ingested_on_the_primary_is_found_through_the_replicas_also_with_the_primary_down(
        tmp_path, pg_replicated, replicated_db):
    primary, replicas = pg_replicated
    primary_url, replica_urls = replicated_db
    source = tmp_path / "story.jsonl"
    source.write_text(__import__("json").dumps(STORY) + "\n")
    done = subprocess.run([sys.executable, "-m", "archive", "ingest", "-q", "-j", "1", "--index", primary_url,
                           str(source)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    for replica in replicas:
        wait_replayed(primary, replica)

    app = _app(primary_url, replica_urls)
    client = app.test_client()
    assert _search_ids(client, "ferry Euphrates") == ["repl-1"]
    assert _search_ids(client, "submarine") == []  # positive control above, negative here

    primary.stop()
    for _ in range(4):  # both replicas in turn
        assert _search_ids(client, "ferry Euphrates") == ["repl-1"]
    page = client.get("/article/repl-1")
    assert page.status_code == 200 and "Jarabulus" in page.get_data(as_text=True)
    assert client.get(f"/place/{wf.JARABULUS.geonameid}").status_code == 200

    # The same through the Store, as `geoarchive serve --read-replica` opens it.
    store = open_store(primary_url, read_replicas=tuple(replica_urls))
    try:
        hits = store.search(parse_request({"q": "ferry"})).hits
        assert [h.id for h in hits] == ["repl-1"]
    finally:
        store.close()


def test_stopping_one_of_two_replicas_under_load_fails_no_search(pg_replicated, replicated_db):
    primary, replicas = pg_replicated
    primary_url, replica_urls = replicated_db
    _fill_and_replay(primary, replicas, primary_url)
    app = _app(primary_url, replica_urls)
    queries = ["Jarabulus", "Moscow", "Azaz OR Kyiv", "refugees", "news"]
    expected = {q: _search_ids(app.test_client(), q) for q in queries}
    assert expected["Jarabulus"]  # the searches do find something

    per_thread, threads = 60, 4
    failures: list[str] = []
    answered = [0]
    lock = threading.Lock()
    halfway = threading.Event()

    def worker(k: int) -> None:
        client = app.test_client()
        for i in range(per_thread):
            q = queries[(i + k) % len(queries)]
            try:
                response = client.get("/api/search", query_string={"q": q})
                ok = response.status_code == 200 and [h["id"] for h in response.get_json()["results"]] == expected[q]
                if not ok:
                    failures.append(f"{q!r}: {response.status_code} {response.get_data(as_text=True)[:200]}")
            except Exception as e:  # noqa: BLE001 - every failure is counted, none may happen
                failures.append(f"{q!r}: {e!r}")
            with lock:
                answered[0] += 1
                if answered[0] == per_thread * threads // 2:
                    halfway.set()

    pool = [threading.Thread(target=worker, args=(k,)) for k in range(threads)]
    started = time.monotonic()
    for t in pool:
        t.start()
    assert halfway.wait(120), "the searches did not get halfway"
    replicas[0].stop("fast")
    for t in pool:
        t.join(120)
    assert not any(t.is_alive() for t in pool)
    assert answered[0] == per_thread * threads
    assert failures == []
    assert time.monotonic() - started < 120
    assert not replicas[0].running() and replicas[1].running()


def test_geoarchive_serve_with_read_replicas_answers_while_the_primary_is_down(pg_replicated, replicated_db):
    import json
    import urllib.request

    from pgserver import free_port

    primary, replicas = pg_replicated
    primary_url, replica_urls = replicated_db
    _fill_and_replay(primary, replicas, primary_url)
    port = free_port()
    cmd = [sys.executable, "-m", "archive", "serve", "--index", primary_url, "--port", str(port)]
    for url in replica_urls:
        cmd += ["--read-replica", url]
    server = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)

    def search(q: str) -> list[str]:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/search?q={q}", timeout=30) as response:
            return [r["id"] for r in json.load(response)["results"]]

    try:
        from pgserver import wait_until

        assert wait_until(lambda: search("Jarabulus"), timeout=60)
        primary.stop()
        assert search("Moscow")  # not asked before: the result cache cannot answer it
        assert search("Kyiv")
    finally:
        server.terminate()
        _out, err = server.communicate(timeout=30)
    assert f"searches on {replica_urls[0]}, {replica_urls[1]}" in err
    assert "stopped answering" not in err  # the replicas answered; the primary was never asked for a search


def test_a_stream_of_hits_cut_by_its_server_stopping_ends_with_a_readers_error(pg_replicated, replicated_db):
    """iter_hits (exports, feeds, a source's home) streams through a cursor: when every server
    stops mid-stream, the reader gets StoreUnavailableError (a 503), not a driver error."""
    from archive.errors import StoreUnavailableError
    from archive.models import Article, GeotaggedArticle

    primary, replicas = pg_replicated
    primary_url, replica_urls = replicated_db
    store = open_store(primary_url, read_replicas=replica_urls)
    try:
        store.add([GeotaggedArticle(Article(f"ferry-{i}", f"Ferry {i}", "The ferry sailed at dawn."), ())
                   for i in range(1200)])  # more than one cursor batch (500)
        for replica in replicas:
            wait_replayed(primary, replica)
        req = parse_request({"q": "ferry"})
        assert len(list(store.iter_hits(req))) == 1200  # control: the whole stream, servers up
        stream = store.iter_hits(req)
        assert next(stream).id.startswith("ferry-")
        for server in (*replicas, primary):
            server.stop("immediate")
        with pytest.raises(StoreUnavailableError, match="stopped answering after"):
            list(stream)
    finally:
        store.close()
