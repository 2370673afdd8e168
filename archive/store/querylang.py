"""The query language (the ``q`` parameter), parsed once into a small engine-neutral tree.

An engine compiles the tree to its own form (the PostgreSQL store to SQL with bound
parameters). The grammar follows what the Whoosh store accepts:

* ``words`` (all must match), ``"exact phrase"``, ``a AND b``, ``a OR b``, ``a NOT b``,
  ``NOT a``, ``-word``, ``+word``, ``(grouping)``, ``word^2`` (boost);
* ``field:word``, ``field:"phrase"``, ``field:(group)`` for the fields in :data:`FIELDS`;
* wildcards ``sanc*``, ``colo?r`` (two letters at least before them), fuzzy ``kremlim~``
  (``~2`` for two edits);
* ``date:[2016-01-01 TO 2016-12-31]`` (either end may be open), ``date:2016``, ``date:2016-08``,
  ``date:>2016-01-01``, ``year:2016``.

:func:`parse` raises QueryError(param="q") with a reader's message for what it cannot read.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass

from archive.errors import QueryError

FIELDS = ("title", "text", "place", "country", "source", "date", "year", "places", "id")


@dataclass(frozen=True)
class Term:
    """One word (``field`` None: title, text or a place of that name)."""

    field: str | None
    text: str
    boost: float = 1.0


@dataclass(frozen=True)
class Phrase:
    field: str | None
    text: str
    boost: float = 1.0


@dataclass(frozen=True)
class Wildcard:
    """``pattern`` with ``*`` (any letters) and ``?`` (one letter)."""

    field: str | None
    pattern: str


@dataclass(frozen=True)
class Fuzzy:
    field: str | None
    text: str
    distance: int = 1


@dataclass(frozen=True)
class Every:
    """``*`` alone: every article (as Whoosh reads it)."""


@dataclass(frozen=True)
class DateRange:
    """Articles dated from ``start`` to ``end`` inclusive (None: open)."""

    start: dt.date | None
    end: dt.date | None


@dataclass(frozen=True)
class And:
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    child: Node


Node = Term | Phrase | Wildcard | Fuzzy | DateRange | Every | And | Or | Not

_TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<lp>\()
  | (?P<rp>\))
  | (?P<phrase>"[^"]*"?)
  | (?P<range>[\[{][^\]}]*[\]}]?)
  | (?P<word>[^\s()"]+)
""", re.VERBOSE)
_FIELD = re.compile(rf"^({'|'.join(FIELDS)}):", re.IGNORECASE)
_OPERATORS = {"AND", "OR", "NOT", "ANDNOT"}


def unparsed(text: str) -> str:
    """The reader's message for a query that cannot be read."""
    hint = ("Dates look like date:[2016-01-01 TO 2016-12-31] (or use the from and to filters)"
            if "date:" in text.lower() else
            'Check brackets and quotes; see the query help for AND/OR/NOT, "phrases", field:word and word*')
    return f"Could not understand the query {text!r}. {hint}."


def _tokens(text: str) -> list[tuple[str, str, bool]]:
    """(kind, value, after_space) tokens; a field prefix is its own ``field`` token."""
    out: list[tuple[str, str, bool]] = []
    space = True
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        # The alternatives cover every character (``word`` takes all but spaces, brackets, quotes).
        assert m is not None and m.lastgroup is not None, (text, pos)
        kind, value = m.lastgroup, m.group(0)
        pos = m.end()
        if kind == "ws":
            space = True
            continue
        if kind == "word":
            start = m.start()
            while True:
                f = _FIELD.match(value)
                if not f:
                    break
                out.append(("field", f.group(1).lower(), space))
                space = False
                value = value[f.end():]
                start += f.end()
                if value[:1] in ("[", "{"):
                    pos, value = start, ""  # a range: read it whole, spaces and all
                    break
            if not value:
                continue  # the field's value follows: a phrase, a group or a range
            if space and value[0] in "-+" and len(value) > 1:
                out.append((value[0], value[0], True))
                value = value[1:]
                space = False
                f = _FIELD.match(value)
                if f:
                    out.append(("field", f.group(1).lower(), False))
                    value = value[f.end():]
                    if not value:
                        continue
        out.append((kind, value, space))
        space = False
    return out


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.toks = _tokens(text)
        self.i = 0

    def peek(self):
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self):
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def is_op(self, name: str) -> bool:
        tok = self.peek()
        return tok is not None and tok[0] == "word" and tok[1] == name

    def parse_or(self, field):
        parts = [self.parse_and(field)]
        while self.is_op("OR"):
            self.take()
            parts.append(self.parse_and(field))
        parts = [p for p in parts if p is not None]
        if not parts:
            return None
        return parts[0] if len(parts) == 1 else Or(tuple(parts))

    def parse_and(self, field):
        parts = []
        while (tok := self.peek()) is not None and tok[0] != "rp" and not self.is_op("OR"):
            if self.is_op("AND"):
                self.take()
                continue
            if self.is_op("NOT") or self.is_op("ANDNOT"):
                self.take()
                node = self.parse_unary(field)
                if node is not None:
                    parts.append(Not(node))
                continue
            node = self.parse_unary(field)
            if node is not None:
                parts.append(node)
        if not parts:
            return None
        return parts[0] if len(parts) == 1 else And(tuple(parts))

    def parse_unary(self, field):
        tok = self.peek()
        if tok is None:
            return None
        if tok[0] == "-":
            self.take()
            node = self.parse_atom(field)
            return Not(node) if node is not None else None
        if tok[0] == "+":
            self.take()
        return self.parse_atom(field)

    def parse_atom(self, field):
        if self.peek() is None:
            return None
        kind, value, _space = self.take()
        if kind == "field":
            if self.peek() is None:
                return None
            return self.parse_atom(value)
        if kind == "lp":
            node = self.parse_or(field)
            if self.peek() is not None and self.peek()[0] == "rp":
                self.take()
            return node
        if kind == "rp":
            return None
        if kind == "phrase":
            words = value.strip('"')
            return _phrase(field, words) if words.strip() else None
        if kind == "range":
            return self.range_node(field, value)
        if kind in ("-", "+"):
            return self.parse_atom(field)
        if value in _OPERATORS:
            return None  # an operator with nothing to join
        return self.word(field, value)

    def word(self, field, value: str):
        boost = 1.0
        m = re.fullmatch(r"(.+?)\^(\d+(?:\.\d+)?)", value)
        if m:
            value, boost = m.group(1), float(m.group(2))
        if field == "date":
            return _date_value(self.text, value)
        m = re.fullmatch(r"(.+?)~(\d?)", value)
        if m and re.search(r"\w", m.group(1)):
            return Fuzzy(field, m.group(1).lower(), min(2, int(m.group(2) or 1)))
        if value == "*" and field is None:
            return Every()
        if "*" in value or "?" in value:
            stem = re.split(r"[*?]", value)[0]
            if len(stem) < 2:
                raise QueryError(f"Wildcards need at least two letters before * or ? (got {value!r}).",
                                 param="q")
            return Wildcard(field, value.lower())
        if not re.search(r"\w", value):
            return None  # punctuation only: nothing to search for
        return Term(field, value, boost)

    def range_node(self, field, value: str):
        if field not in ("date", "year"):
            raise QueryError(unparsed(self.text), param="q")
        m = re.fullmatch(r"[\[{]\s*(\S*?)\s*\bTO\b\s*(\S*?)\s*[\]}]", value, re.IGNORECASE)
        if not m:
            raise QueryError(unparsed(self.text), param="q")
        lo, hi = (v if v not in ("", "*") else None for v in m.groups())
        if field == "year":
            try:
                lo_d = dt.date(int(lo), 1, 1) if lo else None
                hi_d = dt.date(int(hi), 12, 31) if hi else None
            except ValueError:
                raise QueryError(unparsed(self.text), param="q") from None
            return DateRange(lo_d, hi_d)
        return DateRange(_day(self.text, lo, first=True) if lo else None,
                         _day(self.text, hi, first=False) if hi else None)


def _phrase(field, words: str):
    words = words.strip()
    if not re.search(r"\w", words):
        return None
    return Phrase(field, words) if len(words.split()) > 1 else Term(field, words)


def _day(text: str, value: str, first: bool) -> dt.date:
    """A date (YYYY, YYYY-MM or YYYY-MM-DD) as its first or last day."""
    m = re.fullmatch(r"(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?", value)
    try:
        if not m:
            raise ValueError
        year, month, day = int(m.group(1)), m.group(2), m.group(3)
        if month is None:
            return dt.date(year, 1, 1) if first else dt.date(year, 12, 31)
        if day is None:
            month = int(month)
            return dt.date(year, month, 1 if first else calendar.monthrange(year, month)[1])
        return dt.date(year, int(month), int(day))
    except ValueError:
        raise QueryError(unparsed(text), param="q") from None


def _date_value(text: str, value: str) -> DateRange:
    # Only days, months and years (and [a TO b] ranges): "date:>2016" is refused with the
    # date hint, as the Whoosh store's parser refuses it.
    return DateRange(_day(text, value, first=True), _day(text, value, first=False))


def parse(text: str) -> Node:
    """The tree of a query, or QueryError(param="q") when it cannot be read or has no words."""
    parser = _Parser(text)
    try:
        node = parser.parse_or(None)
        while parser.peek() is not None:  # a stray ')' closes nothing: read on after it
            parser.take()
            more = parser.parse_or(None)
            if more is not None:
                node = more if node is None else And((node, more))
    except QueryError:
        raise
    except (ValueError, IndexError, TypeError, RecursionError):
        raise QueryError(unparsed(text), param="q") from None
    if node is None:
        raise QueryError(f"The query {text!r} has no words to search for.", param="q")
    return node


def drop_stop_words(node: Node, stop_words: frozenset[str]) -> Node:
    """Drop bare stop words (on title, text or no field) from AND groups that have other clauses.

    Phrases keep theirs ("siege of Aleppo"); a group of stop words only keeps them all. The
    Whoosh store does the same on its own tree, so "the war" ranks as "war" in both stores.
    """
    if isinstance(node, And):
        kids = tuple(drop_stop_words(c, stop_words) for c in node.children)
        kept = tuple(c for c in kids if not (isinstance(c, Term) and c.field in (None, "title", "text")
                                             and c.text.lower() in stop_words))
        if kept and len(kept) < len(kids):
            return And(kept) if len(kept) > 1 else kept[0]
        return And(kids)
    if isinstance(node, Or):
        return Or(tuple(drop_stop_words(c, stop_words) for c in node.children))
    if isinstance(node, Not):
        return Not(drop_stop_words(node.child, stop_words))
    return node


def walk(node: Node):
    """Every node of the tree, depth first."""
    yield node
    if isinstance(node, (And, Or)):
        for child in node.children:
            yield from walk(child)
    elif isinstance(node, Not):
        yield from walk(node.child)


def positive_leaves(node: Node, negated: bool = False):
    """The leaves that make an article match (not those under NOT): what ranking and snippets use."""
    if isinstance(node, (And, Or)):
        for child in node.children:
            yield from positive_leaves(child, negated)
    elif isinstance(node, Not):
        yield from positive_leaves(node.child, not negated)
    elif not negated:
        yield node
