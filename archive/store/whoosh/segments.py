"""Per-segment numpy data: posting lists as docnum arrays, facet columns, and query masks.

Each index segment's facet fields and days are turned into arrays once (kept while the
segment lives, see ``shelf.Lease.segments``); a query's matches and the request's filters are
computed per segment as boolean masks straight from the posting lists.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from whoosh import query as wq

from archive.store import geohash
from archive.store.facets import Column

FACET_FIELDS = {"country": "country", "place": "pid", "source": "src", "year": "year"}
_UNDATED = 2**31 - 1


def term_ids(reader, fieldname: str, btext: bytes) -> np.ndarray:
    """Docnums (deleted ones included) of a term in one segment reader, as a numpy array.

    Reads Whoosh's posting blocks directly (a pickled tuple of delta-encoded ids each) instead
    of stepping a matcher one id at a time (1.3-3x faster here; more where there are no positions).
    """
    if (fieldname, btext) not in reader:
        return np.zeros(0, dtype=np.int64)
    m = reader.postings(fieldname, btext)
    while hasattr(m, "child"):  # FilterMatcher wraps segments with deletions
        m = m.child
    if not (hasattr(m, "_read_data") and hasattr(m, "_next_block") and not getattr(m, "_byteids", True)):
        return np.fromiter(m.all_ids(), dtype=np.int64)  # inlined short lists and other codecs
    chunks = []
    while m.is_active():
        if m._data is None:
            m._read_data()
        deltas = m._data[0]
        chunks.append(np.cumsum(np.fromiter(deltas, dtype=np.int64, count=len(deltas))))
        m._next_block()
    return np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.int64)


def _leaves(lease) -> list[tuple[Any, int, dict]]:
    """(sub-searcher, offset, per-segment data) for each segment; the data is built once per segment."""
    out = []
    for sub, offset in lease.searcher.leaf_searchers():
        reader = sub.reader()
        if not reader.doc_count_all():
            # A fresh index (or an ingest whose files were all skipped) has one empty reader;
            # Whoosh's EmptyReader has no columns. No segment: every count is 0, every list empty.
            continue
        seg = reader.segment()
        key = seg.segment_id() if seg is not None else id(reader)
        data = lease.segments.get(key)
        if data is None:
            with lease.build_lock:
                data = lease.segments.get(key) or _leaf_data(reader)
                lease.segments[key] = data
        out.append((sub, offset, data))
    if len(lease.segments) > 2 * len(out) + 8:  # forget segments merged away by later commits
        with lease.build_lock:
            segments = [sub.reader().segment() for sub, _o, _d in out]
            live_ids = {seg.segment_id() for seg in segments if seg is not None}
            for key in [k for k in lease.segments if k not in live_ids]:
                lease.segments.pop(key, None)
    return out


def _leaf_data(reader) -> dict:
    n = reader.doc_count_all()
    data: dict = {"n": n}
    for name, field in FACET_FIELDS.items():
        vocab, postings = [], []
        for term in reader.lexicon(field):
            vocab.append(term.decode("utf-8"))
            postings.append(term_ids(reader, field, term))
        data[name] = Column.build(vocab, postings)
    days = np.fromiter(iter(reader.column_reader("sort_old")), dtype=np.int64, count=n)
    data["day"] = np.where(days >= _UNDATED, 0, days)
    # Nothing here may hold the reader's files: the data outlives the searcher that built it.
    return data


def _live(sub, n: int) -> np.ndarray:
    mask = np.ones(n, dtype=bool)
    reader = sub.reader()
    if reader.has_deletions():
        mask[np.fromiter(reader.deleted_docs_set, dtype=np.int64)] = False
    return mask


def _term_mask(sub, n: int, fieldname: str, text) -> np.ndarray:
    mask = np.zeros(n, dtype=bool)
    schema = sub.schema
    if fieldname in schema:
        btext = text if isinstance(text, bytes) else schema[fieldname].to_bytes(text)
        mask[term_ids(sub.reader(), fieldname, btext)] = True
    return mask


def _mask(sub, n: int, node) -> np.ndarray:
    """Docs of one segment matching ``node`` (deleted docs included), computed on whole posting lists."""
    if isinstance(node, wq.Term):
        return _term_mask(sub, n, node.fieldname, node.text)
    if isinstance(node, wq.Or):
        out = np.zeros(n, dtype=bool)
        for child in node.subqueries:
            out |= _mask(sub, n, child)
        return out
    if isinstance(node, wq.And):
        out = np.ones(n, dtype=bool)
        for child in sorted(node.subqueries, key=lambda c: isinstance(c, wq.Phrase)):
            if not out.any():
                break
            out &= _mask(sub, n, child)
        return out
    if isinstance(node, (wq.AndNot, wq.Require)):
        out = _mask(sub, n, node.a)
        if out.any():
            other = _mask(sub, n, node.b)
            out &= ~other if isinstance(node, wq.AndNot) else other
        return out
    if isinstance(node, wq.AndMaybe):
        return _mask(sub, n, node.a)
    if isinstance(node, wq.Not):
        return ~_mask(sub, n, node.query)
    if isinstance(node, wq.Every):
        return np.ones(n, dtype=bool)
    if isinstance(node, (wq.Wildcard, wq.Prefix, wq.FuzzyTerm, wq.TermRange)):
        out = np.zeros(n, dtype=bool)
        for btext in node._btexts(sub.reader()):
            out[term_ids(sub.reader(), node.fieldname, btext)] = True
        return out
    out = np.zeros(n, dtype=bool)  # phrases, numeric and date ranges: let Whoosh find them
    out[np.fromiter(node.docs(sub), dtype=np.int64)] = True
    return out


def _geo_mask(reader, n: int, area) -> np.ndarray:
    """Docs with a place in the area, from the geohash terms (exact edge test per place)."""
    boxes, inside = area
    mask = np.zeros(n, dtype=bool)
    seen = set()
    for box in boxes:
        for prefix in geohash.cover(*box):
            for term in reader.expand_prefix("geo", prefix):
                if term not in seen:
                    seen.add(term)
                    if inside(*geohash.decode(term.decode("ascii"))):
                        mask[term_ids(reader, "geo", term)] = True
    return mask
