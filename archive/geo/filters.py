"""Decide which candidate spans are places: reject people, common words and boilerplate.

Signals, all general rather than per-name:

- People: a span right after a title ("President", "Mr.") or a known first name
  ("Barack Obama"), inside a longer run of capitalised unknown words ("Dewly Nelson",
  "Paris Hilton", "Mike de Kock"), a minor place name followed by a speech verb ("Obama
  said"), or a minor place that is also a common first name ("Tyler", "Levi"). A name
  found to be a person anywhere in the article is a person everywhere in it.
- Frequency against size: a place name that English uses far more often than its
  population would explain is probably something else (wordfreq's Zipf frequency
  against log10 population): "Obama" (a town of 29,000), "White House" (Tennessee),
  "Share", "Reading" at the start of a line. Capitalisation mid-sentence earns more trust
  than at a sentence start, in a headline or in all-caps text.
- Abbreviations: an all-caps word must be one the sources list as an abbreviation ("US",
  "UAE"), so "NATO", "HIV" or "UN" never match a village called Nato.
- Compass and position words ("South", "Central", "Centre") alone are never places.
- Countries, continents and country demonyms are trusted whenever capitalised, and a
  "City, State" pair (or "City, ST" code) vouches for the city.
- A wire dateline in capitals at the start of a text ("TOKYO, March 3 -") is a place even
  when it is short enough to pass for an abbreviation.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from typing import Any

from archive.geo.gazetteer import AREA_FEATURES, FEATURES, Gazetteer
from archive.geo.lexicon import Lexicon
from archive.geo.recognize import Span, Token, Tokens

_SUBSTITUTE = re.compile(r" \d{1,3}\)")
_LIST_OPENERS = frozenset((", ", "; ", "\n", ": ", " ("))
GIVEN_NEXT_ZIPF = 5.0  # "Vladimir Putin" (4.6), not "Victoria Station"
SURNAME_ZIPF = 3.0  # rarer than this, a capitalised word after a given name reads as a surname
_SPEECH = frozenset("said says told added say asked wrote tweeted stated explained noted argued".split())
# A closed class of direction words: regions named just "Central" or "South" exist, but
# the bare word in English text is an adjective.
_COMPASS = frozenset(
    "north south east west northern southern eastern western central centre center middle "
    "upper lower northeast northwest southeast southwest".split()
)
# Water bodies named with an adjective: "Indian Ocean" is not India.
_WATER = frozenset("ocean sea gulf bay strait straits".split())
# Storms are named like people: "Hurricane Florence" is not the city.
_STORMS = frozenset("hurricane storm typhoon cyclone".split())
# Particles inside personal names ("Mike de Kock", "Bashar al-Assad").
_NAME_PARTICLES = frozenset("de da di du del della der den van von al el bin ibn le la".split())
# Trusted whenever capitalised: countries, continents, and seas and regions by their main name
_NATION = frozenset(("PCLI", "CONT", *AREA_FEATURES))
_COUNTY_WORDS = frozenset(("county", "co", "parish", "borough"))
_WS = frozenset(" \t\u00a0")
# What follows a dateline's place up to its dash: a region, a date, an agency in brackets
# ("TOKYO, March 3 -", "EVENDALE, Ohio, April 9 -", "LONDON (Reuters) -"), never a lower-case
# word, and nothing before the comma (the place is the whole name: not TOLUCA of "TOLUCA LAKE").
_DATELINE_TAIL = re.compile(r"(?:,(?: +(?:[A-Z][\w.'’]*|\d{1,4}))+)*,? *(?:\([^()\n]{1,30}\))? *[-—–]")
# A closed class of words naming a road: "X Road" is seldom in the town of X.
_ROADS = frozenset("road street avenue lane drive boulevard terrace crescent".split())
# Head words of landform and water names: "Mississippi River", "Islington Bay" and "Cape Peron"
# are not the state, the borough or the French village they are named after (a longer name the
# gazetteer knows, "Long Island", "Green Bay", is matched whole before this is asked).
_LANDFORM_AFTER = frozenset("island islands isle bay river delta lake creek peninsula mountain mountains "
                            "canyon gorge falls harbour harbor reef glacier strait sound estuary".split())
_LANDFORM_BEFORE = frozenset("cape point mount lake loch isle".split())
_TICKER = re.compile(r" ?<[A-Z][A-Z.]{0,7}>")
_CAPS_WORD = re.compile(r"\b[A-Z]{2,}\b")
_LOWER_WORD = re.compile(r"\b[A-Za-z]*[a-z][A-Za-z]*\b")  # any word with a lower-case letter


def _best(gaz: Gazetteer, span: Span) -> tuple[str, int, int, int]:
    """Most prominent feature, largest population, and the largest population among
    entries with this as their main name (-1 if none) and as an alternate name only."""
    memo = gaz.memo.setdefault("filters._best", {})
    found = memo.get((span.key, span.demonym))
    if found is None:
        found = memo[(span.key, span.demonym)] = _summarise(gaz, span)
    return found


def _summarise(gaz: Gazetteer, span: Span) -> tuple[str, int, int, int]:
    if span.demonym:
        row = gaz.demonyms[span.key]
        return gaz.feature[row], gaz.population[row], gaz.population[row], -1
    best_feature, best_rank = "PPL", len(FEATURES)
    main_pop = alt_pop = -1
    for code in gaz.index.get(span.key, ()):
        row = code >> 1
        f = gaz.feature[row]
        if code & 1 and f in AREA_FEATURES:
            continue  # another language's name for a sea ("Flores", "Sleeve") vouches for nothing
        rank = FEATURES.index(f) if f in FEATURES else len(FEATURES)
        if rank < best_rank:
            best_feature, best_rank = f, rank
        if code & 1:
            alt_pop = max(alt_pop, gaz.population[row])
        else:
            main_pop = max(main_pop, gaz.population[row])
    return best_feature, max(main_pop, alt_pop, 0), main_pop, alt_pop


def _only_space(text: str, a: int, b: int) -> bool:
    return b > a and all(ch in _WS for ch in text[a:b])


def _unknown_cap(tok: Token, k: int, covered: set[int], lex: Lexicon) -> bool:
    """A capitalised word that is no place and not a common English word."""
    return (tok.is_cap and k not in covered and tok.text.isalpha() and not tok.text.isupper()
            and lex.zipf(tok.folded) < 4.0)


class _Article:
    """Per-text facts the rules share."""

    def __init__(self, text: str, tokens: Tokens, spans: list[Span], lex: Lexicon, headline: bool,
                 gaz: Gazetteer):
        self.text, self.tokens, self.lex, self.headline, self.gaz = text, tokens, lex, headline, gaz
        self.span_ending = {s.j - 1: s for s in spans}  # last token -> span
        # mostly capitals (judged on the opening, which is enough and cheap)
        head = text[:2000]
        self.all_caps = len(_CAPS_WORD.findall(head)) > 1.5 * len(_LOWER_WORD.findall(head))
        self.covered = {k for s in spans for k in range(s.i, s.j)}
        self.text_start = len(text) - len(text.lstrip())
        self.big: set[int] = set()  # tokens of names of places with 100,000+ people ("Austin Texas")

    def _city_before_region(self, k: int, span: Span) -> bool:
        """True for "Austin Texas": token k ends a big place's name that lies in ``span``."""
        before = self.span_ending.get(k)
        return before is not None and k in self.big and _contains(self.gaz, span, before)

    def given_name_first(self, span: Span) -> bool:
        """A one-word given name followed by a capitalised word that is no very common word
        and no place: "Milton Friedman", "Vladimir Putin"."""
        tokens, j = self.tokens, span.j
        if j >= len(tokens) or j - span.i != 1 or self.headline or self.all_caps \
                or not self.lex.is_first_name(span.key):
            return False
        nxt = tokens[j]
        return _only_space(self.text, span.end, nxt.start) and nxt.is_cap and j not in self.covered \
            and nxt.text.isalpha() and not nxt.text.isupper() and not self.lex.is_title(nxt.text) \
            and self.lex.zipf(nxt.folded) < GIVEN_NEXT_ZIPF

    def before_name(self, span: Span) -> bool:
        """True when a capitalised word that is no place name follows: "Franklin Elementary"."""
        tokens, j = self.tokens, span.j
        return j < len(tokens) and tokens[j].is_cap and not self.all_caps and not self.headline \
            and j not in self.covered and _only_space(self.text, span.end, tokens[j].start)

    def in_name(self, span: Span) -> bool:
        """True when the span surely begins a longer name that is not the place's: a road
        ("Mango Street", named after places elsewhere as often as not), a hyphenated name
        ("Merriam-Webster") or a company before its ticker ("OCCIDENTAL <OXY>"). The tagger
        drops such an occurrence when the place it resolves to is small."""
        text, tokens, j = self.text, self.tokens, span.j
        if _TICKER.match(text, span.end):
            return True
        if j >= len(tokens) or self.all_caps or self.headline or j in self.big or not tokens[j].is_cap:
            return False
        if text[span.end : tokens[j].start] == "-":
            return True
        return tokens[j].folded in _ROADS and _only_space(text, span.end, tokens[j].start)

    def landform(self, span: Span) -> bool:
        """True when the span is part of a landform's or water's name: a capitalised head word
        follows ("Mississippi River", "Plum Island") or precedes it ("Cape Peron", "Lake Erie")."""
        text, tokens, i, j = self.text, self.tokens, span.i, span.j
        if self.all_caps or self.headline:
            return False
        if j < len(tokens) and tokens[j].is_cap and tokens[j].folded in _LANDFORM_AFTER \
                and text[span.end : tokens[j].start] == " ":
            return True
        return i > 0 and tokens[i - 1].is_cap and tokens[i - 1].folded in _LANDFORM_BEFORE \
            and text[tokens[i - 1].end : span.start] == " "

    def uses_in_lower_case(self, key: str) -> bool:
        """True when the text has ``key`` as a lower-case word ("share", "reading")."""
        text, pos = self.text, self.text.find(key)
        while pos >= 0:
            end = pos + len(key)
            if (pos == 0 or not text[pos - 1].isalnum()) and (end == len(text) or not text[end].isalnum()):
                return True
            pos = text.find(key, pos + 1)
        return False

    def _between_names(self, span: Span) -> bool:
        """True inside a list of names that are no places: "Dowson, Haughton, Monye",
        "Hierro (Campo 64)"."""
        text, tokens, i, j = self.text, self.tokens, span.i, span.j
        if i == 0 or j >= len(tokens):
            return False
        if _SUBSTITUTE.match(text, span.end) and text[span.start - 1 : span.start] == "(":
            return True  # a substitute and the minute he came on: "(Pitman 105)"
        prev, nxt = tokens[i - 1], tokens[j]
        return text[prev.end : span.start] in (", ", " (") and _unknown_cap(prev, i - 1, self.covered, self.lex) \
            and (text[span.end : nxt.start] in (", ", "; ", " (")
                 and (_unknown_cap(nxt, j, self.covered, self.lex) or (len(nxt.text) == 1 and nxt.text.isupper()))
                 or (text[span.end : nxt.start] == " " and nxt.text.isdigit()))

    def is_person(self, span: Span, nation: bool, pop: int) -> int:
        """Person evidence around the span: 0 none, 1 weak, 2 strong.

        Strong: a title or storm word before ("President", "Hurricane"), a first name or a
        middle initial before, or a given name followed by another name ("Paris Hilton").
        These count for any place but a country. Weak: unknown capitalised neighbours,
        name particles, hyphenated names, "X said", a place in a list of surnames (a team
        sheet: "Dowson, Haughton, Monye", "R Corrigan"); only for places under 100,000
        people, since "Houston Rockets" or "Liverpool said" name a team.
        """
        text, tokens, lex = self.text, self.tokens, self.lex
        i, j = span.i, span.j
        small = pop < 100_000 and not nation
        if i > 0:
            prev = tokens[i - 1]
            gap = text[prev.end : span.start]
            if prev.is_cap and (lex.is_title(prev.text) or prev.folded in _STORMS) and gap.strip(" .") == "" \
                    and not nation:
                return 2
            if len(prev.text) == 1 and prev.text.isupper() and gap == ". " and not nation:
                return 2  # a middle initial: "George W. Bush", "Jose A. Cordova"
            if small and len(prev.text) == 1 and prev.text.isupper() and prev.text not in "AI" \
                    and gap == " " and text[max(0, prev.start - 2) : prev.start] in _LIST_OPENERS:
                return 2  # an initial in a list of players: "; R Corrigan, S Byrne"
            if small and gap == "-" and prev.is_cap and (i - 1) not in self.covered:
                return 1  # half of a hyphenated name: "Navarro-Valls"
            if _only_space(text, prev.end, span.start) and not nation:
                if prev.is_cap and lex.is_first_name(prev.folded) and not prev.text.isupper() \
                        and lex.zipf(prev.folded) < 5.5 and not self._city_before_region(i - 1, span):
                    return 2
                if small and _unknown_cap(prev, i - 1, self.covered, lex) and not span.sentence_start \
                        and not self.headline and not self.all_caps:
                    return 1
                if small and prev.folded in _NAME_PARTICLES and i > 1 and tokens[i - 2].is_cap \
                        and prev.text.islower():
                    return 1
        if small and self._between_names(span):
            return 1  # one of a list of surnames: "Dowson, Haughton, Monye"
        if j < len(tokens) and j - i == 1 and lex.is_first_name(span.key):
            nxt = tokens[j]  # "Paris Hilton", "Washington Irving", "Chad Pergram": a given name and a name
            if _only_space(text, span.end, nxt.start) and nxt.is_cap and j not in self.big \
                    and not nxt.text.isupper() and not self.headline \
                    and (lex.is_first_name(nxt.folded) or (_unknown_cap(nxt, j, self.covered, lex)
                                                           and (nation or lex.zipf(nxt.folded) < SURNAME_ZIPF))):
                return 2  # a rare word after a given name is a surname: "Milan Mandaric"
        if j < len(tokens) and small:
            nxt = tokens[j]
            if _only_space(text, span.end, nxt.start):
                if _unknown_cap(nxt, j, self.covered, lex) and not lex.is_title(nxt.text) \
                        and not self.headline and not self.all_caps:
                    return 1
                if nxt.folded in _SPEECH:
                    return 1
        return 0


def _contains(gaz: Gazetteer, region: Span, place: Span) -> bool:
    """True when some entry named like ``place`` lies in a country or admin1 named ``region``."""
    areas: set[tuple[str, str | None]]
    if region.rows is not None:
        areas = {(gaz.cc[r], gaz.admin1[r]) for r in region.rows}
    else:
        areas = set()
        for code in gaz.index.get(region.key, ()):
            r = code >> 1
            if gaz.feature[r] == "PCLI":
                areas.add((gaz.cc[r], None))
            elif gaz.feature[r] == "ADM1":
                areas.add((gaz.cc[r], gaz.admin1[r]))
    for code in gaz.index.get(place.key, ()):
        r = code >> 1
        if (gaz.cc[r], None) in areas or (gaz.cc[r], gaz.admin1[r]) in areas:
            return True
    return False


# Nouns that local news puts after a place's name: "Richmond police", "Manchester officials".
_LOCAL_NOUNS = frozenset("police officials residents council mayor schools firefighters authorities voters sheriff "
                         "deputies".split())


def _before_local_noun(span: Span, tokens: Tokens, text: str) -> bool:
    """The span is followed by a noun that says a place's people or institutions are meant
    ("Richmond police said"): at a sentence start that is as good as a capital mid-sentence."""
    if span.j >= len(tokens):
        return False
    nxt = tokens[span.j]
    return nxt.text in _LOCAL_NOUNS and _only_space(text, span.end, nxt.start)


def _county_abbreviation(span: Span, tokens: Tokens, text: str) -> bool:
    """"Plymouth Co." is the county only when written with its full stop, not run on from a
    capitalised word before ("Idaho Power Co.") and not followed by one ("Co. Ltd")."""
    if not span.surface.endswith(".") or text[span.start - 1 : span.start] in ("-", "'", "’"):
        return False  # "Sherwin-Williams Co."
    if span.i > 0 and tokens[span.i - 1].is_cap and _only_space(text, tokens[span.i - 1].end, span.start):
        return False
    return not (span.j < len(tokens) and tokens[span.j].is_cap and _only_space(text, span.end, tokens[span.j].start))


def _region_adjective(span: Span, tokens: Tokens, text: str) -> bool:
    """"Central American", "Latin American", "Indian Ocean": the adjective is not the country."""
    if span.i > 0:
        prev = tokens[span.i - 1]
        if prev.is_cap and (prev.folded in _COMPASS or prev.folded == "latin") \
                and _only_space(text, prev.end, span.start):
            return True
    if span.j < len(tokens):
        nxt = tokens[span.j]
        if nxt.is_cap and nxt.folded in _WATER and _only_space(text, span.end, nxt.start):
            return True
    return False


def accept_spans(text: str, tokens: Tokens, spans: list[Span], gaz: Gazetteer, lex: Lexicon,
                 overrides: Any = None, headline: bool = False, persons: set[str] | None = None) -> Iterator[Span]:
    """Yield the spans that are place mentions.

    :param persons: folded names taken for people; the names found here are added to it, and
        a caller tagging several fields of one article (title and text) passes one set to all
        of them and drops the spans of every name in it afterwards (the spans yielded here are
        already free of this field's people).
    """
    if not spans:
        return
    art = _Article(text, tokens, spans, lex, headline, gaz)
    info = [_best(gaz, s) for s in spans]
    art.big = {k for s, (f, pop, *_) in zip(spans, info, strict=True) if pop >= 100_000 or f in _NATION
               for k in range(s.i, s.j)}
    # "City, State" / "City, Country": the second name vouches for the first
    paired = set()
    for k in range(len(spans) - 1):
        a, b = spans[k], spans[k + 1]
        if text[a.end : b.start] in (", ", ",") and (info[k + 1][0] in ("ADM1", "PCLI") or b.rows is not None) \
                and not b.demonym and _contains(gaz, b, a):
            paired.add(k)
    if persons is None:
        persons = set()
    person_end = -1  # token just after the last span taken for a person
    keep: list[Span] = []
    for k, span in enumerate(spans):
        if overrides is not None and overrides.blocked(span.key):
            continue
        if span.rows is not None:  # a region code vouched for by the city before it
            keep.append(span)
            continue
        if overrides is not None and overrides.forced(span.key):
            keep.append(span)
            continue
        feature, pop, main_pop, alt_pop = info[k]
        if span.key.endswith(" co") and not _county_abbreviation(span, tokens, text):
            continue  # "British Petroleum Co Plc", "Idaho Power Co.": a company
        # "Laurel County", "Plymouth Co.": the word after the name says it is a county
        nation = feature in _NATION or span.demonym or span.key.rsplit(" ", 1)[-1] in _COUNTY_WORDS
        surface = span.surface
        letters = surface.replace(".", "")
        if all(w in _COMPASS for w in span.key.split(" ")) and feature not in AREA_FEATURES:
            continue  # "South", "North West"; but "Middle East" is a region
        if text[span.end : span.end + 1] == "$":
            continue  # a currency: US$, A$, HK$
        if text[span.start - 1 : span.start] == "<" and text[span.end : span.end + 1] == ">":
            continue  # a stock ticker or a company in a wire's markup: <GY>, <Houston Metals Corp>
        if span.start == art.text_start and surface.isupper() and _DATELINE_TAIL.match(text, span.end):
            span.dateline = True  # "TOKYO, March 3 -", "SPRINGFIELD, Ill., May 2 -": wire datelines
            keep.append(span)
            continue
        if letters.isupper() and len(letters) <= 5 and not art.all_caps:
            if span.key not in gaz.abbrevs:
                continue
            keep.append(span)  # a listed abbreviation written in capitals
            continue
        if len(letters) <= 3 and not letters.isupper():
            if span.sentence_start or headline or lex.zipf(span.key) >= 3.0:
                continue
        evidence = art.is_person(span, nation, pop)
        if not evidence and not nation and person_end == span.i \
                and _only_space(text, tokens[span.i - 1].end, span.start):
            evidence = 2  # a surname after a given name that is itself a place: "Judge Merrick Garland"
        if evidence:
            person_end = span.j
            # a person here is a person throughout the article, unless the name is a big
            # city's ("Paris Hilton" leaves Paris alone elsewhere)
            if pop < (2_000_000 if evidence == 2 else 100_000):
                persons.add(span.key)
            continue
        if span.demonym and _region_adjective(span, tokens, text):
            continue
        if not nation and k not in paired and art.given_name_first(span):
            # a given name before a capitalised word counts once the name turns out to mean a
            # small place or a province ("Milton Friedman": Milton, Ontario is big, the Milton
            # resolved to may not be; "Vladimir Putin": the Vladimir region)
            span.given_name = True
        if nation or k in paired:
            keep.append(span)
            continue
        if art.uses_in_lower_case(span.key):
            continue  # the article itself uses the word in lower case
        informative = not (span.sentence_start or headline or art.all_caps or surface.isupper()) \
            or (span.sentence_start and not headline and not art.all_caps and _before_local_noun(span, tokens, text))
        z = lex.zipf(span.key)
        # How big a place backs the name: a main name counts fully; an alternate name
        # (another language's, a former name) an order of magnitude less, and not at all
        # when it is a common English word ("Soul" for Seoul, "White House" for Casablanca).
        backing = math.log10(main_pop + 1) if main_pop >= 0 else -1.0
        if alt_pop >= 0 and z < 4.5:
            backing = max(backing, math.log10(alt_pop + 1) - 1.0)
        if main_pop < 0 and (alt_pop < 10_000 or (z >= 2.5 and alt_pop < 1_000_000)):
            # only another name of a small place, or an English word that is another name
            # of a mid-sized one ("Hamas" for Hamm, "Caller" for Cagliari): too risky
            continue
        if z >= 3.0 and z > backing - (0.5 if informative else 1.5):
            continue
        span.in_name = span.in_name or art.in_name(span)
        if pop < 100_000 and (span.in_name or art.before_name(span)):
            continue  # a small place's name inside a longer name ("Franklin Elementary")
        if lex.is_first_name(span.key) and pop < 200_000:
            continue
        keep.append(span)
    for span in keep:
        if span.key not in persons:
            span.landform = span.rows is None and not span.demonym and art.landform(span)
            span.compass = span.rows is None and span.i > 0 and tokens[span.i - 1].is_cap \
                and tokens[span.i - 1].folded in _COMPASS and text[tokens[span.i - 1].end : span.start] == " "
            yield span
