"""Place centrality in the Whoosh index: the ``about=`` filter and ranking by centrality.

Each article stores one ``pcent`` term per place, ``gid|NNN`` (centrality in percent, see
``archive.store.centrality``), so a place's centralities are the few terms under the prefix
``gid|``, read straight from their posting lists like every other filter here.
"""

from __future__ import annotations

import numpy as np
from whoosh.collectors import TopCollector

from archive.store.centrality import ABOUT_THRESHOLD, RANK_FLOOR, percent
from archive.store.stored import parse_centrality_term
from archive.store.whoosh.segments import term_ids

FIELD = "pcent"


def percents(reader, n: int, gids) -> np.ndarray:
    """Per doc of one segment: the highest centrality (percent) it gives any of ``gids``, else 0."""
    out = np.zeros(n, dtype=np.int16)
    for gid in gids:
        for term in reader.expand_prefix(FIELD, f"{gid}|"):
            ids = term_ids(reader, FIELD, term)
            if len(ids):
                pct = parse_centrality_term(term.decode("utf-8"))[1]
                out[ids] = np.maximum(out[ids], pct)
    return out


def about_mask(reader, n: int, gid: int) -> np.ndarray:
    """Docs of one segment that are about the place: centrality at least ABOUT_THRESHOLD."""
    return percents(reader, n, (gid,)) >= percent(ABOUT_THRESHOLD)


def order_by_centrality(masks, offsets, cents, days, limit: int) -> tuple[list[int], list[float]]:
    """The first ``limit`` masked docs (global docnums), most central first, then newest, then docnum."""
    docs, pcts, dated = [], [], []
    for mask, offset, cent, day in zip(masks, offsets, cents, days, strict=True):
        local = np.flatnonzero(mask)
        docs.append(local + offset)
        pcts.append(cent[local].astype(np.int64))
        dated.append(day[local].astype(np.int64))
    if not docs:
        return [], []
    doc, pct, day = np.concatenate(docs), np.concatenate(pcts), np.concatenate(dated)
    day = np.where(day <= 0, np.iinfo(np.int64).max, -day)  # newest first, undated last
    order = np.lexsort((doc, day, -pct))[:limit]
    return doc[order].tolist(), (pct[order] / 100.0).tolist()


def rank_factors(leaves, total: int, gids) -> np.ndarray:
    """Per global docnum, the factor a text score is scaled by: RANK_FLOOR + (1 - RANK_FLOOR) * centrality."""
    out = np.full(total, RANK_FLOOR, dtype=np.float64)
    for sub, offset, data in leaves:
        n = data["n"]
        out[offset:offset + n] += (1.0 - RANK_FLOOR) * percents(sub.reader(), n, gids) / 100.0
    return out


def weighted(collector_class: type[TopCollector], factors: np.ndarray):
    """An instance-maker for ``collector_class`` whose scores are scaled by ``factors[docnum]``.

    The factors are at most 1, so Whoosh's skipping of blocks that cannot beat the current
    top scores (their unscaled bound) stays correct.
    """

    class Weighted(collector_class):
        def _collect(self, global_docnum, score):
            return super()._collect(global_docnum, score * factors[global_docnum])

    return Weighted


def pairs(reader, vocab: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(doc, place code, centrality percent) for every (article, place) of one segment.

    Codes index ``vocab`` (the segment's ``pid`` values), as in ``facets.Column``.
    """
    code_of = {v: i for i, v in enumerate(vocab)}
    owners, codes, pcts = [], [], []
    for term in reader.lexicon(FIELD):
        gid, pct = parse_centrality_term(term.decode("utf-8"))
        code = code_of.get(str(gid))
        if code is None:
            continue
        ids = term_ids(reader, FIELD, term)
        owners.append(ids)
        codes.append(np.full(len(ids), code, dtype=np.int32))
        pcts.append(np.full(len(ids), pct, dtype=np.int16))
    if not owners:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty.astype(np.int32), empty.astype(np.int16)
    return np.concatenate(owners), np.concatenate(codes), np.concatenate(pcts)


def top_docs(pair_arrays, vocab: list[str], mask: np.ndarray, keys: np.ndarray, k: int):
    """For each place, up to ``k`` masked docs most central to it (ties: smallest ``keys``).

    Returns place value -> [((-percent, key), doc)], the sort key first, like ``Column.top_docs``.
    """
    owner, code, pct = pair_arrays
    sel = mask[owner] if len(owner) else np.zeros(0, dtype=bool)
    owner, code, pct = owner[sel], code[sel], pct[sel].astype(np.int64)
    if not len(owner):
        return {}
    order = np.lexsort((keys[owner], -pct, code))
    owner, code, pct = owner[order], code[order], pct[order]
    starts = np.flatnonzero(np.r_[True, code[1:] != code[:-1]])
    first = np.repeat(starts, np.diff(np.r_[starts, len(code)]))
    keep = np.arange(len(code)) - first < k
    out: dict[str, list] = {}
    for c, doc, p in zip(code[keep].tolist(), owner[keep].tolist(), pct[keep].tolist(), strict=True):
        out.setdefault(vocab[c], []).append(((-p, int(keys[doc])), doc))
    return out
