"""Find candidate place-name spans in text by longest match against the gazetteer's names.

The text is split into word tokens (:data:`archive.geo.gazetteer.TOKEN_RE`), each folded
(lower case, no diacritics). A candidate starts at a capitalised token and extends over
following tokens while the folded sequence is a prefix of some gazetteer name; the
longest sequence that is a whole name wins. Tokens must be separated by spaces, a hyphen
or an apostrophe, never by a comma, full stop or line break.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass
from typing import Any

from archive.geo.gazetteer import TOKEN_RE, Gazetteer, NameIndex, fold_token

_GAP_OK = re.compile(r"[ \t\u00a0]*[-'’]?[ \t\u00a0]*")
# after a short capitalised abbreviation a full stop may sit inside a name: "St. Louis", "Mt. Hood"
_GAP_AFTER_ABBREV = re.compile(r"\.[ \t\u00a0]?")


def _capital(word: str) -> bool:
    """Starts with a capital, also after an elided article: "d'Ivoire", "l'Aquila"."""
    return word[0].isupper() or (len(word) > 2 and word[1] in "'’" and word[2].isupper())


def _gap_ok(text: str, prev: str, end: int, start: int) -> bool:
    if _GAP_OK.fullmatch(text, end, start):
        return True
    return (len(prev) <= 3 and prev[0].isupper() and prev.isalpha()
            and bool(_GAP_AFTER_ABBREV.fullmatch(text, end, start)))


_SENTENCE_END = frozenset('.!?:;"“”\n|•')


class Token:
    """One word of the text with its offsets and folded form."""

    __slots__ = ("start", "end", "text", "folded")

    def __init__(self, start: int, end: int, text: str, folded: str):
        self.start, self.end, self.text, self.folded = start, end, text, folded

    @property
    def is_cap(self) -> bool:
        """Starts with a capital letter."""
        return self.text[0].isupper()

    def __repr__(self) -> str:
        return f"Token({self.start}, {self.end}, {self.text!r})"


class Tokens:
    """The word tokens of a text as parallel lists; :class:`Token` objects are made on
    demand, since the tagger looks closely only at capitalised words and their neighbours."""

    __slots__ = ("starts", "ends", "words", "_made")

    def __init__(self, text: str):
        words: list[str] = []
        starts: list[int] = []
        ends: list[int] = []
        add_word, add_start, add_end = words.append, starts.append, ends.append
        for m in TOKEN_RE.finditer(text):
            add_word(m.group())
            a, b = m.span()
            add_start(a)
            add_end(b)
        self.words, self.starts, self.ends = words, starts, ends
        self._made: dict[int, Token] = {}

    def __len__(self) -> int:
        return len(self.words)

    def __getitem__(self, k: int) -> Token:
        tok = self._made.get(k)
        if tok is None:
            if k < 0:
                raise IndexError(k)
            w = self.words[k]
            tok = Token(self.starts[k], self.ends[k], w, w.lower() if w.isascii() else fold_token(w))
            self._made[k] = tok
        return tok

    def capitalised(self) -> list[int]:
        """Indices of the tokens that start with a capital letter."""
        return [k for k, w in enumerate(self.words) if w[0].isupper()]


@dataclass
class Span:
    """A candidate mention: tokens ``i`` to ``j`` (exclusive) of the text."""

    start: int
    end: int
    surface: str
    key: str  # folded name
    i: int
    j: int
    demonym: bool = False
    sentence_start: bool = False
    #: gazetteer rows this span can only mean (a "City, ST" region code); skips the filters
    rows: tuple[int, ...] | None = None
    #: the place of a wire dateline at the start of the text ("TOKYO, March 3 -")
    dateline: bool = False
    #: runs on into a longer name ("Mango Street") or has weak signs of a person ("Milton
    #: Friedman"): fine for a big place, not for a small one (set by the filters)
    in_name: bool = False
    #: a given name before a surname-like word ("Vladimir Putin"): no small place, no province
    given_name: bool = False
    #: part of the name of a landform or water ("Mississippi River", "Cape Peron", "Plum
    #: Island") that the gazetteer lacks: the place named after is not meant (set by the filters)
    landform: bool = False
    #: written after a compass word that the gazetteer does not know as part of the name
    #: ("West Midlands"): a part of some region, not necessarily the one of that name
    compass: bool = False


class _WithOverrides:
    """The gazetteer's name index plus the names an overrides file adds."""

    __slots__ = ("index", "names", "prefixes")

    def __init__(self, index, names, prefixes):
        self.index, self.names, self.prefixes = index, names, prefixes

    def probe(self, key: str) -> int:
        """Like :meth:`archive.geo.gazetteer.NameIndex.probe`, override names included."""
        return self.index.probe(key) | (key in self.names) | ((key in self.prefixes) << 1)


def tokenize(text: str) -> Tokens:
    """Word tokens with offsets and folded forms."""
    return Tokens(text)


def is_sentence_start(text: str, pos: int) -> bool:
    """True when only punctuation/space separates ``pos`` from a sentence boundary."""
    k = pos - 1
    while k >= 0 and text[k] in " \t\u00a0('‘\"“[":
        k -= 1
    return k < 0 or text[k] in _SENTENCE_END


def find_spans(text: str, tokens: Tokens, gaz: Gazetteer, overrides: Any = None,
               demonyms_on: bool = True) -> list[Span]:
    """Longest-match gazetteer names (and demonyms) starting at capitalised tokens.

    ``overrides`` may add names (its ``names`` and ``prefixes`` sets of folded keys).
    """
    index: NameIndex | _WithOverrides = gaz.index
    demonyms = gaz.demonyms
    if overrides is not None and overrides.names:
        index = _WithOverrides(index, overrides.names, overrides.prefixes)
    probe = index.probe
    spans: list[Span] = []
    words, starts, ends = tokens.words, tokens.starts, tokens.ends
    n = len(words)
    next_free = 0
    for i in tokens.capitalised():
        if i < next_free:
            continue
        w = words[i]
        key = w.lower() if w.isascii() else fold_token(w)
        best_j, best_key, demonym = 0, "", False
        found = probe(key)
        if demonyms_on and key in demonyms:  # "Canadian" is a demonym before it is a Texas town
            best_j, best_key, demonym = i + 1, key, True
        elif found & 1:
            best_j, best_key = i + 1, key
        j = i + 1
        while j < n and found & 2:
            if not _gap_ok(text, words[j - 1], ends[j - 1], starts[j]):
                break
            w = words[j]
            key = key + " " + (w.lower() if w.isascii() else fold_token(w))
            j += 1
            found = probe(key)
            if _capital(w):
                if found & 1:
                    best_j, best_key, demonym = j, key, False
                elif demonyms_on and key in demonyms:  # "South Korean", "North American"
                    best_j, best_key, demonym = j, key, True
        if best_j:
            start, end = starts[i], ends[best_j - 1]
            if best_key.endswith(" co") and text[end : end + 1] == ".":
                end += 1  # "Plymouth Co."
            spans.append(Span(start, end, text[start:end], best_key, i, best_j, demonym,
                              is_sentence_start(text, start)))
            next_free = best_j
    return spans


#: Prepositions that introduce a place ("in Kharkiv", "near Qamishli").
LOCATIVES = frozenset("in near outside at from across inside around".split())


def find_unknown_spans(text: str, tokens: Tokens, covered: set[int], is_common, max_len: int = 3) -> list[Span]:
    """Capitalised runs after a locative preposition that no gazetteer name covers.

    Used only with an online fallback geocoder: "in Qamishli" where the gazetteer has no
    Qamishli. ``is_common(folded_word)`` rejects ordinary English words.
    """
    spans = []
    n = len(tokens)
    for i in tokens.capitalised():
        if i == 0 or i in covered or tokens.words[i - 1] not in LOCATIVES:
            continue
        tok = tokens[i]
        if tok.text.isupper() or is_common(tok.folded) or is_sentence_start(text, tok.start):
            continue
        j = i + 1
        while j < n and j - i < max_len and tokens[j].is_cap and j not in covered \
                and _GAP_OK.fullmatch(text, tokens[j - 1].end, tokens[j].start) and not is_common(tokens[j].folded):
            j += 1
        start, end = tok.start, tokens[j - 1].end
        key = " ".join(tokens[k].folded for k in range(i, j))
        spans.append(Span(start, end, text[start:end], key, i, j))
    return spans


def find_region_codes(text: str, tokens: Tokens, spans: list[Span], gaz: Gazetteer) -> list[Span]:
    """Region abbreviations right after "City, " that fit one of the city's candidates.

    A code replaces any other span at its position (the town of Wa, Ghana, for "WA").

    "Perth, WA" gets Western Australia, "Spokane, WA" Washington, "Santa Ana, Calif."
    California. Codes must be in capitals (NSW, BC) or end with a full stop (Calif.). An
    unambiguous dotted code is kept even when none of the city's candidates lies there.
    """
    if not gaz.region_codes or not spans:
        return []
    out = []
    for span in spans:
        k = span.j
        if k >= len(tokens) or text[span.end : span.end + 2] != ", " or tokens.starts[k] != span.end + 2:
            continue
        tok = tokens[k]
        end, key = tok.end, tok.folded
        dotted = key + "."
        dateline = span.i == 0  # wire datelines write "BEDFORD, Mass, March 13 -", "MICH."
        if not key.endswith(".") and dotted in gaz.region_codes and (dateline or not tok.text.isupper()):
            if text[end : end + 1] == ".":
                end, key = end + 1, dotted  # "Calif.", "Pa." (but "NSW." ends a sentence)
            elif dateline and text[end : end + 2] == ", ":
                key = dotted
        if not (tok.text.isupper() or key.endswith(".")) or key not in gaz.region_codes:
            continue
        regions = {(gaz.cc[r], gaz.admin1[r]) for code in gaz.index.get(span.key, ()) for r in (code >> 1,)}
        rows = tuple(r for r in gaz.region_codes[key] if (gaz.cc[r], gaz.admin1[r]) in regions)
        if not rows and key.endswith(".") and len(gaz.region_codes[key]) == 1:
            # an unambiguous state ("Pa.") after a city the gazetteer has elsewhere only: the
            # state still counts, and the tagger drops the city rather than pin it abroad
            rows = tuple(gaz.region_codes[key])
        if rows:
            # the key carries the rows: "WA" after Perth and after Spokane are two senses
            out.append(Span(tok.start, end, text[tok.start : end], f"{key}#{rows[0]}", k, k + 1, rows=rows))
    return out


def _written(code: str) -> str:
    """How news writes a dotted abbreviation: "w.va." -> "W.Va.", "calif." -> "Calif."."""
    return "".join(part[:1].upper() + part[1:] + "." for part in code.split(".") if part)


#: The shape of a dotted abbreviation: "Calif.", "W.Va.", "W. Va.", "S.C.", "P.E.I."; a
#: capital leads and the look-behind ("not inside a word") comes after it, which makes the
#: scan over a text cheap; a dict then says what each one means.
_ABBREV_SHAPE = re.compile(r"[A-Z](?<![\w.][A-Z])[A-Za-z]{0,4}\.(?:[ ]?[A-Z][a-z]{0,2}\.){0,2}")


_PARTY = frozenset(("R-", "D-", "I-"))


def state_abbreviations(gaz: Gazetteer) -> dict[str, tuple[int, ...]]:
    """The dotted state and province abbreviations that stand alone ("W.Va.", "Calif.",
    "B.C.", "Ont.") as news writes them, each with the one region it names."""
    memo = gaz.memo.setdefault("recognize.abbreviations", {})
    if "table" not in memo:
        memo["table"] = {_written(code): tuple(rows) for code, rows in gaz.region_codes.items()
                         if code.endswith(".") and len(rows) == 1}
    return memo["table"]


def find_state_abbreviations(text: str, tokens: Tokens, gaz: Gazetteer, is_word) -> list[Span]:
    """Dotted state and province abbreviations anywhere in the text: "officials in W.Va.",
    "from S.C., D.C. and Calif.". One that is also an English word ("Mass.", "Ill.",
    "Miss.") counts only mid-sentence, where a lower-case word, a comma or a digit follows:
    "went to Mass. The priest" is not Massachusetts."""
    table = state_abbreviations(gaz)
    out = []
    for m in _ABBREV_SHAPE.finditer(text):
        found = m.group()
        written = found.replace(" ", "")
        rows = table.get(written)
        while rows is None and written.count(".") > 1:  # "Ont. B.C.": the first one alone
            found = found[: found.index(".") + 1]
            written = found.replace(" ", "")
            rows = table.get(written)
        if not rows:
            continue
        start, end = m.start(), m.start() + len(found)
        if text[start - 2 : start] in _PARTY or (text[start - 1 : start] == "(" and text[end : end + 1] == ")"):
            continue  # "Sen. Rand Paul (R-Ky.)", "Sanders (Ind.)": a party label, not a place in the story
        if is_word(written.replace(".", "").lower()):
            rest = text[end : end + 3].lstrip(" ")
            if not rest or not (rest[0].islower() or rest[0] in ",;)" or rest[0].isdigit()):
                continue
        i = bisect_left(tokens.starts, start)
        if i >= len(tokens) or tokens.starts[i] != start:
            continue
        j = max(i + 1, bisect_left(tokens.starts, end))
        out.append(Span(start, end, text[start:end], f"{written.lower()}#{rows[0]}", i, j, rows=rows))
    return out


# "Laurel and Knox counties", "Clay, Laurel and Whitley Counties"
_COUNTY_LIST = re.compile(
    r"\b((?:[A-Z][a-z]+(?:[ -][A-Z][a-z]+)?)(?:(?:, |,? and )(?:[A-Z][a-z]+(?:[ -][A-Z][a-z]+)?))+) [Cc]ounties\b")
_LIST_SPLIT = re.compile(r", and |, | and ")


def find_county_lists(text: str, tokens: Tokens, gaz: Gazetteer) -> list[Span]:
    """Each county of a list that ends in "counties": "Laurel and Knox counties" names
    Laurel County and Knox County."""
    if "ounties" not in text:
        return []
    out = []
    for m in _COUNTY_LIST.finditer(text):
        pos = m.start(1)
        for part in _LIST_SPLIT.split(m.group(1)):
            start = text.index(part, pos)
            pos = start + len(part)
            key = " ".join(fold_token(w) for w in TOKEN_RE.findall(part)) + " county"
            rows = tuple(dict.fromkeys(c >> 1 for c in gaz.index.get(key, ()) if gaz.feature[c >> 1] == "ADM2"))
            if not rows:
                continue
            i = bisect_left(tokens.starts, start)
            j = bisect_left(tokens.starts, pos)
            out.append(Span(start, pos, part, key, i, j, rows=rows))
    return out
