"""Writing, updating, deleting and stats: a contract run against every Store (tests/stores.py), plus
the Whoosh index's own locking, multi-process writing and posting lists."""

import datetime as dt
import os
import subprocess
import sys
import textwrap

import pytest

from archive.errors import IndexLockedError, IndexNotFoundError
from archive.models import Article, GeotaggedArticle, Mention, Place
from archive.store import open_store
from archive.store.query import parse_request
from archive.store.stored import content_hash
from archive.store.whoosh import index
from archive.store.whoosh.search import search
from archive.store.whoosh.segments import term_ids
from archive.store.whoosh.shelf import searching

JARABULUS = Place(169179, "Jarābulus", 36.8175, 38.01111, "SY", "PPLA2", 24997)
AZAZ = Place(172082, "I‘zāz", 36.58662, 37.04628, "SY", "PPLA2", 31534)


def mention(text, surface, place, field="text"):
    start = text.index(surface)
    return Mention(field, start, start + len(surface), surface, place, 0.9)


def make(article_id, title="Title", text="Some text about a town.", mentions=(), origin=None, **kw):
    article = Article(article_id, title, text, origin=origin or f"feed.jsonl:{article_id}", **kw)
    return GeotaggedArticle(article, tuple(mentions))


@pytest.fixture
def tagged():
    text = "Turkish troops entered Jarabulus. Shelling near A'zaz went on."
    return make(
        "a1", "Troops enter Jarabulus", text, date=dt.date(2016, 8, 24), source="Reuters", url="http://x/1",
        mentions=[mention(text, "Jarabulus", JARABULUS), mention(text, "A'zaz", AZAZ)],
    )


def test_add_and_get_article_round_trip(store, tagged):
    assert store.add([tagged]) == 1
    got = store.get_article("a1")
    assert got == tagged
    assert got.mentions[1].surface == "A'zaz" and got.mentions[1].place == AZAZ
    assert store.get_article("nope") is None


def test_re_adding_is_idempotent(store, tagged):
    store.add([tagged, make("a2")])
    store.add([tagged, make("a2")])
    assert store.stats().articles == 2
    assert store.search(parse_request({"q": "Jarabulus"})).total == 1


def test_commit_known_delete(store, tagged):
    with store.writer() as w:
        w.add(tagged)
        w.add(make("a2", origin="other.txt"))
        assert w.known() == {}  # nothing committed yet
        w.commit()
        known = w.known()
        assert known["a1"] == ("feed.jsonl:a1", content_hash(tagged.article))
        assert known["a2"][0] == "other.txt"
        w.delete("a2")
    with store.writer() as w:
        assert set(w.known()) == {"a1"}


def test_same_id_twice_in_one_batch_is_kept_once(store, tagged):
    with store.writer() as w:
        w.add(make("a1", text="first version"))
        w.add(tagged)
        w.add(make("a3"))
        w.delete("a3")
    assert store.stats().articles == 1
    assert store.get_article("a1") == tagged


def test_content_hash_ignores_origin_but_not_text():
    a = Article("x", "T", "body", origin="one.txt")
    assert content_hash(a) == content_hash(Article("x", "T", "body", origin="two.txt"))
    assert content_hash(a) != content_hash(Article("x", "T", "body changed", origin="one.txt"))


def test_stats(store, tagged):
    store.add([tagged, make("a2", text="Jarabulus again", mentions=[
        mention("Jarabulus again", "Jarabulus", JARABULUS)])])
    s = store.stats()
    assert (s.articles, s.places, s.mentions) == (2, 2, 3)
    assert s.bytes > 0
    assert set(s.to_dict()) == {"articles", "places", "mentions", "bytes"}


def test_missing_archive_is_reported(store):
    with pytest.raises(IndexNotFoundError, match="geoarchive ingest"):
        store.stats()
    with pytest.raises(IndexNotFoundError):
        store.search(parse_request({"q": "x"}))


def test_missing_whoosh_index_names_the_folder(tmp_path):
    ix = tmp_path / "index"
    ix.mkdir()  # an empty folder is no index either
    with pytest.raises(IndexNotFoundError, match="No search index in .*geoarchive ingest"):
        index.stats(ix)


def test_search_sees_new_commits(store, tagged):
    store.add([make("a2", text="copper mines")])
    assert store.search(parse_request({"q": "Jarabulus"})).total == 0
    generation = store.generation()
    store.add([tagged])
    assert store.generation() != generation
    assert store.search(parse_request({"q": "Jarabulus"})).total == 1


def test_error_inside_writer_keeps_committed_batches(store, tagged):
    with pytest.raises(RuntimeError):
        with store.writer() as w:
            w.add(tagged)
            w.commit()
            w.add(make("a2"))
            raise RuntimeError("boom")
    assert store.stats().articles == 1


def test_sigkill_keeps_committed_batches(archive_location):
    script = textwrap.dedent(f"""
        import os, signal
        from archive.store import open_store
        from archive.models import Article, GeotaggedArticle
        with open_store({archive_location!r}).writer() as w:
            for i in range(30):
                w.add(GeotaggedArticle(Article(f"k{{i}}", "T", "kept words")))
            w.commit()
            for i in range(30, 60):
                w.add(GeotaggedArticle(Article(f"k{{i}}", "T", "lost words")))
            os.kill(os.getpid(), signal.SIGKILL)
    """)
    proc = subprocess.run([sys.executable, "-c", script], cwd=os.getcwd(), capture_output=True)
    assert proc.returncode == -9, proc.stderr.decode()
    store = open_store(archive_location)
    assert store.stats().articles == 30
    assert store.search(parse_request({"q": "kept"})).total == 30
    with store.writer(timeout=1) as w:  # the kill released the lock (Whoosh)
        assert len(w.known()) == 30
    store.close()


# ---------------------------------------------------------------- the Whoosh index's own


def test_second_writer_waits_then_names_the_holder(tmp_path):
    ix = tmp_path / "ix"
    with index.open_writer(ix):
        with pytest.raises(IndexLockedError) as err:
            index.open_writer(ix, timeout=0.2)
    message = str(err.value)
    assert str(ix) in message and f"pid {os.getpid()}" in message
    with index.open_writer(ix, timeout=0.2):  # released on close
        pass


def test_multiprocess_multisegment_writer(tmp_path):
    ix = tmp_path / "ix"
    with index.open_writer(ix, procs=2, multisegment=True) as w:
        for i in range(40):
            w.add(make(f"m{i}", text=f"copper report number {i}"))
        w.commit()
        for i in range(40, 60):
            w.add(make(f"m{i}", text=f"copper report number {i}"))
    assert index.stats(ix).articles == 60
    assert search(ix, parse_request({"q": "copper"})).total == 60


def test_term_ids_reads_every_posting_block(tmp_path):
    ix = tmp_path / "ix"
    index.add_articles(ix, [make(f"d{i}", text=f"common words here {'rare' if i % 7 == 0 else ''}")
                            for i in range(700)])
    with index.open_writer(ix) as w:  # one deletion, so postings come wrapped in a filter
        w.delete("d3")
    with searching(ix) as lease:
        reader = lease.searcher.reader()
        for word in (b"common", b"rare", b"absent"):
            expected = sorted(
                d for sub, off in reader.leaf_readers() if (("text", word) in sub)
                for d in (i + off for i in sub.postings("text", word).all_ids())
            )
            got = sorted(
                int(d) + off for sub, off in reader.leaf_readers() for d in term_ids(sub, "text", word)
            )
            assert set(expected) <= set(got)  # term_ids also returns deleted docs; callers mask them
            assert len(got) - len(expected) <= 1
    assert search(ix, parse_request({"q": "common"})).total == 699
    assert search(ix, parse_request({"q": "rare"})).total == 100


def test_the_schema_pickle_keeps_the_fold_filter_name_older_indexes_recorded(tmp_path):
    """Whoosh pickles the schema into each index; FoldFilter (now in schema.py) keeps its recorded name."""
    import pickle

    from archive.store.whoosh.schema import FoldFilter

    ix = tmp_path / "ix"
    index.add_articles(ix, [make("f1", text="Azaz and Aleppo")])
    tocs = [p.read_bytes() for p in ix.glob("*.toc")]
    assert tocs and all(b"FoldFilter" in t for t in tocs)  # the class is in the pickle at all
    assert all(b"archive.store.whoosh.index\nFoldFilter" in t for t in tocs)
    # An index written before the split names the class so; it must still resolve to it.
    assert pickle.loads(b"carchive.store.whoosh.index\nFoldFilter\n.") is FoldFilter
    assert search(ix, parse_request({"q": "aleppo"})).total == 1  # and the index opens
