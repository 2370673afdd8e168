"""Ingest end to end: files -> articles -> geotagged articles -> the index.

This module only orchestrates. Reading belongs to ``ingest``, place finding to
``geotag`` and writing to ``index``; here we decide what to (re)index, run the
geotagger on every core, commit in batches so that a crash loses at most the
batches in flight, and account for every input in an ``IngestReport``.

A batch is handed to the store with ``StoreWriter.commit_later``: PostgreSQL writes it on a
thread of its own (the server does the work) while the next batch is read and geotagged, so
the two overlap; Whoosh, whose writer indexes in this process, commits at once.
"""

from __future__ import annotations

import itertools
import logging
import multiprocessing
import os
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from archive.errors import ArchiveError
from archive.models import Article, GeotaggedArticle, IngestReport, Skipped
from archive.reading import files as ingest
from archive.store import Store, open_store
from archive.store.stored import content_hash

logger = logging.getLogger(__name__)

#: Articles per commit into Whoosh (PostgreSQL's writer has its own default_batch). A SIGKILL
#: loses at most two batches (one being written, one being filled) plus those being tagged.
#: Whoosh merges small segments at each commit (MERGE_SMALL); with 2,000-article batches the
#: 21st commit merged all earlier segments into one, a 2-minute stall that took the whole
#: corpus from 174 to 141 articles/s. 10,000-article batches leave a handful of segments
#: that it never needs to merge, and search is as fast on them (bench/search.py).
DEFAULT_BATCH = 10_000


@dataclass(frozen=True)
class IngestOptions:
    """How to run an ingest; every field has the CLI's default."""

    jobs: int = 0  # 0 = all cores
    dedupe: bool = True
    prune: bool = False
    index_procs: int = 1  # Whoosh writer processes (>1: one segment each, merged at the end)
    retag: bool = False  # re-tag unchanged articles too (after changing overrides or options)
    max_bytes: int = 10_000_000
    lock_timeout: float = 0.0
    batch: int | None = None  # articles per commit; None: the writer's default_batch, else DEFAULT_BATCH
    overrides: Path | None = None
    demonyms: bool = False  # tag "Syrian" as Syria (see archive.geo.geotag)
    infer_homes: bool = True  # infer a source's home from its articles (see archive.geo.home)
    fallback: FallbackSettings | None = None  # online geocoder for names the gazetteer lacks


@dataclass(frozen=True)
class FallbackSettings:
    """The optional online fallback: Nominatim behind an on-disk cache and a rate limit."""

    user_agent: str
    cache: Path
    url: str = "https://nominatim.openstreetmap.org"


Progress = Callable[[int, int], None]  # (files done, articles done)


def run_ingest(
    paths: Iterable[Path],
    store: Store | str | Path,
    options: IngestOptions | None = None,
    progress: Progress | None = None,
) -> IngestReport:
    """Read every file under ``paths``, geotag what is new or changed and store it.

    ``store`` is a :class:`~archive.store.Store`, or a folder or URL for
    :func:`~archive.store.open_store`.

    Raises IndexLockedError when another writer holds the index past the lock timeout.
    """
    options = options or IngestOptions()
    paths = [Path(p) for p in paths]
    report = IngestReport()
    started = time.perf_counter()

    if not isinstance(store, Store):
        store = open_store(store)
    with store.writer(timeout=options.lock_timeout, procs=options.index_procs) as writer:
        known = writer.known()
        seen_ids: set[str] = set()
        read_origins: set[str] = set()
        selected = _select(paths, options, known, seen_ids, read_origins, report, progress)
        batch = options.batch or writer.default_batch or DEFAULT_BATCH
        pending = 0
        for ga in _tag_all(selected, options):
            writer.add(ga)
            report.mentions += len(ga.mentions)
            if ga.article.id in known:
                report.updated += 1
            else:
                report.added += 1
            pending += 1
            _tick(report, progress)
            if pending >= batch:
                writer.commit_later()  # PostgreSQL writes it while the next batch is geotagged
                pending = 0
        if options.prune:
            report.pruned = _prune(writer, known, seen_ids, read_origins)
    report.seconds = time.perf_counter() - started
    return report


def _tick(report: IngestReport, progress: Progress | None) -> None:
    if progress:
        progress(report.files, report.added + report.updated + report.unchanged + report.duplicates)


def _select(paths, options, known, seen_ids, read_origins, report, progress) -> Iterator[Article]:
    """Yield the articles that need (re)indexing; count the rest in ``report``."""
    dedupe_keys: set[str] = set()

    def on_skip(skipped: Skipped) -> None:
        report.skipped.append(skipped)  # the caller prints them all in its summary

    for path in ingest.iter_files(paths):
        report.files += 1
        read_origins.add(str(path))
        for article in ingest.read_file(
            path, max_bytes=options.max_bytes, on_skip=on_skip, on_warning=report.warnings.append
        ):
            report.read += 1
            if article.id in seen_ids:
                report.duplicates += 1
                _tick(report, progress)
                continue
            if options.dedupe:
                keys = ingest.dedupe_keys(article)
                if any(key in dedupe_keys for key in keys):
                    report.duplicates += 1
                    _tick(report, progress)
                    continue
                dedupe_keys.update(keys)
            seen_ids.add(article.id)
            old = known.get(article.id)
            if old is not None and not options.retag and old[1] == content_hash(article):
                report.unchanged += 1
                _tick(report, progress)
                continue
            yield article


def _prune(writer, known, seen_ids, read_origins) -> int:
    """Delete articles whose source file is gone, or that a re-read file no longer holds."""
    pruned = 0
    for article_id, (origin, _hash) in known.items():
        if article_id in seen_ids or not origin:
            continue
        origin_file = _origin_file(origin)
        if origin_file is None:
            continue
        if origin_file in read_origins or not os.path.exists(origin_file):
            writer.delete(article_id)
            pruned += 1
    return pruned


def _origin_file(origin: str) -> str | None:
    """The local file an origin names, or None for URLs."""
    if "://" in origin:
        return None
    return origin


# -- geotagging on every core -------------------------------------------------

_worker_tagger = None


def _init_worker(options: IngestOptions) -> None:
    global _worker_tagger  # one tagger per worker process, built once
    _worker_tagger = make_tagger(options)


def _tag_one(article: Article) -> GeotaggedArticle:
    assert _worker_tagger is not None, "_init_worker runs first in every worker"
    return _worker_tagger.geotag(article)


def make_tagger(options: IngestOptions):
    """The Geotagger that ``options`` describe (overrides, demonyms, online fallback)."""
    from archive.geo.geotag import Geotagger
    from archive.geo.overrides import load_overrides

    fallback = None
    if options.fallback is not None:
        from urllib.parse import urlsplit

        from archive.geo.fallback import nominatim_fallback

        url = urlsplit(options.fallback.url)
        try:
            cached = nominatim_fallback(options.fallback.user_agent, options.fallback.cache,
                                        domain=url.netloc + url.path.rstrip("/"), scheme=url.scheme or "https")
        except ValueError as e:
            raise ArchiveError(str(e)) from e
        fallback = cached.geocode
    overrides = load_overrides(options.overrides) if options.overrides else None
    return Geotagger(overrides=overrides, demonyms=options.demonyms, fallback=fallback,
                     infer_homes=options.infer_homes)


def _tag_all(articles: Iterator[Article], options: IngestOptions) -> Iterator[GeotaggedArticle]:
    jobs = options.jobs or os.cpu_count() or 1
    if jobs <= 1 or options.fallback is not None:  # one process keeps the service's rate limit
        tagger = make_tagger(options)
        for article in articles:
            yield tagger.geotag(article)
        return
    # Build the tagger here first: the gazetteer cache then exists before the workers
    # race to compile it, and a bad overrides file fails once, before any worker starts.
    make_tagger(options)
    ctx = multiprocessing.get_context("forkserver" if os.name == "posix" else "spawn")
    # Pool.imap would read the whole input ahead of the workers; feed them in blocks
    # instead, one block in flight while the previous one is written, so memory stays
    # bounded and the progress bar counts what has really been indexed.
    block = 64 * jobs
    with ctx.Pool(jobs, initializer=_init_worker, initargs=(options,)) as pool:
        pending = None
        while True:
            chunk = list(itertools.islice(articles, block))
            submitted = pool.map_async(_tag_one, chunk, chunksize=8) if chunk else None
            if pending is not None:
                yield from pending.get()
            if submitted is None:
                return
            pending = submitted
