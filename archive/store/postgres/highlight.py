"""Snippets of one page of PostgreSQL hits: the project's highlighter (archive/store/snippet.py)
with the server's stemmer deciding which words match.

The server stems the query's words and phrases, and the candidate words found in the page's
bodies; stems already asked for are kept in this process (the text search configuration is
made by the schema, the same on every server), so most pages ask for few or none, and those
questions ride along with the page's other queries (search.py sends them in its pipelines).
Each body is scanned once: the candidate words found for the stem question are the ones
marked afterwards.
"""

from __future__ import annotations

import re

import psycopg

from archive.models import SearchRequest
from archive.store.postgres.compile import Compiled
from archive.store.postgres.schema import TS_CONFIG
from archive.store.query import STOP_WORDS
from archive.store.snippet import Highlighter, make_snippet, merge_spans

#: The lexemes of each of the query's words and phrases.
TEXT_STEMS_SQL = (f"SELECT t, array(SELECT DISTINCT unnest(tsvector_to_array(to_tsvector('{TS_CONFIG}', t)))) "
                  "FROM unnest(%s::text[]) AS t")
#: The lexeme of each word found in the hits' bodies (of a word the parser splits, the last part's).
WORD_STEMS_SQL = (f"SELECT w, (SELECT l.lexeme FROM unnest(to_tsvector('{TS_CONFIG}', w)) l "
                  "ORDER BY l.positions[1] DESC LIMIT 1) FROM unnest(%s::text[]) AS w")

#: Stems already asked of the server; emptied when one grows past _MAX_STEMS.
_TEXT_STEMS: dict[str, tuple[str, ...]] = {}
_WORD_STEMS: dict[str, str | None] = {}
_MAX_STEMS = 50_000  # a few MB per process
_STOP_STEMS: set[str] = set()
_MISSING = object()
_LOOKBEHIND = r"(?<!\w)"


def _known(cache: dict, keys) -> dict:
    """The entries of ``cache`` for ``keys`` (a copy: another thread may empty the cache meanwhile)."""
    found = ((k, cache.get(k, _MISSING)) for k in keys)
    return {k: v for k, v in found if v is not _MISSING}


def _remember(cache: dict, items) -> dict:
    """Add ``items`` (key, value) to ``cache``, emptied first when it would be full; returns them."""
    new = dict(items)
    if len(cache) + len(new) > _MAX_STEMS:
        cache.clear()
    cache.update(new)
    return new


def stop_stems(conn: psycopg.Connection) -> set[str]:
    """The stop words as the server's stemmer indexes them (asked once per process)."""
    if not _STOP_STEMS:
        (found,) = conn.execute(
            f"SELECT array(SELECT DISTINCT unnest(tsvector_to_array(to_tsvector('{TS_CONFIG}', t))) "
            "FROM unnest(%s::text[]) t)", (sorted(STOP_WORDS),)).fetchone() or ([],)
        _STOP_STEMS.update(found)
    return _STOP_STEMS


def candidates(pattern: re.Pattern[str], text: str) -> list[tuple[int, int, str]]:
    """(start, end, word) of each match of ``pattern`` (a snippet.candidate_pattern) in ``text``:
    the same matches as ``pattern.finditer(text)``, found faster.

    Python's regex engine scans for a case-insensitive alternation behind a look-behind one
    position at a time; on the lower-cased text, without the look-behind, it jumps to the
    possible first letters. A match inside a word (which the look-behind refuses) is skipped.
    """
    low = text.lower()
    if len(low) != len(text) or not pattern.pattern.startswith(_LOOKBEHIND):
        return [(m.start(), m.end(), m.group(0)) for m in pattern.finditer(text)]
    fast = re.compile(pattern.pattern[len(_LOOKBEHIND):])  # re's own cache keeps the compiled form
    out = []
    pos = 0
    search = fast.search
    while (m := search(low, pos)) is not None:
        start = m.start()
        if start and (low[start - 1].isalnum() or low[start - 1] == "_"):
            pos = start + 1  # inside a word: the look-behind refuses it; look again just after
            continue
        out.append((start, m.end(), text[start:m.end()]))
        pos = m.end()
    return out


class PageSnippets:
    """Snippets for one page: first the query's stems (:meth:`texts_query`, :meth:`add_texts`),
    then the page's bodies (:meth:`scan`, :meth:`add_words`), then :meth:`snippet` per hit."""

    def __init__(self, compiled: Compiled | None, req: SearchRequest):
        self.compiled, self.req = compiled, req
        self.texts = list(compiled.texts) if compiled is not None else []
        self.text_stems = _known(_TEXT_STEMS, self.texts)
        self.word_stems: dict[str, str | None] = {}
        self.found: list[list[tuple[int, int, str]]] = []
        self.highlight: Highlighter | None = None

    def marks_mentions(self) -> bool:
        """Whether snippets mark stored mentions (of places the query or the filter names): the
        hits' ``mentions`` are read only then."""
        return self.req.place is not None or (self.compiled is not None and bool(self.compiled.gids))

    def texts_query(self) -> tuple[str, list] | None:
        """The query asking the stems of the query's words not known yet (None: all known)."""
        missing = sorted(set(self.texts) - self.text_stems.keys())
        return (TEXT_STEMS_SQL, [missing]) if missing else None

    def add_texts(self, rows) -> None:
        self.text_stems.update(_remember(_TEXT_STEMS, ((t, tuple(lex)) for t, lex in rows or ())))

    def scan(self, bodies: list[str], stop: set[str]) -> tuple[str, list] | None:
        """Find the candidate words of ``bodies``; the query asking the stems not known yet."""
        stems: set[str] = set()
        placewords: set[str] = set()
        gids: set[int] = set()
        if self.compiled is not None:
            stems |= self.compiled.lexemes
            placewords |= self.compiled.placewords
            gids |= self.compiled.gids
            for text in self.texts:
                stems.update(self.text_stems.get(text, ()))
        if stems - stop:
            stems -= stop  # mark "siege" and "Aleppo" of "siege of Aleppo", not every "of" (as Whoosh)
        if self.req.place is not None:
            gids.add(self.req.place)
        word_stems = self.word_stems
        self.highlight = Highlighter(stems, placewords, gids, lambda word: word_stems.get(word.lower()))
        pattern = self.highlight.pattern
        self.found = [candidates(pattern, body) if pattern is not None and body else [] for body in bodies]
        words = {w.lower() for found in self.found for _s, _e, w in found}
        word_stems.update(_known(_WORD_STEMS, words))
        missing = sorted(words - word_stems.keys())
        return (WORD_STEMS_SQL, [missing]) if missing else None

    def add_words(self, rows) -> None:
        self.word_stems.update(_remember(_WORD_STEMS, rows or ()))

    @property
    def gids(self) -> set[int]:
        assert self.highlight is not None, "scan() first"
        return self.highlight.gids

    def snippet(self, i: int, text: str, mentions) -> str:
        """The snippet of the ``i``-th body scanned (as Highlighter.__call__ makes it)."""
        highlight = self.highlight
        assert highlight is not None, "scan() first"
        spans = [(s, e, key) for s, e, w in self.found[i] if (key := highlight.matches(w))]
        # Mentions of the queried places, whatever their spelling (A'zaz for Azaz).
        extra = [(start, end, str(gid)) for field, start, end, _s, gid, _score in mentions
                 if field == "text" and gid in highlight.gids]
        return make_snippet(text, merge_spans(spans, extra) if extra else spans)
