"""Copying an archive from one store to another (Whoosh -> PostgreSQL and back).

Articles travel with their stored mentions, so nothing is geotagged again. The target is
written in batches, each one commit; a copy that is killed keeps its finished batches, and
running it again skips every article the target already holds with the same content hash
(the target writer's ``known()``), so it resumes where it stopped.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from archive.errors import ArchiveError
from archive.store.base import Store
from archive.store.stored import content_hash

#: Articles per commit into the target (the ingest default: see archive.pipeline.DEFAULT_BATCH).
DEFAULT_COPY_BATCH = 10_000


@dataclass
class CopyReport:
    """What one copy did."""

    copied: int = 0  # new in the target or changed there
    unchanged: int = 0  # already in the target with the same content hash (a resumed copy)
    mentions: int = 0
    seconds: float = 0.0


def copy_archive(source: Store, target: Store, *, batch: int = DEFAULT_COPY_BATCH, lock_timeout: float = 0.0,
                 progress: Callable[[int], None] | None = None) -> CopyReport:
    """Copy every article of ``source`` (with its mentions) into ``target``; return a report.

    Articles of the target that the source lacks are left alone. ``progress`` is called
    with the number of source articles handled so far.

    Raises ArchiveError when source and target are the same archive.
    """
    if source.location == target.location:
        raise ArchiveError(f"Source and target are the same archive ({source.location}); give another TARGET.")
    if batch < 1:
        raise ArchiveError(f"The batch size must be at least 1, not {batch!r}.")
    report = CopyReport()
    started = time.perf_counter()
    source.stats()  # raises IndexNotFoundError before the target is created when there is nothing to copy
    with target.writer(timeout=lock_timeout) as writer:
        known = writer.known()
        pending = 0
        for ga in source.iter_articles():
            old = known.get(ga.article.id)
            if old is not None and old[1] == content_hash(ga.article):
                report.unchanged += 1
            else:
                writer.add(ga)
                report.copied += 1
                report.mentions += len(ga.mentions)
                pending += 1
                if pending >= batch:
                    writer.commit()
                    pending = 0
            if progress is not None:
                progress(report.copied + report.unchanged)
    report.seconds = time.perf_counter() - started
    return report
