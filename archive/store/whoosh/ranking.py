"""Whoosh's BM25F scores for every match of a query, computed per segment with numpy.

Whoosh scores a query by stepping its matcher tree one document at a time (``skip_to``,
``id``, ``score`` on every node), which is most of a search request's CPU: totals and facets
are over the whole result set, so every match is visited. Here the same matcher tree is
built (``query.matcher(sub_searcher, context)``, as a Whoosh collector builds it) and then
read whole: each leaf's posting blocks become arrays of docnums and weights, scored with the
leaf's own scorer (``BM25FScorer._score`` on arrays), and each inner node combines its
children as its ``score()`` does (an intersection adds ``a + b``, a boost multiplies, ...),
in the same tree shape, so every score is the same float Whoosh would compute.

A tree holding a node this module does not know (Whoosh's preloaded ``Or`` arrays, sloppy
phrases ...) is not scored here: :func:`score_segment` returns None and the
caller lets Whoosh collect as before.
"""

from __future__ import annotations

import numpy as np
from whoosh.codec.whoosh3 import W3LeafMatcher
from whoosh.matching import binary, mcore, wrappers
from whoosh.query.spans import SpanNear2
from whoosh.scoring import BM25FScorer, WeightScorer

from archive.store.facets import masked_values

__all__ = ["score_segment", "top_docs"]


class _Unsupported(Exception):
    """A matcher node this module does not evaluate (the caller falls back to Whoosh)."""


def score_segment(sub, q, context, data: dict, lock) -> tuple[np.ndarray, np.ndarray] | None:
    """(match mask, scores) of ``q`` in one segment (deleted docs excluded), or None if unsupported.

    ``data`` is the segment's cached data (``segments._leaf_data``); field lengths are added to
    it on first use, under ``lock``.
    """
    try:
        m = q.matcher(sub, context)
        return _eval(m, sub.reader(), data, lock, {})
    except _Unsupported:
        return None


def top_docs(masks, scores, offsets, limit: int, factors=None) -> tuple[list[int], list[float]]:
    """The first ``limit`` matches by score (highest first, ties by docnum), as Whoosh's TopCollector.

    ``factors`` (per global docnum) scale each score first, as ``about.weighted`` does.
    """
    if not masks:
        return [], []
    doc, val = masked_values(masks, offsets, scores)
    if factors is not None:
        val = val * factors[doc]
    order = np.lexsort((doc, -val))[:limit]
    return doc[order].tolist(), val[order].tolist()


def _lengths(reader, data: dict, lock, fieldname: str) -> np.ndarray:
    """Per doc of the segment, the field length Whoosh's scorer reads (``doc_field_length``)."""
    key = f"len:{fieldname}"
    out = data.get(key)
    if out is None:
        with lock:
            out = data.get(key)
            if out is None:
                n = data["n"]
                out = np.fromiter((reader.doc_field_length(d, fieldname, 1) or 0 for d in range(n)),
                                  dtype=np.float64, count=n)
                data[key] = out
    return out


def _leaf_postings(m, memo: dict) -> tuple[np.ndarray, np.ndarray, list | None]:
    """(docnums, weights, raw values or None) of a whole leaf matcher, whatever its position.

    ``memo`` keeps them per matcher for one evaluation (a phrase's words are read for the
    intersection, then for their positions).
    """
    got = memo.get(id(m))
    if got is None:
        got = memo[id(m)] = (m, _read_leaf(m))
    return got[1]


def _read_leaf(m) -> tuple[np.ndarray, np.ndarray, list | None]:
    if type(m) is mcore.ListMatcher:
        ids = np.asarray(m._ids, dtype=np.int64)
        if m._all_weights:
            weights = np.full(len(ids), float(m._all_weights))
        elif m._weights:
            weights = np.asarray(m._weights, dtype=np.float64)
        else:
            weights = np.ones(len(ids))
        return ids, weights, list(m._values) if m._values is not None else None
    if type(m) is not W3LeafMatcher or m._byteids:
        raise _Unsupported(type(m).__name__)
    on_block, block_data = m._nextoffset, m._data
    m.reset()
    if m._nextoffset == on_block and block_data is not None:
        m._data = block_data  # still on the first block, already read while the tree was built
    id_chunks, weight_chunks, values = [], [], []
    while m.is_active():
        if m._data is None:
            m._read_data()
        deltas, weights, vals = m._data
        ids = np.cumsum(np.fromiter(deltas, dtype=np.int64, count=len(deltas)))
        id_chunks.append(ids)
        if weights is None:
            weight_chunks.append(np.ones(len(ids)))
        elif isinstance(weights, float):
            # Whoosh reads a block's one shared weight into a float32 array ("f").
            weight_chunks.append(np.full(len(ids), float(np.float32(weights))))
        else:
            weight_chunks.append(np.asarray(weights, dtype=np.float64))
        values.append(vals)
        m._next_block()
    if not id_chunks:
        return np.zeros(0, dtype=np.int64), np.zeros(0), []
    return np.concatenate(id_chunks), np.concatenate(weight_chunks), values


def _leaf(m, reader, data, lock, memo):
    n = data["n"]
    ids, weights, _values = _leaf_postings(m, memo)
    scorer = m._scorer if type(m) is mcore.ListMatcher else m.scorer
    if scorer is None or type(scorer) is WeightScorer:
        scores = weights
    elif type(scorer) is BM25FScorer:
        fieldname = m._term[0]
        scores = scorer._score(weights, _lengths(reader, data, lock, fieldname)[ids])
    else:
        raise _Unsupported(type(scorer).__name__)
    mask = np.zeros(n, dtype=bool)
    mask[ids] = True
    out = np.zeros(n)
    out[ids] = scores
    return mask, out


def _positions(m, candidates: np.ndarray, memo: dict) -> dict[int, set[int]]:
    """Positions of a leaf's term in each candidate doc (docnum -> set of positions)."""
    ids, _weights, values = _leaf_postings(m, memo)
    assert values is not None  # a phrase's words are read with their positions
    decode = m.format.decoder("positions")
    if type(m) is mcore.ListMatcher:
        flat = values
    else:
        flat = [v for block in values for v in block]
    where = np.flatnonzero(np.isin(ids, candidates))
    return {int(ids[i]): set(decode(flat[i])) for i in where}


def _phrase(m, reader, data, lock, memo):
    """An exact phrase (Whoosh's SpanNear2 with slop 1, ordered): its words' intersection, then positions."""
    if m.slop != 1 or not m.ordered or m.mindist != 1:
        raise _Unsupported("sloppy phrase")
    mask, scores = _eval(m.child, reader, data, lock, memo)
    candidates = np.flatnonzero(mask)
    if len(candidates):
        leaves = []
        for child in m.ms:
            if type(child) is wrappers.FilterMatcher:
                child = child.child
            if type(child) not in (W3LeafMatcher, mcore.ListMatcher):
                raise _Unsupported(type(child).__name__)
            leaves.append(_positions(child, candidates, memo))
        for doc in candidates.tolist():
            starts = leaves[0].get(doc, set())
            for i, word in enumerate(leaves[1:], 1):
                positions = word.get(doc, ())
                starts = {p for p in starts if p + i in positions}
                if not starts:
                    break
            if not starts:
                mask[doc] = False
    # SpanWrappingMatcher scores as a WrappingMatcher: the child's score times its boost.
    return mask, np.where(mask, scores * m.boost, 0.0)


def _eval(m, reader, data, lock, memo: dict) -> tuple[np.ndarray, np.ndarray]:
    """(mask, scores) of matcher ``m`` over the segment; scores are 0.0 outside the mask."""
    kind = type(m)
    n = data["n"]
    if kind is mcore.NullMatcherClass:
        return np.zeros(n, dtype=bool), np.zeros(n)
    if kind in (W3LeafMatcher, mcore.ListMatcher):
        return _leaf(m, reader, data, lock, memo)
    if kind is SpanNear2.SpanNear2Matcher:
        return _phrase(m, reader, data, lock, memo)
    if kind is wrappers.WrappingMatcher:
        mask, scores = _eval(m.child, reader, data, lock, memo)
        return mask, scores * m.boost
    if kind is wrappers.FilterMatcher:
        mask, scores = _eval(m.child, reader, data, lock, memo)
        ids = np.fromiter(m._ids, dtype=np.int64, count=len(m._ids))
        keep = np.zeros(n, dtype=bool)
        keep[ids[ids < n]] = True
        mask &= ~keep if m._exclude else keep
        return mask, np.where(mask, scores * m.boost, 0.0)
    if kind is wrappers.InverseMatcher:  # NOT: every doc below its limit that the child lacks
        mask, _scores = _eval(m.child, reader, data, lock, memo)
        mask = ~mask
        mask[min(m.limit, n):] = False
        if reader.has_deletions():  # its ``missing`` test: deleted docs are not matches
            mask[np.fromiter(reader.deleted_docs_set, dtype=np.int64)] = False
        return mask, np.where(mask, m._weight, 0.0)
    if kind in (binary.UnionMatcher, binary.IntersectionMatcher, binary.AndMaybeMatcher,
                binary.AndNotMatcher, wrappers.RequireMatcher):
        ma, sa = _eval(m.a, reader, data, lock, memo)
        mb, sb = _eval(m.b, reader, data, lock, memo)
        if kind is binary.UnionMatcher:
            return ma | mb, sa + sb  # 0.0 outside a mask: x + 0.0 is x, as Whoosh's one-sided score
        if kind is binary.IntersectionMatcher:
            mask = ma & mb
            return mask, np.where(mask, sa + sb, 0.0)
        if kind is binary.AndMaybeMatcher:
            return ma, sa + sb * ma
        mask = ma & ~mb if kind is binary.AndNotMatcher else ma & mb
        return mask, np.where(mask, sa, 0.0)
    raise _Unsupported(kind.__name__)
