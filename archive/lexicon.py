"""Word lists the tagger uses to tell places from people and common words.

All lists come from maintained registry packages, compiled once into the cache folder
next to the gazetteer:

- first names: ``gender-guesser`` (its name dictionary; names it marks ``unknown`` are
  left out);
- titles and honorifics ("President", "Mr", "Sen."): ``nameparser``'s ``CONSTANTS.titles``;
- word frequencies: ``wordfreq`` (``zipf_frequency``, looked up lazily and memoised).
"""

from __future__ import annotations

import gc
import marshal
from dataclasses import dataclass
from functools import lru_cache
from importlib import metadata
from pathlib import Path

from .gazetteer import default_cache_dir, write_atomic

LEXICON_SCHEMA = 2

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

    def is_first_name(self, word: str) -> bool:
        """True when ``word`` is a known given name."""
        return word.lower() in self.first_names

    def is_title(self, word: str) -> bool:
        """True when ``word`` is an honorific or office that precedes a person's name."""
        return word.lower().rstrip(".") in self.titles


@lru_cache(maxsize=200_000)
def zipf(word: str) -> float:
    """English word frequency on the Zipf scale (0 = unseen, 7 = 'the'), case-insensitive."""
    from wordfreq import zipf_frequency

    return zipf_frequency(word, "en")


def _compile() -> dict:
    import gender_guesser.detector as gd
    from nameparser.config import CONSTANTS

    detector = gd.Detector(case_sensitive=False)
    first = {n.lower() for n in detector.names if detector.get_gender(n) != "unknown"}
    titles = {t.lower().rstrip(".") for t in CONSTANTS.titles} - _NOT_PERSON_TITLES
    return {"first_names": sorted(first), "titles": sorted(titles)}


def load_lexicon(cache_dir: Path | None = None) -> Lexicon:
    """Load the compiled word lists, compiling them on first use."""
    directory = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    versions = "-".join(metadata.version(p) for p in ("gender-guesser", "nameparser"))
    path = directory / f"lexicon-s{LEXICON_SCHEMA}-{versions}.marshal"
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
    return Lexicon(first_names=frozenset(data["first_names"]), titles=frozenset(data["titles"]))
