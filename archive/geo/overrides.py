"""User corrections to the geotagger: alias a name, block a name, pin a name to a place,
and give a source its home.

The file is TOML (``.toml``) or JSON (``.json``) with up to four tables::

    # overrides.toml
    [alias]            # this name means that (gazetteer) name
    "Big Apple" = "New York City"
    "Motor City" = "Detroit"

    [pin]              # this name is always this GeoNames id
    "Paris" = 2988507
    "Georgia" = 614540

    [block]            # never tag these names
    names = ["Reading", "Of"]

    [home]             # a source (as in the articles' "source" field) -> where it is at home
    "Corbin News Journal" = "Kentucky"
    "The Paris News" = "Paris, Texas"   # a place name, "Name, Region", or a GeoNames id

Names are matched like gazetteer names: case, diacritics and punctuation are folded.
Aliased and pinned names are tagged wherever they appear capitalised, even when the
tagger's filters would have rejected them; blocked names are never tagged. A source's
home makes its namesakes win (Paris, Texas for a Texas paper) unless a story points to
another country; source names match case-insensitively.
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from archive.errors import OverridesError
from archive.geo.gazetteer import fold, resolve_home

__all__ = ("Overrides", "load_overrides")

_SECTIONS = ("alias", "block", "pin", "home")


@dataclass(frozen=True)
class Overrides:
    """Parsed overrides; keys are folded names."""

    aliases: dict[str, str] = field(default_factory=dict)
    pins: dict[str, int] = field(default_factory=dict)
    blocks: frozenset[str] = frozenset()
    source: str | None = None
    #: source name (case-folded) -> its home: a place name, "Name, Region" or a GeoNames id
    homes: dict[str, str | int] = field(default_factory=dict)
    #: folded names the gazetteer may not know that the tagger must recognise
    names: frozenset[str] = field(init=False)
    #: every proper token prefix of those names
    prefixes: frozenset[str] = field(init=False)

    def __post_init__(self):
        names = frozenset(self.aliases) | frozenset(self.pins)
        prefixes = {" ".join(n.split(" ")[:k]) for n in names for k in range(1, n.count(" ") + 1)}
        object.__setattr__(self, "names", names)
        object.__setattr__(self, "prefixes", frozenset(prefixes))

    def alias(self, key: str) -> str | None:
        """The name to look up instead of ``key``, if aliased."""
        return self.aliases.get(key)

    def pinned(self, key: str) -> int | None:
        """The GeoNames id ``key`` is pinned to, if any."""
        return self.pins.get(key)

    def blocked(self, key: str) -> bool:
        """True when ``key`` must never be tagged."""
        return key in self.blocks

    def home(self, source: str) -> str | int | None:
        """The home given for a source, if any."""
        return self.homes.get(source.strip().casefold())

    def forced(self, key: str) -> bool:
        """True when the user declared ``key`` a place (aliased or pinned)."""
        return key in self.aliases or key in self.pins

    def check(self, gazetteer: Any) -> None:
        """Raise OverridesError when a pin names a GeoNames id the gazetteer lacks."""
        for key, gid in self.pins.items():
            if gazetteer.get(gid) is None:
                raise OverridesError(f"{self.source or 'overrides'}: [pin] {key!r} = {gid}: no place with "
                                     "that GeoNames id in the gazetteer; check the id on geonames.org")
        for source, home in self.homes.items():
            if resolve_home(gazetteer, home) is None:
                raise OverridesError(f"{self.source or 'overrides'}: [home] {source!r} = {home!r}: no such place "
                                     "in the gazetteer; give a state, a \"City, State\" or a GeoNames id")


def _line_of(text: str, name: str) -> int | None:
    """Line number where a key is written, for error messages (None when not found)."""
    pattern = re.compile(r"""^\s*(\[\s*)?["']?""" + re.escape(name) + r"""["']?\s*([=:]|\])""")
    for n, line in enumerate(text.splitlines(), start=1):
        if pattern.search(line) or f'"{name}"' in line:
            return n
    return None


def load_overrides(path: str | Path) -> Overrides:
    """Read an overrides file (TOML or JSON); errors name the file and the line or key."""
    path = Path(path)
    where = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise OverridesError(f"{where}: cannot read overrides file: {e}") from e
    try:
        if path.suffix.lower() == ".json":
            data = json.loads(text)
        else:
            data = tomllib.loads(text)
    except json.JSONDecodeError as e:
        raise OverridesError(f"{where}:{e.lineno}: invalid JSON: {e.msg} (column {e.colno})") from e
    except tomllib.TOMLDecodeError as e:
        raise OverridesError(f"{where}: invalid TOML: {e}") from e
    if not isinstance(data, dict):
        raise OverridesError(f"{where}: expected a table with sections {', '.join(_SECTIONS)}")
    for section in data:
        if section not in _SECTIONS:
            line = _line_of(text, section)
            at = f"{where}:{line}" if line else where
            raise OverridesError(f"{at}: unknown section {section!r}; expected one of: {', '.join(_SECTIONS)}")

    def fail(section: str, key: str, problem: str) -> OverridesError:
        line = _line_of(text, key)
        at = f"{where}:{line}" if line else where
        return OverridesError(f"{at}: [{section}] {key!r}: {problem}")

    def table(section: str) -> dict:
        value = data.get(section, {})
        if not isinstance(value, dict):
            raise OverridesError(f"{where}: [{section}] must be a table of name = value pairs")
        return value

    aliases: dict[str, str] = {}
    for name, target in table("alias").items():
        if not isinstance(target, str) or not fold(target):
            raise fail("alias", name, f"expected the name of a place, got {target!r}")
        if not fold(name):
            raise fail("alias", name, "the name has no letters")
        aliases[fold(name)] = target
    pins: dict[str, int] = {}
    for name, gid in table("pin").items():
        if isinstance(gid, bool) or not isinstance(gid, int):
            raise fail("pin", name, f"expected a GeoNames id (an integer), got {gid!r}")
        if not fold(name):
            raise fail("pin", name, "the name has no letters")
        pins[fold(name)] = gid
    block = data.get("block", {})
    names = block.get("names", []) if isinstance(block, dict) else block
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise OverridesError(f"{where}: [block] names must be a list of strings, got {names!r}")
    if isinstance(block, dict) and set(block) - {"names"}:
        extra = sorted(set(block) - {"names"})[0]
        raise fail("block", extra, "unknown key; write: names = [\"Name\", ...]")
    homes: dict[str, str | int] = {}
    for name, home in table("home").items():
        if isinstance(home, bool) or not isinstance(home, str | int) or (isinstance(home, str) and not fold(home)):
            raise fail("home", name, f"expected a place name or a GeoNames id, got {home!r}")
        homes[name.strip().casefold()] = home
    return Overrides(aliases=aliases, pins=pins, blocks=frozenset(fold(n) for n in names), source=where,
                     homes=homes)
