"""Decide which candidate spans are places: reject people, common words and boilerplate.

Signals, all general rather than per-name:

- People: a span right after a title ("President", "Sen.") or a known first name
  ("Barack Obama"), a span that is itself a first name followed by a capitalised word
  ("Paris Hilton"), or a minor place name followed by a speech verb ("Obama said"). A name
  found to be a person anywhere in the article is a person everywhere in it.
- Common words: when capitalisation tells us nothing (sentence start, headline, all caps)
  a single-word name must be far more prominent than the word is frequent in English
  (wordfreq): "Share", "Reading" and "May" at the start of a line are words, "London" is
  a place. Mid-sentence capitals are trusted more, but a name that English uses much
  more than its small place would explain ("Obama", a town of 29,000) is still rejected.
- Short names (three letters or fewer) must be written in capitals ("US", "UAE") unless
  mid-sentence and rare as words.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from .gazetteer import FEATURES, Gazetteer
from .lexicon import Lexicon, zipf
from .recognize import Span, Token

_SPEECH = frozenset("said says told added say asked wrote tweeted stated explained noted argued".split())
_STRONG = frozenset(("PCLI", "CONT", "ADM1"))
_WS = frozenset(" \t\u00a0")


def _best(gaz: Gazetteer, span: Span) -> tuple[str, int]:
    """Feature and population of the most prominent entry for the span's name."""
    if span.demonym:
        row = gaz.demonyms[span.key]
        return gaz.feature[row], gaz.population[row]
    best_feature, best_pop, best_rank = "PPL", 0, len(FEATURES)
    for code in gaz.index.get(span.key, ()):
        row = code >> 1
        f = gaz.feature[row]
        rank = FEATURES.index(f) if f in FEATURES else len(FEATURES)
        if f in _STRONG and rank < best_rank:
            best_feature, best_rank = f, rank
        best_pop = max(best_pop, gaz.population[row])
    return best_feature, best_pop


def _only_space(text: str, a: int, b: int) -> bool:
    return b > a and all(ch in _WS for ch in text[a:b])


def _is_person(span: Span, text: str, tokens: list[Token], lex: Lexicon, strong: bool, pop: int,
               place_tokens: set[int]) -> bool:
    i, j = span.i, span.j
    if i > 0:
        prev = tokens[i - 1]
        if _only_space(text, prev.end, span.start) and prev.is_cap and (i - 1) not in place_tokens:
            if lex.is_title(prev.text):
                return True
            if lex.is_first_name(prev.folded) and zipf(prev.folded) < 5.0 and not prev.text.isupper():
                return True
    if j < len(tokens):
        nxt = tokens[j]
        if _only_space(text, span.end, nxt.start):
            if (j - i == 1 and nxt.is_cap and not nxt.text.isupper() and j not in place_tokens
                    and lex.is_first_name(span.key) and not strong and zipf(nxt.folded) < 4.5):
                return True
            if nxt.folded in _SPEECH and not strong and pop < 1_000_000:
                return True
    return False


def accept_spans(text: str, tokens: list[Token], spans: list[Span], gaz: Gazetteer, lex: Lexicon,
                 overrides: Any = None, headline: bool = False) -> Iterator[Span]:
    """Yield the spans that are place mentions."""
    if not spans:
        return
    letters = [t.text for t in tokens if t.text[0].isalpha()]
    all_caps_text = bool(letters) and sum(t.isupper() for t in letters) > 0.6 * len(letters)
    lower_words = {t.text for t in tokens if t.text.islower()}
    place_tokens = {k for s in spans for k in range(s.i, s.j)}
    persons: set[str] = set()
    keep: list[Span] = []
    for span in spans:
        if overrides is not None and overrides.blocked(span.key):
            continue
        if overrides is not None and overrides.forced(span.key):
            keep.append(span)
            continue
        feature, pop = _best(gaz, span)
        strong = feature in _STRONG or span.demonym
        if _is_person(span, text, tokens, lex, strong, pop, place_tokens):
            persons.add(span.key)
            continue
        surface = span.surface
        letters_only = surface.replace(".", "")
        if len(letters_only) <= 3 and not letters_only.isupper():
            if span.sentence_start or headline or zipf(span.key) >= 3.0:
                continue
        if span.j - span.i == 1 and not span.demonym:
            z = zipf(span.key)
            is_abbrev = surface.isupper() and len(letters_only) <= 4 and not all_caps_text
            informative = not (span.sentence_start or headline or all_caps_text or surface.isupper())
            logpop = math.log10(pop + 1)
            if span.key in lower_words and not strong:
                continue
            if not is_abbrev and not strong:
                if informative and z >= 4.0 and logpop < z - 0.25:
                    continue
                if not informative and z >= 3.5 and logpop < z + 1.0:
                    continue
            if not informative and strong and feature != "PCLI" and z >= 4.5:
                continue
        keep.append(span)
    for span in keep:
        if span.key not in persons:
            yield span
