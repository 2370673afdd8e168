"""archive.store.whoosh.ranking: every match scored with numpy gives Whoosh's own scores and order.

The reference is Whoosh itself, scoring every match one by one (a TopCollector without its
block-quality skipping), on a real index of several segments with deleted documents and
posting lists longer than one block.
"""

from __future__ import annotations

import datetime as dt
import random

import numpy as np
import pytest
from whoosh.collectors import TopCollector

from archive.models import Article, GeotaggedArticle, Mention, Place, SearchRequest
from archive.store import open_store
from archive.store.whoosh import ranking
from archive.store.whoosh.parsing import _parse_q
from archive.store.whoosh.search import _live, _rank_all
from archive.store.whoosh.segments import _leaves, _mask
from archive.store.whoosh.shelf import searching

ALEPPO = Place(170063, "Aleppo", 36.20124, 37.16117, "SY", "PPLA", 1602264)
LIMA = Place(3936456, "Lima", -12.04318, -77.02824, "PE", "PPLC", 7737002)
WORDS = ("market rally siege city border trade rebels bank grain harvest harbor harm hard white house court appeals "
         "new york police state news report the of to and in").split()


def _articles(start: int, count: int, rng: random.Random) -> list[GeotaggedArticle]:
    out = []
    for i in range(start, start + count):
        words = [rng.choice(WORDS) for _ in range(rng.randint(3, 60))]
        title = " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 6)))
        place = (ALEPPO, LIMA, None)[i % 3]
        if place is not None:
            words.insert(rng.randint(0, len(words)), place.name)
        text = " ".join(words).capitalize() + "."
        mentions = ()
        if place is not None:
            at = text.lower().index(place.name.lower())
            mentions = (Mention("text", at, at + len(place.name), place.name, place, 0.9),)
        out.append(GeotaggedArticle(Article(f"a{i}", title, text, dt.date(2016, 1, 1) + dt.timedelta(days=i),
                                            None, "Wire"), mentions))
    return out


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory):
    """Three segments (one commit each), with deletions, and terms in several posting blocks."""
    rng = random.Random(7)
    location = tmp_path_factory.mktemp("ranking") / "index"
    store = open_store(str(location))
    for start in (0, 400, 800):
        store.add(_articles(start, 400, rng))
    with store.writer() as writer:
        for i in range(0, 1200, 17):
            writer.delete(f"a{i}")
    store.close()
    return location


QUERIES = ["market", "white house", "market -rally", "siege OR grain", "Aleppo", "aleppo police",
           '"new york"', '"white house" court', 'title:"market rally" OR bank', "market^3 rally",
           "(siege OR trade) AND NOT bank", "title:court", "lima NOT aleppo", '"the siege of"',
           "harvest AND (grain OR report)", "place:Aleppo market", "mark*", "markit~", "market ANDMAYBE rally"]


def _whoosh_ranking(lease, q, limit, masks=None):
    """Whoosh's ranking, every match scored; with ``masks``, only the docs they hold.

    Whoosh's AndNotMatcher skips its excluded list forward only when both lists start on the
    same doc (``_find_first``), so a segment's first doc can leak into ``a -b``; the masks
    (``segments._mask``, the app's totals) do not have it.
    """
    top = TopCollector(limit=limit, usequality=False, replace=0)
    lease.searcher.search_with_collector(q, top)
    results = top.results()
    pairs = [(results.docnum(i), results.score(i)) for i in range(results.scored_length())]
    if masks is not None:
        allowed = {int(i) + off for m, (_s, off, _d) in zip(masks, _leaves(lease), strict=True)
                   for i in np.flatnonzero(m)}
        kept = [p for p in pairs if p[0] in allowed]
        assert len(pairs) - len(kept) <= len(masks)  # at most each segment's first doc
        pairs = kept
    return [d for d, _s in pairs], [s for _d, s in pairs]


@pytest.mark.parametrize("text", QUERIES)
def test_scores_and_order_are_whooshs(index_dir, text):
    with searching(index_dir) as lease:
        leaves = _leaves(lease)
        assert len(leaves) == 3 and any(sub.reader().has_deletions() for sub, _o, _d in leaves)
        q, named = _parse_q(lease, text)
        live = [_live(sub, d["n"]) for sub, _off, d in leaves]
        # Every segment was scored here (None would mean Whoosh ranked instead).
        one = [ranking.score_segment(sub, q, lease.searcher.context(), d, lease.build_lock)
               for sub, _off, d in leaves]
        assert all(x is not None for x in one)
        masks, ranked, scores = _rank_all(lease, leaves, live, q, SearchRequest(q=text), set(), 10_000)
        assert ranked, f"{text!r} should match something"
        for (sub, _off, d), mask, alive in zip(leaves, masks, live, strict=True):
            assert np.array_equal(mask, _mask(sub, d["n"], q) & alive)
        assert sum(int(m.sum()) for m in masks) == len(ranked)
        expected = _whoosh_ranking(lease, q, 10_000, masks)
        assert ranked == expected[0]
        assert scores == expected[1]  # the same floats, not merely close ones


def test_centrality_weighting_matches_whooshs(index_dir):
    from archive.store.whoosh import about

    with searching(index_dir) as lease:
        leaves = _leaves(lease)
        q, named = _parse_q(lease, "place:Aleppo market")
        assert named == {ALEPPO.geonameid}
        live = [_live(sub, d["n"]) for sub, _off, d in leaves]
        _masks, ranked, scores = _rank_all(lease, leaves, live, q, SearchRequest(q="place:Aleppo market"),
                                           named, 50)
        factors = about.rank_factors(leaves, lease.searcher.doc_count_all(), named)
        top = about.weighted(TopCollector, factors)(limit=50, usequality=False, replace=0)
        lease.searcher.search_with_collector(q, top)
        results = top.results()
        assert ranked and ranked == [results.docnum(i) for i in range(results.scored_length())]
        assert scores == [results.score(i) for i in range(results.scored_length())]


@pytest.mark.parametrize("text", ['"market rally"~3', "har*"])
def test_unsupported_trees_fall_back_to_whoosh(index_dir, text):
    """A sloppy phrase, and the preloaded Or Whoosh builds for a wildcard on a small index, are Whoosh's to rank."""
    store = open_store(str(index_dir))
    with searching(index_dir) as lease:
        sub, _off, d = _leaves(lease)[0]
        q, _named = _parse_q(lease, text)
        assert ranking.score_segment(sub, q, lease.searcher.context(), d, lease.build_lock) is None
        expected = _whoosh_ranking(lease, q, 20)
    page = store.search(SearchRequest(q=text))
    assert page.total > 0
    assert [h.score for h in page.hits] == expected[1]
    # Map counts (no top articles) want the matches only: Whoosh's collector still needs a limit of 1.
    counts = store.place_counts(SearchRequest(q=text), top=0)
    assert counts and counts == [c.__class__(c.place, c.count) for c in store.place_counts(SearchRequest(q=text))]


@pytest.mark.parametrize("text", ["market", "lima", "siege OR grain"])
def test_facet_counts_keep_what_top_facets_would(index_dir, text):
    """Facets summed across segments in numpy keep the values (and counts) a full count would keep."""
    from collections import Counter

    from archive.store.whoosh.search import FACET_FIELDS, _top_counts

    with searching(index_dir) as lease:
        leaves = _leaves(lease)
        q, _named = _parse_q(lease, text)
        live = [_live(sub, d["n"]) for sub, _off, d in leaves]
        masks, _ranked, _scores = _rank_all(lease, leaves, live, q, SearchRequest(q=text), set(), 20)
        checked = 0
        for name in FACET_FIELDS:
            full: Counter[str] = Counter()
            for (_s, _o, d), mask in zip(leaves, masks, strict=True):
                full.update(d[name].count(mask))
            assert full
            if name == "year":
                items = sorted(full.items(), reverse=True)
            else:
                items = sorted(full.items(), key=lambda kv: (-kv[1], kv[0]))
            for limit in (1, 2):
                for selected in ["", *full]:
                    expected = dict(items[:limit])
                    if selected:
                        expected[selected] = full[selected]
                    assert dict(_top_counts(lease, leaves, masks, name, limit, selected)) == expected
                    checked += 1
        assert checked > 20
