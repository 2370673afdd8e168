"""The query's words against the index: the stemming cache, what the highlighter marks, did-you-mean."""

from __future__ import annotations

from archive.store.query import suggest_words
from archive.store.snippet import Highlighter
from archive.store.stored import fold
from archive.store.whoosh.parsing import _STOP_STEMS


def _stemmer(lease):
    cache = lease.derived.setdefault("stems", {})  # shared by threads: only get/set, never clear
    analyzer = lease.searcher.schema["text"].analyzer

    def stem(word: str) -> str | None:
        key = word.lower()
        try:
            return cache[key]
        except KeyError:
            tokens = [t.text for t in analyzer(key)]
            value = tokens[-1] if tokens else None
            if len(cache) < 500_000:
                cache[key] = value
            return value

    return stem


def _existing_terms(reader, q):
    """(field, term) pairs of ``q`` found in the index, wildcards and fuzzy terms expanded.

    (Whoosh's own ``Query.existing_terms`` stops after the first field it sees.)
    """
    schema = reader.schema
    out = set()
    for leaf in q.leaves():
        try:
            pairs = list(leaf.expanded_terms(reader, phrases=True))
        except Exception:  # an expansion this reader cannot do: keep the literal terms
            pairs = list(leaf.terms(phrases=True))
        for fieldname, text in pairs[:500]:
            if fieldname not in schema:
                continue
            btext = text if isinstance(text, bytes) else schema[fieldname].to_bytes(text)
            if (fieldname, btext) in reader:
                out.add((fieldname, btext))
    return out


def _highlighter(lease, q, place: int | None = None) -> Highlighter:
    """Marks what matched ``q``: its title/text stems, place-name words and places (by id), and the
    stored mentions of ``place`` (the request's place filter), as the PostgreSQL store does."""
    stems, placewords, gids = set(), set(), {place} if place is not None else set()
    if q is not None:
        for fieldname, text in _existing_terms(lease.searcher.reader(), q):
            text = text.decode("utf-8")
            if fieldname in ("title", "text"):
                stems.add(text)
            elif fieldname == "place":
                placewords.add(text)
            elif fieldname == "pid":
                gids.add(int(text))
    if stems - _STOP_STEMS:
        stems -= _STOP_STEMS  # mark "siege" and "Aleppo" of "siege of Aleppo", not every "of"
    return Highlighter(stems, placewords, gids, _stemmer(lease))


def _suggest(lease, text: str) -> str | None:
    """The query with unknown words replaced by the closest index words or place names."""
    reader = lease.searcher.reader()
    stem = _stemmer(lease)

    def known(word: str) -> bool:
        st = stem(word)
        if st and (reader.doc_frequency("text", st) or reader.doc_frequency("title", st)):
            return True
        return bool(reader.doc_frequency("place", fold(word).replace(" ", "")))

    def correct(word: str) -> str | None:
        for field, probe in (("place", fold(word).replace(" ", "")), ("title", word.lower())):
            found = reader.corrector(field).suggest(probe, limit=1, maxdist=2, prefix=1)
            if found:
                return found[0]
        return None

    return suggest_words(text, known, correct)
