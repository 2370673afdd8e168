"""The Whoosh schema: analyzers, fields, and the check that refuses indexes of an older schema.

Besides the text fields, every article carries its places in several forms so that
search can answer place questions from the index alone:

* ``pid``: GeoNames ids (filters, place facet, map counts);
* ``pinfo``: one term per place, ``gid|name|lat|lon|cc|feature|population`` (the place
  table, read back from the lexicon);
* ``pspell``: ``gid|surface`` (spellings seen and how many articles used each);
* ``place``: the place names and spellings, folded to ASCII (``place:`` queries, did-you-mean);
* ``geo``: a geohash per place (bbox and radius filters by prefix lookup);
* ``pcent``: ``gid|NNN``, how central each place is to the article in percent
  (``archive.store.centrality``): ``about=`` filters and place ranking.

Title and text keep every word, stop words included ("to be or not to be", "The Who"), with
positions, so phrases match exactly (schema 2). An index written with schema 1 (stop words
dropped, no ``pcent``) is refused with :class:`IndexSchemaError` naming the rebuild command.
"""

from __future__ import annotations

import pickle
from pathlib import Path

from whoosh import columns, fields
from whoosh.analysis import Filter, LowercaseFilter, RegexTokenizer, StemmingAnalyzer, StopFilter

from archive.errors import IndexSchemaError
from archive.store.stored import fold


class FoldFilter(Filter):
    """Fold a token to lower-case ASCII letters and digits (A'zaz, I‘zāz -> azaz, izaz)."""

    def __call__(self, tokens):
        for t in tokens:
            t.text = fold(t.text)
            if t.text:
                yield t


# Whoosh pickles the schema into every index, this class with it under the module it was first
# defined in: keep that name (index.py re-exports the class) so indexes already written still open.
FoldFilter.__module__ = "archive.store.whoosh.index"


def place_analyzer():
    """Words of place names: apostrophes kept inside words, folded to ASCII, stop words dropped."""
    return RegexTokenizer(r"\w+(?:['‘’`]\w+)*") | LowercaseFilter() | FoldFilter() | StopFilter()


def _terms_field() -> fields.KEYWORD:
    """A field that indexes SEP-separated values verbatim (one term each, no scoring)."""
    f = fields.KEYWORD(scorable=False)
    f.analyzer = RegexTokenizer(r"[^\x1f]+")
    return f


#: Present (as an empty stored field) in every index with schema 2; schema 1 indexes lack it.
SCHEMA_MARK = "schema_2"
_OLD_SCHEMA_MSG = (
    "The index in {dir!r} was built by an older GeoArchive (index schema 1: stop words were not indexed "
    "and places have no centrality), so phrases and place ranking would be wrong. Rebuild it from your "
    "files into a new folder: geoarchive ingest --index {new} <your files>; then use --index {new} "
    "(or move it in place of {dir!r})."
)


def make_schema() -> fields.Schema:
    """The archive's Whoosh schema (schema 2)."""
    # No stop list: every word is indexed with its position, so "The Who" and "to be or not to
    # be" can be found and phrases match exactly. Queries drop stop words outside quotes
    # (parsing.py), as Lucene's common-terms handling does, so they do not sway ranking. Only the
    # possessive "s" that the tokenizer splits off "Trump's" is dropped (positions renumbered, as
    # Lucene's EnglishPossessiveFilter does): "Trump's" finds Trump, and "Trump administration"
    # finds "Trump's administration".
    stem = StemmingAnalyzer(stoplist=frozenset({"s"}), minsize=1)
    return fields.Schema(
        id=fields.ID(unique=True, stored=True, sortable=True),
        title=fields.TEXT(analyzer=stem, stored=True, field_boost=2.0, spelling=True),
        text=fields.TEXT(analyzer=stem, stored=True),
        place=fields.TEXT(analyzer=place_analyzer()),
        country=fields.KEYWORD(lowercase=True, scorable=False),
        source=fields.TEXT(analyzer=stem),
        src=_terms_field(),  # exact source name: filter and facet
        year=fields.ID(),
        date=fields.DATETIME(),
        sort_old=fields.COLUMN(columns.NumericColumn("i", default=2**31 - 1)),
        sort_new=fields.COLUMN(columns.NumericColumn("i", default=0)),
        places=fields.KEYWORD(lowercase=True, scorable=False),  # Reuters PLACES tags, if any
        pid=fields.KEYWORD(scorable=False),
        pinfo=_terms_field(),
        pspell=_terms_field(),
        geo=fields.KEYWORD(scorable=False),
        ctitle=fields.COLUMN(columns.VarBytesColumn()),
        origin=fields.COLUMN(columns.VarBytesColumn()),
        chash=fields.COLUMN(columns.VarBytesColumn()),
        nmentions=fields.COLUMN(columns.NumericColumn("I", default=0)),
        meta=fields.STORED(),  # date, url, source, author, origin
        m=fields.STORED(),  # mentions: (field, start, end, surface, gid, score)
        pl=fields.STORED(),  # places, most central first: (gid, name, lat, lon, cc, feature, population)
        pcent=_terms_field(),
        **{SCHEMA_MARK: fields.STORED()},
    )


def open_checked(storage, index_dir: Path):
    """``storage.open_index()``, checked by :func:`check_schema`.

    Whoosh pickles the schema, naming the analyzer classes by module: an index written by a
    GeoArchive whose modules lived elsewhere (``archive.index`` before the layout of stages)
    cannot even be unpickled. That is an older index too, and gets the same rebuild message.
    """
    try:
        ix = storage.open_index()
    except (ImportError, AttributeError, pickle.UnpicklingError) as e:
        # Whoosh leaves the table-of-contents file open when unpickling fails: close it.
        tb = e.__traceback__
        while tb is not None:
            close = getattr(tb.tb_frame.f_locals.get("stream"), "close", None)
            if callable(close):
                close()
            tb = tb.tb_next
        folder = str(index_dir).rstrip("/")
        raise IndexSchemaError(_OLD_SCHEMA_MSG.format(dir=f"{folder}/", new=f"{folder}-v2")) from None
    return check_schema(ix, index_dir)


def check_schema(ix, index_dir: Path):
    """Return the Whoosh index ``ix`` if this version can read it, else raise IndexSchemaError."""
    if SCHEMA_MARK not in ix.schema.names():
        ix.close()
        folder = str(index_dir).rstrip("/")
        raise IndexSchemaError(_OLD_SCHEMA_MSG.format(dir=f"{folder}/", new=f"{folder}-v2"))
    return ix
