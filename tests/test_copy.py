"""`geoarchive copy`: Whoosh -> PostgreSQL -> Whoosh with the stored mentions, and resuming after a kill."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time

import pytest
import webfixtures as wf
from click.testing import CliRunner

from archive.cli import cli
from archive.errors import ArchiveError
from archive.models import Article, GeotaggedArticle
from archive.store import open_store
from archive.store.query import parse_request
from archive.store.transfer import copy_archive

PLACES = [wf.JARABULUS, wf.AZAZ, wf.SYRIA, wf.MOSCOW, wf.LAOS, wf.USA, wf.KYIV]


def synthetic(n: int, start: int = 0) -> list[GeotaggedArticle]:
    """``n`` articles naming one or two places each, with their mentions (no geotagging needed)."""
    out = []
    for i in range(start, start + n):
        a, b = PLACES[i % len(PLACES)], PLACES[(i * 3 + 1) % len(PLACES)]
        text = f"Officials in {a.name} met envoys from {b.name} about item {i}. " * 5
        mentions = (wf.mention(text, a.name, a), wf.mention(text, b.name, b, score=0.5, occurrence=1))
        article = Article(f"c{i:05d}", f"Report {i} from {a.name}", text, dt.date(2019, 1 + i % 12, 1 + i % 28),
                          f"https://example.org/{i}", "Wire", None, None)
        out.append(GeotaggedArticle(article, mentions))
    return out


def everything(store) -> dict[str, GeotaggedArticle]:
    articles = {ga.article.id: ga for ga in store.iter_articles()}
    assert articles, "the store is empty"
    return articles


@pytest.fixture
def whoosh_source(tmp_path):
    store = open_store(tmp_path / "source")
    store.add(wf.articles() + synthetic(40))
    yield store
    store.close()


def test_whoosh_to_postgres_to_whoosh_keeps_every_article_and_mention(whoosh_source, pg_url, tmp_path):
    runner = CliRunner()
    result = runner.invoke(cli, ["copy", "-q", str(whoosh_source.location), pg_url])
    assert result.exit_code == 0, result.output
    total = whoosh_source.stats().articles
    assert f"Copied {total} articles" in result.output
    back = tmp_path / "back"
    result = runner.invoke(cli, ["copy", "-q", pg_url, str(back)])
    assert result.exit_code == 0, result.output

    original = everything(whoosh_source)
    pg, returned = open_store(pg_url), open_store(back)
    try:
        assert len(original) == total == pg.stats().articles == returned.stats().articles
        assert everything(pg) == original
        assert everything(returned) == original
        hostile = wf.hostile()
        assert pg.get_article(hostile.article.id) == hostile  # untrusted text and places as they were
        assert any(ga.mentions for ga in original.values())
        # The mentions travelled: place search finds the same articles in all three.
        request = parse_request({"place": str(wf.AZAZ.geonameid), "per_page": "100"})
        ids = [{h.id for h in s.search(request).hits} for s in (whoosh_source, pg, returned)]
        assert ids[0] and ids[0] == ids[1] == ids[2]
        assert pg.stats().mentions == whoosh_source.stats().mentions
    finally:
        pg.close()
        returned.close()


def test_a_copy_resumes_where_a_failed_one_stopped(whoosh_source, pg_url):
    class Breaks:
        """The source, failing after 25 articles (a dropped connection, a full disk...)."""

        location = "breaking source"

        def stats(self):
            return whoosh_source.stats()

        def iter_articles(self):
            for n, ga in enumerate(whoosh_source.iter_articles()):
                if n == 25:
                    raise OSError("disk gone")
                yield ga

    target = open_store(pg_url)
    try:
        with pytest.raises(OSError, match="disk gone"):
            copy_archive(Breaks(), target, batch=10)
        assert target.stats().articles == 20  # two whole batches; the third was rolled back
        report = copy_archive(whoosh_source, target, batch=10)
        total = whoosh_source.stats().articles
        assert (report.unchanged, report.copied) == (20, total - 20)
        assert everything(target) == everything(whoosh_source)
    finally:
        target.close()


def test_copy_refuses_a_missing_source_and_itself(tmp_path, pg_url):
    runner = CliRunner()
    result = runner.invoke(cli, ["copy", str(tmp_path / "nothing"), pg_url])
    assert result.exit_code == 1
    assert "No search index in" in result.output
    store = open_store(tmp_path / "x")
    with pytest.raises(ArchiveError, match="same archive"):
        copy_archive(store, open_store(tmp_path / "x"))


def test_sigkill_mid_copy_keeps_whole_batches_and_a_rerun_completes(tmp_path, pg_url):
    n, batch = 3000, 100
    source = open_store(tmp_path / "big")
    source.add(synthetic(n))
    cmd = [sys.executable, "-m", "archive", "copy", "-q", "--batch-size", str(batch), str(source.location), pg_url]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    target = open_store(pg_url)
    try:
        deadline = time.monotonic() + 120
        count = 0
        while time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
            try:
                count = target.stats().articles
            except ArchiveError:  # tables not created yet
                continue
            if count >= 2 * batch:
                break
        assert proc.poll() is None, "copy finished before it could be killed; make the source larger"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        after_kill = target.stats().articles
        assert after_kill >= count >= 2 * batch
        assert after_kill % batch == 0 and after_kill < n  # whole batches only
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stderr
        assert f"Copied {n - after_kill} articles" in result.stdout
        assert f"({after_kill} already there)" in result.stdout
        assert target.stats().articles == n
    finally:
        if proc.poll() is None:
            proc.kill()
        target.close()
        source.close()


def test_every_store_streams_every_article_once(store):
    docs = synthetic(1234)  # more than one of PostgreSQL's reads (500)
    store.add(docs)
    streamed = [ga.article.id for ga in store.iter_articles()]
    assert len(streamed) == len(set(streamed)) == 1234
    assert everything(store) == {ga.article.id: ga for ga in docs}
