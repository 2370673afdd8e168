"""Build a highlighted HTML snippet from an article's text.

The text is HTML-escaped and the words that matched the query are wrapped in ``<mark>``.
Matching is decided by a ``matches(word)`` callable (each engine passes one that compares
stems with the query's terms), so this module knows nothing about the index. A regex
built from the query's stems finds candidate words quickly, which keeps snippets cheap
on long articles.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable

from unidecode import unidecode

WORD = r"\w+(?:['‘’]\w+)*"
_UNSEEN = object()


def candidate_pattern(stems: Iterable[str]) -> re.Pattern[str] | None:
    """A regex finding words that could stem to one of ``stems`` (their start is checked only)."""
    prefixes = set()
    for s in stems:
        s = s.lower()
        if not s:
            continue
        # Stemmers mostly rewrite the end of a word (happy -> happi), so match on a shorter prefix.
        prefixes.add(s if len(s) <= 3 else s[: max(3, len(s) - 2)])
    if not prefixes:
        return None
    alternatives = "|".join(re.escape(p) for p in sorted(prefixes, key=len, reverse=True)[:300])
    return re.compile(rf"(?<!\w)(?:{alternatives})\w*(?:['‘’]\w+)*", re.IGNORECASE)


def find_matches(text: str, pattern: re.Pattern[str] | None, matches: Callable[[str], str | None]
                 ) -> list[tuple[int, int, str]]:
    """Return (start, end, key) of every word in ``text`` that ``matches`` accepts."""
    if pattern is None:
        return []
    out = []
    for m in pattern.finditer(text):
        key = matches(m.group(0))
        if key:
            out.append((m.start(), m.end(), key))
    return out


def _best_window(spans: list[tuple[int, int, str]], size: int) -> int:
    """Start offset of the window of ``size`` chars holding the most distinct matched terms."""
    best_start, best_score = spans[0][0], -1
    j = 0
    for i, (start, _end, _key) in enumerate(spans):
        while j < len(spans) and spans[j][1] <= start + size:
            j += 1
        keys = {k for _s, _e, k in spans[i:j]}
        score = len(keys) * 100 + (j - i)
        if score > best_score:
            best_start, best_score = start, score
    return best_start


def make_snippet(text: str, spans: list[tuple[int, int, str]], size: int = 240) -> str:
    """Escaped HTML of about ``size`` characters around the best group of matches."""
    if not text:
        return ""
    if not spans:
        cut = text[:size]
        if len(text) > size:
            cut = cut.rsplit(" ", 1)[0] + " …"
        return html.escape(cut, quote=False)
    first = _best_window(spans, size)
    # Start a little before the first match, at a word boundary.
    start = max(0, min(first - size // 6, len(text) - size))
    if start > 0:
        space = text.find(" ", start, first)
        start = space + 1 if space >= 0 else start
    end = min(len(text), start + size)
    if end < len(text):
        space = text.rfind(" ", max(start, end - 30), end)
        end = space if space > start else end
    parts = ["… " if start > 0 else ""]
    pos = start
    for s, e, _key in spans:
        if s < start or e > end:
            continue
        parts.append(html.escape(text[pos:s], quote=False))
        parts.append("<mark>" + html.escape(text[s:e], quote=False) + "</mark>")
        pos = e
    parts.append(html.escape(text[pos:end], quote=False))
    if end < len(text):
        parts.append(" …")
    return "".join(parts)


def merge_spans(spans: list[tuple[int, int, str]], extra: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Both lists of spans in order, dropping any that overlaps an earlier one."""
    merged: list[tuple[int, int, str]] = []
    for span in sorted(set(spans) | set(extra)):
        if merged and span[0] < merged[-1][1]:
            continue
        merged.append(span)
    return merged


class Highlighter:
    """Snippets marking the words whose stem is in ``stems``, words of place names in
    ``placewords`` (folded), and the stored mentions of the places in ``gids``."""

    def __init__(self, stems: set[str], placewords: set[str], gids: set[int],
                 stem: Callable[[str], str | None]):
        self.stems, self.placewords, self.gids, self.stem = stems, placewords, gids, stem
        self.pattern = candidate_pattern(stems | placewords)
        self._seen: dict[str, str | None] = {}  # word -> matches(word): a page repeats its words

    def matches(self, word: str) -> str | None:
        """The key a word is marked under (its stem, or its folded place-name word), or None."""
        seen = self._seen.get(word, _UNSEEN)
        if seen is not _UNSEEN:
            return seen  # type: ignore[return-value]
        key = self.stem(word)
        if key not in self.stems:
            folded = "".join(c for c in unidecode(word).lower() if c.isalnum()) if self.placewords else ""
            key = folded if folded in self.placewords else None
        self._seen[word] = key
        return key

    def __call__(self, text: str, mentions: Iterable[tuple] = ()) -> str:
        """Snippet HTML of ``text``; ``mentions`` are stored (field, start, end, surface, gid, score)."""
        spans = find_matches(text, self.pattern, self.matches)
        # Mentions of the queried places, whatever their spelling (A'zaz for Azaz).
        extra = [(start, end, str(gid)) for field, start, end, _s, gid, _score in mentions
                 if field == "text" and gid in self.gids]
        return make_snippet(text, merge_spans(spans, extra) if extra else spans)
