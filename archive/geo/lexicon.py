"""Word lists the tagger uses to tell places from people and common words.

All lists come from maintained registry packages, compiled once into the cache folder
next to the gazetteer:

- first names: ``gender-guesser`` (its name dictionary; names it marks ``unknown`` are
  left out);
- titles and honorifics ("President", "Mr", "Sen."): ``nameparser``'s ``CONSTANTS.titles``;
- word frequencies: ``wordfreq``'s English list, kept for words of Zipf frequency 2 and
  up (about 96,000 words), folded like gazetteer names. A phrase's frequency combines
  its words' as wordfreq does for multi-word queries (the reciprocal of the sum of
  reciprocals), so the tagger never loads wordfreq itself at run time.
"""

from __future__ import annotations

import gc
import marshal
import math
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from archive.geo.gazetteer import default_cache_dir, fold_token, write_atomic

LEXICON_SCHEMA = 3
_MIN_ZIPF = 2.0

# nameparser's titles include occupations and words that commonly precede a place in a
# name ("Air Canada", "General Assembly" is not a person either). These are not
# honorifics, so they do not mark the next word as a person.
_NOT_PERSON_TITLES = frozenset(
    "air academic advertising chief civil first former general grand head high lead "
    "member national north east south west principal private right royal secretary senior "
    "state united us vice".split()
)


@dataclass(frozen=True)
class Lexicon:
    """Person-name and common-word signals."""

    first_names: frozenset[str]  # lower case
    titles: frozenset[str]  # lower case, without dots
    #: folded word -> Zipf frequency (words below 2.0 are left out and count as 0)
    frequencies: dict[str, float] = field(default_factory=dict, compare=False)

    def zipf(self, phrase: str) -> float:
        """English frequency of a folded word or space-separated phrase on the Zipf scale.

        0 means rare or unseen; 7 is 'the'. Case-insensitive like wordfreq.
        """
        freqs = self.frequencies
        if " " not in phrase:
            return freqs.get(phrase, 0.0)
        inverse = 0.0
        for word in phrase.split(" "):
            z = freqs.get(word)
            if z is None:
                return 0.0
            inverse += 10.0 ** (9.0 - z)
        return round(9.0 - math.log10(inverse), 2)

    def is_first_name(self, word: str) -> bool:
        """True when ``word`` is a known given name."""
        return word.lower() in self.first_names

    def is_title(self, word: str) -> bool:
        """True when ``word`` is an honorific or office that precedes a person's name."""
        return word.lower().rstrip(".") in self.titles


def _compile() -> dict:
    import gender_guesser.detector as gd
    import wordfreq
    from nameparser.config import CONSTANTS

    detector = gd.Detector(case_sensitive=False)
    first = {n.lower() for n in detector.names if detector.get_gender(n) != "unknown"}
    titles = {t.lower().rstrip(".") for t in CONSTANTS.titles} - _NOT_PERSON_TITLES
    freqs: dict[str, float] = {}
    for word, f in wordfreq.get_frequency_dict("en").items():
        z = round(math.log10(f) + 9.0, 2)
        if z >= _MIN_ZIPF:
            key = fold_token(word)
            freqs[key] = max(z, freqs.get(key, 0.0))
    return {"first_names": sorted(first), "titles": sorted(titles), "frequencies": freqs}


_LOADED: dict[str, Lexicon] = {}  # read-only word lists already loaded in this process


def load_lexicon(cache_dir: Path | None = None) -> Lexicon:
    """Load the compiled word lists, compiling them on first use (shared within a process)."""
    directory = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    versions = "-".join(metadata.version(p) for p in ("gender-guesser", "nameparser", "wordfreq"))
    path = directory / f"lexicon-s{LEXICON_SCHEMA}-{versions}.marshal"
    if str(path) in _LOADED:
        return _LOADED[str(path)]
    data = None
    if path.exists():
        try:
            gc.disable()
            data = marshal.loads(path.read_bytes())
        except (OSError, EOFError, ValueError, TypeError):
            data = None
        finally:
            gc.enable()
    if data is None:
        data = _compile()
        write_atomic(path, marshal.dumps(data))
    lexicon = Lexicon(first_names=frozenset(data["first_names"]), titles=frozenset(data["titles"]),
                      frequencies=data["frequencies"])
    _LOADED[str(path)] = lexicon
    return lexicon
