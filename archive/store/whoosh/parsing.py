"""The query language on Whoosh: the parser, stop words, and place and country names resolved.

The user's ``q`` is parsed by a Whoosh ``MultifieldParser`` (see ``search.py`` for the
language), then rewritten: bare stop words are dropped from AND groups, place names become
GeoNames ids and country names ISO codes, using the per-index tables read from the lexicon.
"""

from __future__ import annotations

import re

from whoosh import query as wq
from whoosh.analysis import StemmingAnalyzer
from whoosh.qparser import AndGroup, FieldsPlugin, FuzzyTermPlugin, MultifieldParser, PlusMinusPlugin

from archive.errors import QueryError
from archive.models import Place
from archive.store.query import STOP_WORDS
from archive.store.stored import parse_place_term

QUERY_FIELDS = ("title", "text", "place", "country", "source", "date", "year", "places", "id")
_NO_POSITIONS = frozenset({"country", "places", "year", "id", "pid"})
#: The stop words as the title/text analyzer indexes them (stemmed: "this" -> "thi").
_STOP_STEMS = frozenset(t.text for w in STOP_WORDS for t in StemmingAnalyzer(stoplist=None)(w))


# ---------------------------------------------------------------- per-index tables


def _tables(lease) -> dict:
    """Place table and name lookups read from the index lexicon (cached per index generation)."""
    t = lease.derived.get("tables")
    if t is not None:
        return t
    with lease.build_lock:
        reader = lease.searcher.reader()
        place_words = lease.searcher.schema["place"].analyzer

        def key(name: str) -> str:
            return " ".join(t.text for t in place_words(name))

        places: dict[int, Place] = {}
        names: dict[str, set[int]] = {}
        for term in reader.lexicon("pinfo"):
            p = parse_place_term(term.decode("utf-8"))
            places[p.geonameid] = p
            names.setdefault(key(p.name), set()).add(p.geonameid)
        for term in reader.lexicon("pspell"):
            gid, _, surface = term.decode("utf-8").partition("|")
            names.setdefault(key(surface), set()).add(int(gid))
        countries: dict[str, str] = {}
        for p in places.values():
            if p.country_code and p.feature.startswith("PCL"):
                countries.setdefault(p.country_code.upper(), p.name)
        country_names = {key(name): cc.lower() for cc, name in countries.items()}
        t = {"places": places, "names": names, "countries": countries, "country_names": country_names,
             "parser": _make_parser(lease.searcher.schema)}
        lease.derived["tables"] = t
    return t


# ---------------------------------------------------------------- query language


def _make_parser(schema) -> MultifieldParser:
    parser = MultifieldParser(["title", "text", "place"], schema, fieldboosts={"place": 0.5}, group=AndGroup)
    parser.remove_plugin_class(FieldsPlugin)
    parser.add_plugin(FieldsPlugin(expr=rf"(?P<text>{'|'.join(QUERY_FIELDS)}):"))
    parser.add_plugin(FuzzyTermPlugin())
    # Only a leading +/- is an operator: "U.S.-Mexico" stays one clause.
    parser.add_plugin(PlusMinusPlugin(plusexpr=r"(?:(?<=\s)|^)\+(?=[\w\"(])",
                                      minusexpr=r"(?:(?<=\s)|^)-(?=[\w\"(])"))
    return parser


def _walk(q):
    yield q
    for child in q.children():
        yield from _walk(child)


def _unparsed(text: str) -> str:
    hint = ("Dates look like date:[2016-01-01 TO 2016-12-31] (or use the from and to filters)"
            if "date:" in text.lower() else
            'Check brackets and quotes; see the query help for AND/OR/NOT, "phrases", field:word and word*')
    return f"Could not understand the query {text!r}. {hint}."


def _parse_q(lease, text: str):
    """Parse the user's query into (Whoosh query, GeoNames ids its ``place:`` clauses name), or raise QueryError."""
    tables = _tables(lease)
    if text.split() and all(w in ("AND", "OR", "NOT", "ANDNOT") for w in text.split()):
        # Operators alone (the shared query language reads them so; Whoosh would search "and").
        raise QueryError(f"The query {text!r} has no words to search for.", param="q")
    try:
        q = tables["parser"].parse(text)
    except Exception:  # Whoosh raises bare exceptions for some range and date syntax
        raise QueryError(_unparsed(text), param="q") from None
    for node in _walk(q):
        if getattr(node, "error", None):
            # Whoosh's own text ("invalid literal for int() ...") would mean nothing to a reader.
            raise QueryError(_unparsed(text), param="q")
        if isinstance(node, (wq.Wildcard, wq.Prefix)):
            stem = re.split(r"[*?]", node.text)[0]
            if len(stem) < 2:
                raise QueryError(f"Wildcards need at least two letters before * or ? (got {node.text!r}).",
                                 param="q")
    if q is wq.NullQuery or isinstance(q, type(wq.NullQuery)):
        raise QueryError(f"The query {text!r} has no words to search for.", param="q")
    q = _drop_stop_words(q)
    named: set[int] = set()
    q = _rewrite_tree(q, tables, named)
    for node in _walk(q):
        if isinstance(node, wq.Or) and len(node.subqueries) < 64:
            # Whoosh preloads small segments' Ors into arrays sized to the segment; a union tree
            # is much cheaper for the few clauses a typed query has.
            node.matcher_type = wq.Or.DEFAULT_MATCHER
    return q, named


def _is_stop_clause(node) -> bool:
    """Whether ``node`` is one bare stop word (its title/text terms; place names drop stop words)."""
    if isinstance(node, wq.Term):
        return node.fieldname in ("title", "text") and node.text in _STOP_STEMS
    return isinstance(node, wq.Or) and bool(node.subqueries) and all(_is_stop_clause(c) for c in node.subqueries)


def _drop_stop_words(node):
    """Drop bare stop words from AND groups that have other clauses (phrases keep theirs)."""
    if isinstance(node, wq.And):
        kept = [c for c in node.subqueries if not _is_stop_clause(c)]
        if kept and len(kept) < len(node.subqueries):
            node = wq.And(kept, boost=node.boost) if len(kept) > 1 else kept[0]
    if node.is_leaf():
        return node
    return node.apply(_drop_stop_words)


def _place_ids(node, tables) -> set[int]:
    if isinstance(node, wq.Term):
        return {int(node.text)} if node.text.isdigit() else tables["names"].get(node.text, set())
    if isinstance(node, wq.Phrase):
        return tables["names"].get(" ".join(node.words), set())
    return set()


def _rewrite_tree(node, tables, named: set[int]):
    """Rewrite the parsed tree: place words become GeoNames ids (see :func:`_rewrite`).

    A plain word is parsed as ``title:w OR text:w OR place:w``; its place clause is replaced
    by the ids of the places of that name (so Azaz finds A'zaz and I‘zāz) or dropped when no
    place has that name, which keeps common words cheap to rank.
    """
    subs = node.subqueries if isinstance(node, wq.Or) else ()
    if subs and all(isinstance(c, (wq.Term, wq.Phrase)) for c in subs) and \
            {c.fieldname for c in subs} == {"title", "text", "place"}:
        kids = []
        for child in subs:
            if child.fieldname != "place":
                kids.append(child)
            elif ids := _place_ids(child, tables):
                kids.append(wq.Or([wq.Term("pid", str(i)) for i in sorted(ids)], boost=child.boost))
        return wq.Or(kids, boost=node.boost)
    if node.is_leaf():
        return _rewrite(node, tables, named)
    if isinstance(node, wq.Not):
        return node.apply(lambda child: _rewrite_tree(child, tables, set()))  # excluded places rank nothing
    return node.apply(lambda child: _rewrite_tree(child, tables, named))


def _rewrite(node, tables, named: set[int]):
    """Resolve ``place:`` names to GeoNames ids (added to ``named``) and ``country:`` names to ISO codes."""
    if isinstance(node, wq.Term) and node.fieldname == "place":
        if node.text.isdigit():
            named.add(int(node.text))
            return wq.Term("pid", node.text)
        ids = tables["names"].get(node.text)
        if ids:
            named.update(ids)
            return wq.Or([node] + [wq.Term("pid", str(i)) for i in sorted(ids)], boost=node.boost)
    elif isinstance(node, wq.Phrase) and node.fieldname == "place":
        ids = tables["names"].get(" ".join(node.words))
        if ids:
            named.update(ids)
            return wq.Or([node] + [wq.Term("pid", str(i)) for i in sorted(ids)], boost=node.boost)
    elif isinstance(node, (wq.Term, wq.Phrase)) and node.fieldname == "country":
        words = node.text if isinstance(node, wq.Term) else " ".join(node.words)
        cc = tables["country_names"].get(words)
        if cc:
            return wq.Term("country", cc)
    if isinstance(node, wq.Phrase) and node.fieldname in _NO_POSITIONS:
        # These fields hold whole values, not running text: "a b" can only match as one value.
        return wq.Term(node.fieldname, " ".join(node.words), boost=node.boost)
    return node
