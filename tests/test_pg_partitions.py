"""The PostgreSQL writer's partitions: new rows land in a partition with a GIN text index, a full
one gets its RUM index in bulk, and searches neither wait for that nor see an article twice.

Against the test server (tests/pgserver.py); the partition size is made small here so that a few
hundred articles fill several partitions.
"""

from __future__ import annotations

import dataclasses
import threading

import psycopg
import pytest
from test_copy import synthetic

from archive.store import open_store
from archive.store.postgres import writer as pg_writer
from archive.store.postgres.schema import SCHEMA, partitions
from archive.store.query import parse_request


@pytest.fixture
def small_partitions(monkeypatch):
    monkeypatch.setattr(pg_writer, "_ROTATE_ROWS", 50)


def write(store, articles, batch: int) -> None:
    with store.writer() as w:
        for n, ga in enumerate(articles, 1):
            w.add(ga)
            if n % batch == 0:
                w.commit()


def rows_by_part(url: str) -> dict[int, int]:
    with psycopg.connect(url) as conn:
        return dict(conn.execute(f"SELECT part, count(*) FROM {SCHEMA}.articles GROUP BY 1").fetchall())


def answers(store, queries=("officials", "Report", "Syria", "envoys Moscow", '"item 7"')) -> dict:
    """Per query: the total, the hit ids, and the facets."""
    out = {}
    for q in queries:
        page = store.search(parse_request({"q": q}))
        out[q] = (page.total, sorted(h.id for h in store.iter_hits(parse_request({"q": q}))), page.facets)
    return out


def test_a_big_load_fills_several_partitions_each_ranked_by_rum_and_searches_as_one_table(
        pg_url, small_partitions, monkeypatch):
    articles = synthetic(230)
    store = open_store(pg_url)
    write(store, articles, batch=25)
    parts = partitions_of(pg_url)
    assert len(parts) >= 3, parts  # 230 articles, a new partition every 50 or more
    assert all(rum for _n, rum in parts), parts  # the last one too, when the writer closed
    assert sum(rows_by_part(pg_url).values()) == store.stats().articles == 230
    got = answers(store)
    store.close()

    # The same articles through one partition only (never full) search alike.
    monkeypatch.setattr(pg_writer, "_ROTATE_ROWS", 10_000)
    one_url = pg_url + "_one"
    with psycopg.connect(pg_url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {one_url.rsplit('/', 1)[1]} TEMPLATE geoarchive_template")
    one = open_store(one_url)
    try:
        write(one, articles, batch=25)
        assert len(partitions_of(one_url)) == 1
        expected = answers(one)
        assert expected["officials"][0] == 230  # a positive control: the queries do match
        assert got == expected
    finally:
        one.close()
        with psycopg.connect(pg_url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {one_url.rsplit('/', 1)[1]} WITH (FORCE)")


def partitions_of(url: str) -> list[tuple[int, bool]]:
    with psycopg.connect(url) as conn:
        return partitions(conn)


def test_a_changed_article_moves_to_the_current_partition_and_a_deleted_one_goes(pg_url, small_partitions):
    articles = synthetic(120)
    store = open_store(pg_url)
    write(store, articles, batch=30)
    assert len(partitions_of(pg_url)) >= 2
    first = articles[0]
    changed = dataclasses.replace(first, article=dataclasses.replace(first.article, title="Zanzibar update"))
    with store.writer() as w:
        w.add(changed)
        w.delete(articles[1].article.id)
    assert store.stats().articles == 119
    with psycopg.connect(pg_url) as conn:
        rows = conn.execute(f"SELECT part, title FROM {SCHEMA}.articles WHERE id = %s",
                            (first.article.id,)).fetchall()
        current = conn.execute(f"SELECT part FROM {SCHEMA}.meta").fetchone()[0]
    assert rows == [(current, "Zanzibar update")]
    assert [h.id for h in store.search(parse_request({"q": "Zanzibar"})).hits] == [first.article.id]
    assert store.get_article(articles[1].article.id) is None
    assert store.get_article(articles[2].article.id) is not None
    store.close()


def test_two_writers_at_once_through_partition_switches_lose_and_duplicate_nothing(pg_url, small_partitions):
    a, b = synthetic(200), synthetic(200, start=100)  # c00100..c00199 written by both
    errors = []

    def run(articles):
        try:
            store = open_store(pg_url)
            write(store, articles, batch=20)
            store.close()
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=run, args=(x,)) for x in (a, b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    assert not errors, errors
    with psycopg.connect(pg_url) as conn:
        ids = [r[0] for r in conn.execute(f"SELECT id FROM {SCHEMA}.articles").fetchall()]
    assert len(ids) == len(set(ids)) == 300
    assert set(ids) == {f"c{i:05d}" for i in range(300)}
    assert len(partitions_of(pg_url)) >= 3


def test_switching_partition_and_building_its_index_do_not_wait_for_searches_in_progress(pg_url, small_partitions):
    store = open_store(pg_url)
    write(store, synthetic(40), batch=40)  # the first partition, not full yet
    assert partitions_of(pg_url) == [(1, True)]
    reader = psycopg.connect(pg_url)  # a search's transaction, still open: it keeps its ACCESS SHARE locks
    reader.execute(f"SELECT count(*) FROM {SCHEMA}.articles WHERE tsv @@ 'offici'::tsquery").fetchone()
    with psycopg.connect(pg_url) as conn:  # a positive control: the reader does hold them
        held = conn.execute("SELECT count(*) FROM pg_locks WHERE pid = %s AND mode = 'AccessShareLock' "
                            "AND relation = %s::regclass", (reader.info.backend_pid, f"{SCHEMA}.articles")).fetchone()
    assert held == (1,)
    done = threading.Event()

    def fill():
        write(store, synthetic(40, start=40), batch=40)  # 80 >= 50: a new partition, then RUM for the full one
        done.set()

    writer = threading.Thread(target=fill, daemon=True)
    writer.start()
    try:
        # Both went through while the reader held its locks (DROP INDEX, CREATE TABLE ... PARTITION
        # OF or DETACH PARTITION would wait for it, and stall every search queued behind them).
        writer.join(90)
        assert done.is_set()
        assert partitions_of(pg_url) == [(1, True), (2, False)]  # 2 is empty: nothing to index yet
        assert store.search(parse_request({"q": "officials"})).total == 80
    finally:
        reader.close()
        writer.join(60)
    store.close()


def test_an_index_left_invalid_by_a_killed_writer_is_built_again(pg_url, small_partitions):
    store = open_store(pg_url)
    write(store, synthetic(60), batch=60)
    assert partitions_of(pg_url)[0] == (1, True)
    with psycopg.connect(pg_url) as conn:  # as CREATE INDEX CONCURRENTLY leaves it when killed
        conn.execute("UPDATE pg_index SET indisvalid = false WHERE indexrelid = %s::regclass",
                     (f"{SCHEMA}.articles_p1_rum",))
    assert partitions_of(pg_url)[0] == (1, False)
    write(store, synthetic(1, start=500), batch=1)
    assert partitions_of(pg_url)[0] == (1, True)
    assert store.search(parse_request({"q": "officials"})).total == 61
    store.close()


def test_a_big_batch_after_a_finished_ingest_starts_a_partition_of_its_own(pg_url, monkeypatch):
    monkeypatch.setattr(pg_writer, "_FRESH_ROWS", 20)
    store = open_store(pg_url)
    write(store, synthetic(30), batch=30)
    assert partitions_of(pg_url) == [(1, True)]
    write(store, synthetic(5, start=30), batch=5)  # small: into the partition with its RUM index
    assert rows_by_part(pg_url) == {1: 35}
    write(store, synthetic(25, start=35), batch=25)  # big: a partition of its own, RUM built at the end
    assert rows_by_part(pg_url) == {1: 35, 2: 25}
    assert partitions_of(pg_url) == [(1, True), (2, True)]
    assert store.search(parse_request({"q": "officials"})).total == 60
    store.close()


def text_indexes(url: str, n: int) -> dict[str, str]:
    """Index name -> access method of the text (``tsv``) indexes of partition ``n``."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT ic.relname, am.amname FROM pg_index x JOIN pg_class ic ON ic.oid = x.indexrelid "
            "JOIN pg_am am ON am.oid = ic.relam JOIN pg_attribute a ON a.attrelid = x.indrelid "
            "AND a.attnum = ANY(x.indkey) WHERE x.indrelid = %s::regclass AND a.attname = 'tsv'",
            (f"{SCHEMA}.articles_p{n}",)).fetchall()
    return dict(rows)


def phrase_plan(url: str, n: int) -> str:
    with psycopg.connect(url) as conn, conn.transaction():
        conn.execute("SET LOCAL enable_seqscan = off")
        rows = conn.execute(f"EXPLAIN SELECT id FROM {SCHEMA}.articles_p{n} WHERE tsv @@ "
                            "phraseto_tsquery('geoarchive.english', 'envoys from')").fetchall()
    return "\n".join(r[0] for r in rows)


def test_a_sealed_partition_drops_its_gin_index_so_phrases_are_checked_from_rum_positions(pg_url, small_partitions):
    store = open_store(pg_url)
    with store.writer() as w:
        for n, ga in enumerate(synthetic(125), 1):
            w.add(ga)
            if n % 30 == 0:
                w.commit()
        w.commit()
        # A positive control: the partition being filled has its GIN index.
        with psycopg.connect(pg_url) as conn:
            current = conn.execute(f"SELECT part FROM {SCHEMA}.meta").fetchone()[0]
        assert current >= 2
        assert text_indexes(pg_url, current) == {f"articles_p{current}_tsv": "gin"}
    parts = partitions_of(pg_url)
    assert len(parts) >= 2 and all(rum for _n, rum in parts), parts
    for n, _rum in parts:  # sealed, the last one too: RUM alone
        assert text_indexes(pg_url, n) == {f"articles_p{n}_rum": "rum"}
    assert "articles_p1_rum" in phrase_plan(pg_url, 1)

    # An archive sealed by an older version kept both: the next writer drops the GIN index.
    with psycopg.connect(pg_url) as conn:
        conn.execute(f"CREATE INDEX articles_p1_tsv ON {SCHEMA}.articles_p1 USING gin (tsv)")
    assert set(text_indexes(pg_url, 1)) == {"articles_p1_rum", "articles_p1_tsv"}
    write(store, synthetic(1, start=500), batch=1)
    assert text_indexes(pg_url, 1) == {"articles_p1_rum": "rum"}
    page = store.search(parse_request({"q": '"envoys from"'}))
    assert page.total == 126 and len(page.hits) == 20
    store.close()


def test_a_search_split_over_two_connections_answers_as_one_connection_does(pg_url, small_partitions, monkeypatch):
    """Two connections on one search (connections.beside): the matches' seqs and facets beside a
    page from the RUM index, and a ts_rank ranking read half a partition range each, then merged.
    Every page, total and facet equals the same search on one connection."""
    from archive.store.postgres import ranked
    from archive.store.postgres import search as pg_search

    store = open_store(pg_url)
    write(store, synthetic(230), batch=25)
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(f"ANALYZE {SCHEMA}.articles")  # the split point comes from the partitions' row estimates
        split = ranked.split_point(conn)
    assert split is not None and len(partitions_of(pg_url)) >= 3
    used = {"beside": 0, "split": 0, "counted": 0}
    real_beside, real_split, real_counted = store.connections.beside, pg_search.split, pg_search._counted

    def beside(fn):
        future = real_beside(fn)
        used["beside"] += future is not None
        return future

    def counting(name, real):
        def wrapper(*args, **kwargs):
            used[name] += 1
            return real(*args, **kwargs)
        return wrapper

    store.connections.beside = beside  # type: ignore[method-assign]
    monkeypatch.setattr(pg_search, "split", counting("split", real_split))
    monkeypatch.setattr(pg_search, "_counted", counting("counted", real_counted))
    queries = ["officials", "officials envoys", '"item 7"', "envoys Moscow", "Syria", "title:report",
               "report OR item", "officials -Kyiv"]
    requests = [parse_request({"q": q, **extra}) for q in queries
                for extra in ({}, {"per_page": "7", "page": "3"}, {"per_page": "50", "page": "2"})]

    def page_of(req):
        page = store.search(req)
        return [(h.id, round(h.score, 6), h.snippet) for h in page.hits], page.total, page.facets

    try:
        two = [page_of(r) for r in requests for _ in range(2)][1::2]  # the second: the pool has grown by then
        assert used["beside"] >= len(requests) and used["split"] and used["counted"], used
        store.connections.beside = lambda fn: None  # type: ignore[method-assign]  # one connection
        one = [page_of(r) for r in requests]
    finally:
        store.close()
    assert all(hits for hits, total, _facets in one[:3]) and one[0][1] == 230  # positive controls: they match
    assert [t for _h, t, _f in one if t == 0] == []
    for req, a, b in zip(requests, two, one, strict=True):
        assert a == b, (req.q, req.page, req.per_page)


def test_a_second_connection_that_fails_leaves_the_search_to_the_first(pg_url, small_partitions):
    """A lost second connection (beside's future raises) costs nothing: the search reads that half,
    or the seqs, on its own connection and answers as it would have."""
    from concurrent.futures import Future

    from archive.store.postgres import ranked

    store = open_store(pg_url)
    write(store, synthetic(230), batch=25)
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(f"ANALYZE {SCHEMA}.articles")
        assert ranked.split_point(conn) is not None
    failed = []

    def lost(fn):
        future: Future = Future()
        future.set_exception(psycopg.OperationalError("the connection was lost"))
        failed.append(fn)
        return future

    requests = [parse_request({"q": q}) for q in ("officials", '"item 7"', "envoys Moscow")]
    try:
        store.connections.beside = lambda fn: None  # type: ignore[method-assign]
        one = [store.search(r) for r in requests]
        store.connections.beside = lost  # type: ignore[method-assign]
        after = [store.search(r) for r in requests]
    finally:
        store.close()
    assert len(failed) == len(requests)  # each search tried a second connection
    assert one[0].total == 230 and all(p.hits for p in one)
    assert [(p.total, [h.id for h in p.hits], p.facets) for p in after] == \
        [(p.total, [h.id for h in p.hits], p.facets) for p in one]
