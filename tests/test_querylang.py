"""The engine-neutral query parser (archive/store/querylang.py): the trees engines compile."""

import datetime as dt

import pytest

from archive.errors import QueryError
from archive.store.querylang import And, DateRange, Fuzzy, Not, Or, Phrase, Term, Wildcard, parse, positive_leaves


@pytest.mark.parametrize(("q", "tree"), [
    ("sanctions Moscow", And((Term(None, "sanctions"), Term(None, "Moscow")))),
    ("a AND b OR c", Or((And((Term(None, "a"), Term(None, "b"))), Term(None, "c")))),
    ("a NOT b", And((Term(None, "a"), Not(Term(None, "b"))))),
    ("a -b", And((Term(None, "a"), Not(Term(None, "b"))))),
    ("U.S.-Mexico border", And((Term(None, "U.S.-Mexico"), Term(None, "border")))),  # a hyphen inside is no NOT
    ('"copper exports"', Phrase(None, "copper exports")),
    ('title:"white house"', Phrase("title", "white house")),
    ("title:(tanks OR copper)", Or((Term("title", "tanks"), Term("title", "copper")))),
    ("place:172082", Term("place", "172082")),
    ("sanc*", Wildcard(None, "sanc*")),
    ("kremlim~", Fuzzy(None, "kremlim", 1)),
    ("kremlim~2", Fuzzy(None, "kremlim", 2)),
    ("word^2", Term(None, "word", 2.0)),
    ("foo:bar", Term(None, "foo:bar")),  # not a field: a word
    ("date:[2016-01-01 TO 2016-12-31]", DateRange(dt.date(2016, 1, 1), dt.date(2016, 12, 31))),
    ("date:[2016-05 TO]", DateRange(dt.date(2016, 5, 1), None)),
    ("date:2016-02", DateRange(dt.date(2016, 2, 1), dt.date(2016, 2, 29))),
    ("year:[2015 TO 2016]", DateRange(dt.date(2015, 1, 1), dt.date(2016, 12, 31))),
    ("a NOT", Term(None, "a")),
])
def test_trees(q, tree):
    assert parse(q) == tree


@pytest.mark.parametrize("q", ["s*", "date:[2016", "date:[soon TO later]", "(((", "\\", "AND OR", '"'])
def test_unreadable_queries_raise_a_readers_error_on_q(q):
    with pytest.raises(QueryError) as err:
        parse(q)
    assert err.value.param == "q" and str(err.value)
    assert "int()" not in str(err.value)


def test_positive_leaves_skip_negated_words():
    leaves = list(positive_leaves(parse("a -b NOT (c OR -d)")))
    assert leaves and leaves == [Term(None, "a"), Term(None, "d")]
