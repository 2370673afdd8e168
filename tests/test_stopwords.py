"""Stop words are indexed: phrases of common words are found, and match exactly.

The behaviour every store shares (the cases below run against Whoosh and PostgreSQL; the
old-index checks at the end are the Whoosh index's own):

* ``"to be or not to be"``, ``"The Who"``, ``"Let It Be"`` find the texts with those words in
  that order, and only those;
* a phrase with a stop word inside (``"siege of Aleppo"``) does not match "siege in Aleppo";
* outside quotes a stop word is ignored when the query has other words (same hits, same order
  as without it); a query made only of stop words requires all of them;
* an index built before stop words were indexed is refused with the command that rebuilds it.
"""

from __future__ import annotations

import datetime as dt

import pytest
from click.testing import CliRunner

from archive.cli import cli
from archive.errors import IndexSchemaError
from archive.models import Article, GeotaggedArticle, SearchRequest
from archive.store import open_store

TEXTS = {
    "hamlet": ("Hamlet at the Globe", "The actor paused: to be or not to be, that is the question he asked."),
    "honest": ("An honest answer", "To be honest, he would not be there, or anywhere near it, to see it be done."),
    "thewho": ("Concert review", "The Who played a long set in London on Saturday night."),
    "who": ("Who said what", "Who said the concert was over? The band played on."),
    "letitbe": ("Album anniversary", "Let It Be was the last album the band released."),
    "letthem": ("Parenting advice", "Let them be: it is late, and it is quiet now."),
    "siege-of": ("Siege ends", "The siege of Aleppo ended after four years of war."),
    "siege-in": ("Siege goes on", "The siege in Aleppo goes on, with war in the streets."),
    "war-in": ("In the war in the city in the end", "War came to the city in the spring; in the end it was war."),
    "possessive": ("Policy", "Britain's economy shrank, a house of cards."),
    "plain": ("Policy", "The Britain economy figures came late; a house fell."),
}


@pytest.fixture(scope="module")
def store(module_store_factory):
    """The texts in a store of each kind (tests/stores.py)."""
    s = module_store_factory()
    s.add([GeotaggedArticle(Article(k, t, x, dt.date(2020, 1, 1 + i))) for i, (k, (t, x)) in enumerate(TEXTS.items())])
    return s


def ids(store, q: str, **kw) -> list[str]:
    return [h.id for h in store.search(SearchRequest(q=q, per_page=50, **kw)).hits]


@pytest.mark.parametrize("q, want", [
    ('"to be or not to be"', ["hamlet"]),
    ('"The Who"', ["thewho"]),
    ('"Let It Be"', ["letitbe"]),
    ('"siege of Aleppo"', ["siege-of"]),
    ('"siege in Aleppo"', ["siege-in"]),
    ('"war in the streets"', ["siege-in"]),
])
def test_phrases_of_common_words_match_exactly(store, q, want):
    assert ids(store, q) == want
    page = store.search(SearchRequest(q=q))
    assert page.total == len(want)


@pytest.mark.parametrize("q, want", [
    ('"Britain economy"', ["plain", "possessive"]),  # the possessive 's is not a word between them
    ("Britain's", ["plain", "possessive"]),
    ('"a house"', ["plain", "possessive"]),  # one-letter words are indexed
    ('"a house of cards"', ["possessive"]),
])
def test_possessives_and_one_letter_words(store, q, want):
    assert sorted(ids(store, q)) == want


def test_all_stop_word_query_requires_every_word(store):
    # Unquoted, "to be or not to be" needs all four words, in any order: the honest answer has them too.
    assert sorted(ids(store, "to be or not to be")) == ["hamlet", "honest"]
    assert sorted(ids(store, "the who")) == ["thewho", "who"]


def test_stop_words_beside_other_words_are_ignored(store):
    # Positive control: the word itself matters ...
    assert sorted(ids(store, "war")) == ["siege-in", "siege-of", "war-in"]
    # ... and "in"/"the" neither narrow the hits nor change their order.
    assert ids(store, "war in the") == ids(store, "war")
    assert ids(store, "the war") == ids(store, "war")
    with_stop = store.search(SearchRequest(q="in the war"))
    plain = store.search(SearchRequest(q="war"))
    assert [h.score for h in with_stop.hits] == [h.score for h in plain.hits]
    assert ids(store, "siege the Aleppo") == ids(store, "siege Aleppo") and ids(store, "siege Aleppo")


def test_phrase_highlight_marks_the_content_words(store):
    hit = store.search(SearchRequest(q='"siege of Aleppo"')).hits[0]
    assert "<mark>siege</mark>" in hit.snippet and "<mark>Aleppo</mark>" in hit.snippet
    assert "<mark>of</mark>" not in hit.snippet


def test_empty_query_still_a_clear_error(store):
    from archive.errors import QueryError

    with pytest.raises(QueryError, match="has no words to search for"):
        store.search(SearchRequest(q="!!!"))


# ------------------------------------------------------------------ old indexes


@pytest.fixture
def old_index(tmp_path):
    """An index with the schema of the previous release (no stop words, no centrality field)."""
    from whoosh import index as wi
    from whoosh.analysis import StemmingAnalyzer

    from archive.store.whoosh.schema import SCHEMA_MARK, make_schema

    schema = make_schema()
    schema.remove(SCHEMA_MARK)
    schema.remove("pcent")
    for name in ("title", "text"):
        schema[name].analyzer = StemmingAnalyzer()  # the old analyzer, with its stop list
    path = tmp_path / "old-index"
    path.mkdir()
    wi.create_in(str(path), schema).writer().commit()
    return path


def test_old_schema_index_is_refused_with_the_rebuild_command(old_index, tmp_path):
    store = open_store(old_index)
    want = (f"The index in '{old_index}/' was built by an older GeoArchive (index schema 1: stop words were "
            "not indexed")
    with pytest.raises(IndexSchemaError) as e:
        store.search(SearchRequest(q="war"))
    assert str(e.value).startswith(want)
    assert f"geoarchive ingest --index {old_index}-v2 <your files>" in str(e.value)
    with pytest.raises(IndexSchemaError):
        store.writer()  # never writes schema-2 documents into a schema-1 index
    with pytest.raises(IndexSchemaError):
        store.stats()
    result = CliRunner().invoke(cli, ["search", "war", "--index", str(old_index)])
    assert result.exit_code == 1 and result.output.startswith(f"Error: {want}"), result.output
    src = tmp_path / "a.jsonl"
    src.write_text('{"id": "a", "title": "War", "text": "War again."}\n', encoding="utf-8")
    result = CliRunner().invoke(cli, ["ingest", "-q", "-j", "1", "--index", str(old_index), str(src)])
    assert result.exit_code == 1 and f"Error: {want}" in result.output, result.output
    # Control: a new index at a sibling path opens fine.
    fresh = open_store(tmp_path / "new-index")
    fresh.add([GeotaggedArticle(Article("a", "War", "War again."))])
    assert fresh.search(SearchRequest(q="war")).total == 1


def test_old_schema_index_answers_503_in_the_web_app(old_index):
    from web import create_app

    client = create_app({"TESTING": True, "INDEX_DIR": old_index}).test_client()
    with client.get("/api/search?q=war") as response:
        assert response.status_code == 503
        assert "built by an older GeoArchive" in response.get_json()["error"]


def test_stop_list_is_whooshs_so_both_stores_agree():
    from whoosh.analysis import STOP_WORDS as WHOOSH

    from archive.store.query import STOP_WORDS

    assert STOP_WORDS == WHOOSH and "the" in STOP_WORDS


_PRE_LAYOUT_MODULE = '''
from whoosh.analysis import Filter


class FoldFilter(Filter):
    """Stands in for archive.index.FoldFilter, which the previous release pickled into its schema."""

    def __call__(self, tokens):
        yield from tokens
'''

_PRE_LAYOUT_BUILD = '''
import sys
from whoosh import fields, index
from whoosh.analysis import RegexTokenizer
from gone_module import FoldFilter

analyzer = RegexTokenizer() | FoldFilter()
schema = fields.Schema(id=fields.ID(stored=True, unique=True), text=fields.TEXT(analyzer=analyzer))
index.create_in(sys.argv[1], schema).writer().commit()
'''


def test_an_index_whose_schema_names_a_module_that_is_gone_gets_the_rebuild_message(tmp_path):
    """Indexes of the release before the layout of stages pickled ``archive.index.FoldFilter``:
    they cannot even be unpickled now, and must get the rebuild message, not a traceback."""
    import subprocess
    import sys

    mods = tmp_path / "mods"
    mods.mkdir()
    (mods / "gone_module.py").write_text(_PRE_LAYOUT_MODULE, encoding="utf-8")
    path = tmp_path / "pre-layout"
    path.mkdir()
    subprocess.run([sys.executable, "-c", _PRE_LAYOUT_BUILD, str(path)], check=True, cwd=mods,
                   env={"PYTHONPATH": str(mods), "PATH": "/usr/bin:/bin"})
    assert any(path.glob("_MAIN_*.toc"))  # the index is there, written by the stand-in
    store = open_store(path)
    with pytest.raises(IndexSchemaError, match="built by an older GeoArchive"):
        store.search(SearchRequest(q="war"))
    with pytest.raises(IndexSchemaError, match="built by an older GeoArchive"):
        store.writer()
    src = tmp_path / "a.jsonl"
    src.write_text('{"id": "a", "title": "War", "text": "War again."}\n', encoding="utf-8")
    result = CliRunner().invoke(cli, ["ingest", "-q", "-j", "1", "--index", str(path), str(src)])
    assert result.exit_code == 1 and "built by an older GeoArchive" in result.output, result.output
