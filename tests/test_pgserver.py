"""The test PostgreSQL server itself: password authentication, fresh databases, a streaming replica."""

from __future__ import annotations

import os

import pytest
from pgserver import wait_until


def test_password_comes_from_the_passfile_and_a_wrong_one_is_refused(pg_server, pg_url):
    import psycopg

    assert "@127.0.0.1:" in pg_url and ":" not in pg_url.split("//")[1].split("@")[0]  # no password in the URL
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(pg_url, password="wrong", passfile=os.devnull)


def test_each_test_gets_an_empty_database_with_the_extensions(pg_cluster, pg_url):
    import psycopg

    with psycopg.connect(pg_url) as conn:
        tables = conn.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public' "
            "AND table_type = 'BASE TABLE' AND table_name <> 'spatial_ref_sys'").fetchone()
        extensions = {name for (name,) in conn.execute("SELECT extname FROM pg_extension")}
    assert tables == (0,)
    assert pg_cluster.extensions <= extensions
    assert "plpgsql" in extensions  # positive control: the query sees extensions at all


def test_server_runs_as_an_unprivileged_user_on_localhost(pg_server):
    rows = pg_server.execute("SELECT current_setting('listen_addresses'), current_setting('port')")
    assert rows == [("127.0.0.1", str(pg_server.port))]
    owner = pg_server.datadir.stat().st_uid
    assert owner != 0


def test_a_streaming_replica_follows_the_primary(pg_cluster):
    primary = pg_cluster.init_primary("replsrc")
    replica = pg_cluster.replica(primary)
    try:
        primary.execute("CREATE TABLE t (x int)")
        primary.execute("INSERT INTO t VALUES (42)")
        assert wait_until(lambda: replica.execute("SELECT x FROM t"), timeout=20) == [(42,)]
        assert replica.execute("SELECT pg_is_in_recovery()") == [(True,)]
        assert primary.execute("SELECT pg_is_in_recovery()") == [(False,)]
        conf = (replica.datadir / "postgresql.auto.conf").read_text()
        assert "primary_conninfo" in conf and pg_cluster.password not in conf  # the password stays in the passfile
    finally:
        replica.stop()
        primary.stop()


def test_missing_binaries_skip_locally_but_fail_under_ci(monkeypatch):
    import pgserver

    assert (pgserver.find_bindir() / "initdb").exists()  # positive control: found here
    monkeypatch.setenv("PG_BIN", "/nonexistent")
    monkeypatch.setattr(pgserver.glob, "glob", lambda pattern: [])
    monkeypatch.setattr(pgserver.shutil, "which", lambda name: None)
    with pytest.raises(pgserver.PgUnavailable, match="run `make test`"):
        pgserver.find_bindir()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true and the test PostgreSQL server did not start"):
        pgserver._unavailable("no binaries")
    monkeypatch.setenv("CI", "")
    with pytest.raises(pytest.skip.Exception, match="no test PostgreSQL server: no binaries"):
        pgserver._unavailable("no binaries")
