"""archive/store/postgres/connections.py on real servers: a primary and two streaming replicas.

Reads rotate over the replicas, writes go to the primary, a replica that stops (between
reads or in the middle of one) costs no failed read, and while the primary is down the
replicas keep answering. Passwords appear in no message and no log line.
"""

from __future__ import annotations

import logging
import threading
import time

import pytest
from pgserver import wait_replayed, wait_until

from archive.errors import StoreUnavailableError
from archive.store.postgres.connections import Connections, display_url

SERVER = "SELECT inet_server_port(), pg_is_in_recovery()"


@pytest.mark.parametrize(("url", "shown"), [
    ("postgresql://ann:s3cret@db.example:5432/news", "postgresql://ann@db.example:5432/news"),
    ("postgresql://ann:s3cret@h1:5432,h2:5433/news?sslmode=require",
     "postgresql://ann@h1:5432,h2:5433/news?sslmode=require"),
    ("postgresql://ann@db/news?password=s3cret&connect_timeout=3", "postgresql://ann@db/news?connect_timeout=3"),
    ("postgres://db/news", "postgres://db/news"),
    ("host=db user=ann password=s3cret dbname=news", "host=db user=ann dbname=news"),
])
def test_display_url_drops_the_password(url, shown):
    assert display_url(url) == shown
    assert "s3cret" not in display_url(url)


def _ports(conns: Connections, n: int) -> list[int]:
    return [conns.run_read(lambda c: c.execute(SERVER).fetchone())[0] for _ in range(n)]


@pytest.fixture
def conns(pg_replicated):
    primary, replicas = pg_replicated
    c = Connections(primary.url(), [r.url() for r in replicas], max_size=4, retry_after=1.0)
    yield c
    c.close()


def test_reads_rotate_over_the_replicas_and_writes_go_to_the_primary(pg_replicated, conns):
    primary, replicas = pg_replicated
    with conns.write() as conn:
        assert conn.execute(SERVER).fetchone() == (primary.port, False)
        conn.execute("CREATE TABLE IF NOT EXISTS rot (x int)")
    ports = _ports(conns, 6)
    assert sorted(set(ports)) == sorted(r.port for r in replicas)
    assert ports.count(replicas[0].port) == 3
    with conns.read() as conn:
        assert conn.execute(SERVER).fetchone()[1] is True  # a standby
    with conns.read(primary=True) as conn:
        assert conn.execute(SERVER).fetchone() == (primary.port, False)


def test_a_write_block_is_one_transaction(pg_replicated, conns):
    primary, _ = pg_replicated
    with conns.write() as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS batch (x int)")
        conn.execute("TRUNCATE batch")
    with pytest.raises(ZeroDivisionError), conns.write() as conn:
        conn.execute("INSERT INTO batch VALUES (1)")
        1 / 0  # noqa: B018 - the batch fails half-way
    with conns.write() as conn:
        conn.execute("INSERT INTO batch VALUES (2)")
    assert primary.execute("SELECT x FROM batch") == [(2,)]


def test_a_stopped_replica_costs_no_failed_read_and_comes_back(pg_replicated, conns, caplog):
    primary, replicas = pg_replicated
    _ports(conns, 4)  # every pool open and used
    replicas[0].stop()
    ports = _ports(conns, 10)
    assert len(ports) == 10 and replicas[0].port not in ports
    assert replicas[1].port in ports
    assert "stopped answering" in caplog.text and f":{replicas[0].port}/" in caplog.text
    replicas[0].start()
    time.sleep(1.2)  # retry_after
    wait_until(lambda: replicas[0].port in _ports(conns, 4), timeout=10)


def test_a_replica_dropping_mid_query_is_retried_elsewhere(pg_replicated, conns):
    primary, replicas = pg_replicated
    started = threading.Event()
    calls = []

    def slow(conn):
        port = conn.execute("SELECT inet_server_port()").fetchone()[0]
        calls.append(port)
        if len(calls) == 1:
            started.set()
            conn.execute("SELECT pg_sleep(30)")
        return port

    victim = {}

    def stop_it():
        started.wait(10)
        victim["port"] = calls[0]
        next(r for r in replicas if r.port == calls[0]).stop("fast")

    stopper = threading.Thread(target=stop_it)
    stopper.start()
    answered = conns.run_read(slow)
    stopper.join()
    assert len(calls) == 2 and calls[0] == victim["port"]
    assert answered == calls[1] != victim["port"]


def test_reads_go_on_while_the_primary_is_down_and_writes_fail_clearly(pg_replicated, conns):
    primary, replicas = pg_replicated
    with conns.write() as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS up (x int)")
        conn.execute("INSERT INTO up VALUES (7)")
    for replica in replicas:
        wait_replayed(primary, replica)
    primary.stop()
    answers = [conns.run_read(lambda c: c.execute("SELECT count(*) FROM up WHERE x = 7").fetchone()[0])
               for _ in range(6)]
    assert answers == [1] * 6
    with pytest.raises(StoreUnavailableError, match="primary database server .* does not answer"):
        with conns.write() as conn:
            conn.execute("INSERT INTO up VALUES (8)")


def test_no_server_answering_is_a_clear_error_without_the_password(pg_cluster, caplog):
    caplog.set_level(logging.DEBUG)
    from pgserver import free_port

    dead = f"postgresql://ann:s3cret-pw@127.0.0.1:{free_port()}/news"
    conns = Connections(dead, [dead.replace("/news", "/other")], retry_after=60)
    try:
        with pytest.raises(StoreUnavailableError, match="No database server answered") as e:
            conns.run_read(lambda c: c.execute("SELECT 1"))
        with pytest.raises(StoreUnavailableError) as w:
            with conns.write():
                pass
    finally:
        conns.close()
    for text in (str(e.value), str(w.value), caplog.text, repr(conns)):
        assert "ann@127.0.0.1" in text or "ann@127.0.0.1" in repr(conns)
        assert "s3cret" not in text
    assert "ann@127.0.0.1" in str(e.value)  # positive control: the server is named


def test_the_app_answers_503_without_addresses_or_passwords_when_no_server_answers(pg_cluster, caplog):
    from pgserver import free_port

    from web import create_app

    dead = f"postgresql://ann:s3cret-pw@127.0.0.1:{free_port()}/news"
    app = create_app({"TESTING": True, "INDEX": dead, "SEARCH_CACHE_SIZE": 0, "MAP_CACHE": False})
    client = app.test_client()
    api = client.get("/api/search?q=Jarabulus")
    page = client.get("/?q=Jarabulus")
    health = client.get("/healthz")
    assert api.status_code == page.status_code == health.status_code == 503
    assert api.get_json()["error"].startswith("The archive's database is not answering")
    assert "not answering" in page.get_data(as_text=True)
    assert "127.0.0.1" not in api.get_data(as_text=True) + page.get_data(as_text=True)
    assert "ann@127.0.0.1" in caplog.text  # the log names the server for the operator...
    for text in (api.get_data(as_text=True), page.get_data(as_text=True), health.get_data(as_text=True), caplog.text):
        assert "s3cret" not in text  # ...and nothing shows the password


def test_a_connection_used_a_moment_ago_is_not_checked_again_and_one_that_died_is_retried(pg_cluster, monkeypatch):
    """run_read hands out a connection checked less than FRESH seconds ago without another round
    trip; one that died in between (its backend ended) costs the read nothing."""
    from archive.store.postgres import connections

    monkeypatch.setattr(connections, "FRESH", 60.0)  # "a moment ago", however slow the machine
    primary = pg_cluster.primary
    conns = Connections(primary.url(), max_size=1, retry_after=60)
    backend = "SELECT pg_backend_pid()"
    try:
        checks = []
        pool, conn = conns.primary.checkout()  # checked: a new connection
        pool.putconn(conn)
        real = type(conn).execute

        def counting(self, query, *args, **kwargs):
            if query == "":
                checks.append(query)
            return real(self, query, *args, **kwargs)

        type(conn).execute = counting  # type: ignore[method-assign]
        try:
            first = conns.run_read(lambda c: c.execute(backend).fetchone()[0])
            assert conns.run_read(lambda c: c.execute(backend).fetchone()[0]) == first
            assert checks == []  # the same connection, not checked again
            with conns.read() as c:  # a read that is not retried is checked every time
                assert c.execute(backend).fetchone()[0] == first
            assert checks == [""]
        finally:
            type(conn).execute = real  # type: ignore[method-assign]
        primary.execute("SELECT pg_terminate_backend(%s)", (first,))
        again = conns.run_read(lambda c: c.execute(backend).fetchone()[0])
        assert again != first  # answered, on a new connection
    finally:
        conns.close()
