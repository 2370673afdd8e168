"""The PostgreSQL store's facets, counted in the process over cached facet values by seq
(archive/store/postgres/facets.py), stay those of the archive as it is now: after new articles
(in any commit order), changed ones, deleted ones, and across the cache's merges and rebuilds.

The oracle is the server itself: every facet value of every match, counted with SQL.
"""

from __future__ import annotations

import dataclasses

import psycopg
import pytest
from test_copy import synthetic

from archive.store import open_store
from archive.store.postgres import facets as pg_facets
from archive.store.postgres.schema import SCHEMA
from archive.store.query import parse_request

_ORACLE = (f"SELECT v, count(*) FROM (SELECT unnest(ARRAY['year|' || year, 'source|' || source] "
           f"|| array(SELECT 'country|' || upper(c) FROM unnest(countries) c) "
           f"|| array(SELECT 'place|' || p FROM unnest(pids) p)) AS v FROM {SCHEMA}.articles "
           f"WHERE tsv @@ plainto_tsquery('geoarchive.english', %s)) x WHERE v IS NOT NULL GROUP BY v")


def oracle(url: str, word: str) -> tuple[int, dict[tuple[str, str], int]]:
    with psycopg.connect(url) as conn:
        total = conn.execute(f"SELECT count(*) FROM {SCHEMA}.articles WHERE tsv @@ "
                             "plainto_tsquery('geoarchive.english', %s)", (word,)).fetchone()[0]
        rows = conn.execute(_ORACLE, (word,)).fetchall()
    return total, {tuple(v.split("|", 1)): n for v, n in rows}


def shown(store, word: str) -> tuple[int, dict[tuple[str, str], int]]:
    page = store.search(parse_request({"q": word}))
    return page.total, {(name, fc.value): fc.count for name, fcs in page.facets.items() for fc in fcs}


@pytest.fixture
def store(pg_url):
    pg_facets._CACHES.clear()
    s = open_store(pg_url)
    yield s
    s.close()


def test_facets_follow_new_changed_and_deleted_articles_across_the_caches_merges(pg_url, store):
    articles = synthetic(40)
    store.add(articles)
    first = shown(store, "officials")
    assert first[0] == 40 and len(first[1]) > 5  # a positive control: years, a source, countries, places
    assert first == oracle(pg_url, "officials")
    (cache,) = pg_facets._CACHES.values()
    # A batch committed after the cache saw later seqs (two writers' batches commit out of order).
    store.add([synthetic(1, start=300)[0]])
    with psycopg.connect(pg_url) as conn:
        conn.execute(f"UPDATE {SCHEMA}.articles SET seq = 0 WHERE id = %s", ("c00300",))
    assert shown(store, "officials") == oracle(pg_url, "officials")
    assert shown(store, "officials")[0] == 41
    # One commit at a time (a cache segment each, merged past _SEGMENTS): new, changed, deleted.
    for i in range(12):
        with store.writer() as w:
            w.add(synthetic(1, start=100 + i)[0])
            old = articles[i]
            w.add(dataclasses.replace(old, article=dataclasses.replace(old.article, source=f"Desk {i % 3}")))
            w.delete(articles[20 + i].article.id)
        assert shown(store, "officials") == oracle(pg_url, "officials"), i
        for word in ("17", "105"):  # a few matches (their values gathered one by one)
            assert shown(store, word) == oracle(pg_url, word), (i, word)
    assert len(cache.segments) <= pg_facets._SEGMENTS
    assert shown(store, "officials")[0] == 41
    assert shown(store, "105")[0] == 1
    assert ("source", "Desk 0") in shown(store, "officials")[1]


def test_a_whole_archive_search_rebuilds_a_cache_mostly_of_deleted_articles(pg_url, store):
    articles = synthetic(1500)
    store.add(articles)
    assert shown(store, "officials") == oracle(pg_url, "officials")
    (cache,) = pg_facets._CACHES.values()
    assert cache.rows == 1500
    with store.writer() as w:
        for ga in articles[:1400]:
            w.delete(ga.article.id)
    whole = store.search(parse_request({}))
    assert whole.total == 100
    assert cache.rows == 0  # forgotten; read again by the next count
    assert shown(store, "officials") == oracle(pg_url, "officials")
    assert cache.rows == 100


def test_an_archive_of_the_previous_layout_gets_its_uid_and_seq_index_from_the_next_writer(pg_url, store):
    store.add(synthetic(10))
    with psycopg.connect(pg_url, autocommit=True) as conn:
        # The layout of the version before: no archive uid, no index on seq.
        conn.execute(f"DROP INDEX {SCHEMA}.articles_seq")
        conn.execute(f"ALTER TABLE {SCHEMA}.meta DROP COLUMN uid")
    pg_facets._CACHES.clear()
    assert shown(store, "officials") == oracle(pg_url, "officials")  # read as it is: facets still right
    store.add([synthetic(1, start=200)[0]])  # the next writer brings the archive up to date
    with psycopg.connect(pg_url) as conn:
        seq_index = conn.execute("SELECT to_regclass(%s)", (f"{SCHEMA}.articles_seq",)).fetchone()[0]
        uid = conn.execute(f"SELECT uid FROM {SCHEMA}.meta").fetchone()[0]
    assert seq_index is not None and uid is not None
    total, counts = shown(store, "officials")
    assert total == 11 and counts  # a positive control: the new article is counted
    assert (total, counts) == oracle(pg_url, "officials")


def _places_oracle(url: str, word: str, limit: int) -> list[tuple[int, int]]:
    with psycopg.connect(url) as conn:
        return [tuple(r) for r in conn.execute(
            f"SELECT p, count(*) AS n FROM {SCHEMA}.articles, unnest(pids) p "
            "WHERE tsv @@ plainto_tsquery('geoarchive.english', %s) GROUP BY p ORDER BY n DESC, p LIMIT %s",
            (word, limit)).fetchall()]


def test_the_maps_place_counts_come_from_the_cache_and_follow_changes(pg_url, store):
    articles = synthetic(40)
    store.add(articles)

    def mapped(limit: int) -> list[tuple[int, int]]:
        return [(pc.place.geonameid, pc.count)
                for pc in store.place_counts(parse_request({"q": "officials"}), limit=limit, top=0)]

    every = mapped(1000)
    assert len(every) > 3  # a positive control: several places, with counts
    assert every == _places_oracle(pg_url, "officials", 1000)
    assert mapped(2) == _places_oracle(pg_url, "officials", 2)  # the busiest first, ties by id
    assert pg_facets._CACHES  # counted over the facet cache, not by the server
    # A changed article (its places moved) and a deleted one: the counts follow.
    with store.writer() as w:
        w.add(dataclasses.replace(articles[0], mentions=articles[1].mentions))
        w.delete(articles[2].article.id)
    assert mapped(1000) == _places_oracle(pg_url, "officials", 1000)


def test_the_maps_place_rows_are_read_once_per_commit(pg_url, store, monkeypatch):
    """The map's place rows (name, point) are kept with the facet cache until the next commit: read
    from the server once, and again after a commit, which may have changed them."""
    from archive.store.postgres import places as pg_places

    articles = synthetic(40)
    store.add(articles[:30])
    made = []
    real = pg_places._place
    monkeypatch.setattr(pg_places, "_place", lambda row: made.append(row[0]) or real(row))

    def mapped() -> dict[int, str]:
        return {pc.place.geonameid: pc.place.name
                for pc in store.place_counts(parse_request({"q": "officials"}), limit=1000, top=0)}

    first = mapped()
    assert len(first) > 3 and len(made) == len(first)  # a positive control: every row read once
    gid = next(iter(first))
    with psycopg.connect(pg_url, autocommit=True) as conn:  # a row changed behind the app's back
        conn.execute(f"UPDATE {SCHEMA}.places SET name = 'Renamed place' WHERE gid = %s", (gid,))
    assert mapped() == first and len(made) == len(first)  # the same generation: no row read again
    store.add(articles[30:])  # a commit
    after = mapped()
    assert after[gid] == "Renamed place"
    assert {g: n for g, n in after.items() if g != gid} == {g: n for g, n in first.items() if g != gid}


def test_the_facets_labels_are_read_once_per_commit(pg_url, store, monkeypatch):
    """The facets' labels (place and country names) are kept with the facet cache until the next
    commit: asked of the server once, and again after a commit, which may have changed them."""
    from archive.store.postgres import search as pg_search

    articles = synthetic(40)
    store.add(articles[:30])
    asked = []
    real = pg_search.batch
    monkeypatch.setattr(pg_search, "batch", lambda conn, req, queries, **kw: (
        asked.extend(q[1] for q in queries if q and q[0] == pg_search._LABELS_SQL), real(conn, req, queries, **kw))[1])

    def labels() -> dict[tuple[str, str], str]:
        page = store.search(parse_request({"q": "officials"}))
        return {(name, fc.value): fc.label for name in ("place", "country") for fc in page.facets[name]}

    first = labels()
    places = [v for (name, v) in first if name == "place"]
    assert len(places) > 3 and any(name == "country" for name, _v in first)  # a positive control
    assert len(asked) == 1 and sorted(asked[0][0]) == sorted(int(v) for v in places)  # asked once, all of them
    gid = places[0]
    with psycopg.connect(pg_url, autocommit=True) as conn:  # a row changed behind the app's back
        conn.execute(f"UPDATE {SCHEMA}.places SET name = 'Renamed place' WHERE gid = %s", (int(gid),))
    assert labels() == first and len(asked) == 1  # the same generation: not asked again
    store.add(articles[30:])  # a commit
    after = labels()
    assert len(asked) == 2
    assert after[("place", gid)] == "Renamed place"
    assert {k: v for k, v in after.items() if k != ("place", gid)} == {
        k: v for k, v in first.items() if k != ("place", gid) and k in after}
