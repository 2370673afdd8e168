"""Ingest under stress: parallel tagging, duplicates, crashes and concurrent writers, with real processes;
run against every Store (tests/stores.py) except the Whoosh index's own writer lock and writer processes."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from archive.errors import IndexLockedError
from archive.pipeline import IngestOptions, run_ingest
from archive.store import open_store
from archive.store.query import parse_request
from archive.store.whoosh.index import open_writer

CITIES = ["Aleppo", "Mosul", "Nairobi", "Lima", "Kyiv", "Manila", "Dhaka", "Lagos", "Quito", "Hanoi"]


def write_jsonl(path: Path, n: int, *, start: int = 0) -> Path:
    with open(path, "w", encoding="utf-8") as f:
        for i in range(start, start + n):
            city = CITIES[i % len(CITIES)]
            text = f"Officials in {city} reported item {i} on Monday. " * 20
            f.write(json.dumps({"id": f"a{i}", "title": f"Report {i} from {city}", "text": text}) + "\n")
    return path


def geoarchive(*args: str) -> list[str]:
    return [sys.executable, "-m", "archive", *args]


def stats(location):
    store = open_store(location)
    try:
        return store.stats()
    finally:
        store.close()


def search(location, request):
    store = open_store(location)
    try:
        return store.search(request)
    finally:
        store.close()


def test_parallel_tagging_gives_the_same_index_as_one_process(tmp_path, make_store):
    src = write_jsonl(tmp_path / "a.jsonl", 60)
    one, two = make_store.location(), make_store.location()
    r1 = run_ingest([src], one, IngestOptions(jobs=1))
    r2 = run_ingest([src], two, IngestOptions(jobs=2))
    assert (r1.added, r1.mentions) == (r2.added, r2.mentions) == (60, r1.mentions)
    assert r1.mentions >= 60
    q = parse_request({"q": "Nairobi", "per_page": "100"})
    ids1 = {h.id: h.places for h in search(one, q).hits}
    ids2 = {h.id: h.places for h in search(two, q).hits}
    assert ids1 == ids2 and len(ids1) == 6


def test_duplicates_are_indexed_once_unless_dedupe_is_off(tmp_path, make_store):
    folder = tmp_path / "in"
    folder.mkdir()
    same = "Heavy rain flooded parts of Dhaka, Bangladesh, on Monday."
    (folder / "a.jsonl").write_text(
        json.dumps({"id": "x1", "title": "Floods", "text": same, "url": "https://example.org/floods"}) + "\n"
        + json.dumps({"id": "x2", "title": "Floods again", "text": same}) + "\n"
        + json.dumps({"id": "x3", "title": "Other", "text": "Quiet day in Lima.", "url": "https://example.org/floods"})
        + "\n"
    )
    report = run_ingest([folder], make_store.location(), IngestOptions(jobs=1))
    assert (report.added, report.duplicates) == (1, 2)
    report = run_ingest([folder], make_store.location(), IngestOptions(jobs=1, dedupe=False))
    assert (report.added, report.duplicates) == (3, 0)


def test_changed_articles_are_updated_and_unchanged_skipped(tmp_path, archive_location):
    src = write_jsonl(tmp_path / "a.jsonl", 5)
    index_dir = archive_location
    run_ingest([src], index_dir, IngestOptions(jobs=1))
    lines = src.read_text().splitlines()
    rec = json.loads(lines[0])
    rec["text"] = "The story moved to Nairobi and then to Lagos."
    lines[0] = json.dumps(rec)
    src.write_text("\n".join(lines) + "\n")
    report = run_ingest([src], index_dir, IngestOptions(jobs=1))
    assert (report.added, report.updated, report.unchanged) == (0, 1, 4)
    hits = search(index_dir, parse_request({"q": "Lagos"})).hits
    assert "a0" in {h.id for h in hits}


def test_sigkill_mid_ingest_keeps_committed_batches_and_a_rerun_completes(tmp_path, archive_location):
    n, batch = 1500, 100
    src = write_jsonl(tmp_path / "big.jsonl", n)
    index_dir = archive_location
    cmd = geoarchive("ingest", "-q", "-j", "1", "--batch-size", str(batch), "--index", str(index_dir), str(src))
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        count = 0
        while time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.2)
            try:
                count = stats(index_dir).articles
            except Exception:  # not created yet
                continue
            if count >= 2 * batch:
                break
        assert proc.poll() is None, "ingest finished before it could be killed; make the input larger"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    after_kill = stats(index_dir).articles
    assert after_kill >= count >= 2 * batch
    assert after_kill % batch == 0  # only whole batches, nothing half-written
    assert after_kill < n
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert f"{after_kill} unchanged" in result.stdout
    assert stats(index_dir).articles == n  # complete, and no duplicates


def test_a_second_whoosh_writer_waits_then_names_the_index_and_holder(tmp_path):
    index_dir = tmp_path / "ix"
    src = write_jsonl(tmp_path / "a.jsonl", 3)
    with open_writer(index_dir):
        started = time.monotonic()
        with pytest.raises(IndexLockedError) as e:
            run_ingest([src], index_dir, IngestOptions(jobs=1, lock_timeout=0.5))
        assert time.monotonic() - started >= 0.5
        assert str(index_dir) in str(e.value) and f"pid {os.getpid()}" in str(e.value)
        result = subprocess.run(
            geoarchive("ingest", "-q", "--lock-timeout", "0.2", "--index", str(index_dir), str(src)),
            capture_output=True, text=True, timeout=120,
        )
        assert result.returncode == 1
        assert "Error:" in result.stderr and str(index_dir) in result.stderr
    assert run_ingest([src], index_dir, IngestOptions(jobs=1)).added == 3


def test_searches_keep_working_during_an_ingest(tmp_path, archive_location):
    index_dir = archive_location
    run_ingest([write_jsonl(tmp_path / "first.jsonl", 10)], index_dir, IngestOptions(jobs=1))
    src = write_jsonl(tmp_path / "more.jsonl", 1200, start=10)
    cmd = geoarchive("ingest", "-q", "-j", "1", "--batch-size", "100", "--index", str(index_dir), str(src))
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    totals = []
    try:
        while proc.poll() is None:
            totals.append(search(index_dir, parse_request({"q": "officials"})).total)
            time.sleep(0.05)
    finally:
        proc.wait(300)
    assert proc.returncode == 0
    assert len(totals) > 3 and min(totals) >= 10
    assert totals == sorted(totals)  # never goes backwards while batches land
    assert search(index_dir, parse_request({"q": "officials"})).total == 1210


def test_two_index_writers_give_the_same_index(tmp_path):
    src = write_jsonl(tmp_path / "a.jsonl", 80)
    one = run_ingest([src], tmp_path / "one", IngestOptions(jobs=1, batch=30))
    two = run_ingest([src], tmp_path / "two", IngestOptions(jobs=2, batch=30, index_procs=2))
    assert (one.added, one.mentions) == (two.added, two.mentions) == (80, one.mentions)
    assert stats(tmp_path / "one").articles == stats(tmp_path / "two").articles == 80
    q = parse_request({"q": "Lima", "per_page": "100"})
    assert {h.id for h in search(tmp_path / "one", q).hits} == {h.id for h in search(tmp_path / "two", q).hits}
    again = run_ingest([src], tmp_path / "two", IngestOptions(jobs=2, index_procs=2))
    assert (again.added, again.unchanged) == (0, 80)


def test_two_ingests_at_once_on_overlapping_inputs_lose_nothing_and_duplicate_nothing(tmp_path, archive_location):
    # Whoosh: the second waits for the first's lock; PostgreSQL: both write at once, batch by batch.
    first = write_jsonl(tmp_path / "first.jsonl", 400)
    second = write_jsonl(tmp_path / "second.jsonl", 400, start=200)  # a200..a399 in both
    cmds = [geoarchive("ingest", "-q", "-j", "1", "--batch-size", "50", "--lock-timeout", "300",
                       "--index", archive_location, str(src)) for src in (first, second)]
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for cmd in cmds]
    results = [(p.wait(300), *p.communicate()) for p in procs]
    assert [r[0] for r in results] == [0, 0], [r[2] for r in results]
    store = open_store(archive_location)
    assert store.stats().articles == 600
    hits = list(store.iter_hits(parse_request({"q": "officials"})))
    store.close()
    assert len(hits) == 600 and len({h.id for h in hits}) == 600
    assert {h.id for h in hits} == {f"a{i}" for i in range(600)}
