"""The Whoosh store's :meth:`~archive.store.base.Store.coverage`: sources and date span from the facet columns."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

from archive.models import Coverage
from archive.store.whoosh.segments import _leaves, _live
from archive.store.whoosh.shelf import searching


def coverage(index_dir: Path) -> Coverage:
    """Sources with article counts, oldest and newest dates, undated articles: one pass over the columns."""
    with searching(index_dir) as lease:
        if lease.searcher.doc_count() == 0:
            return Coverage()
        sources: Counter[str] = Counter()
        first = last = None
        undated = 0
        for sub, _off, data in _leaves(lease):
            live = _live(sub, data["n"])
            if not live.any():
                continue
            sources.update(data["source"].count(live))
            days = data["day"][live]
            dated = days[days > 0]
            undated += int(len(days) - len(dated))
            if len(dated):
                lo, hi = int(dated.min()), int(dated.max())
                first = lo if first is None else min(first, lo)
                last = hi if last is None else max(last, hi)
    return Coverage(
        sources=tuple(sorted(sources.items(), key=lambda kv: (-kv[1], kv[0]))),
        first=dt.date.fromordinal(first) if first else None,
        last=dt.date.fromordinal(last) if last else None,
        undated=undated,
    )
