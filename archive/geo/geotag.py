"""Find place mentions in articles and resolve them with any geopy-style geocode callable.

Pipeline, per article (title and text together):

1. :func:`archive.geo.recognize.find_spans` proposes spans: the longest runs of words starting
   with a capital that are gazetteer names (folded: case, diacritics, punctuation), or
   country adjectives; :func:`archive.geo.recognize.find_region_codes` adds "City, ST" codes,
   :func:`~archive.geo.recognize.find_state_abbreviations` dotted state and province
   abbreviations anywhere ("W.Va.", "Ont."), and :func:`~archive.geo.recognize.find_county_lists`
   each county of "Laurel and Knox counties".
2. :mod:`archive.geo.filters` drops people, common words, abbreviations nobody lists and
   boilerplate (the rules are described there).
3. Every distinct name is looked up once through the geocode callable
   (``geocode(name, exactly_one=False)``) and :mod:`archive.geo.resolve` picks one place per
   name per article (one sense per discourse), from prominence (countries, capitals,
   population) and what the article says: the countries and states its clearly-placed
   names lie in, and "City, State" pairs. Two exceptions are per occurrence: region codes
   and a state named in so many words ("Washington state", "Buffalo, New York").
4. :mod:`archive.geo.vetting` takes second thoughts with the whole article in view: a village
   or a lone province abroad in an article clearly set elsewhere is left untagged (a
   gazetteer gap is likelier than the village), and so is a city written with a state code
   ("Warrington, Pa.") when the gazetteer has no such city in that state.

Context counts the article's countries from its clear-cut names, its country adjectives
("British politics", even when they are not tagged), and on a second look the confident
choices of the first; a person named anywhere in the title or text is a person throughout.

A wire dateline ("TOKYO, March 3 -", "HORSHAM, Pa., May 5 -") is resolved without the
article's context, since it names the bureau's city, not the story's countries.

A source's home (``home=``, the overrides file's ``[home]``, or inferred per source by
:mod:`archive.geo.home`) favours its namesakes unless the story names a place abroad that
has no namesake at home (:func:`_abroad`).

Decisions worth knowing:

- Demonyms that denote a country ("Syrian", "Russian") are recognised, but tagged as that
  country only with ``demonyms=True`` (``geoarchive ingest/geotag --demonyms``). They are
  off by default because annotators disagree and a wrong pin costs more trust than a
  missed one: GeoWebNews counts 305 of its 312 capitalised demonyms as toponyms,
  GeoVirus none of its 223, and with them on GeoVirus precision falls from 0.92 to 0.82
  (``bench/eval.py`` prints both modes). Plurals ("Russians", people) are never tagged.
- Place names embedded in the names of organisations, events and works ("The Washington
  Post", "Paris Agreement") are tagged as the place they name: the name still points at
  that place, and annotated news corpora count these (GeoWebNews' Embedded_Non_Lit).
  People are different: "Paris Hilton", "President Obama", "Obama said" are not places.
- Countries resolve to their GeoNames country point, never to the capital.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from archive.geo.filters import accept_spans
from archive.geo.gazetteer import Gazetteer, load_gazetteer, resolve_home
from archive.geo.geocoder import GazetteerGeocoder
from archive.geo.home import HomeInference
from archive.geo.lexicon import Lexicon, load_lexicon
from archive.geo.recognize import (
    Span,
    Tokens,
    find_county_lists,
    find_region_codes,
    find_spans,
    find_state_abbreviations,
    find_unknown_spans,
    tokenize,
)
from archive.geo.resolve import Candidate, Context, choose, lookup, prior
from archive.geo.vetting import (
    SMALL_PLACE,
    drop_doubtful,
    drop_misplaced,
    find_pairs,
    landform_town,
    region_senses,
    region_weights,
)
from archive.models import Article, GeotaggedArticle, Mention

__all__ = ("Geotagger", "geotag", "geotag_records")

SECOND_PASS_CONFIDENCE = 0.8  # first choices this sure count as country context on a second look
ANCHOR_MARGIN = 2.0  # prior lead that makes a name's sense clear enough to set the context


class Geotagger:
    """Tags place mentions; build once, reuse for many articles.

    :param gazetteer: a loaded :class:`Gazetteer` (default: :func:`load_gazetteer`).
    :param geocode: any callable with geopy's signature ``geocode(query, exactly_one=False)``
        returning a list of ``Location`` or None; default: a :class:`GazetteerGeocoder`.
    :param overrides: an :class:`archive.geo.overrides.Overrides` (alias, block, pin names).
    :param demonyms: tag country adjectives ("Syrian") as their country (default False).
    :param fallback: optional geocode callable (e.g. :mod:`archive.geo.fallback`) asked about
        names the gazetteer lacks, found after a locative preposition ("in Qamishli").
    :param infer_homes: infer each source's home from its articles (default True; see
        :mod:`archive.geo.home`). Homes given by the user always win.
    """

    def __init__(self, gazetteer: Gazetteer | None = None, geocode: Callable[..., Any] | None = None,
                 overrides: Any | None = None, lexicon: Lexicon | None = None, demonyms: bool = False,
                 fallback: Callable[..., Any] | None = None, infer_homes: bool = True):
        self.gazetteer = gazetteer if gazetteer is not None else load_gazetteer()
        self.lexicon = lexicon if lexicon is not None else load_lexicon()
        if geocode is None:
            geocode = GazetteerGeocoder(self.gazetteer).geocode
        self.geocode = geocode
        self.overrides = overrides
        if overrides is not None:
            overrides.check(self.gazetteer)
        self.demonyms = demonyms
        self.fallback = fallback
        #: homes inferred per source from its clear-cut mentions (None: inference off)
        self.homes = HomeInference() if infer_homes else None
        self._cache: dict[str, list[Candidate]] = {}
        self._region_weights = region_weights(self.gazetteer)

    # -- public API ---------------------------------------------------------------
    def tag_text(self, text: str, field: str = "text", home: str | int | None = None,
                 source: str | None = None) -> list[Mention]:
        """Place mentions in one text; offsets index into ``text``.

        :param home: where the source is at home (a place name, "City, State" or a GeoNames
            id): its namesakes are preferred unless the story points to another country.
        :param source: the text's source, for its home in the overrides file or as inferred.
        """
        return self._tag_source([(field, text or "")], home, source)

    def geotag(self, article: Article, home: str | int | None = None) -> GeotaggedArticle:
        """Tag an article's title and text together (one sense per name per article).

        The home is ``home`` if given, else the overrides file's ``[home]`` entry for the
        article's source, else the home inferred for the source (see :mod:`archive.geo.home`).
        """
        mentions = self._tag_source([("title", article.title or ""), ("text", article.text or "")], home,
                                    article.source)
        return GeotaggedArticle(article=article, mentions=tuple(mentions))

    def inferred_homes(self) -> dict[str, tuple[str, str]]:
        """Sources whose home this tagger has inferred so far: case-folded name -> (country, admin1)."""
        return self.homes.homes() if self.homes is not None else {}

    def _tag_source(self, fields: list[tuple[str, str]], home: str | int | None, source: str | None) -> list[Mention]:
        if home is None and source and self.overrides is not None:
            home = self.overrides.home(source)
        where = self.home_of(home)
        if where is None and source and self.homes is not None:
            where = self.homes.home(source)
        regions: list[tuple[str, str]] = []
        mentions = self._tag(fields, where, regions)
        if source and self.homes is not None:
            self.homes.add(source, regions)
        return mentions

    def home_of(self, home: str | int | tuple[str, str] | None) -> tuple[str, str] | None:
        """(country, admin1 or "") of a home given as a GeoNames id, a name or "Name, Region";
        None when it is empty or unknown."""
        if isinstance(home, tuple):
            return home
        if home is None or home == "":
            return None
        key = ("home", str(home))
        memo = self.gazetteer.memo.setdefault("geotag.home", {})
        if key not in memo:
            memo[key] = resolve_home(self.gazetteer, home)
        return memo[key]

    # -- internals ----------------------------------------------------------------
    def _is_word(self, letters: str) -> bool:
        return self.lexicon.zipf(letters) >= 3.0

    def _is_common(self, word: str) -> bool:
        return self.lexicon.zipf(word) >= 3.5 or self.lexicon.is_first_name(word) or self.lexicon.is_title(word)

    def candidates(self, span: Span) -> list[Candidate]:
        """Every candidate place for a span's name, memoised by folded name."""
        key = span.key
        if span.rows is not None:  # the gazetteer alone knows what a region code means here
            gaz = self.gazetteer
            return [Candidate(gaz.place(r), gaz.admin1[r] or None,
                              admin2=gaz.ids[gaz.adm2[r]] if gaz.adm2[r] >= 0 else None) for r in span.rows]
        if key in self._cache:
            return self._cache[key]
        query = span.surface
        if self.overrides is not None:
            pinned = self.overrides.pinned(key)
            if pinned is not None:
                place = self.gazetteer.get(pinned)
                self._cache[key] = [Candidate(place, None)] if place else []
                return self._cache[key]
            query = self.overrides.alias(key) or query
        if span.demonym and query == span.surface:
            row = self.gazetteer.demonyms.get(key)
            if row is not None:
                query = self.gazetteer.names[row]
        found = lookup(self.geocode, query)
        if not found and self.fallback is not None:
            found = lookup(self.fallback, query)
        if len(self._cache) > 50_000:
            self._cache.clear()
        self._cache[key] = found
        return found

    def _tag(self, fields: list[tuple[str, str]], home: tuple[str, str] | None = None,
             regions: list[tuple[str, str]] | None = None) -> list[Mention]:
        found: list[tuple[str, str, Tokens, Span]] = []
        persons: set[str] = set()  # one article: a person in the text is a person in the title
        for name, text in fields:
            tokens = tokenize(text)
            # demonyms are always found: untagged by default, they still say where the article is
            spans = find_spans(text, tokens, self.gazetteer, self.overrides, True)
            codes = find_region_codes(text, tokens, spans, self.gazetteer)
            at = {c.start for c in codes}
            codes += [s for s in find_state_abbreviations(text, tokens, self.gazetteer, self._is_word)
                      if s.start not in at and not any(o.start <= s.start and s.end <= o.end and o.end - o.start
                                                       > s.end - s.start for o in spans)]  # "Washington D.C."
            codes += find_county_lists(text, tokens, self.gazetteer)
            if codes:
                # these replace any span they overlap ("Knox" of "Laurel and Knox counties")
                taken = [(c.start, c.end) for c in codes]
                spans = sorted([s for s in spans if not any(a < s.end and s.start < b for a, b in taken)] + codes,
                               key=lambda s: s.start)
            accepted = list(accept_spans(text, tokens, spans, self.gazetteer, self.lexicon, self.overrides,
                                         headline=(name == "title"), persons=persons))
            if self.fallback is not None:
                covered = {k for s in spans for k in range(s.i, s.j)}
                accepted += find_unknown_spans(text, tokens, covered, self._is_common)
                accepted.sort(key=lambda s: s.start)
            found.extend((name, text, tokens, span) for span in accepted)
        if persons:
            found = [f for f in found if f[3].key not in persons]
        ctx = Context(weights=self._region_weights)
        if not self.demonyms:
            for *_, span in found:
                if span.demonym:  # "British politics": evidence of the country, not a mention
                    cands = self.candidates(span)
                    if cands:
                        ctx.add(span.key, max(cands, key=prior))
            found = [f for f in found if not f[3].demonym]
        by_key: dict[str, list[Candidate]] = {}
        for *_, span in found:
            if span.key not in by_key or span.rows is not None:
                cands = self.candidates(span)
                if cands:
                    by_key[span.key] = cands
        # A wire dateline names the bureau's city: a well-known place unless it says which
        # ("SALVADOR, Feb 26 -" is Salvador, Bahia; "FRANKFURT" the German city), and never a stray.
        datelines = {f[3].key for f in found if f[3].dateline}
        # Context: places the article names whose sense is already clear.
        for key, cands in by_key.items():
            ranked = sorted(cands, key=prior, reverse=True)
            # a name is an anchor when one sense clearly dominates the others
            if len(ranked) == 1 or prior(ranked[0]) - prior(ranked[1]) >= ANCHOR_MARGIN:
                ctx.add(key, ranked[0])
                p = ranked[0].place
                if p.feature in ("PPL", "PPLA", "PPLC", "ADM2") and key not in datelines:
                    ctx.points.append((key, p.lat, p.lon))
            else:
                # or when its close senses all lie in one country: "Tokyo" the city or the
                # prefecture, "Moscow" the city or the oblast, either way Japan or Russia
                floor = prior(ranked[0]) - ANCHOR_MARGIN
                close = {c.place.country_code for c in ranked if prior(c) > floor}
                cc = ranked[0].place.country_code
                if len(close) == 1 and cc:
                    ctx.countries.setdefault(cc, set()).add(key)
        _add_counties(ctx, by_key)
        if home is not None:
            ctx.home = home  # a local paper's namesakes are at home, unless the story is abroad
            if not ctx.countries.get(home[0]) and _abroad(ctx, by_key):
                ctx.home = None
        pairs, certain = find_pairs(found, by_key)
        chosen = {k: choose(c, Context() if k in datelines else ctx, pairs.get(k, ()), k, k in certain)
                  for k, c in by_key.items()}
        if len(chosen) > 1:
            # A second look with every name's first choice as country context: "Barcelona" was
            # not clear-cut alone, but once it is Spain's it helps "Seville" be Spain's too.
            # (Countries only: more states would dilute the ones the article really names.)
            ctx2 = Context(countries={cc: set(v) for cc, v in ctx.countries.items()}, admin1s=ctx.admin1s,
                           weights=ctx.weights, counties=ctx.counties, inside=ctx.inside, home=ctx.home,
                           sure_counties=ctx.sure_counties, county_regions=ctx.county_regions,
                           points=ctx.points)
            for k, (cand, conf) in chosen.items():
                if k not in datelines and cand.place.country_code and conf >= SECOND_PASS_CONFIDENCE:
                    ctx2.countries.setdefault(cand.place.country_code, set()).add(k)
            _add_beside(ctx2, found, chosen)
            chosen = {k: v if k in datelines else choose(by_key[k], ctx2, pairs.get(k, ()), k, k in certain)
                      for k, v in chosen.items()}
        drop_doubtful(chosen, by_key, ctx, pairs, certain, datelines, self.lexicon)
        drop_misplaced(found, by_key, chosen)
        if regions is not None:  # evidence of the source's home: the states of its confident choices
            regions.extend((c.place.country_code, c.admin1) for c, conf in chosen.values()
                           if conf >= SECOND_PASS_CONFIDENCE and c.admin1 and c.place.country_code
                           and c.place.feature not in ("PCLI", "CONT", "ADM1"))
        senses = region_senses(found, by_key, chosen)
        most = max((len(v) for v in ctx.countries.values()), default=0)
        main_countries = {cc for cc, names in ctx.countries.items() if most and len(names) == most}
        mentions = []
        for n, (name, _, _, span) in enumerate(found):
            if span.key in chosen:
                cand, conf = chosen[span.key]
                cand = senses.get(n, cand)
                small = cand.place.population < SMALL_PLACE or cand.alt
                if span.in_name and small and cand.place.feature not in ("PCLI", "CONT", "ADM1"):
                    continue  # "Lansdowne Road": a name, not the small town
                if span.landform and not landform_town(cand, ctx, span.key):
                    continue  # "Mississippi River", "Islington Bay" in a New Zealand story
                if span.compass and cand.place.feature not in ("PCLI", "CONT") \
                        and not ctx.country_support(cc := cand.place.country_code, span.key) \
                        and any(names - {span.key} for c, names in ctx.countries.items() if c != cc):
                    continue  # "the West Midlands" in a story set in England: not Zimbabwe's Midlands
                cc = cand.place.country_code
                province = cand.place.feature == "ADM1" or any(  # a city naming its province counts as one
                    c.place.feature == "ADM1" and c.admin1 == cand.admin1 and c.place.country_code == cc
                    for c in by_key.get(span.key, ()))
                if span.given_name and cand.place.feature not in ("PCLI", "CONT") \
                        and (small or (province and cand.place.country_code not in main_countries)):
                    # "Milton Friedman", "Vladimir Putin": a person, not a small town, a city
                    # that only one of its other names connects to the word, or a province
                    # abroad (at home, "Virginia Democrats" are the state's)
                    continue
                mentions.append(Mention(name, span.start, span.end, span.surface, cand.place, conf))
        return mentions


def _abroad(ctx: Context, by_key: dict[str, list[Candidate]]) -> bool:
    """The story names a place abroad that has no namesake at home ("France", "French"):
    then the source's home says nothing about it."""
    if ctx.home is None:
        return False
    for cc, names in ctx.countries.items():
        if cc == ctx.home[0]:
            continue
        for key in names:
            if not any(ctx.at_home(c) for c in by_key.get(key, ())):
                return True
    return False


def _add_beside(ctx: Context, found: list, chosen: dict[str, tuple[Candidate, float]]) -> None:
    """Note where each name written just after a confidently placed town is, and each town
    written just before a confidently placed county: "Pandi, Bulacan" names the Bulacan beside
    Pandi (a district or its seat), "Newport, Shropshire" the Newport in Shropshire, whatever
    else the story names."""
    for (f1, t1, _, s1), (f2, _, _, s2) in zip(found, found[1:], strict=False):
        if f1 != f2 or t1[s1.end : s2.start] != ", " or s1.key == s2.key or s1.key not in chosen:
            continue
        town, conf = chosen[s1.key]
        if conf >= SECOND_PASS_CONFIDENCE and town.place.feature not in ("PCLI", "CONT", "ADM1"):
            ctx.beside.setdefault(s2.key, []).append((town.place.lat, town.place.lon))
        county, conf = chosen.get(s2.key, (None, 0.0))
        if county is not None and conf >= SECOND_PASS_CONFIDENCE and county.place.feature == "ADM2":
            # "Newport, Shropshire": the Newport in (or next to) the county written after it
            ctx.beside.setdefault(s1.key, []).append((county.place.lat, county.place.lon))


def _add_counties(ctx: Context, by_key: dict[str, list[Candidate]]) -> None:
    """Record the town-in-county pairs the article names, where the pairing is unique: of
    all the senses of a town's name, one lies in a sense of a county's name, and that
    county is the only one holding such a town ("Dublin" and "Franklin County": Dublin,
    Ohio). "Washington" and "Washington County" pair in several states, so they say nothing.
    Counties whose name has a single sense ("Laurel County") are noted as sure."""
    named: dict[int, set[str]] = {}
    regions: set[tuple[str | None, str | None]] = set()
    for key, cands in by_key.items():
        adm2 = [c for c in cands if c.place.feature == "ADM2"]
        for c in adm2:
            named.setdefault(c.place.geonameid, set()).add(key)
            if len(adm2) == 1:
                ctx.sure_counties.add(c.place.geonameid)
                regions.add((c.place.country_code, c.admin1))
    ctx.county_regions = max(len(regions), 1)  # "Laurel and Knox counties": 1; a national list: more
    if not named:
        return
    pairs: dict[tuple[str, str], set[tuple[int, int]]] = {}
    for key, cands in by_key.items():
        for c in cands:
            if c.admin2 is None:
                continue
            for county_key in named.get(c.admin2, ()):
                if county_key != key:
                    pairs.setdefault((key, county_key), set()).add((c.place.geonameid, c.admin2))
    for (key, county_key), found in pairs.items():
        if len(found) == 1:
            town, county = next(iter(found))
            ctx.counties.setdefault(town, set()).add(county_key)  # town id -> county names holding it
            ctx.inside.setdefault(county, set()).add(key)  # county id -> town names inside it


def geotag(article: Article, geocode: Callable[..., Any] | None = None) -> GeotaggedArticle:
    """Tag one article with a fresh :class:`Geotagger` (build a Geotagger to tag many)."""
    return Geotagger(geocode=geocode).geotag(article)


def geotag_records(lines: Iterable[str], tagger: Geotagger,
                   on_error: Callable[[int, str], None]) -> Iterator[dict]:
    """Tag JSON Lines records ``{"id", "text"}``; yield ``{"id", "toponyms": [...]}`` per good line.

    Malformed lines are reported as ``on_error(line_number, message)`` and skipped; blank
    lines are ignored. Toponym offsets index into ``text``. A record may give its source's
    ``home`` (a place name, "City, State" or a GeoNames id); otherwise the overrides file's
    ``[home]`` entry for its ``source`` is used, or the home inferred for that source. Each toponym names its first- and
    second-level division (``admin1``, ``admin2``: ``{"geonameid", "name"}`` or null).
    """
    for lineno, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as e:
            on_error(lineno, f"invalid JSON: {e.msg} at column {e.colno}")
            continue
        if not isinstance(rec, dict):
            on_error(lineno, f"expected a JSON object, got {type(rec).__name__}")
            continue
        if "id" not in rec:
            on_error(lineno, "missing required field 'id'")
            continue
        text = rec.get("text")
        if not isinstance(text, str):
            problem = "missing required field 'text'" if text is None else "field 'text' must be a string"
            on_error(lineno, problem)
            continue
        home = rec.get("home")
        if home is not None and not isinstance(home, str | int):
            on_error(lineno, "field 'home' must be a place name or a GeoNames id")
            continue
        source = rec.get("source") if isinstance(rec.get("source"), str) else None
        toponyms = [
            {
                "start": m.start, "end": m.end, "name": m.surface,
                "lat": m.place.lat, "lon": m.place.lon, "geonameid": m.place.geonameid,
                "country_code": m.place.country_code, "feature": m.place.feature,
                "score": m.score,
                **{level: None if div is None else {"geonameid": div[0], "name": div[1]}
                   for level, div in (("admin1", m.place.admin1), ("admin2", m.place.admin2))},
            }
            for m in tagger.tag_text(text, home=home, source=source)
        ]
        yield {"id": rec["id"], "toponyms": toponyms}
